// Tests for lib/mime transfer encodings, RFC 2047 decoding and the 8BITMIME
// downgrade.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "lib/mime/downgrade.h"
#include "lib/mime/encoded_word.h"
#include "lib/mime/message.h"
#include "lib/mime/section.h"
#include "lib/mime/transfer.h"

using namespace posthorn::mime;

namespace {

std::string random_bytes(std::mt19937& rng, std::size_t n, bool texty) {
  std::string s(n, '\0');
  for (auto& c : s) {
    unsigned v = rng() & 0xFF;
    // Text-like input: mostly printable, with spaces and line breaks.
    if (texty && v < 200) v = " \t\r\nabcxyz=."[v % 12];
    c = static_cast<char>(v);
  }
  return s;
}

// Text-mode QP treats every line break as CRLF.
std::string canonical_breaks(std::string_view s) { return to_crlf(s); }

void check_qp_shape(const std::string& enc) {
  std::size_t start = 0;
  while (start < enc.size()) {
    std::size_t nl = enc.find("\r\n", start);
    std::size_t end = nl == std::string::npos ? enc.size() : nl;
    std::string_view line(enc.data() + start, end - start);
    CHECK(line.size() <= 76);
    if (!line.empty()) CHECK((line.back() != ' ' && line.back() != '\t'));
    for (unsigned char c : line) CHECK((c == '\t' || (c >= 32 && c < 127)));
    start = end + 2;
  }
}

}  // namespace

TEST_CASE("quoted-printable: fixed cases", "[mime]") {
  CHECK(qp_encode("caf\xe9 = ok") == "caf=E9 =3D ok");
  CHECK(qp_encode("trailing \r\nnext\t") == "trailing=20\r\nnext=09");
  CHECK(qp_encode("lf\nonly", "\n") == "lf\nonly");
  CHECK(qp_encode(std::string(80, 'a')) == std::string(75, 'a') + "=\r\n" + std::string(5, 'a'));
  CHECK(qp_encode(std::string(76, 'a')) == std::string(76, 'a'));
  // A soft break never starts a line that could read as "--boundary".
  CHECK(qp_encode(std::string(75, 'a') + "--b") == std::string(75, 'a') + "=\r\n=2D-b");
  CHECK(qp_decode("a=3Db=\r\nc  \r\nd=e9").data == "a=bc\r\nd\xe9");
  CHECK(qp_decode("soft= \t\nline").data == "softline");
  Decoded bad = qp_decode("x=ZZ=");
  CHECK_FALSE(bad.clean);
  CHECK(bad.data == "x=ZZ");
}

TEST_CASE("quoted-printable round trip over random input", "[mime]") {
  std::mt19937 rng(2045);
  for (int i = 0; i < 300; ++i) {
    std::string in = random_bytes(rng, rng() % 700, i % 2 == 0);
    std::string enc = qp_encode(in);
    check_qp_shape(enc);
    Decoded d = qp_decode(enc);
    CHECK(d.clean);
    CHECK(d.data == canonical_breaks(in));
  }
}

TEST_CASE("base64: round trip, line length, tolerance", "[mime]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==\r\n");
  CHECK(base64_encode("foobar", "") == "Zm9vYmFy");
  std::mt19937 rng(2046);
  for (int i = 0; i < 300; ++i) {
    std::string in = random_bytes(rng, rng() % 500, false);
    std::string enc = base64_encode(in);
    for (std::size_t p = 0; p < enc.size(); p += 78) {
      std::size_t nl = enc.find("\r\n", p);
      CHECK(nl - p <= 76);
    }
    Decoded d = base64_decode(enc);
    CHECK(d.clean);
    CHECK(d.data == in);
  }
  Decoded spaced = base64_decode(" Zm9v\n YmFy \t");
  CHECK(spaced.clean);
  CHECK(spaced.data == "foobar");
  Decoded junk = base64_decode("Zm9v*YmFy");
  CHECK_FALSE(junk.clean);
  CHECK(junk.data == "foobar");
  CHECK_FALSE(base64_decode("Zm9vY").clean);
  CHECK_FALSE(base64_decode("Zg==Zg==").clean);
  CHECK_FALSE(base64_decode("Zg=").clean);
}

TEST_CASE("RFC 2047 encoded words", "[mime]") {
  CHECK(decode_header_text("=?UTF-8?Q?caf=C3=A9_au_lait?=") == "caf\xc3\xa9 au lait");
  CHECK(decode_header_text("=?iso-8859-1?q?caf=E9?= =?utf-8?B?w6k=?=") == "caf\xc3\xa9\xc3\xa9");
  CHECK(decode_header_text("a =?us-ascii*en?q?b?= c") == "a b c");
  CHECK(decode_header_text("=?koi8-r?B?8NLJ18XU?=") == "=?koi8-r?B?8NLJ18XU?=");
  CHECK(decode_header_text("=?utf-8?q?bad=Z?=") == "=?utf-8?q?bad=Z?=");
  CHECK(decode_header_text("=?utf-8?x?y?=") == "=?utf-8?x?y?=");
  CHECK(decode_header_text("plain =?") == "plain =?");
  CHECK(decode_header_text("=?utf-8?q?a?= plain") == "a plain");
  std::string hostile;
  for (int i = 0; i < 20000; ++i) hostile += "=?=?a?q";
  CHECK(decode_header_text(hostile) == hostile);
}

TEST_CASE("8-bit message converted for a server without 8BITMIME", "[mime]") {
  std::string msg =
      "From: a@example.org\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=q\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      "--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
      "Gr\xc3\xbc\xc3\x9f" "e \r\n--q\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--q\r\n\r\nplain 7bit\r\n--q--\r\n";
  auto r = downgrade_8bit(msg);
  REQUIRE(r);
  CHECK(r->changed);
  CHECK_FALSE(r->header_8bit);
  for (unsigned char c : r->message) REQUIRE(c < 0x80);
  Message m = parse(r->message);
  REQUIRE(m.parts.size() == 4);
  CHECK(m.root().encoding == "7bit");
  CHECK(m.parts[1].encoding == "quoted-printable");
  CHECK(m.parts[1].content_type.type == "text");
  CHECK(qp_decode(m.body(m.parts[1])).data == "Gr\xc3\xbc\xc3\x9f" "e ");
  CHECK(m.parts[2].encoding == "base64");
  CHECK(m.body(m.parts[2]) == "AAEC");
  CHECK(m.body(m.parts[3]) == "plain 7bit");
  CHECK(m.parts[3].encoding == "7bit");

  // A non-MIME message becomes MIME; LF line breaks are kept.
  auto plain = downgrade_8bit("Subject: x\n\ncaf\xe9\n");
  REQUIRE(plain);
  CHECK(plain->message ==
        "Subject: x\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n");
  auto seven = downgrade_8bit("Subject: x\r\n\r\nascii\r\n");
  REQUIRE(seven);
  CHECK_FALSE(seven->changed);
  CHECK(seven->message == "Subject: x\r\n\r\nascii\r\n");
  auto head = downgrade_8bit("Subject: caf\xc3\xa9\r\n\r\nascii\r\n");
  REQUIRE(head);
  CHECK(head->header_8bit);
}

TEST_CASE("hostile: 10000 nested multiparts", "[mime]") {
  std::string msg;
  for (int i = 0; i < 10000; ++i) {
    msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
           std::to_string(i) + "\r\n";
  }
  msg += "\r\ndeep\xff\r\n";
  Message m = parse(msg);
  CHECK(m.parts.size() == static_cast<std::size_t>(kMaxDepth));
  int deepest = 0;
  for (const auto& p : m.parts) deepest = std::max(deepest, p.depth);
  CHECK(deepest == kMaxDepth - 1);
  CHECK(m.parts.back().over_limit);
  CHECK(m.parts.back().content_type.type == "text");
  auto r = downgrade_8bit(msg);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == posthorn::Errc::too_large);
  // message/rfc822 nesting is bounded the same way.
  std::string enc;
  for (int i = 0; i < 5000; ++i) enc += "Content-Type: message/rfc822\r\n\r\n";
  Message e = parse(enc);
  CHECK(e.parts.size() == static_cast<std::size_t>(kMaxDepth));
}

TEST_CASE("hostile: 100000 parts", "[mime]") {
  std::string msg = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 100000; ++i) msg += "--p\r\n\r\nx\r\n";
  msg += "--p--\r\n";
  Message m = parse(msg);
  CHECK(m.parts.size() == kMaxParts);
  auto last = parse_section(std::to_string(kMaxParts - 1));
  REQUIRE(last);
  auto r = section_range(m, *last);
  REQUIRE(r);
  // The last part keeps what the limit did not split, up to the close delimiter.
  CHECK(r->end == msg.size() - std::string("\r\n--p--\r\n").size());
  CHECK(m.body(m.parts.back()).substr(0, 8) == "x\r\n--p\r\n");
}

TEST_CASE("hostile: a huge header line and junk", "[mime]") {
  std::string subject(2 * 1024 * 1024, 'S');
  std::string msg = "Subject: " + subject + "\r\nContent-Type: multipart/mixed; boundary=" +
                    std::string(100000, 'b') + "\r\n\r\nbody";
  Message m = parse(msg);
  CHECK(m.root().content_type.type == "text");  // no delimiter line: one leaf
  auto s = parse_section("HEADER.FIELDS (subject)");
  CHECK(fetch_section(m, *s)->size() == subject.size() + 13);
  std::string junk;
  std::mt19937 rng(5322);
  for (int i = 0; i < 200; ++i) {
    junk.clear();
    for (int k = 0; k < 400; ++k) junk += "\r\n-:; =\"\\(b"[rng() % 11];
    Message j = parse(junk);
    CHECK(!j.parts.empty());
  }
}

TEST_CASE("downgrade keeps the structure for random 8-bit bodies", "[mime]") {
  std::mt19937 rng(6152);
  for (int i = 0; i < 100; ++i) {
    std::string bodies[2];
    for (auto& b : bodies) {
      // Long lines with "--q" in them: a soft break must not forge a delimiter.
      for (int k = 0; k < 6; ++k) {
        std::string line = random_bytes(rng, rng() % 200, true);
        for (auto& c : line) {
          if (c == '\r' || c == '\n') c = '-';
        }
        b += line + "--q " + "\xe9\r\n";
      }
      b.pop_back();
      b.pop_back();
    }
    std::string msg = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n"
                      "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n" + bodies[0] +
                      "\r\n--q\r\n\r\n" + bodies[1] + "\r\n--q--\r\n";
    auto r = downgrade_8bit(msg);
    REQUIRE(r);
    Message m = parse(r->message);
    REQUIRE(m.parts.size() == 3);
    for (int k = 0; k < 2; ++k) {
      const Part& p = m.parts[1 + k];
      CHECK(p.encoding == "quoted-printable");
      Decoded d = qp_decode(m.body(p));
      CHECK(d.clean);
      CHECK(d.data == to_crlf(bodies[k]));
    }
  }
}

TEST_CASE("downgrade of a part without header lines keeps every part once", "[mime]") {
  // The part's first line is not a header field, so its header range is
  // empty at the offset where its body starts: the header edit and the body
  // edit start at the same offset (a fuzz finding: the splice duplicated the
  // rest of the message when they came in the wrong order).
  // Enough parts that the edit list is sorted by more than insertion sort.
  std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 20; ++i) msg += "--b\r\ncaf\xe9 first\r\n";
  msg += "--b\r\nContent-Type: text/plain\r\n\r\nna\xefve\r\n--b--\r\n";
  Message before = parse(msg);
  auto d = downgrade_8bit(msg);
  REQUIRE(d);
  Message after = parse(d->message);
  CHECK(after.parts.size() == before.parts.size());
  CHECK(d->message.find("--b--") == d->message.rfind("--b--"));
  CHECK(d->message.find("caf=E9 first") != std::string::npos);
  CHECK(d->message.find("na=EFve") != std::string::npos);
}
