// access(5) lookup orders and values (smtpd/access_keys.h).
#include "smtpd/access_keys.h"

#include <catch2/catch.hpp>

using namespace posthorn::smtpd;
using V = std::vector<std::string>;

TEST_CASE("address keys: address, domain, parents, user@", "[smtpd][access]") {
  CHECK(address_keys("user+ext@Sub.Example.COM", "+", false) ==
        V{"user+ext@sub.example.com", "user@sub.example.com", "sub.example.com", ".example.com", ".com",
          "user+ext@", "user@"});
  CHECK(address_keys("user@sub.example.com", "+", true) ==
        V{"user@sub.example.com", "sub.example.com", "example.com", "com", "user@"});
  // No delimiter configured: no extension forms.
  CHECK(address_keys("user+ext@example.com", "", false) ==
        V{"user+ext@example.com", "example.com", ".com", "user+ext@"});
  CHECK(address_keys("postmaster", "+", false) == V{"postmaster@"});
  CHECK(address_keys("a@[192.0.2.1]", "", false) == V{"a@[192.0.2.1]", "[192.0.2.1]", "a@"});
}

TEST_CASE("domain keys: the name, then its parents", "[smtpd][access]") {
  CHECK(domain_keys("mail.example.com.", false) == V{"mail.example.com", ".example.com", ".com"});
  CHECK(domain_keys("mail.example.com", true) == V{"mail.example.com", "example.com", "com"});
  CHECK(domain_keys("localhost", false) == V{"localhost"});
  CHECK(domain_keys("", false).empty());
}

TEST_CASE("client keys: name, parents, address, network prefixes", "[smtpd][access]") {
  CHECK(client_keys("mail.example.com", "192.0.2.1", false) ==
        V{"mail.example.com", ".example.com", ".com", "192.0.2.1", "192.0.2", "192.0", "192"});
  CHECK(client_keys("unknown", "192.0.2.1", false) == V{"192.0.2.1", "192.0.2", "192.0", "192"});
  CHECK(client_keys("unknown", "2001:db8::1", false) ==
        V{"2001:db8::1", "2001:db8:0:0:0:0:0:1", "2001:db8:0:0:0:0:0", "2001:db8:0:0:0:0", "2001:db8:0:0:0",
          "2001:db8:0:0", "2001:db8:0", "2001:db8", "2001"});
}

TEST_CASE("access(5) values", "[smtpd][access]") {
  struct Case {
    std::string value;
    AccessAction::Kind kind;
    int code;
    std::string dsn, text;
  };
  const std::vector<Case> cases = {
      {"OK", AccessAction::permit, 0, "", ""},
      {"permit", AccessAction::permit, 0, "", ""},
      {"  12345 ", AccessAction::permit, 0, "", ""},
      {"DUNNO", AccessAction::dunno, 0, "", ""},
      {"REJECT", AccessAction::reject, 0, "", ""},
      {"REJECT no spam here", AccessAction::reject, 0, "", "no spam here"},
      {"reject 5.7.0 policy", AccessAction::reject, 0, "5.7.0", "policy"},
      {"DEFER later", AccessAction::defer, 0, "", "later"},
      {"550 User unknown", AccessAction::reject, 550, "", "User unknown"},
      {"421 4.4.5 busy", AccessAction::defer, 421, "4.4.5", "busy"},
      {"450 5.1.1 mismatched class", AccessAction::defer, 450, "4.1.1", "mismatched class"},
      {"250 fine", AccessAction::invalid, 0, "", "250 fine"},
      {"FILTER smtp:x", AccessAction::invalid, 0, "", "FILTER smtp:x"},
  };
  for (const Case& c : cases) {
    INFO(c.value);
    const AccessAction a = parse_access_value(c.value);
    CHECK(a.kind == c.kind);
    CHECK(a.code == c.code);
    CHECK(a.dsn == c.dsn);
    CHECK(a.text == c.text);
  }
}
