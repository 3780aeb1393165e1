// master/supervisor.cc - see supervisor.h.
#include "master/supervisor.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "lib/ipc/codec.h"
#include "lib/log/log.h"
#include "lib/service/service.h"
#include "lib/service/status.h"
#include "lib/service/version.h"
#include "master/backoff.h"
#include "master/listen.h"
#include "master/spawn.h"

namespace posthorn::master {

using service::State;

struct Supervisor::Svc {
  config::Service def;
  std::vector<Fd> fds;
  std::string where;
  std::vector<std::unique_ptr<ReadWatch>> watches;
  unsigned maxproc = 0;  // 0: no limit
  std::chrono::seconds throttle_limit{60};
  unsigned failures = 0;
  bool throttled = false;
  bool removed = false;
  bool wakeup_pending = false;
  std::unique_ptr<event::Timer> throttle_timer;
  std::unique_ptr<event::Timer> wakeup_timer;
};

struct Supervisor::Child {
  pid_t pid = -1;
  std::string key;
  std::uint64_t generation = 0;
  bool ready = false;  // sent its first status report
  State state = State::idle;
  bool retiring = false;
  std::unique_ptr<ipc::Channel> status;
};

namespace {

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return cat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return cat("killed by signal ", WTERMSIG(status));
  return cat("wait status ", status);
}

bool supported(const config::Service& s) {
  return s.type == config::ServiceType::inet || s.type == config::ServiceType::unix_stream;
}

}  // namespace

Supervisor::Supervisor(event::EventBase& loop, std::filesystem::path daemon_dir, int verbose)
    : loop_(loop), daemon_dir_(std::move(daemon_dir)), verbose_(verbose) {}

Supervisor::~Supervisor() = default;

Result<void> Supervisor::start(const config::Config& cfg) {
  apply(cfg, false);
  unsigned configured = 0, bound = 0;
  for (auto& [key, svc] : services_) {
    ++configured;
    if (!svc->fds.empty()) ++bound;
  }
  if (configured > 0 && bound == 0)
    return make_error(Errc::io, "no service could open its listening sockets (see the log)");
  return {};
}

void Supervisor::apply(const config::Config& cfg, bool reloading) {
  cfg_ = cfg;
  std::set<std::string> keys;
  for (const config::Service& def : cfg.services()) {
    if (!supported(def)) {
      log::warn("service ", def.key(), ": type ", def.type_name, " is not supported; not started");
      continue;
    }
    keys.insert(def.key());
    auto& slot = services_[def.key()];
    if (!slot) {
      slot = std::make_unique<Svc>();
      if (reloading) log::info("service ", def.key(), " added");
    }
    setup(*slot, def, cfg);
  }
  for (auto& [key, svc] : services_) {
    if (keys.count(key) || svc->removed) continue;
    svc->removed = true;
    svc->watches.clear();
    svc->fds.clear();
    svc->where.clear();
    svc->wakeup_timer.reset();
    svc->throttle_timer.reset();
    log::info("service ", key, " removed");
  }
}

void Supervisor::setup(Svc& svc, const config::Service& def, const config::Config& cfg) {
  config::Config scfg = cfg.for_service(def);
  svc.def = def;
  svc.removed = false;
  svc.maxproc = def.maxproc ? *def.maxproc
                            : static_cast<unsigned>(scfg.get_int("default_process_limit"));
  svc.throttle_limit = std::chrono::seconds(scfg.get_time("service_throttle_time"));
  if (svc.fds.empty() || listen_plan(def, scfg) != svc.where) {
    svc.watches.clear();
    svc.fds.clear();
    svc.where.clear();
    auto b = open_listeners(def, scfg);
    if (!b) {
      log::error("service ", def.key(), ": cannot listen: ", b.error().detail);
    } else {
      svc.fds = std::move(b->fds);
      svc.where = std::move(b->where);
      for (const Fd& fd : svc.fds)
        svc.watches.push_back(std::make_unique<ReadWatch>(loop_, fd.get(), [this, s = &svc] {
          spawn_child(*s);
          update(*s);
        }));
    }
  }
  svc.wakeup_timer.reset();
  if (def.wakeup > 0) {
    svc.wakeup_timer = std::make_unique<event::Timer>(loop_, [this, s = &svc] {
      wakeup(*s);
      s->wakeup_timer->start(std::chrono::seconds(s->def.wakeup));
    });
    // The first wake-up comes at once, as with Postfix: qmgr and pickup look
    // at their queues as soon as the system starts.
    svc.wakeup_timer->start(std::chrono::milliseconds(0));
  }
  update(svc);
}

unsigned Supervisor::count(const Svc& svc, bool available_only) const {
  unsigned n = 0;
  for (const auto& [pid, c] : children_) {
    if (c->key != svc.def.key()) continue;
    if (!available_only || (!c->retiring && (!c->ready || c->state == State::idle))) ++n;
  }
  return n;
}

// Arms the read watch exactly when a new connection would find no process.
void Supervisor::update(Svc& svc) {
  bool room = svc.maxproc == 0 || count(svc, false) < svc.maxproc;
  bool want = !stopping_ && !svc.removed && !svc.throttled && room && count(svc, true) == 0;
  for (auto& w : svc.watches) w->arm(want);
}

std::filesystem::path Supervisor::program_path(const Svc& svc) const {
  std::filesystem::path cmd = svc.def.command;
  return cmd.is_absolute() ? cmd : daemon_dir_ / cmd;
}

void Supervisor::spawn_child(Svc& svc) {
  if (stopping_ || svc.removed || svc.throttled) return;
  auto exe = program_path(svc);
  if (::access(exe.c_str(), X_OK) != 0)
    return throttle(svc, sys_error(cat("cannot run ", exe.string())).detail);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return log::error("service ", svc.def.key(), ": ", sys_error("socketpair").detail);
  Fd mine(sv[0]), theirs(sv[1]);
  service::ServiceArgs a;
  a.config_dir = cfg_.config_directory();
  a.service_name = svc.def.name;
  a.type = svc.def.type_name;
  a.generation = generation_;
  a.listen_fds = static_cast<unsigned>(svc.fds.size());
  a.unprivileged = svc.def.unprivileged;
  a.chroot = svc.def.chroot;
  a.verbose = verbose_;
  for (const auto& o : svc.def.overrides) a.overrides.emplace_back(o.name, o.value);
  SpawnRequest req{exe, {svc.def.command}, theirs.get(), {}};
  for (auto& arg : service::format_args(a)) req.argv.push_back(std::move(arg));
  req.argv.insert(req.argv.end(), svc.def.args.begin(), svc.def.args.end());
  for (const Fd& fd : svc.fds) req.listen_fds.push_back(fd.get());
  auto pid = spawn(req);
  if (!pid) return throttle(svc, pid.error().detail);
  auto c = std::make_unique<Child>();
  c->pid = *pid;
  c->key = svc.def.key();
  c->generation = generation_;
  if (verbose_) log::info("service ", svc.def.key(), ": started ", exe.string(), " pid ", *pid);
  c->status = std::make_unique<ipc::Channel>(loop_, std::move(mine),
                                             ipc::ChannelOptions{service::status_protocol()});
  c->status->on_frame([this, p = *pid](ipc::Frame f) {
    auto it = children_.find(p);
    if (it != children_.end()) on_status(*it->second, f);
  });
  // The end of the channel says nothing master acts on: the exit itself
  // arrives with SIGCHLD.
  c->status->on_close([](const Error&) {});
  children_[*pid] = std::move(c);
}

void Supervisor::on_status(Child& c, const ipc::Frame& f) {
  auto n = ipc::decode<service::StatusNotice>(f);
  if (!n || n->pid != c.pid) {
    log::warn("process pid ", c.pid, ": bad status notice ignored: ",
              n ? std::string("pid mismatch") : n.error().detail);
    return;
  }
  Svc& svc = *services_.at(c.key);
  bool first = !c.ready;
  c.ready = true;
  c.state = n->state;
  if (first) {
    svc.failures = 0;
    if (svc.wakeup_pending && !c.retiring) {
      svc.wakeup_pending = false;
      c.status->send(ipc::encode(service::WakeupNotice{}));
    }
  }
  update(svc);
}

void Supervisor::throttle(Svc& svc, const std::string& why) {
  ++svc.failures;
  auto d = throttle_delay(svc.failures, svc.throttle_limit);
  log::warn("service ", svc.def.key(), ": ", why, "; bad command startup -- throttling for ",
            d.count(), "s (", svc.failures, " failure", svc.failures == 1 ? "" : "s",
            " in a row)");
  svc.throttled = true;
  svc.throttle_timer = std::make_unique<event::Timer>(loop_, [this, s = &svc] {
    s->throttled = false;
    if (s->wakeup_pending) wakeup(*s);
    update(*s);
  });
  svc.throttle_timer->start(d);
  update(svc);
}

void Supervisor::wakeup(Svc& svc) {
  if (stopping_ || svc.removed) return;
  for (auto& [pid, c] : children_) {
    if (c->key != svc.def.key() || !c->ready || c->retiring) continue;
    c->status->send(ipc::encode(service::WakeupNotice{}));
    return;
  }
  if (svc.def.wakeup_when_used) return;  // "60?": no process, nothing to wake
  svc.wakeup_pending = true;             // delivered by on_status() when one is ready
  bool starting = false;
  for (auto& [pid, c] : children_)
    if (c->key == svc.def.key() && !c->ready && !c->retiring) starting = true;
  if (!starting && (svc.maxproc == 0 || count(svc, false) < svc.maxproc)) spawn_child(svc);
  update(svc);
}

void Supervisor::retire(Child& c) {
  if (c.retiring) return;
  c.retiring = true;
  c.status->send(ipc::encode(service::RetireNotice{}));
}

void Supervisor::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) on_exit(pid, status);
}

void Supervisor::on_exit(pid_t pid, int status) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  std::unique_ptr<Child> c = std::move(it->second);
  children_.erase(it);
  Svc& svc = *services_.at(c->key);
  std::string how = describe_exit(status);
  bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::string what = cat("process ", program_path(svc).string(), " pid ", pid, " ", how);
  if (!c->ready && !c->retiring && !stopping_)
    throttle(svc, cat(what, " before it was ready"));
  else if (!clean && !stopping_)
    log::warn(what);
  update(svc);
  check_stopped();
}

void Supervisor::reload(Result<config::Config> cfg) {
  if (!cfg) {
    log::error("reload: the configuration has errors; keeping the running one");
    for (const auto& line : split(cfg.error().detail, '\n'))
      if (!line.empty()) log::error("reload: ", line);
    return;
  }
  ++generation_;
  log::info("reload -- version ", service::kVersion, ", configuration ",
            cfg->config_directory().string());
  for (auto& [pid, c] : children_) retire(*c);
  apply(*cfg, true);
}

void Supervisor::stop(std::function<void()> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  for (auto& [key, svc] : services_) {
    svc->watches.clear();
    svc->fds.clear();
    svc->wakeup_timer.reset();
    svc->throttle_timer.reset();
  }
  for (auto& [pid, c] : children_) retire(*c);
  stop_timer_ = std::make_unique<event::Timer>(loop_, [this] {
    int sig = stop_phase_++ == 0 ? SIGTERM : SIGKILL;
    log::warn("stopping: ", children_.size(), " process(es) still running; sending ",
              sig == SIGTERM ? "SIGTERM" : "SIGKILL");
    for (auto& [pid, c] : children_) ::kill(pid, sig);
    if (sig == SIGTERM) stop_timer_->start(kKillGrace);
  });
  stop_timer_->start(kStopGrace);
  check_stopped();
}

void Supervisor::check_stopped() {
  if (!stopping_ || !children_.empty() || !stopped_) return;
  auto done = std::move(stopped_);
  stopped_ = nullptr;
  stop_timer_.reset();
  done();
}

}  // namespace posthorn::master
