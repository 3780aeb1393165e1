// Helpers shared by the lib/maps unit tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "lib/base/file.h"
#include "lib/maps/table.h"
#include "t/unit/support/temp_dir.h"

namespace posthorn::maps::test {

using posthorn::test::TempDir;

// The value for `key`, "<none>" when absent, "<error: ...>" on error.
inline std::string get(const Table& t, std::string_view key) {
  auto r = t.lookup(key);
  if (!r) return "<error: " + r.error().detail + ">";
  return *r ? **r : "<none>";
}

}  // namespace posthorn::maps::test
