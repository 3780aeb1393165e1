// lib/service/version.h - the release of this build, as master logs it at
// start-up and `posthorn version` prints it.
#pragma once

namespace posthorn::service {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace posthorn::service
