// lib/auth/sasl.h - the server side of the SASL mechanisms PLAIN (RFC 4616)
// and LOGIN (draft-murchison-sasl-login), independent of the protocol that
// carries them: smtpd frames the challenges as "334 TEXT" (RFC 4954), POP3
// and IMAP as "+ TEXT" (RFC 5034, RFC 9051).
//
// An Exchange is driven by start() and respond(); each returns the next
// Step: a challenge to send (base64 text), the credentials to check, or the
// end of the exchange with the reason.
//
// Guarantees: client responses are decoded strictly (RFC 4648 section 4:
// alphabet A-Z a-z 0-9 + /, padded, no white space; a lone "=" is the empty
// response, RFC 4954 section 4): anything else ends the exchange as
// bad_base64, which smtpd answers with 501 5.5.2 as RFC 4954 requires. A
// response of "*" cancels (cancelled: 501). Credentials are checked for
// shape only: a login of 1..kMaxLogin bytes without control characters, a
// password of at most kMaxPassword bytes without NUL.
// Refusals: PLAIN with an authorization identity different from the
// authentication identity (acting for another user is not supported) is
// malformed, as is a LOGIN response holding a NUL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace posthorn::auth {

enum class Mechanism { plain, login };

// "PLAIN", "LOGIN" (any case); nullopt for others.
std::optional<Mechanism> parse_mechanism(std::string_view name);
std::string_view mechanism_name(Mechanism m);

// Strict base64 decoding as described above; nullopt for anything else.
// "" decodes to "" (the caller decides what an empty line means).
std::optional<std::string> base64_decode_strict(std::string_view text);

struct Credentials {
  std::string login;
  std::string password;
};

struct Step {
  enum Kind { challenge, credentials, cancelled, bad_base64, malformed } kind = malformed;
  std::string text;       // kind challenge: base64 text ("" for PLAIN's empty challenge)
  Credentials creds;      // kind credentials
};

class Exchange {
 public:
  explicit Exchange(Mechanism m) : mech_(m) {}

  // The first step. `initial` is the initial response of the command (RFC
  // 4954 "AUTH PLAIN dGVzdA=="), as sent; nullopt when there is none.
  Step start(std::optional<std::string_view> initial);
  // The next step after the client's response line (without CR LF).
  Step respond(std::string_view line);

  Mechanism mechanism() const { return mech_; }

 private:
  Step take(std::string_view decoded);  // a decoded response, by mechanism and stage

  Mechanism mech_;
  int stage_ = 0;       // LOGIN: 0 = username due, 1 = password due
  std::string login_;   // LOGIN: the username given
};

}  // namespace posthorn::auth
