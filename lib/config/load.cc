// lib/config/load.cc - reading and checking main.cf and master.cf together
// (see config.h).
//
// Steps: parse both files' syntax; accept each main.cf name that is declared,
// service-specific or a referenced user-defined name; check each value in
// main.cf, then each service's view (its -o overrides on top of main.cf).
// Whatever fails is reported and left out, and the check repeats without it
// until nothing fails, so the resulting Config is fully valid. Only the first
// round's failures are reported: later ones are consequences of them.
#include <algorithm>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/config/value.h"

namespace posthorn::config {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Names referenced as $name, ${name...} or $(name) anywhere in `text`.
void scan_refs(std::string_view text, std::set<std::string, std::less<>>& out) {
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$') {
      ++i;
      continue;
    }
    std::size_t j = i + 1 + (text[i + 1] == '{' || text[i + 1] == '(');
    std::size_t k = j;
    while (k < text.size() && is_name_char(text[k])) ++k;
    if (k > j) out.emplace(text.substr(j, k - j));
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_message(std::string_view name) {
  std::string best;
  std::size_t best_d = 3;
  if (name.size() <= 64) {
    for (const Param& p : params()) {
      std::size_t d = edit_distance(name, p.name);
      if (d < best_d) best_d = d, best = std::string(p.name);
    }
  }
  if (best.empty()) return "unknown parameter";
  return cat("unknown parameter (did you mean ", best, "?)");
}

}  // namespace

class Loader {
 public:
  Loader(const Sources& src, Parsed& out) : src_(src), out_(out), c_(out.config) {}
  void run();

 private:
  void error(const std::string& file, unsigned line, std::string param, std::string msg) {
    out_.errors.push_back({file, line, std::move(param), std::move(msg)});
  }
  void accept_names(const MainCf& m);
  void check_main();
  bool check_service(Service& s, bool report);

  const Sources& src_;
  Parsed& out_;
  Config& c_;
};

void Loader::accept_names(const MainCf& m) {
  std::set<std::string, std::less<>> refs;
  for (const Setting& s : m.settings) scan_refs(s.value, refs);
  for (const Service& s : c_.services_)
    for (const Override& o : s.overrides) scan_refs(o.value, refs);
  for (const Setting& s : m.settings) {
    if (!c_.is_known(s.name)) {
      if (!refs.count(s.name)) {
        error(src_.main_file, s.line, s.name, unknown_message(s.name));
        continue;
      }
      c_.user_defined_.insert(s.name);
    }
    c_.set_[s.name] = Config::Entry{s.value, s.line, true};
  }
}

void Loader::check_main() {
  for (bool first = true;; first = false) {
    std::vector<std::string> bad;
    for (const auto& [name, e] : c_.set_) {
      std::string why = c_.validate(name);
      if (why.empty()) continue;
      if (first) error(src_.main_file, e.line, name, why);
      bad.push_back(name);
    }
    if (bad.empty()) return;
    // A user-defined name exists only through its main.cf line: once that
    // is dropped, references to it are unknown names (and fail in turn).
    for (const std::string& n : bad) {
      c_.set_.erase(n);
      c_.user_defined_.erase(n);
    }
  }
}

// Checks one service's view; reports (when asked) and drops what fails. A
// main.cf value that is valid alone but not with this service's overrides
// is reported at the service's line, and the service then keeps no overrides.
bool Loader::check_service(Service& s, bool report) {
  if (s.overrides.empty()) return true;  // its view is main.cf's, already checked
  std::vector<Override> kept;
  bool ok = true;
  for (Override& o : s.overrides) {
    if (c_.is_known(o.name)) {
      kept.push_back(std::move(o));
      continue;
    }
    if (report) error(src_.master_file, o.line, s.key(), cat("-o ", o.name, ": ", unknown_message(o.name)));
    ok = false;
  }
  s.overrides = std::move(kept);
  Config view = c_;
  for (const Override& o : s.overrides) view.set_[o.name] = Config::Entry{o.value, o.line, false};
  std::vector<std::string> bad;
  for (const auto& [name, e] : view.set_) {
    std::string why = view.validate(name);
    if (why.empty()) continue;
    ok = false;
    if (report) {
      std::string what = e.from_main ? cat(name, " (from main.cf with this service's -o)") : "-o " + name;
      error(src_.master_file, e.from_main ? s.line : e.line, s.key(), cat(what, ": ", why));
    }
    if (e.from_main) s.overrides.clear();
    bad.push_back(name);
  }
  std::erase_if(s.overrides, [&](const Override& o) {
    return std::find(bad.begin(), bad.end(), o.name) != bad.end();
  });
  return ok;
}

void Loader::run() {
  c_.dir_ = src_.config_dir;
  if (!src_.hostname.empty()) c_.hostname_ = src_.hostname;
  MainCf m = parse_main_cf(src_.main_text, src_.main_file);
  MasterCf k = parse_master_cf(src_.master_text, src_.master_file);
  out_.errors = std::move(m.errors);
  out_.errors.insert(out_.errors.end(), k.errors.begin(), k.errors.end());
  out_.warnings = std::move(m.warnings);
  c_.services_ = std::move(k.services);
  accept_names(m);
  check_main();
  for (Service& s : c_.services_)
    for (bool first = true; !check_service(s, first); first = false) {}
  std::stable_sort(out_.errors.begin(), out_.errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  });
}

Parsed Config::parse(const Sources& src) {
  Parsed out;
  Loader(src, out).run();
  return out;
}

Result<Config> Config::load(const std::filesystem::path& dir) {
  // Absolute, because daemons change directory (chroot, the spool) and
  // relative paths in main.cf are taken from config_directory.
  std::error_code ec;
  std::filesystem::path config_dir = std::filesystem::absolute(dir, ec);
  if (ec) config_dir = dir;
  auto main_path = config_dir / "main.cf", master_path = config_dir / "master.cf";
  auto main_text = read_file(main_path);
  if (!main_text) return std::move(main_text).error();
  std::string master_text;
  if (auto m = read_file(master_path)) master_text = std::move(*m);
  else if (m.error().code != Errc::not_found)
    return std::move(m).error();
  Sources src{*main_text, main_path.string(), master_text, master_path.string(), config_dir, {}};
  Parsed p = parse(src);
  if (p.errors.empty()) return std::move(p.config);
  std::vector<std::string> lines;
  for (const Diagnostic& d : p.errors) lines.push_back(d.text());
  return make_error(Errc::parse, join(lines, "\n"));
}

}  // namespace posthorn::config
