// qmgr/agents.h - the real delivery agents: one lib/ipc connection per job
// to the transport's socket, private/TRANSPORT, speaking lib/deliver's
// protocol.
//
// A connection carries one request and is closed after its answer, so an
// agent process is free for the next job as soon as it has answered (master
// spawns agents by connections, up to the service's maxproc, and qmgr keeps
// at most that many jobs in flight per transport).
//
// qmgr waits for the answer as long as it takes: the call ends with the
// answer or with the end of the connection, which the kernel reports as soon
// as the agent process is gone (crashed, killed, or reaped by master). An
// agent bounds its own work (smtp_*_timeout, command_time_limit); qmgr
// giving up first would retry a delivery that may still be under way.
//
// XXX: a connection per job costs qmgr a socket, connect and close (about a
// quarter of its CPU per message) and the agent an accept and two status
// reports to master. Reusing idle connections would need master's busy/idle
// accounting and max_use to count requests rather than connections, and a
// rule for a request lost on a connection the agent closed while idle.
//
// The connect itself is synchronous (UNIX-domain: it does not wait for the
// agent, only for the listening socket, which master holds open); a failure
// there is reported as `unreachable`, later, from the loop.
#pragma once

#include <map>
#include <memory>

#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/client.h"
#include "lib/queue/spool.h"
#include "qmgr/ports.h"

namespace posthorn::qmgr {

class AgentPool final : public Agents {
 public:
  AgentPool(event::EventBase& loop, queue::Spool spool) : loop_(loop), spool_(std::move(spool)) {}
  void deliver(const std::string& transport, const deliver::Request& req,
               std::function<void(AgentAnswer)> done) override;
  std::size_t open() const { return calls_.size(); }

 private:
  struct Call {
    std::unique_ptr<ipc::Client> client;
    std::unique_ptr<event::Timer> later;  // reports a connect failure from the loop
  };
  event::EventBase& loop_;
  queue::Spool spool_;
  std::map<Call*, std::unique_ptr<Call>> calls_;
};

}  // namespace posthorn::qmgr
