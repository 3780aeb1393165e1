// local/files.h - small filesystem helpers of the mailbox code.
#pragma once

#include <sys/types.h>

#include <filesystem>

#include "lib/base/result.h"

namespace posthorn::local {

// mkdir -p with `mode` for every directory it creates, as the caller's
// current (effective) identity. An existing non-directory in the way:
// Errc::exists. Errors carry errno's meaning (Errc::permission, not_found,
// io) with the path in the detail.
Result<void> make_dirs(const std::filesystem::path& dir, mode_t mode);

}  // namespace posthorn::local
