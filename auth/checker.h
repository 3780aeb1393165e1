// auth/checker.h - the auth service's decision for one `check` request:
// the password tables, the stored-hash check and the per-client failure
// count. No I/O but the table lookups; the time is a parameter, so tests
// drive it with a fake clock.
//
// Guarantees: the tables of auth_password_maps are searched in order and the
// first that knows the login decides (Postfix's rule for table lists); a
// table that cannot be read makes the answer temporary, never "wrong
// password", and is not counted against the client. A login without an entry
// costs about as much CPU as one with an entry (lib/auth spend_check_time).
// A client address with auth_failure_limit failures within the last hour is
// refused without a look at its password; its failures expire one by one an
// hour after they happened.
// Bounds: at most kMaxClients addresses are remembered; beyond that, the one
// whose last failure is oldest is forgotten first.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/auth/protocol.h"
#include "lib/base/result.h"
#include "lib/maps/table.h"

namespace posthorn::auth {

using Clock = std::chrono::steady_clock;

// Failures per client address within a sliding window.
class FailureCount {
 public:
  static constexpr std::size_t kMaxClients = 100000;

  explicit FailureCount(std::size_t limit, Clock::duration window = std::chrono::hours(1))
      : limit_(limit), window_(window) {}
  // True when `client` has `limit` failures within the window before `now`.
  bool refused(const std::string& client, Clock::time_point now);
  void add(const std::string& client, Clock::time_point now);
  std::size_t clients() const { return by_client_.size(); }

 private:
  void expire(std::deque<Clock::time_point>& times, Clock::time_point now) const;
  void forget_oldest();

  std::size_t limit_;
  Clock::duration window_;
  std::map<std::string, std::deque<Clock::time_point>> by_client_;
};

struct Outcome {
  Checked reply;
  bool failed = false;        // a failure: delayed and counted
  std::string reason;         // for the log: "wrong password", "unknown login", ...
  std::string table_warning;  // an entry or table the administrator should look at
};

class Checker {
 public:
  // Opens every table of `specs` (auth_password_maps). Errors: those of
  // maps::open_table, naming the table.
  static Result<Checker> open(const std::vector<std::string>& specs, bool allow_plain,
                              std::size_t failure_limit);
  // Decides one request at `now`; failures are counted here.
  Outcome check(const Check& req, Clock::time_point now);
  // Reopens the tables whose files changed since they were opened. Errors:
  // a changed table that cannot be reopened (the old contents stay in use).
  Result<void> reopen_changed();

 private:
  Checker(std::vector<std::string> specs, bool allow_plain, std::size_t failure_limit)
      : specs_(std::move(specs)), allow_plain_(allow_plain), failures_(failure_limit) {}
  Outcome verify(const Check& req, const std::string& login);

  std::vector<std::string> specs_;
  std::vector<std::unique_ptr<maps::Table>> tables_;
  bool allow_plain_;
  FailureCount failures_;
};

}  // namespace posthorn::auth
