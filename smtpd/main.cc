// smtpd - the SMTP server.
// Does:       one event loop serves many SMTP sessions (smtpd/session.h is
//             the protocol engine); each accepted message goes through
//             lib/cleanup into incoming/, and 250 is sent only after the
//             queue file is durable. The durable write (two fsyncs) runs on
//             smtpd_commit_threads writer threads (lib/event/worker_pool.h), so
//             one session's fsync never holds the others; the session waits
//             for it, reading nothing, as it waits for a password check.
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
//             (line_length_limit, message_size_limit, header_size_limit);
//             time limits (answered "421 4.4.2 ... Error: timeout exceeded"):
//             smtpd_timeout for each command line (a deadline for the whole
//             line, not per read) and for each read of message content,
//             smtpd_data_timeout for a whole message's content, the
//             handshake smtpd_starttls_timeout, a client that reads none of
//             our output is dropped after twice smtpd_timeout; per client
//             (smtpd/client_limits.h, counted per process)
//             smtpd_client_connection_count_limit and
//             smtpd_client_connection_rate_limit; after
//             smtpd_soft_error_limit errors replies wait
//             smtpd_error_sleep_time (a timer; the loop goes on); relay
//             and recipients as the restriction lists say
//             (smtpd/restrictions.h, asked through smtpd/policy_service.h;
//             DNS lookups never block the loop). The client's name is its
//             forward-confirmed PTR name (smtpd/peername.h), looked up
//             before the greeting unless smtpd_peername_lookup = no.
//             The queue write itself has no timer: it is the local disk, and
//             a write that has started cannot be taken back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "lib/auth/client.h"
#include "lib/base/strings.h"
#include "lib/cleanup/cleanup.h"
#include "lib/event/connection.h"
#include "lib/log/log.h"
#include "lib/event/worker_pool.h"
#include "lib/queue/spool.h"
#include "lib/queue/trigger.h"
#include "lib/service/service.h"
#include "lib/tls/session.h"
#include "smtpd/client_limits.h"
#include "smtpd/networks.h"
#include "smtpd/peername.h"
#include "smtpd/policy_service.h"
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
  std::chrono::seconds timeout{300};       // smtpd_timeout
  std::chrono::seconds data_timeout{1800}; // smtpd_data_timeout
  std::chrono::seconds starttls_timeout{300};
  std::size_t soft_error_limit = 10;       // smtpd_soft_error_limit
  std::chrono::milliseconds error_sleep{1000};  // smtpd_error_sleep_time
  bool tls_received_header = false;          // smtpd_tls_received_header
  std::string service;                       // master.cf's name, for the auth log
  std::string sasl_local_domain;             // smtpd_sasl_local_domain
  std::unique_ptr<auth::Client> auth;        // when AUTH is enabled
  std::unique_ptr<smtpd::QmgrWakeup> qmgr;
  std::unique_ptr<smtpd::ClientLimits> limits;
  service::Context* ctx = nullptr;
  std::unique_ptr<smtpd::PolicyService> policy;
  bool retiring = false;                      // a table changed
  bool peername_lookup = true;                // smtpd_peername_lookup
  std::vector<smtpd::Network> sasl_exceptions;  // smtpd_sasl_exceptions_networks
  // Last: destroyed first, so its threads finish every write they started
  // while the rest is still there.
  std::unique_ptr<event::WorkerPool> commits;
};
std::unique_ptr<Shared> shared;
// Loaded while still root (keys), before Shared exists.
std::unique_ptr<smtpd::TlsSetup> tls_setup;
// Read before the drop (a chroot hides /etc): client names come from it
// first (smtpd/peername.h).
std::unique_ptr<dns::HostsFile> hosts_file;

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

// A message being stored: what the writer thread and the loop share.
struct Store {
  Store(cleanup::Cleanup c, std::string method, service::Job j)
      : cleanup(std::move(c)), sasl_method(std::move(method)), job(std::move(j)) {}
  cleanup::Cleanup cleanup;
  std::string sasl_method;
  std::optional<Result<queue::QueueId>> id;  // set by the writer thread
  service::Job job;  // the process does not retire before the store is logged
};

smtpd::Reply refusal(const cleanup::Cleanup& c, const Error& e) {
  const queue::ClientInfo& client = c.envelope().client;
  log::warn("reject: ", client.name, "[", client.addr, "]: ", cleanup::status_name(c.status()),
            ": ", e.detail);
  const cleanup::Reply r = cleanup::smtp_reply(c.status());
  return {r.code, std::string(r.enhanced), std::string(r.text)};
}

// On the loop once the writer is done: the log lines and qmgr's wake-up
// (whether or not the client is still there to hear the reply).
smtpd::Reply stored(Store& st) {
  if (!*st.id) return refusal(st.cleanup, st.id->error());
  const queue::QueueId& id = **st.id;
  const queue::ClientInfo& c = st.cleanup.envelope().client;
  // Postfix's shape, so that log tools count authenticated senders.
  std::string sasl;
  if (!c.sasl_user.empty())
    sasl = cat(", sasl_method=", st.sasl_method, ", sasl_username=", printable(c.sasl_user));
  log::info(id.str(), ": client=", c.name, "[", c.addr, "]", sasl);
  if (!st.cleanup.message_id().empty())
    log::info(id.str(), ": message-id=", st.cleanup.message_id());
  shared->qmgr->wake();
  return {250, "2.0.0", cat("Ok: queued as ", id.str())};
}

// A message on its way into the queue through cleanup. The content stays in
// the Cleanup's memory (bounded by message_size_limit, one message per
// session at a time) until the writer thread has put it on disk.
class QueuedMessage : public smtpd::Message {
 public:
  QueuedMessage(const queue::Envelope& env, const std::string& tls_info, std::string sasl_method,
                std::function<void()> resumed)
      : cleanup_(cleanup_settings(tls_info), env), sasl_method_(std::move(sasl_method)),
        resumed_(std::move(resumed)) {}
  void feed(std::string_view bytes) override { cleanup_.feed(bytes); }
  void commit(Done done) override;

 private:
  cleanup::Cleanup cleanup_;
  std::string sasl_method_;
  std::function<void()> resumed_;  // the owner's: the session has answered
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for a store that ends after us
};

// Header checks and completion run here (they may log); only the write,
// which logs nothing, goes to a writer thread.
void QueuedMessage::commit(Done done) {
  if (auto f = cleanup_.finish(); !f) return done(refusal(cleanup_, f.error()));
  auto st = std::make_shared<Store>(std::move(cleanup_), sasl_method_, shared->ctx->begin_job());
  std::weak_ptr<int> guard = alive_;
  shared->commits->submit(
      [st, spool = shared->spool] { st->id = st->cleanup.commit(spool); },
      [st, guard, done = std::move(done), resumed = resumed_] {
        smtpd::Reply r = stored(*st);
        if (guard.expired()) {
          if (*st->id) log::info((*st->id)->str(), ": client gone before the reply");
          return;
        }
        done(std::move(r));  // may destroy this QueuedMessage
        resumed();
      });
}

class QueueSink : public smtpd::Sink {
 public:
  std::string tls_info;     // "TLSv1.3 with cipher ..." once TLS is up
  std::string sasl_method;  // of the session's AUTH
  std::function<void()> resumed;  // after a store answered
  std::unique_ptr<smtpd::Message> open(const queue::Envelope& env) override {
    return std::make_unique<QueuedMessage>(env, tls_info, sasl_method, resumed);
  }
  // Postfix's shape, which log tools (fail2ban, pflogsumm) match:
  // "NOQUEUE: reject: RCPT from name[addr]: 554 5.7.1 ...; from=<a> to=<b>
  // proto=ESMTP helo=<c>".
  void refused(const smtpd::Reply& r, const queue::Envelope& env, std::string_view command,
               std::string_view recipient) override {
    log::info("NOQUEUE: reject: ", command, " from ", env.client.name, "[", env.client.addr, "]: ",
              r.code, " ", r.enhanced, " ", printable(r.text), "; from=<", printable(env.sender), ">",
              recipient.empty() ? "" : cat(" to=<", printable(recipient), ">"), " proto=",
              env.client.protocol, " helo=<", printable(env.client.helo), ">");
  }
};

// One SMTP client connection: the socket, the protocol engine, the
// owner's side of STARTTLS and AUTH, and the client's timers.
struct Client : smtpd::Security {
  explicit Client(event::EventBase& loop)
      : idle(loop, [this] { timed_out(); }), data(loop, [this] { timed_out(); }),
        pause(loop, [this] { end_pause(); }) {}
  std::string label;  // "name[addr]" for the log
  std::string addr;
  smtpd::ClientLimits::Slot slot;  // this session in the client's count
  std::unique_ptr<event::Connection> conn;
  QueueSink sink;
  std::unique_ptr<smtpd::Session> session;  // null until the client's name is known
  std::unique_ptr<smtpd::SessionPolicy> policy;
  std::unique_ptr<smtpd::PeerName> peer;
  service::Job job;
  bool tls_requested = false;  // STARTTLS answered; the handshake starts after this read
  bool tls_up = false;         // a handshake has completed
  bool handshaking = false;    // a handshake is running (smtpd_starttls_timeout)
  std::shared_ptr<int> alive = std::make_shared<int>(0);  // for late auth answers
  // smtpd_timeout: the next complete command, or the next content read
  // (restarted when Session::progress() moves); smtpd_data_timeout: the
  // whole content; smtpd_error_sleep_time: replies held back in `held`.
  event::Timer idle, data, pause;
  std::uint64_t seen_progress = 0;
  std::string held;

  void start_tls() override { tls_requested = true; }
  void check_password(const smtpd::AuthRequest& r) override;
  void tls_ready();
  void send(std::string_view bytes);
  void timed_out();
  void end_pause();
};
std::map<Client*, std::unique_ptr<Client>> clients;

// Arms or stops the client's timers for the state the session is in. No
// timer runs while we wait (auth service, queue write, handshake: those
// have their own or none) or once the session has ended.
void watch(Client* c) {
  if (!c->session) return;  // the name lookup has its own time limit
  const smtpd::Session& s = *c->session;
  if (s.finished() || s.waiting() || s.tls_pending() || c->handshaking) {
    c->idle.cancel();
  } else if (s.progress() != c->seen_progress || !c->idle.pending()) {
    c->seen_progress = s.progress();
    c->idle.start(shared->timeout);
  }
  if (s.receiving() && !s.finished()) {
    if (!c->data.pending()) c->data.start(shared->data_timeout);
  } else {
    c->data.cancel();
  }
}

// What the session wants once it has acted on input (read, or held behind
// a password check): the end, a pause for the auth service, the handshake,
// or more input.
void after_input(Client* c) {
  if (!c->session || c->pause.pending()) return;  // end_pause() comes back here
  watch(c);
  if (c->session->finished()) return c->conn->close_after_flush();
  if (c->session->waiting()) return c->conn->pause_reading();  // until auth or the store answers
  if (c->tls_requested && c->session->tls_pending()) {
    // RFC 3207 4.2: start_tls() drops the plaintext still unread.
    c->tls_requested = false;
    c->handshaking = true;
    watch(c);
    c->conn->set_idle_timeout(shared->starttls_timeout);
    c->conn->start_tls(tls_setup->context->new_ssl(), event::TlsRole::server);
  }
  // Also after a STARTTLS that waited behind a password check (reading was
  // paused for it). Input that waited is delivered from the loop.
  c->conn->resume_reading();
}

void on_read(Client* c) {
  if (!c->session) return;  // the name lookup is out; input waits in the buffer
  for (;;) {
    const std::size_t n = c->conn->input_size();
    if (n == 0 || c->session->finished() || c->session->tls_pending() ||
        c->session->waiting() || c->pause.pending())
      break;
    c->session->feed(c->conn->peek(n));
    c->conn->drain(n);
  }
  after_input(c);
}

// The handshake is done (after STARTTLS, or at once in wrapper mode).
// A client that reads none of our replies is dropped after twice
// smtpd_timeout; the idle timer (one smtpd_timeout) fires first for every
// wait for the client's input, so the 421 can still be sent.
std::chrono::milliseconds backstop() { return 2 * shared->timeout; }

void Client::tls_ready() {
  tls_up = true;
  handshaking = false;
  tls::SessionInfo info = tls::session_info(conn->ssl());
  log::info(tls::connection_established(info, "from", label));
  sink.tls_info = tls::cipher_summary(info);
  conn->set_idle_timeout(backstop());
  if (session && session->tls_pending()) session->tls_started();  // no session: the name lookup is out
  watch(this);
}

// Postfix's smtpd_soft_error_limit: once the client has made that many
// errors, every reply waits smtpd_error_sleep_time, and input waits with it.
void Client::send(std::string_view bytes) {
  const bool slow = shared->soft_error_limit > 0 && shared->error_sleep.count() > 0 &&
                    session->errors() >= shared->soft_error_limit;
  if (!slow && !pause.pending()) return conn->write(bytes);
  held.append(bytes);
  if (pause.pending()) return;
  conn->pause_reading();
  pause.start(shared->error_sleep);
}

void Client::end_pause() {
  conn->write(held);
  held.clear();
  after_input(this);
}

// Postfix's log line: "timeout after DATA (1234 bytes) from host[addr]".
void Client::timed_out() {
  log::info("timeout after ", session->state_name(), " from ", label);
  idle.cancel();
  data.cancel();
  session->timeout();
  after_input(this);
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
  const smtpd::Session* s = c->session.get();  // null: the name lookup was out
  if (e.code == Errc::timeout)
    log::info("timeout after ", s ? s->state_name() : "CONNECT", " from ", c->label);
  const bool handshaking = (s && s->tls_pending()) || (tls_setup->wrappermode && !c->tls_up);
  if (handshaking && e.code != Errc::timeout)
    log::info("SSL_accept error from ", c->label, ": ", e.detail);
  log::info("disconnect from ", c->label, " messages=", s ? s->messages() : 0,
            " errors=", s ? s->errors() : 0);
  clients.erase(c);  // ends the Job: the process may become idle
  // New table contents take a new process, as with Postfix; the sessions
  // still open finish with the old ones.
  if (shared->retiring) return;
  if (const std::string t = shared->policy->changed_table(); !t.empty()) {
    const std::string why = cat("table ", t, " has changed -- restarting");
    log::info(why);
    shared->retiring = true;
    shared->ctx->retire(why);
  }
}

std::unique_ptr<event::Connection> open_connection(service::Context& ctx, Fd fd) {
  event::ConnectionOptions o;
  o.idle_timeout = backstop();
  if (!tls_setup->wrappermode) return event::Connection::plain(ctx.loop(), std::move(fd), o);
  o.idle_timeout = shared->starttls_timeout;  // until the handshake is done
  return event::Connection::tls(ctx.loop(), std::move(fd), tls_setup->context->new_ssl(),
                                event::TlsRole::server, o);
}

// "421 4.7.0 host Error: too many connections from addr" in place of the
// greeting (Postfix's words and log line), then the end of the session.
void refuse_connection(Client* c, const smtpd::ClientLimits::Admission& a) {
  const bool count = a.verdict == smtpd::ClientLimits::Verdict::too_many;
  log::warn(count ? "Connection concurrency limit exceeded: " : "Connection rate limit exceeded: ",
            a.count, " from ", c->label, " for service ", shared->service);
  c->conn->write(smtpd::format_reply(
      421, "4.7.0", cat(shared->base.myhostname, " Error: too many connections from ", c->addr)));
  c->conn->close_after_flush();
}

// The client's name is known (or not looked up): the session begins.
void begin_session(Client* c, const smtpd::ClientIdentity& id) {
  c->peer.reset();
  smtpd::Settings s = shared->base;
  s.client_addr = id.addr;
  s.client_name = id.name;
  s.client_reverse_name = id.reverse_name;
  s.client_name_tempfail = id.name_tempfail;
  if (smtpd::in_networks(shared->sasl_exceptions, id.addr)) {
    s.auth_mechanisms_plain.clear();
    s.auth_mechanisms_tls.clear();
  }
  if (id.reverse_name != "unknown" && id.name == "unknown")
    log::warn("hostname ", id.reverse_name, " does not resolve to address ", id.addr);
  c->label = cat(s.client_name, "[", s.client_addr, "]");
  c->policy = std::make_unique<smtpd::SessionPolicy>(
      *shared->policy,
      [c](const smtpd::Verdict& v) {
        c->session->policy_checked(v);
        after_input(c);
      },
      [c](bool reached) {
        c->session->etrn_done(reached);
        after_input(c);
      });
  c->session = std::make_unique<smtpd::Session>(
      std::move(s), c->sink, [c](std::string_view bytes) { c->send(bytes); }, c, c->policy.get());
  log::info("connect from ", c->label);
  // In wrapper mode the greeting waits in the TLS layer until the handshake.
  c->session->start();
  watch(c);
  on_read(c);  // what the client sent meanwhile
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  auto c = std::make_unique<Client>(ctx.loop());
  c->addr = peer_address(a.peer);
  c->label = cat("unknown[", c->addr, "]");
  c->conn = open_connection(ctx, std::move(a.fd));
  c->job = std::move(job);
  c->handshaking = tls_setup->wrappermode;
  Client* raw = c.get();
  c->sink.resumed = [raw] { after_input(raw); };
  raw->conn->on_read([raw] { on_read(raw); });
  raw->conn->on_close([raw](const Error& e) { on_close(raw, e); });
  raw->conn->on_tls_ready([raw] { raw->tls_ready(); });
  clients[raw] = std::move(c);
  smtpd::ClientLimits::Admission admission = shared->limits->admit(raw->addr);
  if (admission.verdict != smtpd::ClientLimits::Verdict::ok) {
    log::info("connect from ", raw->label);
    return refuse_connection(raw, admission);
  }
  raw->slot = std::move(admission.slot);
  smtpd::ClientIdentity id;
  id.addr = raw->addr;
  if (!shared->peername_lookup) return begin_session(raw, id);
  raw->peer = std::make_unique<smtpd::PeerName>(
      [](std::string_view name, dns::RrType type, std::function<void(dns::Answer)> cb) {
        return shared->policy->dns_query(name, type, std::move(cb));
      },
      hosts_file.get());
  raw->peer->start(raw->addr, [raw](smtpd::ClientIdentity found) { begin_session(raw, found); });
}

void pre_drop(service::Context& ctx) {
  auto t = smtpd::tls_setup(ctx.config(), ctx.args().service_name);
  if (!t) throw std::runtime_error(t.error().detail);
  tls_setup = std::make_unique<smtpd::TlsSetup>(std::move(*t));
  hosts_file = std::make_unique<dns::HostsFile>(dns::HostsFile::load());
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

// smtpd/client_limits.h from main.cf.
void limit_settings(const config::Config& cfg, Shared& sh) {
  smtpd::ClientLimits::Settings l;
  l.count_limit = static_cast<std::size_t>(cfg.get_int("smtpd_client_connection_count_limit"));
  l.rate_limit = static_cast<std::size_t>(cfg.get_int("smtpd_client_connection_rate_limit"));
  l.rate_unit = std::chrono::seconds(cfg.get_time("anvil_rate_time_unit"));
  auto ex = smtpd::parse_networks(cfg.get_list("smtpd_client_event_limit_exceptions"));
  if (!ex) throw std::runtime_error("smtpd_client_event_limit_exceptions: " + ex.error().detail);
  l.exceptions = std::move(*ex);
  sh.limits = std::make_unique<smtpd::ClientLimits>(std::move(l));
}

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  auto sh = std::make_unique<Shared>();
  smtpd::Settings& s = sh->base;
  s.myhostname = cfg.get("myhostname");
  s.banner = cfg.get("smtpd_banner");
  s.message_size_limit = static_cast<std::uint64_t>(cfg.get_size("message_size_limit"));
  s.recipient_limit = static_cast<std::size_t>(cfg.get_int("smtpd_recipient_limit"));
  s.recipient_overshoot_limit =
      static_cast<std::size_t>(cfg.get_int("smtpd_recipient_overshoot_limit"));
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
  sh->data_timeout = std::chrono::seconds(cfg.get_time("smtpd_data_timeout"));
  sh->soft_error_limit = static_cast<std::size_t>(cfg.get_int("smtpd_soft_error_limit"));
  sh->error_sleep = std::chrono::seconds(cfg.get_time("smtpd_error_sleep_time"));
  limit_settings(cfg, *sh);
  // TLS and AUTH.
  sh->starttls_timeout = std::chrono::seconds(cfg.get_time("smtpd_starttls_timeout"));
  sh->tls_received_header = cfg.get_bool("smtpd_tls_received_header");
  s.tls_offered = tls_setup->offered();
  s.tls_required = tls_setup->required();
  s.tls_wrapped = tls_setup->wrappermode;
  auth_settings(cfg, s);
  sh->service = ctx.args().service_name.empty() ? "smtpd" : ctx.args().service_name;
  sh->sasl_local_domain = cfg.get("smtpd_sasl_local_domain");
  if (!s.auth_mechanisms_plain.empty() || !s.auth_mechanisms_tls.empty())
    sh->auth = std::make_unique<auth::Client>(
        ctx.loop(), auth::service_socket(cfg.get("smtpd_sasl_path")),
        std::chrono::seconds(cfg.get_time("smtpd_sasl_check_timeout")));
  sh->qmgr = std::make_unique<smtpd::QmgrWakeup>(ctx.loop(), queue::qmgr_socket(sh->spool),
                                                 ctx.args().verbose > 0);
  sh->ctx = &ctx;
  // Relay control, recipient checks, client names and ETRN.
  sh->policy = std::make_unique<smtpd::PolicyService>(cfg, ctx.loop(), sh->mynetworks,
                                                      queue::qmgr_socket(sh->spool));
  sh->peername_lookup = cfg.get_bool("smtpd_peername_lookup");
  auto exceptions = smtpd::parse_networks(cfg.get_list("smtpd_sasl_exceptions_networks"));
  if (!exceptions) throw std::runtime_error("smtpd_sasl_exceptions_networks: " + exceptions.error().detail);
  sh->sasl_exceptions = std::move(*exceptions);
  sh->commits = std::make_unique<event::WorkerPool>(
      ctx.loop(), static_cast<unsigned>(cfg.get_int("smtpd_commit_threads")), "queue file commit");
  shared = std::move(sh);
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "smtpd";
  p.pre_drop = pre_drop;
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  // Before the loop goes: the sessions (none are left when it ends), then
  // what they used; Shared's writer threads are joined first (every write
  // they took on is finished), then its events are freed.
  p.on_exit = [](service::Context&) {
    clients.clear();
    shared.reset();
  };
  return service::run(p, argc, argv);
}
