// lib/queue/queue_id.cc - see queue_id.h.
#include "lib/queue/queue_id.h"

#include <time.h>

#include "lib/base/strings.h"

namespace posthorn::queue {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::uint64_t kTimeLimit = std::uint64_t{1} << 55;

int digit_value(char c) {
  std::size_t p = kAlphabet.find(c);
  return p == std::string_view::npos ? -1 : static_cast<int>(p);
}

std::uint64_t now_micros() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

QueueId::QueueId(std::uint64_t micros, std::uint64_t inode)
    : micros_(micros % kTimeLimit), inode_(inode) {}

std::string QueueId::str() const {
  std::string out(kTimeChars, '0');
  std::uint64_t t = micros_;
  for (std::size_t i = kTimeChars; i-- > 0; t >>= 5) out[i] = kAlphabet[t & 31];
  std::string tail;
  std::uint64_t n = inode_;
  do {
    tail.insert(tail.begin(), kAlphabet[n & 31]);
    n >>= 5;
  } while (n != 0);
  return out + tail;
}

Result<QueueId> QueueId::parse(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::parse, cat("bad queue ID \"", printable(s.substr(0, 40)), "\": ", why));
  };
  if (s.size() <= kTimeChars || s.size() > kMaxLength) return bad("wrong length");
  std::uint64_t micros = 0, inode = 0;
  for (std::size_t i = 0; i < kTimeChars; ++i) {
    int d = digit_value(s[i]);
    if (d < 0) return bad("bad character");
    micros = (micros << 5) | static_cast<unsigned>(d);
  }
  std::string_view tail = s.substr(kTimeChars);
  if (tail.size() > 1 && tail[0] == '0') return bad("leading zero in inode part");
  if (tail.size() == kMaxInodeChars && digit_value(tail[0]) > 15) return bad("inode too large");
  for (char c : tail) {
    int d = digit_value(c);
    if (d < 0) return bad("bad character");
    inode = (inode << 5) | static_cast<unsigned>(d);
  }
  return QueueId(micros, inode);
}

QueueId make_queue_id(std::uint64_t inode) {
  std::uint64_t t = now_micros();
  // Wait for the next microsecond: see the uniqueness argument in the header.
  // A clock stepped backwards ends the wait too rather than spinning for as
  // long as the step; the no-replace publish covers that case.
  while (now_micros() == t) {
  }
  return QueueId(t, inode);
}

std::string to_ipc_string(const QueueId& id) { return id.str(); }
Result<QueueId> from_ipc_string(std::string_view s) { return QueueId::parse(s); }

}  // namespace posthorn::queue
