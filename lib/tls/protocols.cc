// lib/tls/protocols.cc - Postfix protocol lists and cipher grades.
#include "lib/tls/protocols.h"

#include <algorithm>
#include <array>

#include "lib/base/strings.h"
#include "lib/tls/owned.h"

namespace posthorn::tls {
namespace {

struct Version {
  std::string_view name;
  int code;       // 0: known name, never available (SSLv2)
  uint64_t no_op; // SSL_OP_NO_* for a hole in the range
};
// Oldest first: the index orders versions for ">=" and "<=".
constexpr std::array<Version, 6> kVersions{{
    {"SSLv2", 0, 0},
    {"SSLv3", SSL3_VERSION, SSL_OP_NO_SSLv3},
    {"TLSv1", TLS1_VERSION, SSL_OP_NO_TLSv1},
    {"TLSv1.1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
}};

int version_index(std::string_view name) {
  for (std::size_t i = 0; i < kVersions.size(); ++i)
    if (iequals(kVersions[i].name, name)) return static_cast<int>(i);
  return -1;
}

// Turns the on/off table into a range: the lowest and highest available
// versions left on bound it, versions off in between become holes.
Result<Protocols> to_range(const std::array<bool, kVersions.size()>& on, std::string_view spec) {
  int lo = -1, hi = -1;
  for (std::size_t i = 0; i < kVersions.size(); ++i) {
    if (!on[i] || kVersions[i].code == 0) continue;
    if (lo < 0) lo = static_cast<int>(i);
    hi = static_cast<int>(i);
  }
  if (lo < 0) return Error{Errc::parse, cat("\"", printable(spec), "\" excludes every protocol")};
  Protocols p;
  p.min_version = kVersions[lo].code;
  p.max_version = kVersions[hi].code;
  for (int i = lo + 1; i < hi; ++i)
    if (!on[i]) p.holes |= kVersions[i].no_op;
  return p;
}

}  // namespace

Result<Protocols> parse_protocols(std::string_view spec) {
  std::array<bool, kVersions.size()> included{}, excluded{};
  bool any_included = false;
  int lo = 0, hi = static_cast<int>(kVersions.size()) - 1;
  for (const std::string& token : split_fields(spec, " \t\r\n,:")) {
    std::string_view t = token, op;
    for (std::string_view prefix : {">=", "<=", "!"})
      if (t.substr(0, prefix.size()) == prefix) {
        op = prefix;
        t.remove_prefix(prefix.size());
        break;
      }
    int i = version_index(t);
    if (i < 0) return Error{Errc::parse, cat("unknown TLS protocol \"", printable(token), "\"")};
    if (op == ">=") lo = std::max(lo, i);
    else if (op == "<=") hi = std::min(hi, i);
    else if (op == "!") excluded[i] = true;
    else included[i] = any_included = true;
  }
  std::array<bool, kVersions.size()> on{};
  for (int i = 0; i < static_cast<int>(kVersions.size()); ++i)
    on[i] = i >= lo && i <= hi && !excluded[i] && (!any_included || included[i]);
  return to_range(on, spec);
}

Result<void> apply_protocols(SSL_CTX* ctx, const Protocols& p) {
  if (!SSL_CTX_set_min_proto_version(ctx, p.min_version) ||
      !SSL_CTX_set_max_proto_version(ctx, p.max_version))
    return Error{Errc::invalid, "TLS protocol range refused: " + openssl_errors()};
  SSL_CTX_clear_options(ctx, SSL_OP_NO_SSL_MASK);
  SSL_CTX_set_options(ctx, p.holes);
  return {};
}

Result<void> apply_protocols(SSL* ssl, const Protocols& p) {
  if (!SSL_set_min_proto_version(ssl, p.min_version) ||
      !SSL_set_max_proto_version(ssl, p.max_version))
    return Error{Errc::invalid, "TLS protocol range refused: " + openssl_errors()};
  SSL_clear_options(ssl, SSL_OP_NO_SSL_MASK);
  SSL_set_options(ssl, p.holes);
  return {};
}

Result<CipherGrade> parse_cipher_grade(std::string_view name) {
  if (iequals(name, "high")) return CipherGrade::high;
  if (iequals(name, "medium")) return CipherGrade::medium;
  if (iequals(name, "null")) return CipherGrade::null;
  return Error{Errc::parse, cat("unknown TLS cipher grade \"", printable(name),
                                "\" (expected high, medium or null)")};
}

std::string cipher_list(CipherGrade grade, const std::vector<std::string>& exclude) {
  // The grade lists Postfix documents for tls_high_cipherlist,
  // tls_medium_cipherlist and tls_null_cipherlist: no anonymous suites
  // except at null, strongest first.
  std::string list;
  switch (grade) {
    case CipherGrade::high: list = "aNULL:-aNULL:HIGH:@STRENGTH"; break;
    case CipherGrade::medium: list = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"; break;
    case CipherGrade::null: list = "eNULL:!aNULL"; break;
  }
  for (const std::string& name : exclude) list += cat(":!", name);
  return list;
}

}  // namespace posthorn::tls
