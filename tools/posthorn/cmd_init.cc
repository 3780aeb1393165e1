// posthorn init - makes a ready instance: a folder with everything a Posthorn
// mail system needs to run on its own ports (`make run` uses it).
//
//   posthorn init DIR [--domain D] [--listen ADDR] [--port-base N] [--user NAME] [--force]
//
// Writes into DIR (made when missing):
//   main.cf, master.cf   the configuration: seven inet services on the ports
//                        N..N+6 (init_plan.h has the plan) and the unix
//                        services of a full system
//   vmailbox, virtual    the virtual mailbox domain D with one user demo@D and
//                        a postmaster alias (texthash tables)
//   passwd               demo@D's password as a {SHA512-CRYPT} hash, mode 0600
//   demo-password        the password itself, mode 0600, for `make run` to show
//   cert.pem, key.pem    a self-signed certificate for mail.D (key mode 0600)
//   spool/ data/         the queue (posthorn check's layout) and master's lock
//   mail/D/demo/         demo's Maildir
// and prints what it made, with the password (shown this once).
//
// Who owns what: run by a user, that user owns everything and every program
// of the instance runs as that user (instance mode). Run by root, the
// daemons drop to --user (default nobody): it becomes mail_owner, owns the
// spool, the mail store, passwd and key.pem, and is the mailboxes' uid;
// --user root is refused. A user may not name another user.
//
// Refusals: a DIR that already has main.cf (unless --force, which rewrites
// the configuration, the tables, the password and the certificate but keeps
// the spool and the mail); an instance that is running (stop it first); a
// DIR whose path has white space, commas or braces (main.cf's lists).
// Warnings (the instance is still made): a port of the plan that is in use
// now, and, run by root, a DIR the daemons' user cannot reach.
//
// Exit status: 0; 1 the instance is running; 64 usage; 67 unknown --user;
// 70 the generated configuration does not parse (a bug); 73 DIR already has
// an instance; 74 a file or directory could not be made.
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/fd.h"
#include "lib/base/file.h"
#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/mailstore/store.h"
#include "lib/privs/privs.h"
#include "lib/queue/spool.h"
#include "lib/service/master_lock.h"
#include "lib/service/spool_owners.h"
#include "lib/tls/certificate.h"
#include "tools/posthorn/command.h"
#include "tools/posthorn/init_plan.h"

namespace posthorn::tools {

namespace {

namespace fs = std::filesystem;
using init::Plan;

constexpr const char* kName = "init";
constexpr const char* kUsage =
    "init DIR [--domain D] [--listen ADDR] [--port-base N] [--user NAME] [--force]";

// A failure with its exit status; `detail` is printed after "posthorn init: ".
struct Failure {
  int status;
  std::string detail;
};

void warn(const std::string& text) {
  std::fprintf(stderr, "posthorn init: warning: %s\n", text.c_str());
}

// --name VALUE and --name=VALUE become the short options parse_options knows;
// operands and short options pass as they are, and everything after "--".
Result<std::vector<std::string>> shorten(const std::vector<std::string>& args) {
  struct Long {
    std::string_view name, short_name;
    bool value;
  };
  static constexpr Long kLong[] = {{"--domain", "-d", true}, {"--listen", "-l", true},
                                   {"--port-base", "-p", true}, {"--user", "-u", true},
                                   {"--force", "-f", false}, {"--help", "-h", false}};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (a.rfind("--", 0) != 0) {
      out.push_back(a);
      continue;
    }
    auto eq = a.find('=');
    std::string_view name = std::string_view(a).substr(0, eq);
    const Long* opt = nullptr;
    for (const Long& l : kLong)
      if (l.name == name) opt = &l;
    if (!opt) return make_error(Errc::invalid, cat("unknown option ", name));
    if (!opt->value && eq != std::string::npos)
      return make_error(Errc::invalid, cat("option ", name, " takes no value"));
    out.emplace_back(opt->short_name);
    if (eq != std::string::npos) out.push_back(a.substr(eq + 1));
    else if (opt->value && i + 1 < args.size()) out.push_back(args[++i]);  // even "--x"
  }
  return out;
}

std::string group_name(gid_t gid) {
  group gr{}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) != 0 || !found) return {};
  return gr.gr_name;
}

// Fills in who owns the instance (see the opening comment).
std::optional<Failure> identify(Plan& plan, const std::string& user) {
  plan.root = privs::is_root();
  if (plan.root) {
    std::string name = user.empty() ? "nobody" : user;
    auto who = privs::lookup_user(name);
    if (!who) return Failure{EX_NOUSER, cat("--user ", name, ": ", who.error().detail)};
    if (who->uid == 0 || who->gid == 0)
      return Failure{EX_USAGE, cat("--user ", name, ": the daemons must not run as root")};
    plan.owner = who->name;
    plan.uid = who->uid;
    plan.gid = who->gid;
    plan.group = group_name(who->gid);
    if (plan.group.empty())
      return Failure{EX_NOUSER, cat("--user ", name, ": gid ", who->gid, " has no group name")};
    return std::nullopt;
  }
  plan.uid = ::getuid();
  plan.gid = ::getgid();
  struct passwd pw {}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(plan.uid, &pw, buf.data(), buf.size(), &found) == 0 && found) {
    plan.owner = pw.pw_name;
    plan.group = group_name(plan.gid);
    if (plan.group.empty()) plan.owner.clear();  // both or neither: see main_cf()
  }
  if (!user.empty() && user != plan.owner && user != std::to_string(plan.uid))
    return Failure{EX_USAGE, cat("--user ", user, ": only root can make an instance for another "
                                 "user; without root everything runs as you")};
  return std::nullopt;
}

// DIR/main.cf exists: refused without --force, and always while it runs.
std::optional<Failure> refuse_existing(const Plan& plan, bool force) {
  std::error_code ec;
  if (!fs::exists(plan.dir / "main.cf", ec)) return std::nullopt;
  if (!force)
    return Failure{EX_CANTCREAT, cat(plan.dir.string(), " already has an instance (main.cf); "
                                     "--force rewrites its configuration and keeps spool and mail")};
  auto cfg = config::Config::load(plan.dir);
  fs::path data = cfg ? cfg->get_path("data_directory") : plan.dir / "data";
  auto running = service::running_master(data);
  if (!running)
    return Failure{EX_IOERR, cat("cannot tell whether the instance in ", plan.dir.string(),
                                 " is running: ", running.error().detail)};
  if (*running)
    return Failure{1, cat("the instance in ", plan.dir.string(), " is running (master pid ",
                          **running, "); stop it first: posthorn -c ", plan.dir.string(), " stop")};
  return std::nullopt;
}

std::optional<Failure> give_to_owner(const Plan& plan, const fs::path& path) {
  if (!plan.root || ::chown(path.c_str(), plan.uid, plan.gid) == 0) return std::nullopt;
  return Failure{EX_IOERR, sys_error(cat("chown ", path.string())).detail};
}

std::optional<Failure> write_one(const Plan& plan, std::string_view name, std::string_view text,
                                 unsigned mode, bool owner_reads) {
  fs::path path = plan.dir / name;
  if (auto r = write_file_durable(path, text, mode); !r)
    return Failure{EX_IOERR, r.error().detail};
  return owner_reads ? give_to_owner(plan, path) : std::nullopt;
}

// cert.pem and key.pem through lib/tls, each then given its comment header
// (PEM readers skip text before the BEGIN line).
std::optional<Failure> write_certificate(const Plan& plan) {
  tls::CertificateSpec spec;
  spec.key_type = tls::KeyType::rsa2048;  // smtpd_tls_cert_file is the RSA slot
  spec.common_name = plan.hostname();
  spec.dns_names = {plan.hostname(), plan.domain, "localhost"};
  spec.days = 3650;
  fs::path cert = plan.dir / "cert.pem", key = plan.dir / "key.pem";
  if (auto r = tls::write_self_signed(spec, cert, key); !r)
    return Failure{EX_IOERR, cat("certificate: ", r.error().detail)};
  const std::string how =
      "# posthorn init made it for this instance; replace cert.pem and key.pem with\n"
      "# a real certificate and its key if you have one (smtpd_tls_cert_file,\n"
      "# smtpd_tls_key_file in main.cf).\n";
  const std::pair<const fs::path*, std::string> files[] = {
      {&cert, cat("# cert.pem - a self-signed certificate for ", plan.hostname(), ".\n", how)},
      {&key, cat("# key.pem - the private key of cert.pem; keep it mode 0600.\n", how)}};
  for (const auto& [path, header] : files) {
    auto pem = read_file(*path);
    if (!pem) return Failure{EX_IOERR, pem.error().detail};
    bool secret = path == &key;
    if (auto f = write_one(plan, path->filename().string(), header + *pem, secret ? 0600 : 0644, secret))
      return f;
  }
  return std::nullopt;
}

// Everything but the spool and the mail store; main.cf last, so that an
// init that fails half-way can simply be run again.
std::optional<Failure> write_files(const Plan& plan, const std::string& password,
                                   const std::string& main_text, const std::string& master_text) {
  auto hash = init::sha512_crypt(password);
  if (!hash) return Failure{EX_SOFTWARE, hash.error().detail};
  if (auto f = write_certificate(plan)) return f;
  if (auto f = write_one(plan, "passwd", init::passwd(plan, *hash), 0600, true)) return f;
  if (auto f = write_one(plan, "demo-password", init::password_note(plan, password), 0600, false))
    return f;
  if (auto f = write_one(plan, "vmailbox", init::vmailbox(plan), 0644, false)) return f;
  if (auto f = write_one(plan, "virtual", init::virtual_aliases(plan), 0644, false)) return f;
  if (auto f = write_one(plan, "master.cf", master_text, 0644, false)) return f;
  return write_one(plan, "main.cf", main_text, 0644, false);
}

// The spool (as master makes it), the data directory and demo's Maildir.
std::optional<Failure> make_directories(const Plan& plan, const config::Config& cfg) {
  auto owners = service::spool_owners(cfg);
  if (!owners) return Failure{EX_NOUSER, owners.error().detail};
  queue::Spool spool(cfg.get_path("queue_directory"));
  if (auto r = queue::create_spool(spool, *owners); !r)
    return Failure{EX_IOERR, cat("spool: ", r.error().detail)};
  fs::path data = cfg.get_path("data_directory");
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return Failure{EX_IOERR, cat("data_directory ", data.string(), ": ", ec.message())};
  if (auto f = give_to_owner(plan, data)) return f;
  auto store = mailstore::Store::open(plan.dir / plan.mailbox(), true);
  if (!store) return Failure{EX_IOERR, cat("mailbox: ", store.error().detail)};
  // The mail store is its owner's alone; local delivers as that owner, so
  // (made by root) it must own the whole tree.
  for (fs::path p : {fs::path("mail"), fs::path("mail") / plan.domain, fs::path(plan.mailbox())})
    if (::chmod((plan.dir / p).c_str(), 0700) != 0)
      return Failure{EX_IOERR, sys_error(cat("chmod ", (plan.dir / p).string())).detail};
  if (!plan.root) return std::nullopt;
  if (auto f = give_to_owner(plan, plan.dir / "mail")) return f;
  for (const auto& e : fs::recursive_directory_iterator(plan.dir / "mail", ec))
    if (auto f = give_to_owner(plan, e.path())) return f;
  if (ec) return Failure{EX_IOERR, cat("mail: ", ec.message())};
  return std::nullopt;
}

// A port of the plan that something else holds now: master would leave that
// service out (with a log line), so say it at once.
void warn_busy_ports(const Plan& plan) {
  std::string host = plan.listen == "all" ? "0.0.0.0"
                     : plan.listen == "loopback-only" ? "127.0.0.1" : plan.listen;
  for (const init::PortService& s : init::kPorts) {
    unsigned port = plan.port_base + s.offset;
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) continue;
    Owned<addrinfo, ::freeaddrinfo> owned(res);
    Fd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    if (!fd) continue;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), res->ai_addr, res->ai_addrlen) == 0) continue;
    if (errno == EADDRINUSE)
      warn(cat(plan.address(port), " (", s.name, ") is in use now; master will leave that service "
               "out until it is free (choose other ports with --port-base)"));
    else if (errno == EACCES)
      warn(cat(plan.address(port), " (", s.name, "): ports below 1024 need root to listen on"));
  }
}

// Run by root: the daemons open the tables and the certificate as plan.owner,
// who must be able to search every directory down to DIR.
void warn_unreachable(const Plan& plan) {
  if (!plan.root) return;
  for (fs::path p = plan.dir; ; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      mode_t bit = st.st_uid == plan.uid ? S_IXUSR : st.st_gid == plan.gid ? S_IXGRP : S_IXOTH;
      if (!(st.st_mode & bit)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        warn(cat(plan.owner, " cannot search ", p.string(), " (mode ", mode,
                 "): the daemons that run as ", plan.owner, " will not open the tables and the certificate in ",
                 plan.dir.string(), "; choose a directory ", plan.owner, " can reach"));
        return;
      }
    }
    if (p == p.parent_path()) return;
  }
}

void print_summary(const Plan& plan, const std::string& password) {
  std::printf("posthorn init: made an instance in %s\n\n", plan.dir.string().c_str());
  for (const init::PortService& s : init::kPorts)
    std::printf("  %-24s %-11s %s\n", plan.address(plan.port_base + s.offset).c_str(),
                std::string(s.name).c_str(), std::string(s.what).c_str());
  std::printf("\n  %-24s %s\n", "main.cf, master.cf", "the configuration");
  std::printf("  %-24s %s\n", "vmailbox, virtual", cat("the mailboxes and aliases of ", plan.domain).c_str());
  std::printf("  %-24s %s\n", "passwd", "password hashes (mode 0600)");
  std::printf("  %-24s %s\n", "cert.pem, key.pem", cat("self-signed certificate for ", plan.hostname()).c_str());
  std::printf("  %-24s %s\n", "spool/, data/, maillog", "queue, master's lock, the log");
  std::printf("  %-24s %s\n", plan.mailbox().c_str(), "the demo user's Maildir");
  std::printf("\n  login %s  password %s  (also in demo-password)\n", plan.login().c_str(),
              password.c_str());
  std::printf("\n  start: posthorn -c %s start\n", plan.dir.string().c_str());
  if (plan.root)
    std::printf("  (started as root, the daemons run as %s)\n", plan.owner.c_str());
}

struct Request {
  Plan plan;
  std::string user;
  bool force = false;
};

// Options into a Request; nullopt: exit with `rc`.
std::optional<Request> parse(const std::vector<std::string>& args, int& rc) {
  auto shortened = shorten(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!shortened) {
    rc = usage_error(kName, shortened.error().detail);
    return std::nullopt;
  }
  auto p = parse_options(*shortened, "d:l:p:u:fh");
  if (!p.error.empty()) {
    rc = usage_error(kName, p.error);
    return std::nullopt;
  }
  if (p.has('h')) {
    std::printf("usage: posthorn %s\n"
                "Makes a ready instance in DIR: configuration, spool, a self-signed certificate\n"
                "and a demo user with a Maildir and a password. Defaults: --domain %s,\n"
                "--listen %s, --port-base %u (ports N to N+6: smtp, submission, smtps,\n"
                "pop3, pop3s, imap, imaps), --user nobody when run as root.\n",
                kUsage, std::string(init::kDefaultDomain).c_str(),
                std::string(init::kDefaultListen).c_str(), init::kDefaultPortBase);
    rc = 0;
    return std::nullopt;
  }
  if (p.operands.size() != 1) {
    rc = usage_error(kName, p.operands.empty() ? "no directory given"
                                               : "unexpected argument " + p.operands[1]);
    return std::nullopt;
  }
  Request r;
  auto domain = init::check_domain(p.value('d', std::string(init::kDefaultDomain)));
  auto listen = init::check_listen(p.value('l', std::string(init::kDefaultListen)));
  auto base = init::check_port_base(p.value('p', std::to_string(init::kDefaultPortBase)));
  for (const Error* e : {domain ? nullptr : &domain.error(), listen ? nullptr : &listen.error(),
                         base ? nullptr : &base.error()})
    if (e) {
      rc = usage_error(kName, e->detail);
      return std::nullopt;
    }
  std::error_code ec;
  r.plan.dir = fs::absolute(p.operands[0], ec).lexically_normal();
  if (!r.plan.dir.has_filename()) r.plan.dir = r.plan.dir.parent_path();
  if (auto d = init::check_dir(r.plan.dir); !d) {
    rc = usage_error(kName, d.error().detail);
    return std::nullopt;
  }
  r.plan.domain = *domain;
  r.plan.listen = *listen;
  r.plan.port_base = *base;
  r.user = p.value('u');
  r.force = p.has('f');
  return r;
}

int fail(const Failure& f) {
  std::fprintf(stderr, "posthorn %s: %s\n", kName, f.detail.c_str());
  return f.status;
}

int run(Context&, const std::vector<std::string>& args) {
  int rc = 0;
  auto req = parse(args, rc);
  if (!req) return rc;
  Plan& plan = req->plan;
  if (auto f = identify(plan, req->user)) return fail(*f);
  if (auto f = refuse_existing(plan, req->force)) return fail(*f);
  const std::string main_text = init::main_cf(plan), master_text = init::master_cf(plan);
  config::Sources src{main_text, "main.cf", master_text, "master.cf", plan.dir, {}};
  auto parsed = config::Config::parse(src);
  if (!parsed.errors.empty())
    return fail({EX_SOFTWARE, cat("the configuration made for ", plan.dir.string(),
                                  " has errors: ", parsed.errors.front().text())});
  auto password = init::make_password();
  if (!password) return fail({EX_IOERR, password.error().detail});
  std::error_code ec;
  fs::create_directories(plan.dir, ec);
  if (ec) return fail({EX_IOERR, cat(plan.dir.string(), ": ", ec.message())});
  if (auto f = write_files(plan, *password, main_text, master_text)) return fail(*f);
  auto cfg = config::Config::load(plan.dir);
  if (!cfg) return fail({EX_SOFTWARE, cfg.error().detail});
  if (auto f = make_directories(plan, *cfg)) return fail(*f);
  warn_busy_ports(plan);
  warn_unreachable(plan);
  print_summary(plan, *password);
  return 0;
}

const Registration reg{kName, run, kUsage};

}  // namespace
}  // namespace posthorn::tools
