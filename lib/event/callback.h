// lib/event/callback.h - the boundary between libevent and our callbacks.
//
// libevent is C: an exception thrown through it would unwind C frames and
// leave the loop in an unknown state. Every trampoline runs the user's
// callback through guarded(), which catches everything and logs it.
//
// A callback is kept in a SharedFn: the trampoline holds its own reference
// while it runs, so a callback may destroy the object that registered it
// (a session closing itself) as its last act.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string_view>

#include "lib/log/log.h"

namespace posthorn::event {

template <class Sig>
using SharedFn = std::shared_ptr<std::function<Sig>>;

template <class Sig, class F>
SharedFn<Sig> share_fn(F&& f) {
  return std::make_shared<std::function<Sig>>(std::forward<F>(f));
}

// Runs f(); logs and swallows any exception. `where` names the callback kind.
template <class F>
void guarded(std::string_view where, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    try {
      log::error("exception escaped a ", where, " callback: ", e.what());
    } catch (...) {
    }
  } catch (...) {
    try {
      log::error("unknown exception escaped a ", where, " callback");
    } catch (...) {
    }
  }
}

}  // namespace posthorn::event
