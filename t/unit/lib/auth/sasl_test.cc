// The SASL exchanges and strict base64 of lib/auth/sasl.h.
#include "lib/auth/sasl.h"

#include <catch2/catch.hpp>

#include <string>

#include "lib/mime/transfer.h"

using namespace posthorn;
using namespace posthorn::auth;

namespace {
std::string b64(std::string_view s) { return mime::base64_encode(s, ""); }
}  // namespace

TEST_CASE("strict base64 takes only canonical, padded text", "[auth][sasl][base64]") {
  struct Case {
    std::string in;
    std::optional<std::string> out;
  };
  const Case cases[] = {
      {"", ""},
      {"QQ==", "A"},
      {"QUI=", "AB"},
      {"QUJD", "ABC"},
      {"AGJvYgBzM2NyZXQ=", std::string("\0bob\0s3cret", 11)},
      {"QQ", std::nullopt},          // padding missing
      {"QQ=", std::nullopt},         // padding short
      {"QUJD\r\n", std::nullopt},    // line end inside
      {"QU JD", std::nullopt},       // white space
      {"QUJ", std::nullopt},         // truncated group
      {"QQ==QQ==", std::nullopt},    // data after the padding
      {"Q===", std::nullopt},        // a lone 6 bits
      {"====", std::nullopt},
      {"=", std::nullopt},           // only meaningful as an initial response
      {"*", std::nullopt},
      {"QUJ-", std::nullopt},        // base64url is another alphabet
      {"QUJ_", std::nullopt},
      {std::string("QU\0D", 4), std::nullopt},
      {"\xc3\xa9\xc3\xa9", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    CHECK(base64_decode_strict(c.in) == c.out);
  }
}

TEST_CASE("every byte value survives a round trip", "[auth][sasl][base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 17) {
    auto d = base64_decode_strict(b64(all.substr(0, n)));
    REQUIRE(d);
    CHECK(*d == all.substr(0, n));
  }
}

TEST_CASE("mechanism names", "[auth][sasl]") {
  CHECK(parse_mechanism("plain") == Mechanism::plain);
  CHECK(parse_mechanism("LOGIN") == Mechanism::login);
  CHECK_FALSE(parse_mechanism("CRAM-MD5"));
  CHECK_FALSE(parse_mechanism(""));
  CHECK(mechanism_name(Mechanism::plain) == "PLAIN");
}

TEST_CASE("PLAIN with an initial response gives the credentials at once", "[auth][sasl]") {
  Exchange x(Mechanism::plain);
  Step s = x.start(b64(std::string("\0bob\0s3cret", 11)));
  REQUIRE(s.kind == Step::credentials);
  CHECK(s.creds.login == "bob");
  CHECK(s.creds.password == "s3cret");
}

TEST_CASE("PLAIN without one sends an empty challenge first", "[auth][sasl]") {
  Exchange x(Mechanism::plain);
  Step s = x.start(std::nullopt);
  REQUIRE(s.kind == Step::challenge);
  CHECK(s.text.empty());
  s = x.respond(b64(std::string("bob\0bob\0pw with spaces", 22)));
  REQUIRE(s.kind == Step::credentials);  // authzid equal to authcid is fine
  CHECK(s.creds.login == "bob");
  CHECK(s.creds.password == "pw with spaces");
}

TEST_CASE("PLAIN refusals", "[auth][sasl]") {
  struct Case {
    std::string decoded;
    Step::Kind kind;
  };
  const Case cases[] = {
      {std::string("\0bob\0", 5), Step::credentials},             // empty password: checked
      {std::string("alice\0bob\0pw", 12), Step::malformed},      // acting for another user
      {std::string("\0\0pw", 4), Step::malformed},                // empty login
      {std::string("bob-no-nuls"), Step::malformed},
      {std::string("\0bob-one-nul", 12), Step::malformed},
      {std::string("\0b\x01ob\0pw", 8), Step::malformed},         // control character
      {std::string("\0") + std::string(257, 'a') + std::string("\0pw", 3), Step::malformed},
      {std::string("\0bob\0", 5) + std::string(1025, 'p'), Step::malformed},
      {std::string("\0bob\0p\0w", 8), Step::malformed},           // NUL in the password
  };
  for (const Case& c : cases) {
    Exchange x(Mechanism::plain);
    INFO(b64(c.decoded));
    CHECK(x.start(b64(c.decoded)).kind == c.kind);
  }
  Exchange x(Mechanism::plain);
  CHECK(x.start("=").kind == Step::malformed);  // "=": a zero-length initial response
  Exchange y(Mechanism::plain);
  CHECK(y.start("AGJvYgBzM2NyZXQ").kind == Step::bad_base64);
}

TEST_CASE("LOGIN asks for the user name, then the password", "[auth][sasl]") {
  Exchange x(Mechanism::login);
  Step s = x.start(std::nullopt);
  REQUIRE(s.kind == Step::challenge);
  CHECK(s.text == "VXNlcm5hbWU6");  // "Username:"
  s = x.respond(b64("bob"));
  REQUIRE(s.kind == Step::challenge);
  CHECK(s.text == "UGFzc3dvcmQ6");  // "Password:"
  s = x.respond(b64("s3cret"));
  REQUIRE(s.kind == Step::credentials);
  CHECK(s.creds.login == "bob");
  CHECK(s.creds.password == "s3cret");
}

TEST_CASE("LOGIN takes the user name as an initial response", "[auth][sasl]") {
  Exchange x(Mechanism::login);
  Step s = x.start(b64("bob"));
  REQUIRE(s.kind == Step::challenge);
  CHECK(s.text == "UGFzc3dvcmQ6");
  s = x.respond("");  // an empty password is a password, checked as any other
  REQUIRE(s.kind == Step::credentials);
  CHECK(s.creds.password.empty());
}

TEST_CASE("a star cancels at every stage; bad base64 ends the exchange", "[auth][sasl]") {
  Exchange a(Mechanism::login);
  a.start(std::nullopt);
  CHECK(a.respond("*").kind == Step::cancelled);
  Exchange b(Mechanism::login);
  b.start(std::nullopt);
  b.respond(b64("bob"));
  CHECK(b.respond("*").kind == Step::cancelled);
  Exchange c(Mechanism::plain);
  c.start(std::nullopt);
  CHECK(c.respond("*").kind == Step::cancelled);
  Exchange d(Mechanism::login);
  d.start(std::nullopt);
  CHECK(d.respond("Ym9i!").kind == Step::bad_base64);
  Exchange e(Mechanism::login);
  e.start(std::nullopt);
  CHECK(e.respond("").kind == Step::malformed);  // an empty user name
  Exchange f(Mechanism::login);
  f.start(std::nullopt);
  CHECK(f.respond(b64(std::string("b\0b", 3))).kind == Step::malformed);
}
