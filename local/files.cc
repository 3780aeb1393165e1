// local/files.cc - see files.h.
#include "local/files.h"

#include <sys/stat.h>

#include <cerrno>

#include "lib/base/strings.h"

namespace posthorn::local {

Result<void> make_dirs(const std::filesystem::path& dir, mode_t mode) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return make_error(Errc::exists, cat(dir.string(), " exists and is not a directory"));
  }
  if (errno != ENOENT) return sys_error(cat("stat ", dir.string()));
  std::filesystem::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    if (auto r = make_dirs(parent, mode); !r) return r;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    return sys_error(cat("mkdir ", dir.string()));
  return {};
}

}  // namespace posthorn::local
