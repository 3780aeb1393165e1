// lib/dns/hosts.cc - see hosts.h.
#include "lib/dns/hosts.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "lib/base/strings.h"

namespace posthorn::dns {

std::optional<std::string> address_key(std::string_view addr) {
  const std::string text(addr);
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
  return std::nullopt;
}

HostsFile HostsFile::parse(std::string_view text) {
  HostsFile h;
  for (const std::string& whole : split(text, '\n')) {
    std::string_view line = whole;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const std::vector<std::string> fields = split_fields(line, " \t\r");
    if (fields.size() < 2) continue;
    const auto key = address_key(fields[0]);
    if (!key) continue;
    h.by_addr_.emplace(*key, to_lower(fields[1]));  // the first line wins
    for (std::size_t i = 1; i < fields.size(); ++i) {
      std::vector<std::string>& addrs = h.by_name_[to_lower(fields[i])];
      if (std::find(addrs.begin(), addrs.end(), *key) == addrs.end()) addrs.push_back(*key);
    }
  }
  return h;
}

HostsFile HostsFile::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

std::optional<std::string> HostsFile::name_of(std::string_view addr) const {
  const auto key = address_key(addr);
  if (!key) return std::nullopt;
  const auto it = by_addr_.find(*key);
  if (it == by_addr_.end()) return std::nullopt;
  return it->second;
}

bool HostsFile::has(std::string_view name, std::string_view addr) const {
  const auto key = address_key(addr);
  const auto it = by_name_.find(to_lower(name));
  if (!key || it == by_name_.end()) return false;
  return std::find(it->second.begin(), it->second.end(), *key) != it->second.end();
}

}  // namespace posthorn::dns
