// Reply parsing (every split of the input), EHLO keywords, the DATA stream
// and the delivery line's delay format.
#include "smtp/reply.h"

#include <catch2/catch.hpp>

#include "smtp/content.h"

using namespace posthorn;
using namespace posthorn::smtp;

namespace {

std::vector<Reply> parse_all(const std::vector<std::string>& pieces) {
  ReplyParser p;
  std::vector<Reply> out;
  for (const std::string& piece : pieces) {
    p.feed(piece);
    for (;;) {
      auto r = p.next();
      REQUIRE(r);
      if (!*r) break;
      out.push_back(**r);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("reply parser accepts any split of its input", "[smtp][reply]") {
  const std::string wire = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n550 5.1.1 No such user\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    auto rs = parse_all({wire.substr(0, cut), wire.substr(cut)});
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].code == 250);
    CHECK(rs[0].lines == std::vector<std::string>{"mx.example", "PIPELINING", "SIZE 1000"});
    CHECK(rs[1].code == 550);
    CHECK(rs[1].enhanced == "5.1.1");
    CHECK(rs[1].text() == "550 5.1.1 No such user");
  }
}

TEST_CASE("reply parser: one byte at a time, bare LF, bare code", "[smtp][reply]") {
  const std::string wire = "220 mx ESMTP\n354\r\n";
  std::vector<std::string> bytes;
  for (char c : wire) bytes.emplace_back(1, c);
  auto rs = parse_all(bytes);
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].lines.front() == "mx ESMTP");
  CHECK(rs[1].code == 354);
  CHECK(rs[1].lines == std::vector<std::string>{""});
}

TEST_CASE("reply parser refuses malformed replies", "[smtp][reply]") {
  for (const char* bad : {"hello\r\n", "25 x\r\n", "250x\r\n", "250-a\r\n251 b\r\n", "2a0 x\r\n"}) {
    ReplyParser p;
    p.feed(bad);
    auto r = p.next();
    CAPTURE(bad);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code == Errc::protocol);
  }
  ReplyParser p;
  p.feed(std::string(kMaxReply + 10, 'x'));
  CHECK_FALSE(p.next());
}

TEST_CASE("dsn from the reply or from its class", "[smtp][reply]") {
  struct Case { std::string wire, dsn; };
  for (const Case& c : std::vector<Case>{{"550 5.7.1 denied\r\n", "5.7.1"},
                                         {"550 denied\r\n", "5.0.0"},
                                         {"451 4.3.0 later\r\n", "4.3.0"},
                                         {"451 5.3.0 mismatched class\r\n", "4.0.0"},
                                         {"452 4.5.3 too many\r\n", "4.5.3"},
                                         {"250 ok\r\n", "2.0.0"},
                                         {"250 2.1.5 ok\r\n", "2.1.5"},
                                         {"550 5.1 short\r\n", "5.0.0"}}) {
    auto rs = parse_all({c.wire});
    REQUIRE(rs.size() == 1);
    CAPTURE(c.wire);
    CHECK(rs[0].dsn() == c.dsn);
  }
}

TEST_CASE("EHLO keywords", "[smtp][reply]") {
  auto rs = parse_all({"250-mx.example.org Hello\r\n250-pipelining\r\n250-SIZE 52428800\r\n"
                       "250-8BITMIME\r\n250-STARTTLS\r\n250-AUTH PLAIN login\r\n250-AUTH=LOGIN CRAM-MD5\r\n"
                       "250-DSN\r\n250 SMTPUTF8\r\n"});
  REQUIRE(rs.size() == 1);
  Extensions e = parse_ehlo(rs[0]);
  CHECK(e.esmtp);
  CHECK(e.pipelining);
  CHECK(e.size);
  CHECK(e.size_limit == 52428800);
  CHECK(e.eight_bit_mime);
  CHECK(e.starttls);
  CHECK(e.dsn);
  CHECK(e.smtputf8);
  CHECK(e.auth == std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"});
  CHECK(e.server_name == "mx.example.org");
  auto bare = parse_all({"250 mx\r\n"});
  Extensions b = parse_ehlo(bare[0]);
  CHECK(b.esmtp);
  CHECK_FALSE(b.pipelining);
  CHECK_FALSE(b.size);
  CHECK_FALSE(parse_ehlo(parse_all({"502 no\r\n"})[0]).esmtp);
}

TEST_CASE("DATA stream: CRLF lines, dot-stuffing, terminator", "[smtp][content]") {
  struct Case { std::string in, out; };
  for (const Case& c : std::vector<Case>{
           {"", ".\r\n"},
           {"a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
           {"a\nb\n", "a\r\nb\r\n.\r\n"},
           {"a\nb", "a\r\nb\r\n.\r\n"},
           {".\r\n..x\n.", "..\r\n...x\r\n..\r\n.\r\n"},
           {"bare\rCR\r\n", "bare\rCR\r\n.\r\n"},
           {"\n", "\r\n.\r\n"}}) {
    CAPTURE(c.in);
    CHECK(data_stream(c.in) == c.out);
  }
  // Lines past the limit are broken with CRLF SPACE, dots and line ends counted right.
  CHECK(data_stream("abcdef\r\nxy\r\n", 4) == "abcd\r\n ef\r\nxy\r\n.\r\n");
  CHECK(data_stream("abcd\r\n", 4) == "abcd\r\n.\r\n");
  CHECK(data_stream("abcd\n", 4) == "abcd\r\n.\r\n");
  CHECK(data_stream(".abc\r\n", 4) == "..ab\r\n c\r\n.\r\n");
  CHECK(data_stream("abcdefghij", 4) == "abcd\r\n efg\r\n hij\r\n.\r\n");
  CHECK(has_8bit("caf\xc3\xa9"));
  CHECK_FALSE(has_8bit("plain"));
}

TEST_CASE("CHUNKING is read, and smtp_discard_ehlo_keywords forgets keywords", "[smtp][parser]") {
  Reply r{250, {"mx.example", "PIPELINING", "CHUNKING", "SIZE 1000", "DSN", "AUTH PLAIN", "STARTTLS"}, ""};
  Extensions e = parse_ehlo(r);
  CHECK(e.chunking);
  discard_keywords(e, {"chunking", "size", "silent-discard", "auth"});
  CHECK_FALSE(e.chunking);
  CHECK_FALSE(e.size);
  CHECK(e.size_limit == 0);
  CHECK(e.auth.empty());
  CHECK(e.pipelining);
  CHECK(e.dsn);
  CHECK(e.starttls);
}

TEST_CASE("the BDAT chunk: CRLF lines, no dot-stuffing, no terminator", "[smtp][content]") {
  CHECK(chunk_stream(".a\nb") == ".a\r\nb\r\n");
  CHECK(chunk_stream("x\r\n.\r\n") == "x\r\n.\r\n");
  CHECK(chunk_stream("abcdef\r\n", 4) == "abcd\r\n ef\r\n");
  CHECK(chunk_stream("") == "");
}
