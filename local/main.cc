// local - the local and virtual delivery agent.
// Does:       serves lib/deliver/protocol.h on its master.cf socket
//             (private/local, and private/virtual: master.cf runs this one
//             program for both); for each recipient of a request: aliases,
//             .forward, :include:, |command and /file deliveries, mailboxes
//             (Maildir and mbox with locking) and virtual mailboxes, as
//             Postfix's local(8) and virtual(8) (local/delivery.h).
// Talks to:   master (status, through lib/service), qmgr (deliver requests on
//             the socket), qmgr again when an expansion queued a new message
//             (wakeup, lib/queue/trigger.h).
// Runs as:    root (master.cf unpriv "n"), because it becomes each recipient
//             in turn: the effective ids switch for a mailbox or file
//             delivery and switch back, a command's child drops for good
//             (local/account.h, local/command.h). Root itself never writes
//             a user's file or runs a user's command: those run as the user,
//             or as default_privs in place of root. Instance mode (not
//             root): nothing switches.
// Trusts:     qmgr's request only as far as it checks it: the queue ID must
//             parse and name a file in a queue directory, which is read
//             read-only and parsed as untrusted; queue files are never
//             written, moved or removed here. Table values, .forward and
//             :include: files are parsed as untrusted text. Every failure
//             is a per-recipient outcome (deferred or bounced), never a
//             crash.
// One request is delivered at a time, in the event loop's callback (as
// Postfix's local: each process delivers one message at a time and master
// runs as many processes as maxproc allows). A process is busy while a
// connection is open, and accepts no other connection meanwhile
// (Program::single_job): a request waiting behind the current one would wait
// for it while another process may be free.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

#include "lib/base/strings.h"
#include "lib/event/timer.h"
#include "lib/ipc/server.h"
#include "lib/log/log.h"
#include "lib/privs/privs.h"
#include "lib/queue/spool.h"
#include "lib/service/service.h"
#include "lib/service/status.h"
#include "local/agent.h"

namespace {

using namespace posthorn;

struct Daemon {
  std::unique_ptr<local::Agent> agent;
  std::unique_ptr<ipc::Server> server;
};
std::unique_ptr<Daemon> daemon_state;

std::optional<local::Rights> queue_owner(const config::Config& cfg) {
  if (!local::can_switch()) return std::nullopt;
  auto who = privs::mail_owner_identity(cfg.get("mail_owner"));
  if (!who) throw std::runtime_error(who.error().detail);
  return local::numeric_rights(who->uid, who->gid);
}

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  const std::string service = ctx.args().service_name;
  if (service == "virtual") log::set_program("virtual");
  local::remember_root_groups();
  auto d = std::make_unique<Daemon>();
  d->agent = std::make_unique<local::Agent>(local::Settings::from_config(cfg, service),
                                            local::Tables::open(cfg), queue::Spool("."),
                                            queue_owner(cfg));
  // The skeleton accepts on the listening socket and hands each connection
  // to the Server through adopt().
  ipc::ServerOptions o;
  o.protocol = deliver::kProtocol;
  o.idle_timeout = std::chrono::seconds(cfg.get_time("ipc_timeout"));
  d->server = std::make_unique<ipc::Server>(ctx.loop(), o);
  d->server->handle<deliver::Request>([](deliver::Request req, ipc::Replier r) {
    r.reply(daemon_state->agent->handle(req));
  });
  daemon_state = std::move(d);
}

void on_accept(service::Context&, event::Accepted a, service::Job job) {
  // The connection's Job keeps the process busy (master starts another
  // process for the next connection) until the connection ends.
  auto held = std::make_shared<service::Job>(std::move(job));
  daemon_state->server->adopt(std::move(a.fd), [held] { held->end(); });
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "local";
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  p.single_job = true;
  p.on_exit = [](service::Context&) { daemon_state.reset(); };
  return service::run(p, argc, argv);
}
