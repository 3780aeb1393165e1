// lib/config/edit.cc - see edit.h.
#include "lib/config/edit.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "lib/base/strings.h"
#include "lib/config/syntax.h"

namespace posthorn::config {

namespace {

std::string main_line_name(std::string_view text) {
  std::size_t eq = text.find('=');
  return eq == std::string_view::npos ? std::string() : std::string(trim(text.substr(0, eq)));
}

// Rebuilds `text`, asking `replace` for each logical line: nullopt keeps
// the line as it is, a string (possibly empty) takes its place.
std::string rewrite(std::string_view text,
                    const std::function<std::optional<std::string>(const LogicalLine&)>& replace) {
  std::string out;
  std::size_t pos = 0;
  for (const LogicalLine& l : logical_lines(text)) {
    std::optional<std::string> r = replace(l);
    if (!r) continue;
    out.append(text.substr(pos, l.begin - pos));
    out += *r;
    pos = l.end;
  }
  out.append(text.substr(pos));
  return out;
}

void append_line(std::string& text, std::string_view line) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += line;
  text += '\n';
}

}  // namespace

std::string master_line_key(std::string_view logical_line) {
  std::vector<std::string> f = split_fields(logical_line, " \t");
  return f.size() < 2 ? std::string() : f[0] + "/" + f[1];
}

std::string edit_main_cf(std::string_view text,
                         const std::vector<std::pair<std::string, std::string>>& set,
                         const std::vector<std::string>& remove) {
  std::vector<std::string> done;
  std::string out = rewrite(text, [&](const LogicalLine& l) -> std::optional<std::string> {
    std::string name = main_line_name(l.text);
    if (name.empty() || l.orphan) return std::nullopt;
    if (std::find(remove.begin(), remove.end(), name) != remove.end()) return std::string();
    for (const auto& [n, v] : set) {
      if (n != name) continue;
      if (std::find(done.begin(), done.end(), n) != done.end()) return std::string();
      done.push_back(n);
      return cat(n, " = ", v, "\n");
    }
    return std::nullopt;
  });
  for (const auto& [n, v] : set)
    if (std::find(done.begin(), done.end(), n) == done.end()) {
      append_line(out, cat(n, " = ", v));
      done.push_back(n);
    }
  return out;
}

std::string edit_master_cf(std::string_view text, std::string_view key, std::string_view entry) {
  bool found = false;
  std::string out = rewrite(text, [&](const LogicalLine& l) -> std::optional<std::string> {
    if (l.orphan || master_line_key(l.text) != key) return std::nullopt;
    if (found || entry.empty()) return std::string();
    found = true;
    return cat(entry, "\n");
  });
  if (!found && !entry.empty()) append_line(out, entry);
  return out;
}

}  // namespace posthorn::config
