// lib/config/syntax.cc - see syntax.h.
#include "lib/config/syntax.h"

#include "lib/base/strings.h"
#include "lib/config/value.h"

namespace posthorn::config {

std::string Diagnostic::text() const {
  std::string s = file;
  if (line) s += cat(":", line);
  if (!s.empty()) s += ": ";
  if (!param.empty()) s += param + ": ";
  return s + message;
}

int first_control_char(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return u;
  }
  return -1;
}

std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  std::size_t pos = 0;
  unsigned lineno = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view body = trim(line);
    bool continues = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (body.empty() || body[0] == '#') {
      // Ignored; it neither ends nor continues a logical line.
    } else if (continues && !out.empty() && !out.back().orphan) {
      LogicalLine& l = out.back();
      l.text += ' ';
      l.text += body;
      l.last_line = lineno;
      l.end = next;
    } else {
      out.push_back(LogicalLine{std::string(body), lineno, lineno, pos, next, continues});
    }
    pos = next;
  }
  return out;
}

namespace {

void add_setting(MainCf& cf, std::string_view file, Setting s) {
  for (Setting& old : cf.settings) {
    if (old.name != s.name) continue;
    cf.warnings.push_back({std::string(file), s.line, s.name,
                           cat("overrides the earlier value at line ", old.line)});
    old.value = std::move(s.value);
    old.line = s.line;
    return;
  }
  cf.settings.push_back(std::move(s));
}

}  // namespace

MainCf parse_main_cf(std::string_view text, std::string_view file) {
  MainCf cf;
  auto error = [&](unsigned line, std::string param, std::string msg) {
    cf.errors.push_back({std::string(file), line, std::move(param), std::move(msg)});
  };
  for (const LogicalLine& l : logical_lines(text)) {
    if (l.orphan) {
      error(l.first_line, {}, "continuation line without a parameter before it");
      continue;
    }
    if (int c = first_control_char(l.text); c >= 0) {
      error(l.first_line, {}, cat("control character \\", std::oct, c, " in the line"));
      continue;
    }
    std::size_t eq = l.text.find('=');
    if (eq == std::string::npos) {
      error(l.first_line, {}, cat("missing \"=\" in \"", printable(l.text), "\""));
      continue;
    }
    std::string name(trim(std::string_view(l.text).substr(0, eq)));
    if (!is_param_name(name)) {
      error(l.first_line, {}, cat("\"", printable(name), "\" is not a parameter name"));
      continue;
    }
    add_setting(cf, file, {name, std::string(trim(std::string_view(l.text).substr(eq + 1))),
                           l.first_line});
  }
  return cf;
}

}  // namespace posthorn::config
