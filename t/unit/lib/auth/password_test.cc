// Stored password entries: lib/auth/password.h.
#include "lib/auth/password.h"

#include <catch2/catch.hpp>

#include <string>

using namespace posthorn;
using namespace posthorn::auth;

TEST_CASE("made hashes verify, for every scheme", "[auth][password]") {
  for (Scheme s : {Scheme::sha512_crypt, Scheme::sha256_crypt, Scheme::blf_crypt, Scheme::plain}) {
    INFO(scheme_name(s));
    auto entry = make_hash(s, "corr\xc3\xa9\x63t horse");
    REQUIRE(entry);
    CHECK(entry->starts_with(std::string("{") + std::string(scheme_name(s)) + "}"));
    CHECK(verify_password(*entry, "corr\xc3\xa9\x63t horse", true).ok());
    CHECK(verify_password(*entry, "correct horse", true).kind == Verdict::mismatch);
    CHECK(verify_password(*entry, "", true).kind == Verdict::mismatch);
  }
}

TEST_CASE("each hash has its own salt", "[auth][password]") {
  auto a = make_hash(Scheme::sha512_crypt, "same");
  auto b = make_hash(Scheme::sha512_crypt, "same");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);
  CHECK(a->starts_with("{SHA512-CRYPT}$6$"));
  auto c = make_hash(Scheme::blf_crypt, "same");
  REQUIRE(c);
  CHECK(c->starts_with("{BLF-CRYPT}$2b$10$"));
}

TEST_CASE("an entry without a prefix is a crypt(3) hash, as in /etc/shadow", "[auth][password]") {
  auto entry = make_hash(Scheme::sha256_crypt, "pw");
  REQUIRE(entry);
  std::string bare = entry->substr(entry->find('}') + 1);
  CHECK(verify_password(bare, "pw", false).ok());
  CHECK(verify_password("{CRYPT}" + bare, "pw", false).ok());
  CHECK(verify_password("{crypt}" + bare, "pw", false).ok());  // scheme names in any case
  CHECK(verify_password(bare, "pW", false).kind == Verdict::mismatch);
}

TEST_CASE("locked and unusable entries never match", "[auth][password]") {
  auto entry = make_hash(Scheme::sha512_crypt, "pw");
  REQUIRE(entry);
  std::string hash = entry->substr(entry->find('}') + 1);
  struct Case {
    std::string entry;
    Verdict::Kind kind;
  };
  const Case cases[] = {
      {"", Verdict::locked},
      {"!", Verdict::locked},
      {"*", Verdict::locked},
      {"!" + hash, Verdict::locked},                     // passwd -l
      {"{SHA512-CRYPT}!" + hash, Verdict::locked},
      {"{PLAIN}", Verdict::unusable},                    // {PLAIN} is not allowed here
      {"{SHA256-CRYPT}" + hash, Verdict::unusable},      // label and hash disagree
      {"{BLF-CRYPT}" + hash, Verdict::unusable},
      {"{MD4}abc", Verdict::unusable},                   // unknown scheme
      {"{SHA512-CRYPT" + hash, Verdict::unusable},       // no closing brace
      {"$9$nonsense", Verdict::unusable},                // a method libcrypt lacks
      {"{PLAIN}pw", Verdict::unusable},                  // not allowed here
  };
  for (const Case& c : cases) {
    INFO(c.entry);
    Verdict v = verify_password(c.entry, "pw", false);
    CHECK(v.kind == c.kind);
    if (v.kind == Verdict::unusable) CHECK_FALSE(v.problem.empty());
    CHECK(v.problem.find(hash) == std::string::npos);  // the log never sees a hash
  }
}

TEST_CASE("{PLAIN} when allowed: whole-value comparison", "[auth][password]") {
  CHECK(verify_password("{PLAIN}secret", "secret", true).ok());
  CHECK(verify_password("{PLAIN}secret", "secre", true).kind == Verdict::mismatch);
  CHECK(verify_password("{PLAIN}secret", "secrets", true).kind == Verdict::mismatch);
  CHECK(verify_password("{plain}secret", "secret", true).ok());
  CHECK(verify_password("{PLAIN}", "", true).kind == Verdict::locked);
}

TEST_CASE("passwords holding NUL are neither hashed nor matched", "[auth][password]") {
  CHECK_FALSE(make_hash(Scheme::sha512_crypt, std::string("a\0b", 3)));
  CHECK_FALSE(make_hash(Scheme::sha512_crypt, ""));
  auto entry = make_hash(Scheme::sha512_crypt, "a");
  REQUIRE(entry);
  CHECK(verify_password(*entry, std::string("a\0b", 3), true).kind == Verdict::mismatch);
  CHECK(verify_password("{PLAIN}a", std::string("a\0", 2), true).kind == Verdict::mismatch);
}

TEST_CASE("scheme names", "[auth][password]") {
  CHECK(parse_scheme("sha512-crypt").value() == Scheme::sha512_crypt);
  CHECK(parse_scheme("{BLF-CRYPT}").value() == Scheme::blf_crypt);
  CHECK(parse_scheme("PLAIN").value() == Scheme::plain);
  auto bad = parse_scheme("MD5");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail.find("SHA512-CRYPT") != std::string::npos);
}
