// lib/dns/resolver.cc - the blocking front-end: a private loop per Resolver.
#include "lib/dns/resolver.h"

#include <event2/event.h>

#include <stdexcept>

namespace posthorn::dns {

namespace {
event_base* new_base() {
  event_base* b = event_base_new();
  if (b == nullptr) throw std::runtime_error("dns: cannot create an event loop");
  return b;
}
}  // namespace

Resolver::Resolver(Config config) : base_(new_base()), async_(base_.get(), std::move(config)) {}

Answer Resolver::query(std::string_view name, RrType type) {
  bool done = false;
  Answer result;
  Lookup lookup = async_.query(name, type, [&](Answer a) {
    result = std::move(a);
    done = true;
  });
  // Every Exchange keeps a timer armed until it completes, so each pass of
  // the loop makes progress and the loop cannot run dry before `done`.
  while (!done) {
    if (event_base_loop(base_.get(), EVLOOP_ONCE) < 0) {
      result.status = Status::local_error;
      result.name = std::string(name);
      result.type = type;
      result.detail = "event loop failure";
      break;
    }
  }
  return result;
}

}  // namespace posthorn::dns
