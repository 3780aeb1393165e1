// master - the supervisor of every Posthorn daemon.
// Does:       reads master.cf, binds every listening socket, spawns services on
//             demand up to maxproc, hands them their sockets, wakes services with
//             a wakeup time, reaps and replaces children (throttling a service
//             that fails at start-up), reloads on SIGHUP, stops on SIGTERM.
// Talks to:   its children over their status channels (PROTOCOL.md here).
// Runs as:    root, so that it can bind privileged ports and start `local`; it
//             never reads mail, parses no network input and stays small. In
//             instance mode, the invoking user; nothing changes identity then.
// Trusts:     a child's status notices only for that child (checked pid).
//
// Usage: master [-c DIR] [-w] [-v] — -w detaches, and the first process exits 0
// once the new master is up, or 1 with the reason on stderr (posthorn start);
// -v (repeatable) logs every spawn and passes as many -v to every child.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "lib/base/file.h"
#include "lib/base/options.h"
#include "lib/config/config.h"
#include "lib/event/signal.h"
#include "lib/log/log.h"
#include "lib/privs/privs.h"
#include "lib/queue/spool.h"
#include "lib/service/master_lock.h"
#include "lib/service/spool_owners.h"
#include "lib/service/service.h"
#include "lib/service/version.h"
#include "master/supervisor.h"

namespace posthorn::master {

namespace {

void to_dev_null() {
  Fd null(::open("/dev/null", O_RDWR));
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null.get(), fd);
}

// Where start-up failures are told: the -w pipe to the waiting parent, or
// stderr when master runs in the foreground.
struct Reporter {
  Fd pipe;
  [[noreturn]] void fail(const std::string& why) {
    std::string line = cat("master: fatal: ", why, "\n");
    if (pipe) (void)write_all(pipe.get(), line);
    else std::fputs(line.c_str(), stderr);
    log::emit({log::Level::error, "message", {}, {}, cat("fatal: ", why)});
    std::exit(1);
  }
  // Detached: stdio goes to /dev/null only now, so that every start-up
  // failure before this point still reached the waiting parent.
  void ready() {
    if (!pipe) return;
    (void)write_all(pipe.get(), "ready\n");
    pipe.reset();
    to_dev_null();
  }
};

// -w: the parent waits for "ready" or a reason from the detached child.
Fd detach() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    std::perror("master: pipe");
    std::exit(1);
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("master: fork");
    std::exit(1);
  }
  Fd read_end(p[0]), write_end(p[1]);
  if (pid > 0) {
    write_end.reset();
    std::string got;
    char buf[512];
    ssize_t n;
    while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    if (got == "ready\n") std::exit(0);
    std::fputs(got.empty() ? "master: fatal: exited during start-up (see the log)\n" : got.c_str(),
               stderr);
    std::exit(1);
  }
  read_end.reset();
  ::setsid();
  return write_end;
}

// daemon_directory when main.cf sets it; else the directory of this very
// program, so that a build tree and an installation both find their daemons
// beside master (installed: /usr/lib/posthorn, the parameter's default).
std::filesystem::path daemon_directory(const config::Config& cfg) {
  if (!cfg.is_default("daemon_directory")) return cfg.get_path("daemon_directory");
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? cfg.get_path("daemon_directory") : self.parent_path();
}


std::filesystem::path make_data_directory(const config::Config& cfg,
                                          const queue::SpoolOwners& owners, Reporter& rep) {
  auto dir = cfg.get_path("data_directory");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) rep.fail(cat("data_directory ", dir.string(), ": ", ec.message()));
  if (privs::is_root() && ::chown(dir.c_str(), owners.mail_owner, owners.mail_group) != 0)
    rep.fail(sys_error(cat("chown ", dir.string())).detail);
  return dir;
}

int run(const std::filesystem::path& config_dir, int verbose, Reporter rep) {
  auto cfg = config::Config::load(config_dir);
  if (!cfg) rep.fail(cat("configuration ", config_dir.string(), ":\n", cfg.error().detail));
  service::configure_logging(*cfg, "master");
  ::umask(022);
  auto owners_or = service::spool_owners(*cfg);
  if (!owners_or) rep.fail(owners_or.error().detail);
  const queue::SpoolOwners owners = *owners_or;
  auto data_dir = make_data_directory(*cfg, owners, rep);
  auto lock = service::MasterLock::acquire(data_dir);
  if (!lock) rep.fail(lock.error().detail);
  queue::Spool spool(cfg->get_path("queue_directory"));
  if (auto r = queue::create_spool(spool, owners); !r) rep.fail(cat("spool: ", r.error().detail));
  if (auto r = queue::check_one_filesystem(spool); !r) rep.fail(r.error().detail);
  if (::chdir(spool.root().c_str()) != 0) rep.fail(sys_error("chdir to the spool").detail);

  event::EventBase loop;
  Supervisor sup(loop, daemon_directory(*cfg), verbose);
  auto stop = [&](const char* sig) {
    log::info("terminating on signal ", sig);
    sup.stop([&] { loop.loopexit(); });
  };
  event::Signal term(loop, SIGTERM, [&] { stop("15"); });
  event::Signal intr(loop, SIGINT, [&] { stop("2"); });
  event::Signal hup(loop, SIGHUP, [&] { sup.reload(config::Config::load(config_dir)); });
  event::Signal chld(loop, SIGCHLD, [&] { sup.reap(); });
  if (auto r = sup.start(*cfg); !r) rep.fail(r.error().detail);
  log::info("daemon started -- version ", service::kVersion, ", configuration ",
            config_dir.string());
  rep.ready();
  auto r = loop.run();
  if (!r) log::error("event loop: ", r.error().detail);
  return r ? 0 : 1;
}

}  // namespace

}  // namespace posthorn::master

int main(int argc, char** argv) {
  using namespace posthorn;
  std::signal(SIGPIPE, SIG_IGN);
  log::set_program("master");
  auto opts = parse_options(std::vector<std::string>(argv + 1, argv + argc), "c:whv");
  if (!opts.error.empty() || opts.has('h') || !opts.operands.empty()) {
    std::fprintf(opts.has('h') ? stdout : stderr, "usage: master [-c DIR] [-w] [-v]\n");
    return opts.has('h') ? 0 : 64;
  }
  const char* env = std::getenv("MAIL_CONFIG");
  std::filesystem::path dir = opts.has('c') ? opts.value('c') : (env && *env ? env : "/etc/posthorn");
  dir = std::filesystem::absolute(dir);
  master::Reporter rep;
  if (opts.has('w')) rep.pipe = master::detach();
  int verbose = 0;
  for (const auto& [opt, value] : opts.opts) verbose += opt == 'v';
  return master::run(dir, verbose, std::move(rep));
}
