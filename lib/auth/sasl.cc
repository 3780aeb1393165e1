// lib/auth/sasl.cc - see sasl.h.
#include "lib/auth/sasl.h"

#include "lib/auth/protocol.h"
#include "lib/base/strings.h"
#include "lib/mime/transfer.h"

namespace posthorn::auth {
namespace {

// LOGIN's prompts, as every implementation sends them.
const std::string kUsername = mime::base64_encode("Username:", "");
const std::string kPassword = mime::base64_encode("Password:", "");

bool base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/' || c == '=';
}

bool login_ok(std::string_view login) {
  if (login.empty() || login.size() > kMaxLogin) return false;
  for (char c : login)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

bool password_ok(std::string_view password) {
  return password.size() <= kMaxPassword && password.find('\0') == std::string_view::npos;
}

Step finished(std::string login, std::string password) {
  if (!login_ok(login) || !password_ok(password)) return {Step::malformed, {}, {}};
  return {Step::credentials, {}, {std::move(login), std::move(password)}};
}

// RFC 4616 section 2: [authzid] NUL authcid NUL passwd.
Step plain(std::string_view msg) {
  std::size_t a = msg.find('\0');
  if (a == std::string_view::npos) return {Step::malformed, {}, {}};
  std::size_t b = msg.find('\0', a + 1);
  if (b == std::string_view::npos) return {Step::malformed, {}, {}};
  std::string_view authzid = msg.substr(0, a);
  std::string_view authcid = msg.substr(a + 1, b - a - 1);
  if (!authzid.empty() && authzid != authcid) return {Step::malformed, {}, {}};
  return finished(std::string(authcid), std::string(msg.substr(b + 1)));
}

}  // namespace

std::optional<Mechanism> parse_mechanism(std::string_view name) {
  if (iequals(name, "PLAIN")) return Mechanism::plain;
  if (iequals(name, "LOGIN")) return Mechanism::login;
  return std::nullopt;
}

std::string_view mechanism_name(Mechanism m) { return m == Mechanism::plain ? "PLAIN" : "LOGIN"; }

std::optional<std::string> base64_decode_strict(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text)
    if (!base64_char(c)) return std::nullopt;
  mime::Decoded d = mime::base64_decode(text);
  if (!d.clean) return std::nullopt;
  return std::move(d.data);
}

Step Exchange::start(std::optional<std::string_view> initial) {
  if (!initial) {
    if (mech_ == Mechanism::plain) return {Step::challenge, "", {}};
    return {Step::challenge, kUsername, {}};
  }
  // RFC 4954 section 4: "=" is an initial response of zero length.
  return respond(*initial == "=" ? std::string_view() : *initial);
}

Step Exchange::respond(std::string_view line) {
  if (line == "*") return {Step::cancelled, {}, {}};
  auto decoded = base64_decode_strict(line);
  if (!decoded) return {Step::bad_base64, {}, {}};
  return take(*decoded);
}

Step Exchange::take(std::string_view decoded) {
  if (mech_ == Mechanism::plain) return plain(decoded);
  if (stage_ == 0) {
    if (!login_ok(decoded)) return {Step::malformed, {}, {}};
    login_ = std::string(decoded);
    stage_ = 1;
    return {Step::challenge, kPassword, {}};
  }
  return finished(std::move(login_), std::string(decoded));
}

}  // namespace posthorn::auth
