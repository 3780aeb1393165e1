// lib/maps/source.h - the text formats tables are built from.
//
// Both postmap's format ("key whitespace value") and aliases(5) ("name: value")
// share Postfix's logical lines: blank lines and lines whose first
// non-whitespace character is '#' are skipped; a line that starts with
// whitespace continues the logical line before it (the newline goes, the
// leading whitespace stays, as Postfix joins them).
//
// Malformed lines do not stop a build, as with postmap and postalias: each
// becomes a warning "FILE, line N: ..." and is skipped. Duplicate keys keep the
// first value and warn.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/maps/table.h"

namespace posthorn::maps {

struct LogicalLine {
  int line = 0;  // number of the line the logical line starts on (1-based)
  std::string text;
};

// Splits `text` into logical lines; `file` only names warnings (a
// continuation line with nothing before it).
std::vector<LogicalLine> logical_lines(std::string_view text, std::string_view file,
                                       std::vector<Diagnostic>& warnings);

struct SourceEntry {
  std::string key;
  std::string value;
  int line = 0;
};

struct ParsedSource {
  std::vector<SourceEntry> entries;  // unique keys, in source order
  std::vector<Diagnostic> warnings;
};

// postmap's format. Keys are folded to lower case when `fold`; values are
// trimmed and otherwise kept.
ParsedSource parse_map_source(std::string_view text, std::string_view file, bool fold);

// aliases(5). The name may be quoted ("\"john doe\": ...") or escape
// characters with a backslash; it is stored unquoted and folded when `fold`.
// A name with an unquoted '@' or '%' is refused ("name must be local"). The
// value is stored as postalias stores it: the comma-separated elements,
// trimmed, inner whitespace runs outside quotes collapsed, joined with ", ".
ParsedSource parse_aliases_source(std::string_view text, std::string_view file, bool fold);

// One destination on the right-hand side of an alias.
struct AliasTarget {
  enum class Kind { address, command, file, include };
  Kind kind = Kind::address;
  // address: the address as written (quotes kept in the local part);
  // command: the text after '|'; file: the absolute path;
  // include: the path after ":include:".
  std::string text;
};

// Splits an alias value ("a, |\"cmd x\", /var/f, :include:/etc/list") into its
// destinations. Commands, files and includes lose their quotes, so both
// "|cmd, with comma" and |"cmd x" are commands (as Postfix reads them);
// addresses are returned as written. Errc::parse for an
// unterminated quote or an empty :include: path.
Result<std::vector<AliasTarget>> parse_alias_value(std::string_view value);

}  // namespace posthorn::maps
