// sendmail - the sendmail-compatible submission command; also mailq and
// newaliases, by the name it is run under.
// Does:       reads a message (or an SMTP session with -bs) and queues it
//             through postdrop; -bp/mailq lists the queue, -bi/newaliases
//             rebuilds alias_database, -q asks qmgr to flush, -bd starts the
//             mail system (posthorn start), as Postfix's sendmail does.
// Talks to:   postdrop (a pipe each way, submit.h), posthorn (exec: queue
//             list, map build-aliases, start), qmgr (flush, trigger.h).
// Runs as:    the invoking user, with no privilege of its own: postdrop is
//             the set-gid part.
// Trusts:     nothing on its input that postdrop and pickup do not check
//             again; its own checks exist to give the user an early, clear
//             error and a sysexits.h code (options 64, message 65, ...).
// Finds:      postdrop and posthorn in command_directory when main.cf sets
//             it, else beside this program (a build tree), else in the
//             default command_directory.
#include <fcntl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/log/log.h"
#include "lib/queue/trigger.h"
#include "lib/service/service.h"
#include "tools/sendmail/args.h"
#include "tools/sendmail/envelope.h"
#include "tools/sendmail/input.h"
#include "tools/sendmail/smtp_stdio.h"
#include "tools/sendmail/submit.h"

namespace {

using namespace posthorn;
using sendmail::Args;
using sendmail::Mode;

constexpr const char* kDefaultConfigDir = "/etc/posthorn";

// Messages for the user go to standard error, led by the name we run under;
// errors and notes also go to the mail log when this user may write it.
class Reporter {
 public:
  explicit Reporter(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  void use_mail_log() { mail_log_ = true; }
  int fail(int code, const std::string& text) const {
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), text.c_str());
    if (mail_log_) log::error(text);
    return code;
  }
  void note(const std::string& text) const {
    if (mail_log_) log::info(text);
  }

 private:
  std::string name_;
  bool mail_log_ = false;
};

std::filesystem::path config_dir(const Args& a) {
  const char* env = std::getenv("MAIL_CONFIG");
  std::filesystem::path dir = a.config ? *a.config : (env && *env ? env : kDefaultConfigDir);
  std::error_code ec;
  if (std::filesystem::is_regular_file(dir, ec)) dir = dir.parent_path();  // -C .../main.cf
  return std::filesystem::absolute(dir, ec);
}

// The mail log of main.cf when it is syslog or a file this user may append
// to; standard error carries the user's messages already.
void open_mail_log(const config::Config& cfg, Reporter& rep) {
  std::string file = cfg.get("maillog_file");
  if (file == "-" || file == "/dev/stderr") return;
  if (!file.empty()) {
    std::filesystem::path p = file.front() == '/' ? std::filesystem::path(file)
                                                  : cfg.get_path("maillog_file");
    if (!open_file(p, O_WRONLY | O_APPEND | O_CREAT, 0640)) return;
  }
  service::configure_logging(cfg, "sendmail");
  rep.use_mail_log();
}

std::filesystem::path command(const config::Config& cfg, std::string_view name) {
  if (!cfg.is_default("command_directory")) return cfg.get_path("command_directory") / name;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && std::filesystem::exists(self.parent_path() / name, ec)) return self.parent_path() / name;
  return cfg.get_path("command_directory") / name;
}

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (std::string& a : args) v.push_back(a.data());
  v.push_back(nullptr);
  return v;
}

// Replaces this process with `posthorn -c DIR ARGS...`.
int exec_posthorn(const config::Config& cfg, const std::filesystem::path& dir,
                  std::vector<std::string> args, const Reporter& rep) {
  std::filesystem::path exe = command(cfg, "posthorn");
  args.insert(args.begin(), {"posthorn", "-c", dir.string()});
  std::fflush(nullptr);
  ::execv(exe.c_str(), argv_of(args).data());
  return rep.fail(EX_UNAVAILABLE, cat("cannot run ", exe.string(), ": ", std::strerror(errno)));
}

// `posthorn -c DIR ARGS...` as a child; its exit status.
int run_posthorn(const config::Config& cfg, const std::filesystem::path& dir,
                 std::vector<std::string> args, const Reporter& rep) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return rep.fail(EX_OSERR, cat("fork: ", std::strerror(errno)));
  if (pid == 0) ::_exit(exec_posthorn(cfg, dir, std::move(args), rep));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return EX_OSERR;
  return WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE;
}

// -bi / newaliases: every table of alias_database, as Postfix's newaliases.
int build_aliases(const config::Config& cfg, const std::filesystem::path& dir, const Reporter& rep) {
  int worst = 0;
  for (const std::string& table : cfg.get_list("alias_database")) {
    int rc = run_posthorn(cfg, dir, {"map", "build-aliases", table}, rep);
    if (rc != 0 && worst == 0) worst = rc;
  }
  return worst;
}

// -q: qmgr moves deferred mail back to be tried now.
int flush(const config::Config& cfg, const Args& a, const Reporter& rep) {
  if (a.flush_interval) {
    rep.note("-q with an interval ignored: qmgr runs the queue by itself");
    return 0;
  }
  queue::Spool spool(cfg.get_path("queue_directory"));
  auto n = queue::flush_qmgr(spool, queue::Flush{a.flush_domain, a.flush_id});
  if (!n && n.error().code == Errc::permission)  // public/ is the maildrop group's
    return rep.fail(EX_NOPERM, cat("cannot flush the queue: ", n.error().detail));
  if (!n)
    return rep.fail(EX_UNAVAILABLE, cat("cannot flush the queue (is the mail system running?): ",
                                        n.error().detail));
  if (a.verbose) std::fprintf(stderr, "%s: %llu messages scheduled\n", rep.name().c_str(),
                              static_cast<unsigned long long>(*n));
  return 0;
}

// The sender and the full name: -f/-F, else the user's account. With -bs
// the sender comes from MAIL FROM, so a user without an account may use it.
struct Who {
  std::string sender;
  std::string full_name;
};
Result<Who> who_submits(const Args& a) {
  auto account = sendmail::account_of(::getuid());
  Who w;
  if (a.sender) {
    auto s = sendmail::parse_sender(*a.sender);
    if (!s) return std::move(s).error();
    w.sender = *s;
  } else if (a.mode != Mode::smtp) {
    if (!account) return std::move(account).error();
    w.sender = account->login;
  }
  w.full_name = sendmail::choose_full_name(a.full_name, std::getenv("NAME"),
                                           account ? account->full_name : std::string());
  return w;
}

int deliver(const Args& a, const Who& who, const sendmail::Submitter& sub,
            const config::Config& cfg, const Reporter& rep) {
  if (a.recipients.empty() && !a.extract)
    return rep.fail(EX_USAGE, "no recipient addresses: give them on the command line or use -t");
  auto rcpts = sendmail::parse_recipients(a.recipients);
  if (!rcpts) return rep.fail(EX_USAGE, rcpts.error().detail);
  sendmail::Submission s;
  s.env.sender = who.sender;
  for (const std::string& r : *rcpts) {
    queue::Recipient rc;
    rc.address = r;
    rc.notify = a.notify;
    s.env.recipients.push_back(std::move(rc));
  }
  s.env.ret = a.ret;
  s.env.envid = a.envid;
  s.env.body_type = a.body;
  s.full_name = who.full_name;
  s.extract = a.extract;
  auto limit = static_cast<std::size_t>(cfg.get_size("message_size_limit"));
  auto content = sendmail::read_message(0, !a.ignore_dots, limit);
  if (!content && content.error().code == Errc::too_large)
    return rep.fail(EX_DATAERR, cat("message too big (message_size_limit is ", limit, " bytes)"));
  if (!content) return rep.fail(EX_IOERR, content.error().detail);
  s.content = std::move(*content);
  sendmail::Outcome o = sub.submit(s);
  if (o.exit_code != 0) {
    if (!o.error.empty()) return rep.fail(o.exit_code, o.error);
    rep.note(cat("postdrop failed with exit status ", o.exit_code));
    return o.exit_code;
  }
  if (a.verbose) std::fprintf(stderr, "%s: queued as %s\n", rep.name().c_str(), o.queue_id.c_str());
  return 0;
}

int run(Args a, Reporter& rep) {
  if (rep.name() == "mailq") a.mode = Mode::list;
  if (rep.name() == "newaliases") a.mode = Mode::aliases;
  std::filesystem::path dir = config_dir(a);
  auto cfg = config::Config::load(dir);
  if (!cfg) return rep.fail(EX_CONFIG, cfg.error().detail);
  open_mail_log(*cfg, rep);
  for (const std::string& o : a.ignored) rep.note(cat("option ", printable(o), " ignored"));
  switch (a.mode) {
    case Mode::daemon: return exec_posthorn(*cfg, dir, {"start"}, rep);
    case Mode::list: return exec_posthorn(*cfg, dir, {"queue", "list"}, rep);
    case Mode::aliases: return build_aliases(*cfg, dir, rep);
    case Mode::flush: return flush(*cfg, a, rep);
    case Mode::smtp:
    case Mode::deliver: break;
  }
  auto who = who_submits(a);
  if (!who) {
    int code = who.error().code == Errc::invalid ? EX_USAGE : EX_NOUSER;
    return rep.fail(code, who.error().detail);
  }
  sendmail::Submitter sub(cleanup::CleanupSettings::from_config(*cfg), command(*cfg, "postdrop"), dir);
  if (a.mode == Mode::smtp) return sendmail::run_smtp_session(*cfg, sub, who->full_name, 0, 1);
  return deliver(a, *who, sub, *cfg, rep);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a postdrop that died is seen in its exit status
  std::string name = std::filesystem::path(argc > 0 ? argv[0] : "sendmail").filename().string();
  if (name != "mailq" && name != "newaliases") name = "sendmail";
  Reporter rep(name);
  auto args = sendmail::parse_args(std::vector<std::string>(argv + (argc > 0), argv + argc));
  if (!args) {
    rep.fail(EX_USAGE, args.error().detail);
    std::fprintf(stderr, "usage: %s [options] [recipient ...]; see sendmail(1)\n", name.c_str());
    return EX_USAGE;
  }
  return run(std::move(*args), rep);
}
