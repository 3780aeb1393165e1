// imapd/special_use.cc - see special_use.h.
#include "imapd/special_use.h"

#include <algorithm>

#include "imapd/mailbox_name.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {
namespace {

constexpr std::string_view kAttributes[] = {"\\All",     "\\Archive", "\\Drafts", "\\Flagged",
                                            "\\Junk",    "\\Sent",    "\\Trash"};

}  // namespace

Result<std::vector<SpecialFolder>> parse_special_use(const std::vector<std::string>& items) {
  std::vector<SpecialFolder> out;
  for (const std::string& item : items) {
    std::size_t eq = item.find('=');
    if (eq == std::string::npos)
      return make_error(Errc::invalid, cat("\"", item, "\" is not name=\\Attribute"));
    std::string attr = item.substr(eq + 1);
    auto known = std::find_if(std::begin(kAttributes), std::end(kAttributes),
                              [&](std::string_view a) { return iequals(a, attr); });
    if (known == std::end(kAttributes))
      return make_error(Errc::invalid, cat("\"", attr, "\" is no special-use attribute (RFC 6154)"));
    auto name = store_name(item.substr(0, eq), true);
    if (!name) return make_error(Errc::invalid, cat("\"", item.substr(0, eq), "\": ", name.error().detail));
    for (const auto& f : out)
      if (f.name == *name || f.attribute == *known)
        return make_error(Errc::invalid, cat("\"", item, "\" repeats a name or an attribute"));
    out.push_back({std::move(*name), std::string(*known)});
  }
  return out;
}

std::string_view special_use_of(const std::vector<SpecialFolder>& folders, std::string_view name) {
  for (const auto& f : folders)
    if (f.name == name) return f.attribute;
  return {};
}

Result<void> create_special_folders(mailstore::Store& store,
                                    const std::vector<SpecialFolder>& folders) {
  if (folders.empty()) return {};
  auto names = store.list();
  if (!names) return std::move(names).error();
  if (names->size() != 1) return {};  // not a new user: INBOX and more
  for (const auto& f : folders) {
    if (auto r = store.create(f.name); !r && r.error().code != Errc::exists) return r;
    if (auto r = store.subscribe(f.name); !r) return r;
  }
  return {};
}

}  // namespace posthorn::imapd
