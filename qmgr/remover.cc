// qmgr/remover.cc - see remover.h.
#include "qmgr/remover.h"

#include <unistd.h>

#include <cerrno>
#include <memory>

namespace posthorn::qmgr {

Remover::Remover(event::EventBase& loop, std::function<void(bool busy)> busy)
    : busy_(std::move(busy)), pool_(loop, 1, "queue file remover") {}

void Remover::remove(std::filesystem::path path, std::function<void(int error)> done) {
  if (pool_.in_flight() == 0 && busy_) busy_(true);
  auto error = std::make_shared<int>(0);
  pool_.submit([path = std::move(path), error] { *error = ::unlink(path.c_str()) == 0 ? 0 : errno; },
               [this, error, done = std::move(done)] {
                 done(*error);
                 if (pool_.in_flight() == 0 && busy_) busy_(false);
               });
}

}  // namespace posthorn::qmgr
