// lib/queue/pickup_trigger.cc - see pickup_trigger.h.
#include "lib/queue/pickup_trigger.h"

#include "lib/ipc/blocking_client.h"

namespace posthorn::queue {

std::string pickup_socket(const Spool& spool) {
  return (spool.dir(QueueName::public_) / "pickup").string();
}

Result<void> wake_pickup(const Spool& spool, std::chrono::milliseconds timeout) {
  auto c = ipc::BlockingClient::connect(pickup_socket(spool), kPickupProtocol, timeout);
  if (!c) return std::move(c).error();
  return c->notify(Wakeup{}, timeout);
}

}  // namespace posthorn::queue
