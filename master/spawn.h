// master/spawn.h - fork and exec one child with its descriptors in place.
//
// The child gets the status channel at fd 3 and the listening sockets from
// fd 4 (lib/service/status.h); every other descriptor above 2 is closed and
// the signal mask and dispositions master changed are reset, so a child
// starts from a clean state whatever master holds.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::master {

struct SpawnRequest {
  std::filesystem::path exe;      // absolute path of the program
  std::vector<std::string> argv;  // argv[0] included
  int status_fd = -1;             // master keeps the other end
  std::vector<int> listen_fds;    // stay owned by master
};

// The child's pid. Errc::io when fork fails. A failed exec shows as the
// child exiting with status 127 (a line on master's stderr says why).
Result<pid_t> spawn(const SpawnRequest& req);

}  // namespace posthorn::master
