// queue_fill - a test-only program that puts messages into a spool, so the
// queue tools can be tested without the daemons that normally write it.
// Does:       writes N queue files with lib/queue's writer (the same
//             durable path smtpd takes), straight into the queue asked for,
//             with the given sender, recipients and recipient states; for
//             each deferred recipient it appends a defer/ reason record, as
//             qmgr would. Prints each new queue ID on a line.
// Runs as:    the owner of the spool's queue directories: started as root it
//             becomes that owner first, so the files belong to the mail
//             owner as the daemons' files do.
// Trusts:     its command line (a test's).
//
//   queue_fill -c DIR [-q QUEUE] [-n N] [-f SENDER] [-r RCPT,...] [-s STATE,...]
//              [-S SIZE] [-a ARRIVAL] [-R REASON] [-D DSN] [-o ORIG,...] [-F]
//
//   -q  incoming (default), active, deferred or hold
//   -f  envelope sender; "" for the null sender (default sender@example.org)
//   -r  recipients (default rcpt@example.net)
//   -s  one state per recipient: pending, deferred, delivered, bounced
//       (default all pending); deferred ones get attempts 1, last attempt
//       ARRIVAL+60 and next attempt ARRIVAL+360
//   -S  message size in bytes (the body is padded; default about 100)
//   -a  arrival time, unix seconds (default now)
//   -R  the deferral reason text (default "connect to mx.example.net[192.0.2.1]:25:
//       Connection refused"), -D its DSN code (default 4.4.1)
//   -o  original recipients, one per recipient ("" for none)
//   -F  fast: the same files, written without fsync (bulk queues for the
//       scale tests; the writer's durability is tested elsewhere, and two
//       fsyncs per file make 10,000 files take a minute on a busy disk)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/privs/privs.h"
#include "lib/queue/codec.h"
#include "lib/queue/reasons.h"
#include "lib/queue/spool.h"
#include "lib/queue/writer.h"

namespace {

using namespace posthorn;
using queue::QueueName;

[[noreturn]] void die(const std::string& text) {
  std::fprintf(stderr, "queue_fill: %s\n", text.c_str());
  std::exit(2);
}

QueueName queue_named(const std::string& s) {
  for (QueueName q : {QueueName::incoming, QueueName::active, QueueName::deferred, QueueName::hold})
    if (queue::queue_dir_name(q) == s) return q;
  die("unknown queue " + s);
}

queue::RcptState state_named(const std::string& s) {
  if (s == "pending") return queue::RcptState::pending;
  if (s == "deferred") return queue::RcptState::deferred;
  if (s == "delivered") return queue::RcptState::delivered;
  if (s == "bounced") return queue::RcptState::bounced;
  die("unknown recipient state " + s);
}

long long number(const std::string& s, const char* what) {
  unsigned long long n = 0;
  if (!parse_uint(s, n)) die(cat(what, ": not a number: ", s));
  return static_cast<long long>(n);
}

// Becomes the owner of incoming/ when root (see the opening comment),
// working from inside the spool as the daemons do (its owner may not be
// able to reach it by its path).
void become_spool_owner(const queue::Spool& spool) {
  struct stat st;
  if (::stat(spool.dir(QueueName::incoming).c_str(), &st) != 0 || ::chdir(spool.root().c_str()) != 0)
    die("no spool at " + spool.root().string() + " (run posthorn check first)");
  if (::geteuid() != 0 || st.st_uid == 0) return;
  if (auto r = privs::drop({"spool owner", st.st_uid, st.st_gid}, {}); !r) die(r.error().detail);
}

queue::Envelope envelope(const ParsedArgs& a, std::int64_t arrival) {
  queue::Envelope env;
  env.sender = a.has('f') ? a.value('f') : "sender@example.org";
  env.arrival_us = arrival * 1000000;
  env.client = {"client.example.org", "192.0.2.9", "client.example.org", "ESMTP", ""};
  std::vector<std::string> rcpts = split(a.value('r', "rcpt@example.net"), ',');
  std::vector<std::string> states = a.has('s') ? split(a.value('s'), ',') : std::vector<std::string>();
  std::vector<std::string> origs = a.has('o') ? split(a.value('o'), ',') : std::vector<std::string>();
  if (!states.empty() && states.size() != rcpts.size()) die("-s needs one state per recipient");
  if (!origs.empty() && origs.size() != rcpts.size()) die("-o needs one entry per recipient");
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    queue::Recipient r;
    r.address = rcpts[i];
    if (!origs.empty()) r.original = origs[i];
    if (!states.empty()) r.status.state = state_named(states[i]);
    if (r.status.state != queue::RcptState::pending) {
      r.status.attempts = 1;
      r.status.last_attempt = arrival + 60;
    }
    if (r.status.state == queue::RcptState::deferred) r.status.next_attempt = arrival + 360;
    env.recipients.push_back(std::move(r));
  }
  return env;
}

// Headers, then a body padded with lines of x to make `size` bytes in all.
std::pair<std::string, std::string> content(const queue::Envelope& env, long long size, int n) {
  std::string headers = cat("From: <", env.sender, ">\nTo: <", env.recipients[0].address,
                            ">\nSubject: queue_fill message ", n, "\n\n");
  std::string body = "Test message.\n";
  long long left = (size > 0 ? size : 100) - static_cast<long long>(headers.size() + body.size());
  for (; left > 72; left -= 72) body += std::string(71, 'x') + "\n";
  if (left > 0) body += std::string(static_cast<std::size_t>(left - 1), 'x') + "\n";
  return {headers, body};
}

// The writer's steps without its fsyncs: a temporary file, the ID from its
// inode, the encoded file, then a rename to the ID (so a lister never sees
// a partial file).
Result<queue::QueueId> write_fast(const queue::Spool& spool, QueueName q, const queue::Envelope& env,
                                  const std::string& headers, const std::string& body) {
  std::filesystem::path tmp = spool.dir(q) / cat(".tmp.fill.", ::getpid());
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!fd) return std::move(fd).error();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error("fstat");
  queue::QueueFile qf{queue::make_queue_id(st.st_ino), env, headers, body, 0};
  auto bytes = queue::encode_queue_file(qf);
  if (!bytes) return std::move(bytes).error();
  if (auto w = write_all(fd->get(), *bytes); !w) return std::move(w).error();
  if (queue::rename_noreplace(tmp, spool.file(q, qf.id)) != 0) return sys_error("rename");
  return qf.id;
}

void add_reasons(const queue::Spool& spool, const queue::QueueId& id, const queue::Envelope& env,
                 const ParsedArgs& a) {
  for (std::size_t i = 0; i < env.recipients.size(); ++i) {
    const queue::Recipient& r = env.recipients[i];
    if (r.status.state != queue::RcptState::deferred && r.status.state != queue::RcptState::bounced)
      continue;
    bool bounced = r.status.state == queue::RcptState::bounced;
    queue::Reason why{r.status.last_attempt, static_cast<std::uint32_t>(i),
                      bounced ? "5.1.1" : a.value('D', "4.4.1"), "mx.example.net[192.0.2.1]:25",
                      r.address,
                      bounced ? "host mx.example.net[192.0.2.1] said: 550 5.1.1 no such user"
                              : a.value('R', "connect to mx.example.net[192.0.2.1]:25: Connection refused")};
    auto ok = queue::append_reason(spool, bounced ? QueueName::bounce : QueueName::defer, id, why, false);
    if (!ok) die(ok.error().detail);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ParsedArgs a = parse_options(args, "c:q:n:f:r:s:S:a:R:D:o:F");
  if (!a.error.empty() || !a.operands.empty() || !a.has('c'))
    die("usage: queue_fill -c DIR [-q QUEUE] [-n N] [-f SENDER] [-r RCPT,...] [-s STATE,...] "
        "[-S SIZE] [-a ARRIVAL] [-R REASON] [-D DSN] [-o ORIG,...] [-F]");
  auto cfg = config::Config::load(a.value('c'));
  if (!cfg) die(cfg.error().detail);
  become_spool_owner(queue::Spool(cfg->get_path("queue_directory")));
  queue::Spool spool(".");
  QueueName q = queue_named(a.value('q', "incoming"));
  long long n = a.has('n') ? number(a.value('n'), "-n") : 1;
  std::int64_t arrival = a.has('a') ? number(a.value('a'), "-a") : std::time(nullptr);
  long long size = a.has('S') ? number(a.value('S'), "-S") : 0;
  queue::Envelope env = envelope(a, arrival);
  for (long long i = 0; i < n; ++i) {
    auto [headers, body] = content(env, size, static_cast<int>(i));
    auto id = a.has('F') ? write_fast(spool, q, env, headers, body)
                         : queue::write_queue_file(spool, env, headers, body, {q, 0600});
    if (!id) die(id.error().detail);
    add_reasons(spool, *id, env, a);
    std::printf("%s\n", id->str().c_str());
  }
  return 0;
}
