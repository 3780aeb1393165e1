// Feeds arbitrary server bytes to the smtp agent's reply parser and to its
// whole client session (smtp/reply.h, smtp/session.h). The first byte picks
// where the input is split. What must hold for any input:
//   - the parser yields the same replies (or the same error) whatever the
//     split, every reply has a three-digit code, at least one line, and an
//     enhanced code only of its own class; parse_ehlo never fails;
//   - a session over the bytes (greeting, EHLO, AUTH, a transaction with
//     three recipients, RSET, QUIT) ends, gives one outcome per recipient,
//     each sent/deferred/bounced with a dsn of the matching class, and
//     sends only command lines that end in CRLF (no reply text leaks into
//     a command).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/content.h"
#include "smtp/reply.h"
#include "smtp/session.h"

using namespace posthorn;
using namespace posthorn::smtp;

namespace {

struct Parsed {
  std::vector<Reply> replies;
  bool failed = false;
};

Parsed parse(std::string_view a, std::string_view b) {
  Parsed out;
  ReplyParser p;
  for (std::string_view part : {a, b}) {
    p.feed(part);
    for (;;) {
      auto r = p.next();
      if (!r) {
        out.failed = true;
        return out;
      }
      if (!*r) break;
      out.replies.push_back(std::move(**r));
    }
  }
  return out;
}

void check_reply(const Reply& r) {
  if (r.code < 0 || r.code > 999 || r.lines.empty()) std::abort();
  if (!r.enhanced.empty() && r.enhanced.size() < 5) std::abort();
  const std::string d = r.dsn();
  if (d.size() < 5 || d[1] != '.') std::abort();
  if ((r.klass() == 4 || r.klass() == 5) && d[0] != static_cast<char>('0' + r.klass())) std::abort();
  Extensions e = parse_ehlo(r);
  if (e.esmtp != (r.code == 250)) std::abort();
}

// The server's bytes, handed out in the pieces the split gives; then the
// stream ends.
class FuzzServer final : public Transport {
 public:
  FuzzServer(std::string_view bytes, std::size_t piece) : in_(bytes), piece_(piece ? piece : 1) {}
  Result<void> send(std::string_view bytes, Millis) override {
    if (bytes.size() < 2 || bytes.substr(bytes.size() - 2) != "\r\n") std::abort();
    sent_ += bytes.size();
    return {};
  }
  Result<std::string> receive(Millis) override {
    if (in_.empty()) return make_error(Errc::closed, "end of input");
    std::string_view take = in_.substr(0, piece_);
    in_.remove_prefix(take.size());
    return std::string(take);
  }
  TlsResult start_tls(tls::SslPtr, Millis) override { return {make_error(Errc::protocol, "no TLS"), {}}; }
  bool tls_active() const override { return false; }

 private:
  std::string_view in_;
  std::size_t piece_;
  std::size_t sent_ = 0;
};

void check_outcome(const RcptOutcome& o) {
  const char want = o.status == Status::sent ? '2' : o.status == Status::deferred ? '4' : '5';
  if (o.dsn.empty() || o.dsn[0] != want) std::abort();
  if (o.retry_elsewhere && o.status != Status::deferred) std::abort();
}

void run_session(std::string_view bytes, std::size_t piece) {
  FuzzServer srv(bytes, piece);
  SessionSettings ss;
  ss.helo_name = "client.example";
  Session s(srv, ss, "mx.example[192.0.2.1]");
  if (s.open()) return;
  if (!s.extensions().auth.empty()) {
    SaslCredentials creds{"user", "secret", {"PLAIN", "LOGIN"}};
    if (s.authenticate(creds) && !s.usable()) return;
  }
  Transaction tx;
  tx.sender = "sender@example.org";
  tx.rcpts = {{"a@example.net", 0, ""}, {"b@example.net", 0, "rfc822;b@example.net"}, {"c@example.net", 0, ""}};
  tx.data = data_stream("Subject: x\r\n\r\nbody\r\n", 998);
  tx.size = 20;
  std::vector<RcptOutcome> out = s.transaction(tx);
  if (out.size() != tx.rcpts.size()) std::abort();
  for (const RcptOutcome& o : out) check_outcome(o);
  if (s.reset()) (void)s.transaction(tx);
  s.quit();
  if (s.usable()) std::abort();  // QUIT ends the session
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  Parsed whole = parse(input, {});
  Parsed split = parse(input.substr(0, cut), input.substr(cut));
  if (whole.failed != split.failed || whole.replies.size() != split.replies.size()) std::abort();
  for (std::size_t i = 0; i < whole.replies.size(); ++i) {
    const Reply& x = whole.replies[i];
    const Reply& y = split.replies[i];
    if (x.code != y.code || x.lines != y.lines || x.enhanced != y.enhanced) std::abort();
    check_reply(x);
  }
  run_session(input, (data[0] & 0x3f) + 1);
  return 0;
}
