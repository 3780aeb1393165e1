// lib/config/master_cf.cc - see master_cf.h.
#include "lib/config/master_cf.h"

#include "lib/base/strings.h"
#include "lib/config/value.h"

namespace posthorn::config {

namespace {

struct Token {
  std::string text;
  bool braced = false;
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Splits on white space outside braces; "{ a b }" becomes the token "a b".
// Returns false when the braces do not balance.
bool tokenize(std::string_view s, std::vector<Token>& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    std::size_t j = i;
    long depth = 0;
    while (j < s.size() && (depth > 0 || !is_space(s[j]))) {
      if (s[j] == '{') ++depth;
      else if (s[j] == '}' && --depth < 0) return false;
      ++j;
    }
    if (depth != 0) return false;
    std::string_view tok = s.substr(i, j - i);
    if (tok.size() >= 2 && tok.front() == '{' && tok.back() == '}' &&
        braces_balanced(tok.substr(1, tok.size() - 2)))
      out.push_back({std::string(trim(tok.substr(1, tok.size() - 2))), true});
    else
      out.push_back({std::string(tok), false});
    i = j;
  }
  return true;
}

bool plain_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

struct Known { std::string_view name; unsigned port; };
constexpr Known kPorts[] = {
    {"smtp", 25}, {"submission", 587}, {"submissions", 465}, {"smtps", 465},
    {"pop3", 110}, {"pop3s", 995}, {"imap", 143}, {"imaps", 993},
};

class EntryParser {
 public:
  EntryParser(std::string_view file, unsigned line, MasterCf& cf)
      : file_(file), line_(line), cf_(cf) {}

  bool parse(const std::vector<Token>& t, Service& s);

 private:
  bool fail(std::string param, std::string msg) {
    cf_.errors.push_back({std::string(file_), line_, std::move(param), std::move(msg)});
    return false;
  }
  bool yes_no(const std::string& col, std::string_view what, bool def, bool& out);
  bool type(const std::string& col, Service& s);
  bool endpoint(Service& s);
  bool numbers(Service& s);
  bool arguments(const std::vector<Token>& t, Service& s);
  bool add_override(std::string_view text, Service& s);

  std::string_view file_;
  unsigned line_;
  MasterCf& cf_;
};

bool EntryParser::yes_no(const std::string& col, std::string_view what, bool def, bool& out) {
  if (col == "-") return out = def, true;
  if (col == "y") return out = true, true;
  if (col == "n") return out = false, true;
  return fail({}, cat(what, ": \"", printable(col), "\" is not y, n or -"));
}

bool EntryParser::type(const std::string& col, Service& s) {
  static constexpr std::pair<std::string_view, ServiceType> kTypes[] = {
      {"inet", ServiceType::inet}, {"unix", ServiceType::unix_stream},
      {"unix-dgram", ServiceType::unix_dgram}, {"fifo", ServiceType::fifo},
      {"pass", ServiceType::pass}};
  for (const auto& [n, t] : kTypes)
    if (col == n) return s.type = t, s.type_name = col, true;
  return fail({}, cat("\"", printable(col), "\" is not a service type (inet, unix, unix-dgram, fifo, pass)"));
}

bool EntryParser::endpoint(Service& s) {
  std::string_view n = s.name;
  std::string_view port = n;
  if (n.size() && n[0] == '[') {
    std::size_t close = n.find(']');
    if (close == std::string_view::npos || close == 1 || close + 1 >= n.size() || n[close + 1] != ':')
      return fail(s.name, "expected [address]:port");
    s.host = std::string(n.substr(1, close - 1));
    port = n.substr(close + 2);
  } else if (std::size_t colon = n.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = n.substr(0, colon);
    if (host.empty()) return fail(s.name, "empty host before \":\"");
    if (host.find(':') != std::string_view::npos)
      return fail(s.name, "an IPv6 address needs brackets: [address]:port");
    s.host = host == "*" ? "" : std::string(host);
    port = n.substr(colon + 1);
  }
  s.port = port_number(port);
  if (s.port == 0) return fail(s.name, cat("\"", printable(port), "\" is not a port number or known service name"));
  return true;
}

bool EntryParser::numbers(Service& s) {
  std::string w = s.columns[5];
  if (!w.empty() && w.back() == '?') {
    s.wakeup_when_used = true;
    w.pop_back();
  }
  unsigned long long v = 0;
  if (w != "-" && (!parse_uint(w, v) || v > 0xffffffffull))
    return fail({}, cat("wakeup: \"", printable(s.columns[5]), "\" is not a number of seconds or -"));
  s.wakeup = static_cast<unsigned>(v);
  if (s.columns[5] == "-?") return fail({}, "wakeup: \"-?\" is not a number of seconds or -");
  if (s.columns[6] == "-") return true;
  if (!parse_uint(s.columns[6], v) || v > 0xffffffffull)
    return fail({}, cat("maxproc: \"", printable(s.columns[6]), "\" is not a number or -"));
  s.maxproc = static_cast<unsigned>(v);
  return true;
}

bool EntryParser::add_override(std::string_view text, Service& s) {
  std::size_t eq = text.find('=');
  if (eq == std::string_view::npos)
    return fail(s.key(), cat("-o \"", printable(text), "\": missing \"=\""));
  std::string name(trim(text.substr(0, eq)));
  if (!is_param_name(name))
    return fail(s.key(), cat("-o: \"", printable(name), "\" is not a parameter name"));
  s.overrides.push_back({name, std::string(trim(text.substr(eq + 1))), line_});
  return true;
}

bool EntryParser::arguments(const std::vector<Token>& t, Service& s) {
  bool ok = true;
  for (std::size_t i = 8; i < t.size(); ++i) {
    const Token& a = t[i];
    if (!a.braced && a.text == "-o") {
      if (++i == t.size()) return fail(s.key(), "-o without name=value");
      ok = add_override(t[i].text, s) && ok;
    } else if (!a.braced && a.text.size() > 2 && a.text.compare(0, 2, "-o") == 0) {
      ok = add_override(std::string_view(a.text).substr(2), s) && ok;
    } else {
      s.args.push_back(a.text);
    }
  }
  return ok;
}

bool EntryParser::parse(const std::vector<Token>& t, Service& s) {
  if (t.size() < 8)
    return fail({}, cat("expected at least 8 columns (service type private unpriv chroot wakeup maxproc command), found ", t.size()));
  if (t[0].text.find_first_of(" \t") != std::string::npos)
    return fail({}, cat("\"", printable(t[0].text), "\": a service name cannot contain white space"));
  s.name = t[0].text;
  for (int i = 0; i < 7; ++i) s.columns[i] = t[i].text;
  s.command = t[7].text;
  s.file = std::string(file_);
  s.line = line_;
  bool ok = type(t[1].text, s);
  if (ok && s.type == ServiceType::inet) {
    ok = endpoint(s);
    if (s.columns[2] == "y") ok = fail(s.key(), "an inet service cannot be private");
  } else if (ok && !plain_name(s.name)) {
    ok = fail(s.name, "a unix, fifo or pass service name is a plain name (letters, digits, . _ -)");
  }
  ok = yes_no(t[2].text, "private", s.type != ServiceType::inet, s.is_private) && ok;
  ok = yes_no(t[3].text, "unpriv", true, s.unprivileged) && ok;
  ok = yes_no(t[4].text, "chroot", false, s.chroot) && ok;
  ok = numbers(s) && ok;
  if (s.command.empty()) ok = fail(s.name, "empty command");
  return arguments(t, s) && ok;
}

// The identity that must be unique: for inet the address, so "smtp" and
// "25" clash; for the others name and type.
std::string identity(const Service& s) {
  if (s.type == ServiceType::inet) return cat("inet ", s.host, " ", s.port);
  return s.key();
}

}  // namespace

unsigned port_number(std::string_view s) {
  unsigned long long v = 0;
  if (parse_uint(s, v)) return v >= 1 && v <= 65535 ? static_cast<unsigned>(v) : 0;
  for (const Known& k : kPorts)
    if (k.name == s) return k.port;
  return 0;
}

MasterCf parse_master_cf(std::string_view text, std::string_view file) {
  MasterCf cf;
  for (const LogicalLine& l : logical_lines(text)) {
    auto fail = [&](std::string msg) { cf.errors.push_back({std::string(file), l.first_line, {}, std::move(msg)}); };
    if (l.orphan) {
      fail("continuation line without a service before it");
      continue;
    }
    if (int c = first_control_char(l.text); c >= 0) {
      fail(cat("control character \\", std::oct, c, " in the line"));
      continue;
    }
    std::vector<Token> tokens;
    if (!tokenize(l.text, tokens)) {
      fail("unbalanced \"{\" or \"}\"");
      continue;
    }
    Service s;
    if (!EntryParser(file, l.first_line, cf).parse(tokens, s)) continue;
    bool dup = false;
    for (const Service& old : cf.services) {
      if (identity(old) != identity(s)) continue;
      cf.errors.push_back({std::string(file), l.first_line, s.key(),
                           cat("duplicate of the entry at line ", old.line)});
      dup = true;
      break;
    }
    if (!dup) cf.services.push_back(std::move(s));
  }
  return cf;
}

namespace {
// Braces keep an argument one argument, and keep "-o..." from turning into
// an override when the line is read again.
std::string arg_text(const std::string& a) {
  if (a.empty() || a.find_first_of(" \t") != std::string::npos || a.compare(0, 2, "-o") == 0)
    return "{ " + a + " }";
  return a;
}
}  // namespace

std::string format_service(const Service& s) {
  static constexpr std::size_t kWidth[7] = {10, 5, 7, 7, 7, 7, 7};
  std::string out;
  for (std::size_t i = 0; i < 7; ++i) {
    out += s.columns[i];
    out.append(s.columns[i].size() < kWidth[i] ? kWidth[i] - s.columns[i].size() : 0, ' ');
    out += ' ';
  }
  out += arg_text(s.command);
  for (const Override& o : s.overrides) {
    if (o.value.empty() || o.value.find_first_of(" \t{}") != std::string::npos)
      out += cat(" -o { ", o.name, " = ", o.value, " }");
    else
      out += cat(" -o ", o.name, "=", o.value);
  }
  for (const std::string& a : s.args) out += " " + arg_text(a);
  return out;
}

}  // namespace posthorn::config
