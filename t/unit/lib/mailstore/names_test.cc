#include "lib/mailstore/names.h"

#include <catch2/catch.hpp>

#include "lib/base/strings.h"

using namespace posthorn;
using namespace posthorn::mailstore;

TEST_CASE("folder names map to one directory under the root", "[mailstore][names]") {
  struct Case { const char* in; const char* canonical; const char* dir; };
  const Case cases[] = {
      {"INBOX", "INBOX", ""},          {"inbox", "INBOX", ""},
      {"Sent", "Sent", ".Sent"},       {"Archive.2024", "Archive.2024", ".Archive.2024"},
      {"inbox.Sub", "INBOX.Sub", ".INBOX.Sub"},
      {"Entw&APw-rfe", "Entw&APw-rfe", ".Entw&APw-rfe"},  // modified UTF-7 stays as is
      {"a b~c", "a b~c", ".a b~c"},
  };
  for (const auto& c : cases) {
    auto r = canonical_folder_name(c.in);
    INFO(c.in);
    REQUIRE(r);
    CHECK(*r == c.canonical);
    CHECK(folder_dir_name(*r) == c.dir);
  }
}

TEST_CASE("hostile folder names are refused", "[mailstore][names]") {
  const std::string hostile[] = {
      "",        ".",         "..",         "...",       "../etc",    "a/../../b",
      "/etc",    "/",         "a/b",        "Sent.",     ".Sent",     "a..b",
      "a.\x01",  "tab\there", "nl\nx",      "del\x7f",   "\xc3\xa9t\xc3\xa9",
      std::string("nul\0x", 5),             std::string(201, 'x'),
  };
  for (const auto& h : hostile) {
    INFO(printable(h));
    auto r = canonical_folder_name(h);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
  }
}

TEST_CASE("Maildir file names parse flags, keywords and sizes", "[mailstore][names]") {
  FileName f = parse_file_name("1700000000.M1P2Q3.host,S=120,W=124:2,FSac");
  CHECK(f.base == "1700000000.M1P2Q3.host,S=120,W=124");
  CHECK(f.has_size);
  CHECK(f.size == 120);
  CHECK(f.vsize == 124);
  CHECK(f.flags == (kFlagged | kSeen));
  CHECK(f.keywords == 0b101);
  FileName plain = parse_file_name("123.abc.host");
  CHECK(plain.base == "123.abc.host");
  CHECK_FALSE(plain.has_size);
  CHECK(plain.flags == 0);
  FileName odd = parse_file_name("1.x,S=zz:2,ZS");  // junk size, unknown flag
  CHECK_FALSE(odd.has_size);
  CHECK(odd.flags == kSeen);
  CHECK(odd.other_flags == "Z");
  FileName experimental = parse_file_name("1.x:1,S");
  CHECK(experimental.flags == 0);
}

TEST_CASE("flags are written in ASCII order and round-trip", "[mailstore][names]") {
  CHECK(cur_file_name("b", kTrashed | kDraft | kSeen | kReplied | kPassed | kFlagged, 0) ==
        "b:2,DFPRST");
  CHECK(cur_file_name("b", kSeen, (1u << 25) | 1u, "Z") == "b:2,SZaz");
  CHECK(cur_file_name("b", 0, 0) == "b:2,");
  for (unsigned flags = 0; flags <= kAllFlags; ++flags) {
    FileName f = parse_file_name(cur_file_name("base", flags, flags << 3));
    CHECK(f.flags == flags);
    CHECK(f.keywords == flags << 3);
  }
}

TEST_CASE("unique names differ and sort in arrival order", "[mailstore][names]") {
  std::string a = unique_base(), b = unique_base();
  CHECK(a != b);
  CHECK(a.find('/') == std::string::npos);
  CHECK(a.find(':') == std::string::npos);
  CHECK(arrived_before("999.x", "1000.a"));
  CHECK_FALSE(arrived_before("1000.a", "999.x"));
  CHECK(arrived_before("5.a", "5.b"));
  // Microseconds without zero padding (Python's mailbox module).
  CHECK(arrived_before("1700000000.M99123P7Q1.h", "1700000000.M100234P7Q2.h"));
  CHECK_FALSE(arrived_before("1700000000.M100234P7Q2.h", "1700000000.M99123P7Q1.h"));
  CHECK(arrived_before("5.M5P7Q9.h", "5.M5P7Q10.h"));
  CHECK(arrived_before("5.M05P7.h", "5.M6P7.h"));
  CHECK_FALSE(arrived_before("5.M5P7.h", "5.M5P7.h"));
}
