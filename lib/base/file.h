// lib/base/file.h - whole-file reads and durable writes.
//
// write_file_durable() is the one implementation of "write completely, fsync
// the file, rename into place, fsync the directory": after it returns success
// the new content survives a crash; after a crash before that, the old file
// (or nothing) is there, never a torn one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "lib/base/fd.h"
#include "lib/base/result.h"

namespace posthorn {

// Reads a whole file; refuses files larger than max_bytes (Errc::too_large).
Result<std::string> read_file(const std::filesystem::path& path,
                              std::size_t max_bytes = 64u << 20);

// Writes all of `data` to fd, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);

// fsync(2) of the directory itself, so a create/rename/unlink in it is durable.
Result<void> fsync_dir(const std::filesystem::path& dir);

// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over
// `path` and fsyncs the directory. `mode` is the new file's permission bits.
Result<void> write_file_durable(const std::filesystem::path& path, std::string_view data,
                                unsigned mode = 0644);

// open(2) with O_CLOEXEC added; the Fd owns the result.
Result<Fd> open_file(const std::filesystem::path& path, int flags, unsigned mode = 0600);

}  // namespace posthorn
