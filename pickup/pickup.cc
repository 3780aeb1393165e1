// pickup/pickup.cc - see pickup.h.
//
// One file, step by step:
//   1. open it without following a symlink and without blocking on a FIFO;
//      fstat the descriptor: a regular file within the limit, and its owner
//   2. read it through that descriptor and parse it (lib/queue codec); the
//      queue ID inside must be the file's name
//   3. check the envelope addresses with lib/address
//   4. cleanup (Origin::local, the owner's uid) commits to incoming/
//   5. unlink the maildrop file and fsync maildrop/; wake qmgr
// A refusal in 1-4 is a quarantine, except an I/O error or a newer format
// version (the file stays for a later scan, as the queue reader does).
#include "pickup/pickup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/address/path.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/log/log.h"
#include "lib/queue/codec.h"
#include "lib/queue/reader.h"
#include "lib/queue/trigger.h"
#include "lib/queue/writer.h"

namespace posthorn::pickup {

namespace {

constexpr std::size_t kEnvelopeAllowance = std::size_t{1} << 20;
constexpr std::chrono::hours kStaleTemporary{1};

struct Opened {
  std::string bytes;
  uid_t owner = 0;
};

// Steps 1 and 2's read. Errc::corrupt for what must be quarantined,
// Errc::not_found when the file has gone, Errc::io otherwise.
Result<Opened> open_and_read(const std::filesystem::path& path, std::size_t max_bytes) {
  auto fd = open_file(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (!fd) {
    Error e = std::move(fd).error();
    if (errno == ELOOP) e = make_error(Errc::corrupt, cat(path.string(), ": a symbolic link"));
    return e;
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(cat("fstat ", path.string()));
  if (!S_ISREG(st.st_mode)) return make_error(Errc::corrupt, cat(path.string(), ": not a regular file"));
  if (static_cast<unsigned long long>(st.st_size) > max_bytes)
    return make_error(Errc::corrupt, cat(path.string(), ": larger than ", max_bytes, " bytes"));
  Opened out;
  out.owner = st.st_uid;
  out.bytes.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.bytes.size()) {
    ssize_t n = ::read(fd->get(), out.bytes.data() + got, out.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read ", path.string()));
    if (n == 0) break;  // shrank meanwhile: the parser sees a truncated file
    got += static_cast<std::size_t>(n);
  }
  out.bytes.resize(got);
  return out;
}

// Step 3: every address as lib/address would have produced it; unqualified
// ones are allowed (cleanup appends myorigin).
Result<void> check_addresses(const queue::Envelope& env) {
  address::Options o;
  o.lenient = true;
  o.smtputf8 = env.smtputf8;
  if (!env.sender.empty())
    if (auto m = address::parse_mailbox(env.sender, o); !m)
      return make_error(Errc::corrupt, cat("sender <", printable(env.sender), ">: ", m.error().detail));
  for (const queue::Recipient& r : env.recipients)
    if (auto m = address::parse_mailbox(r.address, o); !m)
      return make_error(Errc::corrupt,
                        cat("recipient <", printable(r.address), ">: ", m.error().detail));
  return {};
}

// What cleanup gets: the fields MAILDROP.md allows, nothing else.
queue::Envelope local_envelope(const queue::Envelope& in) {
  queue::Envelope env;
  env.sender = in.sender;
  for (const queue::Recipient& r : in.recipients) {
    queue::Recipient out;
    out.address = r.address;
    out.orcpt = r.orcpt;
    out.notify = r.notify;
    env.recipients.push_back(std::move(out));
  }
  env.client.protocol = "local";
  env.ret = in.ret;
  env.envid = in.envid;
  env.body_type = in.body_type;
  env.smtputf8 = in.smtputf8;
  return env;
}

FileResult quarantined(const queue::Spool& spool, std::string_view name, const Error& why) {
  (void)queue::quarantine(spool, queue::QueueName::maildrop, name, why);  // logs either way
  return {Outcome::quarantined, {}, why.detail};
}

FileResult retry(std::string_view name, std::string detail) {
  log::warn(printable(name), ": left in maildrop/ for a later attempt: ", detail);
  return {Outcome::retry, {}, std::move(detail)};
}

// Steps 4 and 5 for a file that passed 1-3.
FileResult commit(const queue::Spool& spool, std::string_view name, const queue::QueueFile& qf,
                  uid_t owner, const Settings& s) {
  cleanup::CleanupSettings cs = s.cleanup;
  cs.origin = cleanup::Origin::local;
  cs.extract_recipients = false;
  cs.submitter_uid = owner;
  cs.full_name = qf.env.client.name;
  cleanup::Cleanup c(std::move(cs), local_envelope(qf.env));
  c.feed(qf.headers);
  c.feed(qf.body);
  auto id = c.commit(spool);
  if (!id && c.status() == cleanup::Status::write_error) {
    FileResult r = retry(name, id.error().detail);
    r.outcome = Outcome::write_error;
    return r;
  }
  // XXX: Postfix bounces such a message to its sender; here it is kept in
  // corrupt/ with the reason logged until pickup can send a bounce. sendmail
  // runs the same cleanup before submitting, so only files made by hand or
  // limits lowered meanwhile get here.
  if (!id)
    return quarantined(spool, name,
                       make_error(Errc::corrupt, cat("refused by cleanup (",
                                                     cleanup::status_name(c.status()), "): ",
                                                     id.error().detail)));
  // Postfix's pickup line: "ID: uid=1000 from=<alice@example.org>".
  log::emit({log::Level::info, "pickup", id->str(), {},
             cat("uid=", owner, " from=<", printable(c.envelope().sender), ">")});
  if (!c.message_id().empty()) log::info(id->str(), ": message-id=", printable(c.message_id()));
  const std::filesystem::path path = spool.dir(queue::QueueName::maildrop) / std::string(name);
  if (::unlink(path.c_str()) != 0)
    log::error(id->str(), ": cannot remove ", path.string(), " after queueing it: ",
               sys_error("unlink").detail, "; it may be queued again");
  else if (auto ok = fsync_dir(spool.dir(queue::QueueName::maildrop)); !ok)
    log::warn(id->str(), ": ", ok.error().detail);
  return {Outcome::queued, *id, {}};
}

}  // namespace

Settings settings_from_config(const config::Config& cfg) {
  Settings s;
  s.cleanup = cleanup::CleanupSettings::from_config(cfg);
  if (s.cleanup.message_size_limit > 0)
    s.max_file_bytes = static_cast<std::size_t>(s.cleanup.message_size_limit) + kEnvelopeAllowance;
  return s;
}

FileResult pickup_file(const queue::Spool& spool, std::string_view name, const Settings& s) {
  const std::filesystem::path path = spool.dir(queue::QueueName::maildrop) / std::string(name);
  auto file = open_and_read(path, s.max_file_bytes);
  if (!file) {
    if (file.error().code == Errc::corrupt) return quarantined(spool, name, file.error());
    if (file.error().code == Errc::not_found) return {Outcome::gone, {}, file.error().detail};
    return retry(name, file.error().detail);
  }
  auto qf = queue::parse_queue_file(file->bytes);
  if (!qf && qf.error().code == Errc::unsupported) return retry(name, qf.error().detail);
  if (!qf) return quarantined(spool, name, qf.error());
  if (qf->id.str() != name)
    return quarantined(spool, name, make_error(Errc::corrupt, cat("file name does not match queue ID ",
                                                                  qf->id.str())));
  if (auto ok = check_addresses(qf->env); !ok) return quarantined(spool, name, ok.error());
  return commit(spool, name, *qf, file->owner, s);
}

Result<ScanResult> scan_maildrop(const queue::Spool& spool, const Settings& s) {
  if (auto stale = queue::remove_stale_temporaries(spool, queue::QueueName::maildrop, kStaleTemporary);
      stale && *stale > 0)
    log::info("removed ", *stale, " unfinished temporary files from maildrop/");
  auto listing = queue::list_queue(spool, queue::QueueName::maildrop);
  if (!listing) return std::move(listing).error();
  ScanResult r;
  for (const std::string& stranger : listing->strangers) {
    (void)queue::quarantine(spool, queue::QueueName::maildrop, stranger,
                            make_error(Errc::corrupt, "not a queue file name"));
    ++r.quarantined;
  }
  for (const queue::QueueId& id : listing->ids) {
    FileResult f = pickup_file(spool, id.str(), s);
    if (f.outcome == Outcome::queued) ++r.queued;
    if (f.outcome == Outcome::quarantined) ++r.quarantined;
    if (f.outcome == Outcome::retry || f.outcome == Outcome::write_error) ++r.retry;
    if (f.outcome == Outcome::write_error) break;
  }
  if (r.queued > 0) (void)queue::wake_qmgr(spool);  // qmgr also scans incoming/ on its own
  return r;
}

}  // namespace posthorn::pickup
