// lib/tls/client.cc - client contexts and per-server sessions.
#include "lib/tls/client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/tls/certificate.h"

namespace posthorn::tls {
namespace {

constexpr std::string_view kLevelNames[] = {"none", "may", "encrypt", "verify", "secure"};

Result<std::string> checked_cipher_list(SSL_CTX* ctx, const std::string& grade_name,
                                        const std::vector<std::string>& exclude) {
  auto grade = parse_cipher_grade(grade_name);
  if (!grade) return std::move(grade).error();
  std::string list = cipher_list(*grade, exclude);
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1)
    return Error{Errc::parse, cat("no usable cipher in \"", list, "\": ", openssl_errors())};
  return list;
}

Result<void> load_trust(SSL_CTX* ctx, const ClientSettings& s) {
  if (s.ca_file.empty() && s.ca_path.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      return Error{Errc::invalid, "cannot use the system CA store: " + openssl_errors()};
    return {};
  }
  if (!s.ca_file.empty()) {
    auto certs = load_certificates(s.ca_file);  // for an error naming the file
    if (!certs) return std::move(certs).error();
  }
  const char* file = s.ca_file.empty() ? nullptr : s.ca_file.c_str();
  const char* path = s.ca_path.empty() ? nullptr : s.ca_path.c_str();
  if (SSL_CTX_load_verify_locations(ctx, file, path) != 1)
    return Error{Errc::invalid, cat("cannot use CA file \"", s.ca_file, "\" / path \"", s.ca_path,
                                    "\": ", openssl_errors())};
  return {};
}

Result<void> load_client_cert(SSL_CTX* ctx, const ClientSettings& s) {
  if (s.cert_file.empty()) return {};
  auto ck = load_certified_key(s.cert_file, s.key_file.empty() ? s.cert_file : s.key_file);
  if (!ck) return std::move(ck).error();
  for (const std::string& w : validity_warnings(ck->cert.get(), s.cert_file)) log::warn(w);
  if (SSL_CTX_use_cert_and_key(ctx, ck->cert.get(), ck->key.get(), ck->chain.get(), 1) != 1)
    return Error{Errc::invalid, cat("OpenSSL refused the certificate in ", s.cert_file, ": ",
                                    openssl_errors())};
  return {};
}

std::string dns_name(std::string_view name) {
  std::string n = to_lower(trim(name));
  if (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

bool is_address_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Requires one of `names` in the peer certificate (RFC 6125 rules as
// OpenSSL implements them; no partial-label wildcards such as "w*.example").
Result<void> require_names(SSL* ssl, const std::vector<std::string>& names) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (std::size_t i = 0; i < names.size(); ++i) {
    int ok = i == 0 ? X509_VERIFY_PARAM_set1_host(param, names[i].c_str(), names[i].size())
                    : X509_VERIFY_PARAM_add1_host(param, names[i].c_str(), names[i].size());
    if (ok != 1)
      return Error{Errc::invalid, cat("bad certificate name \"", printable(names[i]), "\"")};
  }
  return {};
}

}  // namespace

Result<SecurityLevel> parse_security_level(std::string_view name) {
  if (name.empty()) return SecurityLevel::none;
  for (std::size_t i = 0; i < std::size(kLevelNames); ++i)
    if (iequals(name, kLevelNames[i])) return static_cast<SecurityLevel>(i);
  return Error{Errc::parse, cat("unknown TLS security level \"", printable(name),
                                "\" (expected none, may, encrypt, verify or secure)")};
}

std::string_view level_name(SecurityLevel level) {
  return kLevelNames[static_cast<std::size_t>(level)];
}

Result<ClientContext> ClientContext::create(const ClientSettings& s) {
  ClientContext c;
  c.ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!c.ctx_) log::panic("SSL_CTX_new: ", openssl_errors());
  SSL_CTX* ctx = c.ctx_.get();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  auto p = parse_protocols(s.protocols);
  if (!p) return std::move(p).error();
  auto mp = parse_protocols(s.mandatory_protocols);
  if (!mp) return std::move(mp).error();
  c.protocols_ = *p;
  c.mandatory_protocols_ = *mp;
  auto mc = checked_cipher_list(ctx, s.mandatory_ciphers, s.exclude_ciphers);
  if (!mc) return std::move(mc).error();
  auto oc = checked_cipher_list(ctx, s.ciphers, s.exclude_ciphers);
  if (!oc) return std::move(oc).error();
  c.mandatory_ciphers_ = std::move(*mc);
  c.ciphers_ = std::move(*oc);
  if (auto r = load_trust(ctx, s); !r) return std::move(r).error();
  if (auto r = load_client_cert(ctx, s); !r) return std::move(r).error();
  return c;
}

std::vector<std::string> required_names(const ClientPeer& peer) {
  std::vector<std::string> match = peer.match;
  if (match.empty()) {
    if (peer.level == SecurityLevel::verify) match = {"hostname"};
    if (peer.level == SecurityLevel::secure) match = {"nexthop", "dot-nexthop"};
  }
  std::vector<std::string> out;
  for (const std::string& m : match) {
    std::string n;
    if (iequals(m, "hostname")) n = dns_name(peer.hostname);
    else if (iequals(m, "nexthop")) n = dns_name(peer.nexthop);
    else if (iequals(m, "dot-nexthop")) n = peer.nexthop.empty() ? "" : "." + dns_name(peer.nexthop);
    else n = dns_name(m);
    if (!n.empty() && n != ".") out.push_back(n);
  }
  return out;
}

Result<SslPtr> ClientContext::new_session(const ClientPeer& peer) const {
  if (peer.level == SecurityLevel::none) return Error{Errc::invalid, "TLS is off (level none)"};
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) log::panic("SSL_new: ", openssl_errors());
  bool mandatory = peer.level != SecurityLevel::may;
  if (auto r = apply_protocols(ssl.get(), mandatory ? mandatory_protocols_ : protocols_); !r)
    return std::move(r).error();
  const std::string& ciphers = mandatory ? mandatory_ciphers_ : ciphers_;
  if (SSL_set_cipher_list(ssl.get(), ciphers.c_str()) != 1)
    return Error{Errc::invalid, cat("cipher list refused: ", openssl_errors())};
  std::string host = dns_name(peer.hostname);
  if (!host.empty() && !is_address_literal(host) &&
      SSL_set_tlsext_host_name(ssl.get(), host.c_str()) != 1)
    return Error{Errc::invalid, cat("bad server name \"", printable(host), "\"")};
  if (peer.level == SecurityLevel::verify || peer.level == SecurityLevel::secure) {
    std::vector<std::string> names = required_names(peer);
    if (names.empty())
      return Error{Errc::invalid, cat("no certificate name to match at level ",
                                      level_name(peer.level))};
    if (auto r = require_names(ssl.get(), names); !r) return std::move(r).error();
    SSL_set_verify(ssl.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    // The chain is still checked and the outcome kept (Trusted/Untrusted).
    SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);
  }
  return ssl;
}

Result<void> check_policy(const SessionInfo& info, SecurityLevel level) {
  if (level != SecurityLevel::verify && level != SecurityLevel::secure) return {};
  switch (info.verification) {
    case Verification::verified: return {};
    case Verification::name_mismatch:
      return Error{Errc::protocol, "Server certificate not verified"};
    default: return Error{Errc::protocol, "Server certificate not trusted"};
  }
}

}  // namespace posthorn::tls
