// qmgr/window.h - the concurrency window of one destination: how many
// deliveries to it may be in flight (Postfix's slow start and back-off).
//
// A destination starts at initial_destination_concurrency. Each delivery the
// destination answered (any recipient sent or bounced) opens the window by
// one, up to TRANSPORT_destination_concurrency_limit (0: no limit), and
// forgets earlier failures. Each failed delivery (agent unreachable, timeout,
// or every recipient deferred: the site did not take the mail) counts 1/window
// of a "cohort" and then closes the window by one, never below one: failures
// in a row from a window of 5 make one failed cohort at the 4th (1/5 + 1/4 +
// 1/3 + 1/2), from a window of 1 at the first. Once failed cohorts reach
// TRANSPORT_destination_concurrency_failed_cohort_limit the destination is
// dead: the caller suspends it (its mail deferred without an attempt,
// "delivery temporarily suspended") and later revives it with reset().
#pragma once

#include "qmgr/settings.h"

namespace posthorn::qmgr {

class Window {
 public:
  explicit Window(const TransportLimits& t)
      : limit_(t.concurrency_limit), initial_(t.initial_concurrency),
        cohort_limit_(t.failed_cohort_limit) {
    reset();
  }
  // Deliveries allowed in flight at once.
  unsigned size() const { return size_; }
  bool allows(unsigned in_flight) const { return in_flight < size_; }
  double failed_cohorts() const { return failed_cohorts_; }

  void success() {
    failed_cohorts_ = 0;
    if (limit_ == 0 || size_ < limit_) ++size_;
  }
  // Returns true when the destination is now dead.
  bool failure() {
    failed_cohorts_ += 1.0 / size_;
    if (size_ > 1) --size_;
    // The small margin absorbs rounding: size_ failures of 1/size_ make 1.
    return failed_cohorts_ + 1e-9 >= cohort_limit_;
  }
  void reset() {
    size_ = initial_ == 0 ? 1 : initial_;
    if (limit_ != 0 && size_ > limit_) size_ = limit_;
    failed_cohorts_ = 0;
  }

 private:
  unsigned limit_;
  unsigned initial_;
  unsigned cohort_limit_;
  unsigned size_ = 1;
  double failed_cohorts_ = 0;
};

}  // namespace posthorn::qmgr
