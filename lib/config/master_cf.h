// lib/config/master_cf.h - master.cf: the services master runs.
//
// Each logical line (syntax.h) is one service in Postfix's columns:
//
//   service type  private unpriv chroot wakeup maxproc command + args
//   smtp    inet  n       -      n      -      -       smtpd -o smtpd_tls_wrappermode=no
//
// "-" in a column means its default: private y (inet services cannot be
// private: n), unpriv y, chroot n, wakeup 0 (never), maxproc
// $default_process_limit. wakeup may end in "?" (wake only once used).
// Types: inet, unix, unix-dgram, fifo, pass. An inet service name is
// host:port, *:port, [ipv6]:port, or a bare port, as a number or one of
// smtp, submission, submissions, smtps, pop3, pop3s, imap, imaps; with no
// host (or "*"), master listens on inet_interfaces.
//
// Arguments: "-o name=value" (or "-oname=value") overrides a main.cf
// parameter for this service. A value with white space is written in braces,
// as Postfix 3 allows: "-o { smtpd_banner = $myhostname ready }". Any
// token may be grouped with "{ ... }"; the braces are removed. Other
// arguments go to the command. The overrides are checked against the
// registry by Config, not here.
//
// Errors (file:line): too few columns, a bad type, service name, y/n column,
// wakeup or maxproc, a malformed -o, unbalanced braces, and a service/type
// that appears twice.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config/syntax.h"

namespace posthorn::config {

enum class ServiceType { inet, unix_stream, unix_dgram, fifo, pass };

struct Override {
  std::string name;
  std::string value;  // as written, not expanded
  unsigned line = 0;
};

struct Service {
  std::string name;       // first column as written: "smtp", "127.0.0.1:2525", "qmgr"
  ServiceType type = ServiceType::unix_stream;
  std::string type_name;  // as written: "inet", "unix", ...
  bool is_private = true;
  bool unprivileged = true;
  bool chroot = false;
  unsigned wakeup = 0;               // seconds; 0 = never
  bool wakeup_when_used = false;     // "60?"
  std::optional<unsigned> maxproc;   // nullopt: $default_process_limit; 0 = no limit
  std::string command;               // program name, run from daemon_directory
  std::vector<std::string> args;     // arguments other than -o
  std::vector<Override> overrides;   // -o name=value, in order
  std::string host;                  // inet: "" = inet_interfaces; IPv6 without brackets
  unsigned port = 0;                 // inet only
  std::array<std::string, 7> columns;  // the first seven columns as written
  std::string file;
  unsigned line = 0;

  // "name/type", the key that posthorn conf -M and -Me use.
  std::string key() const { return name + "/" + type_name; }
};

struct MasterCf {
  std::vector<Service> services;  // in file order
  std::vector<Diagnostic> errors;
};

// Parses master.cf text; `file` names it in diagnostics. Every malformed
// entry becomes at least one error and is left out.
MasterCf parse_master_cf(std::string_view text, std::string_view file);

// Port of a service name ("submission" -> 587); 0 if it is neither a number
// in 1..65535 nor a known name.
unsigned port_number(std::string_view s);

// One entry as one line, columns aligned as in the shipped master.cf, with
// its -o overrides and arguments (postconf -M's form).
std::string format_service(const Service& s);

}  // namespace posthorn::config
