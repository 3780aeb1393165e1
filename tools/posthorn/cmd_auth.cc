// posthorn auth - password entries for auth_password_maps, and a check
// against the running auth service.
//
//   posthorn auth hash [-s SCHEME|--scheme SCHEME]
//       reads a password from standard input (one line; asked twice, without
//       echo, on a terminal) and prints the entry to put in a table:
//       "{SHA512-CRYPT}$6$...". Schemes: SHA512-CRYPT (default),
//       SHA256-CRYPT, BLF-CRYPT, PLAIN.
//   posthorn auth check [-c DIR] [-S SERVICE|--service SERVICE] LOGIN
//       reads a password the same way and asks the auth service of the
//       instance (queue_directory/private/$smtpd_sasl_path) whether it is
//       right. Exit status: 0 right, 1 wrong, EX_TEMPFAIL no answer.
//
// The password is never printed or logged; with PLAIN the entry is the
// password itself, which is why auth refuses such entries unless
// auth_allow_plain_scheme = yes.
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "lib/auth/client.h"
#include "lib/auth/password.h"
#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "tools/posthorn/command.h"

namespace posthorn::tools {
namespace {

constexpr const char* kName = "auth";

// Long options as their short forms: --scheme S, --scheme=S, --service S.
std::vector<std::string> short_options(std::vector<std::string> args) {
  std::vector<std::string> out;
  for (std::string& a : args) {
    if (a == "--scheme") a = "-s";
    else if (a.starts_with("--scheme=")) a = "-s" + a.substr(9);
    else if (a == "--service") a = "-S";
    else if (a.starts_with("--service=")) a = "-S" + a.substr(10);
    out.push_back(std::move(a));
  }
  return out;
}

// One line of standard input, without its line end; nullopt at end of input.
std::optional<std::string> read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// On a terminal: prompts on stderr with echo off.
std::optional<std::string> prompt(const char* text) {
  termios old{};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (!tty) return read_line();
  std::fputs(text, stderr);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  auto line = read_line();
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fputs("\n", stderr);
  return line;
}

std::optional<std::string> password(bool confirm) {
  auto first = prompt("Password: ");
  if (!first || first->empty()) return std::nullopt;
  if (confirm && ::isatty(STDIN_FILENO)) {
    auto again = prompt("Retype password: ");
    if (!again || *again != *first) {
      std::fprintf(stderr, "posthorn %s: the passwords differ\n", kName);
      return std::nullopt;
    }
  }
  return first;
}

int hash(const ParsedArgs& p) {
  if (!p.operands.empty() && p.operands.size() != 1)
    return usage_error(kName, "hash takes no arguments");
  auto scheme = auth::parse_scheme(p.value('s', "SHA512-CRYPT"));
  if (!scheme) return usage_error(kName, scheme.error().detail);
  auto pw = password(true);
  if (!pw) {
    std::fprintf(stderr, "posthorn %s: no password on standard input\n", kName);
    return EX_DATAERR;
  }
  auto entry = auth::make_hash(*scheme, *pw);
  if (!entry) {
    std::fprintf(stderr, "posthorn %s: %s\n", kName, entry.error().detail.c_str());
    return entry.error().code == Errc::invalid ? EX_DATAERR : EX_SOFTWARE;
  }
  std::printf("%s\n", entry->c_str());
  return 0;
}

int check(Context& ctx, const ParsedArgs& p) {
  if (p.operands.size() != 2) return usage_error(kName, "check takes one login");
  auto cfg = config::Config::load(ctx.config_dir);
  if (!cfg) {
    std::fprintf(stderr, "posthorn %s: %s\n", kName, cfg.error().detail.c_str());
    return EX_CONFIG;
  }
  auto pw = password(false);
  if (!pw) {
    std::fprintf(stderr, "posthorn %s: no password on standard input\n", kName);
    return EX_DATAERR;
  }
  std::string socket = auth::service_socket(cfg->get("smtpd_sasl_path"));
  if (socket.front() != '/') socket = (cfg->get_path("queue_directory") / socket).string();
  auth::Check req{p.operands[1], *pw, p.value('S', "posthorn-auth-check"), "127.0.0.1"};
  auto r = auth::check_blocking(socket, req, std::chrono::seconds(cfg->get_time("smtpd_sasl_check_timeout")));
  if (!r) {
    std::fprintf(stderr, "posthorn %s: no answer from %s: %s\n", kName, socket.c_str(),
                 r.error().detail.c_str());
    return EX_TEMPFAIL;
  }
  if (r->temporary) {
    std::fprintf(stderr, "posthorn %s: the auth service could not check (see its log)\n", kName);
    return EX_TEMPFAIL;
  }
  std::printf("%s: %s\n", printable(p.operands[1]).c_str(), r->ok ? "ok" : "failed");
  return r->ok ? 0 : 1;
}

int run(Context& ctx, const std::vector<std::string>& args) {
  auto parsed = parse_options(short_options({args.begin() + 1, args.end()}), "c:s:S:");
  if (!parsed.error.empty()) return usage_error(kName, parsed.error);
  if (parsed.has('c')) ctx.config_dir = parsed.value('c');
  if (parsed.operands.empty()) return usage_error(kName, "expected hash or check");
  const std::string& verb = parsed.operands[0];
  if (verb == "hash") return hash(parsed);
  if (verb == "check") return check(ctx, parsed);
  return usage_error(kName, "unknown verb \"" + printable(verb) + "\"");
}

const Registration reg{kName, run,
                       "auth hash [-s SCHEME] | auth [-c DIR] check [-S SERVICE] LOGIN "
                       "(password on standard input)"};

}  // namespace
}  // namespace posthorn::tools
