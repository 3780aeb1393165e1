// smtp - the SMTP delivery agent (master.cf "smtp" and "relay").
// Does:       serves lib/deliver/protocol.h on its master.cf socket: for
//             each request (one message, the recipients that share a next
//             hop) finds the servers (MX, implicit MX, [host]:port, through
//             lib/dns, or the system's name service with smtp_host_lookup),
//             speaks SMTP to them with STARTTLS, AUTH, PIPELINING, SIZE,
//             8BITMIME, SMTPUTF8, DSN and CHUNKING, falls back across hosts and
//             addresses, answers one result per recipient and logs
//             Postfix's delivery line for each (smtp/agent.h).
// Talks to:   master (status, through lib/service), qmgr (deliver requests
//             on the socket), DNS servers, remote SMTP servers.
// Runs as:    mail owner (master.cf unpriv "-"); never needs root.
// Trusts:     qmgr's request only as far as it checks it (the queue ID must
//             parse and name a file in a queue directory, read read-only and
//             parsed as untrusted); DNS answers as lib/dns validates them;
//             remote replies as smtp/reply.h parses them; certificates as
//             smtp_tls_security_level requires.
// Design:     one job at a time per process, as Postfix's smtp(8): master
//             runs as many processes as maxproc allows and hands each
//             connection from qmgr to an idle one. Within a job the agent
//             waits on DNS and on the remote server in poll() with a limit
//             for every stage (smtp_connect_timeout, smtp_helo_timeout,
//             smtp_mail_timeout, smtp_rcpt_timeout, smtp_data_init_timeout,
//             smtp_data_xfer_timeout per stall, smtp_data_done_timeout,
//             smtp_quit_timeout, smtp_starttls_timeout; dns_timeout x
//             dns_retry_count per lookup), so nothing waits forever and a
//             stalled remote costs one process for a bounded time. Sessions
//             left usable are kept in this process between jobs for reuse
//             (smtp_connection_cache_*); a timer on the event loop QUITs
//             them when idle too long. The process is idle for master while
//             it only holds cached sessions.
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

#include "lib/dns/config.h"
#include "lib/dns/main_cf.h"
#include "lib/dns/resolver.h"
#include "lib/event/timer.h"
#include "lib/ipc/server.h"
#include "lib/log/log.h"
#include "lib/queue/spool.h"
#include "lib/service/service.h"
#include "smtp/agent.h"

namespace {

using namespace posthorn;

struct Daemon {
  // Opened before the privilege drop (pre_drop), as Postfix's smtp reads
  // smtp_tls_CAfile, the client key, smtp_sasl_password_maps and
  // smtp_tls_policy_maps as root: those files may be readable by root alone.
  std::unique_ptr<tls::ClientContext> tls;
  std::optional<smtp::Tables> tables;
  std::unique_ptr<dns::Resolver> resolver;
  std::unique_ptr<smtp::Agent> agent;
  std::unique_ptr<ipc::Server> server;
  std::unique_ptr<event::Timer> cache_timer;
};
std::unique_ptr<Daemon> daemon_state;

std::unique_ptr<tls::ClientContext> tls_context(const config::Config& cfg, const smtp::Settings& s) {
  if (s.tls_level == tls::SecurityLevel::none && cfg.get_list("smtp_tls_policy_maps").empty()) return nullptr;
  tls::ClientSettings ts;
  ts.ca_file = cfg.get("smtp_tls_CAfile");
  ts.ca_path = cfg.get("smtp_tls_CApath");
  ts.cert_file = cfg.get("smtp_tls_cert_file");
  ts.key_file = cfg.get("smtp_tls_key_file");
  ts.protocols = cfg.get("smtp_tls_protocols");
  ts.mandatory_protocols = cfg.get("smtp_tls_mandatory_protocols");
  ts.ciphers = cfg.get("smtp_tls_ciphers");
  ts.mandatory_ciphers = cfg.get("smtp_tls_mandatory_ciphers");
  auto ctx = tls::ClientContext::create(ts);
  if (!ctx) throw std::runtime_error("smtp TLS: " + ctx.error().detail);
  return std::make_unique<tls::ClientContext>(std::move(*ctx));
}

void arm_cache_timer() {
  auto next = daemon_state->agent->expire_cache();
  if (next) daemon_state->cache_timer->start(*next);
  else daemon_state->cache_timer->cancel();
}

void pre_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  auto d = std::make_unique<Daemon>();
  d->tls = tls_context(cfg, smtp::Settings::from_config(cfg, ctx.args().service_name));
  d->tables = smtp::Tables::open(cfg);
  daemon_state = std::move(d);
}

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  const std::string service = ctx.args().service_name.empty() ? "smtp" : ctx.args().service_name;
  Daemon* d = daemon_state.get();
  smtp::Settings settings = smtp::Settings::from_config(cfg, service);
  d->resolver = std::make_unique<dns::Resolver>(dns::config_from_main_cf(cfg));
  dns::Resolver* resolver = d->resolver.get();
  smtp::Lookup lookup = [resolver](std::string_view name, dns::RrType type) { return resolver->query(name, type); };
  const smtp::Millis connect_timeout = settings.connect_timeout;
  const std::string bind4 = settings.bind_address, bind6 = settings.bind_address6;
  smtp::Connector connect = [=](const dns::Address& a, unsigned port) -> Result<std::unique_ptr<smtp::Transport>> {
    auto t = smtp::connect_tcp(a, port, a.family() == AF_INET6 ? bind6 : bind4, connect_timeout);
    if (!t) return t.error();
    return std::unique_ptr<smtp::Transport>(std::move(*t));
  };
  d->agent = std::make_unique<smtp::Agent>(std::move(settings), std::move(lookup), std::move(connect),
                                           std::move(d->tls), std::move(*d->tables), queue::Spool("."));
  d->cache_timer = std::make_unique<event::Timer>(ctx.loop(), [] { arm_cache_timer(); });
  ipc::ServerOptions o;
  o.protocol = deliver::kProtocol;
  o.idle_timeout = std::chrono::seconds(cfg.get_time("ipc_timeout"));
  d->server = std::make_unique<ipc::Server>(ctx.loop(), o);
  d->server->handle<deliver::Request>([](deliver::Request req, ipc::Replier r) {
    r.reply(daemon_state->agent->handle(req));
    arm_cache_timer();
  });
  std::atexit([] {
    if (daemon_state && daemon_state->agent) daemon_state->agent->close_cache();
  });
}

void on_accept(service::Context&, event::Accepted a, service::Job job) {
  // The connection's Job keeps the process busy until qmgr closes it.
  auto held = std::make_shared<service::Job>(std::move(job));
  daemon_state->server->adopt(std::move(a.fd), [held] { held->end(); });
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "smtp";
  p.pre_drop = pre_drop;
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  p.single_job = true;
  p.on_exit = [](service::Context&) { daemon_state.reset(); };
  return service::run(p, argc, argv);
}
