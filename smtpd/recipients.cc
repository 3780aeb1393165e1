// smtpd/recipients.cc - see recipients.h.
#include "smtpd/recipients.h"

#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/maps/address_lookup.h"

namespace posthorn::smtpd {
namespace {

RecipientDirectory::List open_list(const config::Config& cfg, const char* param,
                                   std::vector<std::string>& warnings) {
  RecipientDirectory::List l;
  l.param = param;
  for (const std::string& spec : cfg.get_list(param)) {
    RecipientDirectory::Entry e;
    e.spec = spec;
    if (auto t = maps::open_table(spec)) {
      e.table = std::move(*t);
    } else {
      e.error = t.error().detail;
      warnings.push_back(cat(param, ": ", spec, " is unavailable: ", e.error));
    }
    l.entries.push_back(std::move(e));
  }
  return l;
}

}  // namespace

Result<RecipientDirectory> RecipientDirectory::from_config(const config::Config& cfg) {
  RecipientDirectory d;
  // Only the address classes are asked for: transport_maps (which smtpd may
  // not even be allowed to read) stay closed.
  auto classes = cfg.with_overrides({{"transport_maps", ""}});
  if (!classes) return std::move(classes).error();
  if (auto r = resolve::Resolver::from_config(*classes)) {
    d.resolver_ = std::make_shared<resolve::Resolver>(std::move(*r));
  } else {
    d.resolver_error_ = r.error().detail;
    d.warnings_.push_back(cat("address classes are unavailable (checks answer 451): ", d.resolver_error_));
  }
  d.delimiter_ = cfg.get("recipient_delimiter");
  d.local_ = open_list(cfg, "local_recipient_maps", d.warnings_);
  d.virtual_alias_ = open_list(cfg, "virtual_alias_maps", d.warnings_);
  d.virtual_mailbox_ = open_list(cfg, "virtual_mailbox_maps", d.warnings_);
  d.relay_ = open_list(cfg, "relay_recipient_maps", d.warnings_);
  return d;
}

std::string RecipientDirectory::changed_table() const {
  for (const List* l : {&local_, &virtual_alias_, &virtual_mailbox_, &relay_})
    for (const Entry& e : l->entries)
      if (e.table && e.table->changed()) return e.spec;
  return "";
}

Result<resolve::AddressClass> RecipientDirectory::classify(std::string_view domain) const {
  if (!resolver_) return make_error(Errc::io, resolver_error_);
  return resolver_->classify_domain(domain);
}

// The address in any table of the list, in virtual(5)'s key order; the bare
// user forms ("user+ext", "user") only when `local` (they stand for the user
// in the local domains).
Result<bool> RecipientDirectory::found(const List& list, std::string_view address, bool local) const {
  maps::AddressLookup how;
  how.recipient_delimiter = delimiter_;
  how.is_local = [local](std::string_view) { return local; };
  for (const Entry& e : list.entries) {
    if (!e.table) return make_error(Errc::io, cat(list.param, ": ", e.spec, " is unavailable: ", e.error));
    auto hit = maps::lookup_address(*e.table, address, how);
    if (!hit) return make_error(hit.error().code, cat(list.param, ": ", e.spec, ": ", hit.error().detail));
    if (*hit) return true;
  }
  return false;
}

Result<std::optional<std::string>> RecipientDirectory::unknown(std::string_view address,
                                                              resolve::AddressClass cls) const {
  using C = resolve::AddressClass;
  using Missing = std::optional<std::string>;
  auto alias = found(virtual_alias_, address, cls == C::local);
  if (!alias) return std::move(alias).error();
  if (*alias) return Missing();
  const std::size_t at = address.rfind('@');
  const std::string_view local = address.substr(0, at);
  switch (cls) {
    case C::local: {
      if (iequals(local, "postmaster") || local_.entries.empty()) return Missing();
      auto f = found(local_, address, true);
      if (!f) return std::move(f).error();
      return *f ? Missing() : Missing("local recipient");
    }
    case C::virtual_alias: return Missing("virtual alias");
    case C::virtual_mailbox: {
      auto f = found(virtual_mailbox_, address, false);
      if (!f) return std::move(f).error();
      return *f ? Missing() : Missing("virtual mailbox");
    }
    case C::relay: {
      if (relay_.entries.empty()) return Missing();
      auto f = found(relay_, address, false);
      if (!f) return std::move(f).error();
      return *f ? Missing() : Missing("relay recipient");
    }
    case C::default_: return Missing();
  }
  return Missing();
}

}  // namespace posthorn::smtpd
