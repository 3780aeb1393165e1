// qmgr/pass.cc - resolving a message's due recipients into deliveries, and
// recording outcomes (scheduler.h, steps 2 and 4).
#include <algorithm>

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "qmgr/scheduler.h"
#include "qmgr/scheduler_types.h"
#include "qmgr/timing.h"

namespace posthorn::qmgr {
namespace {

using Kind = Scheduler::Outcome::Kind;

// `dsn` with its class digit replaced, or `fallback` when it is not X.Y.Z.
std::string with_class(const std::string& dsn, char cls, const char* fallback) {
  if (dsn.size() < 5 || dsn[1] != '.') return fallback;
  std::string out = dsn;
  out[0] = cls;
  return out;
}

// What qmgr's own transports (error:, retry:, discard:) mean; lib/resolve
// reads their status and text (special_status()).
Scheduler::Outcome internal_outcome(const resolve::Destination& d) {
  const resolve::Status st = resolve::special_status(d);
  Scheduler::Outcome o;
  o.log = true;
  o.kind = d.transport == "error" ? Kind::bounced : d.transport == "retry" ? Kind::deferred : Kind::sent;
  o.dsn = st.dsn;
  o.text = st.text;
  return o;
}

}  // namespace

void Scheduler::start_pass(const std::shared_ptr<Message>& m) {
  const std::int64_t now = deps_.clock.now_us() / 1'000'000;
  Batch batch;
  std::vector<Routed> routed;
  for (std::uint32_t i = 0; i < m->qf.env.recipients.size(); ++i) {
    const queue::RecipientStatus& st = m->qf.env.recipients[i].status;
    if (st.done()) continue;
    if (!m->force && st.next_attempt > now) continue;  // not due: stays deferred as it is
    route(m, i, routed, batch);
  }
  auto plans = group_jobs(routed, [this](std::string_view t) { return settings_.transport(t).recipient_limit; });
  enqueue(m, plans, batch);
  close_recipients(*m, batch);
  if (!m->gone && m->open_units == 0) finish(*m);
}

void Scheduler::route(const std::shared_ptr<Message>& m, std::uint32_t index, std::vector<Routed>& out,
                      Batch& batch) {
  const queue::Recipient& rcpt = m->qf.env.recipients[index];
  RcptPass& rp = m->rcpts[index];
  rp.in_pass = true;
  batch.touched.insert(index);
  resolve::Resolution res = deps_.resolver.resolve(rcpt.address);
  if (res.failed || res.destinations.empty()) {
    Outcome o;
    o.log = true;
    if (res.failed && !res.temporary) {
      o.kind = Kind::bounced;
      o.dsn = with_class(res.dsn, '5', "5.0.0");
    } else {
      o.kind = Kind::deferred;
      o.dsn = with_class(res.dsn, '4', "4.3.0");
    }
    o.text = !res.text.empty() ? res.text : res.failed ? "address resolution failed" : "address resolved to no destination";
    return settle_internal(*m, index, rcpt.address, o, batch);
  }
  rp.expanded = res.destinations.size() > 1;
  for (const resolve::Destination& d : res.destinations) {
    if (rp.expanded) {
      auto noted = std::find_if(m->notes.begin(), m->notes.end(), [&](const NoteEntry& e) {
        return e.index == index && e.address == d.recipient;
      });
      if (noted != m->notes.end()) {  // settled in an earlier pass
        rp.prior_bounced |= noted->bounced;
        continue;
      }
    }
    if (resolve::is_special_transport(d.transport)) {
      settle_internal(*m, index, d.recipient, internal_outcome(d), batch);
      continue;
    }
    Unit u;
    u.index = index;
    u.address = d.recipient;
    const auto id = static_cast<std::uint32_t>(m->units.size());
    m->units.push_back(std::move(u));
    rp.units.push_back(id);
    ++m->open_units;
    out.push_back(Routed{d.transport, d.nexthop, id});
  }
}

void Scheduler::settle_internal(Message& m, std::uint32_t index, const std::string& address,
                                const Outcome& o, Batch& batch) {
  Unit u;
  u.index = index;
  u.address = address;
  const auto id = static_cast<std::uint32_t>(m.units.size());
  m.units.push_back(std::move(u));
  m.rcpts[index].units.push_back(id);
  ++m.open_units;
  record(m, m.units[id], o, batch);
}

// Steps for one settled delivery: the reason log (a bounce fsynced first, so a
// bounced state always has its reason), the unit's state, the log line.
void Scheduler::record(Message& m, Unit& u, Outcome o, Batch& batch) {
  if (u.state != Unit::State::open) return;
  const std::int64_t now_us = deps_.clock.now_us();
  const std::int64_t now = now_us / 1'000'000;
  RcptPass& rp = m.rcpts[u.index];
  std::string status = o.kind == Kind::sent ? "sent" : o.kind == Kind::bounced ? "bounced" : "deferred";
  if (o.kind == Kind::bounced && settings_.soft_bounce) {
    o.kind = Kind::deferred;
    o.dsn = with_class(o.dsn, '4', "4.0.0");
    status = "deferred";
  }
  if (o.kind == Kind::deferred && m.expired && !settings_.soft_bounce) {
    // Postfix's rule: an expired message had its last try; this deferral ends
    // it (soft_bounce keeps everything queued).
    o.kind = Kind::bounced;
    o.text = cat("message expired after ",
                 describe_duration(queue_lifetime(m.qf.env.sender, settings_)),
                 " in queue (last error: ", o.text, ")");
    o.dsn = "5.4.7";
    o.relay = "none";
    o.log = true;
    status = "expired, returned to sender";
  }
  queue::Reason reason{now, u.index, o.dsn, o.relay, u.address, o.text};
  if (o.kind != Kind::sent) m.side_files = true;
  if (o.kind == Kind::bounced) {
    if (auto ok = queue::append_reason(spool_, queue::QueueName::bounce, m.id, reason, true); !ok) {
      // Without its reason on disk the bounce cannot be recorded: try later.
      log::warn(m.id.str(), ": cannot record a bounce for <", printable(u.address), ">: ",
                ok.error().detail, "; deferred instead");
      o.kind = Kind::deferred;
      o.dsn = with_class(o.dsn, '4', "4.3.0");
      o.log = true;
      status = "deferred";
    }
  }
  if (o.kind == Kind::deferred) {
    reason.dsn = o.dsn;
    if (auto ok = queue::append_reason(spool_, queue::QueueName::defer, m.id, reason, false); !ok)
      log::warn(m.id.str(), ": cannot log a deferral reason: ", ok.error().detail);
    rp.last_dsn = o.dsn;
    rp.last_text = o.text;
  }
  if (o.kind == Kind::sent) {
    rp.sent_dsn = o.dsn;
    rp.sent_text = o.text;
    rp.sent_relay = o.relay;
  }
  u.state = o.kind == Kind::sent ? Unit::State::sent
            : o.kind == Kind::bounced ? Unit::State::bounced
                                      : Unit::State::deferred;
  rp.attempted |= o.attempted;
  if (m.open_units > 0) --m.open_units;
  batch.touched.insert(u.index);
  if (o.log) log_delivery(m, u.index, u.address, o.relay, o.dsn, status, o.text);
}

// Writes the pass's status of every touched recipient whose deliveries are
// all settled: notes first (fsync), then the status blocks (one fsync).
void Scheduler::close_recipients(Message& m, Batch& batch) {
  if (m.gone) return;
  const std::int64_t now_us = deps_.clock.now_us();
  const std::int64_t now = now_us / 1'000'000;
  // Next attempts are whole seconds (they become file times): rounded up, so
  // that the wait is never shorter than the back-off (a deferral at x.9 s
  // with a 1 s back-off is not retried at x+1).
  const std::int64_t now_up = (now_us + 999'999) / 1'000'000;
  std::vector<NoteEntry> notes;
  for (std::uint32_t i : batch.touched) {
    RcptPass& rp = m.rcpts[i];
    if (!rp.in_pass || rp.closed) continue;
    bool open = false, deferred = false, bounced = rp.prior_bounced;
    for (std::uint32_t u : rp.units) {
      const Unit& unit = m.units[u];
      open |= unit.state == Unit::State::open;
      deferred |= unit.state == Unit::State::deferred;
      bounced |= unit.state == Unit::State::bounced;
    }
    if (open) continue;
    rp.closed = true;
    queue::RecipientStatus s = m.qf.env.recipients[i].status;
    if (deferred) {
      s.state = queue::RcptState::deferred;
      if (rp.attempted) {
        s.attempts += 1;
        s.last_attempt = now;
      }
      s.next_attempt = now_up + backoff_seconds(s.attempts, settings_, deps_.clock.uniform());
      if (rp.expanded)
        for (std::uint32_t u : rp.units) {
          const Unit& unit = m.units[u];
          if (unit.state == Unit::State::sent || unit.state == Unit::State::bounced)
            notes.push_back(NoteEntry{i, unit.state == Unit::State::bounced, unit.address});
        }
    } else {
      s.state = bounced ? queue::RcptState::bounced : queue::RcptState::delivered;
      s.attempts += 1;
      s.last_attempt = now;
      s.next_attempt = 0;
      if (m.counted > 0) {
        --m.counted;
        if (recipients_ > 0) --recipients_;
      }
    }
    batch.updates.push_back({i, s});
  }
  batch.touched.clear();
  if (!notes.empty()) {
    m.side_files = true;
    if (auto ok = append_notes(spool_, m.id, notes); ok)
      m.notes.insert(m.notes.end(), notes.begin(), notes.end());
    else  // costs a repeated delivery of those destinations, never a lost one
      log::warn(m.id.str(), ": cannot write expansion notes: ", ok.error().detail);
  }
  if (batch.updates.empty()) return;
  // The last statuses of a message whose every recipient is now done are
  // not synced here: finish() removes the file next, or syncs them before it
  // does anything else (FORMAT.md, "Life of a file").
  bool last = m.open_units == 0;
  for (std::size_t i = 0; last && i < m.qf.env.recipients.size(); ++i) {
    auto u = std::find_if(batch.updates.rbegin(), batch.updates.rend(),
                          [i](const queue::RecipientUpdate& x) { return x.index == i; });
    last = (u != batch.updates.rend() ? u->status : m.qf.env.recipients[i].status).done();
  }
  const queue::Sync sync = last ? queue::Sync::later : queue::Sync::now;
  auto ok = queue::update_recipients(spool_.file(queue::QueueName::active, m.id), m.qf, batch.updates, sync);
  batch.updates.clear();
  if (ok && last) m.unsynced = true;
  if (ok) return;
  if (ok.error().code == Errc::not_found)
    return forget(m, "queue file gone from active/ (removed or moved meanwhile); forgotten");
  log::warn(m.id.str(), ": cannot record delivery status: ", ok.error().detail);
  // Left where it is; the next start of qmgr takes it again.
  forget(m, "left in active/ for the next start of the queue manager");
}

void Scheduler::log_delivery(const Message& m, std::uint32_t index, const std::string& address,
                             const std::string& relay, const std::string& dsn,
                             const std::string& status, const std::string& text) {
  const queue::Recipient& r = m.qf.env.recipients[index];
  const std::int64_t now_us = deps_.clock.now_us();
  const std::string original = address != r.address ? (r.original.empty() ? r.address : r.original) : r.original;
  auto secs = [](std::int64_t us) { return static_cast<double>(std::max<std::int64_t>(us, 0)) / 1e6; };
  log::Record rec{log::Level::info, "delivery", m.id.str(), {}, cat("(", text, ")")};
  rec.fields.push_back({"to", cat("<", address, ">")});
  if (!original.empty() && original != address) rec.fields.push_back({"orig_to", cat("<", original, ">")});
  rec.fields.push_back({"relay", relay.empty() ? "none" : relay});
  rec.fields.push_back({"delay", format_delay(secs(now_us - m.qf.env.arrival_us))});
  rec.fields.push_back({"delays", cat(format_delay(secs(m.active_us - m.qf.env.arrival_us)), "/",
                                      format_delay(secs(now_us - m.active_us)), "/0/0")});
  rec.fields.push_back({"dsn", dsn});
  rec.fields.push_back({"status", status});
  log::emit(rec);
}

}  // namespace posthorn::qmgr
