#include "lib/dns/message.h"

#include <netinet/in.h>

#include <catch2/catch.hpp>

#include "lib/dns/ldns_owned.h"
#include "lib/dns/names.h"

using namespace posthorn;
using namespace posthorn::dns;

namespace {
constexpr std::uint16_t kId = 0x1234;

struct ReplySpec {
  std::string qname = "example.test.";
  ldns_rr_type qtype = LDNS_RR_TYPE_MX;
  std::uint16_t id = kId;
  std::vector<std::string> answers;
  ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR;
  bool qr = true, tc = false, ad = false, no_question = false;
  ldns_pkt_opcode opcode = LDNS_PACKET_QUERY;
};

std::string wire_of(const ldns_pkt* p) {
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  REQUIRE(ldns_pkt2wire(&raw, p, &size) == LDNS_STATUS_OK);
  WirePtr w(raw);
  return std::string(reinterpret_cast<char*>(raw), size);
}

std::string make_reply(const ReplySpec& s) {
  PktPtr p(ldns_pkt_new());
  ldns_pkt_set_id(p.get(), s.id);
  ldns_pkt_set_qr(p.get(), s.qr);
  ldns_pkt_set_tc(p.get(), s.tc);
  ldns_pkt_set_ad(p.get(), s.ad);
  ldns_pkt_set_rcode(p.get(), s.rcode);
  ldns_pkt_set_opcode(p.get(), s.opcode);
  if (!s.no_question) {
    ldns_rr* q = ldns_rr_new();
    ldns_rr_set_owner(q, ldns_dname_new_frm_str(s.qname.c_str()));
    ldns_rr_set_type(q, s.qtype);
    ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
    ldns_rr_set_question(q, true);
    ldns_pkt_push_rr(p.get(), LDNS_SECTION_QUESTION, q);
  }
  for (const auto& text : s.answers) {
    ldns_rr* rr = nullptr;
    REQUIRE(ldns_rr_new_frm_str(&rr, text.c_str(), 300, nullptr, nullptr) == LDNS_STATUS_OK);
    ldns_pkt_push_rr(p.get(), LDNS_SECTION_ANSWER, rr);
  }
  return wire_of(p.get());
}

Reply read(const ReplySpec& s, const std::string& name = "example.test", RrType t = RrType::mx) {
  return read_reply(make_reply(s), name, t, kId);
}
}  // namespace

TEST_CASE("build_query asks recursively with EDNS0 and the DO bit", "[dns][message]") {
  Config cfg;
  auto wire = build_query("mx.example.test", RrType::tlsa, 0xbeef, cfg);
  REQUIRE(wire);
  ldns_pkt* raw = nullptr;
  REQUIRE(ldns_wire2pkt(&raw, reinterpret_cast<const std::uint8_t*>(wire->data()), wire->size()) ==
          LDNS_STATUS_OK);
  PktPtr p(raw);
  CHECK(ldns_pkt_id(p.get()) == 0xbeef);
  CHECK(ldns_pkt_rd(p.get()));
  CHECK_FALSE(ldns_pkt_qr(p.get()));
  CHECK(ldns_pkt_edns_do(p.get()));
  CHECK(ldns_pkt_edns_udp_size(p.get()) == 1232);
  REQUIRE(ldns_pkt_qdcount(p.get()) == 1);
  const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(p.get()), 0);
  CHECK(ldns_rr_get_type(q) == LDNS_RR_TYPE_TLSA);
  CharPtr owner(ldns_rdf2str(ldns_rr_owner(q)));
  CHECK(std::string(owner.get()) == "mx.example.test.");

  cfg.dnssec_ok = false;
  auto plain = build_query("example.test", RrType::a, 1, cfg);
  REQUIRE(ldns_wire2pkt(&raw, reinterpret_cast<const std::uint8_t*>(plain->data()),
                        plain->size()) == LDNS_STATUS_OK);
  PktPtr p2(raw);
  CHECK_FALSE(ldns_pkt_edns_do(p2.get()));
  CHECK(ldns_pkt_ad(p2.get()));  // RFC 6840 5.7
}

TEST_CASE("read_reply ignores what is not a reply to our question", "[dns][message]") {
  ReplySpec good;
  good.answers = {"example.test. 300 IN MX 10 mx.example.test."};
  CHECK(read(good).verdict == Verdict::use);

  auto wrong_id = good;
  wrong_id.id = kId + 1;
  auto not_response = good;
  not_response.qr = false;
  auto other_name = good;
  other_name.qname = "other.test.";
  auto other_type = good;
  other_type.qtype = LDNS_RR_TYPE_A;
  auto no_question_ok = good;
  no_question_ok.no_question = true;
  for (const auto& s : {wrong_id, not_response, other_name, other_type, no_question_ok})
    CHECK(read(s).verdict == Verdict::ignore);
  CHECK(read_reply("", "example.test", RrType::mx, kId).verdict == Verdict::ignore);
  CHECK(read_reply(std::string(11, '\x12'), "example.test", RrType::mx, kId).verdict ==
        Verdict::ignore);
  // Names compare without regard to case.
  auto upper = good;
  upper.qname = "EXAMPLE.Test.";
  CHECK(read(upper).answer.status == Status::found);
}

TEST_CASE("read_reply tells the outcomes apart", "[dns][message]") {
  ReplySpec s;
  s.rcode = LDNS_RCODE_NXDOMAIN;
  CHECK(read(s).answer.status == Status::nxdomain);
  s.rcode = LDNS_RCODE_NOERROR;
  CHECK(read(s).answer.status == Status::nodata);
  s.answers = {"example.test. 300 IN A 192.0.2.1"};  // other type only: still NODATA
  CHECK(read(s).answer.status == Status::nodata);
  for (auto rc :
       {LDNS_RCODE_SERVFAIL, LDNS_RCODE_REFUSED, LDNS_RCODE_FORMERR, LDNS_RCODE_NOTIMPL}) {
    s.rcode = rc;
    auto r = read(s);
    CHECK(r.answer.status == Status::server_failure);
    CHECK(r.answer.rcode == rc);
    CHECK(is_temporary(r.answer.status));
  }
  ReplySpec refused_bare;
  refused_bare.rcode = LDNS_RCODE_REFUSED;
  refused_bare.no_question = true;
  CHECK(read(refused_bare).answer.status == Status::server_failure);
  ReplySpec tc;
  tc.tc = true;
  CHECK(read(tc).verdict == Verdict::truncated);
  ReplySpec notify;
  notify.opcode = LDNS_PACKET_NOTIFY;
  CHECK(read(notify).answer.status == Status::malformed);
}

TEST_CASE("MX records come sorted; a lone MX 0 . is a null MX", "[dns][message]") {
  ReplySpec s;
  s.answers = {
      "example.test. 300 IN MX 20 b.example.test.", "example.test. 100 IN MX 10 A.example.test.",
      "example.test. 300 IN MX 20 c.example.test.", "example.test. 300 IN MX 5 d.example.test."};
  auto r = read(s).answer;
  REQUIRE(r.status == Status::found);
  REQUIRE(r.mx.size() == 4);
  CHECK(r.mx[0].exchange == "d.example.test");
  CHECK(r.mx[1].exchange == "a.example.test");
  CHECK(r.mx[2].exchange == "b.example.test");  // equal preferences keep reply order
  CHECK(r.mx[3].exchange == "c.example.test");
  CHECK(r.mx[2].preference == 20);
  CHECK(r.ttl == 100);

  s.answers = {"example.test. 300 IN MX 0 ."};
  CHECK(read(s).answer.status == Status::null_mx);
  CHECK_FALSE(is_temporary(Status::null_mx));
  s.answers = {"example.test. 300 IN MX 0 .", "example.test. 300 IN MX 10 mx.example.test."};
  r = read(s).answer;
  REQUIRE(r.status == Status::found);
  REQUIRE(r.mx.size() == 1);
  CHECK(r.mx[0].exchange == "mx.example.test");
  s.answers = {"example.test. 300 IN MX 10 ."};
  CHECK(read(s).answer.status == Status::null_mx);
}

TEST_CASE("CNAME chains are followed to the records of the asked type", "[dns][message]") {
  ReplySpec s;
  s.qtype = LDNS_RR_TYPE_A;
  s.qname = "www.example.test.";
  s.answers = {"www.example.test. 60 IN CNAME web.example.test.",
               "web.example.test. 300 IN CNAME host.example.net.",
               "host.example.net. 300 IN A 192.0.2.7", "stray.example.org. 300 IN A 192.0.2.66"};
  auto r = read(s, "www.example.test", RrType::a).answer;
  REQUIRE(r.status == Status::found);
  CHECK(r.canonical == "host.example.net");
  REQUIRE(r.addresses.size() == 1);  // the stray record is not on the chain
  CHECK(r.addresses[0].text == "192.0.2.7");
  CHECK(r.ttl == 60);

  s.answers = {"www.example.test. 60 IN CNAME gone.example.test."};
  s.rcode = LDNS_RCODE_NXDOMAIN;
  r = read(s, "www.example.test", RrType::a).answer;
  CHECK(r.status == Status::nxdomain);
  CHECK(r.canonical == "gone.example.test");
  s.rcode = LDNS_RCODE_NOERROR;
  CHECK(read(s, "www.example.test", RrType::a).answer.status == Status::nodata);

  s.answers = {"www.example.test. 60 IN CNAME a.example.test.",
               "a.example.test. 60 IN CNAME www.example.test.",
               "www.example.test. 60 IN A 192.0.2.1"};
  CHECK(read(s, "www.example.test", RrType::a).answer.status == Status::malformed);

  // A CNAME query returns the alias itself.
  s.qtype = LDNS_RR_TYPE_CNAME;
  s.answers = {"www.example.test. 60 IN CNAME web.example.test."};
  r = read(s, "www.example.test", RrType::cname).answer;
  REQUIRE(r.status == Status::found);
  CHECK(r.names == std::vector<std::string>{"web.example.test"});
}

TEST_CASE("record data becomes plain values", "[dns][message]") {
  ReplySpec txt;
  txt.qtype = LDNS_RR_TYPE_TXT;
  txt.answers = {"example.test. 300 IN TXT \"v=spf1 \" \"include:_spf.example.test\" \" -all\"",
                 "example.test. 300 IN TXT \"\"", "example.test. 300 IN TXT \"a\\000b\""};
  auto r = read(txt, "example.test", RrType::txt).answer;
  REQUIRE(r.texts.size() == 3);
  CHECK(r.texts[0] == "v=spf1 include:_spf.example.test -all");
  CHECK(r.texts[1].empty());
  CHECK(r.texts[2] == std::string("a\0b", 3));

  ReplySpec aaaa;
  aaaa.qtype = LDNS_RR_TYPE_AAAA;
  aaaa.answers = {"example.test. 300 IN AAAA 2001:db8::25"};
  r = read(aaaa, "example.test", RrType::aaaa).answer;
  REQUIRE(r.addresses.size() == 1);
  CHECK(r.addresses[0].text == "2001:db8::25");
  CHECK(r.addresses[0].family() == AF_INET6);
  CHECK(r.addresses[0].sockaddr_len == sizeof(sockaddr_in6));

  ReplySpec tlsa;
  tlsa.qtype = LDNS_RR_TYPE_TLSA;
  tlsa.qname = "_25._tcp.mx.example.test.";
  tlsa.answers = {"_25._tcp.mx.example.test. 300 IN TLSA 3 1 1 0102ABff"};
  r = read(tlsa, "_25._tcp.mx.example.test", RrType::tlsa).answer;
  REQUIRE(r.tlsa.size() == 1);
  CHECK(r.tlsa[0].usage == 3);
  CHECK(r.tlsa[0].selector == 1);
  CHECK(r.tlsa[0].matching_type == 1);
  CHECK(r.tlsa[0].data == std::string("\x01\x02\xab\xff", 4));

  ReplySpec ptr;
  ptr.qtype = LDNS_RR_TYPE_PTR;
  ptr.qname = "1.2.0.192.in-addr.arpa.";
  ptr.ad = true;
  ptr.answers = {"1.2.0.192.in-addr.arpa. 300 IN PTR Host.Example.test."};
  r = read(ptr, "1.2.0.192.in-addr.arpa", RrType::ptr).answer;
  CHECK(r.names == std::vector<std::string>{"host.example.test"});
  CHECK(r.authenticated);
}

TEST_CASE("read_reply survives every truncation and corruption of a reply", "[dns][message]") {
  ReplySpec s;
  s.answers = {"example.test. 300 IN CNAME mail.example.test.",
               "mail.example.test. 300 IN MX 10 mx.example.test.",
               "mail.example.test. 300 IN MX 20 mx2.example.test."};
  const std::string wire = make_reply(s);
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    Reply r = read_reply(wire.substr(0, cut), "example.test", RrType::mx, kId);
    // A cut reply is either ignored (no header) or malformed, never an answer.
    CHECK((r.verdict == Verdict::ignore || r.answer.status == Status::malformed));
  }
  // Every single-byte change: no crash, and an accepted answer is well formed.
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = wire;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      Reply r = read_reply(bad, "example.test", RrType::mx, kId);
      if (r.verdict == Verdict::use && r.answer.status == Status::found)
        for (const auto& mx : r.answer.mx)
          CHECK(normalize_name(mx.exchange.empty() ? "." : mx.exchange));
    }
  }
  // Trailing bytes after a valid reply do not make it unusable.
  CHECK(read_reply(wire + std::string(100, 'x'), "example.test", RrType::mx, kId).verdict !=
        Verdict::ignore);
}
