// lib/config/man.h - main.cf(5), generated from the parameter registry.
//
// man/main.cf.5 is this function's output, checked in. A unit test fails
// when the two differ, and tells how to regenerate the file:
//   POSTHORN_REGEN_MAN=1 build/t/unit_tests "[config][man]"
// so the page and the registry cannot drift.
#pragma once

#include <string>
#include <string_view>

namespace posthorn::config {

// The whole roff page: syntax, expansion, error handling, then one entry per
// parameter sorted by name (type, default, bounds, choices, doc line).
std::string main_cf_man_page();

// Escapes text for roff: backslashes and hyphens; a leading '.' or '\''
// is protected so it cannot start a request.
std::string roff_escape(std::string_view s);

}  // namespace posthorn::config
