// smtpd/client_limits.cc - see client_limits.h.
#include "smtpd/client_limits.h"

#include <algorithm>

namespace posthorn::smtpd {

ClientLimits::Slot& ClientLimits::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = std::exchange(o.owner_, nullptr);
    addr_ = std::move(o.addr_);
  }
  return *this;
}

void ClientLimits::Slot::release() {
  if (ClientLimits* owner = std::exchange(owner_, nullptr)) owner->release(addr_);
}

ClientLimits::Admission ClientLimits::admit(const std::string& addr, Clock::time_point now) {
  Admission a;
  if ((s_.count_limit == 0 && s_.rate_limit == 0) || in_networks(s_.exceptions, addr)) return a;
  if (clients_.size() >= prune_at_) prune(now);
  Entry& e = clients_[addr];
  if (s_.rate_limit > 0) {
    if (e.window_count == 0 || now - e.window_start >= s_.rate_unit) {
      e.window_start = now;
      e.window_count = 0;
    }
    ++e.window_count;
    if (e.window_count > s_.rate_limit) {
      a.verdict = Verdict::too_fast;
      a.count = e.window_count;
      return a;
    }
  }
  if (s_.count_limit > 0 && e.sessions >= s_.count_limit) {
    a.verdict = Verdict::too_many;
    a.count = e.sessions + 1;  // Postfix logs the count this one would have made
    return a;
  }
  ++e.sessions;
  a.slot = Slot(this, addr);
  return a;
}

std::size_t ClientLimits::sessions(const std::string& addr) const {
  auto it = clients_.find(addr);
  return it == clients_.end() ? 0 : it->second.sessions;
}

void ClientLimits::release(const std::string& addr) {
  auto it = clients_.find(addr);
  if (it == clients_.end() || it->second.sessions == 0) return;
  --it->second.sessions;
}

// Drops clients with no session whose rate window has ended; the next
// prune comes when the map has doubled from what is left, so the cost per
// admission stays constant.
void ClientLimits::prune(Clock::time_point now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    const Entry& e = it->second;
    const bool window_over = s_.rate_limit == 0 || now - e.window_start >= s_.rate_unit;
    if (e.sessions == 0 && window_over)
      it = clients_.erase(it);
    else
      ++it;
  }
  prune_at_ = std::max<std::size_t>(1024, 2 * clients_.size());
}

}  // namespace posthorn::smtpd
