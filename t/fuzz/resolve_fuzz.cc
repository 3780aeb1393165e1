// Feeds arbitrary bytes to lib/resolve: the value syntax (transport values,
// next hops, virtual alias lists, special transport status), recipients
// resolved through a fixed configuration full of aliasing corner cases, and
// virtual alias tables written from the input. The first byte picks the
// target. Whatever comes in, a Resolution either failed with a status or has
// destinations that are distinct, parseable, qualified addresses within the
// expansion limit, and formatted values parse back to themselves.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "lib/address/path.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/resolve/resolve.h"

using namespace posthorn;
using namespace posthorn::resolve;

namespace {

constexpr long kExpansionLimit = 20;

void check(bool ok) {
  if (!ok) std::abort();
}

bool is_status(std::string_view dsn) {
  return dsn.size() >= 5 && (dsn[0] == '2' || dsn[0] == '4' || dsn[0] == '5') && dsn[1] == '.';
}

void transport_value(std::string_view text) {
  auto tv = parse_transport_value(text);
  if (!tv) return;
  auto again = parse_transport_value(tv->transport + ":" + tv->nexthop);
  check(again && *again == *tv);
}

void nexthop(std::string_view text) {
  auto hop = parse_nexthop(text);
  if (!hop) return;
  std::string host = hop->mx ? hop->host : "[" + hop->host + "]";
  auto again = parse_nexthop(hop->port.empty() ? host : host + ":" + hop->port);
  check(again && *again == *hop);
}

void address_list(std::string_view text) {
  auto items = split_address_list(text);
  if (!items) return;
  check(!items->empty());
  for (const std::string& i : *items) check(!i.empty());
}

void status(std::string_view text) {
  std::size_t colon = text.find(':');
  Destination d{"a@example.org", AddressClass::default_, std::string(text.substr(0, colon)),
                colon == std::string_view::npos ? "" : std::string(text.substr(colon + 1))};
  Status s = special_status(d);
  if (is_special_transport(d.transport)) check(is_status(s.dsn));
  else check(s.dsn.empty() && s.text == d.nexthop);
}

void check_resolution(const Resolution& r) {
  if (r.failed) {
    check(r.destinations.empty() && is_status(r.dsn) && !r.text.empty());
    check(r.temporary == (r.dsn[0] == '4'));
    return;
  }
  check(!r.destinations.empty() && r.destinations.size() <= kExpansionLimit);
  for (std::size_t i = 0; i < r.destinations.size(); ++i) {
    const Destination& d = r.destinations[i];
    auto box = address::parse_mailbox(d.recipient, {.smtputf8 = true, .lenient = true});
    check(box && box->qualified() && !d.transport.empty());
    if (is_special_transport(d.transport)) check(is_status(special_status(d).dsn));
    for (std::size_t j = 0; j < i; ++j) check(r.destinations[j].recipient != d.recipient);
  }
}

config::Config config_of(const std::string& main_cf) {
  config::Sources src;
  src.main_text = main_cf;
  src.hostname = "mx.example.org";
  config::Parsed p = config::Config::parse(src);
  if (!p.errors.empty()) std::abort();
  return p.config;
}

std::string common_settings() {
  return cat("recipient_delimiter = +-\ninet_interfaces = 127.0.0.1\n",
             "virtual_alias_expansion_limit = ", kExpansionLimit, "\n",
             "virtual_alias_recursion_limit = 6\nrelay_domains = relay.example\n",
             "transport_maps = inline:{ {t.example = relay:[gw.example]:25}, {e.example = error:5.1.1 no},",
             " {.r.example = :[hop.example]} }\n");
}

// One resolver for the address target, built on first use.
const Resolver& fixed_resolver() {
  static std::optional<Resolver> r = [] {
    std::string aliases =
        "inline:{ {a@x.example = b@x.example}, {b@x.example = a@x.example},"
        " {self@x.example = self@x.example, other@y.example},"
        " {fan@x.example = f1@y.example f2@y.example f3@y.example, fan@x.example},"
        " {user@x.example = bob@r.example}, {@c.example = catch@y.example},"
        " {deep@x.example = d1@x.example}, {d1@x.example = d2@x.example},"
        " {d2@x.example = d3@x.example}, {d3@x.example = d4@x.example},"
        " {d4@x.example = d5@x.example}, {d5@x.example = d6@x.example},"
        " {d6@x.example = d7@x.example}, {bare@x.example = joe},"
        " {va.example = x}, {known@va.example = unknown@va.example} }";
    auto res = Resolver::from_config(config_of(common_settings() + "virtual_alias_maps = " +
                                               aliases + "\n"));
    if (!res) std::abort();
    return std::move(*res);
  }();
  return *r;
}

// A virtual alias table from the input: resolve every key it names.
void alias_table(std::string_view text) {
  // A directory of our own, removed when the fuzzer exits.
  static const struct Dir {
    std::string path;
    Dir() : path(std::filesystem::temp_directory_path().string() + "/resolve-fuzz-XXXXXX") {
      if (::mkdtemp(path.data()) == nullptr) std::abort();
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  std::string file = dir.path + "/virtual";
  {  // no fsync: the table only has to outlive this input
    auto fd = open_file(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!fd || !write_all(fd->get(), text)) std::abort();
  }
  auto r = Resolver::from_config(
      config_of(common_settings() + "virtual_alias_maps = texthash:" + file + "\n"));
  if (!r) return;  // a source texthash refuses (a NUL byte, for instance)
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> words = split_fields(line, " \t");
    if (!words.empty()) check_resolution(r->resolve(words[0]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: transport_value(text); break;
    case 1: nexthop(text); break;
    case 2: address_list(text); break;
    case 3: status(text); break;
    case 4: check_resolution(fixed_resolver().resolve(text)); break;
    case 5: alias_table(text); break;
  }
  return 0;
}
