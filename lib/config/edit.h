// lib/config/edit.h - in-place edits of main.cf and master.cf text, as
// `postconf -e`, `-X`, `-Me` and `-MX` make them.
//
// Everything that is not edited stays byte for byte: comments, blank lines,
// order, spacing. A replaced parameter or entry takes the place of its whole
// logical line (continuation lines and comments between them included); new
// ones are appended at the end. The functions only edit text: checking the
// result is the caller's job (posthorn conf parses the new text with
// Config::parse before writing it).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace posthorn::config {

// Sets each (name, value) in `set` ("name = value" in place of its first
// definition, later definitions of it removed; appended if absent) and
// removes every definition of each name in `remove`.
std::string edit_main_cf(std::string_view text,
                         const std::vector<std::pair<std::string, std::string>>& set,
                         const std::vector<std::string>& remove);

// Replaces the master.cf entry whose key is "service/type" by `entry` (one
// or more lines, without a final newline), or appends it when absent. An
// empty `entry` removes it. Returns the new text.
std::string edit_master_cf(std::string_view text, std::string_view key, std::string_view entry);

// The "service/type" key of a master.cf logical line, or "" if the line has
// fewer than two fields.
std::string master_line_key(std::string_view logical_line);

}  // namespace posthorn::config
