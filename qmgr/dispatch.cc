// qmgr/dispatch.cc - destinations, concurrency, and the delivery agents
// (scheduler.h, steps 3 and 4).
//
// A transport is unreachable when its agent cannot be connected to at all
// (no such service, master not running): nothing is attempted through it for
// transport_retry_time, and its mail is deferred "delivery agent not
// reachable". A destination is dead when its concurrency window says so
// (window.h): its queued and new mail is deferred "delivery temporarily
// suspended" without an attempt, for minimal_backoff_time (as Postfix), then
// it starts again at the initial concurrency.
#include <algorithm>

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "qmgr/scheduler.h"
#include "qmgr/scheduler_types.h"

namespace posthorn::qmgr {
namespace {

using Kind = Scheduler::Outcome::Kind;

Scheduler::Outcome qmgr_deferral(std::string text, bool attempted) {
  Scheduler::Outcome o;
  o.kind = Kind::deferred;
  o.dsn = "4.3.0";
  o.text = std::move(text);
  o.attempted = attempted;
  o.log = true;
  return o;
}

std::string suspended_text(const std::string& why) {
  return cat("delivery temporarily suspended: ", why);
}

}  // namespace

Scheduler::Transport& Scheduler::transport(const std::string& name) {
  auto it = transports_.find(name);
  if (it != transports_.end()) return *it->second;
  auto t = std::make_unique<Transport>();
  t->name = name;
  t->limits = settings_.transport(name);
  return *transports_.emplace(name, std::move(t)).first->second;
}

void Scheduler::enqueue(const std::shared_ptr<Message>& m, const std::vector<JobPlan>& plans,
                        Batch& batch) {
  const std::int64_t now = deps_.clock.now_us();
  for (const JobPlan& plan : plans) {
    Transport& t = transport(plan.transport);
    if (t.dead_until_us > now) {
      Outcome o = qmgr_deferral("delivery agent not reachable", false);
      for (std::uint32_t u : plan.units) record(*m, m->units[u], o, batch);
      continue;
    }
    t.dead_until_us = 0;
    auto it = t.dests.find(plan.nexthop);
    if (it == t.dests.end())
      it = t.dests.emplace(plan.nexthop, std::make_unique<Destination>(plan.nexthop, t.limits)).first;
    Destination& d = *it->second;
    if (d.dead_until_us > now) {
      Outcome o = qmgr_deferral(suspended_text(d.dead_text), false);
      o.dsn = d.dead_dsn;
      for (std::uint32_t u : plan.units) record(*m, m->units[u], o, batch);
      continue;
    }
    if (d.dead_until_us != 0) {  // its time is over: slow start again
      d.dead_until_us = 0;
      d.window.reset();
    }
    d.queue.push_back(Job{m, plan.units});
  }
}

void Scheduler::dispatch() {
  for (auto& [name, tp] : transports_) {
    Transport& t = *tp;
    auto full = [&t] { return t.limits.process_limit != 0 && t.in_flight >= t.limits.process_limit; };
    // Round robin: from the cursor on, one job per destination in turn,
    // until the transport is full or a whole round starts nothing. A busy
    // transport thus looks at few destinations per call, however many wait.
    auto it = t.dests.lower_bound(t.cursor);
    std::size_t idle_run = 0;
    while (!t.dests.empty() && idle_run < t.dests.size() && !full()) {
      if (it == t.dests.end()) it = t.dests.begin();
      Destination& d = *it->second;
      ++it;
      if (d.queue.empty() || d.dead_until_us != 0 || !d.window.allows(d.in_flight)) {
        ++idle_run;
        continue;
      }
      start_job(t, d);  // takes one job (a forgotten message's job is dropped)
      t.cursor = d.nexthop + '\0';  // the next name after this one
      idle_run = 0;
    }
  }
}

bool Scheduler::start_job(Transport& t, Destination& d) {
  Job job = std::move(d.queue.front());
  d.queue.pop_front();
  Message& m = *job.msg;
  if (m.gone) return false;
  deliver::Request req;
  req.queue_id = m.id.str();
  req.queue = "active";
  req.transport = t.name;
  req.nexthop = d.nexthop;
  req.sender = m.qf.env.sender;
  req.arrival_us = m.qf.env.arrival_us;
  req.active_us = m.active_us;
  req.dispatch_us = deps_.clock.now_us();
  for (std::uint32_t u : job.units) {
    const Unit& unit = m.units[u];
    const queue::Recipient& r = m.qf.env.recipients[unit.index];
    deliver::Rcpt rc;
    rc.index = unit.index;
    rc.address = unit.address;
    // After virtual aliasing the original is the envelope recipient as received.
    rc.original = unit.address == r.address ? r.original : (r.original.empty() ? r.address : r.original);
    rc.orcpt = r.orcpt;
    rc.notify = r.notify;
    req.rcpts.push_back(std::move(rc));
  }
  ++t.in_flight;
  ++d.in_flight;
  ++in_flight_;
  auto sent = req.rcpts;
  deps_.agents.deliver(
      t.name, req,
      [this, transport = t.name, nexthop = d.nexthop, job = std::move(job),
       sent = std::move(sent)](AgentAnswer a) mutable {
        on_answer(transport, nexthop, std::move(job), sent, std::move(a));
      });
  return true;
}

void Scheduler::on_answer(const std::string& transport_name, const std::string& nexthop, Job job,
                          const std::vector<deliver::Rcpt>& sent, AgentAnswer a) {
  Transport& t = transport(transport_name);
  auto dit = t.dests.find(nexthop);
  Destination* d = dit == t.dests.end() ? nullptr : dit->second.get();
  if (t.in_flight > 0) --t.in_flight;
  if (d && d->in_flight > 0) --d->in_flight;
  if (in_flight_ > 0) --in_flight_;
  std::shared_ptr<Message> keep = job.msg;
  Message& m = *keep;
  const std::int64_t now = deps_.clock.now_us();
  Batch batch;
  bool site_failed = false;
  Outcome failure;
  if (a.unreachable) {
    if (t.dead_until_us <= now)
      log::warn("connect to transport private/", t.name, ": ", a.reply.error().detail,
                "; its mail is deferred for ", settings_.transport_retry_time.count(), "s");
    t.dead_until_us = now + settings_.transport_retry_time.count() * 1'000'000;
    const Outcome o = qmgr_deferral("delivery agent not reachable", false);
    if (!m.gone)
      for (std::uint32_t u : job.units) record(m, m.units[u], o, batch);
    for (auto& [nh, dest] : t.dests) defer_queued(*dest, o);
  } else if (!a.reply) {
    // The agent went away without answering (agents.h): whatever it did is
    // unknown, so the job is an attempt that failed, tried again later.
    log::warn(m.id.str(), ": transport ", t.name, ": delivery agent failed: ", a.reply.error().detail);
    failure = qmgr_deferral("delivery agent failed", true);
    site_failed = true;
    if (!m.gone)
      for (std::uint32_t u : job.units) record(m, m.units[u], failure, batch);
  } else if (!m.gone) {
    auto matched = match_results(sent, a.reply->results);
    bool answered = false;
    for (std::size_t k = 0; k < job.units.size(); ++k) {
      const deliver::RcptResult* r = matched[k];
      Outcome o;
      if (r && (r->status == "sent" || r->status == "bounced" || r->status == "deferred")) {
        o.kind = r->status == "sent" ? Kind::sent : r->status == "bounced" ? Kind::bounced : Kind::deferred;
        o.dsn = r->dsn.empty() ? (o.kind == Kind::sent ? "2.0.0" : o.kind == Kind::bounced ? "5.0.0" : "4.0.0") : r->dsn;
        o.text = r->text;
        o.relay = r->relay.empty() ? "none" : r->relay;
        o.log = false;  // the agent logged it
        answered |= o.kind != Kind::deferred;
        if (o.kind == Kind::deferred) failure = o;
      } else {
        o = qmgr_deferral("delivery agent protocol error", true);
        failure = o;
      }
      record(m, m.units[job.units[k]], o, batch);
    }
    site_failed = !answered;
  }
  if (d && !a.unreachable) {
    if (!site_failed) {
      d->window.success();
    } else if (d->window.failure() && d->dead_until_us == 0) {
      d->dead_until_us = now + settings_.min_backoff.count() * 1'000'000;
      d->dead_dsn = failure.dsn.empty() ? "4.0.0" : failure.dsn;
      d->dead_text = failure.text.empty() ? "delivery failed" : failure.text;
      log::info("transport ", t.name, ", destination ", d->nexthop, ": deliveries suspended for ",
                settings_.min_backoff.count(), "s: ", d->dead_text);
      Outcome o = qmgr_deferral(suspended_text(d->dead_text), false);
      o.dsn = d->dead_dsn;
      defer_queued(*d, o);
    }
  }
  close_recipients(m, batch);
  if (!m.gone && m.open_units == 0) finish(m);
  drop_idle(t);
  pump();
}

// Forgets destinations with nothing to do (their window starts afresh next
// time, as in Postfix); a suspended one is kept until its time is over.
void Scheduler::drop_idle(Transport& t) {
  const std::int64_t now = deps_.clock.now_us();
  for (auto it = t.dests.begin(); it != t.dests.end();) {
    const Destination& d = *it->second;
    if (d.queue.empty() && d.in_flight == 0 && d.dead_until_us <= now)
      it = t.dests.erase(it);
    else
      ++it;
  }
}

// Defers, without an attempt, every job waiting on `d`.
void Scheduler::defer_queued(Destination& d, const Outcome& o) {
  std::deque<Job> jobs;
  jobs.swap(d.queue);
  for (Job& job : jobs) {
    std::shared_ptr<Message> keep = job.msg;
    Message& m = *keep;
    if (m.gone) continue;
    Batch batch;
    for (std::uint32_t u : job.units) record(m, m.units[u], o, batch);
    close_recipients(m, batch);
    if (!m.gone && m.open_units == 0) finish(m);
  }
}

void Scheduler::revive(std::string_view nexthop) {
  for (auto& [name, t] : transports_) {
    if (nexthop.empty()) t->dead_until_us = 0;
    for (auto& [nh, d] : t->dests) {
      if (!nexthop.empty() && !iequals(nh, nexthop)) continue;
      if (d->dead_until_us == 0) continue;
      d->dead_until_us = 0;
      d->window.reset();
    }
  }
}

}  // namespace posthorn::qmgr
