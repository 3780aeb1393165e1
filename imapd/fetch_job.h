// imapd/fetch_job.h - a FETCH in progress (imapd/cmd_fetch.cc). A FETCH of
// many messages is answered in pieces: the job remembers where it stopped
// while the output was congested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imapd/fetch_items.h"
#include "imapd/session.h"

namespace posthorn::imapd {

struct Session::FetchJob {
  std::string tag;
  FetchRequest req;
  std::vector<std::uint32_t> seqs;      // sequence numbers still to answer, from `next`
  std::size_t next = 0;
  std::vector<std::uint32_t> seen_now;  // UIDs this FETCH set \Seen on, ascending
  bool uid = false;                     // UID FETCH
  bool expunged = false;                // some messages were gone
  bool failed = false;                  // some messages could not be read
  bool unknown_cte = false;             // BINARY met an encoding it cannot undo
};

}  // namespace posthorn::imapd
