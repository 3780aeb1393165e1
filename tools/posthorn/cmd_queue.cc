// posthorn queue - see and steer the mail queue (Postfix's mailq and
// postqueue -p/-j, postcat -q, postsuper -d/-h/-H/-r and postqueue -f in one
// command).
//
//   posthorn [-c DIR] queue list [--json] [selectors] [ID...]
//   posthorn [-c DIR] queue show [--envelope] [--headers] [--body] [selectors] ID...|ALL
//   posthorn [-c DIR] queue delete|hold|release|requeue [selectors] ID...|ALL|-
//   posthorn [-c DIR] queue flush [selectors] [ID...|ALL]
//   posthorn [-c DIR] flush ...                       the same as queue flush
//
// Selectors and operands: queue_select.h. Output formats: queue_format.h.
//
// Safe while qmgr runs. The queue tools and qmgr share the spool without a
// lock, as Postfix's do, so every step expects the file to have moved:
//   - list/show read a snapshot: a file gone between the directory listing
//     and the read is left out, without a word (it was delivered or moved);
//   - a change is one rename or unlink through lib/queue (move_queue_file,
//     remove_queue_file). When it finds the file gone, the message is looked
//     for again in the queues the command acts on (qmgr moves messages
//     between incoming/, active/ and deferred/) and the step is retried, a
//     few times; a message that is nowhere is reported "ID: not found" and
//     the command goes on with the others.
//   - a queue file is never written: release makes mail due by setting the
//     file's time and asking qmgr to flush it (lib/queue/trigger.h).
// A message changed while qmgr delivers it (in active/) is dropped by qmgr
// when its next update finds the file gone; an attempt already in flight may
// still complete, as with Postfix.
//
// Privileges: the queue belongs to the mail owner (mode 0700 directories),
// so these commands run as the owner of the spool's queue directories or as
// root; root becomes that owner first (lib/privs), as postsuper does, so
// nothing in the spool is ever done as root. Anyone else gets a clear error.
//
// Each change is logged in Postfix's words ("ID: removed", "ID: placed on
// hold", "ID: released from hold", "ID: requeued") as posthorn/queue, and the
// command ends with a count ("posthorn/queue: Deleted: 3 messages").
//
// Exit status: 0 done; 1 a named message was not found or could not be
// changed; 2 usage; 75 qmgr not reachable (flush); 77 not allowed (not the
// mail owner or root); 78 configuration error; 74 the queue cannot be read.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/ipc/blocking_client.h"
#include "lib/log/log.h"
#include "lib/privs/privs.h"
#include "lib/queue/envelope_reader.h"
#include "lib/queue/reader.h"
#include "lib/queue/reasons.h"
#include "lib/queue/spool.h"
#include "lib/queue/trigger.h"
#include "lib/service/service.h"
#include "tools/posthorn/command.h"
#include "tools/posthorn/queue_format.h"
#include "tools/posthorn/queue_select.h"

namespace posthorn::tools {
namespace {

using namespace queue_cmd;
using queue::QueueId;
using queue::QueueName;

constexpr int kExitFailed = 1, kExitUsage = 2, kExitQmgr = EX_TEMPFAIL;
// How often a step that found its file gone looks for it again.
constexpr int kMoveRetries = 3;
// How often a changing command lists the queues at most (for_each_target).
constexpr int kScanPasses = 4;
constexpr auto kQmgrTimeout = std::chrono::milliseconds(10000);

constexpr const char* kUsage =
    "queue [-c DIR] list|show|delete|hold|release|requeue|flush [options] [selectors] "
    "[ID...|ALL|-]";

// --help: one line per command, or the command's own text.
struct VerbHelp {
  Verb verb;
  const char* synopsis;  // after "posthorn queue "
  const char* text;
};
constexpr VerbHelp kVerbHelp[] = {
    {Verb::list, "list [--json] [selectors] [ID...]",
     "Prints the queue as mailq does (a * marks mail being delivered, ! mail on hold);\n"
     "--json prints one JSON object per message and line, with each recipient's state,\n"
     "last error and next retry. Reads only the envelopes, never the content.\n"},
    {Verb::show, "show [--envelope] [--headers] [--body] [selectors] ID...|ALL",
     "Prints the envelope with each recipient's state, then the headers and the body,\n"
     "in labelled sections as postcat -q does; the options print only those sections.\n"},
    {Verb::remove, "delete [selectors] ID...|ALL|-",
     "Removes messages and their deferral and bounce logs; logs \"ID: removed\".\n"},
    {Verb::hold, "hold [selectors] ID...|ALL|-",
     "Moves messages to hold/, where qmgr never tries them; logs \"ID: placed on hold\".\n"},
    {Verb::release, "release [selectors] ID...|ALL|-",
     "Moves held messages to deferred/, due now, and asks qmgr to try them;\n"
     "logs \"ID: released from hold\".\n"},
    {Verb::requeue, "requeue [selectors] ID...|ALL|-",
     "Moves messages back to incoming/ so that qmgr resolves their recipients again;\n"
     "logs \"ID: requeued\". Delivered recipients stay delivered.\n"},
    {Verb::flush, "flush [selectors] [ID...|ALL]",
     "Asks qmgr to try deferred mail now: all of it, one --domain's, or the messages\n"
     "named or selected. Exit status 75 when qmgr cannot be reached.\n"},
};

constexpr const char* kSelectorHelp =
    "selectors (a message must match every one given):\n"
    "  --from ADDR         envelope sender (<> or MAILER-DAEMON for the null sender,\n"
    "                      @domain for any sender in a domain)\n"
    "  --to ADDR           a recipient not yet delivered\n"
    "  --domain D          a recipient not yet delivered is in domain D\n"
    "  --older-than DUR    arrived more than DUR ago (45s, 30m, 2h, 3d, 1w)\n"
    "  --queue Q           only queue Q: incoming, active, deferred, hold (repeatable)\n"
    "operands: queue IDs (a trailing * or ! is ignored), ALL, or - to read IDs from stdin.\n"
    "exit status: 0 done, 1 a named message not found or not changed, 2 usage,\n"
    "75 qmgr not reachable (flush), 77 not the mail owner or root, 78 configuration.\n";

// `prefix` is "queue " or "" (posthorn flush).
void print_help(std::optional<Verb> verb, const char* prefix) {
  if (!verb) {
    std::printf("usage: posthorn %s\nLists, shows and changes the mail queue; safe while the mail "
                "system runs.\ncommands:\n", kUsage);
    for (const VerbHelp& h : kVerbHelp) std::printf("  posthorn queue %s\n", h.synopsis);
  } else {
    for (const VerbHelp& h : kVerbHelp)
      if (h.verb == *verb) std::printf("usage: posthorn %s%s\n%s", prefix, h.synopsis, h.text);
  }
  std::printf("%s", kSelectorHelp);
}

// Messages for the user: what was done on stdout, problems on stderr,
// both led by the name the log uses.
template <class... A>
void say(const A&... a) {
  std::string line = cat("posthorn/queue: ", a..., "\n");
  std::fwrite(line.data(), 1, line.size(), stdout);
}
template <class... A>
void complain(const A&... a) {
  std::fflush(stdout);
  std::string line = cat("posthorn/queue: ", a..., "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

int usage(const std::string& message) {
  std::fprintf(stderr, "posthorn queue: %s\nusage: posthorn %s\n", message.c_str(), kUsage);
  return kExitUsage;
}

void log_message(const QueueId& id, std::string text) {
  log::emit({log::Level::info, "queue", id.str(), {}, std::move(text)});
}

std::string plural(std::size_t n) { return cat(n, n == 1 ? " message" : " messages"); }

struct Session {
  config::Config cfg;
  queue::Spool spool;
  std::int64_t now = 0;
  int status = 0;  // the exit status so far
};

// ------------------------------------------------------------ set-up

std::string user_name(uid_t uid) {
  struct passwd pw, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return pw.pw_name;
  return cat("uid ", uid);
}

// Only the queue's owner may look at it; root becomes that owner (see the
// opening comment). The owner is whoever owns incoming/: the mail owner, or
// in instance mode the user who runs the instance. Sets `who` to the owner
// to become (root only); returns an exit status.
int check_access(const queue::Spool& spool, std::optional<privs::Identity>& who) {
  std::filesystem::path dir = spool.dir(QueueName::incoming);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    int e = errno;
    if (e == EACCES) {
      complain("permission denied: cannot examine ", dir.string(),
               "; run this as the mail owner or as root");
      return EX_NOPERM;
    }
    complain("cannot examine the queue: ", sys_error(cat("stat ", dir.string()), e).detail);
    return EX_IOERR;
  }
  uid_t me = ::geteuid();
  if (me == st.st_uid) return 0;
  if (me != 0) {
    complain("permission denied: the queue in ", spool.root().string(), " belongs to ",
             user_name(st.st_uid), "; run this as that user or as root");
    return EX_NOPERM;
  }
  if (st.st_uid != 0) who = privs::Identity{user_name(st.st_uid), st.st_uid, st.st_gid};
  return 0;  // a spool owned by root: nothing to drop to
}

std::optional<Session> open_session(Context& ctx, const Args& a, int& rc) {
  std::filesystem::path dir = a.config_dir ? std::filesystem::path(*a.config_dir) : ctx.config_dir;
  auto cfg = config::Config::load(dir);
  if (!cfg) {
    std::fprintf(stderr, "posthorn queue: %s\n", cfg.error().detail.c_str());
    rc = EX_CONFIG;
    return std::nullopt;
  }
  queue::Spool spool(cfg->get_path("queue_directory"));
  Session s{std::move(*cfg), std::move(spool), std::time(nullptr), 0};
  std::optional<privs::Identity> owner;
  rc = check_access(s.spool, owner);
  if (rc != 0) return std::nullopt;
  // maillog_file is opened before the drop, while we may still be root.
  service::configure_logging(s.cfg, "queue");
  // As the daemons do, work from inside the spool: its owner may not be
  // able to reach it by its path (a parent directory only root may enter).
  if (::chdir(s.spool.root().c_str()) != 0) {
    complain("cannot enter the queue: ", sys_error(cat("chdir ", s.spool.root().string())).detail);
    rc = EX_IOERR;
    return std::nullopt;
  }
  s.spool = queue::Spool(".");
  if (owner) {
    if (auto r = privs::drop(*owner, {}); !r) {
      complain("cannot become the queue owner ", owner->name, ": ", r.error().detail);
      rc = EX_NOPERM;
      return std::nullopt;
    }
  }
  return s;
}

// IDs for the operand "-": one a line, blank lines skipped.
Result<std::vector<QueueId>> ids_from_stdin() {
  std::vector<QueueId> ids;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::string_view w = trim(line);
    if (w.empty()) continue;
    auto id = parse_id_operand(w);
    if (!id) return std::move(id).error();
    ids.push_back(*id);
  }
  return ids;
}

// ---------------------------------------------------------- selection

struct Target {
  QueueName queue;
  QueueId id;
  std::optional<queue::QueueEnvelope> envelope;  // when it was needed
};

std::vector<QueueName> queues_of(const Args& a) {
  std::vector<QueueName> out;
  for (QueueName q : default_queues(*a.verb))
    if (a.select.queues.empty() ||
        std::find(a.select.queues.begin(), a.select.queues.end(), q) != a.select.queues.end())
      out.push_back(q);
  return out;
}

// Which of `queues` holds message `id` now.
std::optional<QueueName> locate(const queue::Spool& spool, const QueueId& id,
                                const std::vector<QueueName>& queues) {
  for (QueueName q : queues) {
    struct stat st;
    if (::lstat(spool.file(q, id).c_str(), &st) == 0) return q;
  }
  return std::nullopt;
}

// A named message that is in none of the command's queues. When it is in
// another message queue, say so: "hold" of a held message is no mystery.
void report_missing(Session& s, const QueueId& id, const std::vector<QueueName>& queues) {
  std::vector<QueueName> others;
  for (QueueName q : {QueueName::incoming, QueueName::active, QueueName::deferred, QueueName::hold})
    if (std::find(queues.begin(), queues.end(), q) == queues.end()) others.push_back(q);
  if (auto elsewhere = locate(s.spool, id, others))
    complain(id.str(), ": not found (it is in ", queue::queue_dir_name(*elsewhere), "/)");
  else
    complain(id.str(), ": not found");
  s.status = kExitFailed;
}

// Reads the envelope of `t`, following the message when it moves. A file
// that cannot be read for another reason than being gone is reported here
// (a damaged file is left for qmgr to quarantine).
Result<void> read_envelope(Session& s, Target& t, const std::vector<QueueName>& queues) {
  for (int tries = 0;; ++tries) {
    auto env = queue::read_queue_envelope(s.spool.file(t.queue, t.id));
    if (env) {
      t.envelope = std::move(*env);
      return {};
    }
    if (env.error().code != Errc::not_found) {
      complain("warning: ", t.id.str(), ": skipped: ", env.error().detail);
      return std::move(env).error();
    }
    auto q = tries < kMoveRetries ? locate(s.spool, t.id, queues) : std::nullopt;
    if (!q) return std::move(env).error();
    t.queue = *q;
  }
}

// Calls `visit` for each message the command acts on, in the order it
// reports them: named ones in command-line order, else each queue's in
// arrival order, as the queue is scanned (memory stays bounded by the IDs
// of one queue directory, however long the queue). `visit` gets whether
// the message was named.
void for_each_target(Session& s, const Args& a, const std::vector<QueueId>& named,
                     bool need_envelope, const std::function<void(Target&, bool)>& visit) {
  std::vector<QueueName> queues = queues_of(a);
  need_envelope = need_envelope || a.select.needs_envelope();
  std::set<QueueId> seen;  // a message moving while we scan is taken once
  auto consider = [&](Target t, bool is_named) {
    if (!seen.insert(t.id).second) return;
    if (need_envelope) {
      if (auto ok = read_envelope(s, t, queues); !ok) {
        if (is_named && ok.error().code == Errc::not_found) report_missing(s, t.id, queues);
        else if (is_named) s.status = kExitFailed;
        return;
      }
    }
    if (t.envelope && !matches(a.select, t.envelope->env, s.now)) return;
    visit(t, is_named);
  };
  if (!named.empty()) {
    for (const QueueId& id : named) {
      if (auto q = locate(s.spool, id, queues)) consider(Target{*q, id, {}}, true);
      else if (seen.insert(id).second) report_missing(s, id, queues);
    }
    return;
  }
  // One pass lists each queue once: a message that qmgr moves into a queue
  // already listed is not in it. A command that changes the queue goes over
  // them again while a pass still finds messages it had not seen, so that
  // `delete ALL` under a busy qmgr leaves nothing behind; `list` shows one
  // snapshot, as mailq does.
  int passes = *a.verb == Verb::list || *a.verb == Verb::show ? 1 : kScanPasses;
  for (int pass = 0; pass < passes; ++pass) {
    std::size_t seen_before = seen.size();
    for (QueueName q : queues) {
      auto listing = queue::list_queue(s.spool, q);
      if (!listing) {
        if (pass == 0) complain("cannot list ", queue::queue_dir_name(q), "/: ", listing.error().detail);
        s.status = EX_IOERR;
        continue;
      }
      for (const QueueId& id : listing->ids) consider(Target{q, id, {}}, false);
    }
    if (seen.size() == seen_before) break;
  }
}

// The IDs that have a log in `log` (defer/ or bounce/): one directory read
// instead of an open() per message.
std::set<QueueId> ids_with_log(const queue::Spool& spool, QueueName log) {
  std::set<QueueId> out;
  if (auto l = queue::list_queue(spool, log)) out.insert(l->ids.begin(), l->ids.end());
  return out;
}

std::vector<queue::Reason> latest_reasons(const queue::Spool& spool, QueueName log, const QueueId& id) {
  auto all = queue::read_reasons(spool, log, id);
  if (!all) return {};
  return queue::latest_per_recipient(*all);
}

// ------------------------------------------------------------ reading

int list(Session& s, const Args& a, const std::vector<QueueId>& named) {
  std::set<QueueId> deferred = ids_with_log(s.spool, QueueName::defer);
  std::set<QueueId> bounced = a.json ? ids_with_log(s.spool, QueueName::bounce) : std::set<QueueId>();
  std::uint64_t total = 0;
  std::size_t count = 0;
  for_each_target(s, a, named, true, [&](Target& t, bool) {
    Message m{t.queue, std::move(*t.envelope), {}, {}};
    if (deferred.count(t.id)) m.defer = latest_reasons(s.spool, QueueName::defer, t.id);
    if (bounced.count(t.id)) m.bounce = latest_reasons(s.spool, QueueName::bounce, t.id);
    std::string text = a.json ? json_message(m) : (count == 0 ? mailq_heading() : "\n") + mailq_message(m);
    std::fwrite(text.data(), 1, text.size(), stdout);
    total += m.envelope.message_size;
    ++count;
  });
  if (!a.json) {
    std::string trailer = mailq_trailer(count, total);
    std::fwrite(trailer.data(), 1, trailer.size(), stdout);
  }
  return s.status;
}

int show(Session& s, const Args& a, const std::vector<QueueId>& named) {
  std::vector<QueueName> queues = queues_of(a);
  for_each_target(s, a, named, false, [&](Target& t, bool) {
    Result<queue::QueueFile> qf = make_error(Errc::not_found, "");
    for (int tries = 0; tries <= kMoveRetries; ++tries) {
      qf = queue::read_queue_file(s.spool.file(t.queue, t.id));
      if (qf || qf.error().code != Errc::not_found) break;
      auto q = locate(s.spool, t.id, queues);
      if (!q) break;
      t.queue = *q;
    }
    if (!qf) {
      if (qf.error().code == Errc::not_found) complain(t.id.str(), ": not found");
      else complain(t.id.str(), ": cannot show: ", qf.error().detail);
      s.status = kExitFailed;
      return;
    }
    std::string text = show_message(t.queue, *qf, latest_reasons(s.spool, QueueName::defer, t.id),
                                     latest_reasons(s.spool, QueueName::bounce, t.id), a.parts);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
  return s.status;
}

// ------------------------------------------------------------ changing

// Runs `step` on the message where it is; when the file has gone, finds it
// again among `queues` and retries (see the opening comment). Returns the
// queue it acted in.
Result<QueueName> follow(Session& s, Target t, const std::vector<QueueName>& queues,
                         const std::function<Result<void>(QueueName)>& step) {
  for (int tries = 0;; ++tries) {
    auto r = step(t.queue);
    if (r) return t.queue;
    if (r.error().code != Errc::not_found || tries == kMoveRetries) return std::move(r).error();
    auto q = locate(s.spool, t.id, queues);
    if (!q) return std::move(r).error();
    t.queue = *q;
  }
}

struct Change {
  const char* done;     // "Deleted": the summary line
  const char* logged;   // "removed": the log line after the ID
  std::function<Result<void>(Session&, QueueName, const QueueId&)> step;
};

Change change_for(Verb v) {
  switch (v) {
    case Verb::hold:
      return {"Placed on hold", "placed on hold", [](Session& s, QueueName q, const QueueId& id) {
                return queue::move_queue_file(s.spool, id, q, QueueName::hold);
              }};
    case Verb::release:
      return {"Released from hold", "released from hold",
              [](Session& s, QueueName q, const QueueId& id) -> Result<void> {
                auto r = queue::move_queue_file(s.spool, id, q, QueueName::deferred);
                if (!r) return r;
                // Due now: deferred/ mail is retried by its file time. Not
                // a write of the file; a failure only delays the retry.
                (void)::utimensat(AT_FDCWD, s.spool.file(QueueName::deferred, id).c_str(), nullptr, 0);
                return {};
              }};
    case Verb::requeue:
      return {"Requeued", "requeued", [](Session& s, QueueName q, const QueueId& id) {
                return queue::move_queue_file(s.spool, id, q, QueueName::incoming);
              }};
    default:
      return {"Deleted", "removed", [](Session& s, QueueName q, const QueueId& id) {
                return queue::remove_queue_file(s.spool, q, id);
              }};
  }
}

// After release: ask qmgr to try each message now. qmgr not running is no
// error: it takes deferred/ mail when it starts.
void flush_released(Session& s, const std::vector<QueueId>& ids) {
  if (ids.empty()) return;
  auto c = ipc::BlockingClient::connect(queue::qmgr_socket(s.spool), queue::kQmgrProtocol, kQmgrTimeout);
  if (!c) {
    complain("qmgr is not reachable (", c.error().detail, "); released mail is tried when it runs");
    return;
  }
  for (const QueueId& id : ids)
    if (auto r = c->call(queue::Flush{"", id.str()}, kQmgrTimeout); !r && r.error().code != Errc::not_found) {
      complain("qmgr did not take the released mail now (", r.error().detail, "); it is tried later");
      return;
    }
}

int change(Session& s, const Args& a, const std::vector<QueueId>& named) {
  Verb v = *a.verb;
  Change c = change_for(v);
  std::vector<QueueName> queues = queues_of(a);
  std::vector<QueueId> changed;
  for_each_target(s, a, named, false, [&](const Target& t, bool is_named) {
    auto r = follow(s, t, queues, [&](QueueName q) { return c.step(s, q, t.id); });
    if (!r) {
      if (r.error().code == Errc::not_found) complain(t.id.str(), ": not found");
      else complain(t.id.str(), ": not changed: ", r.error().detail);
      if (r.error().code != Errc::not_found || is_named) s.status = kExitFailed;
      return;
    }
    if (v == Verb::remove) {
      for (QueueName log : {QueueName::defer, QueueName::bounce})
        if (auto gone = queue::remove_reasons(s.spool, log, t.id); !gone)
          complain("warning: ", t.id.str(), ": ", gone.error().detail);
    }
    log_message(t.id, c.logged);
    changed.push_back(t.id);
  });
  if (v == Verb::release) flush_released(s, changed);
  if (v == Verb::requeue && !changed.empty()) (void)queue::wake_qmgr(s.spool);
  std::string summary = cat(c.done, ": ", plural(changed.size()));
  log::info(summary);
  say(summary);
  return s.status;
}

// ------------------------------------------------------------- flush

int flush(Session& s, const Args& a, const std::vector<QueueId>& named) {
  auto c = ipc::BlockingClient::connect(queue::qmgr_socket(s.spool), queue::kQmgrProtocol, kQmgrTimeout);
  if (!c) {
    complain("cannot flush: qmgr is not reachable (", c.error().detail,
             "); is the mail system running?");
    return kExitQmgr;
  }
  const Selector& sel = a.select;
  std::uint64_t count = 0;
  if (named.empty() && !sel.from && !sel.to && !sel.older_than) {
    // Everything, or one domain: qmgr selects itself.
    auto r = c->call(queue::Flush{sel.domain.value_or(""), ""}, kQmgrTimeout);
    if (!r) {
      complain("cannot flush: ", r.error().detail);
      return kExitQmgr;
    }
    count = r->count;
  } else {
    bool reachable = true;
    for_each_target(s, a, named, false, [&](const Target& t, bool) {
      if (!reachable) return;
      auto r = c->call(queue::Flush{"", t.id.str()}, kQmgrTimeout);
      if (!r) {
        complain(t.id.str(), ": not flushed: ", r.error().detail);
        if (r.error().code != Errc::not_found) reachable = false;
        s.status = kExitFailed;
        return;
      }
      count += r->count;
    });
    if (!reachable) return kExitQmgr;
  }
  say("Flushed: ", plural(count));
  return s.status;
}

// ------------------------------------------------------------ dispatch

int run_verb(Context& ctx, std::vector<std::string> words, std::optional<Verb> preset) {
  auto a = parse_args(words, preset);
  if (!a) return usage(a.error().detail);
  if (a->help) {
    print_help(a->verb, preset ? "" : "queue ");
    return 0;
  }
  std::vector<QueueId> named = a->ids;
  if (a->ids_from_stdin) {
    auto more = ids_from_stdin();
    if (!more) return usage(more.error().detail);
    named.insert(named.end(), more->begin(), more->end());
  }
  int rc = 0;
  auto s = open_session(ctx, *a, rc);
  if (!s) return rc;
  int status = 0;
  switch (*a->verb) {
    case Verb::list: status = list(*s, *a, named); break;
    case Verb::show: status = show(*s, *a, named); break;
    case Verb::flush: status = flush(*s, *a, named); break;
    default: status = change(*s, *a, named); break;
  }
  std::fflush(stdout);
  return status;
}

int run_queue(Context& ctx, const std::vector<std::string>& args) {
  return run_verb(ctx, {args.begin() + 1, args.end()}, std::nullopt);
}

int run_flush(Context& ctx, const std::vector<std::string>& args) {
  return run_verb(ctx, {args.begin() + 1, args.end()}, Verb::flush);
}

const Registration reg_queue{"queue", run_queue, kUsage};
const Registration reg_flush{"flush", run_flush,
                             "flush [-c DIR] [--domain D] [selectors] [ID...|ALL]"};

}  // namespace
}  // namespace posthorn::tools
