// qmgr/scheduler.h - the queue manager's core: which message is worked on,
// where each recipient goes, which delivery starts when, and what is written
// to the queue once an agent has answered.
//
// Purpose:    move mail from incoming/ (and due mail from deferred/) through
//             active/ to the delivery agents, record every outcome in the
//             queue file, and end each message: removed when every
//             recipient is done, else back to deferred/ until its next try.
// Guarantees: (the crash contract of main.cc)
//             - a message file is in exactly one queue directory at every
//               instant (moves are renames); nothing is removed before every
//               recipient is done and every notice it owes is in incoming/;
//             - an outcome is on disk before the recipient can be tried
//               again: bounce reason (fsync) before the bounced state,
//               expansion note (fsync) before a deferred state, status blocks
//               (fsync) before the message leaves active/;
//             - memory is bounded: at most qmgr_message_active_limit messages
//               and about qmgr_message_recipient_limit recipients are loaded
//               (one message may overshoot the recipient bound: it is loaded
//               whole); the backlog beyond that is kept as queue IDs only;
//             - a queue file that vanishes or moves while qmgr works on it
//               (the queue tools) is forgotten with one info line.
// Refusals:   hold/ is never scheduled. A corrupt file goes to corrupt/
//             (lib/queue) and the rest flows.
//
// The life of a message in memory (a "pass"):
//   1. admit: move it into active/ (unless it is there already), load the
//      envelope (the content is dropped: agents and notices read the file);
//   2. resolve each recipient that is not done and is due (next_attempt <=
//      now, or the message was flushed): one delivery ("unit") per final
//      address; error:, retry: and discard: destinations and resolver
//      failures are settled at once by qmgr itself;
//   3. group the units into jobs (jobs.h) queued on their destination
//      (transport, next hop); dispatch starts jobs round-robin across
//      destinations within the transport's process limit and the
//      destination's concurrency window (window.h);
//   4. record each answer: reason logs, expansion notes, status blocks;
//   5. when no unit is left open: send the notices it owes (failure,
//      success, delay), then remove it, or move it to deferred/ with its
//      modification time set to its next attempt.
// Everything runs on the one event loop; disk writes are synchronous.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/queue/queue_file.h"
#include "lib/queue/queue_id.h"
#include "lib/queue/reasons.h"
#include "lib/queue/recipient_update.h"
#include "lib/queue/spool.h"
#include "qmgr/jobs.h"
#include "qmgr/notes.h"
#include "qmgr/ports.h"
#include "qmgr/settings.h"
#include "qmgr/window.h"

namespace posthorn::qmgr {

struct Deps {
  Agents& agents;
  RecipientResolver& resolver;
  Composer& composer;
  Clock& clock;
  FileRemover& remover;
  // Told true while deliveries are in flight and false when none are
  // (main.cc holds a service Job meanwhile, so a retiring qmgr waits for
  // the answers before it exits).
  std::function<void(bool busy)> busy;
};

class Scheduler {
 public:
  Scheduler(const Settings& s, queue::Spool spool, Deps deps);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Start-up: stale temporaries in incoming/ and orphaned notes removed, the
  // messages a previous qmgr left in active/ taken again, incoming/ and
  // deferred/ scanned; then work starts.
  void start();
  // "New mail in incoming/": scans it now, or once the backlog already
  // known from it has been taken (newer files come after it anyway).
  // Before start(), each of these calls start() instead.
  void scan_incoming();
  // Looks for deferred messages whose time has come (file mtime <= now).
  void scan_deferred();
  // Makes deferred messages due now: every one (both arguments empty), those
  // with a pending recipient in `domain`, or the one `queue_id`; revives the
  // matching suspended destinations; and scans incoming/ as a wake-up
  // does. Returns how many deferred messages were made due.
  std::uint64_t flush(std::string_view domain, std::string_view queue_id);

  struct Stats {
    std::size_t messages = 0;         // in memory
    std::size_t recipients = 0;       // in memory (not done)
    std::size_t in_flight = 0;        // jobs sent to agents
    std::size_t backlog = 0;          // queue IDs waiting for room
    std::size_t destinations = 0;
    std::size_t dead_destinations = 0;
  };
  Stats stats() const;
  // The window of a destination, 0 when it has none (tests, logs).
  unsigned window_of(std::string_view transport, std::string_view nexthop) const;

  struct Message;
  struct Unit;
  struct Job;
  struct Destination;
  struct Transport;
  struct Batch;
  struct Outcome;

 private:
  // scheduler.cc: admission and the backlog
  void pump();
  bool room() const;
  bool admit_next();
  void admit(const queue::QueueId& id, queue::QueueName from);
  Result<void> move(const queue::QueueId& id, queue::QueueName from, queue::QueueName to);
  void release(Message& m);
  void forget(Message& m, std::string_view why);
  void update_busy();
  // pass.cc: resolution and outcomes
  void start_pass(const std::shared_ptr<Message>& m);
  void route(const std::shared_ptr<Message>& m, std::uint32_t index, std::vector<Routed>& out,
             Batch& batch);
  void settle_internal(Message& m, std::uint32_t index, const std::string& address,
                       const Outcome& o, Batch& batch);
  void record(Message& m, Unit& u, Outcome o, Batch& batch);
  void close_recipients(Message& m, Batch& batch);
  void log_delivery(const Message& m, std::uint32_t index, const std::string& address,
                    const std::string& relay, const std::string& dsn, const std::string& status,
                    const std::string& text);
  // dispatch.cc: destinations and agents
  void enqueue(const std::shared_ptr<Message>& m, const std::vector<JobPlan>& plans,
               Batch& batch);
  void dispatch();
  bool start_job(Transport& t, Destination& d);
  void on_answer(const std::string& transport, const std::string& nexthop, Job job,
                 const std::vector<deliver::Rcpt>& sent, AgentAnswer a);
  void drop_idle(Transport& t);
  void defer_queued(Destination& d, const Outcome& o);
  Transport& transport(const std::string& name);
  void revive(std::string_view nexthop);
  // finish.cc: the end of a pass
  void finish(Message& m);
  bool send_failure_notice(Message& m, const queue::QueueFile& full);
  bool send_success_notice(Message& m, const queue::QueueFile& full, Batch& batch);
  bool send_delay_notice(Message& m, const queue::QueueFile& full, Batch& batch);
  Result<queue::QueueId> queue_notice(const Message& m, Result<Notice> n, std::string_view what);
  void retire_message(Message& m);
  void defer_message(Message& m, std::int64_t due);

  const Settings& settings_;
  queue::Spool spool_;
  Deps deps_;
  std::map<queue::QueueId, std::shared_ptr<Message>> messages_;
  std::size_t recipients_ = 0;   // not-done recipients of messages_
  std::size_t in_flight_ = 0;
  bool busy_ = false;
  // The backlog: queue IDs only.
  std::deque<queue::QueueId> leftover_;  // in active/ at start
  std::deque<queue::QueueId> incoming_;
  std::deque<queue::QueueId> deferred_;  // due
  std::set<queue::QueueId> forced_;      // flushed: every pending recipient is due
  bool rescan_incoming_ = false;
  bool deferred_turn_ = false;           // alternate incoming and deferred
  std::map<std::string, std::unique_ptr<Transport>, std::less<>> transports_;
  bool started_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
};

}  // namespace posthorn::qmgr
