#include "smtpd/networks.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "lib/base/strings.h"

namespace posthorn::smtpd {
namespace {

// An address as text into `n` (family and bytes). False when it is none.
bool parse_address(std::string_view text, Network& n) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), n.bytes.data()) == 1) {
    n.family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), n.bytes.data()) != 1) return false;
  n.family = AF_INET6;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(n.bytes.data(), kMapped, 12) == 0) {
    std::memmove(n.bytes.data(), n.bytes.data() + 12, 4);
    std::memset(n.bytes.data() + 4, 0, 12);
    n.family = AF_INET;
  }
  return true;
}

bool prefix_equal(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                  unsigned bits) {
  for (unsigned i = 0; bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xff00 >> take);
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

}  // namespace

Result<std::vector<Network>> parse_networks(const std::vector<std::string>& entries) {
  std::vector<Network> out;
  for (const std::string& e : entries) {
    const std::size_t slash = e.rfind('/');
    Network n;
    const std::string_view addr = std::string_view(e).substr(0, slash);
    const unsigned max_bits = addr.find(':') != std::string_view::npos ? 128 : 32;
    unsigned long long bits = max_bits;
    if (e.empty() || e[0] == '/' || !parse_address(addr, n) ||
        (slash != std::string::npos && (!parse_uint(std::string_view(e).substr(slash + 1), bits) ||
                                        bits > max_bits)))
      return Error{Errc::invalid, cat("mynetworks: unsupported entry \"", e, "\"")};
    n.prefix = static_cast<unsigned>(bits);
    out.push_back(n);
  }
  return out;
}

bool in_networks(const std::vector<Network>& nets, std::string_view addr) {
  Network a;
  if (!parse_address(addr, a)) return false;
  for (const Network& n : nets)
    if (n.family == a.family && prefix_equal(n.bytes, a.bytes, n.prefix)) return true;
  return false;
}

}  // namespace posthorn::smtpd
