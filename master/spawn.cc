// master/spawn.cc - see spawn.h.
#include "master/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/service/status.h"

namespace posthorn::master {

namespace {

// Runs in the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const SpawnRequest& req, char* const* argv) {
  const int n = static_cast<int>(req.listen_fds.size());
  // Move every source above the target range first, so that dup2 onto a
  // target never overwrites a source that is still to be moved.
  const int high = service::kListenFd + n + 16;
  int status = ::fcntl(req.status_fd, F_DUPFD, high);
  int moved[service::kMaxListenFds];
  for (int i = 0; i < n; ++i) moved[i] = ::fcntl(req.listen_fds[i], F_DUPFD, high);
  if (status < 0 || ::dup2(status, service::kStatusFd) < 0) ::_exit(127);
  for (int i = 0; i < n; ++i)
    if (moved[i] < 0 || ::dup2(moved[i], service::kListenFd + i) < 0) ::_exit(127);
  ::syscall(SYS_close_range, service::kListenFd + n, ~0u, 0u);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGCHLD, SIGPIPE}) ::signal(sig, SIG_DFL);
  ::execv(req.exe.c_str(), argv);
  const char* what = std::strerror(errno);
  const char* parts[] = {"master: exec ", req.exe.c_str(), ": ", what, "\n"};
  for (const char* p : parts) (void)!::write(2, p, std::strlen(p));
  ::_exit(127);
}

}  // namespace

Result<pid_t> spawn(const SpawnRequest& req) {
  if (req.listen_fds.size() > service::kMaxListenFds)
    return make_error(Errc::invalid, "too many listening sockets for one service");
  std::vector<char*> argv;
  for (const std::string& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) exec_child(req, argv.data());
  return pid;
}

}  // namespace posthorn::master
