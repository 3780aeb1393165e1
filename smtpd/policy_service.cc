// smtpd/policy_service.cc - see policy_service.h.
#include "smtpd/policy_service.h"

#include <stdexcept>

#include "lib/auth/client.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/dns/main_cf.h"
#include "lib/log/log.h"
#include "lib/queue/trigger.h"

namespace posthorn::smtpd {
namespace {

RecipientDirectory open_directory(const config::Config& cfg) {
  auto d = RecipientDirectory::from_config(cfg);
  if (!d) throw std::runtime_error(d.error().detail);
  for (const std::string& w : d->warnings()) log::warn(w);
  return std::move(*d);
}

Restrictions open_restrictions(const config::Config& cfg, std::vector<Network> mynetworks) {
  Restrictions r(RestrictionSettings::from_config(cfg, std::move(mynetworks)));
  for (const std::string& p : r.problems()) log::warn(p, " (such checks answer 451 4.3.5)");
  if (!r.relay_protected())
    throw std::runtime_error(
        "smtpd_relay_restrictions and smtpd_recipient_restrictions: specify at least one of "
        "reject_unauth_destination, defer_unauth_destination, reject, defer");
  return r;
}

}  // namespace

PolicyService::PolicyService(const config::Config& cfg, event::EventBase& loop,
                             std::vector<Network> mynetworks, std::string qmgr_socket)
    : loop_(loop),
      resolver_(loop.get(), dns::config_from_main_cf(cfg)),
      recipients_(open_directory(cfg)),
      restrictions_(open_restrictions(cfg, std::move(mynetworks))),
      qmgr_socket_(std::move(qmgr_socket)) {}

PolicyService::~PolicyService() = default;

std::string PolicyService::changed_table() const {
  std::string t = restrictions_.changed_table();
  return t.empty() ? recipients_.changed_table() : t;
}

dns::Lookup PolicyService::dns_query(std::string_view name, dns::RrType type,
                                     std::function<void(dns::Answer)> cb) {
  return resolver_.query(name, type, std::move(cb));
}

Result<resolve::AddressClass> PolicyService::classify(std::string_view domain) const {
  return recipients_.classify(domain);
}

Result<std::optional<std::string>> PolicyService::unknown_recipient(std::string_view address,
                                                                    resolve::AddressClass cls) const {
  return recipients_.unknown(address, cls);
}

SessionPolicy::SessionPolicy(PolicyService& service, Checked checked, Flushed flushed)
    : service_(service),
      checked_(std::move(checked)),
      flushed_(std::move(flushed)),
      fail_later_(service.loop(), [this] { this->flushed(false); }) {}

SessionPolicy::~SessionPolicy() = default;

std::optional<Verdict> SessionPolicy::check(const CheckRequest& req) {
  // The session asks again only after the previous answer, so the old
  // evaluation is done. It may still be on the stack (the session asks
  // from inside its callback), so it is retired, not destroyed, here.
  retired_ = std::move(eval_);
  eval_ = std::make_unique<Evaluation>(service_.restrictions(), *this, req);
  return eval_->run([this](Verdict v) { checked_(v); });
}

namespace {
std::string cache_key(std::string_view name, dns::RrType type) {
  return cat(to_lower(name), "|", static_cast<int>(type));
}
}  // namespace

dns::Lookup SessionPolicy::dns_query(std::string_view name, dns::RrType type,
                                     std::function<void(dns::Answer)> cb) {
  // The callback runs only while the evaluation that owns the Lookup, and
  // so this object, exists.
  return service_.dns_query(name, type, [this, key = cache_key(name, type), cb = std::move(cb)](dns::Answer a) {
    if (!dns::is_temporary(a.status) && cache_.size() < kMaxCached) cache_[key] = a;
    cb(std::move(a));
  });
}

const dns::Answer* SessionPolicy::cached(std::string_view name, dns::RrType type) const {
  auto it = cache_.find(cache_key(name, type));
  return it == cache_.end() ? nullptr : &it->second;
}

void SessionPolicy::flush(const std::string& domain) {
  auto fd = auth::connect_nonblocking(service_.qmgr_socket());
  if (!fd) {
    log::warn("ETRN ", domain, ": cannot reach qmgr: ", fd.error().detail);
    return fail_later_.start(std::chrono::milliseconds(0));
  }
  retired_qmgr_ = std::move(qmgr_);
  qmgr_ = std::make_unique<ipc::Client>(service_.loop(), std::move(*fd),
                                        ipc::ClientOptions{queue::kQmgrProtocol});
  queue::Flush req;
  req.domain = domain;
  qmgr_->request(req, std::chrono::seconds(10), [this, domain](Result<queue::Flushed> r) {
    if (!r) log::warn("ETRN ", domain, ": qmgr did not answer: ", r.error().detail);
    else log::info("ETRN ", domain, ": ", r->count, " deferred message", r->count == 1 ? "" : "s", " to retry");
    flushed(static_cast<bool>(r));
  });
}

void SessionPolicy::flushed(bool reached) {
  Flushed fn = flushed_;
  fn(reached);
}

}  // namespace posthorn::smtpd
