// auth/server.cc - see server.h.
#include "auth/server.h"

#include "lib/log/log.h"

namespace posthorn::auth {

Server::Server(event::EventBase& base, Checker checker, ServerSettings settings,
               std::function<void(const Error&)> table_trouble)
    : base_(base), checker_(std::move(checker)), settings_(settings),
      table_trouble_(std::move(table_trouble)),
      ipc_(base, ipc::ServerOptions{kProtocol, ipc::kDefaultMaxFrame, std::chrono::milliseconds(0)}) {
  ipc_.handle<Check>([this](Check req, ipc::Replier r) { check(std::move(req), std::move(r)); });
}

Server::~Server() = default;

void Server::adopt(Fd fd, service::Job job) {
  auto held = std::make_shared<service::Job>(std::move(job));
  ipc_.adopt(std::move(fd), [held] { held->end(); });
}

void Server::check(Check req, ipc::Replier r) {
  if (!r.wants_reply()) return;
  if (auto t = checker_.reopen_changed(); !t) {
    log::warn(t.error().detail, "; the tables loaded before stay in use");
    if (!table_trouble_reported_ && table_trouble_) table_trouble_(t.error());
    table_trouble_reported_ = true;
  }
  Outcome o = checker_.check(req, Clock::now());
  if (!o.table_warning.empty()) log::warn(o.table_warning);
  // Logged when decided (log watchers need not wait for the delay).
  std::string who = cat("login=", printable(req.login), ", client=",
                        printable(req.client_addr.empty() ? "unknown" : req.client_addr),
                        ", service=", printable(req.service));
  if (o.reply.ok)
    log::info(who, ": ok");
  else
    log::warn(who, ": ", o.reply.temporary ? "temporary failure: " : "failed: ", o.reason);
  if (!o.failed || settings_.failure_delay.count() == 0) return r.reply(o.reply);
  // Only the answer waits: the password is not kept.
  std::uint64_t key = next_key_++;
  auto replier = std::make_shared<ipc::Replier>(std::move(r));
  auto timer = std::make_unique<event::Timer>(base_, [this, key, replier, reply = o.reply] {
    auto node = delayed_.extract(key);  // the timer lives until this callback returns
    replier->reply(reply);              // dropped if the client has gone
  });
  timer->start(settings_.failure_delay);
  delayed_.emplace(key, std::move(timer));
}

}  // namespace posthorn::auth
