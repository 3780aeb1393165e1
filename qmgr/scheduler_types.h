// qmgr/scheduler_types.h - the scheduler's in-memory records (scheduler.h
// describes how they are used). Private to qmgr/scheduler*.cc.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "qmgr/scheduler.h"

namespace posthorn::qmgr {

// How one delivery ended, as recorded.
struct Scheduler::Outcome {
  enum class Kind { sent, deferred, bounced };
  Kind kind = Kind::deferred;
  std::string dsn;
  std::string text;
  std::string relay = "none";
  bool attempted = true;  // counts as a delivery attempt of the recipient
  bool log = false;       // qmgr logs the delivery line (an agent did not)
};

// One delivery of this pass: recipient `index` to the final `address`.
struct Scheduler::Unit {
  enum class State : std::uint8_t { open, sent, deferred, bounced };
  std::uint32_t index = 0;
  std::string address;
  State state = State::open;
};

// A recipient's part in the current pass.
struct RcptPass {
  std::vector<std::uint32_t> units;  // into Message::units
  bool in_pass = false;              // due and resolved in this pass
  bool expanded = false;             // more than one final address
  bool attempted = false;
  bool closed = false;               // this pass's status is written
  bool prior_bounced = false;        // a destination bounced in an earlier pass (notes)
  std::string last_dsn, last_text;   // the last deferral, for expiry texts
  std::string sent_dsn, sent_text, sent_relay;  // for a success notice
};

struct Scheduler::Message {
  queue::QueueId id;
  queue::QueueFile qf;             // envelope and statuses; content dropped
  std::int64_t active_us = 0;      // when it entered active/ (delays=a/b)
  bool expired = false;
  bool force = false;              // flushed: every pending recipient is due
  bool gone = false;               // forgotten; answers are ignored
  bool released = false;
  bool unsynced = false;           // status blocks written with Sync::later (finish.cc)
  bool side_files = true;          // may have defer/, bounce/ or notes files (admit())
  std::size_t open_units = 0;      // queued or in flight
  std::size_t counted = 0;         // recipients counted in Scheduler::recipients_
  std::vector<Unit> units;
  std::vector<RcptPass> rcpts;     // one per queue-file recipient
  std::vector<NoteEntry> notes;    // settled destinations of expanded recipients
};

struct Scheduler::Job {
  std::shared_ptr<Message> msg;
  std::vector<std::uint32_t> units;
};

struct Scheduler::Destination {
  explicit Destination(std::string nh, const TransportLimits& l) : nexthop(std::move(nh)), window(l) {}
  std::string nexthop;
  Window window;
  std::deque<Job> queue;
  unsigned in_flight = 0;
  std::int64_t dead_until_us = 0;  // suspended until then
  std::string dead_dsn, dead_text;
};

struct Scheduler::Transport {
  std::string name;
  TransportLimits limits;
  unsigned in_flight = 0;
  std::int64_t dead_until_us = 0;  // agent unreachable until then
  std::map<std::string, std::unique_ptr<Destination>, std::less<>> dests;
  std::string cursor;  // round robin: serve destinations from this name on
};

// The changes of one step to one message, written together.
struct Scheduler::Batch {
  std::set<std::uint32_t> touched;  // recipients whose units changed
  std::vector<queue::RecipientUpdate> updates;
};

}  // namespace posthorn::qmgr
