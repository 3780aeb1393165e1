// local/agent.cc - see agent.h.
#include "local/agent.h"

#include <ctime>

#include "lib/base/strings.h"
#include "lib/deliver/delivery_log.h"
#include "lib/log/log.h"
#include "lib/queue/reader.h"
#include "local/content.h"
#include "local/delivery.h"

namespace posthorn::local {

namespace {

std::optional<queue::QueueName> readable_queue(std::string_view name) {
  for (queue::QueueName q : {queue::QueueName::incoming, queue::QueueName::active,
                             queue::QueueName::deferred, queue::QueueName::hold})
    if (queue::queue_dir_name(q) == name) return q;
  return std::nullopt;
}

using deliver::now_us;

// The delivery line for one recipient (lib/deliver/delivery_log.h).
log::Record delivery_line(const deliver::Request& req, std::string_view queue_id, const deliver::Rcpt& r,
                          std::string_view relay, std::int64_t start, const Outcome& o) {
  return deliver::delivery_record(queue_id, r.address, r.original, relay,
                                  deliver::Timing::of(req, start, now_us()), o.dsn, status_name(o.status), o.text);
}

}  // namespace

Agent::Agent(Settings settings, Tables tables, queue::Spool spool, std::optional<Rights> queue_owner)
    : settings_(std::move(settings)), tables_(std::move(tables)), spool_(std::move(spool)),
      queue_owner_(std::move(queue_owner)) {}

deliver::Reply Agent::defer_all(const deliver::Request& req, std::string_view text, std::int64_t start) {
  deliver::Reply reply;
  const Outcome o = Outcome::deferred("4.3.0", std::string(text));
  const std::string relay = req.transport == "virtual" ? "virtual" : "local";
  for (const deliver::Rcpt& r : req.rcpts) {
    log::emit(delivery_line(req, printable(req.queue_id), r, relay, start, o));
    reply.results.push_back({r.index, std::string(status_name(o.status)), o.dsn, o.text, relay});
  }
  return reply;
}

deliver::Reply Agent::handle(const deliver::Request& req) {
  const std::int64_t start = now_us();
  if (req.rcpts.empty()) {
    log::warn("delivery request for ", printable(req.queue_id), " without recipients");
    return {};
  }
  auto id = queue::QueueId::parse(req.queue_id);
  auto q = readable_queue(req.queue);
  if (!id || !q) {
    log::warn("bad delivery request: queue ", printable(req.queue), ", queue ID ",
              printable(req.queue_id));
    return defer_all(req, "bad delivery request", start);
  }
  queue::ReadOptions ro;
  ro.max_bytes = static_cast<std::size_t>(settings_.message_size_limit) + (16u << 20);
  auto qf = queue::read_queue_file(spool_.file(*q, *id), ro);
  if (!qf) {
    log::warn(id->str(), ": cannot read queue file in ", req.queue, ": ", qf.error().detail);
    return defer_all(req, "cannot read queue file", start);
  }
  Job job{settings_, tables_, spool_, *qf, req.sender, delivered_to_values(qf->headers),
          std::time(nullptr), req.transport == "virtual" || settings_.service == "virtual",
          queue_owner_};
  deliver::Reply reply;
  for (const deliver::Rcpt& r : req.rcpts) {
    const std::int64_t t0 = now_us();
    RecipientResult res = deliver_recipient(job, r);
    if (settings_.soft_bounce) res.outcome = soften(std::move(res.outcome));
    log::emit(delivery_line(req, id->str(), r, res.relay, t0, res.outcome));
    reply.results.push_back({r.index, std::string(status_name(res.outcome.status)),
                             res.outcome.dsn, res.outcome.text, res.relay});
  }
  return reply;
}

}  // namespace posthorn::local
