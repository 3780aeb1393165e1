// lib/access/mailbox_location.cc - see mailbox_location.h.
#include "lib/access/mailbox_location.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/log/log.h"
#include "lib/maps/address_lookup.h"

namespace posthorn::access {
namespace {

// A directory parameter; relative: from config_directory (a trailing '/'
// is kept, it means Maildir).
std::string instance_path(const config::Config& cfg, std::string_view name) {
  std::string v = cfg.get(name);
  if (v.empty() || v.front() == '/') return v;
  return cat(cfg.config_directory().string(), "/", v);
}

std::string strip_dot(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return to_lower(d);
}

// "type:name" with a known table type (a domain never has a colon).
bool is_table(std::string_view entry) {
  auto spec = maps::parse_spec(entry);
  if (!spec) return false;
  for (const std::string& t : maps::known_types())
    if (t == spec->type) return true;
  return spec->type == "hash" || spec->type == "btree";  // named, even in builds without them
}

bool has_dotdot(std::string_view path) {
  for (const std::string& part : split(path, '/'))
    if (part == "..") return true;
  return false;
}

struct Account {
  std::string name, home;
  uid_t uid = 0;
  gid_t gid = 0;
};

// getpwnam_r: nullopt when there is no such account.
Result<std::optional<Account>> find_account(const std::string& name) {
  std::vector<char> buf(4096);
  for (;;) {
    passwd pw{};
    passwd* found = nullptr;
    int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 4);
      continue;
    }
    // ENOENT, ESRCH, EBADF, EPERM: glibc's ways of saying "no such user".
    if (rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) return std::optional<Account>();
    if (rc != 0) return sys_error(cat("look up user ", name), rc);
    if (!found) return std::optional<Account>();
    return std::optional<Account>(Account{found->pw_name, found->pw_dir, found->pw_uid, found->pw_gid});
  }
}

Error config_error(std::string detail) { return make_error(Errc::invalid, std::move(detail)); }

}  // namespace

std::optional<MailboxPath> system_mailbox_path(const std::string& home_mailbox,
                                               const std::string& spool, const std::string& user,
                                               const std::string& home) {
  MailboxPath out;
  if (!home_mailbox.empty()) {
    out.path = cat(home, "/", home_mailbox);
  } else if (!spool.empty()) {
    out.path = spool.back() == '/' ? cat(spool, user, "/") : cat(spool, "/", user);
    out.in_spool = true;
  } else {
    return std::nullopt;
  }
  out.maildir = out.path.back() == '/';
  return out;
}

std::optional<MailboxPath> virtual_mailbox_path(const std::string& base, std::string_view value) {
  std::string rel(trim(value));
  if (rel.empty() || rel.front() == '/' || has_dotdot(rel)) return std::nullopt;
  MailboxPath out;
  out.path = cat(base, "/", rel);
  out.maildir = out.path.back() == '/';
  return out;
}

LocationSettings LocationSettings::from_config(const config::Config& cfg) {
  LocationSettings s;
  s.home_mailbox = cfg.get("home_mailbox");
  s.mail_spool_directory = instance_path(cfg, "mail_spool_directory");
  s.virtual_mailbox_base = instance_path(cfg, "virtual_mailbox_base");
  s.virtual_minimum_uid = cfg.get_int("virtual_minimum_uid");
  s.recipient_delimiter = cfg.get("recipient_delimiter");
  return s;
}

// --- tables -----------------------------------------------------------------

TableList::TableList(std::string param, const std::vector<std::string>& specs)
    : param_(std::move(param)) {
  for (const std::string& spec : specs) {
    Entry e;
    e.spec = spec;
    if (auto t = maps::open_table(spec)) {
      e.table = std::move(*t);
    } else {
      e.error = t.error().detail;
      log::warn(param_, ": ", spec, " is unavailable: ", e.error);
    }
    entries_.push_back(std::move(e));
  }
}

Result<std::optional<std::string>> TableList::lookup(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (!e.table) return make_error(Errc::io, cat(param_, ": ", e.spec, " is unavailable: ", e.error));
    auto r = e.table->lookup(key);
    if (!r) return make_error(Errc::io, cat(param_, ": ", e.spec, ": ", r.error().detail));
    if (*r) return r;
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> TableList::lookup_address(std::string_view address,
                                                             std::string_view delimiter) const {
  maps::AddressLookup how;
  how.recipient_delimiter = std::string(delimiter);
  for (const Entry& e : entries_) {
    if (!e.table) return make_error(Errc::io, cat(param_, ": ", e.spec, " is unavailable: ", e.error));
    auto r = maps::lookup_address(*e.table, address, how);
    if (!r) return make_error(Errc::io, cat(param_, ": ", e.spec, ": ", r.error().detail));
    if (*r) return std::optional<std::string>(std::move((*r)->value));
  }
  return std::optional<std::string>();
}

DomainList::DomainList(std::string param, const std::vector<std::string>& entries) {
  std::vector<std::string> tables;
  for (const std::string& e : entries) {
    if (is_table(e)) tables.push_back(e);
    else literals_.insert(strip_dot(e));
  }
  tables_ = TableList(std::move(param), tables);
}

Result<bool> DomainList::contains(std::string_view domain) const {
  std::string d = strip_dot(domain);
  if (d.empty()) return false;
  if (literals_.count(d)) return true;
  auto hit = tables_.lookup(d);
  if (!hit) return std::move(hit).error();
  return hit->has_value();
}

// --- the locator --------------------------------------------------------------

MailboxLocator MailboxLocator::open(const config::Config& cfg) {
  MailboxLocator l;
  l.s_ = LocationSettings::from_config(cfg);
  l.virtual_mailbox_ = TableList("virtual_mailbox_maps", cfg.get_list("virtual_mailbox_maps"));
  l.virtual_uid_ = TableList("virtual_uid_maps", cfg.get_list("virtual_uid_maps"));
  l.virtual_gid_ = TableList("virtual_gid_maps", cfg.get_list("virtual_gid_maps"));
  l.virtual_domains_ = DomainList("virtual_mailbox_domains", cfg.get_list("virtual_mailbox_domains"));
  l.mydestination_ = DomainList("mydestination", cfg.get_list("mydestination"));
  return l;
}

Result<MailboxLocation> MailboxLocator::locate(std::string_view login, bool as_root) const {
  std::size_t at = login.rfind('@');
  if (at == std::string_view::npos) return system_mailbox(login);
  std::string_view local = login.substr(0, at), domain = login.substr(at + 1);
  if (local.empty() || domain.empty())
    return make_error(Errc::not_found, cat("no mailbox for \"", printable(login), "\""));
  auto v = virtual_domains_.contains(domain);
  if (!v) return std::move(v).error();
  if (*v) return virtual_mailbox(login, as_root);
  auto l = mydestination_.contains(domain);
  if (!l) return std::move(l).error();
  if (*l) return system_mailbox(local);
  return make_error(Errc::not_found, cat("domain of \"", printable(login), "\" is neither local nor virtual"));
}

Result<MailboxLocation> MailboxLocator::system_mailbox(std::string_view user) const {
  std::string name = to_lower(user);
  if (name.empty() || name.find('/') != std::string::npos)
    return make_error(Errc::not_found, cat("no account \"", printable(user), "\""));
  auto a = find_account(name);
  if (!a) return std::move(a).error();
  if (!*a) return make_error(Errc::not_found, cat("no account \"", printable(name), "\""));
  auto box = system_mailbox_path(s_.home_mailbox, s_.mail_spool_directory, (*a)->name, (*a)->home);
  if (!box) return config_error("mail_spool_directory and home_mailbox are both empty");
  MailboxLocation out;
  out.path = std::move(box->path);
  out.maildir = box->maildir;
  out.account = (*a)->name;
  out.home = (*a)->home;
  out.uid = (*a)->uid;
  out.gid = (*a)->gid;
  return out;
}

Result<std::uint32_t> MailboxLocator::virtual_id(const TableList& maps, std::string_view address,
                                                 bool as_root, std::uint32_t own) const {
  if (maps.empty()) {
    if (!as_root) return own;
    return config_error(cat(maps.param(), " is not set; no owner for ", printable(address)));
  }
  auto hit = maps.lookup_address(address, s_.recipient_delimiter);
  if (!hit) return std::move(hit).error();
  unsigned long long n = 0;
  if (!*hit || !parse_uint(trim(**hit), n) || n > 0x7fffffffULL)
    return config_error(cat("no valid number in ", maps.param(), " for ", printable(address)));
  return static_cast<std::uint32_t>(n);
}

Result<MailboxLocation> MailboxLocator::virtual_mailbox(std::string_view address, bool as_root) const {
  auto hit = virtual_mailbox_.lookup_address(address, s_.recipient_delimiter);
  if (!hit) return std::move(hit).error();
  if (!*hit) return make_error(Errc::not_found, cat("no virtual mailbox for \"", printable(address), "\""));
  auto uid = virtual_id(virtual_uid_, address, as_root, ::getuid());
  if (!uid) return std::move(uid).error();
  auto gid = virtual_id(virtual_gid_, address, as_root, ::getgid());
  if (!gid) return std::move(gid).error();
  if (!virtual_uid_.empty() && *uid < s_.virtual_minimum_uid)
    return config_error(cat("uid ", *uid, " of ", printable(address),
                            " in virtual_uid_maps is below virtual_minimum_uid"));
  if (s_.virtual_mailbox_base.empty()) return config_error("virtual_mailbox_base is not set");
  auto box = virtual_mailbox_path(s_.virtual_mailbox_base, **hit);
  if (!box)
    return config_error(cat("bad mailbox path \"", printable(trim(**hit)),
                            "\" in virtual_mailbox_maps for ", printable(address)));
  MailboxLocation out;
  out.path = std::move(box->path);
  out.maildir = box->maildir;
  out.uid = static_cast<uid_t>(*uid);
  out.gid = static_cast<gid_t>(*gid);
  out.is_virtual = true;
  return out;
}

}  // namespace posthorn::access
