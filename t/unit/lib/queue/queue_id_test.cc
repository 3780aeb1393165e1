#include "lib/queue/queue_id.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <vector>

using namespace posthorn;
using namespace posthorn::queue;

TEST_CASE("queue IDs round-trip through str and parse", "[queue][queue_id]") {
  const std::uint64_t max_time = (std::uint64_t{1} << 55) - 1;
  const std::pair<std::uint64_t, std::uint64_t> cases[] = {
      {1, 0}, {1763805600123456, 4242}, {max_time, ~std::uint64_t{0}}, {0, 1}, {31, 32}};
  for (auto [t, ino] : cases) {
    QueueId id(t, ino);
    std::string s = id.str();
    CAPTURE(s);
    CHECK(s.size() >= 12);
    CHECK(s.size() <= QueueId::kMaxLength);
    auto back = QueueId::parse(s);
    REQUIRE(back);
    CHECK(*back == id);
    CHECK(back->micros() == t);
    CHECK(back->inode() == ino);
    CHECK(s.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
  }
  CHECK(QueueId(1763805600123456, 4242).str() == "1J45FZ3Z2J044J");
}

TEST_CASE("queue ID parse rejects everything but the canonical form", "[queue][queue_id]") {
  const char* bad[] = {"", "0", "01J4A8NT4S2", "01J4A8NT4S204A2000000000000",
                       "01j4a8nt4s204a2", "01J4A8NT4S2I4A2", "01J4A8NT4S2O", "01J4A8NT4S200", "01J4A8NT4S2GZZZZZZZZZZZZ", "01J4A8NT4S2L",
                       "01J4A8NT4S2U", "01J4A8NT4S2/", "01J4A8NT4S2.", "../etc/passwd",
                       "01J4A8NT4S2 1", "01J4A8NT4S2-1"};
  for (const char* s : bad) {
    CAPTURE(s);
    auto r = QueueId::parse(s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::parse);
  }
  CHECK_FALSE(QueueId::parse(std::string_view("01J4A8NT4S2\0", 12)));
  CHECK(QueueId::parse("01J4A8NT4S2FZZZZZZZZZZZZ"));  // the largest 64-bit inode
  CHECK(QueueId::parse("01J4A8NT4S20"));               // inode 0 is canonical "0"
}

TEST_CASE("queue IDs sort as their arrival times", "[queue][queue_id]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    QueueId a(rng() >> 9, rng() >> (rng() % 64)), b(rng() >> 9, rng() >> (rng() % 64));
    if (a.micros() == b.micros()) continue;
    CHECK((a.str() < b.str()) == (a.micros() < b.micros()));
    CHECK((a < b) == (a.micros() < b.micros()));
  }
}

TEST_CASE("make_queue_id never repeats and increases over many calls", "[queue][queue_id]") {
  std::vector<QueueId> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(make_queue_id(12345));
  std::set<std::string> names;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    names.insert(ids[i].str());
    if (i > 0) CHECK(ids[i - 1].str() < ids[i].str());
  }
  CHECK(names.size() == ids.size());
}

TEST_CASE("queue IDs travel as IPC strings", "[queue][queue_id]") {
  QueueId id(1763805600123456, 99);
  CHECK(to_ipc_string(id) == id.str());
  auto back = from_ipc_string(to_ipc_string(id));
  REQUIRE(back);
  CHECK(*back == id);
  CHECK_FALSE(from_ipc_string("not an id"));
}
