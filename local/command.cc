// local/command.cc - see command.h.
#include "local/command.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "lib/base/fd.h"
#include "lib/base/strings.h"
#include "lib/privs/privs.h"

namespace posthorn::local {

namespace {

constexpr std::string_view kShellSyntax = "\"'`\\$;&|<>()[]{}*?~#!^=\n\r\t";

constexpr std::string_view kBuiltins[] = {
    ".", ":", "alias", "break", "case", "cd", "command", "continue", "eval", "exec", "exit",
    "export", "for", "if", "read", "readonly", "return", "set", "shift", "test", "times",
    "trap", "type", "ulimit", "umask", "unset", "until", "wait", "while", "[",
};

constexpr int kExOsErr = 71;       // EX_OSERR: deferred
constexpr int kExUnavailable = 69; // EX_UNAVAILABLE: bounced

using Clock = std::chrono::steady_clock;

// In the child, between fork and exec: only async-signal-safe calls, apart
// from lib/privs (the parent is single-threaded, so its allocator is in a
// consistent state in the child).
[[noreturn]] void child(const CommandSpec& spec, const std::vector<std::string>& argv, int in, int out,
                        pid_t parent) {
  auto fail = [&](const char* what, int code) {
    const char* e = std::strerror(errno);
    (void)!::write(out, what, std::strlen(what));
    (void)!::write(out, ": ", 2);
    (void)!::write(out, e, std::strlen(e));
    (void)!::write(out, "\n", 1);
    ::_exit(code);
  };
  ::setsid();
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(kExOsErr);
  if (::close_range(3, ~0U, 0) != 0)
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
  out = 2;
  for (int sig : {SIGPIPE, SIGXFSZ, SIGCHLD, SIGHUP, SIGTERM, SIGINT}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (spec.run_as && privs::is_root()) {
    privs::Identity who{spec.run_as->name, spec.run_as->uid, spec.run_as->gid};
    if (!privs::drop(who, {})) fail("cannot change identity", kExOsErr);
  }
  // The command never outlives the local process that bounds its run time
  // (a kill -9 of local would otherwise leave it running unbounded). Set
  // after the identity change, which clears it; the getppid() check covers
  // a parent that died before this line. A shell command's own children
  // are not covered (they are what the time limit kills by process group).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(kExOsErr);
  if (::chdir(spec.cwd.c_str()) != 0 && ::chdir("/") != 0) fail("chdir", kExOsErr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const std::string& e : spec.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  // execvpe searches the PATH of this process: give it the one the command gets.
  ::setenv("PATH", "/usr/bin:/bin", 1);
  ::execvpe(args[0], args.data(), env.data());
  fail(cat("cannot execute ", argv[0]).c_str(), errno == ENOENT || errno == EACCES ? kExUnavailable : kExOsErr);
  ::_exit(kExOsErr);
}

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

enum class Reaped { yes, lost, not_yet };

// Waits for the child to end, until the deadline. `lost`: waitpid failed
// (the exit status cannot be known).
Reaped reap(pid_t pid, int& status, Clock::time_point deadline) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return Reaped::yes;
    if (r < 0 && errno != EINTR) return Reaped::lost;
    if (Clock::now() >= deadline) return Reaped::not_yet;
    ::usleep(5000);
  }
}

}  // namespace

std::vector<std::string> command_argv(std::string_view command, std::string_view shell) {
  if (!shell.empty()) return {std::string(shell), "-c", std::string(command)};
  std::vector<std::string> words = split_fields(command, " ");
  bool simple = !words.empty() && command.find_first_of(kShellSyntax) == std::string_view::npos;
  for (std::string_view b : kBuiltins)
    if (simple && words.front() == b) simple = false;
  if (!simple) return {"/bin/sh", "-c", std::string(command)};
  return words;
}

namespace {

// The parent's side of a started command.
struct Running {
  pid_t pid = -1;
  Fd in;     // its standard input
  Fd out;    // its standard output and error
  Fd pidfd;  // readable once it has ended (invalid where the kernel has none)
};

Result<Running> spawn(const CommandSpec& spec, const std::vector<std::string>& argv) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd in_r(in_pipe[0]), in_w(in_pipe[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) child(spec, argv, in_r.get(), out_w.get(), parent);
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  Running r;
  r.pid = pid;
  r.in = std::move(in_w);
  r.out = std::move(out_r);
  r.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  return r;
}

void keep(std::string& output, const char* buf, ssize_t got, std::size_t max) {
  std::size_t room = max - std::min(max, output.size());
  output.append(buf, std::min(static_cast<std::size_t>(got), room));
}

// Feeds the input and collects the output until the output ends, the
// command ends (so a background process that holds the output open is not
// waited for) or the deadline passes.
void exchange(Running& c, std::string_view input, Clock::time_point deadline, std::size_t max,
              std::string& output) {
  std::size_t written = 0;
  bool out_open = true, exited = false;
  if (input.empty()) c.in.reset();
  while (out_open && !exited) {
    pollfd p[3];
    int n = 0, iw = -1, ip = -1;
    const int ir = n++;
    p[ir] = {c.out.get(), POLLIN, 0};
    if (c.in) p[iw = n++] = {c.in.get(), POLLOUT, 0};
    if (c.pidfd) p[ip = n++] = {c.pidfd.get(), POLLIN, 0};
    int left = ms_left(deadline);
    if (left == 0) break;
    int r = ::poll(p, static_cast<nfds_t>(n), left);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (iw >= 0 && p[iw].revents) {
      ssize_t w = ::write(c.in.get(), input.data() + written,
                          std::min<std::size_t>(input.size() - written, 65536));
      if (w > 0) written += static_cast<std::size_t>(w);
      // EPIPE: the command does not want (the rest of) its input.
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) c.in.reset();
    }
    if (p[ir].revents) {
      char buf[8192];
      ssize_t got = ::read(c.out.get(), buf, sizeof buf);
      if (got > 0) keep(output, buf, got, max);
      else if (got == 0 || (errno != EAGAIN && errno != EINTR)) out_open = false;
    }
    if (ip >= 0 && p[ip].revents) exited = true;
  }
  // What the command wrote just before it ended.
  char buf[8192];
  for (ssize_t got; out_open && (got = ::read(c.out.get(), buf, sizeof buf)) > 0;) keep(output, buf, got, max);
  c.in.reset();
}

}  // namespace

CommandEnd run_command(const CommandSpec& spec, std::string_view input) {
  CommandEnd end;
  const Clock::time_point deadline = Clock::now() + spec.time_limit;
  auto c = spawn(spec, command_argv(spec.command, spec.shell));
  if (!c) {
    end.how = CommandEnd::How::not_started;
    end.error = c.error().detail;
    return end;
  }
  exchange(*c, input, deadline, spec.max_output, end.output);
  int status = 0;
  Reaped r = reap(c->pid, status, deadline);
  if (r == Reaped::not_yet) {  // the time limit: the whole session goes
    ::kill(-c->pid, SIGKILL);
    ::kill(c->pid, SIGKILL);
    while (::waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {}
    end.how = CommandEnd::How::timed_out;
  } else if (r == Reaped::lost) {  // never guess success
    end.how = CommandEnd::How::not_started;
    end.error = cat("no exit status: ", std::strerror(errno));
  } else if (WIFSIGNALED(status)) {
    end.how = CommandEnd::How::signaled;
    end.code = WTERMSIG(status);
  } else {
    end.how = CommandEnd::How::exited;
    end.code = WEXITSTATUS(status);
  }
  return end;
}

}  // namespace posthorn::local
