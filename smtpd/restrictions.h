// smtpd/restrictions.h - Postfix's SMTP access restriction lists: the
// engine that answers smtpd/policy.h's CheckRequest.
//
// Lists, in the order they are evaluated:
//   smtpd_client_restrictions, smtpd_helo_restrictions,
//   smtpd_sender_restrictions, smtpd_relay_restrictions,
//   smtpd_recipient_restrictions (and smtpd_etrn_restrictions for ETRN).
// smtpd_delay_reject = yes (default): the first three are evaluated at each
// RCPT TO, before the relay and recipient lists (and client and HELO before
// the ETRN list); = no: each at its own command (client at connect, HELO at
// HELO/EHLO, sender at MAIL FROM).
// In one list the first restriction that permits or refuses decides that
// list; a refusal in any list refuses the command; a permit only ends its
// list, so relay and recipient lists must both pass. After both,
// smtpd_reject_unlisted_recipient = yes applies reject_unlisted_recipient
// (unless a list already did).
//
// Restrictions (Postfix's names, replies and reply-code parameters):
//   permit reject defer dunno (warn_if_reject and the like are not known)
//   permit_mynetworks permit_sasl_authenticated
//   permit_auth_destination reject_unauth_destination defer_unauth_destination
//   reject_unlisted_recipient reject_unlisted_sender
//   reject_non_fqdn_sender reject_non_fqdn_recipient reject_non_fqdn_helo_hostname
//   reject_invalid_helo_hostname
//   reject_unknown_sender_domain reject_unknown_recipient_domain  (DNS)
//   reject_unknown_client_hostname reject_unknown_reverse_client_hostname
//   reject_rbl_client domain[=d.d.d.d]                            (DNS)
//   check_client_access check_helo_access check_sender_access
//   check_recipient_access  type:table (access(5), see access_keys.h)
// Refusals: a name that is unknown, misses its argument or names a table that
// cannot be opened is a configuration error: logged with the parameter's
// name (once per process) and answered 451 4.3.5 "Server configuration
// error" when a check reaches it, as Postfix does; the daemon keeps serving.
// Deviations: a DNS failure of reject_unknown_*_domain defers at once (450
// 4.1.8) instead of Postfix's defer_if_permit; reject_rbl_client does not add
// the list's TXT record to the reply; temporary RBL failures are ignored (as
// Postfix).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/dns/async_resolver.h"
#include "lib/maps/table.h"
#include "lib/resolve/resolve.h"
#include "smtpd/networks.h"
#include "smtpd/policy.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::smtpd {

// What the restrictions look up, behind an interface so that tests give
// fakes (no sockets, no files).
class PolicyEnv {
 public:
  virtual ~PolicyEnv() = default;
  // A DNS lookup; `cb` runs later from the loop unless the Lookup is
  // dropped first (dns::AsyncResolver's contract).
  virtual dns::Lookup dns_query(std::string_view name, dns::RrType type,
                                std::function<void(dns::Answer)> cb) = 0;
  // A final answer already known for (name, type) - the session's cache
  // (RBL and domain lookups repeat at every RCPT) - or null: ask.
  virtual const dns::Answer* cached(std::string_view name, dns::RrType type) const {
    (void)name;
    (void)type;
    return nullptr;
  }
  // The address class of a recipient domain (resolve::Resolver).
  virtual Result<resolve::AddressClass> classify(std::string_view domain) const = 0;
  // Whether `address` (external form) is a known recipient of its class:
  // nullopt = known (or not checked for that class), else the table that
  // lacks it: "local recipient", "virtual alias", "virtual mailbox", "relay
  // recipient". Errors: a table could not be read (temporary).
  virtual Result<std::optional<std::string>> unknown_recipient(std::string_view address,
                                                               resolve::AddressClass cls) const = 0;
};

enum class ListId { client, helo, sender, relay, recipient, etrn };
inline constexpr std::size_t kListCount = 6;
std::string_view list_param(ListId id);  // "smtpd_client_restrictions", ...

struct ReplyCodes {  // the *_reject_code parameters
  int reject = 554, defer = 450, access_reject = 554, access_defer = 450;
  int relay = 554, non_fqdn = 504, invalid_hostname = 501, unknown_address = 450;
  int unknown_client = 450, rbl = 554;
  int unknown_local = 550, unknown_virtual_alias = 550, unknown_virtual_mailbox = 550;
  int unknown_relay = 550, nullmx = 556;
};

struct RestrictionSettings {
  std::array<std::vector<std::string>, kListCount> lists;  // words, as main.cf gives them
  bool delay_reject = true;
  bool reject_unlisted_recipient = true;  // smtpd_reject_unlisted_recipient
  std::vector<Network> mynetworks;
  std::string recipient_delimiter;
  bool parent_matches_subdomains = false;  // smtpd_access_maps in parent_domain_matches_subdomains
  std::string null_access_key = "<>";      // smtpd_null_access_lookup_key
  ReplyCodes codes;
  static RestrictionSettings from_config(const config::Config& cfg, std::vector<Network> mynetworks);
};

class Restrictions {
 public:
  // Parses the lists and opens their tables. Never fails: errors are kept
  // per restriction (see Refusals) and returned by problems(), for the log.
  explicit Restrictions(RestrictionSettings s);
  ~Restrictions();
  Restrictions(Restrictions&&) noexcept;

  // "smtpd_recipient_restrictions: unknown restriction \"foo\"", one each.
  const std::vector<std::string>& problems() const { return problems_; }
  // True when relay or recipient list holds a restriction that refuses
  // mail for other destinations (reject_unauth_destination,
  // defer_unauth_destination, reject, defer); Postfix refuses to start
  // without one, so that no configuration is an open relay by accident.
  bool relay_protected() const;
  const RestrictionSettings& settings() const { return s_; }
  // The first table whose file changed since it was opened ("type:name"),
  // or "": the daemon then retires after its sessions (as Postfix's
  // processes restart), so new contents are used by the next process.
  std::string changed_table() const;

  struct Item;  // one parsed restriction (restrictions.cc)

 private:
  friend class Evaluation;
  RestrictionSettings s_;
  std::array<std::vector<Item>, kListCount> lists_;
  std::vector<std::unique_ptr<maps::Table>> tables_;
  std::vector<std::string> problems_;
};

// One check in progress: walks the lists that apply to the request, waits
// for DNS where a restriction needs it. The Restrictions and env must
// outlive it; destroying it cancels its lookup.
class Evaluation {
 public:
  using Done = std::function<void(Verdict)>;
  Evaluation(const Restrictions& r, PolicyEnv& env, CheckRequest req);
  ~Evaluation();
  // Evaluates up to the first DNS wait. A verdict: done (`done` is never
  // called). nullopt: `done` is called once, later, from a DNS callback.
  std::optional<Verdict> run(Done done);

 private:
  enum class Outcome { dunno, permit, refuse, wait };
  std::optional<Verdict> step();
  Outcome apply(const Restrictions::Item& item);
  Outcome access(const Restrictions::Item& item);
  Outcome unauth_destination(const Restrictions::Item& item);
  Outcome unlisted(const std::string& address, bool sender);
  Outcome unknown_domain(const Restrictions::Item& item);
  Outcome domain_query(std::size_t i);
  Outcome domain_answer(std::size_t i, dns::Answer a);
  Outcome rbl(const Restrictions::Item& item);
  void resume(dns::Answer a);
  Outcome query(const std::string& name, dns::RrType type);  // after setting waiting_
  Outcome refuse(int code, std::string_view dsn, std::string text);
  Outcome refuse_class(int code, std::string_view dsn, std::string_view reason);
  Outcome config_error(const Restrictions::Item& item);
  std::string subject() const;       // "<rcpt>", "<helo>", "<name[addr]>" of the current list
  std::string_view what() const;     // "Recipient address rejected" ...

  const Restrictions& r_;
  PolicyEnv& env_;
  CheckRequest req_;
  std::vector<ListId> order_;  // the lists to walk
  std::size_t list_ = 0;       // index into order_
  std::size_t item_ = 0;       // index into the current list
  bool unlisted_done_ = false; // reject_unlisted_recipient already applied
  bool implicit_done_ = false;
  Verdict verdict_;
  Done done_;
  dns::Lookup lookup_;
  struct DomainCheck {
    std::string address, domain;
    bool sender = false;
  } domain_check_;
  // A DNS wait in progress: what to do with the answers.
  std::function<Outcome(dns::Answer)> waiting_;
};

}  // namespace posthorn::smtpd
