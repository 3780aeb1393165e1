// tools/posthorn/init_plan.h - what `posthorn init` writes, as pure text.
//
// An instance is a folder. The files of one are made here from a Plan, with
// no I/O, so that unit tests can parse every text and check the port plan;
// cmd_init.cc does the writing, the owners and modes, the certificate, the
// spool and the mailbox.
//
// The port plan: seven inet services on consecutive ports from the base
// (default kDefaultPortBase, 2525, above 1023 so that no privilege is needed
// to bind it), always in this order:
//
//   base+0 smtp         smtpd   mail from anyone for the demo domain (port 25's job)
//   base+1 submission   smtpd   STARTTLS then AUTH required (port 587's job)
//   base+2 smtps        smtpd   TLS from the first byte, AUTH required (465)
//   base+3 pop3         pop3d   STLS before login (110)
//   base+4 pop3s        pop3d   TLS from the first byte (995)
//   base+5 imap         imapd   STARTTLS before login (143)
//   base+6 imaps        imapd   TLS from the first byte (993)
//
// plus the unix services of a full system (pickup, qmgr, smtp, relay, local,
// virtual, auth). master throttles a service whose program is not built yet
// and runs the others.
//
// Paths: queue_directory, data_directory and maillog_file are relative (the
// registry takes them from config_directory). Tables, the mail store and the
// certificate are named "$config_directory/NAME": those are opened by
// daemons whose working directory is the spool, where a relative name would
// miss, and the expansion keeps the folder movable all the same.
#pragma once

#include <sys/types.h>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::tools::init {

inline constexpr unsigned kDefaultPortBase = 2525;
inline constexpr std::string_view kDefaultDomain = "example.test";
inline constexpr std::string_view kDefaultListen = "127.0.0.1";
inline constexpr std::string_view kDemoUser = "demo";

struct PortService {
  unsigned offset;
  std::string_view name;     // "submission"
  std::string_view program;  // "smtpd"
  std::string_view what;     // one line for the plan's table
};
inline constexpr std::array<PortService, 7> kPorts = {{
    {0, "smtp", "smtpd", "SMTP for the demo domain; relay for mynetworks"},
    {1, "submission", "smtpd", "STARTTLS, then AUTH as the demo user"},
    {2, "smtps", "smtpd", "implicit TLS, then AUTH"},
    {3, "pop3", "pop3d", "POP3, STLS before login"},
    {4, "pop3s", "pop3d", "POP3 over implicit TLS"},
    {5, "imap", "imapd", "IMAP, STARTTLS before login"},
    {6, "imaps", "imapd", "IMAP over implicit TLS"},
}};

struct Plan {
  std::filesystem::path dir;  // absolute
  std::string domain;         // the virtual mailbox domain, lower case
  std::string listen;         // inet_interfaces: an address, "all" or "loopback-only"
  unsigned port_base = kDefaultPortBase;
  std::string owner;          // mail_owner and virtual mailbox owner; "" when unnamed
  std::string group;          // setgid_group; "" when unnamed
  uid_t uid = 0;
  gid_t gid = 0;
  bool root = false;          // written by root: the daemons drop to `owner`

  std::string hostname() const { return "mail." + domain; }
  std::string login() const { return std::string(kDemoUser) + "@" + domain; }
  // The demo user's Maildir, relative to the instance: "mail/DOMAIN/demo/".
  std::string mailbox() const { return "mail/" + domain + "/" + std::string(kDemoUser) + "/"; }
  // "127.0.0.1:2525", "[::1]:2525", "*:2525" (all).
  std::string address(unsigned port) const;
};

// Checks a --domain value: a DNS name of at least two labels, letters,
// digits and '-' (not first or last in a label), at most 253 bytes. Returns
// it in lower case, or Errc::invalid saying what is wrong.
Result<std::string> check_domain(std::string_view domain);
// Checks a --listen value: an IPv4 or IPv6 address, "all" or
// "loopback-only". Errc::invalid otherwise.
Result<std::string> check_listen(std::string_view listen);
// Checks the instance's absolute directory: main.cf names the tables as
// "$config_directory/NAME" in lists, which white space, commas and braces
// would split. Errc::invalid naming the character.
Result<void> check_dir(const std::filesystem::path& dir);
// Checks a --port-base value: a number with base+6 <= 65535, not 0.
Result<unsigned> check_port_base(std::string_view text);

// The files' texts, each opening with a comment that says what it is and
// how to change it.
std::string main_cf(const Plan& p);
std::string master_cf(const Plan& p);
std::string vmailbox(const Plan& p);                  // texthash: login -> Maildir
std::string virtual_aliases(const Plan& p);           // texthash: postmaster -> demo
std::string passwd(const Plan& p, std::string_view hash);  // texthash: login -> {SCHEME}hash
std::string password_note(const Plan& p, std::string_view password);  // demo-password

// A new password: 16 characters from an alphabet without look-alikes
// (0/O, 1/l/I), from getrandom(2): about 92 bits. Errc::io when the kernel
// gives no randomness.
Result<std::string> make_password();
// crypt(3) SHA-512 ("$6$", libxcrypt's default rounds, a random salt) with
// the {SHA512-CRYPT} prefix auth_password_maps reads. Errc::io when libcrypt
// refuses.
Result<std::string> sha512_crypt(std::string_view password);

}  // namespace posthorn::tools::init
