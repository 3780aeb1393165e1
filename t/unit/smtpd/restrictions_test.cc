// The restriction engine (smtpd/restrictions.h) with a fake DNS, fake
// domain classes and fake user tables: no sockets, no files.
#include "smtpd/restrictions.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <map>
#include <set>

#include "lib/base/strings.h"
#include "lib/config/value.h"

using namespace posthorn;
using namespace posthorn::smtpd;

namespace {

using C = resolve::AddressClass;

dns::Answer answer(dns::Status st, std::vector<std::string> addrs = {}) {
  dns::Answer a;
  a.status = st;
  for (const std::string& t : addrs) {
    dns::Address x;
    x.text = t;
    a.addresses.push_back(x);
  }
  return a;
}

class FakeEnv : public PolicyEnv {
 public:
  // name|TYPE -> answer; anything else is NXDOMAIN.
  std::map<std::string, dns::Answer> zone;
  std::vector<std::string> asked;
  std::vector<std::function<void()>> pending;
  std::map<std::string, C> classes = {{"example.org", C::local},       {"", C::local},
                                      {"virtual.example", C::virtual_mailbox},
                                      {"alias.example", C::virtual_alias},
                                      {"relay.example", C::relay}};
  std::set<std::string> users = {"alice@example.org", "bob@virtual.example"};
  bool tables_broken = false;

  dns::Lookup dns_query(std::string_view name, dns::RrType type,
                        std::function<void(dns::Answer)> cb) override {
    const std::string key = cat(name, "|", dns::type_name(type));
    asked.push_back(key);
    auto it = zone.find(key);
    dns::Answer a = it != zone.end() ? it->second : answer(dns::Status::nxdomain);
    pending.push_back([cb, a] { cb(a); });  // later, as the real resolver
    return dns::Lookup();
  }
  std::map<std::string, dns::Answer> cache;  // what cached() knows
  const dns::Answer* cached(std::string_view name, dns::RrType type) const override {
    auto it = cache.find(cat(name, "|", dns::type_name(type)));
    return it == cache.end() ? nullptr : &it->second;
  }
  Result<C> classify(std::string_view domain) const override {
    auto it = classes.find(std::string(domain));
    return it == classes.end() ? C::default_ : it->second;
  }
  Result<std::optional<std::string>> unknown_recipient(std::string_view address, C cls) const override {
    if (tables_broken) return make_error(Errc::io, "table gone");
    if (users.count(std::string(address))) return std::optional<std::string>();
    switch (cls) {
      case C::local: return std::optional<std::string>("local recipient");
      case C::virtual_mailbox: return std::optional<std::string>("virtual mailbox");
      case C::virtual_alias: return std::optional<std::string>("virtual alias");
      default: return std::optional<std::string>();
    }
  }
  void run() {
    while (!pending.empty()) {
      auto now = std::move(pending);
      pending.clear();
      for (auto& f : now) f();
    }
  }
};

struct Lists {
  std::string client, helo, sender, relay = "permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
                                   recipient, etrn;
};

RestrictionSettings settings(const Lists& l, bool delay = true) {
  RestrictionSettings s;
  const std::string* texts[] = {&l.client, &l.helo, &l.sender, &l.relay, &l.recipient, &l.etrn};
  for (std::size_t i = 0; i < kListCount; ++i) s.lists[i] = config::split_list(*texts[i]);
  s.delay_reject = delay;
  s.mynetworks = *parse_networks({"127.0.0.1/32"});
  s.recipient_delimiter = "+";
  return s;
}

CheckRequest rcpt(std::string recipient, std::string sender = "s@sender.example",
                  std::string addr = "192.0.2.1") {
  CheckRequest r;
  r.point = CheckPoint::rcpt;
  r.client.addr = std::move(addr);
  r.helo = "client.example.net";
  r.has_sender = true;
  r.sender = std::move(sender);
  r.recipient = std::move(recipient);
  return r;
}

Verdict evaluate(const Restrictions& r, FakeEnv& env, const CheckRequest& req) {
  Evaluation e(r, env, req);
  std::optional<Verdict> later;
  auto now = e.run([&](Verdict v) { later = v; });
  if (now) {
    CHECK(env.pending.empty());
    return *now;
  }
  env.run();
  REQUIRE(later);
  return *later;
}

std::string line(const Verdict& v) {
  if (v.accepted) return "accepted";
  return cat(v.reply.code, " ", v.reply.enhanced, " ", v.reply.text);
}

}  // namespace

TEST_CASE("the default relay restrictions refuse relaying from outside", "[smtpd][restrictions]") {
  FakeEnv env;
  Restrictions r(settings({}));
  CHECK(r.problems().empty());
  CHECK(r.relay_protected());
  CHECK(line(evaluate(r, env, rcpt("x@far.example"))) == "454 4.7.1 <x@far.example>: Relay access denied");
  // mynetworks and AUTH may relay.
  CHECK(evaluate(r, env, rcpt("x@far.example", "s@sender.example", "127.0.0.1")).accepted);
  CheckRequest authed = rcpt("x@far.example");
  authed.sasl_login = "alice";
  CHECK(evaluate(r, env, authed).accepted);
  // Our own domains, known users.
  CHECK(evaluate(r, env, rcpt("alice@example.org")).accepted);
  CHECK(evaluate(r, env, rcpt("bob@virtual.example")).accepted);
  CHECK(evaluate(r, env, rcpt("anyone@relay.example")).accepted);
  CHECK(evaluate(r, env, rcpt("postmaster")).accepted);
}

TEST_CASE("reject_unauth_destination answers 554, relay_domains_reject_code", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.relay = "";
  l.recipient = "permit_mynetworks, reject_unauth_destination";
  RestrictionSettings s = settings(l);
  Restrictions r(s);
  CHECK(line(evaluate(r, env, rcpt("x@far.example"))) == "554 5.7.1 <x@far.example>: Relay access denied");
  s.codes.relay = 550;
  Restrictions r550(s);
  CHECK(line(evaluate(r550, env, rcpt("x@far.example"))) == "550 5.7.1 <x@far.example>: Relay access denied");
}

TEST_CASE("no list that refuses other destinations: not relay protected", "[smtpd][restrictions]") {
  Lists l;
  l.relay = "permit_mynetworks";
  l.recipient = "permit_sasl_authenticated";
  CHECK_FALSE(Restrictions(settings(l)).relay_protected());
  l.recipient = "reject";
  CHECK(Restrictions(settings(l)).relay_protected());
}

TEST_CASE("unknown users get 550 5.1.1 with the table's name", "[smtpd][restrictions]") {
  FakeEnv env;
  Restrictions r(settings({}));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nobody@example.org",
       "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table"},
      {"nobody@virtual.example",
       "550 5.1.1 <nobody@virtual.example>: Recipient address rejected: User unknown in virtual mailbox table"},
      {"nobody@alias.example",
       "550 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias table"},
  };
  for (const auto& [addr, want] : cases) CHECK(line(evaluate(r, env, rcpt(addr))) == want);
  // Also from inside mynetworks: the implicit check follows the lists.
  CHECK(line(evaluate(r, env, rcpt("nobody@example.org", "s@x.example", "127.0.0.1"))).starts_with("550 5.1.1"));
  // smtpd_reject_unlisted_recipient = no: only an explicit restriction checks.
  RestrictionSettings off = settings({});
  off.reject_unlisted_recipient = false;
  CHECK(evaluate(Restrictions(off), env, rcpt("nobody@example.org")).accepted);
  Lists l;
  l.recipient = "reject_unlisted_recipient";
  off = settings(l);
  off.reject_unlisted_recipient = false;
  CHECK(line(evaluate(Restrictions(off), env, rcpt("nobody@example.org"))).starts_with("550 5.1.1"));
  // The table cannot be read: a temporary failure, never a guess.
  env.tables_broken = true;
  CHECK(line(evaluate(r, env, rcpt("nobody@example.org"))) ==
        "451 4.3.0 <nobody@example.org>: Recipient address rejected: Temporary lookup failure");
}

TEST_CASE("smtpd_delay_reject decides where client, HELO and sender lists apply", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.client = "reject";
  CheckRequest connect;
  connect.point = CheckPoint::connect;
  connect.client.addr = "192.0.2.1";
  const std::string client_refused = "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied";
  SECTION("yes: everything at RCPT") {
    Restrictions r(settings(l, true));
    CHECK(evaluate(r, env, connect).accepted);
    CHECK(line(evaluate(r, env, rcpt("alice@example.org"))) == client_refused);
  }
  SECTION("no: each at its command") {
    Restrictions r(settings(l, false));
    CHECK(line(evaluate(r, env, connect)) == client_refused);
    CHECK(evaluate(r, env, rcpt("alice@example.org")).accepted);
  }
  SECTION("no: HELO and sender lists at HELO and MAIL") {
    Lists h;
    h.helo = "reject_non_fqdn_helo_hostname";
    h.sender = "reject_non_fqdn_sender";
    Restrictions r(settings(h, false));
    CheckRequest helo;
    helo.point = CheckPoint::helo;
    helo.helo = "bare";
    CHECK(line(evaluate(r, env, helo)) == "504 5.5.2 <bare>: Helo command rejected: need fully-qualified hostname");
    CheckRequest mail = rcpt("");
    mail.point = CheckPoint::mail;
    mail.sender = "a@localhost";
    CHECK(line(evaluate(r, env, mail)) == "504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address");
    // ... and not again at RCPT.
    CheckRequest later = rcpt("alice@example.org", "a@localhost");
    later.helo = "bare";
    CHECK(evaluate(r, env, later).accepted);
  }
}

TEST_CASE("a permit ends its list only; the lists run in Postfix's order", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.client = "permit";
  l.sender = "reject";
  CHECK(line(evaluate(Restrictions(settings(l)), env, rcpt("x@far.example"))) ==
        "554 5.7.1 <s@sender.example>: Sender address rejected: Access denied");
  l.sender = "permit";
  l.relay = "reject_unauth_destination";
  CHECK(line(evaluate(Restrictions(settings(l)), env, rcpt("x@far.example"))).starts_with("554 5.7.1 <x@far.example>"));
  // Relay passes, recipient list refuses.
  l.relay = "permit";
  l.recipient = "defer";
  CHECK(line(evaluate(Restrictions(settings(l)), env, rcpt("alice@example.org"))) ==
        "450 4.7.1 <alice@example.org>: Recipient address rejected: Access denied");
}

TEST_CASE("non-FQDN and invalid names", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.helo = "reject_invalid_helo_hostname reject_non_fqdn_helo_hostname";
  l.recipient = "reject_non_fqdn_recipient";
  Restrictions r(settings(l));
  CheckRequest req = rcpt("alice@example.org");
  for (const char* ok : {"client.example.net", "[192.0.2.1]", "[IPv6:2001:db8::1]", "mx-1.example.net."}) {
    req.helo = ok;
    CHECK(evaluate(r, env, req).accepted);
  }
  req.helo = "bad_name!.example";
  CHECK(line(evaluate(r, env, req)) == "501 5.5.2 <bad_name!.example>: Helo command rejected: Invalid name");
  req.helo = "[300.1.1.1]";
  CHECK(line(evaluate(r, env, req)).starts_with("501 5.5.2"));
  req.helo = "localhost";
  CHECK(line(evaluate(r, env, req)).starts_with("504 5.5.2 <localhost>: Helo command rejected"));
  CHECK(line(evaluate(r, env, rcpt("user@localhost", "s@sender.example", "127.0.0.1"))) ==
        "504 5.5.2 <user@localhost>: Recipient address rejected: need fully-qualified address");
  CHECK(evaluate(r, env, rcpt("postmaster")).accepted);
}

TEST_CASE("reject_unknown_sender_domain: MX, then A, then AAAA", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.sender = "reject_unknown_sender_domain";
  RestrictionSettings s = settings(l);
  Restrictions r(s);
  env.zone["mx.example|MX"] = answer(dns::Status::found);
  env.zone["a.example|MX"] = answer(dns::Status::nodata);
  env.zone["a.example|A"] = answer(dns::Status::found, {"192.0.2.9"});
  env.zone["six.example|MX"] = answer(dns::Status::nodata);
  env.zone["six.example|A"] = answer(dns::Status::nodata);
  env.zone["six.example|AAAA"] = answer(dns::Status::found, {"2001:db8::9"});
  env.zone["none.example|MX"] = answer(dns::Status::nodata);
  env.zone["none.example|A"] = answer(dns::Status::nodata);
  env.zone["none.example|AAAA"] = answer(dns::Status::nodata);
  env.zone["broken.example|MX"] = answer(dns::Status::server_failure);
  env.zone["nullmx.example|MX"] = answer(dns::Status::null_mx);
  CHECK(evaluate(r, env, rcpt("alice@example.org", "a@mx.example")).accepted);
  CHECK(env.asked == std::vector<std::string>{"mx.example|MX"});
  CHECK(evaluate(r, env, rcpt("alice@example.org", "a@a.example")).accepted);
  CHECK(evaluate(r, env, rcpt("alice@example.org", "a@six.example")).accepted);
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", "a@none.example"))) ==
        "450 4.1.8 <a@none.example>: Sender address rejected: Domain not found");
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", "a@nx.example"))) ==
        "450 4.1.8 <a@nx.example>: Sender address rejected: Domain not found");
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", "a@nullmx.example"))) ==
        "556 5.7.27 <a@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)");
  // The null sender and our own domains are not looked up.
  env.asked.clear();
  CHECK(evaluate(r, env, rcpt("alice@example.org", "")).accepted);
  CHECK(evaluate(r, env, rcpt("alice@example.org", "x@example.org")).accepted);
  CHECK(env.asked.empty());
  s.codes.unknown_address = 550;
  Restrictions r550(s);
  CHECK(line(evaluate(r550, env, rcpt("alice@example.org", "a@nx.example"))) ==
        "550 5.1.8 <a@nx.example>: Sender address rejected: Domain not found");
  // A temporary DNS failure defers whatever the code.
  CHECK(line(evaluate(r550, env, rcpt("alice@example.org", "a@broken.example"))) ==
        "450 4.1.8 <a@broken.example>: Sender address rejected: Domain not found");
}

TEST_CASE("reject_rbl_client asks the list for the reversed address", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.client = "reject_rbl_client rbl.test, reject_rbl_client filtered.test=127.0.0.4";
  Restrictions r(settings(l));
  CHECK(r.problems().empty());
  env.zone["1.2.0.192.rbl.test|A"] = answer(dns::Status::found, {"127.0.0.2"});
  CHECK(line(evaluate(r, env, rcpt("alice@example.org"))) ==
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using rbl.test");
  // Not listed in either; a filter that does not match is no hit.
  env.asked.clear();
  env.zone["2.2.0.192.filtered.test|A"] = answer(dns::Status::found, {"127.0.0.2"});
  CHECK(evaluate(r, env, rcpt("alice@example.org", "s@sender.example", "192.0.2.2")).accepted);
  CHECK(env.asked == std::vector<std::string>{"2.2.0.192.rbl.test|A", "2.2.0.192.filtered.test|A"});
  env.zone["3.2.0.192.filtered.test|A"] = answer(dns::Status::found, {"127.0.0.2", "127.0.0.4"});
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", "s@sender.example", "192.0.2.3"))).ends_with(
      "blocked using filtered.test"));
  // A list that does not answer is ignored.
  env.zone["4.2.0.192.rbl.test|A"] = answer(dns::Status::timeout);
  CHECK(evaluate(r, env, rcpt("alice@example.org", "s@sender.example", "192.0.2.4")).accepted);
}

TEST_CASE("check_*_access with access(5) values", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.client = "check_client_access inline:{192.0.2=REJECT,198.51.100.7=OK}";
  l.helo = "check_helo_access inline:{.bad.example=DEFER}";
  l.sender = "check_sender_access inline:{spam.example=REJECT,good.spam.example=DUNNO,<>=550}";
  l.recipient = "check_recipient_access inline:{alice@=OK}";
  l.relay = "permit_mynetworks, reject_unauth_destination";
  Restrictions r(settings(l));
  REQUIRE(r.problems().empty());
  CHECK(line(evaluate(r, env, rcpt("alice@example.org"))) ==
        "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied");
  CheckRequest req = rcpt("alice@example.org", "x@spam.example", "198.51.100.1");
  CHECK(line(evaluate(r, env, req)) == "554 5.7.1 <x@spam.example>: Sender address rejected: Access denied");
  req.sender = "x@sub.spam.example";  // parents as .spam.example: no match
  CHECK(evaluate(r, env, req).accepted);
  req.sender = "x@good.spam.example";  // DUNNO stops the search before the parent
  CHECK(evaluate(r, env, req).accepted);
  req.helo = "host.bad.example";
  CHECK(line(evaluate(r, env, req)) == "450 4.7.1 <host.bad.example>: Helo command rejected: Access denied");
  // A permit in the client list does not pass the relay list.
  CHECK(line(evaluate(r, env, rcpt("x@far.example", "a@b.example", "198.51.100.7"))).starts_with("554 5.7.1 <x@far.example>: Relay"));
}

TEST_CASE("access values with texts and codes", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.sender = "check_sender_access inline:{{a.example=REJECT go away},{b.example=550 5.1.0 no such sender},"
             "{c.example=451 try later},{d.example=DEFER 4.2.0 busy},{e.example=FROB}}";
  Restrictions r(settings(l));
  REQUIRE(r.problems().empty());
  auto sender = [&](std::string s) { return line(evaluate(r, env, rcpt("alice@example.org", s))); };
  CHECK(sender("x@a.example") == "554 5.7.1 <x@a.example>: Sender address rejected: go away");
  CHECK(sender("x@b.example") == "550 5.1.0 <x@b.example>: Sender address rejected: no such sender");
  CHECK(sender("x@c.example") == "451 4.7.1 <x@c.example>: Sender address rejected: try later");
  CHECK(sender("x@d.example") == "450 4.2.0 <x@d.example>: Sender address rejected: busy");
  CHECK(sender("x@e.example") == "451 4.3.5 Server configuration error");
}

TEST_CASE("the null sender is looked up as <>", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.sender = "check_sender_access inline:{<>=REJECT}";
  Restrictions r(settings(l));
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", ""))) ==
        "554 5.7.1 <>: Sender address rejected: Access denied");
}

TEST_CASE("configuration errors answer 451 4.3.5 and name the parameter", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.recipient = "permit_mynetworks, reject_everything_bad";
  l.sender = "check_sender_access";
  l.helo = "check_helo_access texthash:/nonexistent/file";
  Restrictions r(settings(l));
  REQUIRE(r.problems().size() == 3);
  CHECK(r.problems()[0].starts_with("smtpd_helo_restrictions: check_helo_access texthash:/nonexistent/file"));
  CHECK(r.problems()[1] == "smtpd_sender_restrictions: restriction \"check_sender_access\" needs an argument");
  CHECK(r.problems()[2] == "smtpd_recipient_restrictions: unknown restriction \"reject_everything_bad\"");
  CHECK(line(evaluate(r, env, rcpt("alice@example.org"))) == "451 4.3.5 Server configuration error");
  // Only a list that is reached fails.
  Lists ok;
  ok.recipient = "permit_mynetworks, reject_everything_bad";
  Restrictions r2(settings(ok));
  CHECK(evaluate(r2, env, rcpt("alice@example.org", "a@b.example", "127.0.0.1")).accepted);
  CHECK(line(evaluate(r2, env, rcpt("alice@example.org"))) == "451 4.3.5 Server configuration error");
}

TEST_CASE("client host name restrictions", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.client = "reject_unknown_reverse_client_hostname, reject_unknown_client_hostname";
  Restrictions r(settings(l));
  CheckRequest req = rcpt("alice@example.org");
  CHECK(line(evaluate(r, env, req)) ==
        "450 4.7.25 Client host rejected: cannot find your reverse hostname, [192.0.2.1]");
  req.client.reverse_name = "host.example.net";
  CHECK(line(evaluate(r, env, req)) == "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]");
  req.client.name = "host.example.net";
  CHECK(evaluate(r, env, req).accepted);
}

TEST_CASE("smtpd_etrn_restrictions", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.etrn = "permit_mynetworks, reject";
  Restrictions r(settings(l));
  CheckRequest req;
  req.point = CheckPoint::etrn;
  req.etrn_domain = "example.net";
  req.client.addr = "127.0.0.1";
  CHECK(evaluate(r, env, req).accepted);
  req.client.addr = "192.0.2.1";
  CHECK(line(evaluate(r, env, req)) == "554 5.7.1 <example.net>: Etrn command rejected: Access denied");
}

TEST_CASE("reject_unlisted_sender refuses unknown senders in our domains", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.sender = "reject_unlisted_sender";
  Restrictions r(settings(l));
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", "ghost@example.org"))) ==
        "550 5.1.0 <ghost@example.org>: Sender address rejected: User unknown in local recipient table");
  CHECK(evaluate(r, env, rcpt("alice@example.org", "alice@example.org")).accepted);
  CHECK(evaluate(r, env, rcpt("alice@example.org", "anyone@elsewhere.example")).accepted);
  CHECK(evaluate(r, env, rcpt("alice@example.org", "")).accepted);
}

TEST_CASE("cached DNS answers are used at once", "[smtpd][restrictions]") {
  FakeEnv env;
  Lists l;
  l.client = "reject_rbl_client rbl.test";
  l.sender = "reject_unknown_sender_domain";
  Restrictions r(settings(l));
  env.cache["1.2.0.192.rbl.test|A"] = answer(dns::Status::nxdomain);
  env.cache["a.example|MX"] = answer(dns::Status::nodata);
  env.cache["a.example|A"] = answer(dns::Status::found, {"192.0.2.9"});
  Evaluation e(r, env, rcpt("alice@example.org", "x@a.example"));
  auto v = e.run([](Verdict) { FAIL("no callback for cached answers"); });
  REQUIRE(v);
  CHECK(v->accepted);
  CHECK(env.asked.empty());
  env.cache["1.2.0.192.rbl.test|A"] = answer(dns::Status::found, {"127.0.0.2"});
  CHECK(line(evaluate(r, env, rcpt("alice@example.org", "x@a.example"))).ends_with("blocked using rbl.test"));
}
