#include "lib/config/edit.h"

#include <catch2/catch.hpp>

using namespace posthorn::config;

TEST_CASE("edit main.cf: replace in place, keep comments, append new", "[config][edit]") {
  const std::string before =
      "# top comment\n"
      "myhostname = old.example\n"
      "mynetworks = 127.0.0.0/8,\n"
      "    10.0.0.0/8\n"
      "# keep me\n"
      "relayhost =\n"
      "mynetworks = dup";
  std::string after = edit_main_cf(before, {{"mynetworks", "192.0.2.0/24"}, {"smtpd_timeout", "1m"}},
                                   {"relayhost"});
  CHECK(after ==
        "# top comment\n"
        "myhostname = old.example\n"
        "mynetworks = 192.0.2.0/24\n"
        "# keep me\n"
        "smtpd_timeout = 1m\n");
  CHECK(edit_main_cf("", {{"a", "b"}}, {}) == "a = b\n");
  CHECK(edit_main_cf("x = 1\n", {}, {"y"}) == "x = 1\n");
  CHECK(edit_main_cf("x = 1\r\n# c\r\n", {{"x", "2"}}, {}) == "x = 2\n# c\r\n");
  CHECK(edit_main_cf("  orphan\nx = 1\n", {{"x", "2"}}, {}) == "  orphan\nx = 2\n");
}

TEST_CASE("edit main.cf: removing leaves the rest byte for byte", "[config][edit]") {
  const std::string text = "a = 1\n\n#c\nb = 2\n  2b\nc = 3\n";
  CHECK(edit_main_cf(text, {}, {"b"}) == "a = 1\n\n#c\nc = 3\n");
  CHECK(edit_main_cf(text, {}, {}) == text);
}

TEST_CASE("edit master.cf: replace, add and remove entries", "[config][edit]") {
  const std::string text =
      "# header\n"
      "smtp inet n - n - - smtpd\n"
      "  -o a=b\n"
      "smtp unix - - n - - smtp\n";
  CHECK(edit_master_cf(text, "smtp/inet", "smtp inet n - n - 5 smtpd") ==
        "# header\nsmtp inet n - n - 5 smtpd\nsmtp unix - - n - - smtp\n");
  CHECK(edit_master_cf(text, "smtp/inet", "") == "# header\nsmtp unix - - n - - smtp\n");
  CHECK(edit_master_cf(text, "pickup/unix", "pickup unix n - n 60 1 pickup") ==
        text + "pickup unix n - n 60 1 pickup\n");
  CHECK(edit_master_cf(text, "nothing/unix", "") == text);
  CHECK(master_line_key("smtp   inet n") == "smtp/inet");
  CHECK(master_line_key("smtp") == "");
}
