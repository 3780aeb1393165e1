// qmgr/finish.cc - the end of a pass: notices, then removal or deferral
// (scheduler.h, step 5).
//
// Notices and crashes. Each notice is written into incoming/ (fsynced) before
// the state that says "sent" is recorded, so a crash can repeat a notice but
// never lose one:
//   failure  every bounced destination has a record in bounce/ID (fsynced
//            before the bounced state); the log is removed once the notice
//            is queued, so "bounced, and a record in bounce/ID" means "owed a
//            notice". A notice waits while a record belongs to a recipient
//            that is not done yet (an expanded one), so it lists all of them.
//   success  kSentSuccessNotice is set on the recipients it named.
//   delay    kSentDelayNotice likewise.
// A notice to <> is never sent: a bounce that bounced goes to the postmaster
// when notify_classes has 2bounce, else it is dropped with a log line; a
// postmaster notice from double_bounce_sender that bounced is dropped.
// When a notice cannot be queued (disk full), the message keeps its logs
// and waits in deferred/ for the next try, even when every recipient is done.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/queue/reader.h"
#include "lib/queue/writer.h"
#include "qmgr/scheduler.h"
#include "qmgr/scheduler_types.h"
#include "qmgr/timing.h"

namespace posthorn::qmgr {
namespace {

std::string original_of(const queue::Recipient& r, const std::string& final_address) {
  if (final_address == r.address) return r.original;
  return r.original.empty() ? r.address : r.original;
}

}  // namespace

void Scheduler::finish(Message& m) {
  if (m.gone || m.released) return;
  const std::int64_t now_us = deps_.clock.now_us();
  const bool all_done = m.qf.all_done();
  const bool to_sender =
      !m.qf.env.sender.empty() && !deps_.composer.is_double_bounce_sender(m.qf.env.sender);
  bool want_success = false, want_delay = false;
  if (to_sender) {
    for (std::size_t i = 0; i < m.qf.env.recipients.size(); ++i) {
      const queue::Recipient& r = m.qf.env.recipients[i];
      if (r.status.state == queue::RcptState::delivered && !(r.status.flags & queue::kSentSuccessNotice) &&
          deps_.composer.wants(r.notify, NoticeKind::success))
        want_success = true;
      if (!r.status.done() && !(r.status.flags & queue::kSentDelayNotice) &&
          deps_.composer.wants(r.notify, NoticeKind::delay))
        want_delay = true;
    }
    want_delay = want_delay && !all_done && delay_warning_due(m.qf.env.arrival_us, now_us, settings_);
  }
  const bool want_failure = m.side_files && [&] {
    auto bounces = queue::read_reasons(spool_, queue::QueueName::bounce, m.id);
    return !bounces || !bounces->empty();
  }();
  // Statuses written with Sync::later (close_recipients) reach the disk
  // before anything but the file's removal: a notice, a deferral.
  if (m.unsynced && (want_failure || want_success || want_delay || !all_done)) {
    auto ok = queue::sync_recipients(spool_.file(queue::QueueName::active, m.id));
    if (!ok) {
      if (ok.error().code == Errc::not_found)
        return forget(m, "queue file gone from active/ (removed or moved meanwhile); forgotten");
      log::warn(m.id.str(), ": cannot record delivery status: ", ok.error().detail);
      return forget(m, "left in active/ for the next start of the queue manager");
    }
    m.unsynced = false;
  }
  bool notices_ok = true;
  if (want_failure || want_success || want_delay) {
    auto full = queue::read_queue_file(spool_.file(queue::QueueName::active, m.id));
    if (!full) {
      if (full.error().code == Errc::not_found)
        return forget(m, "queue file gone from active/ (removed or moved meanwhile); forgotten");
      log::warn(m.id.str(), ": cannot read the message for its notices: ", full.error().detail);
      notices_ok = false;
    } else {
      // The file's statuses are ours; the content is what the notices need.
      full->env.recipients = m.qf.env.recipients;
      Batch batch;
      if (want_failure) notices_ok &= send_failure_notice(m, *full);
      if (want_success) notices_ok &= send_success_notice(m, *full, batch);
      if (want_delay) send_delay_notice(m, *full, batch);
      if (!batch.updates.empty()) {
        auto ok = queue::update_recipients(spool_.file(queue::QueueName::active, m.id), m.qf, batch.updates);
        if (!ok) {
          if (ok.error().code == Errc::not_found)
            return forget(m, "queue file gone from active/ (removed or moved meanwhile); forgotten");
          log::warn(m.id.str(), ": cannot record sent notices: ", ok.error().detail);
        }
      }
    }
  }
  if (all_done && notices_ok) return retire_message(m);
  std::int64_t due = 0;
  for (const queue::Recipient& r : m.qf.env.recipients)
    if (!r.status.done() && (due == 0 || r.status.next_attempt < due)) due = r.status.next_attempt;
  const std::int64_t now = now_us / 1'000'000;
  if (all_done || due <= now) due = (now_us + 999'999) / 1'000'000 + settings_.min_backoff.count();
  defer_message(m, due);
}

bool Scheduler::send_failure_notice(Message& m, const queue::QueueFile& full) {
  auto records = queue::read_reasons(spool_, queue::QueueName::bounce, m.id);
  if (!records) {
    log::warn(m.id.str(), ": cannot read bounce reasons: ", records.error().detail);
    return false;
  }
  // The last record of each (recipient, final address).
  std::map<std::pair<std::uint32_t, std::string>, queue::Reason> latest;
  for (queue::Reason& r : *records) {
    if (r.index >= m.qf.env.recipients.size()) continue;  // not ours: ignored
    if (!m.qf.env.recipients[r.index].status.done()) return true;  // wait for the rest of it
    latest[{r.index, r.address}] = std::move(r);
  }
  std::vector<NoticeRcpt> all, wanted;
  for (const auto& [key, r] : latest) {
    const queue::Recipient& rc = m.qf.env.recipients[r.index];
    NoticeRcpt n{r.address, original_of(rc, r.address), rc.orcpt, "failed", r.dsn, r.text, r.relay,
                 r.time, 0};
    if (deps_.composer.wants(rc.notify, NoticeKind::failure)) wanted.push_back(n);
    all.push_back(std::move(n));
  }
  const std::int64_t now = deps_.clock.now_us() / 1'000'000;
  const std::string& sender = m.qf.env.sender;
  if (!all.empty()) {
    const bool dropped = sender.empty() || deps_.composer.is_double_bounce_sender(sender);
    if (!dropped && !wanted.empty()) {
      auto id = queue_notice(m, deps_.composer.compose(full, NoticeKind::failure, wanted, now),
                             "sender non-delivery notification");
      if (!id) return false;
    }
    // notify_classes: "2bounce" for a notice that bounced, "bounce" for a copy.
    if (deps_.composer.postmaster_wants(full, NoticeKind::failure)) {
      auto id = queue_notice(m, deps_.composer.compose_postmaster(full, NoticeKind::failure, all, now),
                             "postmaster non-delivery notification");
      if (!id) return false;
    } else if (dropped) {
      log::info(m.id.str(), ": sender is ", sender.empty() ? "<>" : cat("<", sender, ">"),
                ": undeliverable notice discarded");
    }
  }
  if (auto ok = queue::remove_reasons(spool_, queue::QueueName::bounce, m.id); !ok)
    log::warn(m.id.str(), ": cannot remove bounce reasons: ", ok.error().detail);
  return true;
}

bool Scheduler::send_success_notice(Message& m, const queue::QueueFile& full, Batch& batch) {
  std::vector<NoticeRcpt> rcpts;
  std::vector<std::uint32_t> named;
  for (std::uint32_t i = 0; i < m.qf.env.recipients.size(); ++i) {
    const queue::Recipient& r = m.qf.env.recipients[i];
    if (r.status.state != queue::RcptState::delivered || (r.status.flags & queue::kSentSuccessNotice) ||
        !deps_.composer.wants(r.notify, NoticeKind::success))
      continue;
    const RcptPass& rp = m.rcpts[i];
    NoticeRcpt n;
    n.address = r.address;
    n.original = r.original;
    n.orcpt = r.orcpt;
    // RFC 3461 6.2.7.3: an address expanded to several is reported "expanded".
    n.action = rp.expanded ? "expanded" : "delivered";
    n.status = rp.sent_dsn.empty() ? "2.0.0" : rp.sent_dsn;
    n.diagnostic = rp.expanded ? "alias expanded" : rp.sent_text.empty() ? "delivered" : rp.sent_text;
    n.remote_mta = rp.expanded ? "" : rp.sent_relay;
    n.last_attempt = r.status.last_attempt;
    rcpts.push_back(std::move(n));
    named.push_back(i);
  }
  if (rcpts.empty()) return true;
  const std::int64_t now = deps_.clock.now_us() / 1'000'000;
  auto id = queue_notice(m, deps_.composer.compose(full, NoticeKind::success, rcpts, now),
                         "sender delivery status notification");
  if (!id) return false;
  for (std::uint32_t i : named) {
    queue::RecipientStatus s = m.qf.env.recipients[i].status;
    s.flags |= queue::kSentSuccessNotice;
    batch.updates.push_back({i, s});
  }
  return true;
}

bool Scheduler::send_delay_notice(Message& m, const queue::QueueFile& full, Batch& batch) {
  auto reasons = queue::read_reasons(spool_, queue::QueueName::defer, m.id);
  std::vector<queue::Reason> latest = reasons ? queue::latest_per_recipient(*reasons) : std::vector<queue::Reason>{};
  const std::int64_t until =
      m.qf.env.arrival_us / 1'000'000 + queue_lifetime(m.qf.env.sender, settings_).count();
  std::vector<NoticeRcpt> rcpts;
  std::vector<std::uint32_t> named;
  for (std::uint32_t i = 0; i < m.qf.env.recipients.size(); ++i) {
    const queue::Recipient& r = m.qf.env.recipients[i];
    if (r.status.done() || (r.status.flags & queue::kSentDelayNotice) ||
        !deps_.composer.wants(r.notify, NoticeKind::delay))
      continue;
    auto why = std::find_if(latest.begin(), latest.end(), [&](const queue::Reason& x) { return x.index == i; });
    NoticeRcpt n;
    n.address = why != latest.end() ? why->address : r.address;
    n.original = original_of(r, n.address);
    n.orcpt = r.orcpt;
    n.action = "delayed";
    n.status = why != latest.end() ? why->dsn : "4.0.0";
    n.diagnostic = why != latest.end() ? why->text : "delivery delayed";
    n.remote_mta = why != latest.end() ? why->relay : "";
    n.last_attempt = r.status.last_attempt;
    n.will_retry_until = until;
    rcpts.push_back(std::move(n));
    named.push_back(i);
  }
  if (rcpts.empty()) return true;
  const std::int64_t now = deps_.clock.now_us() / 1'000'000;
  auto id = queue_notice(m, deps_.composer.compose(full, NoticeKind::delay, rcpts, now),
                         "sender delay notification");
  if (!id) return false;
  if (deps_.composer.postmaster_wants(full, NoticeKind::delay))
    (void)queue_notice(m, deps_.composer.compose_postmaster(full, NoticeKind::delay, rcpts, now),
                       "postmaster delay notification");
  for (std::uint32_t i : named) {
    queue::RecipientStatus s = m.qf.env.recipients[i].status;
    s.flags |= queue::kSentDelayNotice;
    batch.updates.push_back({i, s});
  }
  return true;
}

Result<queue::QueueId> Scheduler::queue_notice(const Message& m, Result<Notice> n, std::string_view what) {
  if (!n) {
    log::warn(m.id.str(), ": cannot compose the ", what, ": ", n.error().detail);
    return std::move(n).error();
  }
  auto id = queue::write_queue_file(spool_, n->env, n->headers, n->body);
  if (!id) {
    log::warn(m.id.str(), ": cannot queue the ", what, ": ", id.error().detail);
    return std::move(id).error();
  }
  log::info(m.id.str(), ": ", what, ": ", id->str());
  incoming_.push_back(*id);  // ours to deliver; no wake-up needed
  return id;
}

void Scheduler::retire_message(Message& m) {
  if (m.side_files) {
    for (queue::QueueName log : {queue::QueueName::bounce, queue::QueueName::defer})
      if (auto ok = queue::remove_reasons(spool_, log, m.id); !ok)
        log::warn(m.id.str(), ": cannot remove ", queue::queue_dir_name(log), " log: ", ok.error().detail);
    if (auto ok = remove_notes(spool_, m.id); !ok)
      log::warn(m.id.str(), ": cannot remove expansion notes: ", ok.error().detail);
  }
  // Not fsynced either (see Scheduler::move): a removal undone by an OS
  // crash brings back the file, with its recipients done, or, when their
  // last statuses were not synced (m.unsynced, no notice owed), with those
  // recipients pending: they are delivered again (a duplicate, never a loss;
  // FORMAT.md). At worst a notice whose record went with it is repeated.
  // The unlink runs off the loop (remover.h); the message is ours no more
  // from here on, and its file, with every recipient done, is taken again by
  // the next qmgr if this one dies before the unlink.
  deps_.remover.remove(spool_.file(queue::QueueName::active, m.id), [id = m.id.str()](int error) {
    if (error == 0)
      log::emit({log::Level::info, "removed", id, {}, "removed"});
    else if (error == ENOENT)
      log::info(id, ": queue file gone from active/ (removed or moved meanwhile); forgotten");
    else
      log::warn(id, ": cannot remove the queue file: unlink: ", std::strerror(error),
                "; left in active/ for the next start of the queue manager");
  });
  release(m);
}

void Scheduler::defer_message(Message& m, std::int64_t due) {
  const std::filesystem::path path = spool_.file(queue::QueueName::active, m.id);
  // The file's mtime is its next attempt: what scan_deferred() looks at.
  timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(due);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) != 0) {
    if (errno == ENOENT) return forget(m, "queue file gone from active/ (removed or moved meanwhile); forgotten");
    log::warn(m.id.str(), ": ", sys_error(cat("utimensat ", path.string())).detail);
  }
  auto ok = move(m.id, queue::QueueName::active, queue::QueueName::deferred);
  if (!ok) {
    if (ok.error().code == Errc::not_found)
      return forget(m, "queue file gone from active/ (removed or moved meanwhile); forgotten");
    log::warn(m.id.str(), ": cannot move to deferred/: ", ok.error().detail);
    return forget(m, "left in active/ for the next start of the queue manager");
  }
  release(m);
}

}  // namespace posthorn::qmgr
