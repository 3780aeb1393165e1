// local/forward_queue.cc - see forward_queue.h.
#include "local/forward_queue.h"

#include <chrono>

#include "lib/log/log.h"
#include "lib/queue/trigger.h"
#include "lib/queue/writer.h"
#include "local/content.h"

namespace posthorn::local {

queue::Envelope forward_envelope(const queue::QueueFile& original, const Forward& f) {
  queue::Envelope env;
  env.sender = f.sender;
  env.client = original.env.client;
  env.body_type = original.env.body_type;
  env.smtputf8 = original.env.smtputf8;
  if (!f.owner) {
    env.ret = original.env.ret;
    env.envid = original.env.envid;
  }
  for (const std::string& a : f.recipients) {
    queue::Recipient r;
    r.address = a;
    if (a != f.original) r.original = f.original;
    if (!f.owner) {
      // NOTIFY=SUCCESS was answered by the expansion itself; what is left
      // goes on, and NEVER when nothing is left.
      std::uint8_t n = f.notify & static_cast<std::uint8_t>(~queue::kNotifySuccess);
      r.notify = (f.notify != 0 && n == 0) ? queue::kNotifyNever : n;
      r.orcpt = f.orcpt;
    }
    env.recipients.push_back(std::move(r));
  }
  return env;
}

Result<queue::QueueId> write_forward(const queue::Spool& spool, const queue::QueueFile& original,
                                     const Forward& f, const std::optional<Rights>& owner) {
  if (f.recipients.empty()) return make_error(Errc::invalid, "forward without recipients");
  queue::Envelope env = forward_envelope(original, f);
  std::string headers = original.headers;
  if (f.delivered_to) headers.insert(0, delivered_to_line(original.headers, *f.delivered_to));
  Result<queue::QueueId> id = make_error(Errc::invalid, "not written");
  {
    std::optional<EffectiveIdentity> as_owner;
    if (owner) {
      auto b = EffectiveIdentity::become(*owner);
      if (!b) return std::move(b).error();
      as_owner.emplace(std::move(*b));
    }
    id = queue::write_queue_file(spool, env, headers, original.body);
  }
  if (!id) return id;
  if (auto w = queue::wake_qmgr(spool, std::chrono::milliseconds(500)); !w)
    log::info(id->str(), ": qmgr not woken (", w.error().detail, "); it finds the file on its next scan");
  return id;
}

}  // namespace posthorn::local
