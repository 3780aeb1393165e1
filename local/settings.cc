// local/settings.cc - see settings.h.
#include "local/settings.h"

#include <sys/stat.h>

#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/log/log.h"
#include "local/local_expand.h"

namespace posthorn::local {

namespace {

std::set<Source> sources(const std::vector<std::string>& words) {
  std::set<Source> out;
  for (const std::string& w : words) {
    if (iequals(w, "alias")) out.insert(Source::alias);
    else if (iequals(w, "forward")) out.insert(Source::forward);
    else if (iequals(w, "include")) out.insert(Source::include);
  }
  return out;
}

bool has_word(const std::vector<std::string>& words, std::string_view w) {
  for (const std::string& x : words)
    if (iequals(x, w)) return true;
  return false;
}

LockPolicy locks(const config::Config& cfg, std::string_view param) {
  LockPolicy base;
  base.attempts = static_cast<int>(cfg.get_int("deliver_lock_attempts"));
  base.delay = std::chrono::seconds(cfg.get_time("deliver_lock_delay"));
  base.stale = std::chrono::seconds(cfg.get_time("stale_lock_time"));
  auto p = parse_lock_list(cfg.get_list(param), base);
  if (!p) throw std::runtime_error(cat(param, ": ", p.error().detail));
  return *p;
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

// A directory parameter; a relative one is taken from config_directory, so
// that an instance keeps its mail store inside its folder. A trailing '/'
// (Maildir) is kept.
std::string instance_path(const config::Config& cfg, std::string_view name) {
  std::string v = cfg.get(name);
  if (v.empty() || v.front() == '/') return v;
  return cat(cfg.config_directory().string(), "/", v);
}

}  // namespace

Settings Settings::from_config(const config::Config& cfg, std::string_view service) {
  Settings s;
  s.service = std::string(service);
  s.myhostname = cfg.get("myhostname");
  s.myorigin = cfg.get("myorigin");
  s.recipient_delimiter = cfg.get("recipient_delimiter");
  s.owner_request_special = cfg.get_bool("owner_request_special");
  s.commands_allowed = sources(cfg.get_list("allow_mail_to_commands"));
  s.files_allowed = sources(cfg.get_list("allow_mail_to_files"));
  s.propagate_extension = sources(cfg.get_list("propagate_unmatched_extensions"));
  s.duplicate_filter_limit = static_cast<std::size_t>(cfg.get_int("duplicate_filter_limit"));
  s.forward_path = cfg.get_list("forward_path");
  s.forward_filter = cfg.get("forward_expansion_filter");
  s.command_filter = cfg.get("command_expansion_filter");
  s.home_mailbox = cfg.get("home_mailbox");
  s.mail_spool_directory = instance_path(cfg, "mail_spool_directory");
  s.mailbox_command = cfg.get("mailbox_command");
  s.luser_relay = cfg.get("luser_relay");
  s.mailbox_size_limit = static_cast<std::uint64_t>(cfg.get_size("mailbox_size_limit"));
  s.mailbox_lock = locks(cfg, "mailbox_delivery_lock");
  s.local_command_shell = cfg.get("local_command_shell");
  s.command_time_limit = std::chrono::seconds(cfg.get_time("command_time_limit"));
  s.default_privs = cfg.get("default_privs");
  auto prepend = cfg.get_list("prepend_delivered_header");
  s.delivered_command = has_word(prepend, "command");
  s.delivered_file = has_word(prepend, "file");
  s.delivered_forward = has_word(prepend, "forward");
  s.virtual_mailbox_base = instance_path(cfg, "virtual_mailbox_base");
  s.virtual_minimum_uid = cfg.get_int("virtual_minimum_uid");
  s.virtual_mailbox_limit = static_cast<std::uint64_t>(cfg.get_size("virtual_mailbox_limit"));
  s.virtual_lock = locks(cfg, "virtual_mailbox_lock");
  s.soft_bounce = cfg.get_bool("soft_bounce");
  s.mail_owner = cfg.get("mail_owner");
  s.message_size_limit = static_cast<std::uint64_t>(cfg.get_size("message_size_limit"));

  if (s.mailbox_size_limit > 0 && s.mailbox_size_limit < s.message_size_limit)
    throw std::runtime_error("mailbox_size_limit is smaller than message_size_limit");
  if (s.virtual_mailbox_limit > 0 && s.virtual_mailbox_limit < s.message_size_limit)
    throw std::runtime_error("virtual_mailbox_limit is smaller than message_size_limit");
  for (const char* p : {"mailbox_transport", "fallback_transport"})
    if (!cfg.get(p).empty()) log::warn(p, " is not supported by this local; ignored");
  return s;
}

TableList open_table_list(std::string param, const std::vector<std::string>& specs) {
  TableList out;
  out.param = std::move(param);
  for (const std::string& spec : specs) {
    TableEntry e;
    e.spec = spec;
    if (auto t = maps::open_table(spec)) {
      e.table = std::move(*t);
    } else {
      e.error = t.error().detail;
      log::warn(out.param, ": ", spec, " is unavailable: ", e.error);
    }
    if (auto parsed = maps::parse_spec(spec)) {
      std::string file = maps::table_file(*parsed);
      struct stat st {};
      if (!file.empty() && ::stat(file.c_str(), &st) == 0) e.owner = st.st_uid;
    }
    out.entries.push_back(std::move(e));
  }
  return out;
}

namespace {

template <class Find>
Result<std::optional<TableHit>> search(const TableList& list, Find find) {
  for (std::size_t i = 0; i < list.entries.size(); ++i) {
    const TableEntry& e = list.entries[i];
    if (!e.table) return make_error(Errc::io, cat(list.param, ": ", e.spec, " is unavailable: ", e.error));
    auto hit = find(*e.table);
    if (!hit) return make_error(hit.error().code, cat(list.param, ": ", e.spec, ": ", hit.error().detail));
    if (*hit) {
      (*hit)->table = i;
      return hit;
    }
  }
  return std::optional<TableHit>();
}

}  // namespace

Result<std::optional<TableHit>> lookup_key(const TableList& list, std::string_view key) {
  return search(list, [&](const maps::Table& t) -> Result<std::optional<TableHit>> {
    auto r = t.lookup(key);
    if (!r) return std::move(r).error();
    if (!*r) return std::optional<TableHit>();
    return std::optional<TableHit>(TableHit{std::move(**r), 0, std::string(key), {}});
  });
}

Result<std::optional<TableHit>> lookup_address(const TableList& list, std::string_view address,
                                               const maps::AddressLookup& how) {
  return search(list, [&](const maps::Table& t) -> Result<std::optional<TableHit>> {
    auto r = maps::lookup_address(t, address, how);
    if (!r) return std::move(r).error();
    if (!*r) return std::optional<TableHit>();
    return std::optional<TableHit>(
        TableHit{std::move((*r)->value), 0, std::move((*r)->key), std::move((*r)->extension)});
  });
}

DomainList DomainList::open(std::string param, const std::vector<std::string>& entries) {
  DomainList d;
  d.param_ = param;
  std::vector<std::string> tables;
  for (const std::string& e : entries) {
    if (is_table(e)) tables.push_back(e);
    else d.literals_.insert(strip_dot(e));
  }
  d.tables_ = open_table_list(std::move(param), tables);
  return d;
}

Result<bool> DomainList::contains(std::string_view domain) const {
  std::string d = strip_dot(domain);
  if (d.empty()) return false;
  if (literals_.count(d)) return true;
  auto hit = lookup_key(tables_, d);
  if (!hit) return std::move(hit).error();
  return hit->has_value();
}

Tables Tables::open(const config::Config& cfg) {
  Tables t;
  t.aliases = open_table_list("alias_maps", cfg.get_list("alias_maps"));
  t.virtual_mailbox = open_table_list("virtual_mailbox_maps", cfg.get_list("virtual_mailbox_maps"));
  t.virtual_uid = open_table_list("virtual_uid_maps", cfg.get_list("virtual_uid_maps"));
  t.virtual_gid = open_table_list("virtual_gid_maps", cfg.get_list("virtual_gid_maps"));
  t.mydestination = DomainList::open("mydestination", cfg.get_list("mydestination"));
  t.virtual_domains =
      DomainList::open("virtual_mailbox_domains", cfg.get_list("virtual_mailbox_domains"));
  return t;
}

}  // namespace posthorn::local
