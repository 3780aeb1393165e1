// lib/tls/session.h - what a finished (or failed) handshake tells: for the
// log line, the Received: header and the smtp client's TLS policy.
#pragma once

#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "lib/base/result.h"

namespace posthorn::tls {

// How far the peer's certificate was checked, in Postfix's words:
//   anonymous      no certificate                          "Anonymous"
//   untrusted      chain does not lead to a trusted CA     "Untrusted"
//   trusted        chain trusted, no name was required     "Trusted"
//   name_mismatch  chain trusted, no required name matched "Trusted"
//   verified       chain trusted and a required name matched "Verified"
enum class Verification { anonymous, untrusted, trusted, name_mismatch, verified };

std::string_view trust_word(Verification v);

struct SessionInfo {
  std::string protocol;        // "TLSv1.3"; empty when no handshake finished
  std::string cipher;          // "TLS_AES_256_GCM_SHA384"
  int cipher_bits = 0;         // secret bits used
  int cipher_alg_bits = 0;     // bits of the algorithm
  std::string peer_cn;         // subject commonName of the peer certificate
  std::string issuer_cn;       // its issuer's commonName
  std::string matched_name;    // the required name that matched (verified only)
  Verification verification = Verification::anonymous;
  std::string verify_error;    // OpenSSL's reason when not trusted/verified, else ""
};

// Reads the outcome from an SSL after its handshake, or after a handshake
// that failed because verification refused the peer (then protocol and
// cipher may be empty but verification and verify_error say why).
// Does not take ownership.
SessionInfo session_info(SSL* ssl);

// "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", the part
// shared by the log line and the Received: header.
std::string cipher_summary(const SessionInfo& info);

// Postfix's log line: "<Word> TLS connection established <direction> <peer>:
// <summary>", e.g. direction "to", peer "mx.example.org[192.0.2.1]:25" (smtp)
// or direction "from", peer "client.example[192.0.2.7]" (smtpd).
std::string connection_established(const SessionInfo& info, std::string_view direction,
                                   std::string_view peer);

}  // namespace posthorn::tls
