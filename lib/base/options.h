// lib/base/options.h - POSIX-style short option parsing for the command-line tools.
//
// spec is getopt's: "c:nd" means -c takes a value, -n and -d do not. Options may be
// grouped ("-nd"), a value may be attached ("-cDIR") or follow ("-c DIR"); "--"
// ends options; the first operand ends options too unless `permute` is set, in
// which case options and operands may be mixed (as `posthorn conf name -c DIR`).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace posthorn {

struct ParsedArgs {
  std::vector<std::pair<char, std::string>> opts;  // in command-line order
  std::vector<std::string> operands;
  std::string error;  // "" or e.g. "unknown option -x", "option -c needs a value"
  bool has(char c) const;
  // Last value given for option c, or `def`.
  std::string value(char c, std::string def = {}) const;
};

// args excludes the program/command name.
ParsedArgs parse_options(const std::vector<std::string>& args, std::string_view spec,
                         bool permute = true);

}  // namespace posthorn
