// smtpd - the SMTP server.
// Does:       one event loop serves many SMTP sessions (smtpd/session.h is
//             the protocol engine); each accepted message goes through
//             lib/cleanup into incoming/, and 250 is sent only after the
//             queue file is durable.
//             STARTTLS and implicit TLS (smtpd/tls_setup.h), AUTH with
//             the password checked by the auth service.
// Talks to:   master (status, through lib/service), SMTP clients on the
//             listening sockets master passes, auth (private/auth, lib/auth
//             client: asynchronous, with a timer), qmgr (public/qmgr: a
//             wakeup notice after each accepted message).
// Runs as:    mail owner (master.cf unprivileged), optionally chrooted to the
//             queue directory; the spool is reached relative to it. TLS keys
//             are loaded before the privilege drop.
// Trusts:     nothing from clients: lines and messages are bounded
//             (line_length_limit, message_size_limit), every wait has
//             smtpd_timeout (the handshake smtpd_starttls_timeout); relay
//             only to mydestination, from mynetworks, or after AUTH where
//             smtpd_relay_restrictions says permit_sasl_authenticated.
// Not yet:    the queue file is written synchronously in the loop (one fsync
//             per message holds the other sessions that long); no
//             restriction lists or client name lookup (clients are
//             "unknown[addr]").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>

#include "lib/auth/client.h"
#include "lib/base/strings.h"
#include "lib/cleanup/cleanup.h"
#include "lib/event/connection.h"
#include "lib/log/log.h"
#include "lib/queue/spool.h"
#include "lib/queue/trigger.h"
#include "lib/service/service.h"
#include "lib/tls/session.h"
#include "smtpd/networks.h"
#include "smtpd/qmgr_wakeup.h"
#include "smtpd/session.h"
#include "smtpd/tls_setup.h"

namespace {

using namespace posthorn;

// What every session shares; built once after the privilege drop.
struct Shared {
  smtpd::Settings base;
  std::vector<smtpd::Network> mynetworks;
  cleanup::CleanupSettings cleanup;
  queue::Spool spool{"."};  // the skeleton chdirs (or chroots) to queue_directory
  std::chrono::seconds timeout{300};
  std::chrono::seconds starttls_timeout{300};
  bool tls_received_header = false;          // smtpd_tls_received_header
  std::string service;                       // master.cf's name, for the auth log
  std::string sasl_local_domain;             // smtpd_sasl_local_domain
  std::unique_ptr<auth::Client> auth;        // when AUTH is enabled
  std::unique_ptr<smtpd::QmgrWakeup> qmgr;
};
std::unique_ptr<Shared> shared;
// Loaded while still root (keys), before Shared exists.
std::unique_ptr<smtpd::TlsSetup> tls_setup;

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

cleanup::CleanupSettings cleanup_settings(const std::string& tls_info) {
  cleanup::CleanupSettings s = shared->cleanup;
  if (shared->tls_received_header) s.tls_info = tls_info;
  return s;
}

// A message on its way into the queue through cleanup.
class QueuedMessage : public smtpd::Message {
 public:
  QueuedMessage(const queue::Envelope& env, const std::string& tls_info, std::string sasl_method)
      : cleanup_(cleanup_settings(tls_info), env), sasl_method_(std::move(sasl_method)) {}
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
    // Postfix's shape, so that log tools count authenticated senders.
    std::string sasl;
    if (!c.sasl_user.empty())
      sasl = cat(", sasl_method=", sasl_method_, ", sasl_username=", printable(c.sasl_user));
    log::info(id->str(), ": client=", c.name, "[", c.addr, "]", sasl);
    if (!cleanup_.message_id().empty()) log::info(id->str(), ": message-id=", cleanup_.message_id());
    shared->qmgr->wake();
    return {250, "2.0.0", cat("Ok: queued as ", id->str())};
  }

 private:
  cleanup::Cleanup cleanup_;
  std::string sasl_method_;
};

class QueueSink : public smtpd::Sink {
 public:
  std::string tls_info;     // "TLSv1.3 with cipher ..." once TLS is up
  std::string sasl_method;  // of the session's AUTH
  std::unique_ptr<smtpd::Message> open(const queue::Envelope& env) override {
    return std::make_unique<QueuedMessage>(env, tls_info, sasl_method);
  }
  // Postfix's shape: "NOQUEUE: reject: 554 5.7.1 ...; from=<a> proto=ESMTP helo=<c>".
  void refused(const smtpd::Reply& r, const queue::Envelope& env) override {
    log::info("NOQUEUE: reject: ", env.client.name, "[", env.client.addr, "]: ", r.code, " ",
              r.enhanced, " ", printable(r.text), "; from=<", printable(env.sender), "> proto=",
              env.client.protocol, " helo=<", printable(env.client.helo), ">");
  }
};

// One SMTP client connection: the socket, the protocol engine, and the
// owner's side of STARTTLS and AUTH.
struct Client : smtpd::Security {
  std::string label;  // "name[addr]" for the log
  std::string addr;
  std::unique_ptr<event::Connection> conn;
  QueueSink sink;
  std::unique_ptr<smtpd::Session> session;
  service::Job job;
  bool tls_requested = false;  // STARTTLS answered; the handshake starts after this read
  bool tls_up = false;         // a handshake has completed
  std::shared_ptr<int> alive = std::make_shared<int>(0);  // for late auth answers

  void start_tls() override { tls_requested = true; }
  void check_password(const smtpd::AuthRequest& r) override;
  void tls_ready();
};
std::map<Client*, std::unique_ptr<Client>> clients;

// What the session wants once it has acted on input (read, or held behind
// a password check): the end, a pause for the auth service, the handshake,
// or more input.
void after_input(Client* c) {
  if (c->session->finished()) return c->conn->close_after_flush();
  if (c->session->waiting()) return c->conn->pause_reading();  // until auth answers
  if (c->tls_requested && c->session->tls_pending()) {
    // RFC 3207 4.2: start_tls() drops the plaintext still unread.
    c->tls_requested = false;
    c->conn->set_idle_timeout(shared->starttls_timeout);
    c->conn->start_tls(tls_setup->context->new_ssl(), event::TlsRole::server);
  }
  // Also after a STARTTLS that waited behind a password check (reading was
  // paused for it). Input that waited is delivered from the loop.
  c->conn->resume_reading();
}

void on_read(Client* c) {
  for (;;) {
    const std::size_t n = c->conn->input_size();
    if (n == 0 || c->session->finished() || c->session->tls_pending() || c->session->waiting())
      break;
    c->session->feed(c->conn->peek(n));
    c->conn->drain(n);
  }
  after_input(c);
}

// The handshake is done (after STARTTLS, or at once in wrapper mode).
void Client::tls_ready() {
  tls_up = true;
  tls::SessionInfo info = tls::session_info(conn->ssl());
  log::info(tls::connection_established(info, "from", label));
  sink.tls_info = tls::cipher_summary(info);
  conn->set_idle_timeout(shared->timeout);
  if (session->tls_pending()) session->tls_started();
}

smtpd::AuthOutcome outcome_of(const Result<auth::Checked>& r) {
  if (!r || r->temporary) return {smtpd::AuthOutcome::temporary, {}};
  if (!r->ok) return {smtpd::AuthOutcome::failed, {}};
  return {smtpd::AuthOutcome::ok, r->login};
}

void Client::check_password(const smtpd::AuthRequest& r) {
  auth::Check req;
  req.login = r.credentials.login;
  if (!shared->sasl_local_domain.empty() && req.login.find('@') == std::string::npos)
    req.login += "@" + shared->sasl_local_domain;
  req.password = r.credentials.password;
  req.service = shared->service;
  req.client_addr = addr;
  std::weak_ptr<int> guard = alive;
  shared->auth->check(req, [this, guard, mech = r.mechanism](Result<auth::Checked> res) {
    if (guard.expired()) return;  // the client has gone
    smtpd::AuthOutcome o = outcome_of(res);
    // Postfix's wording, which fail2ban's postfix-sasl filter matches.
    if (o.kind == smtpd::AuthOutcome::failed)
      log::warn(label, ": SASL ", mech, " authentication failed: authentication failure");
    if (o.kind == smtpd::AuthOutcome::temporary)
      log::warn(label, ": SASL ", mech, " authentication aborted: ",
                res ? std::string("the auth service could not check") : res.error().detail);
    sink.sasl_method = o.kind == smtpd::AuthOutcome::ok ? mech : "";
    session->auth_checked(o);  // also acts on the input that waited
    after_input(this);
  });
}

void on_close(Client* c, const Error& e) {
  if (e.code == Errc::timeout) log::info("timeout after ", c->label);
  const bool handshaking = c->session->tls_pending() || (tls_setup->wrappermode && !c->tls_up);
  if (handshaking && e.code != Errc::timeout)
    log::info("SSL_accept error from ", c->label, ": ", e.detail);
  log::info("disconnect from ", c->label, " messages=", c->session->messages(),
            " errors=", c->session->errors());
  clients.erase(c);  // ends the Job: the process may become idle
}

std::unique_ptr<event::Connection> open_connection(service::Context& ctx, Fd fd) {
  event::ConnectionOptions o;
  o.idle_timeout = shared->timeout;
  if (!tls_setup->wrappermode) return event::Connection::plain(ctx.loop(), std::move(fd), o);
  o.idle_timeout = shared->starttls_timeout;  // until the handshake is done
  return event::Connection::tls(ctx.loop(), std::move(fd), tls_setup->context->new_ssl(),
                                event::TlsRole::server, o);
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  auto c = std::make_unique<Client>();
  smtpd::Settings s = shared->base;
  s.client_addr = peer_address(a.peer);
  s.client_trusted = s.client_trusted && smtpd::in_networks(shared->mynetworks, s.client_addr);
  c->addr = s.client_addr;
  c->label = cat(s.client_name, "[", s.client_addr, "]");
  c->conn = open_connection(ctx, std::move(a.fd));
  c->job = std::move(job);
  Client* raw = c.get();
  c->session = std::make_unique<smtpd::Session>(
      std::move(s), c->sink, [raw](std::string_view bytes) { raw->conn->write(bytes); }, raw);
  raw->conn->on_read([raw] { on_read(raw); });
  raw->conn->on_close([raw](const Error& e) { on_close(raw, e); });
  raw->conn->on_tls_ready([raw] { raw->tls_ready(); });
  log::info("connect from ", raw->label);
  clients[raw] = std::move(c);
  // In wrapper mode the greeting waits in the TLS layer until the handshake.
  raw->session->start();
}

void pre_drop(service::Context& ctx) {
  auto t = smtpd::tls_setup(ctx.config(), ctx.args().service_name);
  if (!t) throw std::runtime_error(t.error().detail);
  tls_setup = std::make_unique<smtpd::TlsSetup>(std::move(*t));
}

// The relay decisions the minimal relay control knows of
// smtpd_relay_restrictions (the restriction engine is still to come).
bool relay_list_has(const config::Config& cfg, std::string_view word) {
  for (const std::string& w : cfg.get_list("smtpd_relay_restrictions"))
    if (iequals(w, word)) return true;
  return false;
}

// AUTH mechanisms offered without TLS and under TLS: PLAIN and LOGIN send the
// password itself, so "noplaintext" in the security options removes both;
// smtpd_tls_auth_only removes them before TLS. Without a usable certificate
// there is no "under TLS".
void auth_settings(const config::Config& cfg, smtpd::Settings& s) {
  if (!cfg.get_bool("smtpd_sasl_auth_enable")) return;
  auto plaintext_ok = [&](const char* param) {
    for (const std::string& o : cfg.get_list(param))
      if (iequals(o, "noplaintext")) return false;
    return true;
  };
  const std::vector<std::string> mechs = {"PLAIN", "LOGIN"};
  if (!cfg.get_bool("smtpd_tls_auth_only") && !tls_setup->wrappermode &&
      plaintext_ok("smtpd_sasl_security_options"))
    s.auth_mechanisms_plain = mechs;
  if (tls_setup->usable() && plaintext_ok("smtpd_sasl_tls_security_options"))
    s.auth_mechanisms_tls = mechs;
  if (s.auth_mechanisms_plain.empty() && s.auth_mechanisms_tls.empty())
    log::warn("smtpd_sasl_auth_enable = yes, but no mechanism can be offered: ",
              tls_setup->usable() ? "the security options exclude PLAIN and LOGIN"
                                  : "AUTH needs TLS (smtpd_tls_auth_only) and TLS is off");
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
  // TLS and AUTH.
  sh->starttls_timeout = std::chrono::seconds(cfg.get_time("smtpd_starttls_timeout"));
  sh->tls_received_header = cfg.get_bool("smtpd_tls_received_header");
  s.tls_offered = tls_setup->offered();
  s.tls_required = tls_setup->required();
  s.tls_wrapped = tls_setup->wrappermode;
  s.client_trusted = relay_list_has(cfg, "permit_mynetworks");  // and in mynetworks: on_accept
  s.relay_authenticated = relay_list_has(cfg, "permit_sasl_authenticated");
  auth_settings(cfg, s);
  sh->service = ctx.args().service_name.empty() ? "smtpd" : ctx.args().service_name;
  sh->sasl_local_domain = cfg.get("smtpd_sasl_local_domain");
  if (!s.auth_mechanisms_plain.empty() || !s.auth_mechanisms_tls.empty())
    sh->auth = std::make_unique<auth::Client>(
        ctx.loop(), auth::service_socket(cfg.get("smtpd_sasl_path")),
        std::chrono::seconds(cfg.get_time("smtpd_sasl_check_timeout")));
  sh->qmgr = std::make_unique<smtpd::QmgrWakeup>(ctx.loop(), queue::qmgr_socket(sh->spool),
                                                 ctx.args().verbose > 0);
  shared = std::move(sh);
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "smtpd";
  p.pre_drop = pre_drop;
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  return service::run(p, argc, argv);
}
