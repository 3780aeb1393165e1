#include "lib/address/path.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::address;

namespace {

enum Mode { S = 0, L = 1, U = 2, LU = 3 };  // strict, lenient, SMTPUTF8, both

Options opts_for(int mode) {
  Options o;
  o.lenient = (mode & L) != 0;
  o.smtputf8 = (mode & U) != 0;
  return o;
}

std::string rep(char c, std::size_t n) { return std::string(n, c); }

// A valid domain of exactly n octets (labels of 62, then one of 1 to 63).
std::string domain_of(std::size_t n) {
  std::string d;
  while (n - d.size() > 63) d += rep('a', 62) + ".";
  d += rep('b', n - d.size());
  return d;
}

struct Good {
  std::string in;
  int mode;
  std::string canonical;  // to_string of the path
};

struct Bad {
  std::string in;
  int mode;
  Code code;
};

}  // namespace

TEST_CASE("paths that parse, with their canonical form", "[address][path]") {
  const Good cases[] = {
      {"<user@example.org>", S, "<user@example.org>"},
      {"<User@Example.ORG>", S, "<User@example.org>"},  // domain folds, local kept
      {"<>", S, "<>"},
      {"<postmaster>", S, "<postmaster>"},
      {"<PostMaster>", S, "<PostMaster>"},
      {"<\"postmaster\">", S, "<postmaster>"},
      {"<@a.example,@b.example:user@c.example>", S, "<user@c.example>"},
      {"<@a.example:user@c.example>", S, "<user@c.example>"},
      {"<\"john doe\"@example.org>", S, "<\"john doe\"@example.org>"},
      {"<\"john\\\"doe\"@example.org>", S, "<\"john\\\"doe\"@example.org>"},
      {"<\"a\\\\b\"@example.org>", S, "<\"a\\\\b\"@example.org>"},
      {"<\"simple\"@example.org>", S, "<simple@example.org>"},  // needless quotes dropped
      {"<\"\\a\"@example.org>", S, "<a@example.org>"},
      {"<\"\"@example.org>", S, "<\"\"@example.org>"},
      {"<\"a..b\"@example.org>", S, "<\"a..b\"@example.org>"},
      {"<\".a\"@example.org>", S, "<\".a\"@example.org>"},
      {"<\"a@b\"@example.org>", S, "<\"a@b\"@example.org>"},
      {"<\"a>b\"@example.org>", S, "<\"a>b\"@example.org>"},
      {"<user%host@relay.example>", S, "<user%host@relay.example>"},  // percent hack: plain char
      {"<host!user@relay.example>", S, "<host!user@relay.example>"},  // bang path: plain char
      {"<!#$%&'*+-/=?^_`{|}~@example.org>", S, "<!#$%&'*+-/=?^_`{|}~@example.org>"},
      {"<a.b.c@x-y.example>", S, "<a.b.c@x-y.example>"},
      {"<u@[192.0.2.1]>", S, "<u@[192.0.2.1]>"},
      {"<u@[IPv6:2001:db8::1]>", S, "<u@[IPv6:2001:db8::1]>"},
      {"<u@[ipv6:2001:DB8::1]>", S, "<u@[IPv6:2001:db8::1]>"},
      {"<u@[IPv6:::]>", S, "<u@[IPv6:::]>"},
      {"<u@[IPv6:::1]>", S, "<u@[IPv6:::1]>"},
      {"<u@[IPv6:::ffff:192.0.2.1]>", S, "<u@[IPv6:::ffff:192.0.2.1]>"},
      {"<u@[IPv6:1:2:3:4:5:6:7:8]>", S, "<u@[IPv6:1:2:3:4:5:6:7:8]>"},
      {"<u@[255.255.255.255]>", S, "<u@[255.255.255.255]>"},
      {"<u@xn--bcher-kva.example>", S, "<u@xn--bcher-kva.example>"},
      {"<u@1.2.3.4>", S, "<u@1.2.3.4>"},  // all-digit labels are LDH
      {"<u@a>", S, "<u@a>"},
      // Lenient mode: what broken clients send.
      {" <user@example.org>", L, "<user@example.org>"},
      {"  \t<user@example.org>", L, "<user@example.org>"},
      {"user@example.org", L, "<user@example.org>"},
      {" user@example.org", L, "<user@example.org>"},
      {"<root>", L, "<root>"},
      {"root", L, "<root>"},
      {" <>", L, "<>"},
      {"\"a b\"@example.org", L, "<\"a b\"@example.org>"},
      // SMTPUTF8 (RFC 6531).
      {"<j\xc3\xb6rg@example.org>", U, "<j\xc3\xb6rg@example.org>"},
      {"<user@b\xc3\xbc\x63her.example>", U, "<user@b\xc3\xbc\x63her.example>"},
      {"<\"\xe2\x98\x83 x\"@example.org>", U, "<\"\xe2\x98\x83 x\"@example.org>"},
      {"<\xf0\x9f\x93\xa7@\xe4\xbe\x8b.\xe4\xbe\x8b>", U, "<\xf0\x9f\x93\xa7@\xe4\xbe\x8b.\xe4\xbe\x8b>"},
      // Limits: exactly at each one.
      {"<" + rep('l', 64) + "@example.org>", S, "<" + rep('l', 64) + "@example.org>"},
      {"<\"" + rep(' ', 62) + "\"@example.org>", S, "<\"" + rep(' ', 62) + "\"@example.org>"},
      {"<u@" + rep('a', 63) + ".example>", S, "<u@" + rep('a', 63) + ".example>"},
      {"<u@" + domain_of(252) + ">", S, "<u@" + domain_of(252) + ">"},  // path 256
      {"<" + rep('l', 64) + "@" + domain_of(189) + ">", S,
       "<" + rep('l', 64) + "@" + domain_of(189) + ">"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.in << " mode " << c.mode);
    auto r = parse_path(c.in, opts_for(c.mode));
    REQUIRE(r);
    CHECK(to_string(*r) == c.canonical);
    // Round trip: the canonical form parses back to the same value.
    auto again = parse_path(to_string(*r), opts_for(c.mode));
    REQUIRE(again);
    CHECK(*again == *r);
  }
}

TEST_CASE("paths that are refused, each with its code", "[address][path]") {
  const Bad cases[] = {
      {"", S, Code::syntax},
      {"<", S, Code::syntax},
      {">", L, Code::syntax},
      {"<user@example.org", S, Code::syntax},
      {"user@example.org>", L, Code::syntax},
      {"<<user@example.org>>", S, Code::syntax},
      {"<user@example.org>>", S, Code::syntax},
      {"<user@@example.org>", S, Code::bad_domain},
      {"<user@example.org@x>", S, Code::bad_domain},
      {"<@example.org>", S, Code::syntax},
      {"<user@>", S, Code::bad_domain},
      {"<@>", S, Code::syntax},
      {"<.user@example.org>", S, Code::syntax},
      {"<user.@example.org>", S, Code::syntax},
      {"<us..er@example.org>", S, Code::syntax},
      {"<us er@example.org>", S, Code::syntax},
      {"<us(er)@example.org>", S, Code::syntax},
      {"<\"unterminated@example.org>", S, Code::syntax},
      {"<\"a\"b@example.org>", S, Code::syntax},
      {"<\"a\\\"@example.org>", S, Code::syntax},  // the quote is escaped: unterminated
      {"<\"tab\there\"@example.org>", S, Code::syntax},
      {"<\"a\\\x01\"@example.org>", S, Code::syntax},
      {"<user@example..org>", S, Code::bad_domain},
      {"<user@.example.org>", S, Code::bad_domain},
      {"<user@example.org.>", S, Code::bad_domain},
      {"<user@-example.org>", S, Code::bad_domain},
      {"<user@example-.org>", S, Code::bad_domain},
      {"<user@exa_mple.org>", S, Code::bad_domain},
      {"<user@exa mple.org>", S, Code::bad_domain},
      {"<user@example.org >", S, Code::bad_domain},
      {"<user@[192.0.2.1>", S, Code::bad_literal},
      {"<user@[]>", S, Code::bad_literal},
      {"<user@[192.0.2]>", S, Code::bad_literal},
      {"<user@[192.0.2.256]>", S, Code::bad_literal},
      {"<user@[192.0.2.01]>", S, Code::bad_literal},
      {"<user@[192.0.2.1.5]>", S, Code::bad_literal},
      {"<user@[ 192.0.2.1]>", S, Code::bad_literal},
      {"<user@[IPv6:]>", S, Code::bad_literal},
      {"<user@[IPv6:1::2::3]>", S, Code::bad_literal},
      {"<user@[IPv6:1:2:3:4:5:6:7:8:9]>", S, Code::bad_literal},
      {"<user@[IPv6:12345::1]>", S, Code::bad_literal},
      {"<user@[IPv6:192.0.2.1]>", S, Code::bad_literal},
      {"<user@[IPv6:fe80::1%eth0]>", S, Code::bad_literal},
      {"<user@[IPv6:g::1]>", S, Code::bad_literal},
      {"<user@[2001:db8::1]>", S, Code::bad_literal},  // tag missing
      {"<user@[x-tag:foo]>", S, Code::bad_literal},    // no other tag is registered
      {"<user@[IPv4:192.0.2.1]>", S, Code::bad_literal},
      {"<user@[192.0.2.1]x>", S, Code::bad_literal},
      // Embedded NUL, CR, LF and other controls.
      {std::string("<us\0er@example.org>", 19), S, Code::syntax},
      {"<us\rer@example.org>", S, Code::syntax},
      {"<us\ner@example.org>", S, Code::syntax},
      {"<user@exam\x7fple.org>", S, Code::syntax},
      {std::string("<\"a\0\"@example.org>", 18), S, Code::syntax},
      // Strict refuses what lenient mode takes.
      {" <user@example.org>", S, Code::syntax},
      {"user@example.org", S, Code::syntax},
      {"<root>", S, Code::no_domain},
      {"<\"root user\">", S, Code::no_domain},
      {"<user@example.org> ", S, Code::syntax},
      {"<>x", S, Code::syntax},
      // Source routes must be well formed.
      {"<@a.example user@c.example>", S, Code::syntax},
      {"<@a.example,user@c.example>", S, Code::syntax},
      {"<@a.example,@:user@c.example>", S, Code::bad_domain},
      {"<@-a.example:user@c.example>", S, Code::bad_domain},
      {"<@a.example:>", S, Code::syntax},
      // UTF-8: needs SMTPUTF8, and must be valid in any case.
      {"<j\xc3\xb6rg@example.org>", S, Code::needs_smtputf8},
      {"<user@b\xc3\xbc\x63her.example>", S, Code::needs_smtputf8},
      {"<\"\xe2\x98\x83\"@example.org>", S, Code::needs_smtputf8},
      {"<j\xc0\xafrg@example.org>", U, Code::bad_utf8},          // overlong '/'
      {"<j\xe0\x80\xafrg@example.org>", U, Code::bad_utf8},      // overlong, 3 octets
      {"<j\xf0\x80\x80\xafrg@example.org>", U, Code::bad_utf8},  // overlong, 4 octets
      {"<j\xed\xa0\x80rg@example.org>", U, Code::bad_utf8},      // surrogate D800
      {"<j\xed\xbf\xbfrg@example.org>", U, Code::bad_utf8},      // surrogate DFFF
      {"<j\xf4\x90\x80\x80@example.org>", U, Code::bad_utf8},    // above U+10FFFF
      {"<j\xc3@example.org>", U, Code::bad_utf8},                // truncated
      {"<j\xe2\x98@example.org>", U, Code::bad_utf8},            // truncated
      {"<j\x80@example.org>", U, Code::bad_utf8},                // stray continuation
      {"<j\xff@example.org>", U, Code::bad_utf8},
      {"<j\xc3\xb6rg@example.org>\xc3", U, Code::bad_utf8},
      {"<j\xc3\xb6rg@example.org>", L, Code::needs_smtputf8},
      // Limits: one past each.
      {"<" + rep('l', 65) + "@example.org>", S, Code::local_too_long},
      {"<\"" + rep(' ', 63) + "\"@example.org>", S, Code::local_too_long},
      {"<" + rep('l', 65) + ">", L, Code::local_too_long},
      {"<u@" + rep('a', 64) + ".example>", S, Code::domain_too_long},
      {"<u@" + domain_of(256) + ">", S, Code::domain_too_long},
      {"<u@" + domain_of(253) + ">", S, Code::path_too_long},  // path 257
      {"<" + rep('l', 64) + "@" + domain_of(190) + ">", S, Code::path_too_long},
      {"<@" + domain_of(200) + ":u@" + domain_of(60) + ">", S, Code::path_too_long},
      {"<u@" + rep('a', 100000) + ">", S, Code::domain_too_long},
      {"<" + rep('l', 100000) + "@example.org>", S, Code::local_too_long},
      {"<" + rep('"', 100001) + ">", S, Code::syntax},
      {rep('<', 100000), S, Code::syntax},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.in.substr(0, 300) << " mode " << c.mode);
    auto r = parse_path(c.in, opts_for(c.mode));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == c.code);
    CHECK(r.error().detail == reply_text(c.code));
  }
}

TEST_CASE("null path and postmaster are flagged for the caller", "[address][path]") {
  auto null = parse_path("<>");
  REQUIRE(null);
  CHECK(null->null);
  CHECK_FALSE(null->is_postmaster());
  CHECK(null->mailbox == Mailbox{});
  auto pm = parse_path("<POSTMASTER>");
  REQUIRE(pm);
  CHECK(pm->is_postmaster());
  CHECK_FALSE(pm->null);
  auto pmd = parse_path("<postmaster@example.org>");
  REQUIRE(pmd);
  CHECK_FALSE(pmd->is_postmaster());  // a domain: the caller decides whose
  auto route = parse_path("<@relay.example:postmaster>");
  REQUIRE(route);
  CHECK(route->is_postmaster());
}

TEST_CASE("MAIL and RCPT arguments with ESMTP parameters", "[address][path]") {
  auto r = parse_path_arg("<a@example.org> SIZE=1000 BODY=8BITMIME ret=HDRS envid=QQ+2B1");
  REQUIRE(r);
  CHECK(to_string(r->path) == "<a@example.org>");
  const std::vector<EsmtpParam> want = {
      {"SIZE", "1000"}, {"BODY", "8BITMIME"}, {"RET", "HDRS"}, {"ENVID", "QQ+2B1"}};
  CHECK(r->params == want);
  REQUIRE(find_param(r->params, "envid"));
  CHECK(find_param(r->params, "envid")->value == "QQ+2B1");
  CHECK(find_param(r->params, "AUTH") == nullptr);

  auto flag = parse_path_arg("<> SMTPUTF8");
  REQUIRE(flag);
  CHECK(flag->path.null);
  REQUIRE(flag->params.size() == 1);
  CHECK(flag->params[0] == EsmtpParam{"SMTPUTF8", std::nullopt});

  auto none = parse_path_arg("<a@example.org>");
  REQUIRE(none);
  CHECK(none->params.empty());

  auto rcpt = parse_path_arg("<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.org");
  REQUIRE(rcpt);
  REQUIRE(rcpt->params.size() == 2);
  auto orcpt = parse_orcpt(*rcpt->params[1].value);
  REQUIRE(orcpt);
  CHECK(orcpt->type == "rfc822");
  CHECK(orcpt->address == "b@example.org");
}

TEST_CASE("SMTPUTF8 on MAIL allows UTF-8 in the same command", "[address][path]") {
  const std::string utf8 = "<j\xc3\xb6rg@example.org>";
  auto off = parse_path_arg(utf8);
  REQUIRE_FALSE(off);
  CHECK(code_of(off.error()) == Code::needs_smtputf8);
  CHECK(off.error().code == Errc::unsupported);
  CHECK(parse_path_arg(utf8 + " SMTPUTF8"));
  CHECK(parse_path_arg(utf8 + " smtputf8 BODY=8BITMIME"));
  CHECK(parse_path_arg(utf8, opts_for(U)));
  // A UTF-8 parameter value needs it too (RFC 6531 3.3).
  auto val = parse_path_arg("<a@example.org> X-FOO=\xc3\xb6");
  REQUIRE_FALSE(val);
  CHECK(code_of(val.error()) == Code::needs_smtputf8);
  CHECK(parse_path_arg("<a@example.org> X-FOO=\xc3\xb6", opts_for(U)));
}

TEST_CASE("malformed ESMTP parameters", "[address][path]") {
  const Bad cases[] = {
      {"<a@example.org>  SIZE=1", S, Code::bad_param},  // two spaces: strict
      {"<a@example.org> SIZE=1 ", S, Code::bad_param},  // trailing space: strict
      {"<a@example.org>\tSIZE=1", S, Code::syntax},
      {"<a@example.org>SIZE=1", S, Code::syntax},
      {"<a@example.org> =1", S, Code::bad_param},
      {"<a@example.org> SIZE=", S, Code::bad_param},
      {"<a@example.org> SIZE==1", S, Code::bad_param},
      {"<a@example.org> SIZE=1=2", S, Code::bad_param},
      {"<a@example.org> -SIZE=1", S, Code::bad_param},
      {"<a@example.org> SI_ZE=1", S, Code::bad_param},
      {"<a@example.org> SIZE=\x01", S, Code::bad_param},
      {"<a@example.org> SIZE=\x7f", S, Code::bad_param},
      {std::string("<a@example.org> SIZE=1\0", 23), S, Code::bad_param},
      {"<a@example.org> SIZE=1\r\n", S, Code::bad_param},
      {"<a@example.org> SIZE=1\xff", U, Code::bad_utf8},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.in << " mode " << c.mode);
    auto r = parse_path_arg(c.in, opts_for(c.mode));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == c.code);
  }
}

TEST_CASE("lenient arguments: spaces after the colon, bare addresses, blank runs", "[address][path]") {
  struct Case {
    const char* in;
    const char* path;
    std::size_t nparams;
  };
  const Case cases[] = {
      {" <a@example.org>", "<a@example.org>", 0},
      {"a@example.org", "<a@example.org>", 0},
      {"a@example.org SIZE=10", "<a@example.org>", 1},
      {"  a@example.org  SIZE=10 \t BODY=7BIT  ", "<a@example.org>", 2},
      {"<a@example.org>\tSIZE=10", "<a@example.org>", 1},
      {"<a@example.org> ", "<a@example.org>", 0},
      {" <> SIZE=10", "<>", 1},
      {"\"x y\"@example.org SIZE=1", "<\"x y\"@example.org>", 1},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = parse_path_arg(c.in, opts_for(L));
    REQUIRE(r);
    CHECK(to_string(r->path) == c.path);
    CHECK(r->params.size() == c.nparams);
    // Every one of these is refused in strict mode.
    CHECK_FALSE(parse_path_arg(c.in, opts_for(S)));
  }
  CHECK_FALSE(parse_path_arg("", opts_for(L)));
  CHECK_FALSE(parse_path_arg("   ", opts_for(L)));
  CHECK_FALSE(parse_path_arg("a@example.org>", opts_for(L)));
}

TEST_CASE("xtext decodes and encodes as RFC 3461 says", "[address][xtext]") {
  struct Case {
    std::string xtext, text;
  };
  const Case good[] = {
      {"", ""},
      {"abc", "abc"},
      {"a+2Bb", "a+b"},
      {"a+3Db", "a=b"},
      {"+20", " "},
      {"+00", std::string(1, '\0')},
      {"+FF", "\xff"},
      {"!~", "!~"},
      {"rfc822;user+40example.org", "rfc822;user@example.org"},
  };
  for (const auto& c : good) {
    INFO(c.xtext);
    auto d = xtext_decode(c.xtext);
    REQUIRE(d);
    CHECK(*d == c.text);
  }
  const char* bad[] = {"+", "+2", "+2b", "+G0", "a b", "a=b", "\x7f", "\xc3\xb6", "+ 20", "++20"};
  for (const char* b : bad) {
    INFO(b);
    auto d = xtext_decode(b);
    REQUIRE_FALSE(d);
    CHECK(code_of(d.error()) == Code::bad_xtext);
  }
  // Every octet survives encode then decode, and encoding is idempotent in form.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  auto back = xtext_decode(xtext_encode(all));
  REQUIRE(back);
  CHECK(*back == all);
  CHECK(xtext_encode("a+b=c d") == "a+2Bb+3Dc+20d");
  CHECK(xtext_encode("plain@example.org") == "plain@example.org");
}

TEST_CASE("ORCPT values", "[address][xtext]") {
  CHECK(parse_orcpt("rfc822;a@b.example"));
  auto utf8 = parse_orcpt("utf-8;a@b.example");
  REQUIRE(utf8);
  CHECK(utf8->type == "utf-8");
  const char* bad[] = {"", ";a@b", "rfc822", "rfc 822;a@b", "rfc822;", "rfc822;a+0Db", "rfc822;a+2"};
  for (const char* b : bad) {
    INFO(b);
    CHECK_FALSE(parse_orcpt(b));
  }
}

TEST_CASE("parse_mailbox reads the external form back", "[address][path]") {
  const Mailbox ms[] = {
      {"user", "example.org"},  {"a b", "example.org"}, {"a\"b", "example.org"},
      {"", "example.org"},      {"x", "[IPv6:::1]"},    {"postmaster", ""},
      {"a>b", "example.org"},   {"user%host", "relay.example"},
  };
  for (const auto& m : ms) {
    INFO(to_string(m));
    auto r = parse_mailbox(to_string(m));
    REQUIRE(r);
    CHECK(*r == m);
  }
  Options lenient;
  lenient.lenient = true;
  CHECK(*parse_mailbox("root", lenient) == Mailbox{"root", ""});
  CHECK(*parse_mailbox("User@EXAMPLE.org") == Mailbox{"User", "example.org"});
  const std::pair<const char*, Code> bad[] = {
      {"", Code::syntax},
      {"root", Code::no_domain},
      {"<a@example.org>", Code::syntax},
      {"a@example.org> <b@example.org", Code::syntax},
      {"a@example.org>x", Code::syntax},
      {" a@example.org", Code::syntax},
  };
  for (const auto& [in, code] : bad) {
    INFO(in);
    auto r = parse_mailbox(in);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == code);
  }
}
