// posthorn start|stop|reload|status|version - controls the master of one
// instance (Postfix's `postfix start` and friends).
//
//   posthorn [-c DIR] start    runs master detached; waits until it is up, or
//                              prints why it could not start
//   posthorn [-c DIR] stop     SIGTERM to master; waits until every process of
//                              the instance is gone (the master lock is free)
//   posthorn [-c DIR] reload   SIGHUP to master
//   posthorn [-c DIR] status   exit 0 when running, 1 when not
//   posthorn version           the release
//
// Which master runs: daemon_directory/master when main.cf sets
// daemon_directory; else the master beside this posthorn program (a build
// tree: build/bin); else the default daemon_directory (/usr/lib/posthorn).
// Whether master runs is read from its lock (lib/service/master_lock.h).
// Exit status: 0; 1 when the system is not in the state asked for (not
// running, already running, did not stop in time); 64 usage; 78 configuration.
#include <signal.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <thread>

#include "lib/base/options.h"
#include "lib/config/config.h"
#include "lib/service/master_lock.h"
#include "lib/service/version.h"
#include "tools/posthorn/command.h"

namespace posthorn::tools {

namespace {

constexpr auto kStopWait = std::chrono::seconds(30);  // master's own bound is 12 s

// Handles -c DIR and -h/--help for each control command; nullopt: exit with `rc`.
std::optional<config::Config> prepare(Context& ctx, const std::vector<std::string>& args,
                                      const char* help, int& rc) {
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest)
    if (a == "--help") rest = {"-h"};
  auto p = parse_options(rest, "c:h");
  if (!p.error.empty() || !p.operands.empty()) {
    rc = usage_error(args[0], p.error.empty() ? "unexpected argument " + p.operands[0] : p.error);
    return std::nullopt;
  }
  if (p.has('h')) {
    std::printf("usage: posthorn %s [-c DIR]\n%s", args[0].c_str(), help);
    rc = 0;
    return std::nullopt;
  }
  if (p.has('c')) ctx.config_dir = p.value('c');
  ctx.config_dir = std::filesystem::absolute(ctx.config_dir);
  auto cfg = config::Config::load(ctx.config_dir);
  if (!cfg) {
    std::fprintf(stderr, "posthorn %s: %s\n", args[0].c_str(), cfg.error().detail.c_str());
    rc = EX_CONFIG;
    return std::nullopt;
  }
  return std::move(*cfg);
}

// The pid of the running master, or nullopt; prints and sets rc on error.
std::optional<pid_t> master_pid(const config::Config& cfg, const std::string& cmd, int& rc) {
  auto r = service::running_master(cfg.get_path("data_directory"));
  if (!r) {
    std::fprintf(stderr, "posthorn %s: %s\n", cmd.c_str(), r.error().detail.c_str());
    rc = 1;
    return std::nullopt;
  }
  return *r;
}

std::filesystem::path master_program(const config::Config& cfg) {
  if (!cfg.is_default("daemon_directory")) return cfg.get_path("daemon_directory") / "master";
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && std::filesystem::exists(self.parent_path() / "master"))
    return self.parent_path() / "master";
  return cfg.get_path("daemon_directory") / "master";
}

int start(Context& ctx, const std::vector<std::string>& args) {
  int rc = 0;
  auto cfg = prepare(ctx, args, "Starts the mail system and waits until master is up.\n", rc);
  if (!cfg) return rc;
  auto running = master_pid(*cfg, "start", rc);
  if (rc) return rc;
  if (running) {
    std::fprintf(stderr, "posthorn start: the mail system is already running (master pid %d)\n",
                 static_cast<int>(*running));
    return 1;
  }
  auto exe = master_program(*cfg);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("posthorn start: fork");
    return 1;
  }
  if (pid == 0) {
    std::string dir = ctx.config_dir.string();
    ::execl(exe.c_str(), "master", "-c", dir.c_str(), "-w", static_cast<char*>(nullptr));
    std::fprintf(stderr, "posthorn start: cannot run %s: %s\n", exe.c_str(), std::strerror(errno));
    ::_exit(1);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "posthorn start: the mail system did not start\n");
    return 1;
  }
  return 0;
}

int stop(Context& ctx, const std::vector<std::string>& args) {
  int rc = 0;
  auto cfg = prepare(ctx, args, "Stops the mail system; waits until every process is gone.\n", rc);
  if (!cfg) return rc;
  auto running = master_pid(*cfg, "stop", rc);
  if (rc) return rc;
  if (!running) {
    std::fprintf(stderr, "posthorn stop: the mail system is not running\n");
    return 1;
  }
  if (*running > 0 && ::kill(*running, SIGTERM) != 0) {
    std::fprintf(stderr, "posthorn stop: signal master pid %d: %s\n", static_cast<int>(*running),
                 std::strerror(errno));
    return 1;
  }
  auto until = std::chrono::steady_clock::now() + kStopWait;
  while (std::chrono::steady_clock::now() < until) {
    auto still = master_pid(*cfg, "stop", rc);
    if (rc) return rc;
    if (!still) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr, "posthorn stop: master pid %d is still running after %llds\n",
               static_cast<int>(*running), static_cast<long long>(kStopWait.count()));
  return 1;
}

int reload(Context& ctx, const std::vector<std::string>& args) {
  int rc = 0;
  auto cfg = prepare(ctx, args, "Makes master re-read main.cf and master.cf.\n", rc);
  if (!cfg) return rc;
  auto running = master_pid(*cfg, "reload", rc);
  if (rc) return rc;
  if (!running || *running == 0) {
    std::fprintf(stderr, "posthorn reload: the mail system is not running\n");
    return 1;
  }
  if (::kill(*running, SIGHUP) != 0) {
    std::fprintf(stderr, "posthorn reload: signal master pid %d: %s\n",
                 static_cast<int>(*running), std::strerror(errno));
    return 1;
  }
  return 0;
}

int status(Context& ctx, const std::vector<std::string>& args) {
  int rc = 0;
  auto cfg = prepare(ctx, args, "Exit status 0 when the mail system is running, 1 when not.\n", rc);
  if (!cfg) return rc;
  auto running = master_pid(*cfg, "status", rc);
  if (rc) return rc;
  if (!running) {
    std::fprintf(stderr, "posthorn status: the mail system is not running\n");
    return 1;
  }
  std::printf("posthorn status: the mail system is running: master pid %d\n",
              static_cast<int>(*running));
  return 0;
}

int version(Context&, const std::vector<std::string>& args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      std::printf("usage: posthorn version\nPrints the release of this build.\n");
      return 0;
    }
    return usage_error(args[0], "unexpected argument " + args[i]);
  }
  std::printf("posthorn %s\n", service::kVersion);
  return 0;
}

Registration reg_start{"start", start, "start [-c DIR]"};
Registration reg_stop{"stop", stop, "stop [-c DIR]"};
Registration reg_reload{"reload", reload, "reload [-c DIR]"};
Registration reg_status{"status", status, "status [-c DIR]"};
Registration reg_version{"version", version, "version"};

}  // namespace

}  // namespace posthorn::tools
