// lib/maps/source.cc - see source.h.
#include "lib/maps/source.h"

#include <algorithm>

#include <unordered_set>

#include "lib/base/strings.h"

namespace posthorn::maps {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

Diagnostic diag(std::string_view file, int line, std::string text) {
  return Diagnostic{std::string(file), line, std::move(text)};
}

// Keeps the first entry for each key, warning about later ones.
void add_unique(ParsedSource& out, std::unordered_set<std::string>& seen, std::string_view file,
                SourceEntry e) {
  if (!seen.insert(e.key).second) {
    out.warnings.push_back(diag(file, e.line, cat("duplicate entry: \"", e.key, "\"")));
    return;
  }
  out.entries.push_back(std::move(e));
}

// Splits at commas that are outside "quotes", (comments) and <brackets>.
// Errc::parse for an unterminated quote, comment or bracket.
Result<std::vector<std::string>> split_top_level(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  int parens = 0, angles = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      cur += c;
      cur += s[++i];
      continue;
    }
    if (quoted) {
      quoted = c != '"';
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(') {
      ++parens;
    } else if (c == ')' && parens > 0) {
      --parens;
    } else if (c == '<' && parens == 0) {
      ++angles;
    } else if (c == '>' && angles > 0 && parens == 0) {
      --angles;
    } else if (c == ',' && parens == 0 && angles == 0) {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (quoted) return make_error(Errc::parse, "unterminated quoted string");
  if (parens > 0) return make_error(Errc::parse, "unterminated comment");
  if (angles > 0) return make_error(Errc::parse, "unterminated <address>");
  out.push_back(std::move(cur));
  return out;
}

// Trims and collapses whitespace runs outside double quotes to one space.
std::string collapse_blanks(std::string_view s) {
  std::string out;
  bool quoted = false, pending_space = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!quoted && is_blank(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
    if (c == '\\' && i + 1 < s.size()) {
      out += s[++i];
    } else if (c == '"') {
      quoted = !quoted;
    }
  }
  return out;
}

// Removes double quotes and backslash escapes; `unquoted` collects whether
// '@' or '%' appeared outside quotes.
std::string unquote(std::string_view s, bool* bare_route_char = nullptr) {
  std::string out;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      out += s[++i];
    } else if (c == '"') {
      quoted = !quoted;
    } else {
      if (!quoted && (c == '@' || c == '%') && bare_route_char) *bare_route_char = true;
      out += c;
    }
  }
  return out;
}

// The offset of the first ':' outside quotes and escapes, or npos.
std::size_t find_name_colon(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ':' && !quoted) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<LogicalLine> logical_lines(std::string_view text, std::string_view file,
                                       std::vector<Diagnostic>& warnings) {
  std::vector<LogicalLine> out;
  bool open = false;  // whether a continuation may join the last logical line
  int lineno = 0;
  for (std::string_view line : split(text, '\n')) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (is_blank(line.front())) {
      if (open) {
        out.back().text += line;
      } else {
        warnings.push_back(diag(file, lineno, "continuation line without a preceding line"));
      }
      continue;
    }
    out.push_back(LogicalLine{lineno, std::string(line)});
    open = true;
  }
  return out;
}

ParsedSource parse_map_source(std::string_view text, std::string_view file, bool fold) {
  ParsedSource out;
  std::unordered_set<std::string> seen;
  std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  seen.reserve(lines);
  out.entries.reserve(lines);
  for (LogicalLine& l : logical_lines(text, file, out.warnings)) {
    std::string_view s = trim(l.text);
    std::size_t sp = 0;
    while (sp < s.size() && !is_blank(s[sp])) ++sp;
    std::string_view value = trim(s.substr(sp));
    if (value.empty()) {
      out.warnings.push_back(diag(file, l.line, "expected format: key whitespace value"));
      continue;
    }
    std::string key(s.substr(0, sp));
    add_unique(out, seen, file, {fold ? to_lower(key) : key, std::string(value), l.line});
  }
  return out;
}

ParsedSource parse_aliases_source(std::string_view text, std::string_view file, bool fold) {
  ParsedSource out;
  std::unordered_set<std::string> seen;
  for (LogicalLine& l : logical_lines(text, file, out.warnings)) {
    std::string_view s = l.text;
    std::size_t colon = find_name_colon(s);
    bool bare_route_char = false;
    std::string name = colon == std::string_view::npos
                           ? std::string()
                           : unquote(trim(s.substr(0, colon)), &bare_route_char);
    auto elements = colon == std::string_view::npos ? Result<std::vector<std::string>>(std::vector<std::string>())
                                                     : split_top_level(s.substr(colon + 1));
    if (!elements) {
      out.warnings.push_back(diag(file, l.line, elements.error().detail));
      continue;
    }
    std::vector<std::string> kept;
    for (const std::string& e : *elements)
      if (std::string c = collapse_blanks(trim(e)); !c.empty()) kept.push_back(std::move(c));
    if (name.empty() || kept.empty()) {
      out.warnings.push_back(diag(file, l.line, "need name:value pair"));
      continue;
    }
    if (bare_route_char) {
      out.warnings.push_back(diag(file, l.line, "name must be local"));
      continue;
    }
    add_unique(out, seen, file, {fold ? to_lower(name) : name, join(kept, ", "), l.line});
  }
  return out;
}

Result<std::vector<AliasTarget>> parse_alias_value(std::string_view value) {
  auto elements = split_top_level(value);
  if (!elements) return std::move(elements).error();
  std::vector<AliasTarget> out;
  for (const std::string& raw : *elements) {
    std::string e(trim(raw));
    if (e.empty()) continue;
    // Commands, files and includes are used in their unquoted form, however
    // they were quoted ("|cmd, x" or |"cmd x"); addresses keep their quotes.
    // A quoted local part with a domain ("/x"@example.org) stays an address.
    bool routed = false;
    std::string u = unquote(e, &routed);
    if (!u.empty() && (u[0] == '|' || istarts_with(u, ":include:") || (u[0] == '/' && !routed)))
      e = u;
    AliasTarget t;
    if (e[0] == '|') {
      t = {AliasTarget::Kind::command, e.substr(1)};
    } else if (istarts_with(e, ":include:")) {
      t = {AliasTarget::Kind::include, std::string(trim(std::string_view(e).substr(9)))};
      if (t.text.empty()) return make_error(Errc::parse, "empty :include: path");
    } else if (e[0] == '/') {
      t = {AliasTarget::Kind::file, e};
    } else {
      t = {AliasTarget::Kind::address, e};
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace posthorn::maps
