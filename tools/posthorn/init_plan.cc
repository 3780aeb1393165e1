// tools/posthorn/init_plan.cc - see init_plan.h.
#include "tools/posthorn/init_plan.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "lib/base/strings.h"

namespace posthorn::tools::init {

namespace {

bool is_ipv6(std::string_view s) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

bool is_ipv4(std::string_view s) {
  in_addr a{};
  return ::inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool label_ok(std::string_view l) {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  for (char c : l)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

std::string Plan::address(unsigned port) const {
  if (listen == "all") return cat("*:", port);
  if (listen == "loopback-only") return cat("127.0.0.1:", port);
  if (is_ipv6(listen)) return cat("[", listen, "]:", port);
  return cat(listen, ":", port);
}

Result<std::string> check_domain(std::string_view domain) {
  std::string d = to_lower(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid, cat("domain \"", printable(domain), "\": ", why));
  };
  if (d.empty() || d.size() > 253) return bad("not 1 to 253 characters");
  auto labels = split(d, '.');
  if (labels.size() < 2) return bad("needs at least two labels (example.test)");
  for (const std::string& l : labels)
    if (!label_ok(l))
      return bad("each label is 1 to 63 letters, digits or '-', not starting or ending with '-'");
  return d;
}

Result<std::string> check_listen(std::string_view listen) {
  std::string l = to_lower(listen);
  if (l == "all" || l == "loopback-only" || is_ipv4(l) || is_ipv6(l)) return l;
  return make_error(Errc::invalid,
                    cat("listen address \"", printable(listen),
                        "\": expected an IPv4 or IPv6 address, \"all\" or \"loopback-only\""));
}

Result<void> check_dir(const std::filesystem::path& dir) {
  const std::string text = dir.string();
  auto bad = text.find_first_of(" \t\n\r\f\v,{}");
  if (bad == std::string::npos) return {};
  return make_error(Errc::invalid,
                    cat("directory \"", printable(text), "\": main.cf lists the tables in it, so its "
                        "path may not contain white space, commas or braces (found ",
                        printable(std::string_view(text).substr(bad, 1)), ")"));
}

Result<unsigned> check_port_base(std::string_view text) {
  unsigned long long n = 0;
  const unsigned long long last = 65535 - (kPorts.size() - 1);
  if (!parse_uint(text, n) || n == 0 || n > last)
    return make_error(Errc::invalid,
                      cat("port base \"", printable(text), "\": expected a number from 1 to ", last,
                          " (the plan uses ", kPorts.size(), " ports from it)"));
  return static_cast<unsigned>(n);
}

std::string main_cf(const Plan& p) {
  std::string owner;
  if (!p.owner.empty())
    owner = cat(
        "# Who owns the spool and runs the daemons when the instance is started as\n"
        "# root (started by anyone else, everything runs as that user and these two\n"
        "# are not used).\n"
        "mail_owner = ", p.owner, "\n"
        "setgid_group = ", p.group, "\n\n");
  // A uid below the registry's minimum (100) is allowed for this one owner.
  std::string min_uid = p.uid < 100 ? cat("virtual_minimum_uid = ", p.uid, "\n") : "";
  return cat(
      "# main.cf - the main configuration of a Posthorn instance,\n"
      "# written by `posthorn init`.\n"
      "#\n"
      "# Syntax and every parameter: main.cf(5). DIR below is this directory.\n"
      "# Show the values in effect with\n"
      "# `posthorn -c DIR conf`, the ones set here with `posthorn -c DIR conf -n`;\n"
      "# change one with `posthorn -c DIR conf -e name=value` (comments and order are\n"
      "# kept) and apply it with `posthorn -c DIR reload`. `posthorn -c DIR check`\n"
      "# checks the result.\n"
      "#\n"
      "# The instance is this folder: queue_directory, data_directory and\n"
      "# maillog_file are relative to it, and the tables, the mail store and the\n"
      "# certificate are named from $config_directory (this directory), so the\n"
      "# folder can be moved as a whole.\n"
      "\n"
      "queue_directory = spool\n"
      "data_directory = data\n"
      "maillog_file = maillog\n"
      "\n",
      owner,
      "# The name this host gives itself, and its domain.\n"
      "myhostname = ", p.hostname(), "\n"
      "mydomain = ", p.domain, "\n"
      "\n"
      "# inet services (master.cf) listen here; the ports are in master.cf.\n"
      "inet_interfaces = ", p.listen, "\n"
      "\n"
      "# Clients that may relay to any domain: this host only.\n"
      "mynetworks = 127.0.0.0/8, [::1]/128\n"
      "\n"
      "# No local (system account) delivery: mail for $mydomain goes to the\n"
      "# virtual mailboxes below, and there are no local aliases.\n"
      "mydestination =\n"
      "alias_maps =\n"
      "alias_database =\n"
      "\n"
      "# The virtual mailbox domain: vmailbox maps each address to its Maildir\n"
      "# under virtual_mailbox_base (a trailing / means Maildir); every mailbox\n"
      "# belongs to one account. Add a user: a line in vmailbox and one in passwd\n"
      "# (hash a password with `posthorn auth hash`).\n"
      "virtual_mailbox_domains = $mydomain\n"
      "virtual_mailbox_maps = texthash:$config_directory/vmailbox\n"
      "virtual_mailbox_base = $config_directory/mail\n"
      "virtual_uid_maps = static:", p.uid, "\n"
      "virtual_gid_maps = static:", p.gid, "\n",
      min_uid,
      "virtual_alias_maps = texthash:$config_directory/virtual\n"
      "\n"
      "# Passwords of the users who may log in (SMTP AUTH, POP3, IMAP): one\n"
      "# \"login {SCHEME}crypt-hash\" per line.\n"
      "auth_password_maps = texthash:$config_directory/passwd\n"
      "\n"
      "# A self-signed certificate for ", p.hostname(), ", used by smtpd, pop3d and\n"
      "# imapd; replace both files with a real certificate and key if you have one.\n"
      "smtpd_tls_cert_file = $config_directory/cert.pem\n"
      "smtpd_tls_key_file = $config_directory/key.pem\n"
      "smtpd_tls_security_level = may\n"
      "\n"
      "# Used by the submission and smtps entries of master.cf: only\n"
      "# authenticated clients may send there.\n"
      "mua_client_restrictions = permit_sasl_authenticated, reject\n"
      "\n"
      "# Mail to other domains goes out through smtp (MX lookup). To keep a test\n"
      "# instance from sending anything out, uncomment:\n"
      "#default_transport = error:outbound mail is disabled in this instance\n");
}

namespace {

std::string port_line(const Plan& p, const PortService& s) {
  std::string svc = std::to_string(p.port_base + s.offset);
  svc.resize(std::max<std::size_t>(svc.size(), 12), ' ');
  // pop3d and imapd start as root (unpriv n) to become each mailbox's owner
  // after the login, as in the shipped master.cf.
  std::string_view unpriv = s.program == "pop3d" || s.program == "imapd" ? "n" : "-";
  std::string out = cat(svc, " inet  n       ", unpriv, "       n       -       -       ", s.program, "\n");
  auto o = [&](std::string_view setting) { out += cat("  -o ", setting, "\n"); };
  if (s.program == "smtpd" && s.name != "smtp") {
    o(cat("syslog_name=posthorn/", s.name));
    if (s.name == "submission") o("smtpd_tls_security_level=encrypt");
    else o("smtpd_tls_wrappermode=yes");
    o("smtpd_sasl_auth_enable=yes");
    if (s.name == "submission") o("smtpd_tls_auth_only=yes");
    o("smtpd_client_restrictions=$mua_client_restrictions");
    o("smtpd_relay_restrictions=permit_sasl_authenticated,reject");
  }
  if (s.name == "pop3s") o("pop3_tls_wrappermode=yes");
  if (s.name == "imaps") o("imap_tls_wrappermode=yes");
  return out;
}

}  // namespace

std::string master_cf(const Plan& p) {
  std::string out = cat(
      "# master.cf - the services master runs in this instance,\n"
      "# written by `posthorn init`.\n"
      "#\n"
      "# Columns (master.cf(5)); \"-\" means the default:\n"
      "#   service  name, or [host:]port for inet services (the host defaults to\n"
      "#            main.cf's inet_interfaces, here ", p.listen, ")\n"
      "#   type     inet or unix\n"
      "#   private  y: the socket is in spool/private/; default y, inet n\n"
      "#   unpriv   n: runs as root when master does; default y (mail_owner)\n"
      "#   chroot   y: chrooted to the spool when master runs as root; default n\n"
      "#   wakeup   wake the service every N seconds; 0 or - never\n"
      "#   maxproc  most processes at once; default $default_process_limit\n"
      "#   command  program beside master, then its arguments; -o name=value\n"
      "#            overrides a main.cf parameter for this service, -v logs more\n"
      "#\n"
      "# The port plan, ", p.port_base, " to ", p.port_base + kPorts.size() - 1,
      " (`posthorn init --port-base N` makes another):\n");
  for (const PortService& s : kPorts)
    out += cat("#   ", p.port_base + s.offset, "  ", s.name,
               std::string(12 - s.name.size(), ' '), s.what, "\n");
  out +=
      "#\n"
      "# Show the entries with `posthorn -c DIR conf -M`, change one with\n"
      "# `posthorn -c DIR conf -Me service/type='...'`, then `posthorn -c DIR reload`.\n"
      "# Programs that are not built yet are throttled by master with a log line;\n"
      "# the rest runs.\n"
      "#\n"
      "# service    type  private unpriv  chroot  wakeup  maxproc command + args\n"
      "# ==========================================================================\n";
  for (const PortService& s : kPorts) out += port_line(p, s);
  out +=
      "pickup       unix  n       -       n       60      1       pickup\n"
      "qmgr         unix  n       -       n       300     1       qmgr\n"
      "smtp         unix  -       -       n       -       -       smtp\n"
      "relay        unix  -       -       n       -       -       smtp\n"
      "local        unix  -       n       n       -       -       local\n"
      "virtual      unix  -       n       n       -       -       local\n"
      "auth         unix  -       -       n       -       -       auth\n";
  return out;
}

std::string vmailbox(const Plan& p) {
  return cat(
      "# vmailbox - virtual mailboxes (virtual_mailbox_maps),\n"
      "# written by `posthorn init`.\n"
      "#\n"
      "# One \"address mailbox\" per line; the mailbox is relative to\n"
      "# virtual_mailbox_base ($config_directory/mail) and a trailing / makes it a\n"
      "# Maildir. The file is read when a daemon starts: after a change,\n"
      "# `posthorn -c DIR reload`.\n",
      p.login(), "    ", p.domain, "/", kDemoUser, "/\n");
}

std::string virtual_aliases(const Plan& p) {
  return cat(
      "# virtual - virtual aliases (virtual_alias_maps), written by\n"
      "# `posthorn init`.\n"
      "#\n"
      "# One \"address target[, target ...]\" per line: mail for the address goes to\n"
      "# the targets instead. RFC 5321 wants a postmaster in every domain. After a\n"
      "# change, `posthorn -c DIR reload`.\n",
      "postmaster@", p.domain, "    ", p.login(), "\n");
}

std::string passwd(const Plan& p, std::string_view hash) {
  return cat(
      "# passwd - passwords (auth_password_maps), written by\n"
      "# `posthorn init`.\n"
      "#\n"
      "# One \"login {SCHEME}hash\" per line, the hash in crypt(3) form; make one with\n"
      "# `posthorn auth hash` (it reads the password on standard input). Only the\n"
      "# auth service reads this file: keep it mode 0600.\n",
      p.login(), " ", hash, "\n");
}

std::string password_note(const Plan& p, std::string_view password) {
  return cat(
      "# demo-password - the password of ", p.login(), ", as\n"
      "# `posthorn init` made it (passwd holds only its hash). `make run` prints it.\n"
      "# Changing it here changes nothing: change the hash in passwd.\n",
      password, "\n");
}

Result<std::string> make_password() {
  static constexpr std::string_view kAlphabet =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";  // 57, no 0 O 1 l I
  // Bytes at or above the largest multiple of the alphabet's size are
  // dropped, so every character is equally likely.
  const unsigned limit = 256 - 256 % kAlphabet.size();
  std::string out;
  while (out.size() < 16) {
    unsigned char buf[32];
    ssize_t n = ::getrandom(buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("getrandom");
    }
    for (ssize_t i = 0; i < n && out.size() < 16; ++i)
      if (buf[i] < limit) out += kAlphabet[buf[i] % kAlphabet.size()];
  }
  return out;
}

Result<std::string> sha512_crypt(std::string_view password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // nullptr random bytes: libxcrypt draws the salt from the kernel itself.
  if (!::crypt_gensalt_rn("$6$", 0, nullptr, 0, setting, sizeof setting))
    return sys_error("crypt_gensalt $6$");
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const char* hash = ::crypt_rn(phrase.c_str(), setting, data.get(), sizeof *data);
  if (!hash || hash[0] == '*') return sys_error("crypt SHA-512");
  return cat("{SHA512-CRYPT}", hash);
}

}  // namespace posthorn::tools::init
