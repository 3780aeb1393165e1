// lib/maps/address_lookup.h - Postfix's search orders over a table: the key
// forms of an address (virtual(5) and access(5), "TABLE SEARCH ORDER") and
// the parent domains of a domain.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/maps/table.h"

namespace posthorn::maps {

struct AddressLookup {
  // recipient_delimiter: each character separates user from extension
  // ("+", or "+-"); the first one in the local part counts. "" = none.
  std::string recipient_delimiter;
  // Whether the bare user forms (user+ext, user) apply to this domain: they
  // stand for "user at any of my domains" (myorigin, mydestination, ...).
  // Unset: no domain is local; an address without a domain always is.
  std::function<bool(std::string_view domain)> is_local;
};

struct AddressMatch {
  std::string value;      // the table's result
  std::string key;        // the key form that matched, as looked up
  // The extension the matching form left out ("ext" for user@domain found
  // for user+ext@domain), so the caller can propagate it; "" otherwise.
  std::string extension;
};

// Looks up `address` (user[+ext]@domain or user[+ext]) in Postfix's order,
// first match wins:
//   user+ext@domain, user@domain, user+ext, user, @domain
// where the forms without an extension are tried only when the address has
// one, the bare user forms only for local domains (or no domain), and
// @domain only with a domain. Pattern tables (regexp, static) see the whole
// address only. The local part is split at the last '@'. Errors: those of
// Table::lookup (the first one ends the search).
Result<std::optional<AddressMatch>> lookup_address(const Table& table, std::string_view address,
                                                   const AddressLookup& how = {});

// The key forms lookup_address() tries for `address`, in order (exposed for
// tests and for `posthorn map query -a`-style diagnostics).
std::vector<std::string> address_keys(std::string_view address, const AddressLookup& how,
                                      bool pattern_table = false);

enum class ParentStyle {
  dot,   // ".example.com" matches its subdomains (Postfix's default)
  bare,  // "example.com" matches its subdomains (parent_domain_matches_subdomains)
};

struct DomainMatch {
  std::string value;
  std::string key;  // "mail.example.com", ".example.com" or "example.com"
};

// Looks up `domain`, then each parent in turn (closest first) in the form
// `style` names. Pattern tables see the domain only. Errors: Table::lookup's.
Result<std::optional<DomainMatch>> lookup_domain(const Table& table, std::string_view domain,
                                                 ParentStyle style = ParentStyle::dot);

}  // namespace posthorn::maps
