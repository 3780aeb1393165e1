// local/settings.h - local's typed, read-only view of main.cf, and the
// lookup tables it uses, built once after start-up (STYLE.md section 2).
//
// Start-up refuses (std::runtime_error, which the skeleton logs as fatal):
// an unknown lock type and, as Postfix's local(8) and virtual(8),
// a mailbox_size_limit or virtual_mailbox_limit smaller than
// message_size_limit (mail would be delivered again and again, each time
// cut off). mailbox_transport and fallback_transport are not implemented:
// a setting is logged as a warning and ignored. A relative
// mail_spool_directory or virtual_mailbox_base is taken from
// config_directory (instance mode: the mail store inside the instance).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/maps/address_lookup.h"
#include "lib/maps/table.h"
#include "local/destinations.h"
#include "local/mbox.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::local {

struct Settings {
  std::string myhostname;
  std::string myorigin;
  std::string recipient_delimiter;
  std::string service;  // master.cf service name this process serves ("local", "virtual")

  // Local recipients.
  bool owner_request_special = true;
  std::set<Source> commands_allowed;   // allow_mail_to_commands
  std::set<Source> files_allowed;      // allow_mail_to_files
  std::set<Source> propagate_extension;  // propagate_unmatched_extensions: alias, forward, include
  std::size_t duplicate_filter_limit = 1000;
  std::vector<std::string> forward_path;  // unexpanded entries
  std::string forward_filter;
  std::string command_filter;
  std::string home_mailbox;
  std::string mail_spool_directory;
  std::string mailbox_command;
  std::string luser_relay;
  std::uint64_t mailbox_size_limit = 0;
  LockPolicy mailbox_lock;
  std::string local_command_shell;
  std::chrono::seconds command_time_limit{1000};
  std::string default_privs;
  bool delivered_command = true, delivered_file = true, delivered_forward = true;

  // Virtual mailboxes.
  std::string virtual_mailbox_base;
  long long virtual_minimum_uid = 100;
  std::uint64_t virtual_mailbox_limit = 0;
  LockPolicy virtual_lock;

  // Everything else.
  bool soft_bounce = false;
  std::string mail_owner;
  std::uint64_t message_size_limit = 0;

  static Settings from_config(const config::Config& cfg, std::string_view service);
};

// A list of tables searched in order (alias_maps, virtual_mailbox_maps, ...).
// A table that cannot be opened at start-up does not stop local (Postfix's
// behaviour: a missing /etc/aliases.db must not stop every delivery): it is
// logged, and every lookup that reaches it fails, so the recipients that
// need it are deferred until it is fixed.
struct TableEntry {
  std::string spec;
  std::unique_ptr<maps::Table> table;  // null: could not be opened
  std::string error;                   // why not
  std::optional<uid_t> owner;          // the owner of the table's file, if it has one
};

struct TableList {
  std::string param;  // the parameter that names them, for messages
  std::vector<TableEntry> entries;
  bool empty() const { return entries.empty(); }
};

// A match: the value, which table (index into entries) and which key form.
struct TableHit {
  std::string value;
  std::size_t table = 0;
  std::string key;
  std::string extension;  // address lookups: the extension the key left out
};

// Looks a fixed key up in each table in turn; the first match wins. Errors:
// a table that failed (or could not be opened) before any match.
Result<std::optional<TableHit>> lookup_key(const TableList& list, std::string_view key);
// The same with Postfix's address search order (lib/maps/address_lookup.h).
Result<std::optional<TableHit>> lookup_address(const TableList& list, std::string_view address,
                                               const maps::AddressLookup& how);

// A domain list as Postfix reads one (mydestination, virtual_mailbox_domains):
// literal domains, and type:name tables in which the domain is looked up.
class DomainList {
 public:
  // A table that cannot be opened is kept as unavailable (logged), as in
  // TableList.
  static DomainList open(std::string param, const std::vector<std::string>& entries);
  // Case-insensitive, a trailing dot ignored. Literal domains are compared
  // first; then each table in turn. Errors: a table lookup failed or the
  // table is unavailable.
  Result<bool> contains(std::string_view domain) const;
  bool empty() const { return literals_.empty() && tables_.empty(); }
  const std::string& param() const { return param_; }

 private:
  std::string param_;
  std::set<std::string, std::less<>> literals_;
  TableList tables_;
};

struct Tables {
  TableList aliases;           // alias_maps
  TableList virtual_mailbox;   // virtual_mailbox_maps
  TableList virtual_uid;       // virtual_uid_maps
  TableList virtual_gid;       // virtual_gid_maps
  DomainList mydestination;
  DomainList virtual_domains;  // virtual_mailbox_domains

  // Opens every table main.cf names (never fails: see TableList).
  static Tables open(const config::Config& cfg);
};

// Opens the tables of a table_list value; failures are kept in the entries
// and logged as warnings.
TableList open_table_list(std::string param, const std::vector<std::string>& specs);

}  // namespace posthorn::local
