// lib/service/status.cc - see status.h.
#include "lib/service/status.h"

#include "lib/base/strings.h"

namespace posthorn::service {

std::string_view state_name(State s) { return s == State::idle ? "idle" : "busy"; }

std::string to_ipc_string(State s) { return std::string(state_name(s)); }

Result<void> from_ipc_string(std::string_view text, State& out) {
  if (text == "idle") {
    out = State::idle;
  } else if (text == "busy") {
    out = State::busy;
  } else {
    return make_error(Errc::protocol, cat("state is neither idle nor busy: ", printable(text)));
  }
  return {};
}

}  // namespace posthorn::service
