// pop3d - the POP3 access agent (RFC 1939, RFC 2449 CAPA and response codes,
// RFC 2595 STLS, RFC 5034 AUTH PLAIN/LOGIN; port 110, and 995 with
// pop3_tls_wrappermode).
// Does:       one POP3 session per process (master spawns up to maxproc):
//             pop3d/session.h is the protocol engine, pop3d/client.h the
//             connection, pop3d/maildir_mailbox.h the mailbox (INBOX of the
//             user's Maildir through lib/mailstore). Where the mailbox is
//             comes from lib/access (local delivery's rules).
// Talks to:   master (status, through lib/service); POP3 clients on the
//             sockets master passes; auth (pop3_sasl_path, private/auth)
//             for every password.
// Runs as:    started as root (master.cf unpriv n), in three steps:
//             1. still root, before the loop: main.cf, the lookup tables of
//                lib/access, the TLS key (often readable by root alone);
//             2. before a byte of the network is read: no supplementary
//                groups, gid and uid the mail owner's, the saved uid left
//                at 0 (lib/privs/login_identity.h). The greeting, TLS handshake,
//                commands and the auth service's answer are all handled so;
//             3. after a successful login, for good: groups, gid and uid of
//                the mailbox owner (the system account, or virtual_uid_maps'
//                and virtual_gid_maps' ids for a virtual mailbox), verified
//                by lib/privs; only then is the mailbox opened and locked.
//             Hence one session per process: a process that became one
//             user cannot serve another. After the first accept the process
//             retires (stops accepting) and exits when its session ends; it
//             is non-dumpable after the identity change, so the user cannot
//             attach to it. Not started as root (instance mode) nothing
//             switches, and every mailbox is opened as the invoking user.
// Trusts:     nothing from clients: command lines are bounded, every wait
//             has a timer (pop3_timeout, pop3_sasl_check_timeout), failed
//             logins are bounded per session (pop3_auth_failure_limit) and
//             counted per address by the auth service; passwords are never
//             logged. The mailbox only after lib/mailstore validated it.
// Refusals:   unpriv y or chroot y in master.cf (the mailbox owner cannot be
//             reached then) stop start-up with a fatal line when started as
//             root; mbox mailboxes are not served ([SYS/PERM]).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <stdexcept>

#include "lib/access/mailbox_location.h"
#include "lib/access/tls.h"
#include "lib/auth/client.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/privs/login_identity.h"
#include "lib/privs/privs.h"
#include "lib/service/service.h"
#include "lib/tls/server.h"
#include "pop3d/client.h"
#include "pop3d/maildir_mailbox.h"

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

// Password checks through the auth service, mailboxes through lib/access and
// lib/mailstore after the switch to their owner.
class ProcessBackend : public pop3d::Backend {
 public:
  ProcessBackend(posthorn::event::EventBase& loop, const config::Config& cfg, std::string service)
      : auth_(loop, auth::service_socket(cfg.get("pop3_sasl_path")),
              std::chrono::seconds(cfg.get_time("pop3_sasl_check_timeout"))),
        locator_(access::MailboxLocator::open(cfg)),
        service_(std::move(service)) {}

  void check_password(const std::string& login, const std::string& password,
                      const std::string& client_addr, Checked done) override {
    auth::Check req;
    req.login = login;
    req.password = password;
    req.service = service_;
    req.client_addr = client_addr;
    auth_.check(req, [done = std::move(done)](Result<auth::Checked> r) {
      if (!r) log::warn("auth service: ", r.error().detail);
      if (!r || r->temporary) return done({pop3d::PasswordCheck::temporary, {}});
      if (!r->ok) return done({pop3d::PasswordCheck::wrong, {}});
      done({pop3d::PasswordCheck::ok, r->login});
    });
  }

  Result<std::unique_ptr<pop3d::Mailbox>> open_mailbox(const std::string& login) override {
    const bool as_root = privs::holding_root() || privs::is_root();
    auto loc = locator_.locate(login, as_root);
    if (!loc) return std::move(loc).error();
    if (!loc->maildir)
      return make_error(Errc::unsupported, cat("mailbox ", loc->path, " is not a Maildir"));
    privs::Identity owner{loc->account.empty() ? login : loc->account, loc->uid, loc->gid};
    if (auto r = privs::become_owner(owner); !r)
      return make_error(r.error().code, cat("becoming ", owner.name, ": ", r.error().detail));
    auto box = pop3d::MaildirMailbox::open(loc->path);
    if (!box) return std::move(box).error();
    return std::unique_ptr<pop3d::Mailbox>(std::move(*box));
  }

 private:
  auth::Client auth_;
  access::MailboxLocator locator_;
  std::string service_;
};

// What the process's one session uses; built in post_drop, still as root.
struct Shared {
  pop3d::ClientOptions options;
  std::optional<tls::ReloadingServerContext> tls;
  std::unique_ptr<ProcessBackend> backend;
};
std::unique_ptr<Shared> shared;
bool started_as_root = false;

std::unique_ptr<pop3d::Client> client;
service::Job client_job;

void pre_drop(service::Context&) { started_as_root = privs::is_root(); }

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  if (started_as_root && (ctx.args().unprivileged || ctx.args().chroot))
    throw std::runtime_error(
        "pop3d must start as root without chroot (master.cf: unpriv n, chroot n) to reach "
        "each mailbox as its owner");
  auto sh = std::make_unique<Shared>();
  pop3d::Settings& s = sh->options.session;
  s.banner = cfg.get("pop3_banner");
  s.plaintext_auth = cfg.get_bool("pop3_plaintext_auth");
  s.auth_failure_limit = static_cast<std::size_t>(cfg.get_int("pop3_auth_failure_limit"));
  sh->options.timeout = std::chrono::seconds(cfg.get_time("pop3_timeout"));
  sh->options.wrappermode = cfg.get_bool("pop3_tls_wrappermode");
  const std::string service = ctx.args().service_name.empty() ? "pop3d" : ctx.args().service_name;
  sh->tls = access::server_tls(cfg, "pop3", cat("pop3d/", service), "STLS");
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

void on_accept(service::Context& ctx, posthorn::event::Accepted a, service::Job job) {
  ctx.retire("one session per process");  // stops the listener before it accepts again
  if (client) return;  // cannot happen: the listener stopped with the first
  std::string addr = peer_address(a.peer);
  client_job = std::move(job);
  client = std::make_unique<pop3d::Client>(
      ctx.loop(), std::move(a.fd), cat("unknown[", addr, "]"), addr, shared->options,
      *shared->backend, [] {
        client.reset();
        client_job.end();  // the process exits once idle and retiring
      });
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "pop3d";
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
