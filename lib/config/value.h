// lib/config/value.h - the syntax of typed parameter values (see params.h).
//
// These functions look at one value that is already `$`-expanded. They never
// throw and never allocate more than the size of their input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/config/params.h"

namespace posthorn::config {

// Checks `value` against p's type, bounds and choices. Returns "" when it is
// good, else the reason as it ends an error line: "\"5x\" is not a time".
std::string check_value(const Param& p, std::string_view value);

// yes/no in any case.
bool parse_bool(std::string_view s, bool& out);
// A decimal number that fits in a long long (no sign, no spaces).
bool parse_count(std::string_view s, long long& out);
// A number with an optional unit s, m, h, d, w (seconds, minutes, hours,
// days, weeks); a bare number takes `default_unit`. Result in seconds.
bool parse_time(std::string_view s, char default_unit, long long& seconds);
// The unit of a time parameter: the letter its default ends with, else 's'.
char default_time_unit(const Param& p);

// Splits a list value on commas and white space. Text inside `{ }` stays one
// element, so "inline:{a=b, c=d}" is one table; braces must balance (an
// unbalanced one leaves the rest of the text as one element).
std::vector<std::string> split_list(std::string_view s);

// True when every brace in `s` is matched.
bool braces_balanced(std::string_view s);

// Parameter names: letters, digits and underscores, not empty.
bool is_param_name(std::string_view s);

}  // namespace posthorn::config
