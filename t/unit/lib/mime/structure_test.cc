// Tests for lib/mime: BODYSTRUCTURE, BODY, ENVELOPE and sections of a table
// of real-world-shaped messages. Expected strings are written from RFC 3501's
// grammar (7.4.2) with the conventions of message.h and imap.h.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "lib/mime/imap.h"
#include "lib/mime/message.h"
#include "lib/mime/section.h"

using namespace posthorn::mime;

namespace {

std::string crlf(std::initializer_list<const char*> lines) {
  std::string out;
  for (const char* l : lines) out += std::string(l) + "\r\n";
  return out;
}

std::string section(const Message& m, std::string_view spec) {
  auto s = parse_section(spec);
  REQUIRE(s);
  auto r = fetch_section(m, *s);
  if (!r) return "<" + std::string(posthorn::errc_name(r.error().code)) + ">";
  return *r;
}

constexpr const char* kUsAsciiText = "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" ";

}  // namespace

TEST_CASE("simple text message", "[mime]") {
  std::string msg = crlf({"From: Alice <alice@example.org>", "To: bob@example.com",
                          "Subject: Hello", "Date: Mon, 7 Feb 1994 21:52:25 -0800",
                          "Message-ID: <1@example.org>", "", "Hi Bob.", "Second line."});
  Message m = parse(msg);
  REQUIRE(m.parts.size() == 1);
  CHECK(body_structure(m, true) == std::string(kUsAsciiText) + "23 2 NIL NIL NIL NIL)");
  CHECK(body_structure(m, false) == std::string(kUsAsciiText) + "23 2)");
  CHECK(envelope(m) ==
        "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\" "
        "((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) "
        "((\"Alice\" NIL \"alice\" \"example.org\")) ((NIL NIL \"bob\" \"example.com\")) "
        "NIL NIL NIL \"<1@example.org>\")");
  CHECK(section(m, "1") == "Hi Bob.\r\nSecond line.\r\n");
  CHECK(section(m, "TEXT") == "Hi Bob.\r\nSecond line.\r\n");
  CHECK(section(m, "") == msg);
  CHECK(section(m, "HEADER.FIELDS (subject date)") ==
        "Subject: Hello\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n");
  CHECK(section(m, "HEADER.FIELDS.NOT (From To Date Message-ID)") == "Subject: Hello\r\n\r\n");
  CHECK(section(m, "HEADER.FIELDS (X-None)") == "\r\n");
  CHECK(section(m, "1.MIME").find("Subject: Hello\r\n") != std::string::npos);
  CHECK(section(m, "2") == "<not_found>");
  CHECK(section(m, "1.1") == "<not_found>");
  CHECK(section(m, "1.HEADER") == "<not_found>");
}

TEST_CASE("multipart/alternative", "[mime]") {
  std::string msg = crlf({"From: a@example.org", "Subject: alt", "MIME-Version: 1.0",
                          "Content-Type: multipart/alternative; boundary=\"XX\"", "",
                          "preamble", "--XX", "Content-Type: text/plain; charset=utf-8", "",
                          "plain", "--XX", "Content-Type: text/html; charset=utf-8",
                          "Content-Transfer-Encoding: quoted-printable", "", "<p>html</p>",
                          "--XX--", "epilogue"});
  Message m = parse(msg);
  CHECK(body_structure(m, true) ==
        "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL)"
        "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 11 1 NIL NIL NIL NIL)"
        " \"alternative\" (\"boundary\" \"XX\") NIL NIL NIL)");
  CHECK(body_structure(m, false) ==
        "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 1)"
        "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 11 1)"
        " \"alternative\")");
  CHECK(section(m, "1") == "plain");
  CHECK(section(m, "2") == "<p>html</p>");
  CHECK(section(m, "2.MIME") ==
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
  CHECK(section(m, "HEADER.FIELDS (subject FROM)") == "From: a@example.org\r\nSubject: alt\r\n\r\n");
  CHECK(section(m, "TEXT").rfind("preamble\r\n--XX\r\n", 0) == 0);
  CHECK(section(m, "3") == "<not_found>");
  CHECK(section(m, "1.1") == "<not_found>");
}

TEST_CASE("multipart/mixed with an attachment and every extension field", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=b1", "", "--b1", "",
                          "text body", "--b1", "Content-Type: application/pdf; name=\"a.pdf\"",
                          "Content-Transfer-Encoding: base64",
                          "Content-Disposition: attachment; filename=\"a.pdf\"",
                          "Content-ID: <att1@x>", "Content-Description: The doc",
                          "Content-Language: en, de", "Content-Location: http://x/a.pdf", "",
                          "JVBERi0xLjQK", "--b1--"});
  Message m = parse(msg);
  CHECK(body_structure(m, true) ==
        "(" + std::string(kUsAsciiText) + "9 1 NIL NIL NIL NIL)" +
            "(\"application\" \"pdf\" (\"name\" \"a.pdf\") \"<att1@x>\" \"The doc\" \"base64\" 12"
            " NIL (\"attachment\" (\"filename\" \"a.pdf\")) (\"en\" \"de\") \"http://x/a.pdf\")"
            " \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)");
  CHECK(section(m, "1.MIME") == "\r\n");
  CHECK(section(m, "1") == "text body");
  CHECK(section(m, "2") == "JVBERi0xLjQK");
}

TEST_CASE("message/rfc822 holding a multipart", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=outer", "", "--outer",
                          "Content-Type: text/plain", "", "see attached", "--outer",
                          "Content-Type: message/rfc822", "", "From: c@example.net",
                          "Subject: inner", "Content-Type: multipart/alternative; boundary=inner",
                          "", "--inner", "", "one", "--inner", "Content-Type: text/html", "",
                          "<b>two</b>", "--inner--", "--outer--"});
  Message m = parse(msg);
  std::string inner_env =
      "(NIL \"inner\" ((NIL NIL \"c\" \"example.net\")) ((NIL NIL \"c\" \"example.net\")) "
      "((NIL NIL \"c\" \"example.net\")) NIL NIL NIL NIL NIL)";
  std::string inner_bs = "(" + std::string(kUsAsciiText) +
                         "3 1 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL)"
                         " \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)";
  CHECK(body_structure(m, true) ==
        "(" + std::string(kUsAsciiText) + "12 1 NIL NIL NIL NIL)"
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 165 " + inner_env + " " + inner_bs +
        " 12 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)");
  CHECK(section(m, "2.HEADER") ==
        "From: c@example.net\r\nSubject: inner\r\n"
        "Content-Type: multipart/alternative; boundary=inner\r\n\r\n");
  CHECK(section(m, "2.HEADER.FIELDS (SUBJECT)") == "Subject: inner\r\n\r\n");
  CHECK(section(m, "2.TEXT").rfind("--inner\r\n", 0) == 0);
  CHECK(section(m, "2.1") == "one");
  CHECK(section(m, "2.2") == "<b>two</b>");
  CHECK(section(m, "2.2.MIME") == "Content-Type: text/html\r\n\r\n");
  CHECK(section(m, "2").rfind("From: c@example.net\r\n", 0) == 0);
  CHECK(section(m, "2").size() == 165);
  CHECK(section(m, "2.MIME") == "Content-Type: message/rfc822\r\n\r\n");
  CHECK(section(m, "1.HEADER") == "<not_found>");
  CHECK(section(m, "2.3") == "<not_found>");
}

TEST_CASE("multipart/digest children default to message/rfc822", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/digest; boundary=d", "", "--d", "",
                          "Subject: m1", "", "body1", "--d", "Content-Type: text/plain", "",
                          "not a message", "--d--"});
  Message m = parse(msg);
  CHECK(body_structure(m, true) ==
        "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 20 (NIL \"m1\" NIL NIL NIL NIL NIL NIL NIL NIL) " +
            std::string(kUsAsciiText) + "5 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)" +
            kUsAsciiText + "13 1 NIL NIL NIL NIL)"
            " \"digest\" (\"boundary\" \"d\") NIL NIL NIL)");
  CHECK(section(m, "1.1") == "body1");
  CHECK(section(m, "1.HEADER") == "Subject: m1\r\n\r\n");
}

TEST_CASE("a missing close delimiter ends the last part at the end", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=m", "", "--m", "", "first",
                          "--m", "", "last part runs to the end"});
  Message m = parse(msg);
  CHECK(body_structure(m, false) == "(" + std::string(kUsAsciiText) + "5 1)" +
                                        std::string(kUsAsciiText) + "27 1) \"mixed\")");
  CHECK(section(m, "2") == "last part runs to the end\r\n");
}

TEST_CASE("delimiters with trailing white space; a longer boundary is not ours", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=\"ab\"", "", "--ab  ", "",
                          "x", "--abc", "y", "--ab-- \t", "epilogue"});
  Message m = parse(msg);
  REQUIRE(m.parts.size() == 2);
  CHECK(section(m, "1") == "x\r\n--abc\r\ny");
  CHECK(body_structure(m, false) == "(" + std::string(kUsAsciiText) + "11 3) \"mixed\")");
}

TEST_CASE("nested multiparts whose boundaries are prefixes of each other", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=a", "", "--a",
                          "Content-Type: multipart/alternative; boundary=ab", "", "--ab", "",
                          "in1", "--ab", "", "in2", "--ab--", "--a", "", "out2", "--a--"});
  Message m = parse(msg);
  CHECK(body_structure(m, false) ==
        "((" + std::string(kUsAsciiText) + "3 1)" + kUsAsciiText + "3 1) \"alternative\")" +
            kUsAsciiText + "4 1) \"mixed\")");
  CHECK(section(m, "1.2") == "in2");
  CHECK(section(m, "2") == "out2");
}

TEST_CASE("bare LF line endings: wire sizes count CRLF", "[mime]") {
  std::string msg = "Subject: lf\nContent-Type: multipart/mixed; boundary=z\n\n--z\n\nhello\nworld\n--z--\n";
  Message m = parse(msg);
  CHECK(body_structure(m, false) == "(" + std::string(kUsAsciiText) + "12 2) \"mixed\")");
  CHECK(section(m, "1") == "hello\r\nworld");
  CHECK(section(m, "HEADER") ==
        "Subject: lf\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n");
  CHECK(wire_size(msg) == msg.size() + 8);
}

TEST_CASE("header without a blank line", "[mime]") {
  std::string text = crlf({"Subject: x", "From: a@b.example"});
  Message m = parse(text);
  CHECK(body_structure(m, true) == std::string(kUsAsciiText) + "0 0 NIL NIL NIL NIL)");
  CHECK(section(m, "HEADER") == "Subject: x\r\nFrom: a@b.example\r\n");
  CHECK(section(m, "TEXT") == "");

  // A line that is no field starts the body, as Postfix's cleanup reads it.
  std::string text_b = crlf({"Subject: x", "this is not a header"});
  Message b = parse(text_b);
  CHECK(section(b, "HEADER") == "Subject: x\r\n");
  CHECK(section(b, "TEXT") == "this is not a header\r\n");
  CHECK(body_structure(b, false) == std::string(kUsAsciiText) + "22 1)");
}

TEST_CASE("empty bodies and empty messages", "[mime]") {
  std::string text = crlf({"Subject: e", ""});
  Message m = parse(text);
  CHECK(body_structure(m, false) == std::string(kUsAsciiText) + "0 0)");
  CHECK(section(m, "1") == "");
  Message e = parse("");
  CHECK(body_structure(e, true) == std::string(kUsAsciiText) + "0 0 NIL NIL NIL NIL)");
  CHECK(envelope(e) == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  CHECK(section(e, "HEADER") == "");
}

TEST_CASE("multipart without a boundary or without delimiters is one text leaf", "[mime]") {
  std::string text_a = crlf({"Content-Type: multipart/mixed", "", "text"});
  Message a = parse(text_a);
  CHECK(body_structure(a, false) == std::string(kUsAsciiText) + "6 1)");
  std::string text_b = crlf({"Content-Type: multipart/mixed; boundary=q", "", "no delimiters"});
  Message b = parse(text_b);
  CHECK(body_structure(b, false) == std::string(kUsAsciiText) + "15 1)");
  CHECK(section(b, "1") == "no delimiters\r\n");
}

TEST_CASE("RFC 2231 parameters and tolerant Content-Type", "[mime]") {
  std::string msg = crlf({"Content-Type: Application/X-Thing (comment); "
                          "title*0*=us-ascii'en'This%20is;",
                          " title*1=\" fun\"; name*=iso-8859-1''caf%E9; Odd=a/b=c; bare", "",
                          "x"});
  Message m = parse(msg);
  const Part& p = m.root();
  CHECK(p.content_type.type == "application");
  CHECK(p.content_type.subtype == "x-thing");
  REQUIRE(p.content_type.param("title"));
  CHECK(*p.content_type.param("title") == "This is fun");
  CHECK(*p.content_type.param("name") == "caf\xc3\xa9");
  CHECK(*p.content_type.param("odd") == "a/b=c");
  CHECK(p.content_type.param("bare") == nullptr);
  // Sections of a continuation arrive out of order: joined by index.
  auto sv = parse_structured("attachment; filename*1=b; filename*0=a", false);
  CHECK(sv.type == "attachment");
  CHECK(*sv.param("filename") == "ab");
  // An unusable Content-Type is the default.
  std::string text_bad = crlf({"Content-Type: text", "", "x"});
  Message bad = parse(text_bad);
  CHECK(body_structure(bad, false) == std::string(kUsAsciiText) + "3 1)");
}

TEST_CASE("ENVELOPE: groups, defaults, quoting, literals, bad addresses", "[mime]") {
  std::string msg = crlf({"From: \"Smith, J\" <j@example.org>", "Sender: s@example.org",
                          "Reply-To:", "To: undisclosed-recipients:;",
                          "Cc: team: a@x.example, \"B\" <b@y.example>;",
                          "Bcc: root, <<bad>>, c@z.example",
                          "Subject: say \"hi\" \\ =?utf-8?q?x?=",
                          "In-Reply-To: <0@example.org>", "", ""});
  Message m = parse(msg);
  CHECK(envelope(m) ==
        "(NIL \"say \\\"hi\\\" \\\\ =?utf-8?q?x?=\" "
        "((\"Smith, J\" NIL \"j\" \"example.org\")) ((NIL NIL \"s\" \"example.org\")) "
        "((\"Smith, J\" NIL \"j\" \"example.org\")) "
        "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
        "((NIL NIL \"team\" NIL)(NIL NIL \"a\" \"x.example\")(\"B\" NIL \"b\" \"y.example\")(NIL NIL NIL NIL)) "
        "((NIL NIL \"root\" \"MISSING_DOMAIN\")(\"<<bad>>\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")"
        "(NIL NIL \"c\" \"z.example\")) \"<0@example.org>\" NIL)");
  Message eight = parse("Subject: caf\xc3\xa9\r\n\r\n");
  CHECK(envelope(eight) == "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)");
  CHECK(imap_string("a\r\nb") == "{4}\r\na\r\nb");
  CHECK(imap_string("") == "\"\"");
  CHECK(imap_nstring(std::nullopt) == "NIL");
}

TEST_CASE("section specifiers parse as RFC 3501 says", "[mime]") {
  auto s = parse_section("1.2.HEADER.FIELDS (A \"B c\")");
  REQUIRE(s);
  CHECK(s->part == std::vector<std::uint32_t>{1, 2});
  CHECK(s->text == SectionSpec::Text::header_fields);
  CHECK(s->fields == std::vector<std::string>{"A", "B c"});
  CHECK(parse_section("header")->text == SectionSpec::Text::header);
  CHECK(parse_section("3.mime")->text == SectionSpec::Text::mime);
  CHECK(parse_section("")->part.empty());
  for (const char* bad : {"0", "1.0", "01", "MIME", "1.", "1..2", "HEADER.FIELDS ()",
                          "HEADER.FIELDS", "HEADER.FIELDS (A", "TEXT.X", "4294967296", "X",
                          "HEADER.FIELDS (\"A)"}) {
    INFO(bad);
    CHECK_FALSE(parse_section(bad));
  }
  Message m = parse("Subject: x\r\n\r\nbody");
  auto hf = parse_section("HEADER.FIELDS (Subject)");
  CHECK(section_range(m, *hf).error().code == posthorn::Errc::invalid);
  CHECK(partial("abcdef", 2, 3) == "cde");
  CHECK(partial("abcdef", 4, std::nullopt) == "ef");
  CHECK(partial("abcdef", 6, 1) == "");
  CHECK(partial("abcdef", 100, 1) == "");
}

TEST_CASE("folded fields: unfolded in ENVELOPE, kept in HEADER.FIELDS", "[mime]") {
  std::string msg = crlf({"Subject: a long", "\tsubject", "To: x@example.org,", " y@example.org",
                          "", "body"});
  Message m = parse(msg);
  CHECK(envelope(m) ==
        "(NIL \"a long\tsubject\" NIL NIL NIL "
        "((NIL NIL \"x\" \"example.org\")(NIL NIL \"y\" \"example.org\")) NIL NIL NIL NIL)");
  CHECK(section(m, "HEADER.FIELDS (TO)") == "To: x@example.org,\r\n y@example.org\r\n\r\n");
  CHECK(section(m, "HEADER.FIELDS.NOT (TO)") == "Subject: a long\r\n\tsubject\r\n\r\n");
}

TEST_CASE("only an unencoded message/rfc822 encapsulates a message", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=e", "", "--e",
                          "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "",
                          "U3ViamVjdDogeA0KDQp5", "--e", "Content-Type: message/global", "",
                          "Subject: y", "", "z", "--e--"});
  Message m = parse(msg);
  CHECK(body_structure(m, false) ==
        "((\"message\" \"rfc822\" NIL NIL NIL \"base64\" 20)"
        "(\"message\" \"global\" NIL NIL NIL \"7bit\" 15) \"mixed\")");
  CHECK(section(m, "1.HEADER") == "<not_found>");
  CHECK(section(m, "2.1") == "<not_found>");
}

TEST_CASE("section_part finds the part a number names", "[mime]") {
  std::string msg = crlf({"Content-Type: multipart/mixed; boundary=b", "", "--b", "", "one",
                          "--b", "Content-Type: message/rfc822", "", "Subject: in", "", "two",
                          "--b--"});
  Message m = parse(msg);
  CHECK(*section_part(m, {}) == 0);
  CHECK(m.parts[*section_part(m, {1})].content_type.type == "text");
  CHECK(m.parts[*section_part(m, {2})].is_message());
  CHECK(m.body(m.parts[*section_part(m, {2, 1})]) == "two");
  CHECK_FALSE(section_part(m, {3}));
  CHECK_FALSE(section_part(m, {1, 1}));
}
