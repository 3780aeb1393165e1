// lib/auth/protocol.h - the "auth" protocol: smtpd (and pop3d, imapd) ask the
// auth service whether a password is right, over lib/ipc (PROTOCOL.md there).
//
// The service listens on private/auth (master.cf: `auth unix - - n - - auth`;
// smtpd_sasl_path names the service). A client keeps one connection open and
// sends one `check` per login attempt; requests may overlap and are answered
// in any order (the reply carries the request's id).
//
//   check    {login, password, service, client_addr}
//   checked  {ok, temporary, login}
//
//   ok         the password is right for `login`
//   temporary  the answer could not be found (a table could not be read):
//              the client says "try again later" (SMTP 454 4.7.0), never
//              "wrong password"
//   login      when ok: the canonical login (lower case, as the table is
//              searched), to record as the authenticated user
//
// Guarantees of the service: every failed check is answered only after
// auth_failure_delay, and a client address with auth_failure_limit failures
// in the last hour is refused without looking at the password. The delay and
// the count are kept per auth process (see man/auth.8). Passwords are never
// logged, by either side.
//
// Refusals: a login longer than kMaxLogin bytes or holding control
// characters, or a password longer than kMaxPassword or holding a NUL, is a
// failed check (not an error): no table could hold it.
#pragma once

#include <cstddef>
#include <string>

#include "lib/ipc/frame.h"

namespace posthorn::auth {

inline const ipc::Protocol kProtocol{"auth", 1};

constexpr std::size_t kMaxLogin = 256;
constexpr std::size_t kMaxPassword = 1024;


struct Checked {
  static constexpr std::string_view kName = "checked";
  bool ok = false;
  bool temporary = false;
  std::string login;  // canonical; "" unless ok
  void fields(auto& f) {
    f("ok", ok);
    f("temporary", temporary);
    f("login", login);
  }
};

struct Check {
  static constexpr std::string_view kName = "check";
  using Reply = Checked;
  std::string login;
  std::string password;
  std::string service;      // "smtpd", "submission", "pop3d": for the log
  std::string client_addr;  // the remote address: failures are counted per address
  void fields(auto& f) {
    f("login", login);
    f("password", password);
    f("service", service);
    f("client_addr", client_addr);
  }
};

}  // namespace posthorn::auth
