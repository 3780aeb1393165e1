// lib/access/mailbox_location.h - where a user's mail lives, for the access
// agents (pop3d, imapd): the rules local delivery follows (local(8),
// virtual(8)), so that the agents read the mailbox delivery writes.
//
// A login is looked up as follows (domains compared case-insensitively, a
// trailing dot ignored):
//   "user@domain", domain in virtual_mailbox_domains: a virtual mailbox.
//     virtual_mailbox_maps gives the mailbox relative to
//     virtual_mailbox_base (Postfix's address search order: user+ext@domain,
//     user@domain, @domain; recipient_delimiter splits the extension); a
//     value ending in "/" is a Maildir. virtual_uid_maps/virtual_gid_maps
//     give the owner; a uid below virtual_minimum_uid is refused. With no
//     uid (gid) maps, the mailbox belongs to the process's own uid (gid),
//     which only makes sense when not root (instance mode): as root that is
//     a configuration error, as it is for local.
//   "user@domain", domain in mydestination: the system account "user".
//   "user": the system account "user" (getpwnam; the name folded to lower
//     case as local folds local parts). Its mailbox: home_mailbox under
//     the home directory when set, else mail_spool_directory/user (a
//     directory ending in "/" holds Maildirs: mail_spool_directory/user/).
//   anything else: no mailbox.
// A relative mail_spool_directory or virtual_mailbox_base is taken from
// config_directory (instance mode keeps the mail store inside the instance),
// as local does.
//
// Errors: Errc::not_found (no such account or virtual mailbox, or a domain
// that is neither virtual nor local), Errc::invalid (a configuration error:
// a bad path or number in a table, virtual_mailbox_base unset, a uid below
// virtual_minimum_uid; the detail says which), Errc::io (a table or the
// account database could not be read: try again later).
//
// The path rules themselves are system_mailbox_path() and
// virtual_mailbox_path(), which local delivery calls too, so the two cannot
// drift apart. XXX: the table lookups around them are not shared: local's
// TableList and DomainList (local/settings.h) carry delivery concerns (table
// owners for alias rights), so TableList and DomainList below repeat their
// lookup part; the search orders are lib/maps' in both.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/maps/table.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::access {

struct MailboxLocation {
  std::string path;        // the mailbox; a Maildir's path ends in "/"
  bool maildir = false;
  uid_t uid = 0;           // who owns it: whom an access agent becomes
  gid_t gid = 0;
  bool is_virtual = false;
  std::string account;     // the system account (empty for virtual mailboxes)
  std::string home;        // its home directory
};

// A mailbox path as the rules give it.
struct MailboxPath {
  std::string path;
  bool maildir = false;   // the path ends in "/"
  bool in_spool = false;  // in mail_spool_directory (mbox locking there needs care)
};

// A system account's mailbox: `home`/home_mailbox when home_mailbox is set,
// else in mail_spool_directory: SPOOL/user, or SPOOL user/ (a Maildir) when
// SPOOL ends in "/". nullopt when both settings are empty.
std::optional<MailboxPath> system_mailbox_path(const std::string& home_mailbox,
                                               const std::string& mail_spool_directory,
                                               const std::string& user, const std::string& home);

// A virtual mailbox: virtual_mailbox_base/value (value trimmed; ending in
// "/": a Maildir). nullopt for a value that is empty, absolute or has a ".."
// level: it would reach outside the base.
std::optional<MailboxPath> virtual_mailbox_path(const std::string& virtual_mailbox_base,
                                                std::string_view value);

struct LocationSettings {
  std::string home_mailbox;
  std::string mail_spool_directory;
  std::string virtual_mailbox_base;
  long long virtual_minimum_uid = 100;
  std::string recipient_delimiter;

  static LocationSettings from_config(const config::Config& cfg);
};

// Tables searched in order; one that could not be opened is kept (and
// logged once) so that every lookup that reaches it fails with Errc::io,
// as local defers such mail instead of guessing.
class TableList {
 public:
  TableList() = default;
  TableList(std::string param, const std::vector<std::string>& specs);
  bool empty() const { return entries_.empty(); }
  const std::string& param() const { return param_; }
  // The value of the first table that has the key (a fixed key, or an
  // address in Postfix's search order).
  Result<std::optional<std::string>> lookup(std::string_view key) const;
  Result<std::optional<std::string>> lookup_address(std::string_view address,
                                                    std::string_view delimiter) const;

 private:
  struct Entry {
    std::string spec;
    std::unique_ptr<maps::Table> table;  // null: could not be opened
    std::string error;
  };
  std::string param_;
  std::vector<Entry> entries_;
};

// A domain list (mydestination, virtual_mailbox_domains): literal names and
// type:name tables in which the domain is looked up.
class DomainList {
 public:
  DomainList() = default;
  DomainList(std::string param, const std::vector<std::string>& entries);
  Result<bool> contains(std::string_view domain) const;

 private:
  std::set<std::string, std::less<>> literals_;
  TableList tables_;
};

class MailboxLocator {
 public:
  // Reads the settings and opens the tables of `cfg`: virtual_mailbox_maps,
  // virtual_uid_maps, virtual_gid_maps, virtual_mailbox_domains,
  // mydestination. Never fails (see TableList).
  static MailboxLocator open(const config::Config& cfg);

  // The mailbox of `login` (above). `as_root`: the caller runs as root and
  // will switch to the owner, so a virtual mailbox needs uid/gid maps.
  Result<MailboxLocation> locate(std::string_view login, bool as_root) const;

  // The two cases on their own.
  Result<MailboxLocation> system_mailbox(std::string_view user) const;
  Result<MailboxLocation> virtual_mailbox(std::string_view address, bool as_root) const;

  const LocationSettings& settings() const { return s_; }

 private:
  Result<std::uint32_t> virtual_id(const TableList& maps, std::string_view address, bool as_root,
                                   std::uint32_t own) const;

  LocationSettings s_;
  TableList virtual_mailbox_, virtual_uid_, virtual_gid_;
  DomainList virtual_domains_, mydestination_;
};

}  // namespace posthorn::access
