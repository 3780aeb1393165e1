// local/local_expand.cc - see local_expand.h.
#include "local/local_expand.h"

#include <cctype>

#include "lib/base/strings.h"

namespace posthorn::local {

namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Expander {
 public:
  Expander(const Attributes& a, std::string_view filter) : attrs_(a), filter_(filter) {}

  // Expands t; `undefined` is set when a plain reference had no value.
  Result<std::string> run(std::string_view t, bool& undefined) const {
    std::string out;
    std::size_t i = 0;
    while (i < t.size()) {
      char c = t[i];
      if (c != '$') {
        out += c;
        ++i;
        continue;
      }
      if (++i >= t.size()) return make_error(Errc::parse, cat("\"$\" at the end of ", printable(t)));
      if (t[i] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (t[i] == '{' || t[i] == '(') {
        auto r = braced(t, i, undefined);
        if (!r) return r;
        out += *r;
        continue;
      }
      std::size_t start = i;
      while (i < t.size() && name_char(t[i])) ++i;
      if (i == start) return make_error(Errc::parse, cat("bad \"$\" in ", printable(t)));
      append_value(out, t.substr(start, i - start), undefined);
    }
    return out;
  }

 private:
  // ${name}, ${name?text}, ${name:text} (or with parentheses); i is at the
  // opening bracket and ends past the closing one.
  Result<std::string> braced(std::string_view t, std::size_t& i, bool& undefined) const {
    const char close = t[i] == '{' ? '}' : ')';
    const char open = t[i];
    std::size_t start = ++i;
    while (i < t.size() && name_char(t[i])) ++i;
    std::string_view name = t.substr(start, i - start);
    if (name.empty() || i >= t.size())
      return make_error(Errc::parse, cat("bad \"${\" in ", printable(t)));
    if (t[i] == close) {
      ++i;
      std::string out;
      append_value(out, name, undefined);
      return out;
    }
    const char op = t[i];
    if (op != '?' && op != ':') return make_error(Errc::parse, cat("bad \"${\" in ", printable(t)));
    // The conditional text runs to the matching close bracket.
    std::size_t depth = 1, text_start = ++i;
    for (; i < t.size(); ++i) {
      if (t[i] == open) ++depth;
      if (t[i] == close && --depth == 0) break;
    }
    if (i >= t.size()) return make_error(Errc::parse, cat("missing \"", close, "\" in ", printable(t)));
    std::string_view text = t.substr(text_start, i - text_start);
    ++i;
    const bool defined = value(name).has_value() && !value(name)->empty();
    if ((op == '?') != defined) return std::string();
    return run(text, undefined);
  }

  std::optional<std::string> value(std::string_view name) const {
    auto it = attrs_.find(name);
    if (it == attrs_.end()) return std::nullopt;
    return it->second;
  }

  void append_value(std::string& out, std::string_view name, bool& undefined) const {
    auto v = value(name);
    if (!v) {
      undefined = true;
      return;
    }
    out += filter_value(*v, filter_);
  }

  const Attributes& attrs_;
  std::string_view filter_;
};

}  // namespace

std::string filter_value(std::string_view value, std::string_view filter) {
  std::string out(value);
  for (char& c : out)
    if (filter.find(c) == std::string_view::npos) c = '_';
  return out;
}

Result<std::optional<std::string>> local_expand(std::string_view templ, const Attributes& attrs,
                                                std::string_view filter) {
  bool undefined = false;
  auto r = Expander(attrs, filter).run(templ, undefined);
  if (!r) return std::move(r).error();
  if (undefined) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*r));
}

std::vector<std::string> forward_paths(const std::vector<std::string>& entries,
                                       const Attributes& attrs, std::string_view filter,
                                       std::vector<std::string>* errors) {
  std::vector<std::string> out;
  for (const std::string& e : entries) {
    auto r = local_expand(e, attrs, filter);
    if (!r) {
      if (errors) errors->push_back(r.error().detail);
      continue;
    }
    if (*r && !(*r)->empty()) out.push_back(std::move(**r));
  }
  return out;
}

}  // namespace posthorn::local
