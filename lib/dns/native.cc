// lib/dns/native.cc - see native.h.
#include "lib/dns/native.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "lib/base/fd.h"
#include "lib/dns/names.h"

namespace posthorn::dns {

namespace {

using AddrInfoPtr = Owned<addrinfo, freeaddrinfo>;

Status status_of(int rc) {
  switch (rc) {
    case EAI_NONAME: return Status::nxdomain;
#ifdef EAI_NODATA
    case EAI_NODATA: return Status::nodata;
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return Status::nodata;
#endif
    case EAI_AGAIN: return Status::server_failure;
    default: return Status::local_error;
  }
}

std::string text_of(const sockaddr* sa) {
  std::string out(INET6_ADDRSTRLEN, '\0');
  const void* src = sa->sa_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr)
                                             : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  if (!inet_ntop(sa->sa_family, src, out.data(), static_cast<socklen_t>(out.size()))) return {};
  out.resize(std::strlen(out.c_str()));
  return out;
}

}  // namespace

Answer native_lookup(std::string_view name, RrType type) {
  Answer ans;
  ans.type = type;
  ans.rcode = -1;
  auto norm = normalize_name(name);
  if (!norm || (type != RrType::a && type != RrType::aaaa)) {
    ans.name = std::string(name);
    ans.status = Status::bad_name;
    ans.detail = "not a host name for a native lookup";
    return ans;
  }
  ans.name = *norm;
  ans.canonical = *norm;
  ans.server = "native";
  const int family = type == RrType::a ? AF_INET : AF_INET6;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  const int rc = ::getaddrinfo(ans.name.c_str(), nullptr, &hints, &raw);
  AddrInfoPtr list(raw);
  if (rc != 0) {
    ans.status = status_of(rc);
    ans.detail = ::gai_strerror(rc);
    return ans;
  }
  for (const addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
    if (ai->ai_family != family || !ai->ai_addr || ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address a{};
    std::memset(&a.sockaddr, 0, sizeof a.sockaddr);
    std::memcpy(&a.sockaddr, ai->ai_addr, ai->ai_addrlen);
    a.sockaddr_len = ai->ai_addrlen;
    if (family == AF_INET) reinterpret_cast<sockaddr_in*>(&a.sockaddr)->sin_port = 0;
    else reinterpret_cast<sockaddr_in6*>(&a.sockaddr)->sin6_port = 0;
    a.text = text_of(ai->ai_addr);
    if (a.text.empty()) continue;
    if (std::none_of(ans.addresses.begin(), ans.addresses.end(), [&](const Address& b) { return b.text == a.text; }))
      ans.addresses.push_back(std::move(a));
  }
  ans.status = ans.addresses.empty() ? Status::nodata : Status::found;
  if (ans.addresses.empty()) ans.detail = "no address of that family";
  return ans;
}

}  // namespace posthorn::dns
