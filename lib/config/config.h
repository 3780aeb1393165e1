// lib/config/config.h - the read-only view of main.cf and master.cf that
// every program uses.
//
// Guarantees
// - Every value a program reads was checked when the files were loaded:
//   the name is declared in the registry (params.h), the value, once
//   `$`-expanded, has the parameter's type and lies within its bounds.
// - Every problem in both files is reported in one run, each as
//   "FILE:LINE: NAME: what is wrong" (Diagnostic::text()).
// - Expansion is lazy, as in Postfix: get() expands `$name` when asked, so a
//   -o override of myhostname changes $myhostname in every value that uses it.
//
// Expansion: `$name`, `${name}`, `$(name)`; `${name?text}` is text when
// $name is not empty, else empty; `${name:text}` is text when $name is
// empty, else empty; `${name?{text1}:{text2}}` picks one of two; `$$` is a
// literal `$`. A reference to an unknown name, a loop (a = $b, b = $a), or an
// expansion past 1 MiB or 100000 steps is an error.
//
// Names that are not in the registry are accepted in two cases only:
// - service-specific parameters: `SERVICE_REST` where SERVICE is a service
//   name in master.cf and `default_REST` is declared (for instance
//   relay_destination_concurrency_limit for the relay transport). It has the
//   type of default_REST and defaults to $default_REST;
// - user-defined parameters: a name set in main.cf and used as `$name` by
//   another main.cf value or a master.cf -o value (Postfix's rule; for
//   example a restriction list shared by two -o overrides). They are strings.
// Any other unknown name is an error, so a typo never passes silently.
//
// Asking a Config for a name it does not know, or for a typed value of the
// wrong type, is a programming error: the getters panic.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/result.h"
#include "lib/config/master_cf.h"
#include "lib/config/params.h"
#include "lib/config/syntax.h"

namespace posthorn::config {

struct Parsed;

// What parse() reads. Empty master text means no services.
struct Sources {
  std::string_view main_text;
  std::string main_file = "main.cf";      // names the file in diagnostics
  std::string_view master_text;
  std::string master_file = "master.cf";
  std::filesystem::path config_dir = "/etc/posthorn";  // config_directory's value
  std::string hostname;                   // myhostname's default; "" = gethostname()
};

class Config {
 public:
  // Every parameter at its default, no services, config_directory
  // /etc/posthorn.
  Config();

  // Reads DIR/main.cf (must exist) and DIR/master.cf (may be missing: no
  // services). Errors: Errc::not_found or io for a file that cannot be read;
  // Errc::parse when either file has errors, with every error in `detail`,
  // one Diagnostic::text() per line.
  static Result<Config> load(const std::filesystem::path& config_dir);

  // The same from text, without the filesystem (tests, the fuzzer, and
  // `posthorn conf -e` checking the file it is about to write). The result's
  // config leaves out whatever had an error, so its getters never fail.
  static Parsed parse(const Sources& src);

  // The value, `$`-expanded (kRaw parameters: as written), the default when
  // not set.
  std::string get(std::string_view name) const;
  bool get_bool(std::string_view name) const;          // Type::boolean
  long long get_int(std::string_view name) const;      // Type::count
  long long get_time(std::string_view name) const;     // Type::time, in seconds
  long long get_size(std::string_view name) const;     // Type::size, in bytes
  std::vector<std::string> get_list(std::string_view name) const;  // list, table_list
  // get(name) as a path; a relative one is taken from config_directory
  // (instance mode: an instance is a folder).
  std::filesystem::path get_path(std::string_view name) const;

  // True when `name` is known here: declared, service-specific or user-defined.
  bool is_known(std::string_view name) const;
  // True when neither main.cf nor an override sets it.
  bool is_default(std::string_view name) const;
  // The value as written in main.cf or -o, else the default as written.
  std::string raw(std::string_view name) const;
  // The default, unexpanded ("$myhostname"); computed defaults are worked out.
  std::string default_raw(std::string_view name) const;
  // The type the value is checked against (user-defined ones: string).
  Type type_of(std::string_view name) const;
  // Names set in main.cf (and by overrides), sorted.
  std::vector<std::string> set_names() const;

  // A copy with extra `name=value` settings on top, each checked like a
  // main.cf line; every problem is in the error's detail, one per line.
  Result<Config> with_overrides(const std::vector<std::pair<std::string, std::string>>& o) const;
  // The view a service runs with: its master.cf -o overrides on top. They
  // were checked when the files were loaded, so this cannot fail for a
  // service of this Config (a service from elsewhere that fails: panic).
  Config for_service(const Service& s) const;

  const std::vector<Service>& services() const { return services_; }
  // The service with key "name/type", or nullptr.
  const Service* find_service(std::string_view key) const;
  const std::filesystem::path& config_directory() const { return dir_; }

 private:
  friend class Expander;
  friend class Loader;
  struct Entry {
    std::string value;
    unsigned line = 0;
    bool from_main = true;
  };
  struct Resolved {
    const Param* param = nullptr;  // nullptr: user-defined string
    std::string fallback;          // service-specific: "default_REST"
  };
  bool resolve(std::string_view name, Resolved& r) const;
  Resolved must_resolve(std::string_view name) const;
  std::string expand_checked(std::string_view name, std::string& error) const;
  std::string validate(std::string_view name) const;  // "" or the reason
  std::string typed(std::string_view name, Type want) const;

  std::map<std::string, Entry, std::less<>> set_;
  std::set<std::string, std::less<>> user_defined_;
  std::vector<Service> services_;
  std::filesystem::path dir_;
  std::string hostname_;
};

struct Parsed {
  Config config;
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;  // a name set twice in main.cf
};

}  // namespace posthorn::config
