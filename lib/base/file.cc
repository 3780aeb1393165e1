// lib/base/file.cc - see file.h.
#include "lib/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "lib/base/strings.h"

namespace posthorn {

Result<Fd> open_file(const std::filesystem::path& path, int flags, unsigned mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return sys_error(cat("open ", path.string()));
  return Fd(fd);
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return std::move(fd).error();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(cat("fstat ", path.string()));
  if (static_cast<unsigned long long>(st.st_size) > max_bytes)
    return make_error(Errc::too_large, cat(path.string(), ": larger than ", max_bytes, " bytes"));
  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read ", path.string()));
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      return make_error(Errc::too_large, cat(path.string(), ": larger than ", max_bytes, " bytes"));
  }
  return out;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
  auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error();
  if (::fsync(fd->get()) != 0) return sys_error(cat("fsync ", dir.string()));
  return {};
}

Result<void> write_file_durable(const std::filesystem::path& path, std::string_view data,
                                unsigned mode) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device rd;
  std::filesystem::path tmp = dir / cat(".", path.filename().string(), ".tmp.", ::getpid(), ".", rd());
  auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!fd) return std::move(fd).error();
  auto fail = [&](Error e) -> Result<void> {
    ::unlink(tmp.c_str());
    return e;
  };
  if (auto w = write_all(fd->get(), data); !w) return fail(std::move(w).error());
  if (::fchmod(fd->get(), mode) != 0) return fail(sys_error(cat("fchmod ", tmp.string())));
  if (::fsync(fd->get()) != 0) return fail(sys_error(cat("fsync ", tmp.string())));
  fd->reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(sys_error(cat("rename ", tmp.string(), " to ", path.string())));
  return fsync_dir(dir);
}

}  // namespace posthorn
