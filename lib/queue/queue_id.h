// lib/queue/queue_id.h - queue IDs: unique, short, sortable by arrival, safe as file names.
//
// A queue ID is the arrival time in microseconds since the epoch, written as
// 11 characters of Crockford's base-32 alphabet (0-9 A-Z without I L O U, which
// is in ASCII order, so fixed-width time prefixes sort as the times do), then
// the inode number of the queue file in the same alphabet without leading
// zeros (1 to 13 characters). Example: "1J45FZ3Z2J044J" is 2025-11-22
// 10:00:00.123456 UTC, inode 4242.
//
// Why it is unique across concurrent processes on one host: all queue
// directories are on one filesystem (check_one_filesystem() in spool.h), and
// an inode number names at most one existing file there at any instant. The
// writer creates its file first, then takes the time T while it holds the
// inode, and then waits until the clock has passed T before it publishes the
// file (make_queue_id()). Another message that held the same inode earlier
// took its time and waited for the clock to move on before it could publish
// and later be deleted, so its T is strictly smaller. Two messages that hold
// different inodes differ in the tail. XXX: a realtime clock stepped backwards
// could in theory repeat a (time, inode) pair; publishing never replaces an
// existing file (RENAME_NOREPLACE), so the worst case is a refused write, not
// a lost message.
//
// The characters are upper case letters and digits only: no '/', no '.', no
// case-folding trouble on any filesystem.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace posthorn::queue {

class QueueId {
 public:
  static constexpr std::size_t kTimeChars = 11;    // 55 bits of microseconds: until ~3111
  static constexpr std::size_t kMaxInodeChars = 13;  // 64 bits
  static constexpr std::size_t kMaxLength = kTimeChars + kMaxInodeChars;

  QueueId() = default;
  // micros must be below 2^55; inode is any 64-bit value.
  QueueId(std::uint64_t micros, std::uint64_t inode);

  // Validates the canonical form only: exactly 11 time characters, then 1..13
  // inode characters, no leading zero in the inode part, value fits 64 bits.
  // Errc::parse otherwise. str(parse(s)) == s for every accepted s.
  static Result<QueueId> parse(std::string_view s);

  std::string str() const;
  std::uint64_t micros() const { return micros_; }  // arrival, µs since the epoch
  std::uint64_t inode() const { return inode_; }
  bool empty() const { return micros_ == 0 && inode_ == 0; }

  auto operator<=>(const QueueId&) const = default;  // == arrival order, then inode

 private:
  std::uint64_t micros_ = 0;
  std::uint64_t inode_ = 0;
};

// Reads CLOCK_REALTIME, then busy-waits (at most about a microsecond) until the
// clock has moved past the value taken, so that no later call on this host can
// return the same time (see the uniqueness argument above). `inode` is the
// inode number of the file the caller already holds open.
QueueId make_queue_id(std::uint64_t inode);

// For lib/ipc, found by argument-dependent lookup.
std::string to_ipc_string(const QueueId& id);
Result<QueueId> from_ipc_string(std::string_view s);

}  // namespace posthorn::queue
