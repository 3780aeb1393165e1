// lib/resolve/resolver.cc - Resolver: the order of resolve.h, step by step.
//
// resolve() is called for every recipient of every message, so the work that
// does not depend on the address is done once in from_config(): tables are
// opened, domain lists parsed, transport parameters split, limits read.
#include <algorithm>
#include <optional>
#include <variant>

#include "lib/address/address.h"
#include "lib/address/path.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/resolve/domain_list.h"
#include "lib/resolve/resolve.h"

namespace posthorn::resolve {

using address::Mailbox;
using detail::DomainList;
using detail::LocalAddresses;
using detail::TableSet;

namespace {

constexpr std::string_view kUndeliverable = "Address is undeliverable";
constexpr std::string_view kUnknownInVirtualAliasTable = "5.1.1 User unknown in virtual alias table";
constexpr std::string_view kConfigError = "Mail system configuration error";

// Why a recipient could not be resolved; becomes the Resolution's failure.
struct Failure {
  bool temporary = true;
  std::string_view dsn;
  std::string_view text;
  std::string detail;
};

Failure lookup_failure(std::string_view text, std::string detail) {
  return {true, "4.3.0", text, std::move(detail)};
}
Failure config_failure(std::string detail) { return {true, "4.3.5", kConfigError, std::move(detail)}; }

// A T, or the Failure that stopped it.
template <class T>
class Outcome {
 public:
  Outcome(T v) : v_(std::in_place_index<0>, std::move(v)) {}        // NOLINT: implicit by design
  Outcome(Failure f) : v_(std::in_place_index<1>, std::move(f)) {}  // NOLINT
  explicit operator bool() const { return v_.index() == 0; }
  T& operator*() { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  Failure& failure() { return std::get<1>(v_); }

 private:
  std::variant<T, Failure> v_;
};

Resolution failed(Failure f) {
  Resolution r;
  r.failed = true;
  r.temporary = f.temporary;
  r.dsn = std::string(f.dsn);
  r.text = std::string(f.text);
  r.detail = std::move(f.detail);
  return r;
}

const address::Options kLenient{.smtputf8 = true, .lenient = true};

// Parses an address as found in queue files and tables, after dropping one
// trailing dot after the domain ("user@example.com."; not after a literal).
Result<Mailbox> parse_address(std::string_view text) {
  std::size_t at = text.rfind('@');
  if (at != std::string_view::npos && text.size() > at + 2 && text.back() == '.' &&
      text[at + 1] != '[' && text[text.size() - 2] != '.')
    text.remove_suffix(1);
  return address::parse_mailbox(text, kLenient);
}

// The address as lookups and loop checks compare it: external form, folded.
std::string fold_key(const Mailbox& m) { return to_lower(address::to_string(m)); }

// The key forms of transport(5) after the address ones: the domain, then
// its parents (".parent", or "parent" in parent style); none for literals.
std::vector<std::string> domain_keys(std::string_view domain, bool parent_style) {
  std::vector<std::string> keys{std::string(domain)};
  if (domain.empty() || domain[0] == '[') return keys;
  for (std::size_t dot = domain.find('.'); dot != std::string_view::npos && dot + 1 < domain.size();
       dot = domain.find('.', dot + 1))
    keys.emplace_back(domain.substr(parent_style ? dot + 1 : dot));
  return keys;
}

// A virtual alias table's answer for one address.
struct AliasMatch {
  std::string value;
  std::size_t table = 0;
  std::string key;
  // The extension the key left out, with its delimiter ("+ext"); "" when
  // the key kept the whole local part.
  std::string dropped;
};

}  // namespace

struct Resolver::Impl {
  TableSet tables;
  std::vector<std::size_t> virtual_alias_maps;
  std::vector<std::size_t> transport_maps;
  DomainList mydestination, virtual_alias_domains, virtual_mailbox_domains, relay_domains;
  LocalAddresses interfaces;
  std::string myhostname, myorigin;  // canonical domains
  std::string empty_recipient;
  std::string delimiter;
  bool propagate = false;
  std::size_t recursion_limit = 1000, expansion_limit = 1000;
  TransportValue local_tv, virtual_tv, relay_tv, default_tv;
  std::string relayhost;
  bool transport_parent_style = false;
  std::optional<TransportValue> wildcard;  // transport_maps' "*"

  Result<AddressClass> classify(std::string_view domain) const;
  Result<AddressClass> classify_lists(std::string_view domain) const;
  Outcome<bool> bare_user_domain(std::string_view domain) const;
  Outcome<std::optional<AliasMatch>> alias_lookup(const Mailbox& box, const std::string& text) const;
  Outcome<std::vector<Mailbox>> alias_results(const AliasMatch& m) const;
  Outcome<std::vector<Mailbox>> expand(const Mailbox& root) const;
  // What one resolve() call learned about a domain, so that the recipients
  // of a list in one domain cost one classification and one domain-level
  // transport search.
  struct DomainFacts {
    std::string domain;
    AddressClass cls;
    bool transport_searched = false;
    std::optional<TransportValue> transport;
  };
  Outcome<DomainFacts*> facts_of(std::string_view domain, std::vector<DomainFacts>& memo) const;
  Outcome<std::optional<TransportValue>> transport_value(std::size_t table, std::string_view key,
                                                         std::string_view value) const;
  Outcome<std::optional<TransportValue>> address_transport(const std::string& text) const;
  Outcome<std::optional<TransportValue>> domain_transport(std::string_view domain) const;
  Result<std::optional<TransportValue>> find_wildcard() const;
  static void apply(const TransportValue& v, std::string_view domain, Destination& d,
                    bool& explicit_hop);
  Outcome<Destination> destination(const Mailbox& box, bool forced_local,
                                   std::vector<DomainFacts>& memo) const;
  Resolution resolve(std::string_view address) const;
  std::string table_name(std::size_t i) const { return cat(tables.param(i), ": ", tables[i].spec()); }
};

// --- step 2: classes -------------------------------------------------------------

Result<AddressClass> Resolver::Impl::classify(std::string_view domain) const {
  if (domain.empty()) return AddressClass::local;
  if (domain[0] == '[') {
    // lib/address spells the tag "IPv6:"; the lists hold folded text.
    std::string folded = to_lower(domain);
    if (interfaces.contains(folded)) return AddressClass::local;
    return classify_lists(folded);
  }
  return classify_lists(domain);
}

Result<AddressClass> Resolver::Impl::classify_lists(std::string_view domain) const {
  struct Step {
    const DomainList& list;
    AddressClass cls;
  };
  for (const Step& s : {Step{mydestination, AddressClass::local},
                        Step{virtual_alias_domains, AddressClass::virtual_alias},
                        Step{virtual_mailbox_domains, AddressClass::virtual_mailbox},
                        Step{relay_domains, AddressClass::relay}}) {
    auto m = s.list.match(domain, tables);
    if (!m) return std::move(m).error();
    if (*m) return s.cls;
  }
  return AddressClass::default_;
}

// The domains for which virtual(5)'s bare "user" keys apply.
Outcome<bool> Resolver::Impl::bare_user_domain(std::string_view domain) const {
  if (domain == myorigin) return true;
  std::string folded;
  if (domain[0] == '[') {
    folded = to_lower(domain);
    if (interfaces.contains(folded)) return true;
    domain = folded;
  }
  auto m = mydestination.match(domain, tables);
  if (!m) return lookup_failure("Domain table lookup failure", m.error().detail);
  return *m;
}

// --- step 1: virtual aliases -----------------------------------------------------

Outcome<std::optional<AliasMatch>> Resolver::Impl::alias_lookup(const Mailbox& box,
                                                               const std::string& text) const {
  auto bare = bare_user_domain(box.domain);
  if (!bare) return std::move(bare.failure());
  bool local = *bare;
  maps::AddressLookup how{delimiter, [local](std::string_view) { return local; }};
  // Each key form in every table before the next form, as Postfix's
  // maps_find; pattern tables only see the whole address.
  for (std::string& key : maps::address_keys(text, how)) {
    for (std::size_t i : virtual_alias_maps) {
      const maps::Table& t = tables[i];
      if (t.is_pattern() && key != text) continue;
      auto r = t.lookup(key);
      if (!r)
        return lookup_failure("Virtual alias table lookup failure",
                              cat(table_name(i), ": ", r.error().detail));
      if (!*r) continue;
      AliasMatch m{std::move(**r), i, std::move(key), {}};
      if (m.key[0] != '@') {
        std::size_t key_local = std::min(m.key.rfind('@'), m.key.size());
        std::size_t full_local = text.rfind('@');
        if (key_local < full_local) m.dropped = text.substr(key_local, full_local - key_local);
      }
      return std::optional<AliasMatch>(std::move(m));
    }
  }
  return std::optional<AliasMatch>();
}

Outcome<std::vector<Mailbox>> Resolver::Impl::alias_results(const AliasMatch& m) const {
  auto bad = [&](std::string_view why) {
    return config_failure(cat(table_name(m.table), ": ", printable(m.key), " -> \"",
                              printable(m.value), "\": ", why));
  };
  auto items = split_address_list(m.value);
  if (!items) return bad(items.error().detail);
  std::vector<Mailbox> out;
  out.reserve(items->size());
  for (const std::string& item : *items) {
    auto box = parse_address(item);
    if (!box) return bad(cat("\"", printable(item), "\": ", box.error().detail));
    if (!box->qualified()) box->domain = myorigin;
    // propagate_unmatched_extensions: the results of user@domain found for
    // user+ext@domain become result+ext (unless that is too long a local
    // part to be an address).
    if (propagate && !m.dropped.empty() &&
        box->local.size() + m.dropped.size() <= address::kMaxLocal)
      box->local += m.dropped;
    out.push_back(std::move(*box));
  }
  return out;
}

// Depth-first expansion; the tree of nodes gives each address its
// ancestors, for the loop check.
Outcome<std::vector<Mailbox>> Resolver::Impl::expand(const Mailbox& root) const {
  struct Node {
    Mailbox box;
    std::string key;  // fold_key(box)
    int parent;
    std::size_t depth;
  };
  std::vector<Node> nodes{{root, fold_key(root), -1, 0}};
  std::vector<int> pending{0};
  std::vector<std::string> to_self;  // keys whose results include themselves
  std::vector<Mailbox> finals;
  auto add_final = [&](const Mailbox& box) {
    if (std::find(finals.begin(), finals.end(), box) == finals.end()) finals.push_back(box);
  };
  auto chain = [&](int i) {
    std::vector<std::string> path;
    for (; i >= 0; i = nodes[i].parent) path.push_back(address::to_string(nodes[i].box));
    std::reverse(path.begin(), path.end());
    return printable(join(path, " -> "));
  };
  while (!pending.empty()) {
    const int i = pending.back();
    pending.pop_back();
    if (std::find(to_self.begin(), to_self.end(), nodes[i].key) != to_self.end()) {
      add_final(nodes[i].box);
      continue;
    }
    for (int a = nodes[i].parent; a >= 0; a = nodes[a].parent)
      if (nodes[a].key == nodes[i].key)
        return Failure{true, "4.3.0", "Virtual alias loop", cat("virtual alias loop: ", chain(i))};
    const std::string text = address::to_string(nodes[i].box);
    auto match = alias_lookup(nodes[i].box, text);
    if (!match) return std::move(match.failure());
    if (!*match) {
      add_final(nodes[i].box);
      continue;
    }
    if (nodes[i].depth >= recursion_limit)
      return Failure{true, "4.3.0", "Virtual alias table recursion limit exceeded",
                     cat("virtual_alias_recursion_limit ", recursion_limit, " exceeded: ", chain(i))};
    auto results = alias_results(**match);
    if (!results) return std::move(results.failure());
    const std::size_t depth = nodes[i].depth + 1;
    const std::string key = nodes[i].key;
    // Pushed last first, so they come off the stack in the table's order.
    for (auto r = results->rbegin(); r != results->rend(); ++r) {
      std::string k = fold_key(*r);
      if (k == key && std::find(to_self.begin(), to_self.end(), key) == to_self.end())
        to_self.push_back(key);
      nodes.push_back({std::move(*r), std::move(k), i, depth});
      pending.push_back(static_cast<int>(nodes.size() - 1));
    }
    if (finals.size() + pending.size() > expansion_limit)
      return Failure{true, "4.3.0", "Virtual alias table expansion limit exceeded",
                     cat("virtual_alias_expansion_limit ", expansion_limit, " exceeded by ",
                         printable(address::to_string(root)))};
  }
  return finals;
}

// --- steps 3 to 5: transport and next hop ------------------------------------------

Outcome<std::optional<TransportValue>> Resolver::Impl::transport_value(std::size_t table,
                                                                      std::string_view key,
                                                                      std::string_view value) const {
  auto tv = parse_transport_value(value);
  if (!tv)
    return config_failure(cat(table_name(table), ": ", printable(key), " -> \"", printable(value),
                              "\": ", tv.error().detail));
  return std::optional<TransportValue>(std::move(*tv));
}

// transport(5)'s address forms: user+ext@domain (pattern tables see only
// this one), then user@domain.
Outcome<std::optional<TransportValue>> Resolver::Impl::address_transport(
    const std::string& text) const {
  bool first = true;
  for (const std::string& key : maps::address_keys(text, maps::AddressLookup{delimiter, {}})) {
    if (key[0] == '@') break;  // "@domain" is not a transport(5) form
    for (std::size_t i : transport_maps) {
      const maps::Table& t = tables[i];
      if (t.is_pattern() && !first) continue;
      auto r = t.lookup(key);
      if (!r)
        return lookup_failure("Transport table lookup failure",
                              cat(table_name(i), ": ", r.error().detail));
      if (*r) return transport_value(i, key, **r);
    }
    first = false;
  }
  return std::optional<TransportValue>();
}

// The domain forms: the domain, its parents, then "*" (read when the tables
// were opened, as Postfix does).
Outcome<std::optional<TransportValue>> Resolver::Impl::domain_transport(
    std::string_view domain) const {
  for (const std::string& key : domain_keys(domain, transport_parent_style)) {
    for (std::size_t i : transport_maps) {
      const maps::Table& t = tables[i];
      if (t.is_pattern()) continue;
      auto r = t.lookup(key);
      if (!r)
        return lookup_failure("Transport table lookup failure",
                              cat(table_name(i), ": ", r.error().detail));
      if (*r) return transport_value(i, key, **r);
    }
  }
  return wildcard;
}

Result<std::optional<TransportValue>> Resolver::Impl::find_wildcard() const {
  for (std::size_t i : transport_maps) {
    const maps::Table& t = tables[i];
    if (t.is_pattern()) continue;
    auto r = t.lookup("*");
    if (!r) return make_error(r.error().code, cat(table_name(i), ": ", r.error().detail));
    if (!*r) continue;
    auto tv = parse_transport_value(**r);
    if (!tv)
      return make_error(Errc::invalid, cat(table_name(i), ": * -> \"", printable(**r), "\": ",
                                           tv.error().detail));
    return std::optional<TransportValue>(std::move(*tv));
  }
  return std::optional<TransportValue>();
}

Outcome<Resolver::Impl::DomainFacts*> Resolver::Impl::facts_of(std::string_view domain,
                                                                 std::vector<DomainFacts>& memo) const {
  for (DomainFacts& f : memo)
    if (f.domain == domain) return &f;
  auto cls = classify(domain);
  if (!cls) return lookup_failure("Domain table lookup failure", cls.error().detail);
  memo.push_back({std::string(domain), *cls, false, {}});
  return &memo.back();
}

Outcome<Destination> Resolver::Impl::destination(const Mailbox& box, bool forced_local,
                                                 std::vector<DomainFacts>& memo) const {
  Destination d;
  d.recipient = address::to_string(box);
  auto facts = facts_of(box.domain, memo);
  if (!facts) return std::move(facts.failure());
  DomainFacts& f = **facts;
  d.cls = forced_local ? AddressClass::local : f.cls;
  if (d.cls == AddressClass::virtual_alias) {
    d.transport = "error";
    d.nexthop = std::string(kUnknownInVirtualAliasTable);
    return d;
  }
  // The class's transport parameter, and the next hop when it names none.
  const TransportValue* tv = &default_tv;
  std::string_view hop = relayhost.empty() ? std::string_view(box.domain) : relayhost;
  if (d.cls == AddressClass::local) {
    tv = &local_tv;
    hop = myhostname;
  } else if (d.cls == AddressClass::virtual_mailbox) {
    tv = &virtual_tv;
    hop = box.domain;
  } else if (d.cls == AddressClass::relay) {
    tv = &relay_tv;
  }
  d.transport = tv->transport;
  bool explicit_hop = !tv->nexthop.empty();
  d.nexthop = std::string(explicit_hop ? std::string_view(tv->nexthop) : hop);
  if (!transport_maps.empty()) {
    auto v = address_transport(d.recipient);
    if (!v) return std::move(v.failure());
    if (!*v) {
      // The domain's answer is the same for every user in it.
      if (!f.transport_searched) {
        auto t = domain_transport(box.domain);
        if (!t) return std::move(t.failure());
        f.transport = std::move(*t);
        f.transport_searched = true;
      }
      *v = f.transport;
    }
    if (*v) apply(**v, box.domain, d, explicit_hop);
  }
  if ((d.transport == "error" || d.transport == "retry") && !explicit_hop)
    d.nexthop = std::string(kUndeliverable);
  return d;
}

// transport(5): an empty transport keeps the class's one; a transport
// without next hop sends to the recipient's domain; ":" changes nothing.
void Resolver::Impl::apply(const TransportValue& v, std::string_view domain, Destination& d,
                           bool& explicit_hop) {
  if (!v.transport.empty()) d.transport = v.transport;
  if (!v.nexthop.empty()) {
    d.nexthop = v.nexthop;
    explicit_hop = true;
  } else if (!v.transport.empty()) {
    d.nexthop = std::string(domain);
    explicit_hop = false;
  }
}

Resolution Resolver::Impl::resolve(std::string_view address) const {
  std::string_view text = trim(address);
  bool empty = text.empty();
  if (empty) text = empty_recipient;
  auto root = parse_address(text);
  if (!root)
    return failed({false, "5.1.3", "Bad recipient address syntax",
                   cat("recipient \"", printable(address), "\": ", root.error().detail)});
  // An unqualified "postmaster" is ours whatever $myorigin is.
  const bool postmaster = !root->qualified() && iequals(root->local, "postmaster");
  if (!root->qualified()) root->domain = empty ? myhostname : myorigin;

  std::vector<Mailbox> finals;
  if (virtual_alias_maps.empty()) {
    finals.push_back(*root);
  } else {
    auto expanded = expand(*root);
    if (!expanded) return failed(std::move(expanded.failure()));
    finals = std::move(*expanded);
  }
  Resolution out;
  out.destinations.reserve(finals.size());
  std::vector<DomainFacts> memo;
  for (const Mailbox& box : finals) {
    auto d = destination(box, postmaster && box == *root, memo);
    if (!d) return failed(std::move(d.failure()));
    out.destinations.push_back(std::move(*d));
  }
  return out;
}

// --- setup -------------------------------------------------------------------------

namespace {

Result<TransportValue> transport_param(const config::Config& cfg, std::string_view name) {
  std::string value = cfg.get(name);
  auto tv = parse_transport_value(value);
  if (!tv) return make_error(Errc::invalid, cat(name, ": ", tv.error().detail));
  if (tv->transport.empty())
    return make_error(Errc::invalid, cat(name, ": \"", printable(value), "\" names no transport"));
  return tv;
}

Result<std::string> domain_param(const config::Config& cfg, std::string_view name) {
  std::string value = detail::fold_domain(cfg.get(name));
  auto d = address::canonical_domain(value, {.smtputf8 = true});
  if (!d)
    return make_error(Errc::invalid,
                      cat(name, ": \"", printable(value), "\" is not a domain: ", d.error().detail));
  return d;
}

Result<std::vector<std::size_t>> open_tables(const config::Config& cfg, std::string_view name,
                                             TableSet& tables) {
  std::vector<std::size_t> out;
  for (const std::string& spec : cfg.get_list(name)) {
    auto i = tables.open(spec, name);
    if (!i) return std::move(i).error();
    out.push_back(*i);
  }
  return out;
}

}  // namespace

Result<Resolver> Resolver::from_config(const config::Config& cfg) {
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  auto host = domain_param(cfg, "myhostname");
  if (!host) return std::move(host).error();
  m.myhostname = std::move(*host);
  auto origin = domain_param(cfg, "myorigin");
  if (!origin) return std::move(origin).error();
  m.myorigin = std::move(*origin);
  m.empty_recipient = cfg.get("empty_address_recipient");
  m.delimiter = cfg.get("recipient_delimiter");
  for (const std::string& p : cfg.get_list("propagate_unmatched_extensions"))
    m.propagate = m.propagate || iequals(p, "virtual");
  m.recursion_limit = static_cast<std::size_t>(cfg.get_int("virtual_alias_recursion_limit"));
  m.expansion_limit = static_cast<std::size_t>(cfg.get_int("virtual_alias_expansion_limit"));

  struct TransportParam {
    std::string_view name;
    TransportValue& into;
  };
  for (const TransportParam& p : {TransportParam{"local_transport", m.local_tv},
                                  TransportParam{"virtual_transport", m.virtual_tv},
                                  TransportParam{"relay_transport", m.relay_tv},
                                  TransportParam{"default_transport", m.default_tv}}) {
    auto tv = transport_param(cfg, p.name);
    if (!tv) return std::move(tv).error();
    p.into = std::move(*tv);
  }
  m.relayhost = std::string(trim(cfg.get("relayhost")));
  if (!m.relayhost.empty())
    if (auto hops = parse_nexthop_list(m.relayhost); !hops)
      return make_error(Errc::invalid, cat("relayhost: ", hops.error().detail));
  m.transport_parent_style = detail::parent_matches_subdomains(cfg, "transport_maps");

  auto va = open_tables(cfg, "virtual_alias_maps", m.tables);
  if (!va) return std::move(va).error();
  m.virtual_alias_maps = std::move(*va);
  auto tm = open_tables(cfg, "transport_maps", m.tables);
  if (!tm) return std::move(tm).error();
  m.transport_maps = std::move(*tm);
  auto wild = m.find_wildcard();
  if (!wild) return std::move(wild).error();
  m.wildcard = std::move(*wild);

  struct ListParam {
    std::string_view name;
    DomainList& into;
  };
  for (const ListParam& p : {ListParam{"mydestination", m.mydestination},
                             ListParam{"virtual_alias_domains", m.virtual_alias_domains},
                             ListParam{"virtual_mailbox_domains", m.virtual_mailbox_domains},
                             ListParam{"relay_domains", m.relay_domains}}) {
    auto list = DomainList::from_config(cfg, p.name, m.tables);
    if (!list) return std::move(list).error();
    p.into = std::move(*list);
  }
  auto interfaces = LocalAddresses::from_config(cfg);
  if (!interfaces) return std::move(interfaces).error();
  m.interfaces = std::move(*interfaces);
  return Resolver(std::move(impl));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::Resolver(Resolver&&) noexcept = default;
Resolver& Resolver::operator=(Resolver&&) noexcept = default;
Resolver::~Resolver() = default;

Resolution Resolver::resolve(std::string_view address) const { return impl_->resolve(address); }

Result<AddressClass> Resolver::classify_domain(std::string_view domain) const {
  return impl_->classify(detail::fold_domain(domain));
}

Result<int> Resolver::refresh() {
  auto reopened = impl_->tables.refresh();
  // The tables that did reopen may have a new "*", even when others failed.
  auto wild = impl_->find_wildcard();
  if (wild) impl_->wildcard = std::move(*wild);
  if (!reopened) return reopened;
  if (!wild) return std::move(wild).error();
  return reopened;
}

}  // namespace posthorn::resolve
