// Tests for imapd/mailbox_name.h: modified UTF-7, store names, LIST patterns.
#include "imapd/mailbox_name.h"

#include <catch2/catch.hpp>

using namespace posthorn::imapd;

TEST_CASE("modified UTF-7 round trips", "[imapd][mutf7]") {
  struct Case {
    const char* utf8;
    const char* mutf7;
  };
  for (const Case& c : {Case{"INBOX", "INBOX"}, Case{"a&b", "a&-b"},
                        Case{"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
                        Case{"\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-"},
                        Case{"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                             "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
                        Case{"\xf0\x9f\x98\x80", "&2D3eAA-"}}) {
    INFO(c.mutf7);
    CHECK(utf8_to_mutf7(c.utf8) == std::optional<std::string>(c.mutf7));
    CHECK(mutf7_to_utf8(c.mutf7) == std::optional<std::string>(c.utf8));
  }
}

TEST_CASE("malformed modified UTF-7 is refused", "[imapd][mutf7]") {
  for (const char* bad : {"&", "&AGE", "&AG!-", "&AGE-&AGE-", "&AEE-", "&2D3-", "&3gA-",
                          "a\x01", "\xc3\xa4", "&AGEA-"}) {
    INFO(bad);
    CHECK_FALSE(valid_mutf7(bad));
  }
  CHECK_FALSE(utf8_to_mutf7("\xc3"));
  CHECK_FALSE(utf8_to_mutf7("\xed\xa0\x80"));  // a UTF-16 surrogate in UTF-8
}

TEST_CASE("store names", "[imapd][mutf7]") {
  CHECK(*store_name("inbox") == "INBOX");
  CHECK(*store_name("Archive.") == "Archive");
  CHECK(*store_name("Entw&APw-rfe") == "Entw&APw-rfe");
  CHECK(*store_name("a*b") == "a*b");
  CHECK_FALSE(store_name("a*b", true));
  CHECK_FALSE(store_name("a%", true));
  for (const char* bad : {"", "..", "a..b", ".a", "a/b", "../x", "/etc", "a\tb", "&Jjo"}) {
    INFO(bad);
    CHECK_FALSE(store_name(bad));
  }
}

TEST_CASE("LIST patterns", "[imapd][list]") {
  CHECK(list_match("*", "INBOX"));
  CHECK(list_match("*", "a.b.c"));
  CHECK(list_match("%", "a"));
  CHECK_FALSE(list_match("%", "a.b"));
  CHECK(list_match("a.%", "a.b"));
  CHECK_FALSE(list_match("a.%", "a.b.c"));
  CHECK(list_match("a.*", "a.b.c"));
  CHECK_FALSE(list_match("a.*", "a"));
  CHECK(list_match("inbox", "INBOX"));
  CHECK(list_match("Inbox.%", "INBOX.x"));
  CHECK_FALSE(list_match("inboxx", "INBOX"));
  CHECK(list_match("%b%", "abc"));
  CHECK(list_match("*%*%*", "abc"));
  CHECK_FALSE(list_match("Sent", "sent"));
  CHECK_FALSE(list_match(std::string(kMaxPattern + 1, '*'), "a"));
}
