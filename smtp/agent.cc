// smtp/agent.cc - see agent.h.
#include "smtp/agent.h"

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/deliver/delivery_log.h"
#include "lib/log/log.h"
#include "lib/mime/downgrade.h"
#include "lib/queue/reader.h"
#include "smtp/content.h"

namespace posthorn::smtp {

namespace {

using Clock = std::chrono::steady_clock;

// Cached sessions kept at once; a process serves one job at a time, so a
// handful covers the destinations it alternates between.
constexpr std::size_t kMaxCached = 4;

std::optional<queue::QueueName> readable_queue(std::string_view name) {
  for (queue::QueueName q : {queue::QueueName::active, queue::QueueName::incoming,
                             queue::QueueName::deferred, queue::QueueName::hold})
    if (queue::queue_dir_name(q) == name) return q;
  return std::nullopt;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

struct Agent::Cached {
  std::unique_ptr<Transport> transport;  // declared first: the session refers to it
  std::unique_ptr<Session> session;
  std::string key;    // cache key: transport and next hop
  std::string relay;  // "host[addr]:port"
  Clock::time_point born = Clock::now(), idle_since = Clock::now();
  unsigned uses = 0;
};

struct Agent::Job {
  const deliver::Request& req;
  queue::QueueFile qf;
  resolve::NextHop hop;  // the first of `hops`: names the destination in texts and lookups
  std::vector<resolve::NextHop> hops;  // a relayhost list is tried in its order
  std::string key;
  std::string message;                   // headers + body as queued
  std::optional<std::string> message_7bit;     // made when first needed
  std::optional<std::string> streams[2][2];    // [bdat][7bit]: the wire forms, made when first needed
  bool eight_bit = false;
  bool utf8_required = false;
  TlsPolicy tls;  // smtp_tls_security_level, or smtp_tls_policy_maps' entry
  struct R {
    RcptOutcome outcome;
    bool done = false;
    std::string relay = "none";
    std::int64_t start_us = 0, end_us = 0;
  };
  std::vector<R> rcpts;
  std::optional<Failure> last;  // the last failure that left recipients pending
  std::string last_relay = "none";
  unsigned sessions = 0;

  // The message as one transaction sends it: for DATA or BDAT, as queued or
  // made 7-bit; built once per job.
  const std::string& stream(const std::string& m, bool bdat, bool seven_bit, std::size_t line_limit) {
    std::optional<std::string>& s = streams[bdat][seven_bit];
    if (!s) s = bdat ? chunk_stream(m, line_limit) : data_stream(m, line_limit);
    return *s;
  }

  bool all_done() const {
    return std::all_of(rcpts.begin(), rcpts.end(), [](const R& r) { return r.done; });
  }
  void settle_pending(const Failure& f, const std::string& relay) {
    const std::int64_t now = deliver::now_us();
    for (R& r : rcpts) {
      if (r.done) continue;
      r.outcome = {f.permanent() ? Status::bounced : Status::deferred, f.dsn, f.text, false};
      r.done = true;
      r.relay = relay;
      if (!r.start_us) r.start_us = now;
      r.end_us = now;
    }
  }
};

Agent::Agent(Settings settings, Lookup dns, Connector connect, std::unique_ptr<tls::ClientContext> tls,
             Tables tables, queue::Spool spool)
    : s_(std::move(settings)), dns_(std::move(dns)), connect_(std::move(connect)), tls_(std::move(tls)),
      tables_(std::move(tables)), spool_(std::move(spool)), rng_(std::random_device{}()) {}

Agent::~Agent() = default;

deliver::Reply Agent::defer_all(const deliver::Request& req, std::string_view dsn, std::string_view text) {
  deliver::Reply reply;
  const std::int64_t now = deliver::now_us();
  for (const deliver::Rcpt& r : req.rcpts) {
    log::emit(deliver::delivery_record(printable(req.queue_id), r.address, r.original, "none",
                                       deliver::Timing::of(req, now, now), dsn, "deferred", text));
    reply.results.push_back({r.index, "deferred", std::string(dsn), std::string(text), "none"});
  }
  return reply;
}

deliver::Reply Agent::handle(const deliver::Request& req) {
  if (req.rcpts.empty()) {
    log::warn("delivery request for ", printable(req.queue_id), " without recipients");
    return {};
  }
  auto id = queue::QueueId::parse(req.queue_id);
  auto q = readable_queue(req.queue);
  if (!id || !q) {
    log::warn("bad delivery request: queue ", printable(req.queue), ", queue ID ", printable(req.queue_id));
    return defer_all(req, "4.3.0", "bad delivery request");
  }
  queue::ReadOptions ro;
  ro.max_bytes = static_cast<std::size_t>(s_.message_size_limit) + (16u << 20);
  auto qf = queue::read_queue_file(spool_.file(*q, *id), ro);
  if (!qf) {
    log::warn(id->str(), ": cannot read queue file in ", req.queue, ": ", qf.error().detail);
    return defer_all(req, "4.3.0", "cannot read queue file");
  }
  // One next hop, or a list of them (relayhost "[a]:587, [b]:587", as
  // Postfix 3.5), each with a port that must resolve.
  auto hops = resolve::parse_nexthop_list(req.nexthop);
  bool ports_ok = true;
  for (const resolve::NextHop& h : hops ? *hops : std::vector<resolve::NextHop>{})
    ports_ok = ports_ok && (h.port.empty() || service_port(h.port) != 0);
  if (!hops || !ports_ok) {
    log::warn(id->str(), ": bad next hop \"", printable(req.nexthop), "\"",
              hops ? std::string(": unknown port") : ": " + hops.error().detail);
    return defer_all(req, "4.3.5", cat("bad next-hop destination ", printable(req.nexthop)));
  }
  Job job{req, std::move(*qf), hops->front(), *hops, to_lower(cat(req.transport, " ", req.nexthop)), {}, {}, {},
          false, false, {s_.tls_level, {}}, {}, {}, "none", 0};
  examine(job);
  if (auto policy = tls_policy(job); !policy) {
    log::warn(id->str(), ": smtp_tls_policy_maps for ", printable(req.nexthop), ": ", policy.error().detail);
    return defer_all(req, "4.7.5", cat("TLS policy lookup for ", printable(req.nexthop), " failed"));
  }
  run(job);
  return finish(job);
}

void Agent::examine(Job& job) {
  job.message = job.qf.headers + job.qf.body;
  const queue::Envelope& env = job.qf.env;
  job.eight_bit = env.body_type == queue::BodyType::eight_bit_mime ||
                  env.body_type == queue::BodyType::binary_mime || has_8bit(job.qf.body);
  // SMTPUTF8 is needed only when an address or a header really is UTF-8.
  bool utf8 = has_8bit(env.sender) || has_8bit(job.qf.headers);
  for (const deliver::Rcpt& r : job.req.rcpts) utf8 = utf8 || has_8bit(r.address);
  job.utf8_required = env.smtputf8 && utf8;
  job.rcpts.resize(job.req.rcpts.size());
}

Result<void> Agent::tls_policy(Job& job) {
  if (tables_.tls_policy.tables.empty()) return {};
  auto found = tables_.tls_policy.find(tls_policy_keys(job.req.nexthop, job.hop.host));
  if (!found) return found.error();
  if (!*found) return {};
  auto policy = parse_tls_policy(**found);
  if (!policy) return policy.error();
  job.tls = std::move(*policy);
  return {};
}

void Agent::run(Job& job) {
  // A cached session to this next hop first; the RSET ahead of its
  // transaction proves it is alive, and a stale one decides nothing.
  if (auto c = take_cached(job.key)) {
    deliver_on(job, *c, true);
    if (c->session->stale()) c->session->quit();
    else keep_or_quit(job, std::move(c));
  }
  for (const resolve::NextHop& h : job.hops) {
    if (job.all_done()) break;
    try_route(job, h, h.port.empty() ? s_.default_port : service_port(h.port));
  }
  // smtp_fallback_relay: for destinations not found or not reachable; never
  // for a null MX or a loop, which no other host can fix.
  const bool final_route = job.last && (job.last->dsn == "5.1.10" || job.last->dsn == "5.4.6");
  for (const std::string& f : s_.fallback_relay) {
    if (job.all_done() || final_route || iequals(f, job.req.nexthop)) break;
    auto fh = resolve::parse_nexthop(f);
    if (!fh) continue;  // checked at start-up
    job.sessions = 0;
    try_route(job, *fh, fh->port.empty() ? s_.default_port : service_port(fh->port));
  }
  if (!job.all_done()) {
    job.settle_pending(job.last ? *job.last : Failure{"4.4.1", "no usable server was reached", false, 0},
                       job.last_relay);
  }
}

deliver::Reply Agent::finish(Job& job) {
  const deliver::Request& req = job.req;
  deliver::Reply reply;
  for (std::size_t i = 0; i < req.rcpts.size(); ++i) {
    const deliver::Rcpt& r = req.rcpts[i];
    Job::R& res = job.rcpts[i];
    RcptOutcome& o = res.outcome;
    if (s_.soft_bounce && o.status == Status::bounced) {
      o.status = Status::deferred;
      if (!o.dsn.empty()) o.dsn[0] = '4';
    }
    log::emit(deliver::delivery_record(job.qf.id.str(), r.address, r.original, res.relay,
                                       deliver::Timing::of(req, res.start_us, res.end_us), o.dsn,
                                       status_name(o.status), o.text));
    reply.results.push_back({r.index, std::string(status_name(o.status)), o.dsn, o.text, res.relay});
  }
  return reply;
}

void Agent::try_route(Job& job, const resolve::NextHop& hop, unsigned port) {
  Route route = plan_route(hop, s_.route, dns_, rng_);
  if (route.failure) {
    job.last = Failure{route.failure->dsn, route.failure->text, false, 0};
    job.last_relay = "none";
    return;
  }
  for (const Host& h : route.hosts) {
    for (const dns::Address& a : h.addresses) {
      if (job.all_done() || (s_.mx_session_limit && job.sessions >= s_.mx_session_limit)) return;
      auto c = establish(job, h, a, port, true);
      if (!c) continue;
      deliver_on(job, *c);
      keep_or_quit(job, std::move(c));
    }
  }
}

std::unique_ptr<Agent::Cached> Agent::establish(Job& job, const Host& h, const dns::Address& a, unsigned port,
                                                bool allow_tls) {
  const std::string peer = cat(h.name, "[", a.text, "]");
  const std::string relay = cat(peer, ":", port);
  auto t = connect_(a, port);
  if (!t) {
    job.last = Failure{"4.4.1", cat("connect to ", relay, ": ", t.error().detail), false, 0};
    job.last_relay = "none";
    log::info(job.qf.id.str(), ": ", job.last->text);
    return nullptr;
  }
  auto c = std::make_unique<Cached>();
  c->transport = std::move(*t);
  c->session = std::make_unique<Session>(*c->transport, s_.session, peer);
  c->relay = relay;
  c->key = job.key;
  auto fail = [&](const Failure& f) -> std::unique_ptr<Cached> {
    job.last = f;
    job.last_relay = relay;
    log::info(job.qf.id.str(), ": ", f.text);
    c->session->quit();
    return nullptr;
  };
  if (s_.tls_wrappermode)
    if (auto f = wrap(job, *c)) return fail(*f);
  if (auto f = c->session->open()) {
    // A 5xx greeting bounces at once unless smtp_skip_5xx_greeting says to
    // try the next server (Postfix's default); then it counts as a
    // temporary failure (Postfix turns its 5 into a 4), so a message whose
    // last server greets with 5xx is deferred, not bounced.
    if (f->permanent() && c->session->greeting().code >= 500) {
      if (!s_.skip_5xx_greeting) {
        job.settle_pending(*f, relay);
        c->session->quit();
        return nullptr;
      }
      f->dsn[0] = '4';
    }
    return fail(*f);
  }
  ++job.sessions;
  const std::string me = s_.route.myhostname;
  if (!me.empty() && (first_word(c->session->greeting()) == me || c->session->extensions().server_name == me)) {
    job.settle_pending({"5.4.6", cat("mail for ", job.hop.host, " loops back to myself"), false, 0}, relay);
    c->session->quit();
    return nullptr;
  }
  bool retry_plain = false;
  if (auto f = secure(job, *c, allow_tls, retry_plain)) {
    if (retry_plain) {
      log::info(job.qf.id.str(), ": ", f->text, "; trying ", relay, " again without TLS");
      --job.sessions;
      c.reset();
      return establish(job, h, a, port, false);
    }
    return fail(*f);
  }
  if (auto f = login(job, *c)) return fail(*f);
  return c;
}

Result<tls::SslPtr> Agent::tls_session(const Job& job, const std::string& peer, tls::SecurityLevel level) const {
  tls::ClientPeer p;
  p.level = level;
  p.nexthop = job.hop.host;
  p.hostname = peer.substr(0, peer.find('['));
  if (level == tls::SecurityLevel::verify) p.match = s_.tls_verify_match;
  if (level == tls::SecurityLevel::secure) p.match = s_.tls_secure_match;
  if (!job.tls.match.empty()) p.match = job.tls.match;
  if (!tls_) return make_error(Errc::unsupported, "our TLS engine is unavailable");
  return tls_->new_session(p);
}

std::optional<Failure> Agent::wrap(Job& job, Cached& c) {
  // Postfix requires "encrypt" or more with wrapper mode; a policy table
  // entry below that cannot turn TLS off here.
  tls::SecurityLevel level = job.tls.level;
  if (level == tls::SecurityLevel::none || level == tls::SecurityLevel::may) level = tls::SecurityLevel::encrypt;
  const std::string& peer = c.session->peer();
  auto ssl = tls_session(job, peer, level);
  if (!ssl) return Failure{"4.7.5", cat("cannot start TLS with ", peer, ": ", ssl.error().detail), false, 0};
  TlsResult tr = c.transport->start_tls(std::move(*ssl), s_.session.timeouts.starttls);
  if (!tr.ok) {
    Failure f{"4.7.5", cat("TLS handshake with ", peer, " failed: ", tr.ok.error().detail), false, 0};
    if (tr.ok.error().code == Errc::timeout)
      f.text = cat("conversation with ", peer, " timed out while performing the TLS handshake");
    const tls::SessionInfo& info = tr.info;
    if (!info.verify_error.empty() || info.verification == tls::Verification::name_mismatch)
      if (auto pol = tls::check_policy(info, level); !pol)
        f.text = cat(pol.error().detail, " (", peer, ": ",
                     info.verify_error.empty() ? "name mismatch" : info.verify_error, ")");
    return f;
  }
  log::info(tls::connection_established(tr.info, "to", c.relay));
  if (auto pol = tls::check_policy(tr.info, level); !pol) return Failure{"4.7.5", pol.error().detail, false, 0};
  return std::nullopt;
}

std::optional<Failure> Agent::secure(Job& job, Cached& c, bool allow_tls, bool& retry_plain) {
  if (c.transport->tls_active()) return std::nullopt;  // wrapper mode: TLS from the start
  const tls::SecurityLevel level = allow_tls ? job.tls.level : tls::SecurityLevel::none;
  Session& s = *c.session;
  const std::string& peer = s.peer();
  if (level == tls::SecurityLevel::none) {
    if (s_.tls_note_starttls_offer && s.extensions().starttls) log::info("Host offered STARTTLS: [", peer, "]");
    return std::nullopt;
  }
  if (!s.extensions().starttls) {
    if (level == tls::SecurityLevel::may) return std::nullopt;
    return Failure{"4.7.4", cat("TLS is required, but was not offered by host ", peer), true, 0};
  }
  if (!tls_) return Failure{"4.7.5", "TLS is required, but our TLS engine is unavailable", true, 0};
  auto ssl = tls_session(job, peer, level);
  if (!ssl) return Failure{"4.7.5", cat("cannot start TLS with ", peer, ": ", ssl.error().detail), true, 0};
  tls::SessionInfo info;
  if (auto f = s.starttls(std::move(*ssl), info)) {
    if (level == tls::SecurityLevel::may) {
      if (f->usable) return std::nullopt;  // STARTTLS refused by a reply: go on in plain text
      retry_plain = true;
      return f;
    }
    if (!info.verify_error.empty() || info.verification == tls::Verification::name_mismatch) {
      auto pol = tls::check_policy(info, level);
      if (!pol) f->text = cat(pol.error().detail, " (", peer, ": ", info.verify_error.empty() ? "name mismatch" : info.verify_error, ")");
    }
    return f;
  }
  log::info(tls::connection_established(info, "to", c.relay));
  if (auto pol = tls::check_policy(info, level); !pol) return Failure{"4.7.5", pol.error().detail, true, 0};
  return std::nullopt;
}

std::optional<Failure> Agent::login(Job& job, Cached& c) {
  if (!s_.sasl_enable || c.session->extensions().auth.empty()) return std::nullopt;
  const std::string host = c.session->peer().substr(0, c.session->peer().find('['));
  auto found = tables_.sasl_passwords.find({job.req.nexthop, job.hop.host, host});
  if (!found) {
    log::warn(job.qf.id.str(), ": smtp_sasl_password_maps lookup failed: ", found.error().detail);
    return Failure{"4.3.0", "SASL password table lookup error", true, 0};
  }
  if (!*found) return std::nullopt;  // no password for this server: deliver without AUTH
  const std::string& v = **found;
  const std::size_t colon = v.find(':');
  SaslCredentials creds{v.substr(0, colon), colon == std::string::npos ? "" : v.substr(colon + 1), {}};
  const auto& opts = c.transport->tls_active() ? s_.sasl_tls_security_options : s_.sasl_security_options;
  if (!contains(opts, "noplaintext"))
    for (const char* m : {"PLAIN", "LOGIN"})
      if (s_.sasl_mechanism_filter.empty() || contains(s_.sasl_mechanism_filter, m)) creds.mechanisms.push_back(m);
  return c.session->authenticate(creds);
}

void Agent::deliver_on(Job& job, Cached& c, bool reused) {
  Session& s = *c.session;
  const Extensions& e = s.extensions();
  Transaction tx;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < job.rcpts.size(); ++i) {
    if (job.rcpts[i].done) continue;
    const deliver::Rcpt& r = job.req.rcpts[i];
    tx.rcpts.push_back({r.address, r.notify, r.orcpt});
    which.push_back(i);
  }
  if (which.empty()) return;
  const std::uint64_t size = job.qf.message_size();
  if (e.size_limit > 0 && size > e.size_limit) {
    return job.settle_pending({"5.3.4", cat("message size ", size, " exceeds size limit ", e.size_limit,
                                            " of server ", s.peer()), false, 0}, c.relay);
  }
  if (job.utf8_required && !e.smtputf8) {
    return job.settle_pending({"5.6.7", cat("SMTPUTF8 is required, but was not offered by host ", s.peer()),
                               false, 0}, c.relay);
  }
  tx.bdat = e.chunking;
  if (job.eight_bit && !e.eight_bit_mime) {
    if (s_.disable_mime_conversion)
      return job.settle_pending({"4.6.0", cat("host ", s.peer(), " does not announce 8BITMIME and "
                                              "disable_mime_output_conversion is set"), false, 0}, c.relay);
    if (!job.message_7bit) {
      auto d = mime::downgrade_8bit(job.message);
      job.message_7bit = d ? d->message : job.message;
    }
    tx.data = job.stream(*job.message_7bit, tx.bdat, true, s_.line_length_limit);
  } else {
    tx.data = job.stream(job.message, tx.bdat, false, s_.line_length_limit);
    tx.eight_bit = job.eight_bit;
  }
  tx.sender = job.qf.env.sender;
  tx.size = size;
  tx.smtputf8 = job.qf.env.smtputf8;
  tx.ret = job.qf.env.ret;
  tx.envid = job.qf.env.envid;
  tx.reset_first = reused;
  const std::int64_t start = deliver::now_us();
  std::vector<RcptOutcome> outs = s.transaction(tx);
  const std::int64_t end = deliver::now_us();
  if (s.stale()) return;  // a cached session the server had dropped: no verdict
  ++c.uses;
  for (std::size_t k = 0; k < which.size() && k < outs.size(); ++k) {
    Job::R& r = job.rcpts[which[k]];
    r.start_us = start;
    r.end_us = end;
    if (outs[k].retry_elsewhere) {
      job.last = Failure{outs[k].dsn, outs[k].text, false, 0};
      job.last_relay = c.relay;
      continue;
    }
    r.outcome = outs[k];
    r.done = true;
    r.relay = c.relay;
  }
  if (job.last && !job.all_done()) log::info(job.qf.id.str(), ": ", job.last->text);
}

void Agent::keep_or_quit(Job& job, std::unique_ptr<Cached> c) {
  const auto now = Clock::now();
  const bool wanted = s_.cache_on_demand || contains(s_.cache_destinations, to_lower(job.hop.host)) ||
                      contains(s_.cache_destinations, to_lower(job.req.nexthop));
  if (!c->session->usable() || !wanted || (s_.reuse_count_limit && c->uses >= s_.reuse_count_limit) ||
      now - c->born >= s_.reuse_time_limit) {
    c->session->quit();
    return;
  }
  c->idle_since = now;
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if ((*it)->key == c->key) {
      (*it)->session->quit();
      cache_.erase(it);
      break;
    }
  }
  if (cache_.size() >= kMaxCached) {
    cache_.front()->session->quit();
    cache_.erase(cache_.begin());
  }
  cache_.push_back(std::move(c));
}

std::unique_ptr<Agent::Cached> Agent::take_cached(const std::string& key) {
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if ((*it)->key != key) continue;
    std::unique_ptr<Cached> c = std::move(*it);
    cache_.erase(it);
    const auto now = Clock::now();
    if (now - c->idle_since >= s_.cache_time_limit || now - c->born >= s_.reuse_time_limit) {
      c->session->quit();
      return nullptr;
    }
    return c;
  }
  return nullptr;
}

std::optional<Millis> Agent::expire_cache() {
  const auto now = Clock::now();
  std::optional<Millis> next;
  for (auto it = cache_.begin(); it != cache_.end();) {
    Cached& c = **it;
    const auto due = std::min(c.idle_since + s_.cache_time_limit, c.born + s_.reuse_time_limit);
    if (due <= now) {
      c.session->quit();
      it = cache_.erase(it);
      continue;
    }
    const Millis wait = std::chrono::duration_cast<Millis>(due - now) + Millis(1);
    if (!next || wait < *next) next = wait;
    ++it;
  }
  return next;
}

void Agent::close_cache() {
  for (auto& c : cache_) c->session->quit();
  cache_.clear();
}

}  // namespace posthorn::smtp
