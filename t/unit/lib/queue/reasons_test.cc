#include "lib/queue/reasons.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <limits>
#include <random>

#include "lib/base/file.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::queue;
using posthorn::queue::test::ScratchDir;

namespace {

SpoolOwners me() { return {::getuid(), ::getgid(), ::getgid()}; }

struct Fixture {
  ScratchDir dir;
  Spool spool{dir.path()};
  QueueId id{1763805600123456, 4242};
  Fixture() { REQUIRE(create_spool(spool, me())); }
  std::filesystem::path path(QueueName log = QueueName::defer) const { return spool.file(log, id); }
};

std::string every_byte() {
  std::string s;
  for (int c = 0; c < 256; ++c) s += static_cast<char>(c);
  return s;
}

Reason sample(std::uint32_t index, std::string text) {
  return {1763805700 + index, index, "4.4.1", "mx.example.org[192.0.2.1]:25",
          "rcpt" + std::to_string(index) + "@example.net", std::move(text)};
}

bool printable_line(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
  return true;
}

void check_round_trip(const Reason& r) {
  std::string line = format_reason_line(r);
  INFO(line);
  CHECK(printable_line(line));
  auto back = parse_reason_line(line);
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(format_reason_line(*back) == line);
}

}  // namespace

TEST_CASE("reason records round-trip any bytes", "[queue][reasons]") {
  const std::string all = every_byte();
  const Reason cases[] = {
      {0, 0, "", "", "", ""},
      {1763805700, 3, "5.1.1", "mx.example.org[192.0.2.1]:25", "bob@example.net",
       "host mx.example.org[192.0.2.1] said: 550 5.1.1 <bob@example.net>: unknown user"},
      {-1, 1, "4.4.1", "none", "a b@example.net", "connect to x: Connection refused"},
      {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint32_t>::max(), all,
       all, all, all},
      {std::numeric_limits<std::int64_t>::max(), 7, "%", "%%", "100%", "%41 %zz %"},
      {5, 5, " ", "\r\n", std::string("nul\0nul", 7), "caf\xc3\xa9 \xff\xfe"},
  };
  for (const Reason& r : cases) check_round_trip(r);

  std::mt19937_64 rng(20251122);
  for (int n = 0; n < 500; ++n) {
    auto random_string = [&] {
      std::string s(rng() % 40, '\0');
      for (char& c : s) c = static_cast<char>(rng() & 0xff);
      return s;
    };
    Reason r{static_cast<std::int64_t>(rng()), static_cast<std::uint32_t>(rng()), random_string(),
             random_string(), random_string(), random_string()};
    check_round_trip(r);
  }
}

TEST_CASE("reason record parser refuses every other form", "[queue][reasons]") {
  const char* bad[] = {
      "",
      "v1 1 0 5.1.1 relay addr",             // six fields
      "v1 1 0 5.1.1 relay addr text more",   // eight fields
      "v1  0 5.1.1 relay addr text",         // empty time
      "v2 1 0 5.1.1 relay addr text",        // another version
      "V1 1 0 5.1.1 relay addr text",
      "v1 01 0 5.1.1 relay addr text",       // leading zero
      "v1 1 00 5.1.1 relay addr text",
      "v1 -0 0 5.1.1 relay addr text",
      "v1 -01 0 5.1.1 relay addr text",
      "v1 +1 0 5.1.1 relay addr text",
      "v1 1 -1 5.1.1 relay addr text",        // negative index
      "v1 1 4294967296 5.1.1 relay addr text",  // index past 32 bits
      "v1 9223372036854775808 0 5.1.1 relay addr text",
      "v1 1x 0 5.1.1 relay addr text",
      "v1 1 0 5.1.1 relay addr te%2",          // cut escape
      "v1 1 0 5.1.1 relay addr te%",
      "v1 1 0 5.1.1 relay addr %2g",
      "v1 1 0 5.1.1 relay addr %2f",           // lower-case hex
      "v1 1 0 5.1.1 relay addr %41",           // 'A' needs no escape
      "v1 1 0 5.1.1 relay addr tab\there",
      "v1 1 0 5.1.1 relay addr text\r",
      "v1 1 0 5.1.1 relay addr caf\xc3\xa9",
      "v1\t1 0 5.1.1 relay addr text",
  };
  for (const char* line : bad) {
    INFO(line);
    auto r = parse_reason_line(line);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt);
  }
  CHECK(parse_reason_line("v1 1 0    "));  // four empty strings are a record
}

TEST_CASE("reason logs: appended records read back in order", "[queue][reasons]") {
  Fixture f;
  for (QueueName log : {QueueName::defer, QueueName::bounce}) {
    std::vector<Reason> written = {sample(0, "first"), sample(2, "second"), sample(0, "third")};
    for (const Reason& r : written) REQUIRE(append_reason(f.spool, log, f.id, r, log == QueueName::bounce));
    std::size_t skipped = 99;
    auto back = read_reasons(f.spool, log, f.id, &skipped);
    REQUIRE(back);
    CHECK(*back == written);
    CHECK(skipped == 0);
    struct stat st;
    REQUIRE(::stat(f.path(log).c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
  }
}

TEST_CASE("reason logs: a missing file is an empty list", "[queue][reasons]") {
  Fixture f;
  std::size_t skipped = 99;
  auto r = read_reasons(f.spool, QueueName::bounce, f.id, &skipped);
  REQUIRE(r);
  CHECK(r->empty());
  CHECK(skipped == 0);
  CHECK(remove_reasons(f.spool, QueueName::bounce, f.id));  // nothing to remove is fine
}

TEST_CASE("reason logs: torn and damaged lines are skipped, counted and cut", "[queue][reasons]") {
  Fixture f;
  const std::string good = format_reason_line(sample(1, "whole")) + "\n";
  const std::string torn = format_reason_line(sample(2, "torn by a crash"));
  SECTION("a torn last line") {
    REQUIRE(write_file_durable(f.path(), good + torn.substr(0, torn.size() - 5), 0600));
    std::size_t skipped = 0;
    auto r = read_reasons(f.spool, QueueName::defer, f.id, &skipped);
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0] == sample(1, "whole"));
    CHECK(skipped == 1);
    // A torn line that happens to parse (it lost only the end of its text)
    // is still left out: it has no '\n'.
    REQUIRE(write_file_durable(f.path(), good + torn, 0600));
    r = read_reasons(f.spool, QueueName::defer, f.id, &skipped);
    REQUIRE(r);
    CHECK(r->size() == 1);
    CHECK(skipped == 1);
    // The next append cuts the fragment: it never becomes part of a record.
    REQUIRE(append_reason(f.spool, QueueName::defer, f.id, sample(3, "after"), true));
    auto text = read_file(f.path());
    REQUIRE(text);
    CHECK(*text == good + format_reason_line(sample(3, "after")) + "\n");
    r = read_reasons(f.spool, QueueName::defer, f.id, &skipped);
    REQUIRE(r);
    CHECK(r->size() == 2);
    CHECK(skipped == 0);
  }
  SECTION("a file that is one torn line, longer than the read-back block") {
    REQUIRE(write_file_durable(f.path(), std::string(10000, 'x'), 0600));
    REQUIRE(append_reason(f.spool, QueueName::defer, f.id, sample(3, "after"), false));
    auto text = read_file(f.path());
    REQUIRE(text);
    CHECK(*text == format_reason_line(sample(3, "after")) + "\n");
  }
  SECTION("a torn line far from the last newline") {
    std::string fragment(9000, 'y');
    REQUIRE(write_file_durable(f.path(), good + fragment, 0600));
    REQUIRE(append_reason(f.spool, QueueName::defer, f.id, sample(3, "after"), false));
    auto text = read_file(f.path());
    REQUIRE(text);
    CHECK(*text == good + format_reason_line(sample(3, "after")) + "\n");
  }
  SECTION("garbage in the middle") {
    std::string nul("v1 1 0 \0 a b c\n", 15);
    REQUIRE(write_file_durable(f.path(), good + "garbage\n\n" + nul + good, 0600));
    std::size_t skipped = 0;
    auto r = read_reasons(f.spool, QueueName::defer, f.id, &skipped);
    REQUIRE(r);
    CHECK(r->size() == 2);
    CHECK(skipped == 3);
  }
}

TEST_CASE("reason logs: the latest record per recipient wins", "[queue][reasons]") {
  std::vector<Reason> all = {sample(5, "a"), sample(1, "b"), sample(5, "c"), sample(0, "d"),
                             sample(1, "e")};
  all[4].time = 1;  // order in the file decides, not the time
  auto latest = latest_per_recipient(all);
  REQUIRE(latest.size() == 3);
  CHECK(latest[0] == sample(0, "d"));
  CHECK(latest[1] == all[4]);
  CHECK(latest[2] == sample(5, "c"));
  CHECK(latest_per_recipient({}).empty());
}

TEST_CASE("reason logs: durable appends, removal, refusals", "[queue][reasons]") {
  Fixture f;
  SECTION("a durable append is complete when the call returns") {
    for (std::uint32_t i = 0; i < 20; ++i)
      REQUIRE(append_reason(f.spool, QueueName::bounce, f.id, sample(i, "x"), true));
    auto r = read_reasons(f.spool, QueueName::bounce, f.id);
    REQUIRE(r);
    CHECK(r->size() == 20);
    REQUIRE(remove_reasons(f.spool, QueueName::bounce, f.id));
    CHECK_FALSE(std::filesystem::exists(f.path(QueueName::bounce)));
  }
  SECTION("only defer/ and bounce/ are reason logs") {
    for (QueueName q : {QueueName::incoming, QueueName::active, QueueName::deferred}) {
      auto a = append_reason(f.spool, q, f.id, sample(0, "x"), true);
      REQUIRE_FALSE(a);
      CHECK(a.error().code == Errc::invalid);
      auto r = read_reasons(f.spool, q, f.id);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::invalid);
      auto d = remove_reasons(f.spool, q, f.id);
      REQUIRE_FALSE(d);
      CHECK(d.error().code == Errc::invalid);
    }
    CHECK(std::filesystem::is_empty(f.spool.dir(QueueName::incoming)));
  }
  SECTION("a missing log directory is not_found") {
    std::filesystem::remove(f.spool.dir(QueueName::defer));
    auto a = append_reason(f.spool, QueueName::defer, f.id, sample(0, "x"), true);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == Errc::not_found);
  }
  SECTION("an unwritable log is a permission error") {
    if (::geteuid() == 0) return;  // root writes anyway
    REQUIRE(append_reason(f.spool, QueueName::defer, f.id, sample(0, "x"), false));
    REQUIRE(::chmod(f.path().c_str(), 0400) == 0);
    auto a = append_reason(f.spool, QueueName::defer, f.id, sample(1, "x"), true);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == Errc::permission);
  }
}
