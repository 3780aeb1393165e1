// lib/mailstore/keywords.cc - see keywords.h.
#include "lib/mailstore/keywords.h"

#include "lib/base/strings.h"

namespace posthorn::mailstore {

bool valid_keyword(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f) return false;
    if (std::string_view("(){%*\"\\]").find(static_cast<char>(c)) != std::string_view::npos)
      return false;
  }
  return true;
}

int KeywordTable::find(std::string_view name) const {
  for (int i = 0; i < kMaxKeywords; ++i)
    if (!names[i].empty() && iequals(names[i], name)) return i;
  return -1;
}

Result<int> KeywordTable::intern(std::string_view name) {
  if (!valid_keyword(name)) return make_error(Errc::invalid, cat("bad keyword ", printable(name)));
  if (int i = find(name); i >= 0) return i;
  for (int i = 0; i < kMaxKeywords; ++i) {
    if (names[i].empty()) {
      names[i] = std::string(name);
      return i;
    }
  }
  return make_error(Errc::too_large, "all 26 keyword letters are in use");
}

std::vector<std::string> KeywordTable::names_of(std::uint32_t bits) const {
  std::vector<std::string> out;
  for (int i = 0; i < kMaxKeywords; ++i)
    if ((bits & (1u << i)) && !names[i].empty()) out.push_back(names[i]);
  return out;
}

KeywordTable parse_keywords(std::string_view text) {
  KeywordTable t;
  for (const auto& line : split(text, '\n')) {
    std::size_t sp = line.find(' ');
    unsigned long long idx;
    if (sp == std::string::npos || !parse_uint(std::string_view(line).substr(0, sp), idx) ||
        idx >= kMaxKeywords)
      continue;
    std::string name = line.substr(sp + 1);
    if (valid_keyword(name) && t.find(name) < 0) t.names[idx] = std::move(name);
  }
  return t;
}

std::string format_keywords(const KeywordTable& t) {
  std::string out;
  for (int i = 0; i < kMaxKeywords; ++i)
    if (!t.names[i].empty()) out += cat(i, " ", t.names[i], "\n");
  return out;
}

}  // namespace posthorn::mailstore
