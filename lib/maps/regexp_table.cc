// lib/maps/regexp_table.cc - regexp: tables, regexp_table(5) syntax with
// POSIX regular expressions (regex.h).
//
//   /pattern/flags result          result when the key matches
//   /pattern/flags!/pattern2/ result   ... matches the first and not the second
//   !/pattern/flags result         result when the key does not match ($n refused)
//   if /pattern/flags  ...  endif  the rules inside apply only when it matches
//   if !/pattern/flags ...  endif
//
// Any character but a letter, digit, blank or backslash may delimit a
// pattern; a backslash before it keeps it in the pattern. Flags toggle
// Postfix's defaults: i (case-insensitive, on), x (extended syntax, on),
// m (multi-line: '^' and '$' at newlines, off). In a result, $1..$9 and ${n}
// insert the text the n-th group matched (empty if it matched nothing) and $$
// is a '$'. Every problem in the file - a bad regular expression, a bad flag,
// $n beyond the pattern's groups, an unbalanced if/endif - fails the open
// with "FILE, line N: ...": a half-loaded access or rewriting table would
// silently change what the mail system lets through.
#include <regex.h>

#include <cctype>

#include <memory>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/maps/source.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps::detail {

namespace {

class Regex {  // owns a compiled regex_t; neither copied nor moved (regex_t may not move)
 public:
  Regex() = default;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex() {
    if (compiled_) ::regfree(&re_);
  }
  // The regerror() text on failure.
  Result<void> compile(const std::string& pattern, int cflags) {
    int rc = ::regcomp(&re_, pattern.c_str(), cflags);
    if (rc != 0) {
      char buf[256];
      ::regerror(rc, &re_, buf, sizeof buf);
      return make_error(Errc::parse, cat("bad regular expression \"", printable(pattern),
                                         "\": ", buf));
    }
    compiled_ = true;
    return {};
  }
  std::size_t groups() const { return re_.re_nsub; }
  bool match(const std::string& key, std::vector<regmatch_t>* m) const {
    if (!m) return ::regexec(&re_, key.c_str(), 0, nullptr, 0) == 0;
    m->assign(re_.re_nsub + 1, regmatch_t{-1, -1});
    return ::regexec(&re_, key.c_str(), m->size(), m->data(), 0) == 0;
  }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

struct Condition {
  bool negated = false;
  std::unique_ptr<Regex> re;
  std::unique_ptr<Regex> except;  // the second pattern of /p1/!/p2/
};

struct Rule {
  enum class Kind { match, if_, endif } kind = Kind::match;
  Condition cond;
  std::string result;
  std::size_t skip_to = 0;  // if_: the index just past its endif
};

// Reads "/pattern/flags" at s (after an optional '!'); advances s.
Result<std::unique_ptr<Regex>> parse_pattern(std::string_view& s) {
  if (s.empty()) return make_error(Errc::parse, "missing pattern");
  char delim = s[0];
  if (std::isalnum(static_cast<unsigned char>(delim)) || delim == ' ' || delim == '\t' ||
      delim == '\\')
    return make_error(Errc::parse, cat("pattern must start with a delimiter such as '/'"));
  std::size_t i = 1;
  while (i < s.size() && s[i] != delim) i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
  if (i >= s.size()) return make_error(Errc::parse, cat("missing closing '", delim, "'"));
  std::string pattern(s.substr(1, i - 1));
  int cflags = REG_ICASE | REG_EXTENDED;
  for (++i; i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])); ++i) {
    switch (s[i]) {
      case 'i': cflags ^= REG_ICASE; break;
      case 'x': cflags ^= REG_EXTENDED; break;
      case 'm': cflags ^= REG_NEWLINE; break;
      default: return make_error(Errc::parse, cat("unknown regexp flag '", s[i], "'"));
    }
  }
  s.remove_prefix(i);
  auto re = std::make_unique<Regex>();
  if (auto ok = re->compile(pattern, cflags); !ok) return std::move(ok).error();
  return re;
}

Result<Condition> parse_condition(std::string_view& s) {
  Condition c;
  if (!s.empty() && s[0] == '!') {
    c.negated = true;
    s.remove_prefix(1);
  }
  auto re = parse_pattern(s);
  if (!re) return std::move(re).error();
  c.re = std::move(*re);
  if (!c.negated && s.size() >= 2 && s[0] == '!' && s[1] != ' ' && s[1] != '\t') {
    s.remove_prefix(1);
    auto except = parse_pattern(s);
    if (!except) return std::move(except).error();
    c.except = std::move(*except);
  }
  if (!s.empty() && s[0] != ' ' && s[0] != '\t')
    return make_error(Errc::parse, "expected whitespace after the pattern");
  return c;
}

// Checks $n references against the groups the condition can supply.
Result<void> check_result(std::string_view r, const Condition& c) {
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] != '$') continue;
    if (++i >= r.size()) return make_error(Errc::parse, "'$' at the end of the result");
    if (r[i] == '$') continue;
    std::size_t n = 0;
    if (r[i] >= '1' && r[i] <= '9') {
      n = static_cast<std::size_t>(r[i] - '0');
    } else if (r[i] == '{' && r.find('}', i) != std::string_view::npos) {
      std::size_t end = r.find('}', i);
      unsigned long long v = 0;
      if (!parse_uint(r.substr(i + 1, end - i - 1), v) || v == 0 || v > 99)
        return make_error(Errc::parse, "bad ${number} in the result");
      n = static_cast<std::size_t>(v);
      i = end;
    } else {
      return make_error(Errc::parse, "'$' must be followed by a number or '$'");
    }
    if (c.negated) return make_error(Errc::parse, "$number in the result of a negated pattern");
    if (n > c.re->groups())
      return make_error(Errc::parse, cat("$", n, " but the pattern has ", c.re->groups(),
                                         " group(s)"));
  }
  return {};
}

std::string expand(std::string_view r, const std::string& key, const std::vector<regmatch_t>& m) {
  std::string out;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] != '$') {
      out += r[i];
      continue;
    }
    ++i;  // check_result() vouched for what follows
    if (r[i] == '$') {
      out += '$';
      continue;
    }
    std::size_t n;
    if (r[i] == '{') {
      std::size_t end = r.find('}', i);
      n = std::stoul(std::string(r.substr(i + 1, end - i - 1)));
      i = end;
    } else {
      n = static_cast<std::size_t>(r[i] - '0');
    }
    if (n < m.size() && m[n].rm_so >= 0)
      out.append(key, static_cast<std::size_t>(m[n].rm_so),
                 static_cast<std::size_t>(m[n].rm_eo - m[n].rm_so));
  }
  return out;
}

Result<Rule> parse_rule(std::string_view s) {
  Rule rule;
  if (iequals(s, "endif")) {
    rule.kind = Rule::Kind::endif;
    return rule;
  }
  if (s.size() > 2 && istarts_with(s, "if") && (s[2] == ' ' || s[2] == '\t')) {
    rule.kind = Rule::Kind::if_;
    s = trim(s.substr(2));
  }
  auto cond = parse_condition(s);
  if (!cond) return std::move(cond).error();
  rule.cond = std::move(*cond);
  rule.result = std::string(trim(s));
  if (rule.kind == Rule::Kind::if_ && !rule.result.empty())
    return make_error(Errc::parse, "unexpected text after the if pattern");
  if (rule.kind == Rule::Kind::match && rule.result.empty())
    return make_error(Errc::parse, "missing result after the pattern");
  if (auto ok = check_result(rule.result, rule.cond); !ok) return std::move(ok).error();
  return rule;
}

class RegexpTable final : public Table {
 public:
  RegexpTable(std::string spec, std::vector<Rule> rules)
      : Table(std::move(spec)), rules_(std::move(rules)) {
    fold_ = false;  // patterns carry their own case rule
  }
  bool is_pattern() const override { return true; }
  void watch(const std::string& path) { watch_file(path); }

  Result<std::optional<std::string>> lookup(std::string_view key_view) const override {
    auto key = prepare_key(key_view);
    if (!key) return std::move(key).error();
    std::vector<regmatch_t> m;
    for (std::size_t i = 0; i < rules_.size();) {
      const Rule& r = rules_[i];
      if (r.kind == Rule::Kind::endif) {
        ++i;
        continue;
      }
      bool want_groups = r.kind == Rule::Kind::match && !r.cond.negated;
      bool hit = r.cond.re->match(*key, want_groups ? &m : nullptr) != r.cond.negated;
      if (hit && r.cond.except) hit = !r.cond.except->match(*key, nullptr);
      if (r.kind == Rule::Kind::if_) {
        i = hit ? i + 1 : r.skip_to;
      } else if (hit) {
        return std::optional<std::string>(expand(r.result, *key, m));
      } else {
        ++i;
      }
    }
    return std::optional<std::string>();
  }

 private:
  std::vector<Rule> rules_;
};

}  // namespace

Result<std::unique_ptr<Table>> open_regexp(std::string spec, const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  std::vector<Diagnostic> warnings;
  auto lines = logical_lines(*text, path, warnings);
  if (!warnings.empty()) return make_error(Errc::parse, warnings.front().str());
  std::vector<Rule> rules;
  std::vector<std::pair<std::size_t, int>> open_ifs;  // rule index, line
  for (const LogicalLine& l : lines) {
    auto rule = parse_rule(trim(l.text));
    if (!rule) return make_error(Errc::parse, cat(path, ", line ", l.line, ": ",
                                                  rule.error().detail));
    if (rule->kind == Rule::Kind::if_) open_ifs.emplace_back(rules.size(), l.line);
    if (rule->kind == Rule::Kind::endif) {
      if (open_ifs.empty())
        return make_error(Errc::parse, cat(path, ", line ", l.line, ": endif without if"));
      rules[open_ifs.back().first].skip_to = rules.size() + 1;
      open_ifs.pop_back();
    }
    rules.push_back(std::move(*rule));
  }
  if (!open_ifs.empty())
    return make_error(Errc::parse, cat(path, ", line ", open_ifs.back().second,
                                       ": if without endif"));
  auto table = std::make_unique<RegexpTable>(std::move(spec), std::move(rules));
  table->watch(path);
  return std::unique_ptr<Table>(std::move(table));
}

}  // namespace posthorn::maps::detail
