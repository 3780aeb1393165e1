// qmgr/scheduler.cc - admission: the backlog, scans, flush, and moving
// messages into memory (scheduler.h, steps 1 and the bookkeeping around them).
#include "qmgr/scheduler.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/queue/reader.h"
#include "lib/queue/writer.h"
#include "qmgr/scheduler_types.h"
#include "qmgr/timing.h"

namespace posthorn::qmgr {
namespace {

// A writer holds its temporary file for one message's write; anything older
// than this in incoming/ at start-up belongs to a writer that died.
constexpr std::chrono::seconds kStaleTemporary{3600};

std::string domain_of(std::string_view address) {
  std::size_t at = address.rfind('@');
  std::string d = to_lower(at == std::string_view::npos ? std::string_view() : address.substr(at + 1));
  while (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

// Sets the file's modification (and access) time to `when` (unix seconds).
Result<void> set_mtime(const std::filesystem::path& path, std::int64_t when) {
  timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(when);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) != 0) return sys_error(cat("utimensat ", path.string()));
  return {};
}

}  // namespace

Scheduler::Scheduler(const Settings& s, queue::Spool spool, Deps deps)
    : settings_(s), spool_(std::move(spool)), deps_(std::move(deps)) {}

Scheduler::~Scheduler() = default;

void Scheduler::start() {
  if (started_) return;
  started_ = true;
  if (auto n = queue::remove_stale_temporaries(spool_, queue::QueueName::incoming, kStaleTemporary);
      n && *n > 0)
    log::info("removed ", *n, " stale temporary file", *n == 1 ? "" : "s", " from incoming/");
  if (std::size_t n = remove_orphan_notes(spool_); n > 0)
    log::info("removed ", n, " expansion note", n == 1 ? "" : "s", " of messages that are gone");
  // A previous qmgr died with these in hand: they are taken first, and their
  // recipients that were in flight are tried again (the crash contract).
  auto left = queue::list_queue(spool_, queue::QueueName::active);
  if (!left) {
    log::error("cannot list active/: ", left.error().detail);
  } else {
    for (const std::string& name : left->strangers)
      (void)queue::quarantine(spool_, queue::QueueName::active, name,
                              Error{Errc::corrupt, "not a queue file name"});
    leftover_.assign(left->ids.begin(), left->ids.end());
    if (!leftover_.empty())
      log::info("taking ", leftover_.size(), " message", leftover_.size() == 1 ? "" : "s",
                " left in active/ by a previous queue manager");
  }
  scan_incoming();
  scan_deferred();
}

void Scheduler::scan_incoming() {
  if (!started_) return start();
  if (!incoming_.empty()) {
    // Files newer than the known backlog come after it; look again once it is taken.
    rescan_incoming_ = true;
    return pump();
  }
  rescan_incoming_ = false;
  auto listing = queue::list_queue(spool_, queue::QueueName::incoming);
  if (!listing) {
    log::error("cannot list incoming/: ", listing.error().detail);
    return pump();
  }
  for (const std::string& name : listing->strangers)
    (void)queue::quarantine(spool_, queue::QueueName::incoming, name,
                            Error{Errc::corrupt, "not a queue file name"});
  incoming_.assign(listing->ids.begin(), listing->ids.end());
  pump();
}

void Scheduler::scan_deferred() {
  if (!started_) return start();
  auto listing = queue::list_queue(spool_, queue::QueueName::deferred);
  if (!listing) {
    log::error("cannot list deferred/: ", listing.error().detail);
    return pump();
  }
  const std::int64_t now = deps_.clock.now_us() / 1'000'000;
  std::deque<queue::QueueId> due;
  std::set<queue::QueueId> still_forced;  // flushed files that left deferred/ are forgotten
  for (const queue::QueueId& id : listing->ids) {
    struct stat st;
    if (::stat(spool_.file(queue::QueueName::deferred, id).c_str(), &st) != 0) continue;  // moved meanwhile
    const bool forced = forced_.count(id) > 0;
    if (forced) still_forced.insert(id);
    if (static_cast<std::int64_t>(st.st_mtime) <= now || forced) due.push_back(id);
  }
  forced_ = std::move(still_forced);
  deferred_ = std::move(due);
  pump();
}

std::uint64_t Scheduler::flush(std::string_view domain, std::string_view queue_id) {
  if (!started_) start();
  std::vector<queue::QueueId> candidates;
  if (!queue_id.empty()) {
    auto id = queue::QueueId::parse(queue_id);
    if (!id) return 0;
    candidates.push_back(*id);
  } else {
    auto listing = queue::list_queue(spool_, queue::QueueName::deferred);
    if (!listing) {
      log::error("flush: cannot list deferred/: ", listing.error().detail);
      return 0;
    }
    candidates = std::move(listing->ids);
  }
  const std::string want = domain_of(cat("@", domain));
  const std::int64_t now = deps_.clock.now_us() / 1'000'000;
  std::uint64_t count = 0;
  for (const queue::QueueId& id : candidates) {
    const std::filesystem::path path = spool_.file(queue::QueueName::deferred, id);
    if (!want.empty()) {
      // XXX: reads each whole file; an envelope-only reader would do.
      auto qf = queue::read_queue_file(path);
      if (!qf) continue;
      bool match = false;
      for (const queue::Recipient& r : qf->env.recipients)
        if (!r.status.done() && domain_of(r.address) == want) match = true;
      if (!match) continue;
    }
    // The new time is on disk too, so a restart or the queue tools see it due.
    if (!set_mtime(path, now)) continue;  // not in deferred/ (any more)
    forced_.insert(id);
    ++count;
  }
  revive(want);
  if (count > 0) log::info("flush", want.empty() ? "" : cat(" of ", want), ": ", count, " message",
                           count == 1 ? "" : "s", " due now");
  // As Postfix's postqueue -f: a flush is also a wake-up, so mail sitting in
  // incoming/ (a lost wake-up) goes now. It is due anyway and not counted.
  scan_incoming();
  scan_deferred();
  return count;
}

bool Scheduler::room() const {
  return messages_.size() < settings_.message_active_limit &&
         recipients_ < settings_.message_recipient_limit;
}

bool Scheduler::admit_next() {
  if (!leftover_.empty()) {
    queue::QueueId id = leftover_.front();
    leftover_.pop_front();
    admit(id, queue::QueueName::active);
    return true;
  }
  if (incoming_.empty() && rescan_incoming_) {
    rescan_incoming_ = false;
    if (auto listing = queue::list_queue(spool_, queue::QueueName::incoming))
      incoming_.assign(listing->ids.begin(), listing->ids.end());
  }
  // Incoming and deferred mail take turns, so neither starves the other.
  const bool from_deferred = !deferred_.empty() && (incoming_.empty() || deferred_turn_);
  if (!from_deferred && incoming_.empty()) return false;
  deferred_turn_ = !from_deferred;
  std::deque<queue::QueueId>& q = from_deferred ? deferred_ : incoming_;
  queue::QueueId id = q.front();
  q.pop_front();
  admit(id, from_deferred ? queue::QueueName::deferred : queue::QueueName::incoming);
  return true;
}

void Scheduler::admit(const queue::QueueId& id, queue::QueueName from) {
  if (messages_.count(id)) return;  // already in hand (listed twice)
  if (from != queue::QueueName::active) {
    auto moved = move(id, from, queue::QueueName::active);
    if (!moved) {
      if (moved.error().code != Errc::not_found)
        log::warn(id.str(), ": cannot move to active/: ", moved.error().detail);
      return;  // not_found: deleted or moved by the queue tools meanwhile
    }
  }
  // New mail, and mail requeued into incoming/ by the administrator, is
  // tried at once; deferred mail only for its recipients that are due.
  const bool force = forced_.erase(id) > 0 || from == queue::QueueName::incoming;
  auto qf = queue::load_queue_file(spool_, queue::QueueName::active, id);
  if (!qf) {
    const Error& e = qf.error();
    if (e.code == Errc::corrupt) return;  // quarantined and logged by lib/queue
    if (e.code == Errc::not_found) {
      log::info(id.str(), ": queue file gone from active/; forgotten");
      return;
    }
    // A newer format, a file over the size limit, an I/O error: none of
    // them goes away soon; look again after the longest back-off.
    const std::int64_t due = deps_.clock.now_us() / 1'000'000 + settings_.max_backoff.count();
    log::warn(id.str(), ": cannot read queue file: ", e.detail, "; trying again in ",
              settings_.max_backoff.count(), "s");
    (void)set_mtime(spool_.file(queue::QueueName::active, id), due);
    (void)move(id, queue::QueueName::active, queue::QueueName::deferred);
    return;
  }
  auto m = std::make_shared<Message>();
  m->id = id;
  m->qf = std::move(*qf);
  const std::uint64_t size = m->qf.message_size();
  // Agents and notices read the content from the file; memory holds envelopes only.
  std::string().swap(m->qf.headers);
  std::string().swap(m->qf.body);
  m->active_us = deps_.clock.now_us();
  m->force = force;
  m->expired = expired(m->qf.env.arrival_us, m->qf.env.sender, m->active_us, settings_);
  m->rcpts.resize(m->qf.env.recipients.size());
  // New mail has no side files yet (reasons and notes are written only with
  // a deferred or bounced state, and a queue ID is never reused): looking
  // for them, and removing them at the end, would cost three failed system
  // calls per message.
  bool fresh = from == queue::QueueName::incoming;
  for (const queue::Recipient& r : m->qf.env.recipients) {
    if (!r.status.done()) ++m->counted;
    fresh &= r.status.state == queue::RcptState::pending && r.status.attempts == 0;
  }
  m->side_files = !fresh;
  if (m->side_files) {
    if (auto notes = read_notes(spool_, id))
      m->notes = std::move(*notes);
    else
      log::warn(id.str(), ": cannot read expansion notes: ", notes.error().detail);
  }
  recipients_ += m->counted;
  messages_.emplace(id, m);
  log::emit({log::Level::info, "queue_active", id.str(),
             {{"from", cat("<", m->qf.env.sender, ">")},
              {"size", cat(size)},
              {"nrcpt", cat(m->qf.env.recipients.size())}},
             "(queue active)"});
  start_pass(m);
}

// A move between queues without lib/queue's directory fsyncs: qmgr's moves
// need atomicity (one rename), not durability. After an OS crash an unsynced
// rename may be undone; the file is then found in the queue it came from,
// with its status blocks (which are fsynced) saying what is done, and is
// taken again: nothing is lost, nothing done is repeated. Skipping the two
// directory fsyncs per move is most of what a delivery costs qmgr.
Result<void> Scheduler::move(const queue::QueueId& id, queue::QueueName from, queue::QueueName to) {
  const std::filesystem::path src = spool_.file(from, id), dst = spool_.file(to, id);
  if (queue::rename_noreplace(src, dst) != 0) return sys_error(cat("rename ", src.string(), " to ", dst.string()));
  return {};
}

void Scheduler::release(Message& m) {
  if (m.released) return;
  m.released = true;
  recipients_ -= std::min(recipients_, m.counted);
  m.counted = 0;
  messages_.erase(m.id);  // the caller still holds a shared_ptr to m
}

void Scheduler::forget(Message& m, std::string_view why) {
  if (m.gone) return;
  m.gone = true;
  log::info(m.id.str(), ": ", why);
  release(m);
}

void Scheduler::pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    while (room() && admit_next()) {
    }
    dispatch();
  } while (pump_again_);
  pumping_ = false;
  update_busy();
}

void Scheduler::update_busy() {
  const bool busy = in_flight_ > 0;
  if (busy == busy_) return;
  busy_ = busy;
  if (deps_.busy) deps_.busy(busy);
}

Scheduler::Stats Scheduler::stats() const {
  Stats s;
  s.messages = messages_.size();
  s.recipients = recipients_;
  s.in_flight = in_flight_;
  s.backlog = leftover_.size() + incoming_.size() + deferred_.size();
  for (const auto& [name, t] : transports_) {
    s.destinations += t->dests.size();
    for (const auto& [nh, d] : t->dests)
      if (d->dead_until_us > deps_.clock.now_us()) ++s.dead_destinations;
  }
  return s;
}

unsigned Scheduler::window_of(std::string_view transport, std::string_view nexthop) const {
  auto t = transports_.find(transport);
  if (t == transports_.end()) return 0;
  auto d = t->second->dests.find(nexthop);
  return d == t->second->dests.end() ? 0 : d->second->window.size();
}

}  // namespace posthorn::qmgr
