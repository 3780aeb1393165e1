// tools/posthorn/queue_format.cc - see queue_format.h.
#include "tools/posthorn/queue_format.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

#include "lib/address/utf8.h"
#include "lib/base/strings.h"

namespace posthorn::tools::queue_cmd {

using queue::QueueName;
using queue::Reason;
using queue::Recipient;

namespace {

// mailq's columns (Postfix's "%-11s %7s %-20s %s"): the recipient lines
// start after the three of them.
constexpr std::size_t kIdWidth = 11, kSizeWidth = 7, kTimeWidth = 20;
constexpr std::size_t kRecipientIndent = kIdWidth + 1 + kSizeWidth + 1 + kTimeWidth + 1;
// A reason line is right-aligned to end in column 78.
constexpr std::size_t kReasonWidth = 76;

// The length of the valid UTF-8 sequence at s[i] (1 for ASCII), 0 if none.
std::size_t utf8_at(std::string_view s, std::size_t i) {
  if (static_cast<unsigned char>(s[i]) < 0x80) return 1;
  for (std::size_t len = 2; len <= 4 && i + len <= s.size(); ++len)
    if (address::valid_utf8(s.substr(i, len))) return len;
  return 0;
}

// Text for a terminal: control characters and invalid UTF-8 become '?'.
std::string for_terminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_at(s, i);
    if (n == 0 || c < 0x20 || c == 0x7f) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string pad_right(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

const char* state_name(queue::RcptState s) {
  switch (s) {
    case queue::RcptState::pending: return "pending";
    case queue::RcptState::deferred: return "deferred";
    case queue::RcptState::delivered: return "delivered";
    case queue::RcptState::bounced: return "bounced";
  }
  return "unknown";
}

// asctime(3) without its newline: "Mon Nov 23 10:00:00 2026".
std::string full_time(std::int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  char buf[64];
  if (::localtime_r(&tt, &tm) == nullptr || ::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm) == 0)
    return "??";
  return buf;
}

std::string notify_text(std::uint8_t n) {
  if (n == queue::kNotifyNever) return "NEVER";
  std::vector<std::string> parts;
  if (n & queue::kNotifySuccess) parts.emplace_back("SUCCESS");
  if (n & queue::kNotifyFailure) parts.emplace_back("FAILURE");
  if (n & queue::kNotifyDelay) parts.emplace_back("DELAY");
  return join(parts, ",");
}

const char* body_type_text(queue::BodyType b) {
  switch (b) {
    case queue::BodyType::unspecified: return "";
    case queue::BodyType::seven_bit: return "7BIT";
    case queue::BodyType::eight_bit_mime: return "8BITMIME";
    case queue::BodyType::binary_mime: return "BINARYMIME";
  }
  return "";
}

const char* ret_text(queue::DsnRet r) {
  switch (r) {
    case queue::DsnRet::unspecified: return "";
    case queue::DsnRet::full: return "FULL";
    case queue::DsnRet::hdrs: return "HDRS";
  }
  return "";
}

void json_field(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += ", ";
  out += json_string(name);
  out += ": ";
  out += value;
}

std::string json_recipient(const Message& m, std::size_t i) {
  const Recipient& r = m.envelope.env.recipients[i];
  std::string out = "{";
  json_field(out, "address", json_string(r.address), true);
  json_field(out, "orig_address", json_string(r.original));
  json_field(out, "state", json_string(state_name(r.status.state)));
  if (const Reason* d = reason_for(m.defer, i); d && r.status.state != queue::RcptState::delivered) {
    json_field(out, "delay_reason", json_string(d->text));
    json_field(out, "dsn", json_string(d->dsn));
  }
  if (const Reason* b = reason_for(m.bounce, i); b && r.status.state == queue::RcptState::bounced)
    json_field(out, "bounce_reason", json_string(b->text));
  json_field(out, "attempts", std::to_string(r.status.attempts));
  json_field(out, "last_attempt", std::to_string(r.status.last_attempt));
  json_field(out, "next_retry", std::to_string(r.status.next_attempt));
  return out + "}";
}

std::string section(std::string_view label, QueueName q, const queue::QueueId& id) {
  return cat("*** ", label, " ", queue::queue_dir_name(q), "/", id.str(), " ***\n");
}

// Content as stored, ended by a newline so the next label starts a line.
void append_content(std::string& out, std::string_view content) {
  out.append(content);
  if (!content.empty() && content.back() != '\n') out += '\n';
}

void show_recipient(std::string& out, const Recipient& r, const Reason* defer, const Reason* bounce) {
  out += cat("recipient: ", for_terminal(r.address), "\n");
  if (!r.original.empty()) out += cat("    original_recipient: ", for_terminal(r.original), "\n");
  if (!r.orcpt.empty()) out += cat("    dsn_orig_rcpt: ", for_terminal(r.orcpt), "\n");
  if (r.notify != 0) out += cat("    dsn_notify: ", notify_text(r.notify), "\n");
  const queue::RecipientStatus& s = r.status;
  out += cat("    state: ", state_name(s.state), ", attempts: ", s.attempts);
  if (s.last_attempt != 0) out += cat(", last attempt: ", full_time(s.last_attempt));
  if (s.next_attempt != 0 && !s.done()) out += cat(", next attempt: ", full_time(s.next_attempt));
  out += "\n";
  for (const Reason* why : {defer, bounce}) {
    if (why == nullptr) continue;
    out += cat(why == defer ? "    defer_reason: " : "    bounce_reason: ", for_terminal(why->dsn),
               " ", full_time(why->time), " relay=", for_terminal(why->relay), " (",
               for_terminal(why->text), ")\n");
  }
}

std::string show_envelope(QueueName q, const queue::QueueFile& qf, const std::vector<Reason>& defer,
                          const std::vector<Reason>& bounce) {
  const queue::Envelope& e = qf.env;
  std::string out = section("ENVELOPE RECORDS", q, qf.id);
  out += cat("queue_id: ", qf.id.str(), "\n");
  out += cat("message_size: ", qf.message_size(), "\n");
  out += cat("message_arrival_time: ", full_time(e.arrival_us / 1000000), "\n");
  out += cat("sender: ", e.sender.empty() ? std::string("<>") : for_terminal(e.sender), "\n");
  const std::pair<const char*, std::string> fields[] = {
      {"envelope_id", for_terminal(e.envid)},     {"dsn_ret", ret_text(e.ret)},
      {"body_type", body_type_text(e.body_type)}, {"smtputf8", e.smtputf8 ? "yes" : ""},
      {"client_name", for_terminal(e.client.name)}, {"client_address", for_terminal(e.client.addr)},
      {"helo_name", for_terminal(e.client.helo)},   {"protocol_name", for_terminal(e.client.protocol)},
      {"sasl_username", for_terminal(e.client.sasl_user)}};
  for (const auto& [name, value] : fields)
    if (!value.empty()) out += cat(name, ": ", value, "\n");
  for (std::size_t i = 0; i < e.recipients.size(); ++i)
    show_recipient(out, e.recipients[i], reason_for(defer, i), reason_for(bounce, i));
  return out;
}

}  // namespace

const Reason* reason_for(const std::vector<Reason>& latest, std::size_t index) {
  auto it = std::lower_bound(latest.begin(), latest.end(), index,
                             [](const Reason& r, std::size_t i) { return r.index < i; });
  return it != latest.end() && it->index == index ? &*it : nullptr;
}

std::string arrival_text(std::int64_t unix_seconds) {
  std::string t = full_time(unix_seconds);
  return t.size() > 19 ? t.substr(0, 19) : t;
}

std::string address_text(std::string_view addr) {
  return addr.empty() ? std::string("MAILER-DAEMON") : for_terminal(addr);
}

std::string mailq_heading() {
  return cat(pad_right("-Queue ID-", kIdWidth), " ", pad_left("--Size--", kSizeWidth), " ",
             pad_right("----Arrival Time----", kTimeWidth), " -Sender/Recipient-------\n");
}

std::string mailq_message(const Message& m) {
  const queue::QueueEnvelope& q = m.envelope;
  std::string id = q.id.str();
  if (m.queue == QueueName::active) id += '*';
  if (m.queue == QueueName::hold) id += '!';
  std::string out = cat(pad_right(id, kIdWidth), " ", pad_left(std::to_string(q.message_size), kSizeWidth),
                        " ", pad_right(arrival_text(q.env.arrival_us / 1000000), kTimeWidth), " ",
                        address_text(q.env.sender), "\n");
  std::string shown_reason;  // the reason above the previous recipient
  for (std::size_t i = 0; i < q.env.recipients.size(); ++i) {
    const Recipient& r = q.env.recipients[i];
    if (r.status.done()) continue;
    const Reason* why = reason_for(m.defer, i);
    std::string reason = why ? for_terminal(why->text) : std::string();
    if (reason != shown_reason) {
      shown_reason = reason;
      std::string text = reason.empty() ? "reason unavailable" : reason;
      out += std::string(kReasonWidth > text.size() ? kReasonWidth - text.size() : 0, ' ');
      out += cat("(", text, ")\n");
    }
    out += std::string(kRecipientIndent, ' ') + address_text(r.address) + "\n";
  }
  return out;
}

std::string mailq_trailer(std::size_t messages, std::uint64_t total_bytes) {
  if (messages == 0) return "Mail queue is empty\n";
  return cat("\n-- ", total_bytes / 1024, " Kbytes in ", messages, " Request",
             messages == 1 ? "" : "s", ".\n");
}

std::string json_string(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_at(s, i);
    if (n == 0) {
      out += "\\ufffd";  // not UTF-8: the replacement character keeps the line valid
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out + "\"";
}

std::string json_message(const Message& m) {
  const queue::QueueEnvelope& q = m.envelope;
  std::string out = "{";
  json_field(out, "queue_name", json_string(queue::queue_dir_name(m.queue)), true);
  json_field(out, "queue_id", json_string(q.id.str()));
  json_field(out, "arrival_time", std::to_string(q.env.arrival_us / 1000000));
  json_field(out, "message_size", std::to_string(q.message_size));
  json_field(out, "sender", json_string(q.env.sender));
  std::string rcpts = "[";
  for (std::size_t i = 0; i < q.env.recipients.size(); ++i)
    rcpts += (i ? ", " : "") + json_recipient(m, i);
  json_field(out, "recipients", rcpts + "]");
  return out + "}\n";
}

std::string show_message(QueueName q, const queue::QueueFile& qf, const std::vector<Reason>& defer,
                         const std::vector<Reason>& bounce, ShowParts parts) {
  if (!parts.envelope && !parts.headers && !parts.body) parts = {true, true, true};
  std::string out;
  if (parts.envelope) out += show_envelope(q, qf, defer, bounce);
  if (parts.headers) {
    out += section("MESSAGE HEADERS", q, qf.id);
    append_content(out, qf.headers);
  }
  if (parts.body) {
    out += section("MESSAGE BODY", q, qf.id);
    append_content(out, qf.body);
  }
  return out + section("MESSAGE FILE END", q, qf.id);
}

}  // namespace posthorn::tools::queue_cmd
