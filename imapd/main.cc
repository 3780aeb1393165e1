// imapd - the IMAP access agent (IMAP4rev1, RFC 3501, with the extensions
// listed in imapd/session.h; port 143 with STARTTLS, and 993 with
// imap_tls_wrappermode).
// Does:       one IMAP session per process (master spawns up to maxproc):
//             imapd/session.h is the protocol engine, imapd/client.h the
//             connection, lib/mailstore the user's Maildir++ store. After
//             the first accept the process retires (stops accepting) and
//             exits when its session ends.
// Talks to:   master (status, through lib/service); IMAP clients on the
//             sockets master passes; auth (imap_sasl_path, private/auth)
//             for every password.
// Runs as:    started as root (master.cf unpriv n), in three steps:
//             1. still root, before the loop: main.cf, the lookup tables of
//                lib/access, the TLS key (often readable by root alone);
//             2. before a byte of the network is read: no supplementary
//                groups, gid and uid the mail owner's, the saved uid left
//                at 0 (lib/privs/login_identity.h). The greeting, TLS
//                handshake, commands and the auth service's answer are all
//                handled so;
//             3. after a successful login, for good: groups, gid and uid of
//                the mailbox owner (the system account, or virtual_uid_maps'
//                and virtual_gid_maps' ids for a virtual mailbox), verified
//                by lib/privs; only then is the mail store opened.
//             Hence one session per process: a process that became one user
//             cannot serve another. Not started as root (instance mode)
//             nothing switches, and every store is opened as the invoking
//             user.
// Trusts:     nothing from clients: command text, literals and nesting are
//             bounded (imap_max_line_length, imap_max_literal,
//             imap_max_nesting), every wait has a timer (imap_login_timeout,
//             imap_timeout, imap_sasl_check_timeout), failed logins are
//             bounded per session (imap_auth_failure_limit) and counted per
//             address by the auth service; passwords are never logged.
//             Mailbox names only after lib/mailstore validated them.
// Refusals:   unpriv y or chroot y in master.cf (the mailbox owner cannot be
//             reached then) stop start-up with a fatal line when started as
//             root; mbox mailboxes are not served (NO [UNAVAILABLE]).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <stdexcept>

#include "imapd/client.h"
#include "lib/access/mailbox_location.h"
#include "lib/access/tls.h"
#include "lib/auth/client.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/privs/login_identity.h"
#include "lib/privs/privs.h"
#include "lib/service/service.h"
#include "lib/tls/server.h"

namespace {

using namespace posthorn;

std::string peer_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  else
    return "127.0.0.1";  // a UNIX-domain client is local
  return buf;
}

// Password checks through the auth service, stores through lib/access and
// lib/mailstore after the switch to their owner.
class ProcessBackend : public imapd::Backend {
 public:
  ProcessBackend(event::EventBase& loop, const config::Config& cfg, std::string service)
      : auth_(loop, auth::service_socket(cfg.get("imap_sasl_path")),
              std::chrono::seconds(cfg.get_time("imap_sasl_check_timeout"))),
        locator_(access::MailboxLocator::open(cfg)),
        service_(std::move(service)) {}

  void check_password(const std::string& login, const std::string& password,
                      const std::string& client_addr,
                      std::function<void(imapd::AuthAnswer)> done) override {
    auth::Check req;
    req.login = login;
    req.password = password;
    req.service = service_;
    req.client_addr = client_addr;
    auth_.check(req, [done = std::move(done)](Result<auth::Checked> r) {
      using K = imapd::AuthAnswer::Kind;
      if (!r) log::warn("auth service: ", r.error().detail);
      if (!r || r->temporary) return done({K::temporary, {}});
      if (!r->ok) return done({K::failed, {}});
      done({K::ok, r->login});
    });
  }

  // A missing Maildir is made at the first login (as the owner), so that a
  // user can log in before the first delivery.
  Result<mailstore::Store> open_store(const std::string& login) override {
    const bool as_root = privs::holding_root() || privs::is_root();
    auto loc = locator_.locate(login, as_root);
    if (!loc) return std::move(loc).error();
    if (!loc->maildir)
      return make_error(Errc::unsupported, cat("mailbox ", loc->path, " is not a Maildir"));
    privs::Identity owner{loc->account.empty() ? login : loc->account, loc->uid, loc->gid};
    if (auto r = privs::become_owner(owner); !r)
      return make_error(r.error().code, cat("becoming ", owner.name, ": ", r.error().detail));
    return mailstore::Store::open(loc->path, true);
  }

 private:
  auth::Client auth_;
  access::MailboxLocator locator_;
  std::string service_;
};

struct Shared {
  imapd::ClientOptions options;
  std::optional<tls::ReloadingServerContext> tls;
  std::unique_ptr<ProcessBackend> backend;
};
std::unique_ptr<Shared> shared;
bool started_as_root = false;

std::unique_ptr<imapd::Client> client;
service::Job client_job;

void pre_drop(service::Context&) { started_as_root = privs::is_root(); }

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  if (started_as_root && (ctx.args().unprivileged || ctx.args().chroot))
    throw std::runtime_error(
        "imapd must start as root without chroot (master.cf: unpriv n, chroot n) to reach "
        "each mailbox as its owner");
  auto sh = std::make_unique<Shared>();
  imapd::Settings& s = sh->options.session;
  s.banner = cfg.get("imap_banner");
  s.plaintext_auth = cfg.get_bool("imap_plaintext_auth");
  s.auth_failure_limit = static_cast<std::size_t>(cfg.get_int("imap_auth_failure_limit"));
  s.limits.max_line = static_cast<std::size_t>(cfg.get_size("imap_max_line_length"));
  s.limits.max_literal = static_cast<std::uint64_t>(cfg.get_size("imap_max_literal"));
  s.limits.max_nesting = static_cast<std::size_t>(cfg.get_int("imap_max_nesting"));
  auto special = imapd::parse_special_use(cfg.get_list("imap_special_use_folders"));
  if (!special) throw std::runtime_error(cat("imap_special_use_folders: ", special.error().detail));
  s.special_use = std::move(*special);
  sh->options.login_timeout = std::chrono::seconds(cfg.get_time("imap_login_timeout"));
  sh->options.timeout = std::chrono::seconds(cfg.get_time("imap_timeout"));
  sh->options.wrappermode = cfg.get_bool("imap_tls_wrappermode");
  const std::string service = ctx.args().service_name.empty() ? "imapd" : ctx.args().service_name;
  sh->tls = access::server_tls(cfg, "imap", cat("imapd/", service), "STARTTLS");
  sh->options.tls = sh->tls ? &*sh->tls : nullptr;
  sh->backend = std::make_unique<ProcessBackend>(ctx.loop(), cfg, service);
  shared = std::move(sh);
  // Step 2 of the opening comment: nothing from the network is read as root.
  if (started_as_root) {
    auto who = privs::mail_owner_identity(cfg.get("mail_owner"));
    if (!who) throw std::runtime_error(who.error().detail);
    if (auto r = privs::serve_as_mail_owner(*who); !r)
      throw std::runtime_error(cat("changing to mail_owner: ", r.error().detail));
  }
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  ctx.retire("one session per process");  // stops the listener before it accepts again
  if (client) return;  // cannot happen: the listener stopped with the first
  std::string addr = peer_address(a.peer);
  client_job = std::move(job);
  client = std::make_unique<imapd::Client>(
      ctx.loop(), std::move(a.fd), cat("unknown[", addr, "]"), addr, shared->options,
      *shared->backend, [] {
        client.reset();
        client_job.end();  // the process exits once idle and retiring
      });
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "imapd";
  p.pre_drop = pre_drop;
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  p.on_exit = [](service::Context&) {
    client.reset();
    client_job = {};
    shared.reset();
  };
  return service::run(p, argc, argv);
}
