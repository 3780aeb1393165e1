// lib/dns/message.cc - query building and reply interpretation over ldns.
#include "lib/dns/message.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "lib/base/strings.h"
#include "lib/dns/ldns_owned.h"
#include "lib/dns/names.h"

namespace posthorn::dns {

namespace {
constexpr std::size_t kHeaderSize = 12;
constexpr std::uint32_t kNoTtl = 0xffffffff;

RdfPtr make_dname(const std::string& name) {
  return RdfPtr(ldns_dname_new_frm_str(name.empty() ? "." : (name + ".").c_str()));
}

// A domain name from rdata or an owner, normalized; Errc::parse when it holds
// bytes a host name cannot (ldns prints those as \DDD escapes).
Result<std::string> dname_text(const ldns_rdf* rdf) {
  if (rdf == nullptr || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
    return make_error(Errc::parse, "missing domain name in rdata");
  CharPtr s(ldns_rdf2str(rdf));
  if (!s) return make_error(Errc::parse, "unprintable domain name in rdata");
  return normalize_name(s.get());
}

bool same_name(const ldns_rdf* a, const ldns_rdf* b) { return ldns_dname_compare(a, b) == 0; }

Answer base_answer(const std::string& name, RrType type) {
  Answer a;
  a.name = name;
  a.type = type;
  a.canonical = name;
  a.rcode = -1;
  a.ttl = kNoTtl;  // lowered by every record used; back to 0 if none was
  return a;
}

Reply use(Answer a, Status s, std::string detail = {}) {
  a.status = s;
  if (a.ttl == kNoTtl) a.ttl = 0;
  if (!detail.empty()) a.detail = std::move(detail);
  return Reply{Verdict::use, std::move(a)};
}

// Does the question section name exactly our question? A reply with an
// error rcode and no question at all is accepted too: some servers omit it
// in REFUSED/FORMERR replies, and such a reply can only cause a retry.
bool question_matches(const ldns_pkt* p, const ldns_rdf* qname, RrType type) {
  const ldns_rr_list* q = ldns_pkt_question(p);
  std::size_t n = q ? ldns_rr_list_rr_count(q) : 0;
  if (n == 0) {
    auto rc = ldns_pkt_get_rcode(p);
    return rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN;
  }
  if (n != 1) return false;
  const ldns_rr* rr = ldns_rr_list_rr(q, 0);
  return ldns_rr_get_type(rr) == static_cast<ldns_rr_type>(type) &&
         ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN && same_name(ldns_rr_owner(rr), qname);
}

Result<Address> address_of(const ldns_rdf* rdf, int family) {
  std::size_t want = family == AF_INET ? 4 : 16;
  if (rdf == nullptr || ldns_rdf_size(rdf) != want)
    return make_error(Errc::parse, "address rdata of wrong size");
  Address a{};
  char buf[INET6_ADDRSTRLEN];
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.sockaddr);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ldns_rdf_data(rdf), 4);
    a.sockaddr_len = sizeof(sockaddr_in);
    ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.sockaddr);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ldns_rdf_data(rdf), 16);
    a.sockaddr_len = sizeof(sockaddr_in6);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
  }
  a.text = buf;
  return a;
}

// RFC 7208 3.3: the character-strings of one TXT record are joined with
// nothing between them.
Result<std::string> txt_of(const ldns_rr* rr) {
  std::string out;
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    std::size_t size = ldns_rdf_size(rdf);
    const std::uint8_t* d = ldns_rdf_data(rdf);
    if (size == 0 || d[0] != size - 1) return make_error(Errc::parse, "bad TXT character-string");
    out.append(reinterpret_cast<const char*>(d + 1), size - 1);
  }
  return out;
}

Result<TlsaRecord> tlsa_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 4) return make_error(Errc::parse, "TLSA needs 4 fields");
  TlsaRecord t;
  for (std::size_t i = 0; i < 3; ++i)
    if (ldns_rdf_size(ldns_rr_rdf(rr, i)) != 1) return make_error(Errc::parse, "bad TLSA field");
  t.usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
  t.selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
  t.matching_type = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
  const ldns_rdf* d = ldns_rr_rdf(rr, 3);
  t.data.assign(reinterpret_cast<const char*>(ldns_rdf_data(d)), ldns_rdf_size(d));
  return t;
}

Result<MxRecord> mx_of(const ldns_rr* rr) {
  if (ldns_rr_rd_count(rr) != 2 || ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2)
    return make_error(Errc::parse, "bad MX rdata");
  auto host = dname_text(ldns_rr_rdf(rr, 1));
  if (!host) return host.error();
  return MxRecord{ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)), std::move(*host)};
}

// Appends one record of the asked type to the answer.
Result<void> add_record(Answer& a, const ldns_rr* rr) {
  switch (a.type) {
    case RrType::a:
    case RrType::aaaa: {
      auto addr = address_of(ldns_rr_rdf(rr, 0), a.type == RrType::a ? AF_INET : AF_INET6);
      if (!addr) return addr.error();
      a.addresses.push_back(std::move(*addr));
      return {};
    }
    case RrType::mx: {
      auto mx = mx_of(rr);
      if (!mx) return mx.error();
      a.mx.push_back(std::move(*mx));
      return {};
    }
    case RrType::txt: {
      auto t = txt_of(rr);
      if (!t) return t.error();
      a.texts.push_back(std::move(*t));
      return {};
    }
    case RrType::tlsa: {
      auto t = tlsa_of(rr);
      if (!t) return t.error();
      a.tlsa.push_back(std::move(*t));
      return {};
    }
    case RrType::ptr:
    case RrType::cname: {
      auto n = dname_text(ldns_rr_rdf(rr, 0));
      if (!n) return n.error();
      a.names.push_back(std::move(*n));
      return {};
    }
  }
  return make_error(Errc::parse, "unexpected record type");
}

// Follows the CNAME chain in the answer section from `qname`; returns the
// owner at which the chain ends (a pointer into the packet), or an error on
// a loop or an over-long chain.
Result<const ldns_rdf*> follow_chain(const ldns_rr_list* an, const ldns_rdf* qname, Answer& a) {
  const ldns_rdf* cur = qname;
  std::size_t n = an ? ldns_rr_list_rr_count(an) : 0;
  for (int hops = 0;; ++hops) {
    const ldns_rr* next = nullptr;
    for (std::size_t i = 0; i < n && next == nullptr; ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(an, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && same_name(ldns_rr_owner(rr), cur))
        next = rr;
    }
    if (next == nullptr) return cur;
    if (hops == kMaxCnameChain) return make_error(Errc::parse, "CNAME chain too long or a loop");
    auto target = dname_text(ldns_rr_rdf(next, 0));
    if (!target) return target.error();
    a.canonical = *target;
    a.ttl = std::min(a.ttl, ldns_rr_ttl(next));
    cur = ldns_rr_rdf(next, 0);
  }
}

// Collects the records of the asked type owned by `owner`.
Result<void> collect(const ldns_rr_list* an, const ldns_rdf* owner, Answer& a) {
  std::size_t n = an ? ldns_rr_list_rr_count(an) : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(an, i);
    if (ldns_rr_get_type(rr) != static_cast<ldns_rr_type>(a.type) ||
        ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !same_name(ldns_rr_owner(rr), owner))
      continue;
    auto r = add_record(a, rr);
    if (!r) return r.error();
    a.ttl = std::min(a.ttl, ldns_rr_ttl(rr));
  }
  return {};
}

bool has_records(const Answer& a) {
  return !a.mx.empty() || !a.addresses.empty() || !a.texts.empty() || !a.names.empty() ||
         !a.tlsa.empty();
}

// RFC 7505 3: a lone "MX 0 ." is a null MX. Mixed with real MX records it is
// a misconfiguration; the "." entries are dropped and the rest is used.
Status finish_mx(Answer& a) {
  std::stable_sort(a.mx.begin(), a.mx.end(), [](const MxRecord& x, const MxRecord& y) {
    return x.preference < y.preference;
  });
  auto is_null = [](const MxRecord& m) { return m.exchange.empty(); };
  if (a.mx.size() == 1 && is_null(a.mx[0]) && a.mx[0].preference == 0) return Status::null_mx;
  a.mx.erase(std::remove_if(a.mx.begin(), a.mx.end(), is_null), a.mx.end());
  return a.mx.empty() ? Status::null_mx : Status::found;
}

Reply interpret(const ldns_pkt* p, const ldns_rdf* qname, Answer a) {
  a.rcode = ldns_pkt_get_rcode(p);
  a.authenticated = ldns_pkt_ad(p);
  if (a.rcode != LDNS_RCODE_NOERROR && a.rcode != LDNS_RCODE_NXDOMAIN)
    return use(std::move(a), Status::server_failure, cat("rcode ", a.rcode));
  const ldns_rr_list* an = ldns_pkt_answer(p);
  const ldns_rdf* owner = qname;
  if (a.type != RrType::cname) {
    auto end = follow_chain(an, qname, a);
    if (!end) return use(std::move(a), Status::malformed, end.error().detail);
    owner = *end;
  }
  if (a.rcode == LDNS_RCODE_NXDOMAIN) return use(std::move(a), Status::nxdomain);
  if (auto r = collect(an, owner, a); !r)
    return use(std::move(a), Status::malformed, r.error().detail);
  if (!has_records(a)) return use(std::move(a), Status::nodata);
  Status s = a.type == RrType::mx ? finish_mx(a) : Status::found;
  return use(std::move(a), s);
}
}  // namespace

Result<std::string> build_query(const std::string& name, RrType type, std::uint16_t id,
                                const Config& cfg) {
  RdfPtr qname = make_dname(name);
  if (!qname) return make_error(Errc::parse, "bad domain name: " + printable(name));
  // ldns_pkt_query_new takes ownership of the name.
  PktPtr pkt(ldns_pkt_query_new(qname.release(), static_cast<ldns_rr_type>(type), LDNS_RR_CLASS_IN,
                                LDNS_RD));
  if (!pkt) return make_error(Errc::invalid, "cannot build DNS query");
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_edns_udp_size(pkt.get(), cfg.edns_size);
  ldns_pkt_set_edns_do(pkt.get(), cfg.dnssec_ok);
  // RFC 6840 5.7: without DO, the AD bit in a query asks for AD in the reply.
  if (!cfg.dnssec_ok) ldns_pkt_set_ad(pkt.get(), true);
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&raw, pkt.get(), &size) != LDNS_STATUS_OK)
    return make_error(Errc::invalid, "cannot encode DNS query");
  WirePtr wire(raw);
  return std::string(reinterpret_cast<const char*>(raw), size);
}

Reply read_reply(std::string_view wire, const std::string& name, RrType type, std::uint16_t id) {
  // Cheap checks on the raw header first: a datagram that is not a response
  // to our id is ignored even when it would not parse.
  if (wire.size() < kHeaderSize) return {};
  auto b = reinterpret_cast<const unsigned char*>(wire.data());
  if ((b[0] << 8 | b[1]) != id || (b[2] & 0x80) == 0) return {};
  Answer a = base_answer(name, type);
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, b, wire.size()) != LDNS_STATUS_OK)
    return use(std::move(a), Status::malformed, "unparsable reply");
  PktPtr pkt(raw);
  RdfPtr qname = make_dname(name);
  if (!qname) return use(std::move(a), Status::malformed, "bad question name");
  if (!question_matches(pkt.get(), qname.get(), type)) return {};
  if (ldns_pkt_get_opcode(pkt.get()) != LDNS_PACKET_QUERY)
    return use(std::move(a), Status::malformed, "reply with wrong opcode");
  if (ldns_pkt_tc(pkt.get())) return Reply{Verdict::truncated, std::move(a)};
  return interpret(pkt.get(), qname.get(), std::move(a));
}

}  // namespace posthorn::dns
