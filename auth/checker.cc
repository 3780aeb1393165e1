// auth/checker.cc - see checker.h.
#include "auth/checker.h"

#include "lib/auth/password.h"
#include "lib/base/strings.h"

namespace posthorn::auth {

// --- FailureCount -------------------------------------------------------------

void FailureCount::expire(std::deque<Clock::time_point>& times, Clock::time_point now) const {
  while (!times.empty() && now - times.front() >= window_) times.pop_front();
}

bool FailureCount::refused(const std::string& client, Clock::time_point now) {
  auto it = by_client_.find(client);
  if (it == by_client_.end()) return false;
  expire(it->second, now);
  if (it->second.empty()) {
    by_client_.erase(it);
    return false;
  }
  return it->second.size() >= limit_;
}

void FailureCount::add(const std::string& client, Clock::time_point now) {
  auto it = by_client_.find(client);
  if (it == by_client_.end()) {
    if (by_client_.size() >= kMaxClients) forget_oldest();
    it = by_client_.emplace(client, std::deque<Clock::time_point>{}).first;
  }
  expire(it->second, now);
  it->second.push_back(now);
  // Only the newest `limit` failures can matter for refused().
  while (it->second.size() > limit_) it->second.pop_front();
}

// XXX: a linear scan; it runs only when kMaxClients addresses failed within
// the hour, which is an attack this table cannot stop anyway.
void FailureCount::forget_oldest() {
  auto oldest = by_client_.end();
  for (auto it = by_client_.begin(); it != by_client_.end(); ++it)
    if (oldest == by_client_.end() || it->second.back() < oldest->second.back()) oldest = it;
  if (oldest != by_client_.end()) by_client_.erase(oldest);
}

// --- Checker ------------------------------------------------------------------

Result<Checker> Checker::open(const std::vector<std::string>& specs, bool allow_plain,
                              std::size_t failure_limit) {
  Checker c(specs, allow_plain, failure_limit);
  for (const std::string& spec : specs) {
    auto t = maps::open_table(spec);
    if (!t) return make_error(t.error().code, cat("auth_password_maps: ", t.error().detail));
    c.tables_.push_back(std::move(*t));
  }
  return c;
}

Result<void> Checker::reopen_changed() {
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    if (!tables_[i]->changed()) continue;
    auto t = maps::open_table(specs_[i]);
    if (!t) return make_error(t.error().code, cat("auth_password_maps: ", t.error().detail));
    tables_[i] = std::move(*t);
  }
  return {};
}

Outcome Checker::check(const Check& req, Clock::time_point now) {
  const std::string client = req.client_addr.empty() ? "unknown" : req.client_addr;
  if (failures_.refused(client, now)) {
    Outcome o;
    o.failed = true;
    o.reason = "too many failures from this client in the last hour";
    return o;  // not counted again: the client is refused for as long as it keeps failing
  }
  Outcome o = verify(req, to_lower(req.login));
  if (o.failed) failures_.add(client, now);
  return o;
}

Outcome Checker::verify(const Check& req, const std::string& login) {
  Outcome o;
  o.failed = true;
  bool shape_ok = !login.empty() && login.size() <= kMaxLogin &&
                  req.password.size() <= kMaxPassword;
  for (char c : login)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) shape_ok = false;
  if (!shape_ok) {
    o.reason = "malformed login or password";
    return o;
  }
  for (const auto& table : tables_) {
    auto entry = table->lookup(login);
    if (!entry) {
      o.failed = false;
      o.reply.temporary = true;
      o.reason = "table lookup failed";
      o.table_warning = cat(table->spec(), ": ", entry.error().detail);
      return o;
    }
    if (!*entry) continue;
    Verdict v = verify_password(**entry, req.password, allow_plain_);
    switch (v.kind) {
      case Verdict::match:
        o.failed = false;
        o.reply.ok = true;
        o.reply.login = login;
        o.reason = "ok";
        return o;
      case Verdict::mismatch: o.reason = "wrong password"; return o;
      case Verdict::locked: o.reason = "account locked"; return o;
      case Verdict::unusable:
        o.reason = "unusable password entry";
        o.table_warning = cat(table->spec(), ": entry of ", printable(login), ": ", v.problem);
        return o;
    }
  }
  spend_check_time(req.password);
  o.reason = "unknown login";
  return o;
}

}  // namespace posthorn::auth
