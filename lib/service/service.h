// lib/service - the skeleton every Posthorn daemon runs in (STYLE.md
// section 1). A daemon's main.cc describes itself in a Program and calls
// run(); the skeleton does the rest, in this order:
//
//   1. options: -c DIR, -n service, -t type, -g generation, -s N (listening
//      sockets at fd 4..), -u (unprivileged: drop to mail_owner when root),
//      -j (chroot into queue_directory when root), -v (more logging), and
//      -o name=value (repeatable); then the program's own options and operands
//   2. SIGPIPE ignored (a write to a gone peer is an error, not a death)
//   3. configuration: Config::load(DIR) with the -o overrides on top (or,
//      with no -o, the service's own master.cf overrides: for_service())
//   4. logging from main.cf: maillog_file, maillog_format, syslog_name,
//      syslog_facility; the program name is Program::name
//   5. the inherited descriptors of status.h: the status channel at fd 3,
//      listening sockets from fd 4 (a program not started by master stops
//      with a clear line)
//   6. Program::pre_drop (still root: open secrets and files), chdir to
//      queue_directory, then lib/privs: chroot (-j), setgroups, setresgid,
//      setresuid, verified; nothing changes when not root (instance mode)
//   7. Program::post_drop, then the event loop: accepts on every listening
//      socket and hands each connection with a Job to Program::on_accept,
//      reports idle/busy to master, runs on_wakeup on master's "wakeup"
//   8. retires: after max_use connections, after max_idle seconds idle
//      (unless Program::idle_exit is false: wakeup-driven daemons), on
//      master's "retire" or when master goes away. Retiring stops accepting
//      and exits once the last Job has ended, so no session is cut.
//
// Failures at start-up (bad options, configuration, privileges) stop the
// program with one fatal line; master sees it exit before its first status
// report and throttles the service.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/options.h"
#include "lib/base/result.h"
#include "lib/config/config.h"
#include "lib/event/event_base.h"
#include "lib/event/listener.h"

namespace posthorn::service {

// The command line master builds (and run() parses).
struct ServiceArgs {
  std::filesystem::path config_dir = "/etc/posthorn";
  std::string service_name;  // master.cf's first column
  std::string type;          // master.cf's type column
  std::uint64_t generation = 0;
  unsigned listen_fds = 0;
  bool unprivileged = false;
  bool chroot = false;
  int verbose = 0;
  std::vector<std::pair<std::string, std::string>> overrides;
  ParsedArgs program;  // the program's own options (in `opts`) and the operands
};

// Parses `args` (without argv[0]); `program_spec` is getopt-style for the
// program's own options ("x:" lets an echo daemon take -x MODE). Errors
// (Errc::invalid): unknown option, missing value, malformed -o, bad -g/-s.
Result<ServiceArgs> parse_args(const std::vector<std::string>& args,
                               std::string_view program_spec);

// The skeleton's part of a command line for `args` (not `program`): master
// runs the command with these, then master.cf's arguments as written.
std::vector<std::string> format_args(const ServiceArgs& args);

class Runtime;

// One unit of work (a connection). While any Job lives the process is busy;
// destroying the last one makes it idle again. Move-only.
class Job {
 public:
  Job() = default;
  Job(Job&& o) noexcept : rt_(std::exchange(o.rt_, nullptr)) {}
  Job& operator=(Job&& o) noexcept;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() { end(); }
  // Ends the job now (the destructor does the same).
  void end();

 private:
  friend class Runtime;
  explicit Job(Runtime* rt) : rt_(rt) {}
  Runtime* rt_ = nullptr;
};

// What callbacks may use. Owned by run(); valid until it returns.
class Context {
 public:
  virtual ~Context() = default;
  virtual const config::Config& config() const = 0;
  virtual const ServiceArgs& args() const = 0;
  virtual event::EventBase& loop() = 0;
  // Starts a job that is not a connection (a wake-up's work, say).
  virtual Job begin_job() = 0;
  // Stops accepting and exits once every Job has ended.
  virtual void retire(std::string_view why) = 0;
};

struct Program {
  std::string name;     // "smtpd": the program part of log lines
  std::string options;  // getopt-style letters of the program's own options
  bool idle_exit = true;
  // One connection at a time (Postfix's single_server): the process stops
  // accepting while a Job lives and starts again when it is idle, so a
  // process that works synchronously (local, smtp) never takes connections
  // it cannot serve yet while another process is free, and a busy process
  // is not woken by every new connection. master starts another process
  // when none is idle.
  bool single_job = false;
  // Still root (when started as root): open what the dropped identity
  // cannot. May throw to stop start-up (the message is logged as fatal).
  std::function<void(Context&)> pre_drop;
  // After the drop, before the loop: build the program's settings.
  std::function<void(Context&)> post_drop;
  // Each accepted connection, with the Job that keeps the process busy until
  // the program destroys it.
  std::function<void(Context&, event::Accepted, Job)> on_accept;
  // master's wake-up (services with a wakeup time in master.cf).
  std::function<void(Context&)> on_wakeup;
  // The loop has ended (retired, nothing left to do) and still exists:
  // free what was built on it (timers, events, connections), which must not
  // outlive it and would otherwise be freed by static destruction after it.
  std::function<void(Context&)> on_exit;
};

// Step 4 on its own (master uses it too): log::configure from main.cf's
// maillog_file (relative: from config_directory; "-": stderr; "": syslog),
// maillog_format, syslog_name and syslog_facility, as `program`.
void configure_logging(const config::Config& cfg, std::string_view program);

// Runs the program as described above; returns main()'s exit status.
int run(const Program& program, int argc, char** argv);

}  // namespace posthorn::service
