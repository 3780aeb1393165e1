#include "lib/mailstore/uidlist.h"

#include <catch2/catch.hpp>

#include "lib/base/strings.h"

#include "lib/mailstore/keywords.h"
#include "lib/mailstore/new_message.h"

using namespace posthorn;
using namespace posthorn::mailstore;

TEST_CASE("uidlist round-trips", "[mailstore][uidlist]") {
  Uidlist l{1700000000, 10,
            {{3, 1690000000, 100, 104, "1.M1P1Q1.h,S=100,W=104", ":2,FS", false},
             {9, 0, 0, 0, "name with spaces", "", true}},
            {},
            {}};
  std::string text = format_uidlist(l);
  CHECK(text.rfind("posthorn-uidlist 2 1700000000 10 - -\n", 0) == 0);
  CHECK(text.find("\n3 1690000000 100 104 c 1.M1P1Q1.h,S=100,W=104:2,FS\n") != std::string::npos);
  auto back = parse_uidlist(text);
  REQUIRE(back);
  CHECK(back->uidvalidity == l.uidvalidity);
  CHECK(back->uidnext == 10);
  CHECK_FALSE(back->new_stamp.valid);
  REQUIRE(back->entries.size() == 2);
  CHECK(back->entries[0].base == "1.M1P1Q1.h,S=100,W=104");
  CHECK(back->entries[0].info == ":2,FS");
  CHECK_FALSE(back->entries[0].in_new);
  CHECK(back->entries[1].base == "name with spaces");
  CHECK(back->entries[1].info.empty());
  CHECK(back->entries[1].in_new);
  CHECK(back->entries[0].vsize == 104);
  auto empty = parse_uidlist("posthorn-uidlist 1 5 1\n");
  REQUIRE(empty);
  CHECK(empty->entries.empty());

  // Directory stamps: kept only as a pair.
  l.new_stamp = DirStamp{true, 1700000001, 5, 1700000002, 999999999, 77};
  l.cur_stamp = DirStamp{true, 1, 0, 2, 3, 78};
  text = format_uidlist(l);
  CHECK(text.rfind("posthorn-uidlist 2 1700000000 10 77:1700000001.5:1700000002.999999999 "
                   "78:1.0:2.3\n", 0) == 0);
  back = parse_uidlist(text);
  REQUIRE(back);
  CHECK(back->new_stamp == l.new_stamp);
  CHECK(back->cur_stamp == l.cur_stamp);
  l.cur_stamp = {};
  back = parse_uidlist(format_uidlist(l));
  REQUIRE(back);
  CHECK_FALSE(back->new_stamp.valid);
}

TEST_CASE("version 1 lists are read: the rest of the line is the base name", "[mailstore][uidlist]") {
  auto v1 = parse_uidlist("posthorn-uidlist 1 5 9\n1 2 3 4 a b:c\n");
  REQUIRE(v1);
  REQUIRE(v1->entries.size() == 1);
  CHECK(v1->entries[0].base == "a b:c");
  CHECK(v1->entries[0].info.empty());
  CHECK_FALSE(v1->new_stamp.valid);
}

TEST_CASE("damaged uidlists are reported as corrupt", "[mailstore][uidlist]") {
  const std::string bad[] = {
      "",
      "garbage\n",
      "posthorn-uidlist 1 5 3",                           // no final newline: torn write
      "posthorn-uidlist 3 5 3\n",                         // unknown version
      "posthorn-uidlist 2 5 3\n",                         // version 2 without stamps
      "posthorn-uidlist 2 5 3 - - x\n",                   // extra field
      "posthorn-uidlist 2 5 3 1:2.3 -\n",                 // stamp without ctime
      "posthorn-uidlist 2 5 3 1:2.3:4.1000000000 -\n",    // nanoseconds out of range
      "posthorn-uidlist 2 5 3 1:2:4.5 -\n",               // no nanoseconds
      "posthorn-uidlist 2 5 3 - -\n1 2 3 4 a\n",          // no directory
      "posthorn-uidlist 2 5 3 - -\n1 2 3 4 x a\n",        // bad directory
      "posthorn-uidlist 2 5 3 - -\n1 2 3 4 c :2,S\n",     // empty base name
      "posthorn-uidlist 1 0 3\n",                         // UIDVALIDITY 0
      "posthorn-uidlist 1 5 0\n",                         // UIDNEXT 0
      "posthorn-uidlist 1 5 3 x\n",                       // extra header field
      "posthorn-uidlist 1 99999999999 3\n",               // out of range
      "posthorn-uidlist 1 5 3\n1 2 3 4 a\n1 2 3 4 b\n",   // UIDs not ascending
      "posthorn-uidlist 1 5 3\n3 2 3 4 a\n",              // UID not below UIDNEXT
      "posthorn-uidlist 1 5 9\n1 2 3 4 a\n2 2 3 4 a\n",   // duplicate name
      "posthorn-uidlist 1 5 9\n0 2 3 4 a\n",              // UID 0
      "posthorn-uidlist 1 5 9\n1 2 3 a\n",                // missing field
      "posthorn-uidlist 1 5 9\n1 2 3 4 \n",               // empty name
      "posthorn-uidlist 1 5 9\n1 2 3 4 a/b\n",            // slash in name
      "posthorn-uidlist 1 5 9\n1 -2 3 4 a\n",             // negative
      "posthorn-uidlist 1 5 9\n\n",                       // empty line
      std::string("posthorn-uidlist 1 5 9\n1 2 3 4 a\0b\n", 35),
  };
  for (const auto& b : bad) {
    INFO(printable(b));
    auto r = parse_uidlist(b);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt);
  }
}

TEST_CASE("keyword table: dovecot-keywords format, lenient parsing", "[mailstore][keywords]") {
  KeywordTable t = parse_keywords("0 $Junk\n2 Work\nbad line\n30 TooFar\n1 two words\n3 $junk\n");
  CHECK(t.names[0] == "$Junk");
  CHECK(t.names[1].empty());
  CHECK(t.names[2] == "Work");
  CHECK(t.names[3].empty());  // same keyword, other case: ignored
  CHECK(t.find("$JUNK") == 0);
  auto i = t.intern("$Label1");
  REQUIRE(i);
  CHECK(*i == 1);
  CHECK(format_keywords(t) == "0 $Junk\n1 $Label1\n2 Work\n");
  CHECK(t.names_of(0b111) == std::vector<std::string>{"$Junk", "$Label1", "Work"});
  for (const char* bad : {"", "a b", "\\Seen", "x(", "q\"", "a]", "%", "*", "{1}", "\x01"})
    CHECK(t.intern(bad).error().code == Errc::invalid);
  for (int k = 0; k < 23; ++k) REQUIRE(t.intern(cat("k", k)));
  auto full = t.intern("one-too-many");
  REQUIRE_FALSE(full);
  CHECK(full.error().code == Errc::too_large);
}

TEST_CASE("CRLF size counting accepts any split of its input", "[mailstore][vsize]") {
  const std::string msg = "a\nb\r\nc\r\rd\n\n\r\n";
  bool cr = false;
  std::uint64_t whole = msg.size() + crlf_extra(msg, cr);
  CHECK(whole == msg.size() + 3);  // bare CRs are left alone
  for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
    bool c = false;
    std::uint64_t extra = crlf_extra(msg.substr(0, cut), c);
    extra += crlf_extra(msg.substr(cut), c);
    CHECK(msg.size() + extra == whole);
  }
}
