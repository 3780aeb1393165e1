// lib/service/service.cc - the daemon skeleton (see service.h for the steps).
#include "lib/service/service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <optional>

#include "lib/event/timer.h"
#include "lib/ipc/channel.h"
#include "lib/ipc/codec.h"
#include "lib/log/log.h"
#include "lib/privs/privs.h"
#include "lib/service/status.h"

namespace posthorn::service {

Job& Job::operator=(Job&& o) noexcept {
  if (this != &o) {
    end();
    rt_ = std::exchange(o.rt_, nullptr);
  }
  return *this;
}

class Runtime final : public Context {
 public:
  Runtime(const Program& p, ServiceArgs args, config::Config cfg)
      : program_(p), args_(std::move(args)), cfg_(std::move(cfg)),
        idle_timer_(loop_, [this] { retire("idle for max_idle"); }),
        exit_timer_(loop_, [this] { loop_.loopexit(); }) {}

  const config::Config& config() const override { return cfg_; }
  const ServiceArgs& args() const override { return args_; }
  event::EventBase& loop() override { return loop_; }
  Job begin_job() override {
    if (jobs_++ == 0) {
      idle_timer_.cancel();
      if (program_.single_job)
        for (auto& l : listeners_) l->disable();
      report(State::busy);
    }
    return Job(this);
  }
  void retire(std::string_view why) override;
  void end_job();
  void start();
  int serve();

 private:
  void open_status_channel();
  void on_status_frame(const ipc::Frame& f);
  void on_accept(event::Accepted a);
  void report(State s);
  void became_idle();

  const Program& program_;
  ServiceArgs args_;
  config::Config cfg_;
  event::EventBase loop_;
  std::unique_ptr<ipc::Channel> status_;
  std::vector<std::unique_ptr<event::Listener>> listeners_;
  event::Timer idle_timer_;
  event::Timer exit_timer_;
  long long uses_ = 0;
  long long max_use_ = 0;
  long long jobs_ = 0;
  bool retiring_ = false;
};

void Job::end() {
  if (Runtime* rt = std::exchange(rt_, nullptr)) rt->end_job();
}

void Runtime::end_job() {
  if (--jobs_ == 0) became_idle();
}

void Runtime::became_idle() {
  if (retiring_) {
    exit_timer_.start(std::chrono::milliseconds(0));  // leave from the loop, not a callback
    return;
  }
  if (program_.single_job)
    for (auto& l : listeners_) l->enable();
  report(State::idle);
  if (program_.idle_exit)
    idle_timer_.start(std::chrono::seconds(cfg_.get_time("max_idle")));
}

void Runtime::retire(std::string_view why) {
  if (!retiring_ && args_.verbose) log::info("retiring: ", why);
  retiring_ = true;
  for (auto& l : listeners_) l->disable();
  idle_timer_.cancel();
  if (jobs_ == 0) exit_timer_.start(std::chrono::milliseconds(0));
}

void Runtime::report(State s) {
  if (!status_ || !status_->open()) return;
  StatusNotice n;
  n.pid = ::getpid();
  n.generation = args_.generation;
  n.state = s;
  status_->send(ipc::encode(n));
}

void Runtime::on_status_frame(const ipc::Frame& f) {
  if (f.name == WakeupNotice::kName) {
    if (program_.on_wakeup && !retiring_) program_.on_wakeup(*this);
  } else if (f.name == RetireNotice::kName) {
    retire("master asked");
  } else {
    log::warn("status channel: unknown notice ", printable(f.name), " from master ignored");
  }
}

void Runtime::open_status_channel() {
  struct stat st {};
  if (::fstat(kStatusFd, &st) != 0 || !S_ISSOCK(st.st_mode))
    throw std::runtime_error(cat("no status channel at fd ", kStatusFd,
                                 ": this program is started by master, not by hand"));
  ::fcntl(kStatusFd, F_SETFD, FD_CLOEXEC);
  status_ = std::make_unique<ipc::Channel>(loop_, Fd(kStatusFd),
                                           ipc::ChannelOptions{status_protocol()});
  status_->on_frame([this](ipc::Frame f) { on_status_frame(f); });
  status_->on_close([this](const Error&) { retire("master has gone"); });
}

void Runtime::on_accept(event::Accepted a) {
  Job job = begin_job();
  if (max_use_ > 0 && ++uses_ >= max_use_) retire("max_use reached");
  if (program_.on_accept) program_.on_accept(*this, std::move(a), std::move(job));
}

// Steps 5 and 7 of service.h: inherited descriptors, then the listeners.
void Runtime::start() {
  max_use_ = cfg_.get_int("max_use");
  open_status_channel();
  for (unsigned i = 0; i < args_.listen_fds; ++i) {
    int fd = kListenFd + static_cast<int>(i);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
      throw std::runtime_error(cat("no listening socket at fd ", fd));
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    listeners_.push_back(std::make_unique<event::Listener>(
        loop_, Fd(fd), [this](event::Accepted a) { on_accept(std::move(a)); }));
  }
}

int Runtime::serve() {
  became_idle();  // the first report: master learns that start-up worked
  auto r = loop_.run();
  if (!r) log::error("event loop: ", r.error().detail);
  if (program_.on_exit) program_.on_exit(*this);
  return r ? 0 : 1;
}

namespace {

config::Config load_config(const ServiceArgs& a) {
  auto cfg = config::Config::load(a.config_dir);
  if (!cfg) throw std::runtime_error(cfg.error().detail);
  if (!a.overrides.empty()) {
    auto o = cfg->with_overrides(a.overrides);
    if (!o) throw std::runtime_error(o.error().detail);
    return std::move(*o);
  }
  if (const config::Service* s = cfg->find_service(cat(a.service_name, "/", a.type)))
    return cfg->for_service(*s);
  return std::move(*cfg);
}

}  // namespace

void configure_logging(const config::Config& cfg, std::string_view program) {
  log::Options o;
  o.program = std::string(program);
  o.syslog_name = cfg.get("syslog_name");
  o.syslog_facility = cfg.get("syslog_facility");
  std::string file = cfg.get("maillog_file");
  o.file = (file.empty() || file == "-" || file.front() == '/') ? file
                                                                : cfg.get_path("maillog_file").string();
  log::parse_format(cfg.get("maillog_format"), o.format);
  log::configure(o);
}

namespace {

// Step 6: the order of STYLE.md section 9; lib/privs does the switching.
void drop_privileges(Runtime& rt, const Program& p) {
  const auto& cfg = rt.config();
  if (p.pre_drop) p.pre_drop(rt);
  auto spool = cfg.get_path("queue_directory");
  if (::chdir(spool.c_str()) != 0)
    throw std::runtime_error(sys_error(cat("chdir ", spool.string())).detail);
  if (!rt.args().unprivileged || !privs::is_root()) return;
  auto who = privs::mail_owner_identity(cfg.get("mail_owner"));
  if (!who) throw std::runtime_error(who.error().detail);
  // What logging needs is in hand before the chroot hides the file system:
  // the log file and the syslog socket were opened by configure_logging()
  // (LOG_NDELAY), and the time zone is loaded now, or every time stamp
  // inside the jail would come out in UTC (no /etc/localtime, no zoneinfo).
  if (rt.args().chroot) ::tzset();
  auto r = privs::drop(*who, rt.args().chroot ? spool : std::filesystem::path());
  if (!r) throw std::runtime_error(cat("privilege drop: ", r.error().detail));
}

}  // namespace

int run(const Program& program, int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  log::set_program(program.name);
  auto args = parse_args(std::vector<std::string>(argv + 1, argv + argc), program.options);
  if (!args) log::fatal(program.name, ": ", args.error().detail);
  std::optional<Runtime> rt;
  try {
    config::Config cfg = load_config(*args);
    configure_logging(cfg, program.name);
    rt.emplace(program, std::move(*args), std::move(cfg));
    rt->start();
    drop_privileges(*rt, program);
    if (program.post_drop) program.post_drop(*rt);
  } catch (const std::exception& e) {
    log::fatal(e.what());
  }
  return rt->serve();
}

}  // namespace posthorn::service
