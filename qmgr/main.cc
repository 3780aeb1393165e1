// qmgr - the queue manager, the only scheduler.
// Does:       incoming/ (and due deferred/) -> active/, a transport and next
//             hop per recipient (lib/resolve, virtual aliases included),
//             jobs to the delivery agents within per-transport process
//             limits and per-destination slow-start windows, deferral with
//             jittered exponential back-off, queue lifetime, delay warnings,
//             bounces and success notices (lib/bounce) written back into
//             incoming/. qmgr/scheduler.h tells the life of a message.
// Talks to:   master (status and wake-ups, through lib/service); the agents
//             on private/TRANSPORT (lib/deliver/protocol.h); whoever wakes
//             or flushes it on public/qmgr (lib/queue/trigger.h: cleanup
//             writers, pickup, the queue tools).
// Runs as:    mail owner (master.cf: qmgr unix n - n 300 1 qmgr; one
//             process), may be chrooted to the spool; never needs root.
// Trusts:     queue files only after lib/queue validated them (damaged ->
//             corrupt/), agents' answers only per recipient it asked about.
// Threads:    one event loop; a single worker thread only unlinks finished
//             queue files (qmgr/remover.h: on a disk with online discard an
//             unlink waits milliseconds, which would cap the loop's rate).
//
// The crash contract (kill -9 at any instant loses nothing; a restart
// repeats at most the deliveries that were in flight):
//   - a file is in exactly one queue directory at every instant: every move
//     is one rename(2) on one filesystem (lib/queue/spool.h). qmgr does not
//     fsync the directories after its moves and removals: the status blocks
//     are fsynced, so a rename or unlink that an OS crash undoes only brings
//     a file back where it was, to be taken again with what is done marked
//     done (Scheduler::move);
//   - an agent's answer is on disk before the recipient can be tried again:
//     bounce reason (fsynced) before the bounced state, expansion note
//     (fsynced) before a deferred state of an expanded recipient, status
//     blocks (synced) before the message leaves active/ for deferred/ or a
//     notice is queued; a delivery whose
//     answer was not recorded leaves its recipient pending, so the next
//     qmgr, which takes everything in active/ again, repeats exactly it;
//   - a message is removed only when every recipient is done and every
//     notice it owes is a complete file in incoming/; a crash between a
//     notice and the record that it was sent can repeat that notice, never
//     lose it (qmgr/finish.cc). The statuses that finish a message owing no
//     notice are not synced before its removal: an OS crash (not a process
//     crash) may then bring it back and repeat those deliveries
//     (lib/queue/FORMAT.md, "Life of a file");
//   - the next attempt time is the file's mtime in deferred/, set before
//     the move, so deferred mail is never lost, at worst tried early.
//
// No answer timeout: qmgr waits for a delivery agent's answer as long as
// the agent takes (qmgr/agents.h). An agent's own limits bound a delivery
// (smtp: smtp_connect_timeout ... smtp_data_done_timeout per host tried;
// local: command_time_limit), and their sum is far beyond any fixed wait
// qmgr could pick: if qmgr gave up first, it would retry a recipient that
// the agent may still be delivering, a duplicate. A dead agent is seen at
// once: its connection closes when the process ends (crash, kill -9, or
// master reaping it), and its job is deferred "4.3.0 delivery agent
// failed" as an attempt. qmgr_ipc_timeout limits only the silent clients
// of public/qmgr (wake-ups, flush requests).
// Not yet:    the deliver protocol has no "whole site failed" flag, so a
//             job counts as a failed delivery to its destination when every
//             recipient of it was deferred. lib/service has no "retiring"
//             query: on reload or stop a busy qmgr keeps scheduling until
//             master's grace period ends it (safe by the contract above; the
//             deliveries then in flight are repeated by its successor). An
//             answer that leaves recipients of its message open costs one
//             fdatasync of the queue file (update_recipients).
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/bounce/bounce.h"
#include "lib/event/timer.h"
#include "lib/log/log.h"
#include "lib/queue/spool.h"
#include "lib/resolve/resolve.h"
#include "lib/service/service.h"
#include "qmgr/agents.h"
#include "qmgr/remover.h"
#include "qmgr/scheduler.h"
#include "qmgr/settings.h"
#include "qmgr/trigger_server.h"

namespace {

using namespace posthorn;

class TableResolver final : public qmgr::RecipientResolver {
 public:
  explicit TableResolver(resolve::Resolver r) : r_(std::move(r)) {}
  resolve::Resolution resolve(std::string_view address) override {
    resolve::Resolution res = r_.resolve(address);
    if (res.failed && !res.detail.empty())
      log::warn("resolving <", printable(address), ">: ", res.detail);
    return res;
  }
  // Between queue runs: tables rebuilt by posthorn map are opened again.
  // A table the mail owner cannot reopen keeps its old contents; that is
  // said once, not at every queue run.
  void refresh() {
    auto n = r_.refresh();
    std::string problem = n ? std::string() : n.error().detail;
    if (!problem.empty() && problem != last_problem_) log::warn("reopening lookup tables: ", problem);
    last_problem_ = std::move(problem);
  }

 private:
  resolve::Resolver r_;
  std::string last_problem_;
};

class BounceComposer final : public qmgr::Composer {
 public:
  explicit BounceComposer(bounce::Settings s) : s_(std::move(s)) {}
  Result<qmgr::Notice> compose(const queue::QueueFile& original, qmgr::NoticeKind kind,
                               const std::vector<qmgr::NoticeRcpt>& rcpts, std::int64_t now) override {
    return convert(bounce::compose(original, kind_of(kind), recipients(rcpts), s_, at(now)));
  }
  Result<qmgr::Notice> compose_postmaster(const queue::QueueFile& original, qmgr::NoticeKind kind,
                                          const std::vector<qmgr::NoticeRcpt>& rcpts,
                                          std::int64_t now) override {
    return convert(bounce::compose_postmaster_notice(original, kind_of(kind), recipients(rcpts), s_, at(now)));
  }
  bool wants(std::uint8_t notify, qmgr::NoticeKind kind) const override {
    return bounce::wants(notify, kind_of(kind));
  }
  bool postmaster_wants(const queue::QueueFile& original, qmgr::NoticeKind kind) const override {
    return bounce::postmaster_wants(s_, original, kind_of(kind));
  }
  bool is_double_bounce_sender(std::string_view sender) const override {
    return bounce::is_double_bounce_sender(s_, sender);
  }

 private:
  static bounce::Kind kind_of(qmgr::NoticeKind k) {
    switch (k) {
      case qmgr::NoticeKind::failure: return bounce::Kind::failure;
      case qmgr::NoticeKind::delay: return bounce::Kind::delay;
      case qmgr::NoticeKind::success: return bounce::Kind::success;
    }
    return bounce::Kind::failure;
  }
  static std::chrono::system_clock::time_point at(std::int64_t unix_seconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
  }
  static std::vector<bounce::DsnRecipient> recipients(const std::vector<qmgr::NoticeRcpt>& in) {
    std::vector<bounce::DsnRecipient> out;
    for (const qmgr::NoticeRcpt& r : in)
      out.push_back({r.address, r.original, r.orcpt, r.action, r.status, r.diagnostic, r.remote_mta,
                     r.last_attempt, r.will_retry_until});
    return out;
  }
  static Result<qmgr::Notice> convert(Result<bounce::Notice> n) {
    if (!n) return std::move(n).error();
    return qmgr::Notice{std::move(n->env), std::move(n->headers), std::move(n->body)};
  }
  bounce::Settings s_;
};

class SystemClock final : public qmgr::Clock {
 public:
  std::int64_t now_us() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  double uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

 private:
  std::mt19937_64 rng_{std::random_device{}()};
};

// The program's state: tables and templates are opened before the
// privilege drop (they may be readable by root only, or outside a chroot),
// the rest after it.
struct Qmgr {
  qmgr::Settings settings;
  queue::Spool spool{"."};  // the skeleton chdirs (or chroots) to queue_directory
  std::unique_ptr<TableResolver> resolver;
  std::unique_ptr<BounceComposer> composer;
  SystemClock clock;
  std::unique_ptr<qmgr::AgentPool> agents;
  std::unique_ptr<qmgr::Remover> remover;
  std::unique_ptr<qmgr::Scheduler> scheduler;
  std::unique_ptr<qmgr::TriggerServer> triggers;
  std::unique_ptr<event::Timer> start_timer;
  std::unique_ptr<event::Timer> run_timer;
  std::optional<service::Job> busy;  // held while deliveries are in flight
  std::optional<service::Job> removing;  // held while files wait for the remover
};
std::unique_ptr<Qmgr> state;

void pre_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  auto q = std::make_unique<Qmgr>();
  q->settings = qmgr::Settings::from_config(cfg);
  auto resolver = resolve::Resolver::from_config(cfg);
  if (!resolver) throw std::runtime_error(cat("recipient resolution: ", resolver.error().detail));
  q->resolver = std::make_unique<TableResolver>(std::move(*resolver));
  q->composer = std::make_unique<BounceComposer>(bounce::Settings::from_config(cfg));
  state = std::move(q);
}

void post_drop(service::Context& ctx) {
  Qmgr* q = state.get();
  if (auto ok = queue::check_one_filesystem(q->spool); !ok) throw std::runtime_error(ok.error().detail);
  q->agents = std::make_unique<qmgr::AgentPool>(ctx.loop(), q->spool);
  q->remover = std::make_unique<qmgr::Remover>(ctx.loop(), [q, &ctx](bool busy) {
    if (busy)
      q->removing = ctx.begin_job();
    else
      q->removing.reset();
  });
  q->scheduler = std::make_unique<qmgr::Scheduler>(
      q->settings, q->spool,
      qmgr::Deps{*q->agents, *q->resolver, *q->composer, q->clock, *q->remover, [q, &ctx](bool busy) {
                   if (busy)
                     q->busy = ctx.begin_job();
                   else
                     q->busy.reset();
                 }});
  q->triggers = std::make_unique<qmgr::TriggerServer>(
      ctx.loop(), q->settings.ipc_timeout, [q] { q->scheduler->scan_incoming(); },
      [q](const std::string& domain, const std::string& id) { return q->scheduler->flush(domain, id); });
  // Start from the loop, once master has seen us ready.
  q->start_timer = std::make_unique<event::Timer>(ctx.loop(), [q] { q->scheduler->start(); });
  q->start_timer->start(std::chrono::milliseconds(0));
  // Every queue_run_delay: due deferred mail, and incoming/ too, so that a
  // message whose wake-up was lost (qmgr busy restarting, a full socket
  // backlog) waits at most that long.
  q->run_timer = std::make_unique<event::Timer>(ctx.loop(), [q] {
    q->resolver->refresh();
    q->scheduler->scan_incoming();
    q->scheduler->scan_deferred();
  });
  q->run_timer->start_periodic(std::chrono::milliseconds(q->settings.queue_run_delay.count() * 1000));
}

void on_accept(service::Context&, event::Accepted a, service::Job job) {
  state->triggers->adopt(std::move(a.fd), std::move(job));
}

void on_wakeup(service::Context&) {
  state->resolver->refresh();
  state->scheduler->scan_incoming();
  state->scheduler->scan_deferred();
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "qmgr";
  p.idle_exit = false;  // lives on wake-ups; master keeps one running
  p.pre_drop = pre_drop;
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  p.on_wakeup = on_wakeup;
  p.on_exit = [](service::Context&) { state.reset(); };
  return service::run(p, argc, argv);
}
