// smtpd/recipients.h - which recipients exist, for reject_unlisted_recipient
// and the relay checks (PolicyEnv::classify and unknown_recipient).
//
// Purpose:    answer "is this address a user here?" before 250, so that
//             mail for unknown users is refused in the SMTP dialogue rather
//             than bounced later (backscatter).
// Order (Postfix's): an address with a virtual alias (virtual_alias_maps,
//             in virtual(5)'s key order) exists whatever its class. Then by
//             class (lib/resolve classify_domain):
//               local            local_recipient_maps (empty: every user);
//                                the forms user+ext@domain, user@domain,
//                                user+ext, user, @domain, so that both
//                                unix:passwd.byname and alias tables answer;
//                                postmaster always exists (RFC 5321 4.5.1)
//               virtual alias    only virtual_alias_maps
//               virtual mailbox  virtual_mailbox_maps
//               relay            relay_recipient_maps (empty: every user)
//               other            not checked (relaying is decided elsewhere)
// Guarantees: tables are opened once; a table that could not be opened or
//             read gives an error (the check answers 451 4.3.0), never a
//             guess either way.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/maps/table.h"
#include "lib/resolve/resolve.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::smtpd {

class RecipientDirectory {
 public:
  // Opens the tables and the resolver (without transport_maps). Nothing
  // that cannot be opened stops the daemon: a resolver that cannot be made
  // (a domain list or virtual_alias_maps table that does not open) makes
  // every classify() an error, a recipient map every lookup in it; both
  // are in warnings(). Errors: none but an impossible override.
  static Result<RecipientDirectory> from_config(const config::Config& cfg);

  Result<resolve::AddressClass> classify(std::string_view domain) const;
  // nullopt: known; else "local recipient", "virtual alias", "virtual
  // mailbox", "relay recipient" (the table that lacks it).
  Result<std::optional<std::string>> unknown(std::string_view address, resolve::AddressClass cls) const;
  // The first recipient table whose file changed since it was opened, or "".
  std::string changed_table() const;
  // Warnings from opening (unavailable tables), for the log.
  const std::vector<std::string>& warnings() const { return warnings_; }

  struct Entry {
    std::string spec;
    std::unique_ptr<maps::Table> table;  // null: `error`
    std::string error;
  };
  struct List {
    std::string param;
    std::vector<Entry> entries;
  };

 private:
  Result<bool> found(const List& list, std::string_view address, bool local) const;

  std::shared_ptr<resolve::Resolver> resolver_;  // null: resolver_error_
  std::string resolver_error_;
  std::string delimiter_;
  List local_, virtual_alias_, virtual_mailbox_, relay_;
  std::vector<std::string> warnings_;
};

}  // namespace posthorn::smtpd
