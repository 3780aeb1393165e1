// qmgr/ports.h - what the scheduler needs from the world, as small
// interfaces: the delivery agents, recipient resolution, DSN composition and
// the clock. main.cc plugs in the real ones (agents.h, adapters.h); the unit
// tests plug in fakes (STYLE.md section 10).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/deliver/protocol.h"
#include "lib/queue/queue_file.h"
#include "lib/resolve/resolve.h"

namespace posthorn::qmgr {

// How a delivery request ended, as the scheduler sees it.
struct AgentAnswer {
  Result<deliver::Reply> reply = Error{Errc::closed, "no answer"};
  // True when the agent could not be reached at all (nothing was sent):
  // the transport, not the destination, is at fault.
  bool unreachable = false;
};

class Agents {
 public:
  virtual ~Agents() = default;
  // Sends `req` to the delivery agent of `transport` and runs `done` exactly
  // once, always later from the event loop (never inside deliver()): with
  // the agent's answer, or with an error when the connection ends without
  // one (the agent died). There is no time limit: an agent may take as long
  // as its own limits allow (qmgr/main.cc, "No answer timeout").
  virtual void deliver(const std::string& transport, const deliver::Request& req,
                       std::function<void(AgentAnswer)> done) = 0;
};

// Removes finished queue files (remover.h: off the event loop). `done` runs
// later, on the loop, with 0 or the errno of unlink(2).
class FileRemover {
 public:
  virtual ~FileRemover() = default;
  virtual void remove(std::filesystem::path path, std::function<void(int error)> done) = 0;
};

class RecipientResolver {
 public:
  virtual ~RecipientResolver() = default;
  virtual resolve::Resolution resolve(std::string_view address) = 0;
};

// Delivery status notifications (lib/bounce), as qmgr uses them.
enum class NoticeKind { failure, delay, success };

struct NoticeRcpt {
  std::string address;      // final recipient
  std::string original;     // address before rewriting, "" = same
  std::string orcpt;        // ORCPT "type;addr", "" = none
  std::string action;       // "failed", "delayed", "delivered", "expanded"
  std::string status;       // "5.1.1"
  std::string diagnostic;   // the reason as logged
  std::string remote_mta;   // relay; "", "none" or "local" = none
  std::int64_t last_attempt = 0;      // unix seconds, 0 = unknown
  std::int64_t will_retry_until = 0;  // delay notices
};

struct Notice {
  queue::Envelope env;
  std::string headers;
  std::string body;
};

class Composer {
 public:
  virtual ~Composer() = default;
  // The notice of `kind` to the sender of `original` (read with its content).
  // Errc::invalid when the sender is <> or double_bounce_sender.
  virtual Result<Notice> compose(const queue::QueueFile& original, NoticeKind kind,
                                 const std::vector<NoticeRcpt>& rcpts, std::int64_t now) = 0;
  // The postmaster's copy: of an undeliverable notice (original sender <>,
  // Postfix's 2bounce), or of a failure or delay notice the sender got.
  virtual Result<Notice> compose_postmaster(const queue::QueueFile& original, NoticeKind kind,
                                            const std::vector<NoticeRcpt>& rcpts,
                                            std::int64_t now) = 0;
  // Whether a recipient with NOTIFY bits `notify` wants a notice of `kind`.
  virtual bool wants(std::uint8_t notify, NoticeKind kind) const = 0;
  // Whether notify_classes asks for the postmaster's copy about `original`.
  virtual bool postmaster_wants(const queue::QueueFile& original, NoticeKind kind) const = 0;
  // Whether mail from `sender` must never be answered (double_bounce_sender).
  virtual bool is_double_bounce_sender(std::string_view sender) const = 0;
};

struct Clock {
  virtual ~Clock() = default;
  virtual std::int64_t now_us() = 0;  // unix microseconds
  virtual double uniform() = 0;       // a draw from [0, 1), for back-off jitter
};

}  // namespace posthorn::qmgr
