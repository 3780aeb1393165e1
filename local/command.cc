// local/command.cc - see command.h.
#include "local/command.h"

#include <fcntl.h>
#include <poll.h>
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
[[noreturn]] void child(const CommandSpec& spec, const std::vector<std::string>& argv, int in, int out) {
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

// Waits for the child to end, until the deadline. true: reaped into status.
bool reap(pid_t pid, int& status, Clock::time_point deadline) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return false;
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

CommandEnd run_command(const CommandSpec& spec, std::string_view input) {
  CommandEnd end;
  const std::vector<std::string> argv = command_argv(spec.command, spec.shell);
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
    end.how = CommandEnd::How::not_started;
    end.error = cat("pipe: ", std::strerror(errno));
    return end;
  }
  Fd in_r(in_pipe[0]), in_w(in_pipe[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    end.how = CommandEnd::How::not_started;
    end.error = cat("pipe: ", std::strerror(errno));
    return end;
  }
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  const Clock::time_point deadline = Clock::now() + spec.time_limit;
  pid_t pid = ::fork();
  if (pid < 0) {
    end.how = CommandEnd::How::not_started;
    end.error = cat("fork: ", std::strerror(errno));
    return end;
  }
  if (pid == 0) child(spec, argv, in_r.get(), out_w.get());
  in_r.reset();
  out_w.reset();
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  // The child's end also shows as the pidfd becoming readable, so a command
  // that left a background process holding its output is not waited for.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  std::size_t written = 0;
  bool out_open = true, exited = false;
  if (input.empty()) in_w.reset();
  while (out_open && !exited) {
    pollfd p[3];
    int n = 0, iw = -1, ir = -1, ip = -1;
    if (in_w) p[iw = n++] = {in_w.get(), POLLOUT, 0};
    p[ir = n++] = {out_r.get(), POLLIN, 0};
    if (pidfd) p[ip = n++] = {pidfd.get(), POLLIN, 0};
    int left = ms_left(deadline);
    if (left == 0) break;
    int r = ::poll(p, static_cast<nfds_t>(n), left);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (iw >= 0 && p[iw].revents) {
      ssize_t w = ::write(in_w.get(), input.data() + written, std::min<std::size_t>(input.size() - written, 65536));
      if (w > 0) written += static_cast<std::size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in_w.reset();
    }
    if (p[ir].revents) {
      char buf[8192];
      ssize_t got = ::read(out_r.get(), buf, sizeof buf);
      if (got > 0) {
        std::size_t keep = std::min<std::size_t>(static_cast<std::size_t>(got), spec.max_output - std::min(spec.max_output, end.output.size()));
        end.output.append(buf, keep);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_open = false;
      }
    }
    if (ip >= 0 && p[ip].revents) exited = true;
  }
  // What the command wrote just before it ended.
  for (char buf[8192]; out_open;) {
    ssize_t got = ::read(out_r.get(), buf, sizeof buf);
    if (got <= 0) break;
    end.output.append(buf, std::min<std::size_t>(static_cast<std::size_t>(got), spec.max_output - std::min(spec.max_output, end.output.size())));
  }
  in_w.reset();
  int status = 0;
  if (!reap(pid, status, deadline)) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    end.how = CommandEnd::How::timed_out;
    return end;
  }
  if (WIFSIGNALED(status)) {
    end.how = CommandEnd::How::signaled;
    end.code = WTERMSIG(status);
  } else {
    end.how = CommandEnd::How::exited;
    end.code = WEXITSTATUS(status);
  }
  return end;
}

}  // namespace posthorn::local
