// tools/sendmail/submit.cc - see submit.h.
#include "tools/sendmail/submit.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "lib/base/fd.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/queue/codec.h"
#include "lib/queue/queue_id.h"
#include "tools/sendmail/envelope.h"

namespace posthorn::sendmail {

namespace {

std::string refusal_text(cleanup::Status s, const cleanup::CleanupSettings& cs) {
  switch (s) {
    case cleanup::Status::too_big:
      return cat("message too big (message_size_limit is ", cs.message_size_limit, " bytes)");
    case cleanup::Status::too_many_hops:
      return cat("too many Received: fields (hopcount_limit is ", cs.hopcount_limit, "): mail loop?");
    case cleanup::Status::too_many_headers: return "too many header fields";
    case cleanup::Status::bad_header: return "bad address syntax in the message header";
    case cleanup::Status::no_recipients: return "no recipient addresses found in the message header";
    default: return std::string(cleanup::status_name(s));
  }
}

bool any_non_ascii(const queue::Envelope& env) {
  if (has_non_ascii(env.sender)) return true;
  for (const queue::Recipient& r : env.recipients)
    if (has_non_ascii(r.address)) return true;
  return false;
}

struct Child {
  pid_t pid = -1;
  Fd to;    // its standard input
  Fd from;  // its standard output
};

Result<Child> spawn(const std::filesystem::path& exe, const std::filesystem::path& config_dir) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd out_r(out[0]), out_w(out[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    if (::dup2(in_r.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0) ::_exit(EX_OSERR);
    std::string dir = config_dir.string();
    ::execl(exe.c_str(), "postdrop", "-c", dir.c_str(), static_cast<char*>(nullptr));
    std::string msg = cat("sendmail: cannot run ", exe.string(), ": ", std::strerror(errno), "\n");
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(EX_UNAVAILABLE);
  }
  return Child{pid, std::move(in_w), std::move(out_r)};
}

Result<std::string> read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read from postdrop");
    if (n == 0) return out;
    if (out.size() < 4096) out.append(buf, static_cast<std::size_t>(n));  // an ID and a newline
  }
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return EX_OSERR;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return EX_SOFTWARE;  // killed by a signal
}

}  // namespace

Trial trial_cleanup(const cleanup::CleanupSettings& base, const Submission& s) {
  cleanup::CleanupSettings cs = base;
  cs.origin = cleanup::Origin::local;
  cs.extract_recipients = s.extract;
  cs.full_name = s.full_name;
  cleanup::Cleanup c(cs, s.env);
  c.feed(s.content);
  Trial t;
  if (auto r = c.finish(); !r) {
    t.refusal = {EX_DATAERR, {}, refusal_text(c.status(), cs), c.status()};
    return t;
  }
  t.ok = true;
  t.env = s.env;
  t.env.sender = c.envelope().sender;
  t.env.recipients = c.envelope().recipients;
  t.env.smtputf8 = t.env.smtputf8 || any_non_ascii(t.env);
  return t;
}

Result<std::string> encode_stream(const queue::Envelope& env, const std::string& full_name,
                                  const std::string& content) {
  queue::QueueFile qf;
  // postdrop replaces the ID with its file's (MAILDROP.md); any valid one will do.
  auto now = std::chrono::system_clock::now().time_since_epoch();
  qf.id = queue::QueueId(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()), 1);
  qf.env = env;
  qf.env.client = queue::ClientInfo{};
  qf.env.client.name = full_name;
  qf.env.client.protocol = "local";
  qf.body = content;
  return queue::encode_queue_file(qf);
}

Outcome Submitter::submit(const Submission& s) const {
  Trial t = trial_cleanup(base_, s);
  if (!t.ok) return t.refusal;
  auto stream = encode_stream(t.env, s.full_name, s.content);
  if (!stream) return {EX_DATAERR, {}, stream.error().detail};
  auto child = spawn(postdrop_, config_dir_);
  if (!child) return {EX_OSERR, {}, child.error().detail};
  // A postdrop that stops reading has failed; its exit status says why.
  (void)write_all(child->to.get(), *stream);
  child->to.reset();
  auto said = read_all(child->from.get());
  child->from.reset();
  int code = wait_status(child->pid);
  if (code != 0) return {code, {}, {}};
  std::string id(trim(said ? *said : std::string()));
  if (!queue::QueueId::parse(id)) return {EX_SOFTWARE, {}, "postdrop did not report a queue ID"};
  return {0, id, {}};
}

}  // namespace posthorn::sendmail
