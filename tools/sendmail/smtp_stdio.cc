// tools/sendmail/smtp_stdio.cc - see smtp_stdio.h.
#include "tools/sendmail/smtp_stdio.h"

#include <poll.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "smtpd/session.h"

namespace posthorn::sendmail {

namespace {

// One message of the session: collected, then handed to postdrop.
class Queued : public smtpd::Message {
 public:
  Queued(const Submitter& sub, const queue::Envelope& env, const std::string& full_name)
      : sub_(sub) {
    s_.env = env;
    s_.env.client = queue::ClientInfo{};
    s_.full_name = full_name;
  }
  void feed(std::string_view bytes) override { s_.content.append(bytes); }
  // postdrop runs to its end inside: the answer comes at once.
  void commit(Done done) override { done(store()); }

 private:
  smtpd::Reply store() {
    Outcome o = sub_.submit(s_);
    if (o.exit_code == 0) return {250, "2.0.0", cat("Ok: queued as ", o.queue_id)};
    if (o.status != cleanup::Status::ok) {
      cleanup::Reply r = cleanup::smtp_reply(o.status);
      return {r.code, std::string(r.enhanced), std::string(r.text)};
    }
    if (o.exit_code == EX_DATAERR) return {554, "5.6.0", "Error: message refused by postdrop"};
    return {451, "4.3.0", "Error: queue file write error"};
  }

  const Submitter& sub_;
  Submission s_;
};

class Sink : public smtpd::Sink {
 public:
  Sink(const Submitter& sub, const std::string& full_name) : sub_(sub), full_name_(full_name) {}
  std::unique_ptr<smtpd::Message> open(const queue::Envelope& env) override {
    return std::make_unique<Queued>(sub_, env, full_name_);
  }

 private:
  const Submitter& sub_;
  const std::string& full_name_;
};

smtpd::Settings session_settings(const config::Config& cfg) {
  smtpd::Settings s;
  s.myhostname = cfg.get("myhostname");
  s.banner = cfg.get("smtpd_banner");
  s.message_size_limit = static_cast<std::uint64_t>(cfg.get_size("message_size_limit"));
  s.recipient_limit = static_cast<std::size_t>(cfg.get_int("smtpd_recipient_limit"));
  s.hard_error_limit = static_cast<std::size_t>(cfg.get_int("smtpd_hard_error_limit"));
  s.disable_vrfy = cfg.get_bool("disable_vrfy_command");
  s.helo_required = cfg.get_bool("smtpd_helo_required");
  s.max_line = static_cast<std::size_t>(cfg.get_size("line_length_limit"));
  s.client_name = "localhost";
  s.client_trusted = true;  // the local user: relay control does not apply
  return s;
}

}  // namespace

int run_smtp_session(const config::Config& cfg, const Submitter& submitter,
                     const std::string& full_name, int in_fd, int out_fd) {
  Sink sink(submitter, full_name);
  bool out_ok = true;
  smtpd::Session session(session_settings(cfg), sink, [&](std::string_view bytes) {
    if (out_ok && !write_all(out_fd, bytes)) out_ok = false;
  });
  const long long timeout_ms = cfg.get_time("smtpd_timeout") * 1000;
  session.start();
  std::string chunk(64 * 1024, '\0');
  while (out_ok && !session.finished()) {
    pollfd p{in_fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(timeout_ms, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      (void)write_all(out_fd, smtpd::format_reply(421, "4.4.2",
                                                  cat(cfg.get("myhostname"),
                                                      " Error: timeout exceeded")));
      break;
    }
    ssize_t n = ::read(in_fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of input: the session is over
    session.feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
  }
  return out_ok ? 0 : EX_IOERR;
}

}  // namespace posthorn::sendmail
