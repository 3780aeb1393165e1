#include "lib/bounce/fields.h"

#include <catch2/catch.hpp>

#include "lib/base/strings.h"
#include "lib/mime/encoded_word.h"
#include "lib/mime/header.h"

using namespace posthorn::bounce;

namespace {

bool no_controls(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// Lines of a CRLF text; fails the test on a bare CR or LF.
std::vector<std::string> crlf_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t end = s.find("\r\n", at);
    REQUIRE(end != std::string::npos);
    std::string line = s.substr(at, end - at);
    CHECK(line.find_first_of("\r\n") == std::string::npos);
    out.push_back(line);
    at = end + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("utf8_sequence follows RFC 3629", "[bounce][fields]") {
  struct Case {
    std::string s;
    std::size_t len;
    char32_t cp;
  };
  const Case cases[] = {
      {"A", 1, 'A'},
      {"\xc3\xa9", 2, 0xe9},
      {"\xe2\x82\xac", 3, 0x20ac},
      {"\xf0\x9f\x98\x80", 4, 0x1f600},
      {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
      {"\xc0\xaf", 0, 0},          // overlong
      {"\xe0\x80\xaf", 0, 0},      // overlong
      {"\xed\xa0\x80", 0, 0},      // surrogate
      {"\xf4\x90\x80\x80", 0, 0},  // past U+10FFFF
      {"\x80", 0, 0},              // stray continuation
      {"\xc3", 0, 0},              // cut short
      {"\xe2\x82", 0, 0},
      {"\xff", 0, 0},
  };
  for (const Case& c : cases) {
    INFO(c.s);
    char32_t cp = 0;
    CHECK(utf8_sequence(c.s, 0, cp) == c.len);
    if (c.len) CHECK(cp == c.cp);
  }
}

TEST_CASE("addresses for Final-Recipient and Original-Recipient", "[bounce][fields]") {
  struct Case {
    std::string addr;
    bool global;
    std::string want;
  };
  const Case cases[] = {
      {"bob@example.org", false, "rfc822; bob@example.org"},
      {"\"a b\"@example.org", false, "rfc822; \"a b\"@example.org"},
      {"j\xc3\xb6rg@example.org", false, "utf-8; j\\x{F6}rg@example.org"},
      {"j\xc3\xb6rg@example.org", true, "utf-8; j\xc3\xb6rg@example.org"},
      {"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", false,
       "utf-8; \\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.\\x{5E7F}\\x{544A}"},
      {"a+b=c\\d\xc3\xa9@example.org", false, "utf-8; a\\x{2B}b\\x{3D}c\\x{5C}d\\x{E9}@example.org"},
      {"a+b@ex\xc3\xa9.org", true, "utf-8; a\\x{2B}b@ex\xc3\xa9.org"},
      {"emoji\xf0\x9f\x98\x80@example.org", false, "utf-8; emoji\\x{1F600}@example.org"},
      {"bad\xff@example.org", true, "utf-8; bad\\x{FFFD}@example.org"},
      {"cr\r\nlf@example.org", false, "utf-8; cr\\x{0D}\\x{0A}lf@example.org"},
      {std::string("nul\0x@example.org", 17), false, "utf-8; nulx@example.org"},
  };
  for (const Case& c : cases) {
    INFO(c.addr);
    std::string got = address_field(c.addr, c.global);
    CHECK(got == c.want);
    CHECK(no_controls(got));
  }
}

TEST_CASE("ORCPT values become Original-Recipient", "[bounce][fields]") {
  struct Case {
    std::string orcpt;
    bool global;
    std::string want;
  };
  const Case cases[] = {
      {"rfc822;bob@example.org", false, "rfc822; bob@example.org"},
      {"RFC822; bob@example.org ", false, "RFC822; bob@example.org"},
      {"x400;/G=bob/S=smith/", false, "x400; /G=bob/S=smith/"},
      {"utf-8;j\\x{F6}rg@example.org", false, "utf-8; j\\x{F6}rg@example.org"},
      {"utf-8;j\\x{F6}rg@example.org", true, "utf-8; j\\x{F6}rg@example.org"},
      {"utf-8;j\xc3\xb6rg@example.org", false, "utf-8; j\\x{F6}rg@example.org"},
      {"utf-8;j\xc3\xb6rg@example.org", true, "utf-8; j\xc3\xb6rg@example.org"},
      {"utf-8;a\\b@example.org", false, "utf-8; a\\x{5C}b@example.org"},  // not an escape
      {"rfc822;j\xc3\xb6rg@example.org", false, "utf-8; j\\x{F6}rg@example.org"},
      {"rfc822;bob@example.org\r\nBcc: eve@example.org", false,
       "utf-8; bob@example.org\\x{0D}\\x{0A}Bcc:\\x{20}eve@example.org"},
      {"bob@example.org", false, ""},  // no type
      {";bob@example.org", false, ""},
      {"rfc 822;bob@example.org", false, ""},
      {"rfc822;", false, ""},
      {"x400;\xc3\xa9", false, ""},
  };
  for (const Case& c : cases) {
    INFO(c.orcpt);
    std::string got = orcpt_field(c.orcpt, c.global);
    CHECK(got == c.want);
    CHECK(no_controls(got));
  }
}

TEST_CASE("status codes", "[bounce][fields]") {
  for (const char* ok : {"2.0.0", "4.4.1", "5.1.1", "5.7.26", "4.999.999"}) CHECK(valid_status(ok));
  for (const char* bad : {"", "5", "5.1", "3.1.1", "6.0.0", "5.1.1.1", "5..1", "5.1.", "5.1000.1",
                          "55.1.1", "5.a.1", " 5.1.1", "5.1.1 "})
    CHECK_FALSE(valid_status(bad));
}

TEST_CASE("Diagnostic-Code from reason texts", "[bounce][fields]") {
  struct Case {
    std::string reason, type, text;
  };
  const Case cases[] = {
      {"550 5.1.1 unknown user", "smtp", "550 5.1.1 unknown user"},
      {"  452-4.2.2 mailbox full 452 4.2.2 try later ", "smtp",
       "452-4.2.2 mailbox full 452 4.2.2 try later"},
      {"554", "smtp", "554"},
      {"host mx.example.org[192.0.2.1] said: 550 5.1.1 <bob@example.org>: unknown user (in "
       "reply to RCPT TO command)",
       "smtp", "550 5.1.1 <bob@example.org>: unknown user"},
      {"host mx.example.org[192.0.2.1] said: 421 closing (in reply to end of DATA command)",
       "smtp", "421 closing"},
      {"host mx.example.org[192.0.2.1] said: hello", "X-Posthorn",
       "host mx.example.org[192.0.2.1] said: hello"},
      {"connect to mx.example.org[192.0.2.1]:25: Connection refused", "X-Posthorn",
       "connect to mx.example.org[192.0.2.1]:25: Connection refused"},
      {"unknown user: \"bob\"", "X-Posthorn", "unknown user: \"bob\""},
      {"5500 not a reply", "X-Posthorn", "5500 not a reply"},
      {"650 not a reply class", "X-Posthorn", "650 not a reply class"},
  };
  for (const Case& c : cases) {
    INFO(c.reason);
    Diagnostic d = diagnostic_code(c.reason);
    CHECK(d.type == c.type);
    CHECK(d.text == c.text);
  }
}

TEST_CASE("Remote-MTA names from relays", "[bounce][fields]") {
  struct Case {
    std::string relay, want;
  };
  const Case cases[] = {
      {"mx.example.org[192.0.2.1]:25", "mx.example.org"},
      {"mx.example.org[2001:db8::1]:25", "mx.example.org"},
      {"[192.0.2.1]:2525", "[192.0.2.1]"},
      {"unknown[192.0.2.1]:25", "[192.0.2.1]"},
      {"mail.example.org", "mail.example.org"},
      {"", ""},
      {"local", ""},
      {"NONE", ""},
      {"evil\r\nBcc: x[1.2.3.4]", "evilBcc:x"},
  };
  for (const Case& c : cases) {
    INFO(c.relay);
    CHECK(remote_mta(c.relay) == c.want);
  }
}

TEST_CASE("one_line keeps text on its line", "[bounce][fields]") {
  CHECK(one_line("  a\r\nb\tc\x7f ", false) == "a  b c");
  CHECK(one_line("caf\xc3\xa9 \xff", true) == "caf\xc3\xa9 ?");
  CHECK(one_line("caf\xc3\xa9 \xff", false) == "caf? ?");
  CHECK(one_line("\xf0\x9f\x98\x80!", false) == "?!");
  CHECK(one_line(std::string("a\0b", 3), false) == "a b");
}

TEST_CASE("field() folds at spaces and unfolds to the value", "[bounce][fields]") {
  SECTION("short values stay on one line") {
    CHECK(field("Action", "failed") == "Action: failed\r\n");
  }
  SECTION("long values fold before spaces") {
    std::string value;
    for (int i = 0; i < 40; ++i) value += (i ? " " : "") + std::string("word") + std::to_string(i);
    std::string f = field("Diagnostic-Code", value);
    auto lines = crlf_lines(f);
    CHECK(lines.size() > 3);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CHECK(lines[i].size() <= 78);
      if (i > 0) CHECK(lines[i][0] == ' ');
    }
    std::string_view body(f);
    body.remove_prefix(std::string_view("Diagnostic-Code:").size());
    CHECK(posthorn::mime::unfold(body) == value);
  }
  SECTION("a huge word is cut under the line limit") {
    std::string value = "x " + std::string(3000, 'y') + " z";
    auto lines = crlf_lines(field("Diagnostic-Code", value));
    for (const std::string& l : lines) CHECK(l.size() <= 998);
    CHECK(lines.size() >= 4);
  }
}

TEST_CASE("wrap() breaks human text with an indent", "[bounce][fields]") {
  std::string text = "<bob@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 "
                     "<bob@example.org>: Recipient address rejected: User unknown in virtual "
                     "mailbox table (in reply to RCPT TO command)";
  auto lines = crlf_lines(wrap(text, 78, "    "));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("<bob@example.org>: host", 0) == 0);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i].size() <= 78);
    if (i) CHECK(lines[i].rfind("    ", 0) == 0);
  }
  CHECK(crlf_lines(wrap(std::string(2500, 'q'), 78, "  ")).size() == 3);
}

TEST_CASE("header text is RFC 2047 encoded when not ASCII", "[bounce][fields]") {
  CHECK(encode_header_text("Undelivered Mail", "us-ascii") == "Undelivered Mail");
  std::string subject = "Unzustellbare Nachricht: \xc3\xbc\xc3\xb6\xc3\xa4 "
                        "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac "
                        "und noch etwas mehr Text, damit es lang wird";
  std::string enc = encode_header_text(subject, "utf-8");
  CHECK(no_controls(enc));
  for (const std::string& word : posthorn::split_fields(enc, " ")) {
    CHECK(word.size() <= 75);
    CHECK(word.rfind("=?utf-8?B?", 0) == 0);
  }
  CHECK(posthorn::mime::decode_header_text(enc) == subject);
  std::string latin = encode_header_text("caf\xe9", "iso-8859-1");
  CHECK(latin == "=?iso-8859-1?B?Y2Fm6Q==?=");
}

TEST_CASE("8bit validity and repair of line ends", "[bounce][fields]") {
  CHECK(valid_8bit("a\r\nb\xff\r\n"));
  CHECK(valid_8bit(""));
  CHECK_FALSE(valid_8bit("a\nb"));
  CHECK_FALSE(valid_8bit("a\rb"));
  CHECK_FALSE(valid_8bit("a\r"));
  CHECK_FALSE(valid_8bit(std::string("a\0b", 3)));
  CHECK(valid_8bit(std::string(998, 'x') + "\r\n"));
  CHECK_FALSE(valid_8bit(std::string(999, 'x') + "\r\n"));
  CHECK(to_8bit_lines(std::string("a\nb\rc\r\nd\0e", 10)) == "a\r\nb\r\nc\r\nde");
  std::string fixed = to_8bit_lines(std::string(2000, 'x'));
  CHECK(valid_8bit(fixed));
  CHECK(fixed.size() == 2000 + 2 * 3);
}
