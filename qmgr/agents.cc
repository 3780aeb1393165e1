// qmgr/agents.cc - see agents.h.
#include "qmgr/agents.h"

#include "lib/ipc/unix_socket.h"

namespace posthorn::qmgr {
namespace {

// lib/ipc's client arms a timer with every request; a delivery's is set
// beyond any agent's own limits (the longest, daemon_timeout, defaults to
// five hours), so that in practice only the answer or the connection's end
// completes the call (agents.h).
constexpr std::chrono::milliseconds kNoAnswerLimit = std::chrono::hours(24 * 365);

}  // namespace

void AgentPool::deliver(const std::string& transport, const deliver::Request& req,
                        std::function<void(AgentAnswer)> done) {
  auto call = std::make_unique<Call>();
  Call* key = call.get();
  const std::string path = (spool_.dir(queue::QueueName::private_) / transport).string();
  auto fd = ipc::connect_unix(path);
  if (!fd) {
    AgentAnswer a;
    a.reply = std::move(fd).error();
    a.unreachable = true;
    call->later = std::make_unique<event::Timer>(
        loop_, [this, key, a = std::move(a), done = std::move(done)]() mutable {
          auto fn = std::move(done);
          AgentAnswer answer = std::move(a);
          calls_.erase(key);  // destroys this timer and lambda: locals only from here
          fn(std::move(answer));
        });
    call->later->start(std::chrono::milliseconds(0));
    calls_.emplace(key, std::move(call));
    return;
  }
  call->client = std::make_unique<ipc::Client>(loop_, std::move(*fd), ipc::ClientOptions{deliver::kProtocol});
  ipc::Client& client = *call->client;
  calls_.emplace(key, std::move(call));
  client.request(req, kNoAnswerLimit, [this, key, done = std::move(done)](Result<deliver::Reply> r) mutable {
    // This lambda lives on the client's call stack, not in the client:
    // destroying the client first is allowed (client.h).
    auto fn = std::move(done);
    calls_.erase(key);
    AgentAnswer a;
    a.reply = std::move(r);
    fn(std::move(a));
  });
}

}  // namespace posthorn::qmgr
