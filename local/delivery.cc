// local/delivery.cc - see delivery.h.
#include "local/delivery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "lib/access/mailbox_location.h"
#include "lib/address/address.h"
#include "lib/base/fd.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "local/command.h"
#include "local/content.h"
#include "local/destinations.h"
#include "local/forward_queue.h"
#include "local/local_expand.h"
#include "local/maildir.h"
#include "local/mbox.h"

namespace posthorn::local {

namespace {

constexpr int kMaxLevel = 100;                     // Postfix's alias nesting limit
constexpr std::size_t kMaxListFile = 1024 * 1024;  // .forward and :include: files

// One level of the recipient's resolution: the address being delivered to,
// and what the expansion that led here decided for the levels below.
struct Frame {
  std::string address;
  int level = 0;
  std::string sender;          // envelope sender of what this level forwards
  bool owner = false;          // sender is an owner- alias
  std::string exp_from;        // the alias or user whose expansion led here
  Source source = Source::alias;
  std::optional<Account> user; // whose rights commands and files use; none: default_privs
};

struct Expansion {
  std::vector<Outcome> parts;
  std::vector<std::string> addresses;
};

// Reads a .forward or :include: file: a regular file, at most kMaxListFile.
Result<std::string> read_list_file(const std::string& path, uid_t& owner) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return sys_error(cat("open ", path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error(cat("fstat ", path));
  if (!S_ISREG(st.st_mode)) return make_error(Errc::permission, cat(path, " is not a regular file"));
  if (static_cast<std::uint64_t>(st.st_size) > kMaxListFile)
    return make_error(Errc::too_large, cat(path, " is larger than ", kMaxListFile, " bytes"));
  owner = st.st_uid;
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(cat("read ", path));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

// A file problem in words for a reason text (the detail, with paths and
// errno, goes to the log).
std::string_view file_problem(Errc c) {
  switch (c) {
    case Errc::not_found: return "no such file";
    case Errc::permission: return "permission denied";
    case Errc::too_large: return "file too large";
    default: return "read error";
  }
}

class Delivery {
 public:
  Delivery(const Job& job, const deliver::Rcpt& rcpt)
      : job_(job), s_(job.settings), t_(job.tables), rcpt_(rcpt),
        original_(rcpt.original.empty() ? rcpt.address : rcpt.original) {}

  RecipientResult run() {
    if (rcpt_.address.empty()) return {Outcome::bounced("5.1.3", "bad address syntax"), "local"};
    Frame f;
    f.address = rcpt_.address;
    f.sender = job_.sender;
    virtual_ = job_.virtual_transport;
    if (!virtual_) {
      auto v = t_.virtual_domains.contains(split_address(rcpt_.address).domain);
      if (!v) return {table_failure(v.error(), "virtual_mailbox_domains"), "local"};
      virtual_ = *v;
    }
    Outcome o = recipient(f);
    return {std::move(o), virtual_ ? "virtual" : "local"};
  }

 private:
  // --- levels ---------------------------------------------------------------

  Outcome recipient(const Frame& f) {
    if (f.level > kMaxLevel)
      return Outcome::bounced("5.4.6", cat("alias database loop for ", f.exp_from));
    if (is_loop(job_.delivered_to, f.address))
      return Outcome::bounced("5.4.6", cat("mail forwarding loop for ", f.address));
    if (f.level == 0 && virtual_) return virtual_mailbox(f);
    return local_recipient(f);
  }

  Outcome local_recipient(const Frame& f) {
    AddressParts parts = split_address(f.address);
    if (!parts.local.empty() && parts.local.front() == '"') {  // decisions use the bare name
      address::Options o;
      o.smtputf8 = true;
      if (auto u = address::unquote_local(parts.local, o)) parts.local = *u;
    }
    const std::string local = to_lower(parts.local);
    address::LocalSplit split = address::split_extension(local, s_.recipient_delimiter);
    if (!iequals(f.exp_from, local)) {
      auto hit = lookup_key(t_.aliases, local);
      std::string dropped_ext;
      if (hit && !*hit && split.delimiter != '\0' && !iequals(f.exp_from, split.base)) {
        hit = lookup_key(t_.aliases, split.base);
        if (hit && *hit) dropped_ext = cat(split.delimiter, split.extension);
      }
      if (!hit) return table_failure(hit.error(), "alias database unavailable");
      if (*hit) return alias(f, **hit, dropped_ext);
    }
    auto account = find_account(split.base);
    if (!account) {
      log::warn("user lookup for ", printable(split.base), ": ", account.error().detail);
      return Outcome::deferred("4.3.0", "user lookup error");
    }
    if (!*account) return unknown(f, split, local);
    if (!iequals(f.exp_from, (*account)->name)) {
      if (auto fw = dot_forward(f, **account, split, local, parts.domain)) return std::move(*fw);
    }
    return mailbox(f, **account);
  }

  Outcome alias(const Frame& f, const TableHit& hit, const std::string& dropped_ext) {
    const std::string& name = hit.key;
    Frame child = next(f);
    child.exp_from = name;
    child.source = Source::alias;
    // Rights for commands and files: the table's owner; root (or a table
    // without a file) means default_privs.
    child.user.reset();
    const std::optional<uid_t>& owner = t_.aliases.entries[hit.table].owner;
    if (owner && *owner != 0) {
      auto a = find_account_by_uid(*owner);
      if (!a || !*a) {
        log::warn("cannot find the owner (uid ", *owner, ") of ", t_.aliases.entries[hit.table].spec);
        return Outcome::deferred("4.3.0", "cannot find alias database owner");
      }
      child.user = **a;
    }
    if (s_.owner_request_special && !istarts_with(name, "owner-")) {
      auto own = lookup_key(t_.aliases, "owner-" + name);
      if (!own) return table_failure(own.error(), "alias database unavailable");
      if (*own) {
        child.sender = cat("owner-", name, "@", s_.myorigin);
        child.owner = true;
      }
    }
    auto dests = parse_destinations(hit.value);
    if (!dests || dests->empty()) {
      log::warn("alias ", printable(name), ": ",
                dests ? std::string("no recipient in the alias value") : dests.error().detail);
      return Outcome::deferred("4.3.0", "alias database unavailable");
    }
    if (!dropped_ext.empty() && s_.propagate_extension.count(Source::alias)) add_extension(*dests, dropped_ext);
    return expand(child, *dests);
  }

  std::optional<Outcome> dot_forward(const Frame& f, const Account& a,
                                     const address::LocalSplit& split, const std::string& local,
                                     const std::string& domain) {
    Attributes attrs = attributes(f, a, split, local, domain);
    std::vector<std::string> errors;
    std::vector<std::string> paths = forward_paths(s_.forward_path, attrs, s_.forward_filter, &errors);
    for (const std::string& e : errors) log::warn("forward_path: ", e);
    for (const std::string& path : paths) {
      uid_t file_owner = 0;
      Result<std::string> text = make_error(Errc::not_found, "");
      {
        auto as_user = EffectiveIdentity::become(rights_of(a), true);
        if (!as_user) return Outcome::deferred("4.3.0", cat("cannot read ", path, ": ", as_user.error().detail));
        text = read_list_file(path, file_owner);
      }
      if (!text) {
        if (text.error().code == Errc::not_found) continue;
        log::warn(a.name, ": ", text.error().detail);
        return Outcome::deferred("4.3.0", cat("cannot read forward file ", path));
      }
      if (file_owner != a.uid && file_owner != 0) {
        log::warn(path, " is owned by uid ", file_owner, ", not by ", a.name, "; ignored");
        continue;
      }
      std::vector<std::string> problems;
      std::vector<Destination> dests = parse_destination_file(*text, problems);
      for (const std::string& p : problems) log::warn(path, ": ", p);
      if (dests.empty()) return std::nullopt;  // an empty .forward: no forwarding
      if (!split.extension.empty() && split.delimiter != '\0' && s_.propagate_extension.count(Source::forward) &&
          path.find(cat(".forward", split.delimiter)) == std::string::npos)
        add_extension(dests, cat(split.delimiter, split.extension));
      Frame child = next(f);
      child.exp_from = a.name;
      child.source = Source::forward;
      child.user = a;
      return expand(child, dests);
    }
    return std::nullopt;
  }

  Outcome unknown(const Frame& f, const address::LocalSplit& split, const std::string& local) {
    if (!s_.luser_relay.empty()) {
      auto n = normalize_address(s_.luser_relay);
      if (!n) {
        log::warn("luser_relay: not an address: ", printable(s_.luser_relay));
        return Outcome::deferred("4.3.5", "mail system configuration error");
      }
      Frame child = next(f);
      child.exp_from = local;
      return single_address(child, qualify(*n));
    }
    return Outcome::bounced("5.1.1", cat("unknown user: \"", printable(split.base), "\""));
  }

  Outcome mailbox(const Frame& f, const Account& a) {
    Frame self = f;
    self.user = a;
    if (!s_.mailbox_command.empty()) return to_command(self, s_.mailbox_command);
    const Rights who = rights_of(a);
    if (!s_.home_mailbox.empty()) {
      if (auto bad = check_home(a)) return std::move(*bad);
    }
    // The rules pop3d and imapd use to find the same mailbox (lib/access).
    auto box = access::system_mailbox_path(s_.home_mailbox, s_.mail_spool_directory, a.name, a.home);
    if (!box) {
      log::warn("mail_spool_directory and home_mailbox are both empty");
      return Outcome::deferred("4.3.5", "mail system configuration error");
    }
    if (box->maildir)
      return deliver_maildir({box->path, who, s_.mailbox_size_limit}, render_for(Style::maildir, f, true));
    return append_mbox({box->path, who, s_.mailbox_size_limit, s_.mailbox_lock, box->in_spool, false, "mailbox"},
                       render_for(Style::mbox, f, true));
  }

  Outcome virtual_mailbox(const Frame& f) {
    maps::AddressLookup how;
    how.recipient_delimiter = s_.recipient_delimiter;
    auto hit = local::lookup_address(t_.virtual_mailbox, f.address, how);
    if (!hit) return table_failure(hit.error(), "virtual mailbox lookup failure");
    if (!*hit) return Outcome::bounced("5.1.1", cat("unknown user: \"", printable(f.address), "\""));
    auto uid = virtual_id(t_.virtual_uid, f.address, how, ::getuid());
    if (!uid) return std::move(uid).error_outcome();
    auto gid = virtual_id(t_.virtual_gid, f.address, how, ::getgid());
    if (!gid) return std::move(gid).error_outcome();
    if (!t_.virtual_uid.empty() && *uid < s_.virtual_minimum_uid) {
      log::warn("recipient ", printable(f.address), ": uid ", *uid, " in virtual_uid_maps is below virtual_minimum_uid");
      return Outcome::deferred("4.3.5", "mail system configuration error");
    }
    if (s_.virtual_mailbox_base.empty()) {
      log::warn("virtual_mailbox_base is not set");
      return Outcome::deferred("4.3.5", "mail system configuration error");
    }
    auto box = access::virtual_mailbox_path(s_.virtual_mailbox_base, (*hit)->value);
    if (!box) {
      log::warn("recipient ", printable(f.address), ": bad mailbox path ", printable(trim((*hit)->value)), " in virtual_mailbox_maps");
      return Outcome::deferred("4.3.5", "mail system configuration error");
    }
    Rights who = numeric_rights(static_cast<uid_t>(*uid), static_cast<gid_t>(*gid));
    who.name = f.address;
    if (box->maildir)
      return deliver_maildir({box->path, who, s_.virtual_mailbox_limit}, render_for(Style::maildir, f, true));
    return append_mbox({box->path, who, s_.virtual_mailbox_limit, s_.virtual_lock, false, true, "mailbox"},
                       render_for(Style::mbox, f, true));
  }

  // --- expansion ------------------------------------------------------------

  Outcome expand(const Frame& f, const std::vector<Destination>& dests) {
    Expansion x;
    for (const Destination& d : dests) expand_one(f, d, x);
    if (x.addresses.size() == 1 && is_local_address(x.addresses.front()))
      x.parts.push_back(single_address(f, x.addresses.front()));
    else if (!x.addresses.empty())
      x.parts.push_back(forward(f, x.addresses));
    if (x.parts.empty()) return Outcome::sent("duplicate destinations ignored");
    return combine(x.parts);
  }

  void expand_one(const Frame& f, const Destination& d, Expansion& x) {
    switch (d.kind) {
      case Destination::Kind::address: {
        std::string addr = qualify(d.text);
        AddressParts p = split_address(addr);
        if (!f.exp_from.empty() && iequals(p.local, f.exp_from) && is_local_address(addr)) {
          // The alias or user names itself: deliver to that user's mailbox.
          if (been_here(cat("self:", to_lower(addr)))) return;
          Frame self = next(f);
          self.address = addr;
          x.parts.push_back(recipient(self));
          return;
        }
        // Addresses are made unique within this expansion only: the same
        // address met again deeper down (a1 -> a2 -> a1) must reach the
        // loop limit, not vanish as a duplicate.
        for (const std::string& a : x.addresses)
          if (iequals(a, addr)) return;
        x.addresses.push_back(addr);
        return;
      }
      case Destination::Kind::command:
        if (!s_.commands_allowed.count(f.source)) {
          x.parts.push_back(Outcome::bounced("5.7.1", "mail to command is restricted"));
          return;
        }
        if (!been_here(cat("command:", d.text))) x.parts.push_back(to_command(f, d.text));
        return;
      case Destination::Kind::file:
        if (!s_.files_allowed.count(f.source)) {
          x.parts.push_back(Outcome::bounced("5.7.1", "mail to file is restricted"));
          return;
        }
        if (!been_here(cat("file:", d.text))) x.parts.push_back(to_file(f, d.text));
        return;
      case Destination::Kind::include:
        if (!been_here(cat("include:", d.text))) include(f, d.text, x);
        return;
    }
  }

  void include(const Frame& f, const std::string& path, Expansion& x) {
    if (f.level + 1 > kMaxLevel) {
      x.parts.push_back(Outcome::bounced("5.4.6", cat("alias database loop for ", f.exp_from)));
      return;
    }
    uid_t file_owner = 0;
    Result<std::string> text = make_error(Errc::not_found, "");
    {
      std::optional<EffectiveIdentity> as;
      if (f.user && f.user->uid != 0) {
        auto b = EffectiveIdentity::become(rights_of(*f.user));
        if (!b) {
          x.parts.push_back(Outcome::deferred("4.3.0", cat("cannot open include file ", path)));
          return;
        }
        as.emplace(std::move(*b));
      }
      text = read_list_file(path, file_owner);
    }
    if (!text) {
      log::warn(":include: ", text.error().detail);
      x.parts.push_back(Outcome::deferred("4.3.0", cat("cannot open include file ", path, ": ",
                                                       file_problem(text.error().code))));
      return;
    }
    Frame child = next(f);
    child.source = Source::include;
    // Commands and files of an include file run with its owner's rights,
    // unless root owns it (then those of the alias or user that named it).
    if (file_owner != 0 && (!f.user || f.user->uid != file_owner)) {
      auto a = find_account_by_uid(file_owner);
      if (!a || !*a) {
        x.parts.push_back(Outcome::deferred("4.3.0", cat("cannot find the owner of include file ", path)));
        return;
      }
      child.user = **a;
    }
    std::vector<std::string> problems;
    std::vector<Destination> dests = parse_destination_file(*text, problems);
    for (const std::string& p : problems) log::warn(path, ": ", p);
    for (const Destination& d : dests) expand_one(child, d, x);
  }

  Outcome single_address(const Frame& f, const std::string& addr) {
    if (!is_local_address(addr)) return forward(f, {addr});
    Frame child = next(f);
    child.address = addr;
    return recipient(child);
  }

  Outcome forward(const Frame& f, const std::vector<std::string>& addresses) {
    Forward fw;
    fw.sender = f.sender;
    fw.recipients = addresses;
    fw.original = original_;
    if (s_.delivered_forward) fw.delivered_to = rcpt_.address;
    fw.owner = f.owner;
    fw.notify = rcpt_.notify;
    fw.orcpt = rcpt_.orcpt;
    auto id = write_forward(job_.spool, job_.message, fw, job_.queue_owner);
    if (!id) {
      log::warn(job_.message.id.str(), ": cannot forward to ", addresses.size(),
                " address(es): ", id.error().detail);
      return Outcome::deferred("4.3.0", "cannot forward: queue file write error");
    }
    return Outcome::sent(cat("forwarded as ", id->str()));
  }

  // --- destinations ---------------------------------------------------------

  Outcome to_command(const Frame& f, const std::string& command) {
    CommandSpec spec;
    spec.command = command;
    spec.shell = s_.local_command_shell;
    spec.time_limit = s_.command_time_limit;
    std::optional<Account> as = f.user;
    if (can_switch()) {
      auto r = unprivileged(f);
      if (!r) return std::move(r).error_outcome();
      as = *r;
      spec.run_as = Rights{as->uid, as->gid, {}, as->name};
    }
    AddressParts p = split_address(f.address);
    address::LocalSplit split = address::split_extension(to_lower(p.local), s_.recipient_delimiter);
    auto env = [&](std::string_view name, std::string_view value) {
      spec.env.push_back(cat(name, "=", filter_value(value, s_.command_filter)));
    };
    if (as) {
      env("HOME", as->home);
      env("LOGNAME", as->name);
      env("SHELL", as->shell);
      if (!as->home.empty()) spec.cwd = as->home;
    }
    spec.env.push_back("PATH=/usr/bin:/bin");
    env("USER", f.user ? f.user->name : split.base);
    env("SENDER", f.sender);
    env("RECIPIENT", f.address);
    env("LOCAL", p.local);
    env("DOMAIN", p.domain);
    env("EXTENSION", split.delimiter != '\0' ? split.extension : std::string());
    env("ORIGINAL_RECIPIENT", original_);
    std::string input = render_for(Style::command, f, s_.delivered_command);
    return command_outcome(run_command(spec, input), command);
  }

  Outcome to_file(const Frame& f, const std::string& path) {
    Rights who = numeric_rights(::getuid(), ::getgid());
    if (can_switch()) {
      auto r = unprivileged(f);
      if (!r) return std::move(r).error_outcome();
      who = rights_of(*r);
    }
    if (path.back() == '/')
      return deliver_maildir({path, who, s_.mailbox_size_limit, "file"},
                             render_for(Style::maildir, f, s_.delivered_file));
    return append_mbox({path, who, s_.mailbox_size_limit, s_.mailbox_lock, false, false, "file"},
                       render_for(Style::mbox, f, s_.delivered_file));
  }

  // --- helpers --------------------------------------------------------------

  // A value or the outcome that ends the recipient's delivery.
  template <class T>
  struct OrOutcome {
    std::optional<T> value;
    std::optional<Outcome> error_outcome_;
    explicit operator bool() const { return value.has_value(); }
    const T& operator*() const { return *value; }
    Outcome error_outcome() && { return std::move(*error_outcome_); }
  };

  // The account commands and files run as: the user of the frame, or
  // default_privs when there is none or it is root.
  OrOutcome<Account> unprivileged(const Frame& f) {
    if (f.user && f.user->uid != 0) return {*f.user, std::nullopt};
    auto a = find_account(s_.default_privs);
    if (!a || !*a || (*a)->uid == 0) {
      log::warn("default_privs: no usable account ", printable(s_.default_privs));
      return {std::nullopt, Outcome::deferred("4.3.5", "mail system configuration error")};
    }
    return {**a, std::nullopt};
  }

  OrOutcome<long long> virtual_id(const TableList& maps, const std::string& address,
                                  const maps::AddressLookup& how, long long own) {
    if (maps.empty()) {
      if (!can_switch()) return {own, std::nullopt};
      log::warn(maps.param, " is not set; cannot deliver to ", printable(address), " as root");
      return {std::nullopt, Outcome::deferred("4.3.5", "mail system configuration error")};
    }
    auto hit = local::lookup_address(maps, address, how);
    if (!hit) return {std::nullopt, table_failure(hit.error(), "virtual mailbox lookup failure")};
    unsigned long long n = 0;
    if (!*hit || !parse_uint(trim((*hit)->value), n) || n > 0x7fffffffULL) {
      log::warn("recipient ", printable(address), ": no valid number in ", maps.param);
      return {std::nullopt, Outcome::deferred("4.3.5", "mail system configuration error")};
    }
    return {static_cast<long long>(n), std::nullopt};
  }

  // With home_mailbox, a home directory that is missing or out of reach
  // defers the mail (the mailbox would otherwise land somewhere else).
  std::optional<Outcome> check_home(const Account& a) {
    auto as_user = EffectiveIdentity::become(rights_of(a), true);
    std::string why;
    struct stat st {};
    if (!as_user) why = as_user.error().detail;
    else if (::stat(a.home.c_str(), &st) != 0) why = std::strerror(errno);
    else if (!S_ISDIR(st.st_mode)) why = "not a directory";
    else return std::nullopt;
    return Outcome::deferred("4.3.0", cat("cannot access home directory ", a.home, " for user ",
                                          a.name, ": ", why));
  }

  Attributes attributes(const Frame& f, const Account& a, const address::LocalSplit& split,
                        const std::string& local, const std::string& domain) const {
    Attributes attrs{{"user", a.name}, {"home", a.home}, {"shell", a.shell},
                     {"recipient", f.address}, {"local", local}, {"domain", domain}};
    if (split.delimiter != '\0') {
      attrs["extension"] = split.extension;
      attrs["recipient_delimiter"] = std::string(1, split.delimiter);
    }
    return attrs;
  }

  std::string render_for(Style style, const Frame& f, bool delivered) const {
    Envelope env;
    env.sender = f.sender;
    if (!f.owner) env.original_to = original_;
    if (delivered) env.delivered_to = rcpt_.address;
    return render(style, env, job_.message.headers, job_.message.body, job_.now);
  }

  Frame next(const Frame& f) const {
    Frame c = f;
    ++c.level;
    return c;
  }

  std::string qualify(const std::string& addr) const {
    if (addr.find('@') != std::string::npos) return addr;
    return cat(addr, "@", s_.myorigin);
  }

  bool is_local_address(const std::string& addr) {
    std::string domain = split_address(addr).domain;
    if (domain.empty()) return true;
    auto v = t_.virtual_domains.contains(domain);
    if (!v || *v) return false;
    auto l = t_.mydestination.contains(domain);
    return l && *l;
  }

  static void add_extension(std::vector<Destination>& dests, const std::string& ext) {
    for (Destination& d : dests) {
      if (d.kind != Destination::Kind::address) continue;
      AddressParts p = split_address(d.text);
      d.text = p.domain.empty() ? cat(p.local, ext) : cat(p.local, ext, "@", p.domain);
    }
  }

  bool been_here(const std::string& key) {
    if (seen_.count(key)) return true;
    if (seen_.size() < s_.duplicate_filter_limit) seen_.insert(key);
    return false;
  }

  Outcome table_failure(const Error& e, std::string_view text) {
    log::warn(job_.message.id.str(), ": ", e.detail);
    return Outcome::deferred("4.3.0", std::string(text));
  }

  const Job& job_;
  const Settings& s_;
  const Tables& t_;
  const deliver::Rcpt& rcpt_;
  const std::string original_;
  bool virtual_ = false;
  std::set<std::string> seen_;
};

}  // namespace

RecipientResult deliver_recipient(const Job& job, const deliver::Rcpt& rcpt) {
  return Delivery(job, rcpt).run();
}

}  // namespace posthorn::local
