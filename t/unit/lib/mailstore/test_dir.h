// t/unit/lib/mailstore/test_dir.h - a temporary store for mailstore tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "lib/base/file.h"
#include "lib/mailstore/store.h"
#include "t/unit/support/temp_dir.h"

namespace posthorn::mailstore::test {

struct TempStore {
  posthorn::test::TempDir dir{"ms"};
  std::filesystem::path root = dir / "Maildir";
  Store open() {
    auto s = Store::open(root, true);
    if (!s) throw std::runtime_error(s.error().detail);
    return std::move(*s);
  }
  // A file written straight into a Maildir, as another program would.
  void drop(const std::string& sub, const std::string& name, const std::string& data) {
    if (!write_file_durable(root / sub / name, data, 0600)) throw std::runtime_error("drop");
  }
};

inline int count_files(const std::filesystem::path& dir) {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace posthorn::mailstore::test
