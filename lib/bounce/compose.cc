// lib/bounce/compose.cc - see bounce.h.
//
// Steps of one notice:
//   1. check the request (who would get it, the recipients' actions);
//   2. the three parts: text, delivery report, returned content (or headers);
//   3. a boundary that none of the parts contains;
//   4. the header section and the envelope.
#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/bounce/bounce.h"
#include "lib/bounce/fields.h"
#include "lib/bounce/templates.h"
#include "lib/cleanup/added_headers.h"

namespace posthorn::bounce {
namespace {

using Clock = std::chrono::system_clock;
constexpr std::string_view kActions[] = {"failed", "delayed", "delivered", "relayed", "expanded"};

// What differs between a notice to the sender and a copy for the postmaster.
struct Plan {
  std::string env_sender;  // "" or double_bounce_sender@myorigin
  std::string to;          // header To: and the one envelope recipient
  std::string subject;
  std::string intro;       // a paragraph before the template's text ("" = none)
  bool return_full = false;  // the whole message if it may go, else headers
  bool global = false;       // RFC 6533 types
};

std::string date_of_seconds(std::int64_t secs) {
  return cleanup::rfc5322_date(Clock::time_point(std::chrono::seconds(secs)));
}

std::string default_action(Kind kind) {
  return kind == Kind::failure ? "failed" : kind == Kind::delay ? "delayed" : "delivered";
}

std::string status_for(const DsnRecipient& r, std::string_view action) {
  if (valid_status(r.status)) return r.status;
  if (action == "failed") return "5.0.0";
  if (action == "delayed") return "4.0.0";
  return "2.0.0";
}

// Template text for a header: its octets as the template's charset has them,
// only control characters made spaces (peer text goes through one_line()).
std::string header_text(std::string_view s) {
  std::string out(trim(s));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

Result<void> check_rcpts(const std::vector<DsnRecipient>& rcpts) {
  if (rcpts.empty()) return make_error(Errc::invalid, "a notice needs at least one recipient");
  for (const DsnRecipient& r : rcpts) {
    if (r.address.empty()) return make_error(Errc::invalid, "a notice recipient has no address");
    if (!r.action.empty() && std::find(std::begin(kActions), std::end(kActions), r.action) ==
                                 std::end(kActions))
      return make_error(Errc::invalid, cat("bad DSN action \"", printable(r.action), "\""));
  }
  return {};
}

// 1. The human-readable part's text: intro, template text, one paragraph per
// recipient. The dynamic parts keep UTF-8 only where the charset allows.
struct TextPart {
  std::string text;
  std::string charset;
};
TextPart text_part(const Plan& plan, const Template& t, Kind kind,
                   const std::vector<DsnRecipient>& rcpts) {
  std::string charset = t.charset.empty() ? std::string("us-ascii") : t.charset;
  bool utf8_ok = iequals(charset, "us-ascii") || iequals(charset, "utf-8");
  std::string text;
  if (!plan.intro.empty()) text += wrap(one_line(plan.intro, utf8_ok), 72, "") + "\r\n";
  text += to_8bit_lines(t.text);
  if (!text.ends_with("\r\n")) text += "\r\n";
  for (const DsnRecipient& r : rcpts) {
    std::string line = cat("<", one_line(r.address, utf8_ok), ">");
    if (!r.original.empty() && r.original != r.address)
      line += cat(" (expanded from <", one_line(r.original, utf8_ok), ">)");
    std::string why = one_line(r.diagnostic, utf8_ok);
    if (why.empty()) why = kind == Kind::failure ? "delivery failed"
                          : kind == Kind::delay  ? "delivery delayed"
                                                 : "delivered";
    text += "\r\n" + wrap(cat(line, ": ", why), 78, "    ");
  }
  if (has_8bit(text) && iequals(charset, "us-ascii")) charset = "utf-8";
  return {std::move(text), std::move(charset)};
}

// 2. The machine-readable report (RFC 3464 2.2 and 2.3, fields in its order).
std::string report_part(const queue::QueueFile& original, Kind kind,
                        const std::vector<DsnRecipient>& rcpts, const Settings& s, bool global) {
  std::string out;
  if (!original.env.envid.empty())
    out += field("Original-Envelope-Id", one_line(original.env.envid, false));
  out += field("Reporting-MTA", cat("dns; ", one_line(s.myhostname, false)));
  if (original.env.arrival_us > 0)
    out += field("Arrival-Date", cleanup::rfc5322_date(Clock::time_point(
                                     std::chrono::microseconds(original.env.arrival_us))));
  out += field("X-Posthorn-Queue-ID", original.id.str());
  if (!original.env.sender.empty())
    out += field("X-Posthorn-Sender", address_field(original.env.sender, global));
  for (const DsnRecipient& r : rcpts) {
    std::string action = r.action.empty() ? default_action(kind) : r.action;
    out += "\r\n";
    std::string orig = !r.orcpt.empty() ? orcpt_field(r.orcpt, global) : std::string();
    if (orig.empty() && !r.original.empty() && r.original != r.address)
      orig = address_field(r.original, global);  // as RFC 3461 4.2 lets an MTA add ORCPT
    if (!orig.empty()) out += field("Original-Recipient", orig);
    out += field("Final-Recipient", address_field(r.address, global));
    out += field("Action", action);
    out += field("Status", status_for(r, action));
    if (std::string mta = remote_mta(r.remote_mta); !mta.empty())
      out += field("Remote-MTA", "dns; " + mta);
    if (!trim(r.diagnostic).empty()) {
      Diagnostic d = diagnostic_code(r.diagnostic);
      out += field("Diagnostic-Code", cat(d.type, "; ", one_line(d.text, global)));
    }
    if (r.last_attempt > 0) out += field("Last-Attempt-Date", date_of_seconds(r.last_attempt));
    if (action == "delayed" && r.will_retry_until > 0)
      out += field("Will-Retry-Until", date_of_seconds(r.will_retry_until));
  }
  return out;
}

// 3. The returned content: the whole message when wanted and possible, else
// the header section (without its blank line), within bounce_size_limit.
struct Returned {
  std::string type;
  std::string description;
  std::string content;
};
Returned returned_part(const queue::QueueFile& original, Kind kind, const Plan& plan,
                       const Settings& s) {
  std::string_view what = kind == Kind::failure ? "Undelivered Message"
                          : kind == Kind::delay ? "Delayed Message"
                                                : "Delivered Message";
  if (plan.return_full && original.message_size() <= s.bounce_size_limit &&
      original.env.body_type != queue::BodyType::binary_mime) {
    std::string whole = original.headers + original.body;
    if (valid_8bit(whole))
      return {plan.global ? "message/global" : "message/rfc822", std::string(what),
              std::move(whole)};
  }
  std::string_view h = original.headers;
  if (h.ends_with("\r\n\r\n")) h.remove_suffix(2);
  else if (h == "\r\n") h = {};
  if (h.size() > s.bounce_size_limit) {  // cut at a line end within the limit
    std::size_t cut = h.rfind('\n', s.bounce_size_limit - 1);
    h = h.substr(0, cut == std::string_view::npos ? 0 : cut + 1);
  }
  return {plan.global ? "message/global-headers" : "text/rfc822-headers",
          cat(what, " Headers"), to_8bit_lines(h)};
}

std::string part_header(std::string_view description, std::string_view type,
                        std::string_view content) {
  std::string out = field("Content-Description", description);
  out += field("Content-Type", type);
  if (has_8bit(content)) out += field("Content-Transfer-Encoding", "8bit");
  return out + "\r\n";
}

// A boundary (RFC 2046 5.1.1: at most 70 characters) found in no part. The
// readable first choice names the message like Postfix's does; content that
// holds it (a notice about a notice, or a sender who guessed it) gets 64
// random bits instead, which nobody can guess ahead.
std::string pick_boundary(const queue::QueueFile& original, const Settings& s,
                          Clock::time_point now, const std::vector<std::string_view>& parts) {
  std::string host;
  for (char c : s.myhostname)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-')
      host += c;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string base = cat(original.id.str(), ".", secs, "/", host).substr(0, 48);
  std::string b = base;
  std::random_device rd;
  for (;;) {
    bool clash = std::any_of(parts.begin(), parts.end(),
                             [&](std::string_view p) { return p.find(b) != std::string_view::npos; });
    if (!clash) return b;
    std::uint64_t bits = (std::uint64_t{rd()} << 32) ^ rd();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
    b = cat(base, "=_", hex);
  }
}

// 4. The header section, in the order Postfix writes it.
std::string header_section(const Template& t, const Plan& plan, const Settings& s,
                           Clock::time_point now, std::string_view boundary, bool eight_bit) {
  // From: the template's "ADDRESS (comment)", the address qualified.
  std::string_view from = trim(t.from);
  std::size_t sp = from.find_first_of(" \t");
  std::string from_field = cleanup::qualify(one_line(from.substr(0, sp), false), s.myhostname);
  if (sp != std::string_view::npos)
    from_field += " " + encode_header_text(header_text(from.substr(sp)), t.charset);
  std::string h;
  h += field("Date", cleanup::rfc5322_date(now));
  h += field("From", from_field);
  h += field("Subject", encode_header_text(header_text(plan.subject), t.charset));
  h += field("To", plan.to);
  h += field("Auto-Submitted", "auto-replied");
  h += field("MIME-Version", "1.0");
  h += cat("Content-Type: multipart/report; report-type=",
           plan.global ? "global-delivery-status" : "delivery-status", ";\r\n\tboundary=\"",
           boundary, "\"\r\n");
  if (eight_bit) h += field("Content-Transfer-Encoding", "8bit");
  h += field("Message-ID", cleanup::new_message_id(now, s.myhostname));
  return h + "\r\n";
}

Notice assemble(const queue::QueueFile& original, Kind kind,
                const std::vector<DsnRecipient>& rcpts, const Settings& s, Clock::time_point now,
                const Plan& plan) {
  Template t = effective_template(kind, s);
  TextPart text = text_part(plan, t, kind, rcpts);
  std::string report = report_part(original, kind, rcpts, s, plan.global);
  Returned ret = returned_part(original, kind, plan, s);
  std::string boundary = pick_boundary(original, s, now, {text.text, report, ret.content});

  std::string body;
  body += cat("This is a MIME-encapsulated message.\r\n\r\n--", boundary, "\r\n");
  body += part_header("Notification", cat("text/plain; charset=", text.charset), text.text);
  body += text.text;
  body += cat("\r\n--", boundary, "\r\n");
  body += part_header("Delivery report",
                      plan.global ? "message/global-delivery-status" : "message/delivery-status",
                      report);
  body += report;
  body += cat("\r\n--", boundary, "\r\n");
  body += part_header(ret.description, ret.type, ret.content);
  body += ret.content;
  body += cat("\r\n--", boundary, "--\r\n");

  Notice n;
  n.headers = header_section(t, plan, s, now, boundary, has_8bit(body));
  n.body = std::move(body);

  queue::Recipient to;
  to.address = plan.to;
  to.notify = queue::kNotifyNever;
  n.env.sender = plan.env_sender;
  n.env.recipients.push_back(std::move(to));
  n.env.client.name = "localhost";
  n.env.client.protocol = "local";
  n.env.smtputf8 = plan.global;
  n.env.body_type = has_8bit(n.body) ? queue::BodyType::eight_bit_mime : queue::BodyType::seven_bit;
  return n;
}

}  // namespace

DsnRecipient dsn_recipient(const queue::Recipient& r, const queue::Reason& why, Kind kind) {
  DsnRecipient d;
  d.address = r.address;
  d.original = r.original;
  d.orcpt = r.orcpt;
  d.action = default_action(kind);
  d.status = why.dsn;
  d.diagnostic = why.text;
  d.remote_mta = why.relay;
  d.last_attempt = why.time;
  return d;
}

bool wants(std::uint8_t notify, Kind kind) {
  if (notify == 0) return kind != Kind::success;
  if (notify & queue::kNotifyNever) return false;
  switch (kind) {
    case Kind::failure: return (notify & queue::kNotifyFailure) != 0;
    case Kind::delay: return (notify & queue::kNotifyDelay) != 0;
    case Kind::success: return (notify & queue::kNotifySuccess) != 0;
  }
  return false;
}

bool is_double_bounce_sender(const Settings& s, std::string_view sender) {
  if (s.double_bounce_sender.empty() || sender.empty()) return false;
  const std::string& d = s.double_bounce_sender;
  return iequals(sender, d) || iequals(sender, cleanup::qualify(d, s.myorigin)) ||
         iequals(sender, cleanup::qualify(d, s.myhostname));
}

bool postmaster_wants(const Settings& s, const queue::QueueFile& original, Kind kind) {
  if (kind == Kind::success || is_double_bounce_sender(s, original.env.sender)) return false;
  std::string_view cls = original.env.sender.empty() ? "2bounce"
                         : kind == Kind::failure     ? "bounce"
                                                     : "delay";
  if (original.env.sender.empty() && kind != Kind::failure) return false;
  return std::any_of(s.notify_classes.begin(), s.notify_classes.end(),
                     [&](const std::string& c) { return iequals(c, cls); });
}

Result<Notice> compose(const queue::QueueFile& original, Kind kind,
                       const std::vector<DsnRecipient>& rcpts, const Settings& s,
                       Clock::time_point now) {
  const std::string& sender = original.env.sender;
  if (sender.empty()) return make_error(Errc::invalid, "no notice goes to the null sender");
  if (is_double_bounce_sender(s, sender))
    return make_error(Errc::invalid, "no notice goes to double_bounce_sender");
  if (has_control(sender))
    return make_error(Errc::invalid, cat("sender <", printable(sender), "> cannot be written in a header"));
  if (auto ok = check_rcpts(rcpts); !ok) return std::move(ok).error();
  Plan plan;
  plan.to = sender;
  plan.subject = effective_template(kind, s).subject;
  plan.return_full = kind == Kind::failure && original.env.ret != queue::DsnRet::hdrs;
  plan.global = original.env.smtputf8 || has_8bit(sender);
  return assemble(original, kind, rcpts, s, now, plan);
}

Result<Notice> compose_postmaster_notice(const queue::QueueFile& original, Kind kind,
                                         const std::vector<DsnRecipient>& rcpts,
                                         const Settings& s, Clock::time_point now) {
  if (kind == Kind::success) return make_error(Errc::invalid, "no postmaster copy of success notices");
  if (is_double_bounce_sender(s, original.env.sender))
    return make_error(Errc::invalid, "a postmaster notice is never answered with another");
  if (has_control(original.env.sender))
    return make_error(Errc::invalid, "the sender has control characters");
  if (auto ok = check_rcpts(rcpts); !ok) return std::move(ok).error();
  const bool double_bounce = original.env.sender.empty();
  const std::string& who = double_bounce          ? s.double_bounce_notice_recipient
                           : kind == Kind::failure ? s.bounce_notice_recipient
                                                   : s.delay_notice_recipient;
  if (trim(who).empty() || has_control(who))
    return make_error(Errc::invalid, "no usable postmaster notice recipient");
  Plan plan;
  plan.env_sender = cleanup::qualify(s.double_bounce_sender, s.myorigin);
  plan.to = cleanup::qualify(trim(who), s.myorigin);
  plan.subject = effective_template(kind, s).postmaster_subject;
  plan.return_full = double_bounce;  // Postfix: a 2bounce returns it all, copies headers
  plan.global = original.env.smtputf8 || has_8bit(plan.to);
  plan.intro = double_bounce
                   ? cat("This is a copy for the postmaster: the notice ", original.id.str(),
                         " below, from the null sender, could not be delivered.")
                   : cat("This is a copy for the postmaster of the notice sent to <",
                         one_line(original.env.sender, true), "> about message ",
                         original.id.str(), ".");
  return assemble(original, kind, rcpts, s, now, plan);
}

Result<Settings> Settings::load(const config::Config& c) {
  Settings s;
  s.myhostname = c.get("myhostname");
  s.myorigin = c.get("myorigin");
  s.mail_name = c.get("mail_name");
  s.bounce_size_limit = static_cast<std::uint64_t>(c.get_size("bounce_size_limit"));
  s.delay_warning_time = c.get_time("delay_warning_time");
  s.maximal_queue_lifetime = c.get_time("maximal_queue_lifetime");
  s.double_bounce_sender = c.get("double_bounce_sender");
  s.bounce_notice_recipient = c.get("bounce_notice_recipient");
  s.delay_notice_recipient = c.get("delay_notice_recipient");
  s.double_bounce_notice_recipient = c.get("2bounce_notice_recipient");
  s.notify_classes = c.get_list("notify_classes");
  if (c.get("bounce_template_file").empty()) return s;
  std::filesystem::path file = c.get_path("bounce_template_file");
  auto text = read_file(file, 1 << 20);
  if (!text) return make_error(text.error().code, cat("bounce_template_file: ", text.error().detail));
  auto t = parse_templates(*text, file.string(), config_lookup(c));
  if (!t) return std::move(t).error();
  s.failure = std::move(t->failure);
  s.delay = std::move(t->delay);
  s.success = std::move(t->success);
  return s;
}

Settings Settings::from_config(const config::Config& c) {
  auto s = load(c);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(*s);
}

}  // namespace posthorn::bounce
