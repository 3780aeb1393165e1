// Feeds arbitrary client bytes to imapd's command reader, split where the
// first byte says, and checks what must hold for any input: the same events
// and commands whatever the split; no command deeper than max_nesting; no
// literal octets beyond max_literal; no command text beyond max_line.
//
// When the first byte's high bit is set, the same bytes also go, after a
// LOGIN and a SELECT, to the whole session engine over a real Maildir with
// a few messages (remade every 500 runs, as commands change it), so that
// every command handler meets hostile arguments: it must answer without a
// crash (ASan and UBSan watch), end every response line with CRLF, and tag
// no more responses than the commands it was sent.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "imapd/parser.h"
#include "imapd/session.h"
#include "lib/mailstore/store.h"

using namespace posthorn::imapd;

namespace {

Limits limits() {
  Limits l;
  l.max_line = 256;
  l.max_literal = 512;
  l.max_nesting = 6;
  return l;
}

struct Sizes {
  std::size_t text = 0, literal = 0;
};

void walk(const Value& v, std::size_t depth, Sizes& s, std::string& out) {
  if (depth > limits().max_nesting) std::abort();
  switch (v.kind) {
    case Value::Kind::atom: s.text += v.text.size(); out += "a:" + v.text; break;
    case Value::Kind::string:
      (v.literal ? s.literal : s.text) += v.text.size();
      out += (v.literal ? "l:" : "q:") + v.text;
      break;
    case Value::Kind::list:
      out += "(";
      for (const auto& i : v.items) walk(i, depth + 1, s, out);
      out += ")";
      break;
  }
  out += ' ';
}

std::string run(std::string_view input, std::size_t cut) {
  CommandReader r(limits());
  std::string out, buf;
  for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
    buf.append(piece);
    for (;;) {
      std::size_t used = 0;
      auto e = r.step(buf, used);
      if (used > buf.size()) std::abort();
      buf.erase(0, used);
      using E = CommandReader::Event;
      if (e == E::need_more) break;
      out += std::to_string(static_cast<int>(e)) + ":";
      if (e == E::command) {
        Command c = r.take();
        if (!valid_tag(c.tag) || c.name.empty()) std::abort();
        Sizes s;
        for (const auto& a : c.args) walk(a, 0, s, out);
        if (s.literal > limits().max_literal || s.text > limits().max_line) std::abort();
      } else if (e == E::literal) {
        if (r.literal_size() > limits().max_literal) std::abort();
      } else if (e == E::line_too_long ||
                 (e == E::literal_too_big && !r.literal_sync())) {
        return out;  // the session ends the connection here
      } else {
        out += r.tag() + "|" + r.error();
      }
      out += "\n";
    }
  }
  return out;
}

class FakeHost final : public Host {
 public:
  std::string out;
  std::filesystem::path root;
  void send(std::string_view b) override { out.append(b); }
  void check_password(const std::string& login, const std::string& password,
                      std::function<void(AuthAnswer)> done) override {
    AuthAnswer a;
    if (login == "alice" && password == "secret") a = {AuthAnswer::Kind::ok, login};
    done(a);
  }
  posthorn::Result<posthorn::mailstore::Store> open_store(const std::string&) override {
    return posthorn::mailstore::Store::open(root, true);
  }
  void start_tls() override {}
  void watch(const std::filesystem::path&) override {}
  void unwatch() override {}
  void resume() override {}
};

// A store with a few messages, remade now and then, removed at exit.
struct TempStore {
  std::filesystem::path root;  // <tmp dir>/Maildir
  ~TempStore() {
    std::error_code ec;
    if (!root.empty()) std::filesystem::remove_all(root.parent_path(), ec);
  }
};

const std::filesystem::path& store_root() {
  static TempStore store;
  std::filesystem::path& root = store.root;
  static int runs = 0;
  if (root.empty() || ++runs % 500 == 0) {
    std::error_code ec;
    if (!root.empty()) std::filesystem::remove_all(root.parent_path(), ec);
    char tmpl[] = "/tmp/posthorn-imap-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    root = std::filesystem::path(tmpl) / "Maildir";
    auto store = posthorn::mailstore::Store::open(root, true);
    if (!store || !store->create("Archive")) std::abort();
    for (const char* m :
         {"From: a@b.example\r\nSubject: one\r\n\r\nbody\r\n",
          "Subject: two\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
          "Content-Type: message/rfc822\n\nSubject: inner\n\nhi\n--x--\n",
          "no header at all"})
      if (!posthorn::mailstore::deliver(root, m)) std::abort();
  }
  return root;
}

void run_session(std::string_view input) {
  FakeHost host;
  host.root = store_root();
  Settings s;
  s.plaintext_auth = true;
  s.limits.max_line = 256;
  s.limits.max_literal = 4096;
  s.limits.max_nesting = 6;
  Session session(s, host);
  session.start();
  std::string in = "a LOGIN alice secret\r\nb SELECT INBOX\r\n";
  in.append(input);
  std::size_t used = 0;
  while (used < in.size() && !session.finished()) {
    std::size_t n = session.feed(std::string_view(in).substr(used));
    if (n == 0) break;
    used += n;
  }
  // Every line ends in CRLF (literals carry their own line ends).
  if (!host.out.empty() && host.out.back() != '\n') std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  if (run(input, cut) != run(input, input.size())) std::abort();
  if (data[0] & 0x80) run_session(input);
  return 0;
}
