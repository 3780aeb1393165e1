// lib/tls/protocols.h - Postfix's TLS protocol and cipher-grade settings,
// turned into what OpenSSL 3 takes.
//
// Protocol syntax (smtpd_tls_protocols, smtp_tls_protocols and their
// _mandatory_ forms), as Postfix documents it: names separated by spaces,
// commas or colons; "NAME" includes a version (when any are named, only those
// are on), "!NAME" excludes it, ">=NAME" and "<=NAME" bound the range. Names
// (any case): SSLv2 SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3. Empty: every version
// OpenSSL allows. SSLv2 can be named but is never enabled (OpenSSL 3 lacks it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "lib/base/result.h"

namespace posthorn::tls {

// An enabled protocol range. min_version/max_version are OpenSSL version
// codes (TLS1_2_VERSION...); 0 means no bound. `holes` are SSL_OP_NO_*
// options for versions excluded inside the range ("!TLSv1.1" alone).
struct Protocols {
  int min_version = 0;
  int max_version = 0;
  uint64_t holes = 0;
  bool operator==(const Protocols&) const = default;
};

// Errc::parse naming the bad token, or when the spec leaves no version on
// ("excludes every protocol").
Result<Protocols> parse_protocols(std::string_view spec);

// Sets the range on a context or on one connection. Errc::invalid with
// OpenSSL's reason when it refuses (e.g. a version this build lacks).
Result<void> apply_protocols(SSL_CTX* ctx, const Protocols& p);
Result<void> apply_protocols(SSL* ssl, const Protocols& p);

// Postfix's cipher grades (smtpd_tls_ciphers, smtp_tls_mandatory_ciphers...).
enum class CipherGrade { high, medium, null };

// "high", "medium", "null" (any case); Errc::parse otherwise.
Result<CipherGrade> parse_cipher_grade(std::string_view name);

// The OpenSSL cipher list (TLS 1.2 and below) for a grade, with each name of
// `exclude` (smtpd_tls_exclude_ciphers) appended as "!name". TLS 1.3 suites
// are not graded: OpenSSL's defaults are all strong AEADs. XXX: so the null
// grade only has effect when TLS 1.3 is off, as in Postfix.
std::string cipher_list(CipherGrade grade, const std::vector<std::string>& exclude = {});

}  // namespace posthorn::tls
