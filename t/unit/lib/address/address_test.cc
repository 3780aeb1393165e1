#include "lib/address/address.h"

#include <catch2/catch.hpp>

#include "lib/address/utf8.h"
#include "lib/base/strings.h"

using namespace posthorn;
using namespace posthorn::address;

TEST_CASE("local parts are quoted only when they are not dot-atoms", "[address]") {
  struct Case {
    std::string local, wire;
  };
  const Case cases[] = {
      {"user", "user"},
      {"first.last", "first.last"},
      {"a+b", "a+b"},
      {"user%host", "user%host"},
      {"host!user", "host!user"},
      {"", "\"\""},
      {"john doe", "\"john doe\""},
      {".lead", "\".lead\""},
      {"trail.", "\"trail.\""},
      {"a..b", "\"a..b\""},
      {"a\"b", "\"a\\\"b\""},
      {"a\\b", "\"a\\\\b\""},
      {"a@b", "\"a@b\""},
      {"(x)", "\"(x)\""},
      {"j\xc3\xb6rg", "j\xc3\xb6rg"},
  };
  for (const auto& c : cases) {
    INFO(c.local);
    CHECK(quote_local(c.local) == c.wire);
    CHECK(is_dot_atom(c.local) == (c.local == c.wire));
    Options o;
    o.smtputf8 = true;
    auto back = unquote_local(c.wire, o);
    REQUIRE(back);
    CHECK(*back == c.local);
  }
}

TEST_CASE("unquote_local refuses malformed wire local parts", "[address]") {
  struct Case {
    std::string wire;
    Code code;
  };
  const Case cases[] = {
      {"", Code::syntax},
      {"a b", Code::syntax},
      {"\"a", Code::syntax},
      {"a\"", Code::syntax},
      {"\"a\"b", Code::syntax},
      {"\"a\\\"", Code::syntax},
      {"a..b", Code::syntax},
      {".a", Code::syntax},
      {"\"\t\"", Code::syntax},
      {"\"\\\t\"", Code::syntax},
      {std::string("\"\0\"", 3), Code::syntax},
      {"j\xc3\xb6rg", Code::needs_smtputf8},
      {"j\xc3rg", Code::bad_utf8},
      {std::string(65, 'x'), Code::local_too_long},
      {"\"" + std::string(65, 'x') + "\"", Code::local_too_long},
      {"\"" + std::string(63, ' ') + "\"", Code::local_too_long},
  };
  for (const auto& c : cases) {
    INFO(c.wire);
    auto r = unquote_local(c.wire);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == c.code);
  }
  // The limit applies to the canonical form: needless quotes do not count.
  CHECK(unquote_local(std::string(64, 'x')));
  CHECK(unquote_local("\"" + std::string(64, 'x') + "\""));
  CHECK(unquote_local("\"" + std::string(62, ' ') + "\""));
}

TEST_CASE("domains are validated and folded to lower case", "[address]") {
  struct Case {
    std::string in;
    bool ok;
    std::string out_or_code;
  };
  Options u;
  u.smtputf8 = true;
  CHECK(*canonical_domain("Example.ORG") == "example.org");
  CHECK(*canonical_domain("XN--BCHER-KVA.example") == "xn--bcher-kva.example");
  CHECK(*canonical_domain("[IPv6:2001:DB8::A]") == "[IPv6:2001:db8::a]");
  CHECK(*canonical_domain("[10.0.0.1]") == "[10.0.0.1]");
  CHECK(*canonical_domain("B\xc3\x9c\x43HER.example", u) == "b\xc3\x9c\x63her.example");  // ASCII only
  CHECK(*canonical_domain("a-b.c--d.example") == "a-b.c--d.example");
  CHECK(*canonical_domain(std::string(63, 'a')) == std::string(63, 'a'));
  // 255 octets exactly (four labels of 63 and dots), then one more.
  const std::string d255 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                           std::string(63, 'c') + "." + std::string(63, 'd');
  REQUIRE(d255.size() == 255);
  CHECK(*canonical_domain(d255) == d255);
  auto d256 = canonical_domain(d255 + "e");
  REQUIRE_FALSE(d256);
  CHECK(code_of(d256.error()) == Code::domain_too_long);
  auto d256b = canonical_domain("e." + d255);
  REQUIRE_FALSE(d256b);
  CHECK(code_of(d256b.error()) == Code::domain_too_long);
  // IPv6 literals are whatever inet_pton (RFC 4291) takes, which includes a
  // "::" standing for one group that RFC 5321's IPv6-comp would not allow.
  CHECK(*canonical_domain("[IPv6:1:2:3:4:5:6:7::]") == "[IPv6:1:2:3:4:5:6:7::]");
  CHECK(*canonical_domain("[IPv6:::FFFF:192.0.2.1]") == "[IPv6:::ffff:192.0.2.1]");
  CHECK(*canonical_domain("[IPV6:::1]") == "[IPv6:::1]");
  const std::pair<std::string, Code> bad[] = {
      {"", Code::bad_domain},
      {".", Code::bad_domain},
      {"a.", Code::bad_domain},
      {".a", Code::bad_domain},
      {"a..b", Code::bad_domain},
      {"-a", Code::bad_domain},
      {"a-", Code::bad_domain},
      {"a.-b.c", Code::bad_domain},
      {"a_b", Code::bad_domain},
      {"a b", Code::bad_domain},
      {"a/b", Code::bad_domain},
      {std::string("a\0b", 3), Code::bad_domain},
      {std::string(64, 'a'), Code::domain_too_long},
      {"[", Code::bad_literal},
      {"[]", Code::bad_literal},
      {"[1.2.3.4", Code::bad_literal},
      {std::string("[1.2.3.4\0]", 10), Code::bad_literal},
      {"[IPv6:::1", Code::bad_literal},
      {"[IPv6::::1]", Code::bad_literal},
      {"[IPv6:1:2:3:4:5:6:7::8:9]", Code::bad_literal},
      {"[IPv6:1:2:3:4:5:6:1.2.3.4:8]", Code::bad_literal},
      {"[IPv6: ::1]", Code::bad_literal},
      {"[IPv6:::1 ]", Code::bad_literal},
      {"b\xc3\xbc\x63her.example", Code::needs_smtputf8},
      {"b\xc3.example", Code::bad_utf8},
  };
  for (const auto& [in, code] : bad) {
    INFO(in);
    auto r = canonical_domain(in);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == code);
  }
  auto bad_u = canonical_domain("b\xc3.example", u);
  REQUIRE_FALSE(bad_u);
  CHECK(code_of(bad_u.error()) == Code::bad_utf8);
}

TEST_CASE("valid_utf8 follows RFC 3629", "[address][utf8]") {
  const std::pair<std::string, bool> cases[] = {
      {"", true},
      {"ascii", true},
      {"\xc2\x80", true},                   // U+0080, smallest 2-octet
      {"\xdf\xbf", true},                   // U+07FF
      {"\xe0\xa0\x80", true},               // U+0800
      {"\xed\x9f\xbf", true},               // U+D7FF, last before surrogates
      {"\xee\x80\x80", true},               // U+E000, first after
      {"\xef\xbf\xbf", true},               // U+FFFF
      {"\xf0\x90\x80\x80", true},           // U+10000
      {"\xf4\x8f\xbf\xbf", true},           // U+10FFFF
      {"\xc0\x80", false},                  // overlong NUL
      {"\xc1\xbf", false},                  // overlong
      {"\xe0\x9f\xbf", false},              // overlong
      {"\xf0\x8f\xbf\xbf", false},          // overlong
      {"\xed\xa0\x80", false},              // U+D800
      {"\xed\xbf\xbf", false},              // U+DFFF
      {"\xf4\x90\x80\x80", false},          // U+110000
      {"\xf5\x80\x80\x80", false},
      {"\xf8\x88\x80\x80\x80", false},      // 5-octet form
      {"\xfe", false},
      {"\xff", false},
      {"\x80", false},
      {"\xbf", false},
      {"\xc2", false},
      {"\xe2\x82", false},
      {"\xf0\x9f\x93", false},
      {"\xc2\x41", false},                  // continuation expected
      {"\xe2\x28\xa1", false},
      {"\xf0\x9f\x93\x28", false},
      {"a\xc3\xb6\xe2\x82\xac\xf0\x9f\x93\xa7z", true},
  };
  for (const auto& [s, ok] : cases) {
    INFO(printable(s));
    CHECK(valid_utf8(s) == ok);
  }
}

TEST_CASE("recipient delimiter split as Postfix's recipient_delimiter", "[address]") {
  struct Case {
    const char* local;
    const char* delims;
    const char* base;
    char delim;
    const char* ext;
  };
  const Case cases[] = {
      {"user+ext", "+", "user", '+', "ext"},
      {"user+ext+more", "+", "user", '+', "ext+more"},
      {"user-ext", "+-", "user", '-', "ext"},
      {"user+a-b", "-+", "user", '+', "a-b"},
      {"user+", "+", "user", '+', ""},
      {"user", "+", "user", '\0', ""},
      {"user+ext", "", "user+ext", '\0', ""},
      {"+ext", "+", "+ext", '\0', ""},
      {"postmaster+x", "+", "postmaster", '+', "x"},
      {"Postmaster", "+", "Postmaster", '\0', ""},
      {"MAILER-DAEMON", "-", "MAILER-DAEMON", '\0', ""},
      {"owner-list", "-", "owner-list", '\0', ""},
      {"list-request", "-", "list-request", '\0', ""},
      {"list-Request", "-+", "list-Request", '\0', ""},
      {"owner-list", "+", "owner-list", '\0', ""},
      {"user-x", "+", "user-x", '\0', ""},
      {"-request", "-", "-request", '\0', ""},
  };
  for (const auto& c : cases) {
    INFO(c.local << " with " << c.delims);
    const LocalSplit s = split_extension(c.local, c.delims);
    CHECK(s.base == c.base);
    CHECK(s.delimiter == c.delim);
    CHECK(s.extension == c.ext);
  }
}

TEST_CASE("same_address folds the domain only", "[address]") {
  CHECK(same_address({"u", "example.org"}, {"u", "EXAMPLE.org"}));
  CHECK_FALSE(same_address({"U", "example.org"}, {"u", "example.org"}));
  CHECK_FALSE(same_address({"u", "example.org"}, {"u", ""}));
  CHECK(same_address({"root", ""}, {"root", ""}));
  CHECK(to_string(Mailbox{"a b", "example.org"}) == "\"a b\"@example.org");
  CHECK(to_string(Mailbox{"root", ""}) == "root");
}

TEST_CASE("errors carry a coarse Errc and a fixed reply text", "[address]") {
  const std::pair<Code, Errc> cases[] = {
      {Code::syntax, Errc::parse},          {Code::bad_domain, Errc::parse},
      {Code::bad_literal, Errc::parse},     {Code::no_domain, Errc::parse},
      {Code::bad_utf8, Errc::parse},        {Code::local_too_long, Errc::too_large},
      {Code::domain_too_long, Errc::too_large}, {Code::path_too_long, Errc::too_large},
      {Code::needs_smtputf8, Errc::unsupported}, {Code::bad_param, Errc::parse},
      {Code::bad_xtext, Errc::parse},
  };
  for (const auto& [code, errc] : cases) {
    const Error e = make_address_error(code);
    CHECK(e.code == errc);
    CHECK(code_of(e) == code);
    CHECK(e.detail == reply_text(code));
    CHECK_FALSE(e.detail.empty());
  }
  CHECK(code_of(Error{Errc::parse, "something else"}) == Code::other);
  CHECK(code_of(Error{Errc::io, "Bad address syntax"}) == Code::other);
}
