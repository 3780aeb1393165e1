// Tests for imapd/parser.h: tokens, literals, the input bounds, recovery
// after errors, and independence from how the input is split.
#include "imapd/parser.h"

#include <catch2/catch.hpp>

#include <string>

using namespace posthorn::imapd;

namespace {

std::string repr(const Value& v) {
  switch (v.kind) {
    case Value::Kind::atom: return v.text;
    case Value::Kind::string: return v.literal ? "{" + v.text + "}" : "\"" + v.text + "\"";
    case Value::Kind::list: {
      std::string out = "(";
      for (std::size_t i = 0; i < v.items.size(); ++i) out += (i ? " " : "") + repr(v.items[i]);
      return out + ")";
    }
  }
  return "?";
}

// Runs the reader over `input` fed in two pieces cut at `cut`, and writes
// down every event.
std::string transcript(const std::string& input, std::size_t cut, Limits limits = {}) {
  CommandReader r(limits);
  std::string out, buf;
  for (std::string piece : {input.substr(0, cut), input.substr(cut)}) {
    buf += piece;
    for (;;) {
      std::size_t used = 0;
      auto e = r.step(buf, used);
      buf.erase(0, used);
      using E = CommandReader::Event;
      if (e == E::need_more) break;
      if (e == E::command) {
        Command c = r.take();
        out += "[" + c.tag + " " + c.name;
        for (const auto& a : c.args) out += " " + repr(a);
        out += "]";
      } else if (e == E::literal) {
        out += "[+" + std::to_string(r.literal_size()) + "]";
      } else if (e == E::literal_too_big) {
        out += "[toobig " + r.tag() + (r.literal_sync() ? " sync" : " nonsync") + "]";
        if (!r.literal_sync()) return out;
      } else if (e == E::bad) {
        out += "[bad " + r.tag() + ": " + r.error() + "]";
      } else if (e == E::line_too_long) {
        return out + "[long]";
      }
    }
  }
  return out;
}

std::string run(const std::string& input, Limits limits = {}) {
  std::string whole = transcript(input, input.size(), limits);
  for (std::size_t cut = 0; cut <= input.size(); ++cut)
    REQUIRE(transcript(input, cut, limits) == whole);
  return whole;
}

}  // namespace

TEST_CASE("parser: atoms, strings and lists", "[imapd][parser]") {
  CHECK(run("a1 NOOP\r\n") == "[a1 NOOP]");
  CHECK(run("a1 noop\n") == "[a1 NOOP]");
  CHECK(run("\r\n\r\nx CAPABILITY\r\n") == "[x CAPABILITY]");
  CHECK(run("a LOGIN \"fred\" \"a \\\"q\\\" \\\\ b\"\r\n") ==
        "[a LOGIN \"fred\" \"a \"q\" \\ b\"]");
  CHECK(run("a STORE 1:* +FLAGS (\\Seen $Junk)\r\n") == "[a STORE 1:* +FLAGS (\\Seen $Junk)]");
  CHECK(run("a STATUS INBOX (MESSAGES (UIDNEXT) ())\r\n") ==
        "[a STATUS INBOX (MESSAGES (UIDNEXT) ())]");
  CHECK(run("a SELECT \"\"\r\n") == "[a SELECT \"\"]");
  CHECK(run("a  LIST   \"\"    %\r\n") == "[a LIST \"\" %]");
}

TEST_CASE("parser: FETCH sections are one atom", "[imapd][parser]") {
  CHECK(run("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> FLAGS)\r\n") ==
        "[a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> FLAGS)]");
  CHECK(run("a FETCH 1 BODY[]\r\n") == "[a FETCH 1 BODY[]]");
  CHECK(run("a FETCH 1 BODY[HEADER.FIELDS (A\r\n").find("[bad a: Unterminated '['") == 0);
}

TEST_CASE("parser: synchronizing and non-synchronizing literals", "[imapd][parser]") {
  CHECK(run("a LOGIN {3}\r\nfoo {4}\r\nb r\"\r\n") == "[+3][+4][a LOGIN {foo} {b r\"}]");
  CHECK(run("a LOGIN {3+}\r\nfoo {4+}\r\nb\r\nr\r\n") == "[a LOGIN {foo} {b\r\nr}]");
  CHECK(run("a APPEND INBOX (\\Seen) {0}\r\n\r\n") == "[+0][a APPEND INBOX (\\Seen) {}]");
  CHECK(run("a APPEND INBOX {0+}\r\n\r\n") == "[a APPEND INBOX {}]");
  // A literal inside a list, and the list goes on after it.
  CHECK(run("a X (b {2}\r\nxy c)\r\n") == "[+2][a X (b {xy} c)]");
}

TEST_CASE("parser: literal size bounds", "[imapd][parser]") {
  Limits l;
  l.max_literal = 10;
  // Synchronizing: refused before a byte is sent; the next command is read.
  CHECK(run("a APPEND INBOX {11}\r\nb NOOP\r\n", l) == "[toobig a sync][b NOOP]");
  CHECK(run("a APPEND INBOX {99999999999999999999}\r\nb NOOP\r\n", l) ==
        "[bad a: Bad literal size][b NOOP]");
  // Together, not each.
  CHECK(run("a LOGIN {6}\r\nabcdef {6}\r\n", l) == "[+6][toobig a sync]");
  // Non-synchronizing: the octets come anyway, the session must end it.
  CHECK(run("a APPEND INBOX {11+}\r\n01234567890\r\n", l) == "[toobig a nonsync]");
  CHECK(run("a APPEND INBOX {10+}\r\n0123456789\r\n", l) == "[a APPEND INBOX {0123456789}]");
}

TEST_CASE("parser: line length and nesting bounds", "[imapd][parser]") {
  Limits l;
  l.max_line = 32;
  l.max_nesting = 3;
  CHECK(run("a NOOP " + std::string(30, 'x') + "\r\n", l) == "[long]");
  CHECK(run(std::string(40, 'x'), l) == "[long]");
  // Text outside literals counts over the whole command.
  CHECK(run("a X {2}\r\nab " + std::string(30, 'y') + "\r\n", l) == "[+2][long]");
  CHECK(run("a X (((b)))\r\n", l) == "[a X (((b)))]");
  CHECK(run("a X ((((b))))\r\nc NOOP\r\n", l) == "[bad a: Too deeply nested][c NOOP]");
}

TEST_CASE("parser: errors and recovery", "[imapd][parser]") {
  CHECK(run("a X (b\r\nc NOOP\r\n") == "[bad a: Unclosed parenthesis][c NOOP]");
  CHECK(run("a X b)\r\n") == "[bad a: Unexpected ')']");
  CHECK(run("a X \"b\r\n") == "[bad a: Unterminated quoted string]");
  CHECK(run("a X \"b\\n\"\r\n") == "[bad a: Bad escape in quoted string]");
  CHECK(run("a X {3}x\r\n") == "[bad a: Literal marker must end the line]");
  using namespace std::string_literals;
  CHECK(run("a X ~{3}\r\nx\0y\r\n"s) == "[+3][a X {x\0y}]"s);  // literal8: NUL allowed
  CHECK(run("a X ~{3\r\n") == "[bad a: Literal marker must end the line]");
  CHECK(run("a X b\x01\r\n") == "[bad a: Invalid character in atom]");
  CHECK(run("a X \x7f\r\n") == "[bad a: Invalid character in atom]");
  CHECK(run("a X \xc3\xa4\r\n") == "[a X \xc3\xa4]");  // UTF-8 search strings
  CHECK(run("+ NOOP\r\n") == "[bad : Invalid tag]");
  CHECK(run("a*b NOOP\r\n") == "[bad : Invalid tag]");
  CHECK(run("(a) NOOP\r\n") == "[bad : Invalid tag]");
  CHECK(run("a\r\n") == "[bad a: Missing command]");
  // A refused line that announced a non-synchronizing literal: its octets
  // (which look like a command here) are skipped, and so are the lines of
  // the same command that follow.
  CHECK(run("a X ) {11+}\r\nb LOGOUT\r\n {3+}\r\nxyz\r\nc NOOP\r\n") ==
        "[bad a: Unexpected ')'][c NOOP]");
}

TEST_CASE("parser: tags", "[imapd][parser]") {
  CHECK(valid_tag("A001"));
  CHECK(valid_tag("a]b"));
  CHECK_FALSE(valid_tag(""));
  CHECK_FALSE(valid_tag("a+b"));
  CHECK_FALSE(valid_tag("a%"));
  CHECK_FALSE(valid_tag("a{"));
  CHECK_FALSE(valid_tag("a\\b"));
  auto m = trailing_literal("x {12+}");
  REQUIRE(m);
  CHECK(m->size == 12);
  CHECK_FALSE(m->sync);
  CHECK_FALSE(trailing_literal("x {a}"));
}
