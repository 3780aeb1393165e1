// bounce_fuzz - arbitrary envelopes, content and reasons into lib/bounce's
// composer; checks the notice's guarantees whatever the input:
//   - every line ends in CRLF, has at most 998 octets and no NUL;
//   - the header section has exactly the fields the composer writes (nothing
//     from the input can add one), and lib/mime finds multipart/report with
//     three parts whose boundary occurs in none of them;
//   - the report has one group per recipient plus the per-message one, only
//     with RFC 3464 field names, and is ASCII unless it is the RFC 6533 one;
//   - returned whole content is the original byte for byte;
//   - refusals only for the documented reasons.
// Input: a flag byte (kind, RET, SMTPUTF8, body type, postmaster copy), then
// fields separated by 0xFF octets: sender, ENVID, headers, body, and per
// recipient address, original, ORCPT, status, diagnostic, relay.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/strings.h"
#include "lib/bounce/bounce.h"
#include "lib/mime/header.h"
#include "lib/mime/message.h"

using namespace posthorn;
using namespace posthorn::bounce;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check_lines(std::string_view s) {
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t end = s.find("\r\n", at);
    require(end != std::string_view::npos, "text does not end in CRLF");
    std::string_view line = s.substr(at, end - at);
    require(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
            "bare CR, LF or NUL in a line");
    require(line.size() <= 998, "line over 998 octets");
    at = end + 2;
  }
}

bool ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

void check_report(std::string_view report, std::size_t rcpts, bool global) {
  static const std::set<std::string> kFields = {
      "original-envelope-id", "reporting-mta",   "arrival-date",     "x-posthorn-queue-id",
      "x-posthorn-sender",    "original-recipient", "final-recipient", "action",
      "status",               "remote-mta",      "diagnostic-code",  "last-attempt-date",
      "will-retry-until"};
  if (!global) require(ascii(report), "8-bit octets in a message/delivery-status part");
  std::size_t groups = 0, at = 0;
  while (at < report.size()) {
    std::size_t end = report.find("\r\n\r\n", at);
    std::string_view g = report.substr(at, end == std::string_view::npos ? end : end + 2 - at);
    ++groups;
    std::size_t fields = 0;
    mime::for_each_field(g, [&](const mime::Field& f) {
      require(kFields.count(to_lower(f.name)) == 1, "unexpected field in the report");
      ++fields;
      return true;
    });
    require(fields > 0, "empty report group");
    if (end == std::string_view::npos) break;
    at = end + 4;
  }
  require(groups == rcpts + 1, "report groups do not match the recipients");
}

void check(const Notice& n, const queue::QueueFile& qf, std::size_t rcpts) {
  check_lines(n.headers);
  check_lines(n.body);
  std::string data = n.headers + n.body;
  mime::Message m = mime::parse(std::string_view(data));
  std::vector<std::string> names;
  mime::for_each_field(m.header(m.root()), [&](const mime::Field& f) {
    names.emplace_back(f.name);
    return true;
  });
  std::vector<std::string> want = {"Date", "From", "Subject", "To", "Auto-Submitted",
                                   "MIME-Version", "Content-Type"};
  if (names.size() == 9) want.push_back("Content-Transfer-Encoding");
  want.push_back("Message-ID");
  require(names == want, "header fields differ from the composer's");
  const mime::Part& root = m.root();
  require(root.content_type.type == "multipart" && root.content_type.subtype == "report",
          "not multipart/report");
  require(root.children.size() == 3, "not three parts");
  const std::string* boundary = root.content_type.param("boundary");
  require(boundary && !boundary->empty() && boundary->size() <= 70, "bad boundary");
  for (std::size_t c : root.children)
    require(m.body(m.parts[c]).find(*boundary) == std::string_view::npos,
            "boundary inside a part");
  const mime::Part& report = m.parts[root.children[1]];
  bool global = report.content_type.subtype == "global-delivery-status";
  require(global == n.env.smtputf8, "global types without SMTPUTF8 or the reverse");
  check_report(m.body(report), rcpts, global);
  const mime::Part& returned = m.parts[root.children[2]];
  std::string type = returned.content_type.type + "/" + returned.content_type.subtype;
  if (type == "message/rfc822" || type == "message/global")
    require(m.body(returned) == qf.headers + qf.body, "returned message differs");
  else
    require(type == "text/rfc822-headers" || type == "message/global-headers",
            "unexpected returned type");
  require(n.env.recipients.size() == 1 && n.env.recipients[0].notify == queue::kNotifyNever,
          "a notice that could bounce");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::vector<std::string> f = split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), '\xff');
  f.resize(std::max<std::size_t>(f.size(), 10));
  queue::QueueFile qf;
  qf.id = queue::QueueId(1763805600123456, 4242);
  qf.env.sender = f[0];
  qf.env.envid = f[1];
  qf.headers = f[2];
  qf.body = f[3];
  qf.env.arrival_us = 1763805600123456;
  qf.env.ret = static_cast<queue::DsnRet>((flags >> 2) % 3);
  qf.env.smtputf8 = (flags >> 4) & 1;
  qf.env.body_type = static_cast<queue::BodyType>((flags >> 5) & 3);
  std::vector<DsnRecipient> rcpts;
  for (std::size_t i = 4; i + 6 <= f.size() && rcpts.size() < 20; i += 6) {
    DsnRecipient r;
    r.address = f[i];
    r.original = f[i + 1];
    r.orcpt = f[i + 2];
    r.status = f[i + 3];
    r.diagnostic = f[i + 4];
    r.remote_mta = f[i + 5];
    r.last_attempt = static_cast<std::int64_t>(i) * 1000;
    r.will_retry_until = r.last_attempt + 86400;
    rcpts.push_back(std::move(r));
  }
  Kind kind = static_cast<Kind>((flags & 3) % 3);
  Settings s;
  s.myhostname = "mx.example.org";
  s.bounce_size_limit = 2000;
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1763809200));
  bool postmaster = (flags >> 7) & 1;
  auto n = postmaster ? compose_postmaster_notice(qf, kind, rcpts, s, now)
                      : compose(qf, kind, rcpts, s, now);
  if (!n) {
    require(n.error().code == posthorn::Errc::invalid, "refused with another error than invalid");
    bool reason = rcpts.empty() || is_double_bounce_sender(s, qf.env.sender) ||
                  (!postmaster && qf.env.sender.empty()) || (postmaster && kind == Kind::success);
    for (char c : qf.env.sender) reason |= static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    for (const DsnRecipient& r : rcpts) reason |= r.address.empty();
    require(reason, "refused without a reason");
    return 0;
  }
  check(*n, qf, rcpts.size());
  return 0;
}
