// smtpd/peername.cc - see peername.h.
#include "smtpd/peername.h"

#include <arpa/inet.h>

#include <cstring>

#include "lib/dns/names.h"

namespace posthorn::smtpd {
namespace {

// The same address, compared as binary (so "::ffff:1.2.3.4" style spellings
// and zero compression do not matter).
bool same_address(const std::string& a, const std::string& b) {
  unsigned char x[16] = {}, y[16] = {};
  if (inet_pton(AF_INET, a.c_str(), x) == 1) return inet_pton(AF_INET, b.c_str(), y) == 1 && !memcmp(x, y, 4);
  if (inet_pton(AF_INET6, a.c_str(), x) == 1) return inet_pton(AF_INET6, b.c_str(), y) == 1 && !memcmp(x, y, 16);
  return false;
}

}  // namespace

void PeerName::start(const std::string& addr, Done done) {
  done_ = std::move(done);
  id_ = {};
  id_.addr = addr;
  if (hosts_) {
    if (auto name = hosts_->name_of(addr)) {
      id_.reverse_name = *name;
      if (hosts_->has(*name, addr)) id_.name = *name;
      Done d = std::move(done_);
      return d(id_);
    }
  }
  auto rev = dns::reverse_name(addr);
  if (!rev) {
    Done d = std::move(done_);
    return d(id_);
  }
  lookup_ = query_(*rev, dns::RrType::ptr, [this](dns::Answer a) { ptr_answer(std::move(a)); });
}

void PeerName::ptr_answer(dns::Answer a) {
  if (!a.ok() || a.names.empty() || !dns::normalize_name(a.names.front())) {
    id_.name_tempfail = dns::is_temporary(a.status);
    Done d = std::move(done_);
    return d(id_);
  }
  id_.reverse_name = *dns::normalize_name(a.names.front());
  in_addr v4{};
  const bool ipv4 = inet_pton(AF_INET, id_.addr.c_str(), &v4) == 1;
  lookup_ = query_(id_.reverse_name, ipv4 ? dns::RrType::a : dns::RrType::aaaa,
                   [this](dns::Answer b) { forward_answer(std::move(b)); });
}

void PeerName::forward_answer(dns::Answer a) {
  if (a.ok()) {
    for (const dns::Address& x : a.addresses)
      if (same_address(x.text, id_.addr)) id_.name = id_.reverse_name;
  } else {
    id_.name_tempfail = dns::is_temporary(a.status);
  }
  Done d = std::move(done_);
  d(id_);
}

}  // namespace posthorn::smtpd
