// tools/sendmail/envelope.cc - see envelope.h.
#include "tools/sendmail/envelope.h"

#include <pwd.h>

#include <cerrno>

#include "lib/address/header.h"
#include "lib/address/path.h"
#include "lib/base/strings.h"

namespace posthorn::sendmail {

namespace {
address::Options options() {
  address::Options o;
  o.smtputf8 = true;
  o.lenient = true;
  return o;
}
}  // namespace

Result<std::string> parse_sender(const std::string& given) {
  std::string_view s = trim(given);
  if (s.empty() || s == "<>") return std::string();
  Result<address::Mailbox> m = make_error(Errc::parse, "");
  if (s.front() == '<') {
    auto p = address::parse_path(s, options());
    if (p && p->null) return std::string();
    m = p ? Result<address::Mailbox>(p->mailbox) : Result<address::Mailbox>(p.error());
  } else {
    m = address::parse_mailbox(s, options());
  }
  if (!m)
    return make_error(Errc::invalid,
                      cat("bad sender address \"", printable(given), "\": ", m.error().detail));
  return address::to_string(*m);
}

Result<std::vector<std::string>> parse_recipients(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    auto list = address::parse_address_list(arg, options());
    if (!list)
      return make_error(Errc::invalid, cat("bad recipient address \"", printable(arg), "\": ",
                                           list.error().detail));
    auto boxes = address::all_mailboxes(*list);
    if (boxes.empty())
      return make_error(Errc::invalid, cat("no recipient address in \"", printable(arg), "\""));
    for (const address::Mailbox& m : boxes) out.push_back(address::to_string(m));
  }
  return out;
}

bool has_non_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) > 0x7f) return true;
  return false;
}

Result<Account> account_of(uid_t uid) {
  std::string buf(16384, '\0');
  struct passwd pw;
  struct passwd* found = nullptr;
  int rc;
  while ((rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20))
    buf.resize(buf.size() * 2);
  if (rc != 0 && rc != ENOENT && rc != ESRCH) return sys_error(cat("getpwuid ", uid), rc);
  if (!found) return make_error(Errc::not_found, cat("no login name for user ID ", uid));
  Account a;
  a.login = pw.pw_name;
  std::string_view gecos = pw.pw_gecos ? pw.pw_gecos : "";
  a.full_name = std::string(trim(gecos.substr(0, gecos.find(','))));
  return a;
}

std::string choose_full_name(const std::optional<std::string>& given, const char* name_env,
                             const std::string& gecos) {
  if (given) return *given;
  if (name_env && *name_env) return name_env;
  return gecos;
}

}  // namespace posthorn::sendmail
