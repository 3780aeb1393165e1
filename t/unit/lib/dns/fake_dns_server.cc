// t/unit/lib/dns/fake_dns_server.cc - see fake_dns_server.h.
#include "t/unit/lib/dns/fake_dns_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/dns/ldns_owned.h"

namespace posthorn::dns::test {

namespace {
std::string to_wire(const ldns_pkt* p) {
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&raw, p, &size) != LDNS_STATUS_OK) throw std::runtime_error("pkt2wire");
  WirePtr w(raw);
  return std::string(reinterpret_cast<char*>(raw), size);
}

std::string name_of(const ldns_rdf* rdf) {
  CharPtr s(ldns_rdf2str(rdf));
  std::string n = to_lower(s.get());
  if (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

bool recv_all(int fd, char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

// A copy of `reply` whose question is (name, type) instead.
std::string with_question(const ldns_pkt* reply, const char* name, ldns_rr_type type) {
  PktPtr p(ldns_pkt_clone(reply));
  ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(p.get()), 0);
  ldns_rdf_deep_free(ldns_rr_owner(q));
  ldns_rr_set_owner(q, ldns_dname_new_frm_str(name));
  ldns_rr_set_type(q, type);
  return to_wire(p.get());
}
}  // namespace

struct FakeDnsServer::Zone {
  RrListPtr rrs{ldns_rr_list_new()};

  // Answers like a recursive server: follows CNAMEs in the table.
  void resolve(ldns_pkt* reply, const ldns_rdf* qname, ldns_rr_type type) const {
    const ldns_rdf* cur = qname;
    for (int hops = 0; hops < 20; ++hops) {
      bool found = false, exists = false;
      const ldns_rr* cname = nullptr;
      for (std::size_t i = 0; i < ldns_rr_list_rr_count(rrs.get()); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(rrs.get(), i);
        if (ldns_dname_compare(ldns_rr_owner(rr), cur) != 0) continue;
        exists = true;
        if (ldns_rr_get_type(rr) == type) {
          ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER, ldns_rr_clone(rr));
          found = true;
        } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME) {
          cname = rr;
        }
      }
      if (found) return;
      if (cname == nullptr) {
        ldns_pkt_set_rcode(reply, exists ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN);
        return;
      }
      ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER, ldns_rr_clone(cname));
      cur = ldns_rr_rdf(cname, 0);
    }
  }
};

FakeDnsServer::FakeDnsServer(const std::vector<std::string>& records)
    : zone_(std::make_unique<Zone>()) {
  for (const auto& text : records) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 300, nullptr, nullptr) != LDNS_STATUS_OK)
      throw std::runtime_error("fake dns: bad record: " + text);
    ldns_rr_list_push_rr(zone_->rrs.get(), rr);
  }
  // One port for UDP and TCP: bind UDP to an ephemeral port, then TCP to the
  // same number; retry when TCP happens to have that port taken.
  for (int tries = 0; tries < 50 && port_ == 0; ++tries) {
    udp_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    tcp_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (::bind(udp_.get(), reinterpret_cast<sockaddr*>(&sin), len) != 0 ||
        ::getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&sin), &len) != 0)
      throw std::runtime_error("fake dns: cannot bind UDP");
    int one = 1;
    ::setsockopt(tcp_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(tcp_.get(), reinterpret_cast<sockaddr*>(&sin), len) == 0 &&
        ::listen(tcp_.get(), 16) == 0)
      port_ = ntohs(sin.sin_port);
  }
  if (port_ == 0) throw std::runtime_error("fake dns: no port for UDP and TCP");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("fake dns: pipe");
  wake_read_.reset(p[0]);
  wake_write_.reset(p[1]);
  thread_ = std::thread([this] { run(); });
}

FakeDnsServer::~FakeDnsServer() {
  char c = 'x';
  [[maybe_unused]] auto n = ::write(wake_write_.get(), &c, 1);
  thread_.join();
}

void FakeDnsServer::set_quirk(const std::string& name, Quirk q) {
  std::lock_guard<std::mutex> lock(mu_);
  quirks_[name] = q;
}

Config FakeDnsServer::config(std::chrono::milliseconds timeout, unsigned attempts) const {
  auto cfg = config_from_list(address());
  if (!cfg) throw std::runtime_error(cfg.error().detail);
  cfg->timeout = timeout;
  cfg->attempts = attempts;
  return *cfg;
}

void FakeDnsServer::run() {
  for (;;) {
    pollfd fds[3] = {
        {udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) continue;
    if (fds[2].revents) return;
    if (fds[0].revents) serve_udp();
    if (fds[1].revents) serve_tcp();
  }
}

void FakeDnsServer::serve_udp() {
  std::string buf(65536, '\0');
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  ssize_t n =
      ::recvfrom(udp_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n <= 0) return;
  ++udp_queries_;
  Fd other;
  int out = udp_.get();
  if (std::string q = buf.substr(0, n); quirk_of(q) == Quirk::wrong_source) {
    other.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));  // another port
    out = other.get();
  }
  for (const auto& r : respond(buf.substr(0, n), false))
    ::sendto(out, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
}

void FakeDnsServer::serve_tcp() {
  Fd c(::accept4(tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!c) return;
  timeval tv{2, 0};
  ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  unsigned char hdr[2];
  if (!recv_all(c.get(), reinterpret_cast<char*>(hdr), 2)) return;
  std::string q(hdr[0] << 8 | hdr[1], '\0');
  if (!recv_all(c.get(), q.data(), q.size())) return;
  ++tcp_queries_;
  bool dribble = quirk_of(q) == Quirk::truncate_dribble;
  int one = 1;
  if (dribble) ::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (const auto& r : respond(q, true)) {
    std::string framed{static_cast<char>(r.size() >> 8), static_cast<char>(r.size() & 0xff)};
    framed += r;
    if (!dribble) {
      ::send(c.get(), framed.data(), framed.size(), MSG_NOSIGNAL);
      continue;
    }
    // One byte per segment, with a pause so the reader sees the splits.
    for (char ch : framed) {
      ::send(c.get(), &ch, 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

std::optional<Quirk> FakeDnsServer::quirk_of(const std::string& query) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reinterpret_cast<const std::uint8_t*>(query.data()), query.size()) !=
      LDNS_STATUS_OK)
    return std::nullopt;
  PktPtr q(raw);
  if (ldns_pkt_qdcount(q.get()) != 1) return std::nullopt;
  std::string name = name_of(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q.get()), 0)));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = quirks_.find(name);
  if (it == quirks_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> FakeDnsServer::respond(const std::string& query, bool over_tcp) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reinterpret_cast<const std::uint8_t*>(query.data()), query.size()) !=
      LDNS_STATUS_OK)
    return {};
  PktPtr q(raw);
  if (ldns_pkt_qdcount(q.get()) != 1) return {};
  last_do_ = ldns_pkt_edns_do(q.get());
  last_edns_size_ = ldns_pkt_edns_udp_size(q.get());
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q.get()), 0);
  std::string name = name_of(ldns_rr_owner(question));
  std::optional<Quirk> quirk = quirk_of(query);
  if (quirk == Quirk::silent) return {};
  if (quirk == Quirk::malformed) {
    // Our id, QR set, one question and five answers announced, then junk.
    std::string bad = query.substr(0, 2) + std::string(
                                               "\x81\x80\x00\x01\x00\x05\x00\x00\x00\x00\x03"
                                               "abc",
                                               14);
    return {bad};
  }
  PktPtr reply(ldns_pkt_new());
  ldns_pkt_set_id(reply.get(), ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_set_opcode(reply.get(), LDNS_PACKET_QUERY);
  ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  if (quirk == Quirk::servfail || quirk == Quirk::refused) {
    ldns_pkt_set_rcode(reply.get(),
                       quirk == Quirk::servfail ? LDNS_RCODE_SERVFAIL : LDNS_RCODE_REFUSED);
    return {to_wire(reply.get())};
  }
  bool truncates = quirk == Quirk::truncate || quirk == Quirk::truncate_dribble;
  if ((truncates && !over_tcp) || quirk == Quirk::always_truncate) {
    ldns_pkt_set_tc(reply.get(), true);
    return {to_wire(reply.get())};
  }
  zone_->resolve(reply.get(), ldns_rr_owner(question), ldns_rr_get_type(question));
  if (quirk == Quirk::authenticated) ldns_pkt_set_ad(reply.get(), true);
  if (quirk == Quirk::oversized && !over_tcp) {
    for (int i = 0; i < 20; ++i) {
      ldns_rr* pad = nullptr;
      std::string text = "pad.test. 300 IN TXT \"" + std::string(200, 'a' + i % 26) + "\"";
      ldns_rr_new_frm_str(&pad, text.c_str(), 300, nullptr, nullptr);
      ldns_pkt_push_rr(reply.get(), LDNS_SECTION_ADDITIONAL, pad);
    }
  }
  std::vector<std::string> out;
  if (quirk == Quirk::spoof_first && !over_tcp) {
    // The forgeries carry an address of their own, so a test sees if one was used.
    PktPtr forged(ldns_pkt_clone(reply.get()));
    ldns_rr* bogus = nullptr;
    ldns_rr_new_frm_str(&bogus, (name + ". 300 IN A 203.0.113.66").c_str(), 300, nullptr, nullptr);
    ldns_pkt_push_rr(forged.get(), LDNS_SECTION_ANSWER, bogus);
    ldns_pkt_set_id(forged.get(), ldns_pkt_id(q.get()) ^ 0x5a5a);
    out.push_back(to_wire(forged.get()));
    ldns_pkt_set_id(forged.get(), ldns_pkt_id(q.get()));
    out.push_back(with_question(forged.get(), "elsewhere.test.", ldns_rr_get_type(question)));
    out.push_back(with_question(forged.get(), (name + ".").c_str(), LDNS_RR_TYPE_NULL));
  }
  out.push_back(to_wire(reply.get()));
  return out;
}

}  // namespace posthorn::dns::test
