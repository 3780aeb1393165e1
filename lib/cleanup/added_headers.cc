// lib/cleanup/added_headers.cc - formatting of the fields cleanup adds.
#include "lib/cleanup/added_headers.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "lib/address/header.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::cleanup {

namespace {

constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// Crockford base 32, as queue IDs use.
constexpr std::string_view kBase32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::string two(int v) {
  std::string s(2, '0');
  s[0] = static_cast<char>('0' + v / 10 % 10);
  s[1] = static_cast<char>('0' + v % 10);
  return s;
}

std::time_t to_time_t(std::chrono::system_clock::time_point t) {
  return std::chrono::system_clock::to_time_t(t);
}

std::uint64_t random_bits() {
  std::uint64_t v = 0;
  for (;;) {
    ssize_t n = ::getrandom(&v, sizeof v, 0);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0 && errno != EINTR) log::panic("getrandom: ", sys_error("getrandom").detail);
  }
}

// Peer text inside a Received comment: nothing that could end the comment or
// the field, nothing non-ASCII.
std::string comment_safe(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '(' || c == ')') c = '?';
  }
  return out;
}

// Our own text (TLS description, sendmail -F name): only control characters
// go, so that it stays on its line.
std::string line_safe(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

}  // namespace

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = to_time_t(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  long off = tm.tm_gmtoff / 60;  // minutes east of UTC
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  return cat(kDays[tm.tm_wday % 7], ", ", tm.tm_mday, " ", kMonths[tm.tm_mon % 12], " ",
             tm.tm_year + 1900, " ", two(tm.tm_hour), ":", two(tm.tm_min), ":", two(tm.tm_sec),
             " ", sign, two(static_cast<int>(off / 60)), two(static_cast<int>(off % 60)));
}

std::string new_message_id(std::chrono::system_clock::time_point t, std::string_view host) {
  std::time_t tt = to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  std::string token;
  std::uint64_t bits = random_bits();
  for (int i = 0; i < 12; ++i, bits >>= 5) token += kBase32[bits & 31];
  return cat("<", tm.tm_year + 1900, two(tm.tm_mon + 1), two(tm.tm_mday), two(tm.tm_hour),
             two(tm.tm_min), two(tm.tm_sec), ".", token, "@", host, ">");
}

std::string received_field(const CleanupSettings& s, const queue::Envelope& env,
                           std::chrono::system_clock::time_point t) {
  const queue::ClientInfo& c = env.client;
  if (c.addr.empty()) {
    std::string by = cat("Received: by ", s.myhostname, " (", s.mail_name);
    if (s.submitter_uid) by += cat(", from userid ", *s.submitter_uid);
    return cat(by, ");\r\n\t", rfc5322_date(t), "\r\n");
  }
  std::string name = c.name.empty() ? std::string("unknown") : comment_safe(c.name);
  std::string helo = c.helo.empty() ? name : comment_safe(c.helo);
  std::string f = cat("Received: from ", helo, " (", name, " [", comment_safe(c.addr), "])\r\n");
  if (!s.tls_info.empty()) f += cat("\t(using ", line_safe(s.tls_info), ")\r\n");
  if (s.received_auth && !c.sasl_user.empty())
    f += cat("\t(Authenticated sender: ", comment_safe(c.sasl_user), ")\r\n");
  std::string proto = c.protocol.empty() ? std::string("SMTP") : comment_safe(c.protocol);
  f += cat("\tby ", s.myhostname, " (", s.mail_name, ") with ", proto);
  if (env.recipients.size() == 1)
    f += cat("\r\n\tfor <", comment_safe(env.recipients[0].address), ">");
  return cat(f, "; ", rfc5322_date(t), "\r\n");
}

std::string from_field(const CleanupSettings& s, std::string_view sender) {
  std::string addr = sender.empty() ? cat("MAILER-DAEMON@", s.myhostname) : std::string(sender);
  if (s.full_name.empty()) return cat("From: ", addr, "\r\n");
  // Render through lib/address so that the display name is quoted exactly
  // when RFC 5322 needs it; fall back to the bare address if the sender is
  // not a header address (it always is after smtpd or pickup validated it).
  address::Options opts;
  opts.smtputf8 = true;
  auto list = address::parse_address_list(addr, opts);
  if (!list || list->size() != 1 || list->front().is_group) return cat("From: ", addr, "\r\n");
  address::NameAddr na{line_safe(s.full_name), list->front().mailboxes.front().mailbox};
  return cat("From: ", address::to_string(na), "\r\n");
}

bool is_qualified(std::string_view addr) {
  std::size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return false;
  return addr.find('"', at) == std::string_view::npos;
}

std::string qualify(std::string_view addr, std::string_view origin) {
  if (addr.empty() || is_qualified(addr)) return std::string(addr);
  return cat(addr, "@", origin);
}

}  // namespace posthorn::cleanup
