// lib/config/syntax.h - the line syntax shared by main.cf and master.cf.
//
// Postfix's rules: a logical line starts with a non-blank character; a line
// that starts with white space continues the logical line before it; blank
// lines and lines whose first non-blank character is '#' are ignored, also in
// the middle of a logical line. '#' elsewhere is part of the text. CR before
// LF is dropped. Continuation lines are joined with one space.
//
// parse_main_cf() only checks the syntax (`name = value`); names and values
// are checked against the registry by Config (lib/config/config.h), which
// knows master.cf too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace posthorn::config {

// One problem found in a file. text() is "FILE:LINE: PARAM: MESSAGE", with
// the parts that are empty left out.
struct Diagnostic {
  std::string file;
  unsigned line = 0;
  std::string param;    // parameter or service it is about, or ""
  std::string message;  // "\"5x\" is not a time"
  std::string text() const;
};

struct LogicalLine {
  std::string text;         // continuation lines joined by one space, trimmed
  unsigned first_line = 0;  // 1-based physical line numbers
  unsigned last_line = 0;
  std::size_t begin = 0;    // byte range of the physical lines, newline included
  std::size_t end = 0;
  bool orphan = false;      // starts with white space and nothing precedes it
};

std::vector<LogicalLine> logical_lines(std::string_view text);

// One `name = value` of main.cf; value as written (not expanded).
struct Setting {
  std::string name;
  std::string value;
  unsigned line = 0;
};

struct MainCf {
  std::vector<Setting> settings;  // in file order; a repeated name keeps its last value
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
};

// Parses main.cf text; `file` names it in diagnostics. Never fails: every
// malformed line becomes one error and is skipped.
MainCf parse_main_cf(std::string_view text, std::string_view file);

// The first control character (other than tab) in s, or -1.
int first_control_char(std::string_view s);

}  // namespace posthorn::config
