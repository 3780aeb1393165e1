#include "lib/ipc/codec.h"

#include <catch2/catch.hpp>
#include <cstdint>

using namespace posthorn;
using namespace posthorn::ipc;

namespace test {
// A user type carried through the conversion hooks, as QueueId will be.
struct Tag {
  std::string v;
  bool operator==(const Tag&) const = default;
};
std::string to_ipc_string(const Tag& t) { return "tag:" + t.v; }
Result<void> from_ipc_string(std::string_view s, Tag& out) {
  if (s.substr(0, 4) != "tag:") return make_error(Errc::protocol, "not a tag");
  out.v = std::string(s.substr(4));
  return {};
}
}  // namespace test

namespace {
struct Recipient {
  std::string address, orig_rcpt;
  unsigned notify = 0;
  std::optional<std::string> dsn_status;
  void fields(auto& f) {
    f("address", address);
    f("orig_rcpt", orig_rcpt);
    f("notify", notify);
    f("dsn_status", dsn_status);
  }
  bool operator==(const Recipient&) const = default;
};

struct Everything {
  static constexpr std::string_view kName = "everything";
  std::string s;
  bool b = false;
  std::int8_t i8 = 0;
  std::uint16_t u16 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  std::vector<std::string> list;
  std::vector<std::int32_t> nums;
  std::optional<int> maybe;
  Recipient one;
  std::vector<Recipient> rcpts;
  test::Tag tag;
  void fields(auto& f) {
    f("s", s); f("b", b); f("i8", i8); f("u16", u16); f("i64", i64); f("u64", u64);
    f("list", list); f("num", nums); f("maybe", maybe); f("one", one); f("rcpt", rcpts);
    f("tag", tag);
  }
  bool operator==(const Everything&) const = default;
};

struct Small {
  static constexpr std::string_view kName = "small";
  int n = 0;
  void fields(auto& f) { f("n", n); }
};
struct StrictSmall {
  static constexpr std::string_view kName = "small";
  static constexpr bool kStrict = true;
  int n = 0;
  void fields(auto& f) { f("n", n); }
};

struct U8 {
  static constexpr std::string_view kName = "small";
  std::uint8_t n = 0;
  void fields(auto& f) { f("n", n); }
};
struct U64 {
  static constexpr std::string_view kName = "small";
  std::uint64_t n = 0;
  void fields(auto& f) { f("n", n); }
};

Frame with(std::vector<Attr> attrs) { return Frame{Kind::request, 1, "small", std::move(attrs)}; }
}  // namespace

TEST_CASE("every supported type survives a round trip through bytes", "[ipc][codec]") {
  Everything e;
  e.s = std::string("bin\0ary\r\n", 9);
  e.b = true;
  e.i8 = -128;
  e.u16 = 65535;
  e.i64 = INT64_MIN;
  e.u64 = UINT64_MAX;
  e.list = {"a", "", "c"};
  e.nums = {-1, 0, 2147483647};
  e.maybe = -7;
  e.one = {"a@b", "rfc822;a@b", 3, "5.1.1"};
  e.rcpts = {{"x@y", "", 0, std::nullopt}, {"z@w", "o", 1, "2.0.0"}};
  e.tag = {"4F2A1B"};
  std::string wire = serialize(encode(e, Kind::request, 42));
  FrameReader r;
  r.feed(wire);
  auto f = r.next();
  REQUIRE(f);
  REQUIRE(*f);
  CHECK((*f)->id == 42);
  auto back = decode<Everything>(**f);
  REQUIRE(back);
  CHECK(*back == e);

  Everything empty;  // empty lists and nullopt are absent attributes
  auto f2 = encode(empty);
  auto back2 = decode<Everything>(f2);
  REQUIRE(back2);
  CHECK(*back2 == empty);
}

TEST_CASE("integers are range-checked and canonical", "[ipc][codec]") {
  struct Case { const char* text; bool ok; };
  for (auto [text, ok] : {Case{"0", true}, {"2147483647", true}, {"-2147483648", true},
                          {"2147483648", false}, {"-2147483649", false}, {"-0", false},
                          {"+1", false}, {"01", false}, {"", false}, {" 1", false},
                          {"1x", false}, {"99999999999999999999999", false}}) {
    auto m = decode<Small>(with({{"n", text}}));
    INFO(text);
    CHECK(m.has_value() == ok);
    if (!ok) CHECK(m.error().code == Errc::protocol);
  }
  CHECK(decode<U8>(with({{"n", "255"}})));
  CHECK_FALSE(decode<U8>(with({{"n", "256"}})));
  CHECK_FALSE(decode<U8>(with({{"n", "-1"}})));
  CHECK(decode<U64>(with({{"n", "18446744073709551615"}}))->n == UINT64_MAX);
  CHECK_FALSE(decode<U64>(with({{"n", "18446744073709551616"}})));
}

TEST_CASE("unknown attributes are skipped unless the message is strict", "[ipc][codec]") {
  Frame f = with({{"extra", "x"}, {"n", "5"}});
  auto lax = decode<Small>(f);
  REQUIRE(lax);
  CHECK(lax->n == 5);
  auto strict = decode<StrictSmall>(f);
  REQUIRE_FALSE(strict);
  CHECK(strict.error().code == Errc::protocol);
  CHECK(decode<StrictSmall>(with({{"n", "5"}})));
}

TEST_CASE("missing, repeated and malformed attributes are errors", "[ipc][codec]") {
  CHECK_FALSE(decode<Small>(with({})));
  CHECK_FALSE(decode<Small>(with({{"n", "1"}, {"n", "2"}})));
  Frame other = with({{"n", "1"}});
  other.name = "other";
  CHECK_FALSE(decode<Small>(other));
  Everything e;
  Frame f = encode(e);
  for (Attr& a : f.attrs)
    if (a.name == "b") a.value = "yes";
  CHECK_FALSE(decode<Everything>(f));
  f = encode(e);
  for (Attr& a : f.attrs)
    if (a.name == "one") a.value = "\x05junk";  // not an attribute list
  CHECK_FALSE(decode<Everything>(f));
  f = encode(e);
  for (Attr& a : f.attrs)
    if (a.name == "tag") a.value = "nope";
  auto r = decode<Everything>(f);
  REQUIRE_FALSE(r);
  CHECK(r.error().detail.find("tag") != std::string::npos);
}

TEST_CASE("any split of a stream of frames decodes the same", "[ipc][frame]") {
  Everything e;
  e.s = "hello";
  e.rcpts = {{"a@b", "", 1, "2.0.0"}};
  std::string wire = serialize(hello_frame({"test", 1})) + serialize(encode(e, Kind::request, 7));
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameReader r;
    std::vector<Frame> got;
    for (std::string_view part : {std::string_view(wire).substr(0, cut), std::string_view(wire).substr(cut)}) {
      r.feed(part);
      while (auto f = r.next()) {
        REQUIRE(f);
        if (!*f) break;
        got.push_back(std::move(**f));
      }
    }
    REQUIRE(got.size() == 2);
    CHECK(check_hello(got[0], {"test", 1}));
    auto m = decode<Everything>(got[1]);
    REQUIRE(m);
    CHECK(*m == e);
    CHECK(r.buffered() == 0);
  }
}

TEST_CASE("truncated and oversized frames are refused", "[ipc][frame]") {
  std::string wire = serialize(encode(Small{3}, Kind::request, 1));
  for (std::size_t len = 0; len < wire.size(); ++len) {
    FrameReader r;
    r.feed(wire.substr(0, len));
    auto f = r.next();
    REQUIRE(f);
    CHECK_FALSE(*f);  // incomplete, not an error yet
  }
  // A body truncated inside a correct length: the inner lengths disagree.
  std::string body = wire.substr(4, wire.size() - 5);
  CHECK_FALSE(parse_body(body));
  CHECK(parse_body(wire.substr(4)));

  FrameReader max;
  max.feed(std::string("\xff\xff\xff\xff", 4));  // 2^32-1, refused before any body byte
  auto f = max.next();
  REQUIRE_FALSE(f);
  CHECK(f.error().code == Errc::too_large);
  CHECK_FALSE(max.next());  // the error sticks

  FrameReader small(16);
  small.feed(serialize(encode(Everything{})));
  auto s = small.next();
  REQUIRE_FALSE(s);
  CHECK(s.error().code == Errc::too_large);

  FrameReader tiny;
  tiny.feed(std::string("\0\0\0\2ab", 6));
  REQUIRE_FALSE(tiny.next());
}

TEST_CASE("malformed bodies are protocol errors", "[ipc][frame]") {
  auto body = [](std::string s) { return parse_body(s); };
  std::string id(8, '\0');
  CHECK(body("\x02" + id + "\x01n"));
  CHECK_FALSE(body("\x09" + id + "\x01n"));              // unknown kind
  CHECK_FALSE(body("\x02" + id + "\x00"));               // empty name
  CHECK_FALSE(body("\x02" + id + "\x02n"));              // name longer than the frame
  CHECK_FALSE(body("\x02" + id + "\x01 "));              // bad name byte
  CHECK_FALSE(body("\x03" + id + "\x01n"));              // reply without id
  CHECK_FALSE(body("\x01" + std::string(7, '\0') + "\x01\x01n"));  // hello with id
  std::string ok = "\x02" + id + "\x01n";
  CHECK_FALSE(body(ok + "\x01" "a"));                    // attribute without value length
  CHECK_FALSE(body(ok + "\x01" "a" + std::string("\xff\xff\xff\xff", 4)));  // value past the end
  CHECK(body(ok + "\x01" "a" + std::string("\0\0\0\0", 4)));  // empty value is fine
}

TEST_CASE("hello mismatches are clear errors", "[ipc][frame]") {
  Protocol ours{"deliver", 1};
  CHECK(check_hello(hello_frame(ours), ours));
  auto v = check_hello(hello_frame({"deliver", 2}), ours);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == Errc::protocol);
  CHECK(v.error().detail.find("version \"2\"") != std::string::npos);
  auto n = check_hello(hello_frame({"auth", 1}), ours);
  REQUIRE_FALSE(n);
  CHECK(n.error().detail.find("\"auth\"") != std::string::npos);
  CHECK_FALSE(check_hello(encode(Small{1}), ours));
  Frame bad_format = hello_frame(ours);
  bad_format.attrs[0].value = "9";
  CHECK_FALSE(check_hello(bad_format, ours));
}

TEST_CASE("error frames carry a code and a reason", "[ipc][frame]") {
  Error e = error_from_frame(error_frame(5, "x", Errc::busy, "try later"));
  CHECK(e.code == Errc::busy);
  CHECK(e.detail.find("try later") != std::string::npos);
  CHECK(error_from_frame(error_frame(5, "x", Errc::busy, "t")).code == Errc::busy);
  CHECK(errc_from_name("no-such-code") == Errc::protocol);
}
