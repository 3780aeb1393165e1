// Feeds arbitrary bytes to the text formats that administrators and other
// programs write and Posthorn reads: postmap and aliases(5) sources, alias
// values, Maildir file names, the uidlist and keywords files of
// lib/mailstore. The first byte picks the parser. Formatted output must read
// back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/mailstore/keywords.h"
#include "lib/mailstore/names.h"
#include "lib/mailstore/uidlist.h"
#include "lib/maps/source.h"

using namespace posthorn;

namespace {

void uidlist(std::string_view text) {
  auto list = mailstore::parse_uidlist(text);
  if (!list) return;
  auto again = mailstore::parse_uidlist(mailstore::format_uidlist(*list));
  if (!again || again->uidvalidity != list->uidvalidity || again->uidnext != list->uidnext ||
      again->entries.size() != list->entries.size())
    std::abort();
}

void file_name(std::string_view text) {
  auto n = mailstore::parse_file_name(text);
  auto back = mailstore::parse_file_name(
      mailstore::cur_file_name(n.base, n.flags, n.keywords, n.other_flags));
  if (back.base != n.base || back.flags != n.flags || back.keywords != n.keywords) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: (void)maps::parse_map_source(text, "fuzz", data[0] & 0x80); break;
    case 1: (void)maps::parse_aliases_source(text, "fuzz", data[0] & 0x80); break;
    case 2: (void)maps::parse_alias_value(text); break;
    case 3: file_name(text); break;
    case 4: uidlist(text); break;
    case 5: (void)mailstore::format_keywords(mailstore::parse_keywords(text)); break;
  }
  return 0;
}
