// lib/config/params.h - the parameter registry: every main.cf parameter, once.
//
// Each Param names a parameter (Postfix's name where the concept is the same),
// its type, its default (Postfix's default, `$name` references included), the
// bounds of a number and one line of documentation. `posthorn conf -d`, the
// validation of main.cf and master.cf -o values, and the parameter section of
// main.cf(5) are all generated from this one table, so code and documentation
// cannot drift.
//
// Types and their syntax (checked by lib/config/value.h):
//   string      any text; with `choices` ("a|b|c") one of those words
//   boolean     yes | no (any case)
//   count       a decimal whole number
//   time        a number with an optional unit s m h d w; a bare number takes
//               the unit of the default ("300s" -> seconds, "5d" -> days)
//   size        a decimal number of bytes
//   list        words separated by commas and/or white space; `{...}` groups
//   table_list  a list of type:name lookup tables ("hash:/etc/aliases")
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace posthorn::config {

enum class Type { string, boolean, count, time, size, list, table_list };

// Inclusive bounds of a count, time (in seconds) or size (in bytes).
struct Bounds {
  std::optional<long long> min;
  std::optional<long long> max;
};

// Flags.
// kRaw: the value is not `$`-expanded by lib/config; the program expands it
// later with names of its own (forward_path: $home, $user, $extension).
inline constexpr unsigned kRaw = 1;
// kComputed: the default is worked out when the configuration is loaded
// (myhostname from the host name, mydomain from myhostname, config_directory
// from where main.cf was read); `def` is what the man page shows.
inline constexpr unsigned kComputed = 2;

struct Param {
  std::string_view name;
  Type type;
  std::string_view def;
  Bounds bounds;
  std::string_view doc;
  std::string_view choices = {};  // string type only: "a|b|c"
  unsigned flags = 0;
};

// The whole registry, grouped by topic (main.cf(5) lists it sorted by name).
std::span<const Param> params();

// The declared parameter called `name`, or nullptr.
const Param* find_param(std::string_view name);

// "string", "boolean", ... as the man page and error messages say it.
std::string_view type_name(Type t);

}  // namespace posthorn::config
