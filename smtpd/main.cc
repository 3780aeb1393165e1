// smtpd - the SMTP server.
// Does:       one event loop serves many SMTP sessions (smtpd/session.h is
//             the protocol engine); each accepted message goes through
//             lib/cleanup into incoming/, and 250 is sent only after the
//             queue file is durable.
// Talks to:   master (status, through lib/service), SMTP clients on the
//             listening sockets master passes.
// Runs as:    mail owner (master.cf unprivileged), optionally chrooted to the
//             queue directory; the spool is reached relative to it.
// Trusts:     nothing from clients: lines and messages are bounded
//             (line_length_limit, message_size_limit), every wait has
//             smtpd_timeout; relay only to mydestination or from mynetworks.
// Not yet:    the queue file is written synchronously in the loop (one fsync
//             per message holds the other sessions that long); no STARTTLS,
//             AUTH, restriction lists or client name lookup (clients are
//             "unknown[addr]").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/cleanup/cleanup.h"
#include "lib/event/connection.h"
#include "lib/log/log.h"
#include "lib/queue/spool.h"
#include "lib/service/service.h"
#include "smtpd/networks.h"
#include "smtpd/session.h"

namespace {

using namespace posthorn;

// What every session shares; built once after the privilege drop.
struct Shared {
  smtpd::Settings base;
  std::vector<smtpd::Network> mynetworks;
  cleanup::CleanupSettings cleanup;
  queue::Spool spool{"."};  // the skeleton chdirs (or chroots) to queue_directory
  std::chrono::seconds timeout{300};
};
std::unique_ptr<Shared> shared;

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

// A message on its way into the queue through cleanup.
class QueuedMessage : public smtpd::Message {
 public:
  explicit QueuedMessage(const queue::Envelope& env) : cleanup_(shared->cleanup, env) {}
  void feed(std::string_view bytes) override { cleanup_.feed(bytes); }
  smtpd::Reply commit() override {
    const queue::ClientInfo& c = cleanup_.envelope().client;
    auto id = cleanup_.commit(shared->spool);
    if (!id) {
      log::warn("reject: ", c.name, "[", c.addr, "]: ", cleanup::status_name(cleanup_.status()),
                ": ", id.error().detail);
      const cleanup::Reply r = cleanup::smtp_reply(cleanup_.status());
      return {r.code, std::string(r.enhanced), std::string(r.text)};
    }
    log::info(id->str(), ": client=", c.name, "[", c.addr, "]");
    if (!cleanup_.message_id().empty()) log::info(id->str(), ": message-id=", cleanup_.message_id());
    return {250, "2.0.0", cat("Ok: queued as ", id->str())};
  }

 private:
  cleanup::Cleanup cleanup_;
};

class QueueSink : public smtpd::Sink {
 public:
  std::unique_ptr<smtpd::Message> open(const queue::Envelope& env) override {
    return std::make_unique<QueuedMessage>(env);
  }
  // Postfix's shape: "NOQUEUE: reject: 554 5.7.1 ...; from=<a> proto=ESMTP helo=<c>".
  void refused(const smtpd::Reply& r, const queue::Envelope& env) override {
    log::info("NOQUEUE: reject: ", env.client.name, "[", env.client.addr, "]: ", r.code, " ",
              r.enhanced, " ", printable(r.text), "; from=<", printable(env.sender), "> proto=",
              env.client.protocol, " helo=<", printable(env.client.helo), ">");
  }
};

struct Client {
  std::string label;  // "name[addr]" for the log
  std::unique_ptr<event::Connection> conn;
  QueueSink sink;
  std::unique_ptr<smtpd::Session> session;
  service::Job job;
};
std::map<Client*, std::unique_ptr<Client>> clients;

void on_read(Client* c) {
  for (;;) {
    const std::size_t n = c->conn->input_size();
    if (n == 0 || c->session->finished()) break;
    c->session->feed(c->conn->peek(n));
    c->conn->drain(n);
  }
  if (c->session->finished()) c->conn->close_after_flush();
}

void on_close(Client* c, const Error& e) {
  if (e.code == Errc::timeout) log::info("timeout after ", c->label);
  log::info("disconnect from ", c->label, " messages=", c->session->messages(),
            " errors=", c->session->errors());
  clients.erase(c);  // ends the Job: the process may become idle
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  auto c = std::make_unique<Client>();
  smtpd::Settings s = shared->base;
  s.client_addr = peer_address(a.peer);
  s.client_trusted = smtpd::in_networks(shared->mynetworks, s.client_addr);
  c->label = cat(s.client_name, "[", s.client_addr, "]");
  event::ConnectionOptions o;
  o.idle_timeout = shared->timeout;
  c->conn = event::Connection::plain(ctx.loop(), std::move(a.fd), o);
  c->job = std::move(job);
  Client* raw = c.get();
  c->session = std::make_unique<smtpd::Session>(
      std::move(s), c->sink, [raw](std::string_view bytes) { raw->conn->write(bytes); });
  raw->conn->on_read([raw] { on_read(raw); });
  raw->conn->on_close([raw](const Error& e) { on_close(raw, e); });
  log::info("connect from ", raw->label);
  clients[raw] = std::move(c);
  raw->session->start();
}

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  auto sh = std::make_unique<Shared>();
  smtpd::Settings& s = sh->base;
  s.myhostname = cfg.get("myhostname");
  s.banner = cfg.get("smtpd_banner");
  s.message_size_limit = static_cast<std::uint64_t>(cfg.get_size("message_size_limit"));
  s.recipient_limit = static_cast<std::size_t>(cfg.get_int("smtpd_recipient_limit"));
  s.hard_error_limit = static_cast<std::size_t>(cfg.get_int("smtpd_hard_error_limit"));
  s.disable_vrfy = cfg.get_bool("disable_vrfy_command");
  s.helo_required = cfg.get_bool("smtpd_helo_required");
  s.max_line = static_cast<std::size_t>(cfg.get_size("line_length_limit"));
  for (const std::string& d : cfg.get_list("mydestination")) s.mydestination.push_back(to_lower(d));
  auto nets = smtpd::parse_networks(cfg.get_list("mynetworks"));
  if (!nets) throw std::runtime_error(nets.error().detail);
  sh->mynetworks = std::move(*nets);
  sh->cleanup = cleanup::CleanupSettings::from_config(cfg);
  sh->cleanup.origin = cleanup::Origin::smtp;
  sh->timeout = std::chrono::seconds(cfg.get_time("smtpd_timeout"));
  shared = std::move(sh);
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "smtpd";
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  return service::run(p, argc, argv);
}
