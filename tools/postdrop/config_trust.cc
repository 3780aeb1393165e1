// tools/postdrop/config_trust.cc - see config_trust.h.
#include "tools/postdrop/config_trust.h"

#include <sys/stat.h>

#include "lib/base/strings.h"
#include "lib/config/config.h"

namespace posthorn::postdrop {

namespace {

// Owned by root and writable by no one else (group/other write only with
// the sticky bit, for directories).
Result<void> root_only(const std::filesystem::path& p, bool dir) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return sys_error(cat("lstat ", p.string()));
  if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return make_error(Errc::permission, cat(p.string(), " is not a ", dir ? "directory" : "file"));
  if (st.st_uid != 0)
    return make_error(Errc::permission, cat(p.string(), " is owned by uid ", st.st_uid, ", not root"));
  bool writable = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (writable && !(dir && (st.st_mode & S_ISVTX)))
    return make_error(Errc::permission, cat(p.string(), " is writable by group or others"));
  return {};
}

// `real` is a canonical path; so is each listed directory made before the
// comparison.
bool listed_as_alternate(const std::filesystem::path& real, const std::filesystem::path& default_dir) {
  auto cfg = config::Config::load(default_dir);
  if (!cfg) return false;
  for (const std::string& alt : cfg->get_list("alternate_config_directories")) {
    std::error_code ec;
    std::filesystem::path a = std::filesystem::canonical(alt, ec);
    if (!ec && a == real) return true;
  }
  return false;
}

}  // namespace

Result<void> root_only_path(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(dir, ec);
  if (ec) return make_error(Errc::permission, cat(dir.string(), ": ", ec.message()));
  std::filesystem::path walk = real.root_path();
  if (auto r = root_only(walk, true); !r) return r;
  for (const auto& part : real.relative_path()) {
    walk /= part;
    if (auto r = root_only(walk, true); !r) return r;
  }
  return root_only(real / "main.cf", false);
}

Result<std::filesystem::path> trusted_config_dir(const std::filesystem::path& dir,
                                                 const std::filesystem::path& default_dir,
                                                 const Caller& caller) {
  if (!caller.privileged || caller.real_uid == 0) return dir;
  if (dir.lexically_normal() == default_dir.lexically_normal()) return dir;
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(dir, ec);
  if (ec) return make_error(Errc::permission, cat("configuration directory ", dir.string(), ": ",
                                                  ec.message()));
  if (listed_as_alternate(real, default_dir)) return real;
  auto owned = root_only_path(real);
  if (owned) return real;
  return make_error(Errc::permission,
                    cat("configuration directory ", dir.string(), " is not trusted (",
                        owned.error().detail, "); list it in alternate_config_directories of ",
                        (default_dir / "main.cf").string()));
}

}  // namespace posthorn::postdrop
