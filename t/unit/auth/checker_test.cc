// The auth service's decisions: auth/checker.h, with a fake clock.
#include "auth/checker.h"

#include <catch2/catch.hpp>

#include <chrono>

#include "lib/auth/password.h"
#include "lib/base/strings.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::auth;
using namespace std::chrono_literals;

namespace {

struct Tables {
  test::TempDir dir{"auth"};
  std::string first, second;
  Tables() {
    auto bob = make_hash(Scheme::sha512_crypt, "s3cret");
    auto eve = make_hash(Scheme::sha256_crypt, "eve-first");
    auto eve2 = make_hash(Scheme::sha256_crypt, "eve-second");
    REQUIRE(bob);
    REQUIRE(eve);
    REQUIRE(eve2);
    first = "texthash:" + dir.file("first", "bob " + *bob + "\neve " + *eve +
                                                "\nlocked !\nodd {MD4}x\nplain {PLAIN}pw\n");
    second = "texthash:" + dir.file("second", "eve " + *eve2 + "\ncarol " + *bob + "\n");
  }
  Checker open(bool allow_plain = false, std::size_t limit = 10) {
    auto c = Checker::open({first, second}, allow_plain, limit);
    REQUIRE(c);
    return std::move(*c);
  }
};

Check req(std::string login, std::string password, std::string client = "192.0.2.1") {
  return Check{std::move(login), std::move(password), "smtpd", std::move(client)};
}

}  // namespace

TEST_CASE("the first table that knows the login decides", "[auth][checker]") {
  Tables t;
  Checker c = t.open();
  const Clock::time_point now{};
  struct Case {
    std::string login, password;
    bool ok;
    std::string reason;
  };
  const Case cases[] = {
      {"bob", "s3cret", true, "ok"},
      {"BOB", "s3cret", true, "ok"},  // logins are found in lower case
      {"bob", "S3cret", false, "wrong password"},
      {"eve", "eve-first", true, "ok"},
      {"eve", "eve-second", false, "wrong password"},  // shadowed by the first table
      {"carol", "s3cret", true, "ok"},                 // only in the second
      {"nobody", "x", false, "unknown login"},
      {"locked", "x", false, "account locked"},
      {"odd", "x", false, "unusable password entry"},
      {"plain", "pw", false, "unusable password entry"},
      {"", "x", false, "malformed login or password"},
      {"b\tob", "x", false, "malformed login or password"},
  };
  for (const Case& k : cases) {
    INFO(k.login << " / " << k.password);
    Outcome o = c.check(req(k.login, k.password, "198.51.100." + k.login), now);
    CHECK(o.reply.ok == k.ok);
    CHECK_FALSE(o.reply.temporary);
    CHECK(o.failed == !k.ok);
    CHECK(o.reason == k.reason);
    if (k.ok) CHECK(o.reply.login == to_lower(k.login));
  }
}

TEST_CASE("an unusable entry is a warning naming the table, without the hash", "[auth][checker]") {
  Tables t;
  Checker c = t.open();
  Outcome o = c.check(req("odd", "x"), Clock::time_point{});
  CHECK(o.table_warning.find(t.first) == 0);
  CHECK(o.table_warning.find("{MD4}") != std::string::npos);  // the scheme name, no hash
  Checker plain_ok = t.open(true);
  CHECK(plain_ok.check(req("plain", "pw"), Clock::time_point{}).reply.ok);
}

TEST_CASE("failures per client: the limit refuses even the right password for an hour",
          "[auth][checker]") {
  Tables t;
  Checker c = t.open(false, 3);
  Clock::time_point now{};
  for (int i = 0; i < 3; ++i) CHECK_FALSE(c.check(req("bob", "wrong"), now + i * 1min).reply.ok);
  Outcome refused = c.check(req("bob", "s3cret"), now + 10min);
  CHECK_FALSE(refused.reply.ok);
  CHECK(refused.failed);
  CHECK(refused.reason == "too many failures from this client in the last hour");
  // Another client is not affected.
  CHECK(c.check(req("bob", "s3cret", "203.0.113.9"), now + 10min).reply.ok);
  // The first failure expires an hour after it happened, the others later.
  CHECK(c.check(req("bob", "s3cret"), now + 60min).reply.ok);
  CHECK_FALSE(c.check(req("bob", "wrong"), now + 60min + 1s).reply.ok);
  CHECK_FALSE(c.check(req("bob", "s3cret"), now + 60min + 2s).reply.ok);  // 3 in the hour again
  CHECK(c.check(req("bob", "s3cret"), now + 61min).reply.ok);  // the one at 1min expired
}

TEST_CASE("the failure count is bounded", "[auth][checker]") {
  FailureCount f(2);
  Clock::time_point now{};
  for (std::size_t i = 0; i < FailureCount::kMaxClients + 10; ++i)
    f.add("client" + std::to_string(i), now + std::chrono::milliseconds(i));
  CHECK(f.clients() == FailureCount::kMaxClients);
  f.add("client-last", now + 1h);
  f.add("client-last", now + 1h);
  CHECK(f.refused("client-last", now + 1h));
  CHECK_FALSE(f.refused("client0", now + 1h));  // the oldest were forgotten first
}

TEST_CASE("a missing table stops start-up with its name", "[auth][checker]") {
  auto c = Checker::open({"texthash:/nonexistent/passwd"}, false, 10);
  REQUIRE_FALSE(c);
  CHECK(c.error().detail.find("auth_password_maps: ") == 0);
  CHECK(c.error().detail.find("/nonexistent/passwd") != std::string::npos);
}

TEST_CASE("a changed table is reopened; a broken one keeps the old contents", "[auth][checker]") {
  Tables t;
  Checker c = t.open();
  CHECK_FALSE(c.check(req("dave", "pw1", "192.0.2.50"), Clock::time_point{}).reply.ok);
  auto dave = make_hash(Scheme::sha512_crypt, "pw1");
  REQUIRE(dave);
  t.dir.file("second", "dave " + *dave + "\n");
  REQUIRE(c.reopen_changed());
  CHECK(c.check(req("dave", "pw1", "192.0.2.51"), Clock::time_point{}).reply.ok);
  std::filesystem::remove(t.dir / "second");
  CHECK_FALSE(c.reopen_changed());
  CHECK(c.check(req("dave", "pw1", "192.0.2.52"), Clock::time_point{}).reply.ok);
}
