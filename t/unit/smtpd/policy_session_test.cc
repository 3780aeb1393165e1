// The session's side of smtpd/policy.h: checks at connect, HELO, MAIL, RCPT
// and ETRN, answered at once or later, with input waiting meanwhile; and
// the client's name lookup (smtpd/peername.h) with a fake DNS.
#include <catch2/catch.hpp>

#include <deque>
#include <map>

#include "lib/base/strings.h"
#include "smtpd/peername.h"
#include "smtpd/session.h"

using namespace posthorn;
using namespace posthorn::smtpd;

namespace {

class NullSink : public Sink {
 public:
  class Msg : public Message {
   public:
    void feed(std::string_view) override {}
    void commit(Done done) override { done({250, "2.0.0", "Ok: queued as Q"}); }
  };
  std::unique_ptr<Message> open(const queue::Envelope&) override { return std::make_unique<Msg>(); }
};

// Answers every check later unless told to answer at once; refuses what
// `refuse` names (by CheckPoint).
class FakePolicy : public Policy {
 public:
  bool immediate = false;
  std::map<CheckPoint, Verdict> verdicts;
  std::vector<CheckRequest> asked;
  std::vector<std::string> flushes;
  std::optional<Verdict> check(const CheckRequest& req) override {
    asked.push_back(req);
    if (!immediate) return std::nullopt;
    return verdict(req.point);
  }
  void flush(const std::string& domain) override { flushes.push_back(domain); }
  Verdict verdict(CheckPoint p) const {
    auto it = verdicts.find(p);
    return it == verdicts.end() ? Verdict::accept() : it->second;
  }
};

Settings settings() {
  Settings s;
  s.myhostname = "mx.example";
  s.banner = "mx.example ESMTP Posthorn";
  s.client_addr = "192.0.2.1";
  s.client_name = "client.example.net";
  s.client_reverse_name = "client.example.net";
  return s;
}

struct Run {
  NullSink sink;
  FakePolicy policy;
  std::string out;
  Session session;
  explicit Run(bool immediate = true)
      : session(settings(), sink, [this](std::string_view b) { out.append(b); }, nullptr, &policy) {
    policy.immediate = immediate;
  }
  std::string say(std::string_view in) {
    const std::size_t at = out.size();
    session.feed(in);
    return out.substr(at);
  }
  // Answers the outstanding check with the policy's verdict for it.
  std::string answer() {
    const std::size_t at = out.size();
    session.policy_checked(policy.verdict(policy.asked.back().point));
    return out.substr(at);
  }
};

}  // namespace

TEST_CASE("checks answered later hold the pipelined input", "[smtpd][policy]") {
  Run r(false);
  r.session.start();
  CHECK(r.session.waiting());
  CHECK(r.out.empty());
  CHECK(r.answer() == "220 mx.example ESMTP Posthorn\r\n");
  CHECK(r.say("EHLO c.example\r\n") == "");
  CHECK(r.policy.asked.back().point == CheckPoint::helo);
  CHECK(r.policy.asked.back().helo == "c.example");
  CHECK(r.answer().find("250-ETRN\r\n") != std::string::npos);
  // MAIL, two RCPTs and DATA in one packet: each waits for its check.
  CHECK(r.say("MAIL FROM:<a@b.example>\r\nRCPT TO:<x@far.example>\r\nRCPT TO:<y@example.org>\r\nDATA\r\n") == "");
  CHECK(r.session.waiting());
  CHECK(r.policy.asked.size() == 3);
  CHECK(r.policy.asked.back().point == CheckPoint::mail);
  CHECK(r.policy.asked.back().sender == "a@b.example");
  r.policy.verdicts[CheckPoint::rcpt] = Verdict::refuse({554, "5.7.1", "<x@far.example>: Relay access denied"});
  // What is answered goes out while the next check waits.
  CHECK(r.answer() == "250 2.1.0 Ok\r\n");
  const CheckRequest rcpt = r.policy.asked.back();
  CHECK(rcpt.point == CheckPoint::rcpt);
  CHECK(rcpt.recipient == "x@far.example");
  CHECK(rcpt.sender == "a@b.example");
  CHECK(rcpt.client.name == "client.example.net");
  CHECK(rcpt.client.addr == "192.0.2.1");
  CHECK(rcpt.helo == "c.example");
  CHECK(r.answer() == "554 5.7.1 <x@far.example>: Relay access denied\r\n");
  r.policy.verdicts.clear();
  CHECK(r.answer() == "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  CHECK_FALSE(r.session.waiting());
}

TEST_CASE("a client refused at connect gets 503 for all but QUIT", "[smtpd][policy]") {
  Run r;
  r.policy.verdicts[CheckPoint::connect] =
      Verdict::refuse({554, "5.7.1", "<client.example.net[192.0.2.1]>: Client host rejected: Access denied"});
  r.session.start();
  CHECK(r.out == "554 5.7.1 <client.example.net[192.0.2.1]>: Client host rejected: Access denied\r\n");
  CHECK(r.say("EHLO c.example\r\n") == "503 5.7.0 Error: access denied for client.example.net[192.0.2.1]\r\n");
  CHECK(r.say("QUIT\r\n") == "221 2.0.0 Bye\r\n");
}

TEST_CASE("refused HELO and MAIL leave the state as it was", "[smtpd][policy]") {
  Run r;
  r.session.start();
  r.policy.verdicts[CheckPoint::helo] = Verdict::refuse({504, "5.5.2", "<bare>: Helo command rejected: need fully-qualified hostname"});
  CHECK(r.say("HELO bare\r\n") == "504 5.5.2 <bare>: Helo command rejected: need fully-qualified hostname\r\n");
  r.policy.verdicts.clear();
  CHECK(r.say("HELO good.example\r\n") == "250 mx.example\r\n");
  r.policy.verdicts[CheckPoint::mail] = Verdict::refuse({554, "5.7.1", "<a@b.example>: Sender address rejected: Access denied"});
  CHECK(r.say("MAIL FROM:<a@b.example>\r\n").starts_with("554 5.7.1"));
  CHECK(r.say("RCPT TO:<x@example.org>\r\n") == "503 5.5.1 Error: need MAIL command\r\n");
  r.policy.verdicts.clear();
  CHECK(r.say("MAIL FROM:<a@b.example>\r\n") == "250 2.1.0 Ok\r\n");
  CHECK(r.say("RCPT TO:<postmaster>\r\n") == "250 2.1.5 Ok\r\n");
  CHECK(r.policy.asked.back().recipient == "postmaster");
}

TEST_CASE("ETRN: syntax, order, checks and the flush answer", "[smtpd][policy]") {
  Run r;
  r.session.start();
  CHECK(r.say("ETRN example.net\r\n") == "503 5.5.1 Error: send HELO/EHLO first\r\n");
  r.say("EHLO c.example\r\n");
  CHECK(r.say("ETRN\r\n") == "501 5.5.4 Syntax: ETRN domain\r\n");
  CHECK(r.say("ETRN bad..name\r\n") == "501 5.5.4 Syntax: ETRN domain\r\n");
  CHECK(r.say("ETRN @Example.NET\r\nNOOP\r\n") == "");
  CHECK(r.session.waiting());
  REQUIRE(r.policy.flushes == std::vector<std::string>{"example.net"});
  CHECK(r.policy.asked.back().point == CheckPoint::etrn);
  CHECK(r.policy.asked.back().etrn_domain == "example.net");
  const std::size_t at = r.out.size();
  r.session.etrn_done(true);
  CHECK(r.out.substr(at) == "250 2.0.0 Queuing started\r\n250 2.0.0 Ok\r\n");
  r.say("ETRN #example.org\r\n");
  CHECK(r.policy.flushes.back() == "example.org");
  const std::size_t at2 = r.out.size();
  r.session.etrn_done(false);
  CHECK(r.out.substr(at2) == "458 4.5.0 Unable to queue messages\r\n");
  r.policy.verdicts[CheckPoint::etrn] = Verdict::refuse({554, "5.7.1", "<example.org>: Etrn command rejected: Access denied"});
  CHECK(r.say("ETRN example.org\r\n") == "554 5.7.1 <example.org>: Etrn command rejected: Access denied\r\n");
  CHECK(r.policy.flushes.size() == 2);
  r.policy.verdicts.clear();
  r.say("MAIL FROM:<a@b.example>\r\n");
  CHECK(r.say("ETRN example.org\r\n") == "503 5.5.1 Error: MAIL transaction in progress\r\n");
}

namespace {

struct FakeDns {
  std::map<std::string, dns::Answer> zone;  // "name|TYPE"
  std::deque<std::function<void()>> pending;
  PeerName::Query query() {
    return [this](std::string_view name, dns::RrType type, std::function<void(dns::Answer)> cb) {
      auto it = zone.find(cat(name, "|", dns::type_name(type)));
      dns::Answer a;
      a.status = dns::Status::nxdomain;
      if (it != zone.end()) a = it->second;
      pending.push_back([cb, a] { cb(a); });
      return dns::Lookup();
    };
  }
  void run() {
    while (!pending.empty()) {
      auto f = std::move(pending.front());
      pending.pop_front();
      f();
    }
  }
};

dns::Answer ptr(std::string name) {
  dns::Answer a;
  a.status = dns::Status::found;
  a.names = {std::move(name)};
  return a;
}

dns::Answer addrs(std::vector<std::string> texts) {
  dns::Answer a;
  a.status = dns::Status::found;
  for (auto& t : texts) {
    dns::Address x;
    x.text = t;
    a.addresses.push_back(x);
  }
  return a;
}

ClientIdentity lookup(FakeDns& dns, const std::string& addr, const dns::HostsFile* hosts = nullptr) {
  PeerName p(dns.query(), hosts);
  std::optional<ClientIdentity> got;
  p.start(addr, [&](ClientIdentity id) { got = id; });
  dns.run();
  REQUIRE(got);
  return *got;
}

}  // namespace

TEST_CASE("the client name is the forward-confirmed PTR name", "[smtpd][policy][peername]") {
  FakeDns dns;
  dns.zone["1.2.0.192.in-addr.arpa|PTR"] = ptr("Mail.Example.NET.");
  dns.zone["mail.example.net|A"] = addrs({"192.0.2.9", "192.0.2.1"});
  dns.zone["2.2.0.192.in-addr.arpa|PTR"] = ptr("liar.example.net");
  dns.zone["liar.example.net|A"] = addrs({"192.0.2.9"});
  dns.zone["3.2.0.192.in-addr.arpa|PTR"].status = dns::Status::server_failure;
  ClientIdentity id = lookup(dns, "192.0.2.1");
  CHECK(id.name == "mail.example.net");
  CHECK(id.reverse_name == "mail.example.net");
  id = lookup(dns, "192.0.2.2");
  CHECK(id.name == "unknown");
  CHECK(id.reverse_name == "liar.example.net");
  CHECK_FALSE(id.name_tempfail);
  id = lookup(dns, "192.0.2.3");
  CHECK(id.name == "unknown");
  CHECK(id.reverse_name == "unknown");
  CHECK(id.name_tempfail);
  id = lookup(dns, "192.0.2.4");  // NXDOMAIN
  CHECK(id.name == "unknown");
  CHECK_FALSE(id.name_tempfail);
  // IPv6 asks the nibble name and AAAA.
  dns.zone["1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa|PTR"] = ptr("six.example.net");
  dns.zone["six.example.net|AAAA"] = addrs({"2001:db8:0::1"});
  CHECK(lookup(dns, "2001:db8::1").name == "six.example.net");
}

TEST_CASE("the hosts file names a client before DNS is asked", "[smtpd][policy][peername]") {
  FakeDns dns;
  dns.zone["1.0.0.127.in-addr.arpa|PTR"] = ptr("from-dns.example.net");
  dns.zone["5.2.0.192.in-addr.arpa|PTR"] = ptr("five.example.net");
  dns.zone["five.example.net|A"] = addrs({"192.0.2.5"});
  const auto hosts = dns::HostsFile::parse("127.0.0.1 localhost\n192.0.2.6 six.test\n192.0.2.7 seven.test\n"
                                           "192.0.2.70 seven.test\n");
  ClientIdentity id = lookup(dns, "127.0.0.1", &hosts);
  CHECK(id.name == "localhost");
  CHECK(id.reverse_name == "localhost");
  CHECK(lookup(dns, "192.0.2.6", &hosts).name == "six.test");
  CHECK(lookup(dns, "192.0.2.5", &hosts).name == "five.example.net");  // not listed: DNS
  CHECK(lookup(dns, "127.0.0.1").name == "unknown");  // without the file: DNS says from-dns, unconfirmed
}
