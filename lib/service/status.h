// lib/service/status.h - the master <-> child contract in code
// (master/PROTOCOL.md describes it in words; change both together).
//
// A child that master spawns finds:
//   fd 3 (kStatusFd)      one end of a UNIX stream socketpair: the status
//                         channel, lib/ipc frames, protocol "master" version 1
//   fd 4 .. 4+N-1         the service's listening sockets (kListenFd), N
//                         given by the -s option (inet: one per address)
// Every other descriptor but 0, 1 and 2 is closed.
//
// Only notices (request frames with id 0, PROTOCOL.md "Requests") travel on
// the status channel, in both directions; neither side ever waits for an
// answer, so a slow or dead peer can never block the other.
//   child -> master  "status" {pid, generation, state = idle|busy}
//   master -> child  "wakeup" (the service's wakeup timer fired)
//                    "retire" (finish the current work, accept nothing
//                              new, exit: reload and stop)
// End of file on the channel means the same as "retire" to a child (master
// has gone), and "this child has gone" to master.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/ipc/frame.h"

namespace posthorn::service {

inline constexpr int kStatusFd = 3;
inline constexpr int kListenFd = 4;
inline constexpr unsigned kMaxListenFds = 64;

inline ipc::Protocol status_protocol() { return ipc::Protocol{"master", 1}; }

enum class State { idle, busy };
std::string_view state_name(State s);

// The child's report. Strict: master trusts nothing it did not ask for.
struct StatusNotice {
  static constexpr std::string_view kName = "status";
  static constexpr bool kStrict = true;
  std::int64_t pid = 0;
  std::uint64_t generation = 0;
  State state = State::idle;
  void fields(auto& f) {
    f("pid", pid);
    f("generation", generation);
    f("state", state);
  }
};

struct WakeupNotice {
  static constexpr std::string_view kName = "wakeup";
  void fields(auto&) {}
};

struct RetireNotice {
  static constexpr std::string_view kName = "retire";
  void fields(auto&) {}
};

// lib/ipc conversion hooks for State ("idle", "busy").
std::string to_ipc_string(State s);
Result<void> from_ipc_string(std::string_view text, State& out);

}  // namespace posthorn::service
