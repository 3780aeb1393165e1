// lib/queue/trigger.cc - see trigger.h.
#include "lib/queue/trigger.h"

#include "lib/ipc/blocking_client.h"

namespace posthorn::queue {

std::string qmgr_socket(const Spool& spool) { return (spool.dir(QueueName::public_) / "qmgr").string(); }

Result<void> wake_qmgr(const Spool& spool, std::chrono::milliseconds timeout) {
  auto c = ipc::BlockingClient::connect(qmgr_socket(spool), kQmgrProtocol, timeout);
  if (!c) return std::move(c).error();
  return c->notify(Wakeup{}, timeout);
}

Result<std::uint64_t> flush_qmgr(const Spool& spool, const Flush& what,
                                 std::chrono::milliseconds timeout) {
  auto r = ipc::call(qmgr_socket(spool), kQmgrProtocol, what, timeout);
  if (!r) return std::move(r).error();
  return r->count;
}

}  // namespace posthorn::queue
