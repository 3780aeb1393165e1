// master/supervisor.h - master's services and children.
//
// For each master.cf service: its listening sockets, its children, and a
// read watch on the sockets that is armed only while the service has no
// idle or starting child and room under maxproc. A connection arriving then
// makes the socket readable and a child is spawned; children that report
// idle accept by themselves (several processes accept on one socket; the
// kernel gives each connection to one of them). So master spawns on demand,
// up to maxproc, and never while a child is idle.
//
// Children are tracked by pid with their status channel (PROTOCOL.md). A
// child that exits before its first status report failed at start-up and
// throttles its service (backoff.h); one that exits later (max_use,
// max_idle, a crash in a session) is just reaped, and the next connection
// spawns a new one at once: a crash never pauses a service.
//
// Reload: a new configuration generation. New services are bound, removed
// ones closed, changed addresses rebound; every running child is told to
// retire (finish its sessions, accept nothing new, exit). Retiring children
// still count against maxproc, so maxproc 1 services (qmgr) never run twice.
// Stop: every child is told to retire; after kStopGrace the rest get
// SIGTERM, after kKillGrace more SIGKILL; master exits when all are reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/channel.h"
#include "master/read_watch.h"

namespace posthorn::master {

inline constexpr std::chrono::seconds kStopGrace{10};
inline constexpr std::chrono::seconds kKillGrace{2};

class Supervisor {
 public:
  // `daemon_dir`: where relative master.cf commands are found. `verbose`:
  // master's own -v count; each child gets as many -v (before master.cf's
  // arguments, which may add their own), and master logs every spawn.
  Supervisor(event::EventBase& loop, std::filesystem::path daemon_dir, int verbose = 0);
  ~Supervisor();

  // Binds the sockets of every service of `cfg` and starts their timers.
  // A service whose sockets cannot be bound is logged and left out; the
  // result is an error only when no service at all could be set up while
  // some were configured.
  Result<void> start(const config::Config& cfg);
  // SIGHUP: see above. A configuration with errors keeps the running one.
  void reload(Result<config::Config> cfg);
  // SIGTERM: see above; `done` runs once every child has been reaped.
  void stop(std::function<void()> done);
  // SIGCHLD: reaps every exited child.
  void reap();

  std::size_t children() const { return children_.size(); }

 private:
  struct Svc;
  struct Child;

  void apply(const config::Config& cfg, bool reloading);
  void setup(Svc& svc, const config::Service& def, const config::Config& cfg);
  void bind(Svc& svc);
  void update(Svc& svc);
  void spawn_child(Svc& svc);
  void on_status(Child& c, const ipc::Frame& f);
  void on_exit(pid_t pid, int status);
  void throttle(Svc& svc, const std::string& why);
  void wakeup(Svc& svc);
  void retire(Child& c);
  void check_stopped();
  unsigned count(const Svc& svc, bool ready_only) const;
  std::filesystem::path program_path(const Svc& svc) const;

  event::EventBase& loop_;
  std::filesystem::path daemon_dir_;
  int verbose_ = 0;
  config::Config cfg_;
  std::uint64_t generation_ = 1;
  std::map<std::string, std::unique_ptr<Svc>> services_;
  std::map<pid_t, std::unique_ptr<Child>> children_;
  bool stopping_ = false;
  std::function<void()> stopped_;
  std::unique_ptr<event::Timer> stop_timer_;
  int stop_phase_ = 0;
};

}  // namespace posthorn::master
