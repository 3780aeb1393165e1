// Helpers shared by the lib/maps unit tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "lib/base/file.h"
#include "lib/maps/table.h"

namespace posthorn::maps::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "posthorn-maps-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  // Writes `text` to the file `name` in the directory; returns its path.
  std::string file(const std::string& name, std::string_view text) const {
    std::string p = (path / name).string();
    if (!write_file_durable(p, text)) throw std::runtime_error("cannot write " + p);
    return p;
  }
};

// The value for `key`, "<none>" when absent, "<error: ...>" on error.
inline std::string get(const Table& t, std::string_view key) {
  auto r = t.lookup(key);
  if (!r) return "<error: " + r.error().detail + ">";
  return *r ? **r : "<none>";
}

}  // namespace posthorn::maps::test
