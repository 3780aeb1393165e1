// local/outcome.cc - see outcome.h.
#include "local/outcome.h"

namespace posthorn::local {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::sent: return "sent";
    case Status::deferred: return "deferred";
    case Status::bounced: return "bounced";
  }
  return "deferred";
}

Outcome Outcome::sent(std::string text, std::string dsn) {
  return {Status::sent, std::move(dsn), std::move(text)};
}
Outcome Outcome::deferred(std::string dsn, std::string text) {
  return {Status::deferred, std::move(dsn), std::move(text)};
}
Outcome Outcome::bounced(std::string dsn, std::string text) {
  return {Status::bounced, std::move(dsn), std::move(text)};
}

Outcome combine(const std::vector<Outcome>& parts) {
  if (parts.empty()) return Outcome::deferred("4.3.0", "internal error: nothing was delivered");
  for (const Outcome& o : parts)
    if (o.status == Status::deferred) return o;
  for (const Outcome& o : parts)
    if (o.status == Status::bounced) return o;
  if (parts.size() == 1) return parts.front();
  std::string text;
  for (const Outcome& o : parts) {
    if (!text.empty()) text += "; ";
    text += o.text;
  }
  return Outcome::sent(std::move(text), parts.front().dsn);
}

Outcome soften(Outcome o) {
  if (o.status != Status::bounced) return o;
  o.status = Status::deferred;
  if (!o.dsn.empty() && o.dsn[0] == '5') o.dsn[0] = '4';
  return o;
}

}  // namespace posthorn::local
