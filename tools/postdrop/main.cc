// postdrop - puts one locally submitted message into maildrop/.
// Does:       reads the stream sendmail writes on standard input
//             (pickup/MAILDROP.md), checks it with the queue-file parser,
//             writes it as a new file in maildrop/ (durable before exit 0),
//             prints the file's queue ID, then wakes pickup.
// Talks to:   sendmail (standard input and output), pickup (a notice on
//             public/pickup).
// Runs as:    the invoking user, set-group-ID to setgid_group (make install
//             sets mode 2755): that group may create files in maildrop/
//             (1730) and reach public/ (0710), nothing more. The files it
//             creates belong to the user, which is how pickup knows who
//             submitted them.
// Trusts:     nothing on its input; a configuration directory from -c or
//             MAIL_CONFIG only under the rules of config_trust.h.
// Exit:       0 (queue ID on standard output); sysexits.h otherwise: 64
//             usage, 65 bad input, 77 not permitted, 78 configuration, 75
//             could not write (nothing was queued: try again later).
//
// Usage: postdrop [-c DIR] [-v]
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/queue/pickup_trigger.h"
#include "lib/queue/spool.h"
#include "tools/postdrop/config_trust.h"
#include "tools/postdrop/drop_file.h"
#include "tools/postdrop/stream.h"

namespace {

using namespace posthorn;

constexpr const char* kDefaultConfigDir = "/etc/posthorn";

int fail(int code, const std::string& text) {
  std::fprintf(stderr, "postdrop: %s\n", text.c_str());
  return code;
}

// A set-gid program must not start with descriptor 0, 1 or 2 closed: the
// next open() would take its place and output would land in that file.
void ensure_std_fds() {
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 && ::open("/dev/null", O_RDWR) < 0) ::_exit(EX_OSERR);
}

int write_code(Errc c) {
  switch (c) {
    case Errc::permission: return EX_NOPERM;
    case Errc::invalid:
    case Errc::too_large: return EX_DATAERR;
    default: return EX_TEMPFAIL;
  }
}

// Writes the file with the signals a user can send blocked, so that an
// interrupt cannot stop postdrop between its temporary file and the rename
// (SIGKILL can; pickup removes what is left).
Result<queue::QueueId> write_blocking_signals(const queue::Spool& spool,
                                              const postdrop::Submission& s) {
  sigset_t block, old;
  sigemptyset(&block);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGPIPE}) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);
  auto id = postdrop::write_drop_file(spool, s.env, s.content);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  return id;
}

int run(const ParsedArgs& args) {
  const char* env = std::getenv("MAIL_CONFIG");
  std::filesystem::path dir = args.has('c') ? args.value('c')
                              : (env && *env ? env : kDefaultConfigDir);
  postdrop::Caller caller{::getegid() != ::getgid(), ::getuid()};
  auto trusted = postdrop::trusted_config_dir(dir, kDefaultConfigDir, caller);
  if (!trusted) return fail(EX_NOPERM, trusted.error().detail);
  auto cfg = config::Config::load(*trusted);
  if (!cfg) return fail(EX_CONFIG, cfg.error().detail);

  const long long limit = cfg->get_size("message_size_limit");
  std::size_t max = limit > 0 ? static_cast<std::size_t>(limit) + postdrop::kEnvelopeAllowance
                              : std::size_t{1} << 40;
  auto bytes = postdrop::read_stream(0, max);
  if (!bytes) {
    if (bytes.error().code == Errc::too_large)
      return fail(EX_DATAERR, cat("message too big: ", bytes.error().detail));
    return fail(EX_IOERR, bytes.error().detail);
  }
  auto sub = postdrop::accept_stream(*bytes);
  if (!sub) return fail(EX_DATAERR, sub.error().detail);
  std::string().swap(*bytes);

  queue::Spool spool(cfg->get_path("queue_directory"));
  auto id = write_blocking_signals(spool, *sub);
  if (!id) {
    std::string hint;
    if (id.error().code == Errc::permission)
      hint = cat(" (is postdrop set-group-ID to setgid_group \"", cfg->get("setgid_group"), "\"?)");
    return fail(write_code(id.error().code), cat("cannot queue the message: ", id.error().detail, hint));
  }
  std::printf("%s\n", id->str().c_str());
  std::fflush(stdout);
  auto woke = queue::wake_pickup(spool, std::chrono::seconds(cfg->get_time("trigger_timeout")));
  if (!woke && args.has('v'))
    std::fprintf(stderr, "postdrop: %s: pickup not woken (%s); it will find the file on its next scan\n",
                 id->str().c_str(), woke.error().detail.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_std_fds();
  ::umask(077);
  std::signal(SIGPIPE, SIG_IGN);
  auto args = parse_options(std::vector<std::string>(argv + 1, argv + argc), "c:v");
  if (!args.error.empty() || !args.operands.empty()) {
    fail(EX_USAGE, args.error.empty() ? "unexpected argument " + args.operands[0] : args.error);
    std::fprintf(stderr, "usage: postdrop [-c DIR] [-v] < stream\n");
    return EX_USAGE;
  }
  return run(args);
}
