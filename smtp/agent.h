// smtp/agent.h - one deliver request in, one reply out
// (lib/deliver/protocol.h), for the smtp and relay transports.
//
// For a request the agent
//   1. reads the queue file read-only (never writes, moves or quarantines
//      it: qmgr owns it); a request it cannot act on defers every recipient
//      4.3.0 with a warning;
//   2. takes a cached session to the same next hop, if one is still fresh,
//      and checks it with an RSET ahead of the transaction, pipelined with
//      it when the server offers PIPELINING (connection reuse);
//   3. otherwise, or for recipients the cached session could not take,
//      plans the route (route.h: MX, implicit MX, [host]:port; a list of
//      next hops, as relayhost allows, one after the other) and tries
//      each address in turn: a refused or timed-out connection, a 4xx or
//      421 greeting (a 5xx one too with smtp_skip_5xx_greeting), a failed
//      EHLO, a required TLS that fails, a 4xx to MAIL and a lost or stalled
//      session before the end of data move on to the next address, with
//      the recipients not decided yet; at most smtp_mx_session_limit
//      sessions get that far;
//   4. on each session: TLS from the first byte with smtp_tls_wrappermode
//      (port 465 smarthosts), else STARTTLS by smtp_tls_security_level, or by
//      smtp_tls_policy_maps for the next hop (level "may"
//      reconnects without TLS after a failed handshake), AUTH when
//      smtp_sasl_auth_enable and a password for the next hop or host is in
//      smtp_sasl_password_maps, SIZE, 8BITMIME (else 8-bit content is made
//      quoted-printable, lib/mime/downgrade.h), SMTPUTF8 (required but not
//      offered: 5.6.7), DSN parameters; then the transaction (session.h);
//   5. tries smtp_fallback_relay the same way for recipients still pending
//      (not after a null MX or a loop);
//   6. keeps a usable session open for the next job to the same next hop
//      (smtp_connection_cache_*), or QUITs;
//   7. logs one delivery line per recipient and answers one RcptResult per
//      recipient, in the request's order (soft_bounce applied).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lib/deliver/protocol.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/spool.h"
#include "lib/resolve/resolve.h"
#include "smtp/route.h"
#include "smtp/session.h"
#include "smtp/settings.h"

namespace posthorn::smtp {

// Opens a transport to an address (the real one is connect_tcp; tests may
// substitute another).
using Connector = std::function<Result<std::unique_ptr<Transport>>(const dns::Address&, unsigned port)>;

class Agent {
 public:
  // `tls` may be null when smtp_tls_security_level is none.
  Agent(Settings settings, Lookup dns, Connector connect, std::unique_ptr<tls::ClientContext> tls,
        Tables tables, queue::Spool spool);
  ~Agent();

  deliver::Reply handle(const deliver::Request& req);

  // QUITs cached sessions idle longer than smtp_connection_cache_time_limit
  // or older than smtp_connection_reuse_time_limit; returns the wait until
  // the next one is due, nullopt when none is cached.
  std::optional<Millis> expire_cache();
  // QUITs every cached session (at exit).
  void close_cache();
  std::size_t cached() const { return cache_.size(); }

  struct Cached;
  struct Job;

 private:
  // What the message needs (8-bit, SMTPUTF8); the TLS policy of the next hop.
  void examine(Job& job);
  Result<void> tls_policy(Job& job);
  // Steps 2 to 5 above; every recipient is decided afterwards.
  void run(Job& job);
  // Step 7: soft_bounce, the log lines, the reply.
  deliver::Reply finish(Job& job);
  deliver::Reply defer_all(const deliver::Request& req, std::string_view dsn, std::string_view text);
  // One transaction for the pending recipients; `reused` puts RSET ahead.
  void deliver_on(Job& job, Cached& c, bool reused = false);
  // Connects and opens a session to one address; nullopt after a failure
  // (recorded in the job).
  std::unique_ptr<Cached> establish(Job& job, const Host& h, const dns::Address& a, unsigned port,
                                    bool allow_tls);
  // Plans the route to `hop` and tries its addresses for the pending
  // recipients (a route failure becomes the job's last failure).
  void try_route(Job& job, const resolve::NextHop& hop, unsigned port);
  std::optional<Failure> secure(Job& job, Cached& c, bool allow_tls, bool& retry_plain);
  // smtp_tls_wrappermode: the TLS handshake before the greeting.
  std::optional<Failure> wrap(Job& job, Cached& c);
  // The TLS session for a server at `level`, with the names it must match.
  Result<tls::SslPtr> tls_session(const Job& job, const std::string& peer, tls::SecurityLevel level) const;
  std::optional<Failure> login(Job& job, Cached& c);
  void keep_or_quit(Job& job, std::unique_ptr<Cached> c);
  std::unique_ptr<Cached> take_cached(const std::string& key);

  Settings s_;
  Lookup dns_;
  Connector connect_;
  std::unique_ptr<tls::ClientContext> tls_;
  Tables tables_;
  queue::Spool spool_;
  std::mt19937 rng_;
  std::vector<std::unique_ptr<Cached>> cache_;
};

}  // namespace posthorn::smtp
