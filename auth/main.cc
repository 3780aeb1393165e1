// auth - the password service.
// Does:       answers "is this password right for this login" (lib/ipc
//             protocol "auth", lib/auth/protocol.h) from the tables of
//             auth_password_maps: crypt(3) hashes with optional {SCHEME}
//             prefixes (lib/auth/password.h). Failed checks are answered
//             after auth_failure_delay and counted per client address;
//             auth_failure_limit failures within an hour refuse the address.
// Talks to:   master (status, through lib/service); smtpd (and pop3d, imapd)
//             on private/auth.
// Runs as:    mail owner by default (master.cf unpriv "-"). The tables are
//             opened before the privilege drop, so a password file may be
//             readable by root alone; unix:shadow reads /etc/shadow at each
//             lookup and needs the service to keep root (unpriv "n").
// Trusts:     no client: every field is checked for shape, a password is
//             never logged, and nothing but this program reads the hashes.
#include <memory>
#include <stdexcept>

#include "auth/checker.h"
#include "auth/server.h"
#include "lib/log/log.h"
#include "lib/service/service.h"

namespace {

using namespace posthorn;

// Built before the privilege drop (the tables), finished after it.
std::unique_ptr<auth::Checker> opened;
std::unique_ptr<auth::Server> server;

void pre_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  std::vector<std::string> maps = cfg.get_list("auth_password_maps");
  if (maps.empty()) log::warn("auth_password_maps is empty: every password check fails");
  auto c = auth::Checker::open(maps, cfg.get_bool("auth_allow_plain_scheme"),
                               static_cast<std::size_t>(cfg.get_int("auth_failure_limit")));
  if (!c) throw std::runtime_error(c.error().detail);
  opened = std::make_unique<auth::Checker>(std::move(*c));
}

void post_drop(service::Context& ctx) {
  auth::ServerSettings s;
  s.failure_delay = std::chrono::seconds(ctx.config().get_time("auth_failure_delay"));
  server = std::make_unique<auth::Server>(
      ctx.loop(), std::move(*opened), s, [&ctx](const Error&) {
        // A process started afresh (as root, before its drop) can read it.
        ctx.retire("a changed password table cannot be reopened");
      });
  opened.reset();
}

void on_accept(service::Context&, event::Accepted a, service::Job job) {
  server->adopt(std::move(a.fd), std::move(job));
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "auth";
  p.pre_drop = pre_drop;
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  p.on_exit = [](service::Context&) {
    server.reset();
    opened.reset();
  };
  return service::run(p, argc, argv);
}
