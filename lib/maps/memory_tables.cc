// lib/maps/memory_tables.cc - the tables held in memory: inline:, static:,
// texthash:.
//
// inline:{k=v, { key = text with spaces, or commas }} follows Postfix: elements
// are separated by commas or whitespace; an element in braces may hold both,
// and the blanks around its '=' go. static:{ text } likewise loses its braces
// and the blanks inside them.
#include <map>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/maps/source.h"
#include "lib/maps/table_types.h"

namespace posthorn::maps::detail {

namespace {

class MemoryTable final : public Table {
 public:
  MemoryTable(std::string spec, bool fold) : Table(std::move(spec)) { fold_ = fold; }

  Result<std::optional<std::string>> lookup(std::string_view key) const override {
    auto k = prepare_key(key);
    if (!k) return std::move(k).error();
    auto it = entries_.find(*k);
    if (it == entries_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Result<void> for_each(const EntryFn& fn) const override {
    for (const auto& [k, v] : entries_) fn(k, v);
    return {};
  }

  // False when the key is already there.
  bool add(std::string key, std::string value) {
    if (fold_) key = to_lower(key);
    return entries_.emplace(std::move(key), std::move(value)).second;
  }
  void watch(const std::string& path) { watch_file(path); }
  std::vector<Diagnostic>& warnings() { return warnings_; }

 private:
  std::map<std::string, std::string> entries_;
};

class StaticTable final : public Table {
 public:
  StaticTable(std::string spec, std::string value)
      : Table(std::move(spec)), value_(std::move(value)) {}
  Result<std::optional<std::string>> lookup(std::string_view) const override {
    return std::optional<std::string>(value_);
  }
  bool is_pattern() const override { return true; }

 private:
  std::string value_;
};

// The offset just past the '}' matching the '{' at s[open], or npos.
std::size_t match_brace(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

// Splits the inside of inline:{...} into its elements (braces removed).
Result<std::vector<std::string>> inline_elements(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ',' || c == ' ' || c == '\t') {
      ++i;
    } else if (c == '{') {
      std::size_t end = match_brace(s, i);
      if (end == std::string_view::npos) return make_error(Errc::parse, "missing '}'");
      out.emplace_back(trim(s.substr(i + 1, end - i - 2)));
      i = end;
    } else if (c == '}') {
      return make_error(Errc::parse, "unexpected '}'");
    } else {
      std::size_t j = s.find_first_of(", \t{}", i);
      if (j == std::string_view::npos) j = s.size();
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Table>> open_inline(std::string spec, std::string_view body,
                                           const OpenOptions& opts) {
  auto fail = [&](std::string_view why) {
    return make_error(Errc::parse, cat("table \"", printable(spec), "\": ", why));
  };
  std::string_view b = trim(body);
  if (b.size() < 2 || b.front() != '{' || match_brace(b, 0) != b.size())
    return fail("expected inline:{name=value, ...}");
  auto elements = inline_elements(b.substr(1, b.size() - 2));
  if (!elements) return fail(elements.error().detail);
  auto table = std::make_unique<MemoryTable>(spec, !opts.case_sensitive);
  for (const std::string& e : *elements) {
    std::size_t eq = e.find('=');
    if (eq == std::string::npos) return fail(cat("missing '=' in \"", printable(e), "\""));
    std::string key(trim(std::string_view(e).substr(0, eq)));
    if (key.empty()) return fail(cat("missing name in \"", printable(e), "\""));
    if (!table->add(key, std::string(trim(std::string_view(e).substr(eq + 1)))))
      return fail(cat("duplicate name \"", printable(key), "\""));
  }
  return std::unique_ptr<Table>(std::move(table));
}

Result<std::unique_ptr<Table>> open_static(std::string spec, std::string_view body) {
  std::string value(body);
  if (!body.empty() && body.front() == '{') {
    if (match_brace(body, 0) != body.size())
      return make_error(Errc::parse, cat("table \"", printable(spec),
                                         "\": expected static:{text} with nothing after '}'"));
    value = std::string(trim(body.substr(1, body.size() - 2)));
  }
  return std::unique_ptr<Table>(std::make_unique<StaticTable>(std::move(spec), std::move(value)));
}

Result<std::unique_ptr<Table>> open_texthash(std::string spec, const std::string& path,
                                             const OpenOptions& opts) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  ParsedSource src = parse_map_source(*text, path, !opts.case_sensitive);
  auto table = std::make_unique<MemoryTable>(std::move(spec), !opts.case_sensitive);
  for (SourceEntry& e : src.entries) table->add(std::move(e.key), std::move(e.value));
  table->warnings() = std::move(src.warnings);
  table->watch(path);
  return std::unique_ptr<Table>(std::move(table));
}

}  // namespace posthorn::maps::detail
