// smtpd/restrictions.cc - see restrictions.h.
#include "smtpd/restrictions.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>

#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/dns/names.h"
#include "lib/log/log.h"
#include "smtpd/access_keys.h"

namespace posthorn::smtpd {

enum class Kind {
  permit, reject, defer, dunno,
  permit_mynetworks, permit_sasl_authenticated,
  permit_auth_destination, reject_unauth_destination, defer_unauth_destination,
  reject_unlisted_recipient, reject_unlisted_sender,
  reject_non_fqdn_sender, reject_non_fqdn_recipient, reject_non_fqdn_helo_hostname,
  reject_invalid_helo_hostname,
  reject_unknown_sender_domain, reject_unknown_recipient_domain,
  reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
  reject_rbl_client,
  check_client_access, check_helo_access, check_sender_access, check_recipient_access,
  invalid,
};

struct Restrictions::Item {
  Kind kind = Kind::invalid;
  std::string name;                    // as written
  std::string arg;                     // table spec, RBL domain[=filter]
  const maps::Table* table = nullptr;  // check_*_access
  std::string error;                   // invalid: why (for the log)
};

namespace {

struct Known {
  std::string_view name;
  Kind kind;
  bool takes_arg;
};

// Postfix's names, with the older spellings it still accepts.
constexpr Known kKnown[] = {
    {"permit", Kind::permit, false},
    {"reject", Kind::reject, false},
    {"defer", Kind::defer, false},
    {"dunno", Kind::dunno, false},
    {"permit_mynetworks", Kind::permit_mynetworks, false},
    {"permit_sasl_authenticated", Kind::permit_sasl_authenticated, false},
    {"permit_auth_destination", Kind::permit_auth_destination, false},
    {"reject_unauth_destination", Kind::reject_unauth_destination, false},
    {"defer_unauth_destination", Kind::defer_unauth_destination, false},
    {"reject_unlisted_recipient", Kind::reject_unlisted_recipient, false},
    {"check_recipient_maps", Kind::reject_unlisted_recipient, false},
    {"reject_unlisted_sender", Kind::reject_unlisted_sender, false},
    {"reject_non_fqdn_sender", Kind::reject_non_fqdn_sender, false},
    {"reject_non_fqdn_recipient", Kind::reject_non_fqdn_recipient, false},
    {"reject_non_fqdn_helo_hostname", Kind::reject_non_fqdn_helo_hostname, false},
    {"reject_non_fqdn_hostname", Kind::reject_non_fqdn_helo_hostname, false},
    {"reject_invalid_helo_hostname", Kind::reject_invalid_helo_hostname, false},
    {"reject_invalid_hostname", Kind::reject_invalid_helo_hostname, false},
    {"reject_unknown_sender_domain", Kind::reject_unknown_sender_domain, false},
    {"reject_unknown_recipient_domain", Kind::reject_unknown_recipient_domain, false},
    {"reject_unknown_client_hostname", Kind::reject_unknown_client_hostname, false},
    {"reject_unknown_client", Kind::reject_unknown_client_hostname, false},
    {"reject_unknown_reverse_client_hostname", Kind::reject_unknown_reverse_client_hostname, false},
    {"reject_rbl_client", Kind::reject_rbl_client, true},
    {"check_client_access", Kind::check_client_access, true},
    {"check_helo_access", Kind::check_helo_access, true},
    {"check_sender_access", Kind::check_sender_access, true},
    {"check_recipient_access", Kind::check_recipient_access, true},
};

std::size_t idx(ListId id) { return static_cast<std::size_t>(id); }

// A DSN with its class digit taken from the reply code.
std::string dsn_for(int code, std::string_view dsn) {
  std::string d(dsn);
  if (!d.empty()) d[0] = static_cast<char>('0' + code / 100);
  return d;
}

// RFC 1035 host name syntax (letters, digits, hyphens, underscores as
// Postfix tolerates them), or an address literal.
bool valid_hostname(std::string_view h, bool& literal) {
  literal = false;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    literal = true;
    std::string inner(h.substr(1, h.size() - 2));
    if (istarts_with(inner, "ipv6:")) inner = inner.substr(5);
    unsigned char buf[16];
    return inet_pton(AF_INET, inner.c_str(), buf) == 1 || inet_pton(AF_INET6, inner.c_str(), buf) == 1;
  }
  if (h.empty() || h.size() > 255) return false;
  std::string_view s = h;
  if (s.back() == '.') s.remove_suffix(1);
  for (const std::string& label : split(s, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

bool is_fqdn(std::string_view domain) {
  bool literal = false;
  if (!valid_hostname(domain, literal)) return false;
  if (literal) return true;
  std::string_view d = domain;
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return d.find('.') != std::string_view::npos;
}

std::string domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? "" : to_lower(address.substr(at + 1));
}

bool bare_postmaster(std::string_view address) { return iequals(address, "postmaster"); }

}  // namespace

std::string_view list_param(ListId id) {
  switch (id) {
    case ListId::client: return "smtpd_client_restrictions";
    case ListId::helo: return "smtpd_helo_restrictions";
    case ListId::sender: return "smtpd_sender_restrictions";
    case ListId::relay: return "smtpd_relay_restrictions";
    case ListId::recipient: return "smtpd_recipient_restrictions";
    case ListId::etrn: return "smtpd_etrn_restrictions";
  }
  return "";
}

RestrictionSettings RestrictionSettings::from_config(const config::Config& cfg,
                                                     std::vector<Network> mynetworks) {
  RestrictionSettings s;
  for (ListId id : {ListId::client, ListId::helo, ListId::sender, ListId::relay, ListId::recipient,
                    ListId::etrn})
    s.lists[idx(id)] = cfg.get_list(list_param(id));
  s.delay_reject = cfg.get_bool("smtpd_delay_reject");
  s.reject_unlisted_recipient = cfg.get_bool("smtpd_reject_unlisted_recipient");
  s.mynetworks = std::move(mynetworks);
  s.recipient_delimiter = cfg.get("recipient_delimiter");
  for (const std::string& p : cfg.get_list("parent_domain_matches_subdomains"))
    if (p == "smtpd_access_maps") s.parent_matches_subdomains = true;
  s.null_access_key = cfg.get("smtpd_null_access_lookup_key");
  auto code = [&](const char* p) { return static_cast<int>(cfg.get_int(p)); };
  ReplyCodes& c = s.codes;
  c.reject = code("reject_code");
  c.defer = code("defer_code");
  c.access_reject = code("access_map_reject_code");
  c.access_defer = code("access_map_defer_code");
  c.relay = code("relay_domains_reject_code");
  c.non_fqdn = code("non_fqdn_reject_code");
  c.invalid_hostname = code("invalid_hostname_reject_code");
  c.unknown_address = code("unknown_address_reject_code");
  c.unknown_client = code("unknown_client_reject_code");
  c.rbl = code("maps_rbl_reject_code");
  c.unknown_local = code("unknown_local_recipient_reject_code");
  c.unknown_virtual_alias = code("unknown_virtual_alias_reject_code");
  c.unknown_virtual_mailbox = code("unknown_virtual_mailbox_reject_code");
  c.unknown_relay = code("unknown_relay_recipient_reject_code");
  c.nullmx = code("nullmx_reject_code");
  return s;
}

Restrictions::Restrictions(RestrictionSettings s) : s_(std::move(s)) {
  std::map<std::string, const maps::Table*> opened;
  for (std::size_t l = 0; l < kListCount; ++l) {
    const std::vector<std::string>& words = s_.lists[l];
    const std::string_view param = list_param(static_cast<ListId>(l));
    for (std::size_t i = 0; i < words.size(); ++i) {
      Item item;
      item.name = words[i];
      for (const Known& k : kKnown) {
        if (!iequals(k.name, words[i])) continue;
        item.kind = k.kind;
        if (!k.takes_arg) break;
        if (i + 1 == words.size()) {
          item.kind = Kind::invalid;
          item.error = cat("restriction \"", words[i], "\" needs an argument");
        } else {
          item.arg = words[++i];
        }
        break;
      }
      if (item.kind == Kind::invalid && item.error.empty())
        item.error = cat("unknown restriction \"", printable(words[i]), "\"");
      const bool table = item.kind == Kind::check_client_access || item.kind == Kind::check_helo_access ||
                         item.kind == Kind::check_sender_access || item.kind == Kind::check_recipient_access;
      if (table) {
        auto it = opened.find(item.arg);
        if (it != opened.end()) {
          item.table = it->second;
        } else if (auto t = maps::open_table(item.arg)) {
          item.table = t->get();
          opened[item.arg] = item.table;
          tables_.push_back(std::move(*t));
        } else {
          item.kind = Kind::invalid;
          item.error = cat(item.name, " ", item.arg, ": ", t.error().detail);
        }
      }
      if (item.kind == Kind::invalid) problems_.push_back(cat(param, ": ", item.error));
      lists_[l].push_back(std::move(item));
    }
  }
}

Restrictions::~Restrictions() = default;
Restrictions::Restrictions(Restrictions&&) noexcept = default;

bool Restrictions::relay_protected() const {
  for (ListId id : {ListId::relay, ListId::recipient})
    for (const Item& i : lists_[idx(id)])
      if (i.kind == Kind::reject_unauth_destination || i.kind == Kind::defer_unauth_destination ||
          i.kind == Kind::reject || i.kind == Kind::defer)
        return true;
  return false;
}

std::string Restrictions::changed_table() const {
  for (const auto& t : tables_)
    if (t->changed()) return t->spec();
  return "";
}

// --- Evaluation ---------------------------------------------------------

Evaluation::Evaluation(const Restrictions& r, PolicyEnv& env, CheckRequest req)
    : r_(r), env_(env), req_(std::move(req)) {
  const bool delay = r_.s_.delay_reject;
  using L = ListId;
  switch (req_.point) {
    case CheckPoint::connect:
      if (!delay) order_ = {L::client};
      break;
    case CheckPoint::helo:
      if (!delay) order_ = {L::helo};
      break;
    case CheckPoint::mail:
      if (!delay) order_ = {L::sender};
      break;
    case CheckPoint::rcpt:
      order_ = delay ? std::vector<L>{L::client, L::helo, L::sender, L::relay, L::recipient}
                     : std::vector<L>{L::relay, L::recipient};
      break;
    case CheckPoint::etrn:
      order_ = delay ? std::vector<L>{L::client, L::helo, L::etrn} : std::vector<L>{L::etrn};
      break;
  }
}

Evaluation::~Evaluation() = default;

std::optional<Verdict> Evaluation::run(Done done) {
  done_ = std::move(done);
  return step();
}

std::optional<Verdict> Evaluation::step() {
  for (;;) {
    if (list_ == order_.size()) {
      // smtpd_reject_unlisted_recipient: after every list said yes.
      if (req_.point == CheckPoint::rcpt && r_.s_.reject_unlisted_recipient && !unlisted_done_ &&
          !implicit_done_) {
        implicit_done_ = true;
        if (unlisted(req_.recipient, false) == Outcome::refuse) return verdict_;
      }
      return Verdict::accept();
    }
    const std::vector<Restrictions::Item>& items = r_.lists_[idx(order_[list_])];
    if (item_ == items.size()) {
      ++list_;
      item_ = 0;
      continue;
    }
    const Outcome o = apply(items[item_]);
    if (o == Outcome::wait) return std::nullopt;
    if (o == Outcome::refuse) return verdict_;
    if (o == Outcome::permit) {
      ++list_;
      item_ = 0;
    } else {
      ++item_;
    }
  }
}

void Evaluation::resume(dns::Answer a) {
  auto fn = std::move(waiting_);
  waiting_ = nullptr;
  const Outcome o = fn(std::move(a));
  if (o == Outcome::wait) return;
  std::optional<Verdict> v;
  if (o == Outcome::refuse) {
    v = verdict_;
  } else {
    if (o == Outcome::permit) {
      ++list_;
      item_ = 0;
    } else {
      ++item_;
    }
    v = step();
    if (!v) return;
  }
  Done done = done_;  // the call may destroy this Evaluation
  done(*v);
}

// Answers from the cache at once; otherwise waits for the resolver.
Evaluation::Outcome Evaluation::query(const std::string& name, dns::RrType type) {
  if (const dns::Answer* a = env_.cached(name, type)) {
    auto fn = std::move(waiting_);
    waiting_ = nullptr;
    return fn(*a);
  }
  lookup_ = env_.dns_query(name, type, [this](dns::Answer b) { resume(std::move(b)); });
  return Outcome::wait;
}

std::string Evaluation::subject() const {
  switch (order_.empty() || list_ >= order_.size() ? ListId::recipient : order_[list_]) {
    case ListId::client: return cat("<", req_.client.name, "[", req_.client.addr, "]>");
    case ListId::helo: return cat("<", req_.helo, ">");
    case ListId::sender: return cat("<", req_.sender, ">");
    case ListId::relay:
    case ListId::recipient: return cat("<", req_.recipient, ">");
    case ListId::etrn: return cat("<", req_.etrn_domain, ">");
  }
  return "";
}

std::string_view Evaluation::what() const {
  switch (order_.empty() || list_ >= order_.size() ? ListId::recipient : order_[list_]) {
    case ListId::client: return "Client host rejected";
    case ListId::helo: return "Helo command rejected";
    case ListId::sender: return "Sender address rejected";
    case ListId::relay:
    case ListId::recipient: return "Recipient address rejected";
    case ListId::etrn: return "Etrn command rejected";
  }
  return "";
}

Evaluation::Outcome Evaluation::refuse(int code, std::string_view dsn, std::string text) {
  verdict_ = Verdict::refuse({code, dsn_for(code, dsn), std::move(text)});
  return Outcome::refuse;
}

Evaluation::Outcome Evaluation::refuse_class(int code, std::string_view dsn, std::string_view reason) {
  return refuse(code, dsn, cat(subject(), ": ", what(), ": ", reason));
}

Evaluation::Outcome Evaluation::config_error(const Restrictions::Item& item) {
  log::warn(list_param(order_[list_]), ": ", item.error, "; answering 451 4.3.5");
  return refuse(451, "4.3.5", "Server configuration error");
}

Evaluation::Outcome Evaluation::apply(const Restrictions::Item& item) {
  const ReplyCodes& c = r_.s_.codes;
  const bool rcpt = req_.point == CheckPoint::rcpt;
  switch (item.kind) {
    case Kind::permit: return Outcome::permit;
    case Kind::dunno: return Outcome::dunno;
    case Kind::reject: return refuse_class(c.reject, "5.7.1", "Access denied");
    case Kind::defer: return refuse_class(c.defer, "4.7.1", "Access denied");
    case Kind::permit_mynetworks:
      return in_networks(r_.s_.mynetworks, req_.client.addr) ? Outcome::permit : Outcome::dunno;
    case Kind::permit_sasl_authenticated:
      return req_.sasl_login.empty() ? Outcome::dunno : Outcome::permit;
    case Kind::permit_auth_destination:
    case Kind::reject_unauth_destination:
    case Kind::defer_unauth_destination:
      return rcpt ? unauth_destination(item) : Outcome::dunno;
    case Kind::reject_unlisted_recipient:
      if (!rcpt) return Outcome::dunno;
      unlisted_done_ = true;
      return unlisted(req_.recipient, false);
    case Kind::reject_unlisted_sender:
      if (!req_.has_sender || req_.sender.empty()) return Outcome::dunno;
      return unlisted(req_.sender, true);
    case Kind::reject_non_fqdn_sender:
      if (!req_.has_sender || req_.sender.empty() || is_fqdn(domain_of(req_.sender))) return Outcome::dunno;
      return refuse(c.non_fqdn, "5.5.2", cat("<", req_.sender, ">: Sender address rejected: need fully-qualified address"));
    case Kind::reject_non_fqdn_recipient:
      if (!rcpt || bare_postmaster(req_.recipient) || is_fqdn(domain_of(req_.recipient))) return Outcome::dunno;
      return refuse(c.non_fqdn, "5.5.2", cat("<", req_.recipient, ">: Recipient address rejected: need fully-qualified address"));
    case Kind::reject_non_fqdn_helo_hostname:
      if (req_.helo.empty() || is_fqdn(req_.helo)) return Outcome::dunno;
      return refuse(c.non_fqdn, "5.5.2", cat("<", req_.helo, ">: Helo command rejected: need fully-qualified hostname"));
    case Kind::reject_invalid_helo_hostname: {
      bool literal = false;
      if (req_.helo.empty() || valid_hostname(req_.helo, literal)) return Outcome::dunno;
      return refuse(c.invalid_hostname, "5.5.2", cat("<", req_.helo, ">: Helo command rejected: Invalid name"));
    }
    case Kind::reject_unknown_sender_domain:
    case Kind::reject_unknown_recipient_domain: return unknown_domain(item);
    case Kind::reject_unknown_client_hostname:
      if (req_.client.name != "unknown") return Outcome::dunno;
      return refuse(req_.client.name_tempfail ? 450 : c.unknown_client, "4.7.25",
                    cat("Client host rejected: cannot find your hostname, [", req_.client.addr, "]"));
    case Kind::reject_unknown_reverse_client_hostname:
      if (req_.client.reverse_name != "unknown") return Outcome::dunno;
      return refuse(req_.client.name_tempfail ? 450 : c.unknown_client, "4.7.25",
                    cat("Client host rejected: cannot find your reverse hostname, [", req_.client.addr, "]"));
    case Kind::reject_rbl_client: return rbl(item);
    case Kind::check_client_access:
    case Kind::check_helo_access:
    case Kind::check_sender_access:
    case Kind::check_recipient_access: return access(item);
    case Kind::invalid: return config_error(item);
  }
  return Outcome::dunno;
}

Evaluation::Outcome Evaluation::unauth_destination(const Restrictions::Item& item) {
  auto cls = env_.classify(domain_of(req_.recipient));
  if (!cls) {
    log::warn("relay check of ", printable(req_.recipient), ": ", cls.error().detail);
    return refuse(451, "4.3.0", cat("<", req_.recipient, ">: Temporary lookup failure"));
  }
  if (*cls != resolve::AddressClass::default_)
    return item.kind == Kind::permit_auth_destination ? Outcome::permit : Outcome::dunno;
  if (item.kind == Kind::permit_auth_destination) return Outcome::dunno;
  // defer_unauth_destination: the same reply with a 4 for the 5 (454 4.7.1).
  const int code = r_.s_.codes.relay;
  return refuse(item.kind == Kind::defer_unauth_destination ? 400 + code % 100 : code, "5.7.1",
                cat("<", req_.recipient, ">: Relay access denied"));
}

Evaluation::Outcome Evaluation::unlisted(const std::string& address, bool sender) {
  if (address.empty() || bare_postmaster(address)) return Outcome::dunno;
  const std::string who = sender ? "Sender" : "Recipient";
  auto cls = env_.classify(domain_of(address));
  Result<std::optional<std::string>> missing = cls ? env_.unknown_recipient(address, *cls)
                                                   : Result<std::optional<std::string>>(cls.error());
  if (!missing) {
    log::warn("recipient check of ", printable(address), ": ", missing.error().detail);
    return refuse(451, "4.3.0", cat("<", address, ">: ", who, " address rejected: Temporary lookup failure"));
  }
  if (!*missing) return Outcome::dunno;
  const ReplyCodes& c = r_.s_.codes;
  int code = c.unknown_local;
  if (**missing == "virtual alias") code = c.unknown_virtual_alias;
  if (**missing == "virtual mailbox") code = c.unknown_virtual_mailbox;
  if (**missing == "relay recipient") code = c.unknown_relay;
  return refuse(code, sender ? "5.1.0" : "5.1.1",
                cat("<", address, ">: ", who, " address rejected: User unknown in ", **missing, " table"));
}

// reject_unknown_{sender,recipient}_domain: MX, else A, else AAAA.
Evaluation::Outcome Evaluation::unknown_domain(const Restrictions::Item& item) {
  const bool sender = item.kind == Kind::reject_unknown_sender_domain;
  if (sender && (!req_.has_sender || req_.sender.empty())) return Outcome::dunno;
  if (!sender && (req_.point != CheckPoint::rcpt || bare_postmaster(req_.recipient))) return Outcome::dunno;
  const std::string address = sender ? req_.sender : req_.recipient;
  const std::string domain = domain_of(address);
  if (domain.empty() || domain.front() == '[') return Outcome::dunno;
  // Our own domains need no DNS.
  auto cls = env_.classify(domain);
  if (cls && *cls != resolve::AddressClass::default_ && *cls != resolve::AddressClass::relay)
    return Outcome::dunno;
  domain_check_ = {address, domain, sender};
  return domain_query(0);
}

namespace {
constexpr dns::RrType kDomainTypes[] = {dns::RrType::mx, dns::RrType::a, dns::RrType::aaaa};
}

Evaluation::Outcome Evaluation::domain_query(std::size_t i) {
  waiting_ = [this, i](dns::Answer b) { return domain_answer(i, std::move(b)); };
  return query(domain_check_.domain, kDomainTypes[i]);
}

Evaluation::Outcome Evaluation::domain_answer(std::size_t i, dns::Answer a) {
  const DomainCheck& d = domain_check_;
  const std::string who = d.sender ? "Sender" : "Recipient";
  if (a.status == dns::Status::null_mx)
    return refuse(r_.s_.codes.nullmx, "5.7.27", cat("<", d.address, ">: ", who, " address rejected: Domain ",
                                                   d.domain, " does not accept mail (nullMX)"));
  if (a.ok()) return Outcome::dunno;
  const bool last = i + 1 == std::size(kDomainTypes);
  const bool temporary = dns::is_temporary(a.status);
  if (a.status == dns::Status::nodata && !last) return domain_query(i + 1);
  const int code = temporary ? 450 : r_.s_.codes.unknown_address;
  return refuse(code, d.sender ? "5.1.8" : "5.1.2",
                cat("<", d.address, ">: ", who, " address rejected: Domain not found"));
}

Evaluation::Outcome Evaluation::rbl(const Restrictions::Item& item) {
  const std::size_t eq = item.arg.find('=');
  const std::string domain = item.arg.substr(0, eq);
  const std::string filter = eq == std::string::npos ? "" : item.arg.substr(eq + 1);
  auto rev = dns::reverse_name(req_.client.addr);
  if (!rev) return Outcome::dunno;
  std::string name = *rev;
  for (std::string_view suffix : {".in-addr.arpa", ".ip6.arpa"})
    if (name.ends_with(suffix)) name.resize(name.size() - suffix.size());
  name += "." + domain;
  const int code = r_.s_.codes.rbl;
  waiting_ = [this, domain, filter, code](dns::Answer a) -> Outcome {
    if (!a.ok()) return Outcome::dunno;  // not listed, or the list is unreachable
    bool listed = filter.empty();
    for (const dns::Address& addr : a.addresses)
      if (addr.text == filter) listed = true;
    if (!listed) return Outcome::dunno;
    return refuse(code, "5.7.1", cat("Service unavailable; Client host [", req_.client.addr,
                                     "] blocked using ", domain));
  };
  return query(name, dns::RrType::a);
}

Evaluation::Outcome Evaluation::access(const Restrictions::Item& item) {
  const bool parents = r_.s_.parent_matches_subdomains;
  std::vector<std::string> keys;
  switch (item.kind) {
    case Kind::check_client_access:
      keys = client_keys(req_.client.name, req_.client.addr, parents);
      if (item.table->is_pattern()) {
        keys.clear();
        if (req_.client.name != "unknown") keys.push_back(req_.client.name);
        keys.push_back(req_.client.addr);
      }
      break;
    case Kind::check_helo_access:
      if (req_.helo.empty()) return Outcome::dunno;
      keys = item.table->is_pattern() ? std::vector<std::string>{req_.helo} : domain_keys(req_.helo, parents);
      break;
    case Kind::check_sender_access:
      if (!req_.has_sender) return Outcome::dunno;
      if (req_.sender.empty()) keys = {r_.s_.null_access_key};
      else if (item.table->is_pattern()) keys = {req_.sender};
      else keys = address_keys(req_.sender, r_.s_.recipient_delimiter, parents);
      break;
    default:
      if (req_.point != CheckPoint::rcpt) return Outcome::dunno;
      keys = item.table->is_pattern() ? std::vector<std::string>{req_.recipient}
                                      : address_keys(req_.recipient, r_.s_.recipient_delimiter, parents);
      break;
  }
  for (const std::string& key : keys) {
    auto hit = item.table->lookup(key);
    if (!hit) {
      log::warn(item.name, " ", item.arg, ": lookup of ", printable(key), ": ", hit.error().detail);
      return refuse_class(451, "4.3.0", "Temporary lookup failure");
    }
    if (!*hit) continue;
    const AccessAction a = parse_access_value(**hit);
    const ReplyCodes& c = r_.s_.codes;
    const std::string text = a.text.empty() ? "Access denied" : a.text;
    switch (a.kind) {
      case AccessAction::permit: return Outcome::permit;
      case AccessAction::dunno: return Outcome::dunno;
      case AccessAction::reject: {
        const int code = a.code ? a.code : c.access_reject;
        return refuse_class(code, a.dsn.empty() ? "5.7.1" : a.dsn, text);
      }
      case AccessAction::defer: {
        const int code = a.code ? a.code : c.access_defer;
        return refuse_class(code, a.dsn.empty() ? "4.7.1" : a.dsn, text);
      }
      case AccessAction::invalid: {
        Restrictions::Item bad = item;
        bad.error = cat(item.name, " ", item.arg, ": key ", printable(key), ": unknown action \"",
                        printable(a.text), "\"");
        return config_error(bad);
      }
    }
  }
  return Outcome::dunno;
}

}  // namespace posthorn::smtpd
