#include "lib/address/header.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::address;

namespace {

// The mailboxes of a list, each rendered "display|address", groups as "group:".
std::vector<std::string> flat(const AddressList& l) {
  std::vector<std::string> out;
  for (const auto& a : l) {
    if (a.is_group) out.push_back(a.group_name + ":");
    for (const auto& m : a.mailboxes) out.push_back(m.display_name + "|" + to_string(m.mailbox));
  }
  return out;
}

struct Good {
  std::string in;
  std::vector<std::string> want;
};

struct Bad {
  std::string in;
  Code code;
};

}  // namespace

TEST_CASE("header address lists that parse", "[address][header]") {
  const Good cases[] = {
      {"", {}},
      {"   ", {}},
      {"a@example.org", {"|a@example.org"}},
      {"A@Example.ORG", {"|A@example.org"}},
      {"a@x.example, b@y.example", {"|a@x.example", "|b@y.example"}},
      {"John Doe <jd@example.org>", {"John Doe|jd@example.org"}},
      {"\"Doe, John\" <jd@example.org>", {"Doe, John|jd@example.org"}},
      {"\"Doe \\\"JD\\\" John\" <jd@example.org>", {"Doe \"JD\" John|jd@example.org"}},
      {"<jd@example.org>", {"|jd@example.org"}},
      {"John Q. Public <jqp@example.org>", {"John Q. Public|jqp@example.org"}},
      {"=?UTF-8?Q?J=C3=B6rg?= <j@example.org>", {"=?UTF-8?Q?J=C3=B6rg?=|j@example.org"}},
      {"=?utf-8?b?w7Zy?= =?utf-8?q?a.b?= <j@example.org>", {"=?utf-8?b?w7Zy?= =?utf-8?q?a.b?=|j@example.org"}},
      {"J\xc3\xb6rg <j@example.org>", {"J\xc3\xb6rg|j@example.org"}},
      {"Ren\xe9 <r@example.org>", {"Ren\xe9|r@example.org"}},  // Latin-1 name: kept
      {"undisclosed-recipients:;", {"undisclosed-recipients:"}},
      {"undisclosed-recipients: ;", {"undisclosed-recipients:"}},
      {"undisclosed-recipients:", {"undisclosed-recipients:"}},  // ';' missing at the end
      {"team: a@x.example, B <b@y.example>;", {"team:", "|a@x.example", "B|b@y.example"}},
      {"team: a@x.example;, c@z.example", {"team:", "|a@x.example", "|c@z.example"}},
      {"team: a@x.example,, ;", {"team:", "|a@x.example"}},
      {"a@x.example,,b@y.example", {"|a@x.example", "|b@y.example"}},
      {", a@x.example ,", {"|a@x.example"}},
      {",,,", {}},
      {"root", {"|root"}},
      {"Root User <root>", {"Root User|root"}},
      {"root, a@x.example", {"|root", "|a@x.example"}},
      {"\"john doe\"@example.org", {"|\"john doe\"@example.org"}},
      {"\"john\".doe@example.org", {"|john.doe@example.org"}},
      {"john . doe @ example . org", {"|john.doe@example.org"}},
      {"john(c1).(c2)doe@(c3)example.org(c4)", {"|john.doe@example.org"}},
      {"(comment) a@x.example (another)", {"|a@x.example"}},
      {"a@x.example (Jane (the (nested) one) Doe)", {"|a@x.example"}},
      {"(a\\)b) a@x.example", {"|a@x.example"}},
      {"John (middle) Doe <jd@example.org>", {"John Doe|jd@example.org"}},
      {"<@relay.example,@r2.example:jd@example.org>", {"|jd@example.org"}},
      {"a@[192.0.2.1]", {"|a@[192.0.2.1]"}},
      {"a@[IPv6:2001:DB8::1]", {"|a@[IPv6:2001:db8::1]"}},
      {"user%host@relay.example", {"|user%host@relay.example"}},
      // Folded input: CRLF or LF followed by a blank.
      {"a@x.example,\r\n b@y.example", {"|a@x.example", "|b@y.example"}},
      {"a@x.example,\n\tb@y.example", {"|a@x.example", "|b@y.example"}},
      {"John\r\n Doe <jd@example.org>\r\n", {"John Doe|jd@example.org"}},
      {"\"folded\r\n name\" <jd@example.org>", {"folded name|jd@example.org"}},
      {"(folded\r\n comment) a@x.example\n", {"|a@x.example"}},
      {"\"\" <a@x.example>", {"|a@x.example"}},
      {"\"\"@x.example", {"|\"\"@x.example"}},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.in);
    auto r = parse_address_list(c.in);
    REQUIRE(r);
    CHECK(flat(*r) == c.want);
    // Round trip through the rendered form.
    INFO("rendered: " << to_string(*r));
    auto again = parse_address_list(to_string(*r));
    REQUIRE(again);
    CHECK(*again == *r);
  }
}

TEST_CASE("header address lists that are refused", "[address][header]") {
  const std::string deep_open(100000, '(');
  const std::string deep_ok = std::string(100000, '(') + std::string(100000, ')');
  const Bad cases[] = {
      {"a@x.example b@y.example", Code::syntax},
      {"John Doe", Code::syntax},
      {"John Doe <jd@example.org", Code::syntax},
      {"John Doe jd@example.org>", Code::syntax},
      {"<<jd@example.org>>", Code::syntax},
      {"<>", Code::syntax},
      {"\"unbalanced <jd@example.org>", Code::syntax},
      {"(unbalanced a@x.example", Code::syntax},
      {"a@x.example)", Code::syntax},
      {"a@[192.0.2.1", Code::syntax},
      {"a@192.0.2.1]", Code::syntax},
      {"a@[192.0.2.300]", Code::bad_literal},
      {"a@[IPv6:::1::]", Code::bad_literal},
      {"a@[1[2]", Code::syntax},
      {"a@x.example;", Code::syntax},
      {"team: a@x.example; junk", Code::syntax},
      {"outer: inner: a@x.example;;", Code::syntax},
      {": a@x.example;", Code::syntax},
      {"a.@x.example", Code::syntax},
      {".a@x.example", Code::syntax},
      {"a..b@x.example", Code::syntax},
      {"a@", Code::bad_domain},
      {"a@x..example", Code::bad_domain},
      {"a@x.example.", Code::bad_domain},
      {"a@-x.example", Code::bad_domain},
      {"a@x_y.example", Code::bad_domain},
      {"a@b@c.example", Code::syntax},
      {"a@x.example\\", Code::syntax},
      {std::string("a@x.exa\0mple", 12), Code::syntax},
      {std::string("\"a\0\"@x.example", 14), Code::syntax},
      {std::string("(a\0) a@x.example", 16), Code::syntax},
      {"a@x.example\rb@y.example", Code::syntax},
      {"a@x.example,\nb@y.example", Code::syntax},  // LF not followed by a blank
      {"a@x.example,\r\nb@y.example", Code::syntax},
      {"\"a\rb\"@x.example", Code::syntax},
      {"(a\nb) a@x.example", Code::syntax},
      {"a\x01@x.example", Code::syntax},
      {"\"a\x01\"@x.example", Code::syntax},      // control in a local part
      {"\"a\tb\"@x.example", Code::syntax},       // TAB in a local part
      {"j\xc3\xb6rg@x.example", Code::needs_smtputf8},
      {"a@b\xc3\xbc\x63her.example", Code::needs_smtputf8},
      {"j\xc3@x.example", Code::bad_utf8},
      {"j\xed\xa0\x80@x.example", Code::bad_utf8},
      {std::string(65, 'l') + "@x.example", Code::local_too_long},
      {"a@" + std::string(64, 'd') + ".example", Code::domain_too_long},
      {deep_open + " a@x.example", Code::syntax},
      {"a@x.example " + std::string(100000, ')'), Code::syntax},
      {std::string(100000, '"'), Code::syntax},  // an even count: 50000 empty words, no address
      {std::string(100001, '"'), Code::syntax},
      {std::string(100000, '<'), Code::syntax},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.in.substr(0, 200));
    auto r = parse_address_list(c.in);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == c.code);
  }
  // 100000 nested parentheses that do close are a comment like any other.
  auto nested = parse_address_list(deep_ok + " a@x.example " + deep_ok);
  REQUIRE(nested);
  CHECK(flat(*nested) == std::vector<std::string>{"|a@x.example"});
}

TEST_CASE("header addresses accept UTF-8 under SMTPUTF8 (RFC 6532)", "[address][header]") {
  Options o;
  o.smtputf8 = true;
  auto r = parse_address_list("J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc\x63her.example>", o);
  REQUIRE(r);
  CHECK(flat(*r) == std::vector<std::string>{"J\xc3\xb6rg|j\xc3\xb6rg@b\xc3\xbc\x63her.example"});
  auto bad = parse_address_list("j\xf4\x90\x80\x80@x.example", o);
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == Code::bad_utf8);
}

TEST_CASE("all_mailboxes flattens groups in order", "[address][header]") {
  auto r = parse_address_list("a@x.example, g: b@x.example, c@x.example;, empty:;, d");
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  const std::vector<Mailbox> want = {
      {"a", "x.example"}, {"b", "x.example"}, {"c", "x.example"}, {"d", ""}};
  CHECK(all_mailboxes(*r) == want);
  CHECK_FALSE(all_mailboxes(*r)[3].qualified());
  CHECK(to_string(*r) == "a@x.example, g: b@x.example, c@x.example;, empty:;, d");
}

TEST_CASE("display names are quoted when rendered only when needed", "[address][header]") {
  struct Case {
    NameAddr in;
    const char* out;
  };
  const Case cases[] = {
      {{"John Doe", {"jd", "example.org"}}, "John Doe <jd@example.org>"},
      {{"Doe, John", {"jd", "example.org"}}, "\"Doe, John\" <jd@example.org>"},
      {{"John Q. Public", {"jqp", "example.org"}}, "\"John Q. Public\" <jqp@example.org>"},
      {{"say \"hi\"", {"a", "example.org"}}, "\"say \\\"hi\\\"\" <a@example.org>"},
      {{" lead", {"a", "example.org"}}, "\" lead\" <a@example.org>"},
      {{"two  spaces", {"a", "example.org"}}, "\"two  spaces\" <a@example.org>"},
      {{"", {"a b", "example.org"}}, "\"a b\"@example.org"},
  };
  for (const auto& c : cases) {
    CHECK(to_string(c.in) == c.out);
    auto back = parse_address_list(c.out);
    REQUIRE(back);
    REQUIRE(back->size() == 1);
    CHECK(back->at(0).mailboxes.at(0) == c.in);
  }
}

TEST_CASE("long address lists parse in one pass", "[address][header]") {
  std::string big;
  for (int k = 0; k < 20000; ++k) big += "User " + std::to_string(k) + " <u" + std::to_string(k) + "@x.example>,\r\n ";
  auto r = parse_address_list(big);
  REQUIRE(r);
  REQUIRE(r->size() == 20000);
  CHECK(r->back().mailboxes.at(0).mailbox == Mailbox{"u19999", "x.example"});
  CHECK(r->back().mailboxes.at(0).display_name == "User 19999");
  // A megabyte of one atom is a long unqualified local part, not a crash.
  auto huge = parse_address_list(std::string(1 << 20, 'a'));
  REQUIRE_FALSE(huge);
  CHECK(code_of(huge.error()) == Code::local_too_long);
}
