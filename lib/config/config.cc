// lib/config/config.cc - lookups and `$` expansion (see config.h).
#include "lib/config/config.h"

#include <unistd.h>

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/config/value.h"
#include "lib/log/log.h"

namespace posthorn::config {

namespace {
constexpr std::size_t kMaxExpanded = 1u << 20;
constexpr std::size_t kMaxSteps = 100000;
constexpr std::size_t kMaxDepth = 100;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string system_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// Index just past the brace or parenthesis that closes the one at `open`, or npos.
std::size_t matching(std::string_view s, std::size_t open) {
  char o = s[open], c = o == '{' ? '}' : ')';
  long depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == o) ++depth;
    else if (s[i] == c && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

// "{text}" -> "text"; anything else unchanged.
std::string_view unbrace(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '{' && matching(s, 0) == s.size()) return s.substr(1, s.size() - 2);
  return s;
}
}  // namespace

// Expands values with loop detection. One Expander serves one top-level
// lookup; `stack_` holds the names being expanded, in order, for the loop
// message, and `steps_` bounds the work (a = $b$b, b = $c$c, ... doubles).
class Expander {
 public:
  explicit Expander(const Config& c) : c_(c) {}
  std::string value_of(std::string_view name);
  std::string expand(std::string_view text);
  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

 private:
  std::string fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return {};
  }
  std::string default_of(std::string_view name, const Config::Resolved& r);
  std::size_t reference(std::string_view text, std::size_t i, std::string& out);
  std::string conditional(std::string_view name, std::string_view rest);

  const Config& c_;
  std::vector<std::string> stack_;
  std::size_t steps_ = 0;
  std::size_t depth_ = 0;
  std::string error_;
};

std::string Expander::default_of(std::string_view name, const Config::Resolved& r) {
  if (!r.fallback.empty()) return value_of(r.fallback);
  if (name == "myhostname") return c_.hostname_;
  if (name == "config_directory") return c_.dir_.string();
  if (name == "mydomain") {
    // Postfix: myhostname less its first label, or "localdomain".
    std::string h = value_of("myhostname");
    std::size_t dot = h.find('.');
    return dot == std::string::npos || dot + 1 == h.size() ? "localdomain" : h.substr(dot + 1);
  }
  if (r.param->flags & kRaw) return std::string(r.param->def);
  return expand(r.param->def);
}

std::string Expander::value_of(std::string_view name) {
  Config::Resolved r;
  if (!c_.resolve(name, r)) return fail(cat("$", name, ": unknown parameter"));
  if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
    std::string path;
    for (const std::string& s : stack_) path += s + " -> ";
    return fail(cat("parameter expansion loop: ", path, name));
  }
  if (stack_.size() >= kMaxDepth) return fail("parameter expansion nested too deeply");
  stack_.emplace_back(name);
  std::string v;
  auto it = c_.set_.find(name);
  if (it == c_.set_.end()) v = default_of(name, r);
  else if (r.param && (r.param->flags & kRaw)) v = it->second.value;
  else v = expand(it->second.value);
  stack_.pop_back();
  return failed() ? std::string() : v;
}

std::string Expander::conditional(std::string_view name, std::string_view rest) {
  std::string v = value_of(name);
  if (failed()) return {};
  char op = rest[0];
  rest.remove_prefix(1);
  std::string_view when_set = rest, when_empty;
  if (op == ':') {
    when_set = {};
    when_empty = rest;
  } else if (std::string_view t = trim(rest); !t.empty() && t[0] == '{') {
    // ${name?{text1}:{text2}}
    std::size_t end = matching(t, 0);
    if (end == std::string_view::npos) return fail("unbalanced \"{\" in ${...?{...}}");
    when_set = t.substr(0, end);
    std::string_view tail = trim(t.substr(end));
    if (!tail.empty()) {
      if (tail[0] != ':') return fail(cat("bad text after ${", name, "?{...}}"));
      when_empty = tail.substr(1);
    }
  }
  return expand(unbrace(v.empty() ? when_empty : when_set));
}

// Expands the reference at text[i] == '$'; returns the index after it.
std::size_t Expander::reference(std::string_view text, std::size_t i, std::string& out) {
  if (i + 1 == text.size()) return fail("\"$\" at the end of the value"), text.size();
  char c = text[i + 1];
  if (c == '$') return out += '$', i + 2;
  if (is_name_char(c)) {
    std::size_t j = i + 1;
    while (j < text.size() && is_name_char(text[j])) ++j;
    out += value_of(text.substr(i + 1, j - i - 1));
    return j;
  }
  if (c != '{' && c != '(') return fail("\"$\" is not followed by a parameter name"), text.size();
  std::size_t end = matching(text, i + 1);
  if (end == std::string_view::npos) return fail(cat("unbalanced \"", c, "\" after \"$\"")), text.size();
  std::string_view inner = text.substr(i + 2, end - i - 3);
  std::size_t n = 0;
  while (n < inner.size() && is_name_char(inner[n])) ++n;
  if (n == 0) return fail(cat("\"$", c, "\" is not followed by a parameter name")), text.size();
  if (n == inner.size()) out += value_of(inner);
  else if (c == '{' && (inner[n] == '?' || inner[n] == ':')) out += conditional(inner.substr(0, n), inner.substr(n));
  else return fail(cat("bad parameter reference \"$", printable(text.substr(i + 1, end - i - 1)), "\"")), text.size();
  return end;
}

std::string Expander::expand(std::string_view text) {
  if (++depth_ > kMaxDepth) return fail("parameter expansion nested too deeply");
  std::string out;
  for (std::size_t i = 0; i < text.size() && !failed();) {
    if (++steps_ > kMaxSteps) return fail("parameter expansion takes too many steps");
    std::size_t dollar = text.find('$', i);
    out.append(text.substr(i, dollar == std::string_view::npos ? std::string_view::npos : dollar - i));
    if (dollar == std::string_view::npos) break;
    i = reference(text, dollar, out);
    if (out.size() > kMaxExpanded) return fail("parameter expansion longer than 1 MiB");
  }
  --depth_;
  return failed() ? std::string() : out;
}

Config::Config() : dir_("/etc/posthorn"), hostname_(system_hostname()) {}

bool Config::resolve(std::string_view name, Resolved& r) const {
  if ((r.param = find_param(name))) return true;
  if (user_defined_.count(name)) return true;
  for (const Service& s : services_) {
    if (name.size() <= s.name.size() + 1 || name.substr(0, s.name.size()) != s.name ||
        name[s.name.size()] != '_')
      continue;
    std::string fallback = cat("default_", name.substr(s.name.size() + 1));
    if ((r.param = find_param(fallback))) {
      r.fallback = std::move(fallback);
      return true;
    }
  }
  return false;
}

Config::Resolved Config::must_resolve(std::string_view name) const {
  Resolved r;
  if (!resolve(name, r)) log::panic("config: lookup of undeclared parameter \"", name, "\"");
  return r;
}

std::string Config::expand_checked(std::string_view name, std::string& error) const {
  Expander e(*this);
  std::string v = e.value_of(name);
  error = e.error();
  return v;
}

std::string Config::validate(std::string_view name) const {
  Resolved r = must_resolve(name);
  std::string error;
  std::string v = expand_checked(name, error);
  if (!error.empty()) return error;
  if (!r.param || (r.param->flags & kRaw)) return {};
  return check_value(*r.param, v);
}

std::string Config::get(std::string_view name) const {
  must_resolve(name);
  std::string error;
  std::string v = expand_checked(name, error);
  if (!error.empty()) log::panic("config: ", name, ": ", error, " (not caught at load)");
  return v;
}

std::string Config::typed(std::string_view name, Type want) const {
  Type t = type_of(name);
  bool ok = t == want || (want == Type::list && t == Type::table_list);
  if (!ok) log::panic("config: ", name, " is a ", type_name(t), ", not a ", type_name(want));
  return get(name);
}

bool Config::get_bool(std::string_view name) const {
  bool b = false;
  if (!parse_bool(typed(name, Type::boolean), b)) log::panic("config: ", name, ": bad boolean");
  return b;
}

long long Config::get_int(std::string_view name) const {
  long long n = 0;
  if (!parse_count(typed(name, Type::count), n)) log::panic("config: ", name, ": bad number");
  return n;
}

long long Config::get_time(std::string_view name) const {
  long long n = 0;
  if (!parse_time(typed(name, Type::time), default_time_unit(*must_resolve(name).param), n))
    log::panic("config: ", name, ": bad time");
  return n;
}

long long Config::get_size(std::string_view name) const {
  long long n = 0;
  if (!parse_count(typed(name, Type::size), n)) log::panic("config: ", name, ": bad size");
  return n;
}

std::vector<std::string> Config::get_list(std::string_view name) const {
  return split_list(typed(name, Type::list));
}

std::filesystem::path Config::get_path(std::string_view name) const {
  std::filesystem::path p = get(name);
  if (p.empty() || p.is_absolute()) return p;
  return dir_ / p;
}

bool Config::is_known(std::string_view name) const {
  Resolved r;
  return resolve(name, r);
}

bool Config::is_default(std::string_view name) const {
  must_resolve(name);
  return set_.find(name) == set_.end();
}

std::string Config::raw(std::string_view name) const {
  must_resolve(name);
  auto it = set_.find(name);
  if (it != set_.end()) return it->second.value;
  Resolved r = must_resolve(name);
  // A computed default has no text; its value here is what is in effect.
  if (r.param && (r.param->flags & kComputed)) return get(name);
  return default_raw(name);
}

std::string Config::default_raw(std::string_view name) const {
  Resolved r = must_resolve(name);
  if (!r.param) return {};
  if (!r.fallback.empty()) return "$" + r.fallback;
  if (!(r.param->flags & kComputed)) return std::string(r.param->def);
  // A computed default is shown as its value: there is no text to show.
  Config defaults = *this;
  defaults.set_.clear();
  return defaults.get(name);
}

Type Config::type_of(std::string_view name) const {
  Resolved r = must_resolve(name);
  return r.param ? r.param->type : Type::string;
}

std::vector<std::string> Config::set_names() const {
  std::vector<std::string> names;
  for (const auto& [n, e] : set_) names.push_back(n);
  return names;
}

const Service* Config::find_service(std::string_view key) const {
  for (const Service& s : services_)
    if (s.key() == key) return &s;
  return nullptr;
}

Result<Config> Config::with_overrides(
    const std::vector<std::pair<std::string, std::string>>& o) const {
  Config c = *this;
  std::vector<std::string> problems;
  for (const auto& [name, value] : o) {
    if (!c.is_known(name)) {
      problems.push_back(cat(name, ": unknown parameter"));
      continue;
    }
    c.set_[name] = Entry{value, 0, false};
  }
  for (const auto& [name, e] : c.set_)
    if (std::string why = c.validate(name); !why.empty()) problems.push_back(cat(name, ": ", why));
  if (!problems.empty()) return make_error(Errc::invalid, join(problems, "\n"));
  return c;
}

Config Config::for_service(const Service& s) const {
  std::vector<std::pair<std::string, std::string>> o;
  for (const Override& x : s.overrides) o.emplace_back(x.name, x.value);
  auto c = with_overrides(o);
  if (!c) log::panic("config: service ", s.key(), ": ", c.error().detail);
  return std::move(*c);
}

}  // namespace posthorn::config
