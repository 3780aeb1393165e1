#include "qmgr/jobs.h"

#include <catch2/catch.hpp>

using namespace posthorn;
using namespace posthorn::qmgr;

namespace {

std::function<unsigned(std::string_view)> limit_of(unsigned smtp, unsigned local = 0) {
  return [=](std::string_view t) { return t == "smtp" ? smtp : local; };
}

deliver::Rcpt rcpt(std::uint32_t index, std::string address) {
  deliver::Rcpt r;
  r.index = index;
  r.address = std::move(address);
  return r;
}

deliver::RcptResult result(std::uint32_t index, std::string status) {
  deliver::RcptResult r;
  r.index = index;
  r.status = std::move(status);
  return r;
}

}  // namespace

TEST_CASE("deliveries group by transport and next hop, in order of first appearance", "[qmgr][jobs]") {
  std::vector<Routed> routed = {
      {"smtp", "b.example", 0}, {"local", "host", 1}, {"smtp", "a.example", 2},
      {"smtp", "b.example", 3}, {"local", "host", 4}, {"smtp", "B.example", 5},
  };
  auto jobs = group_jobs(routed, limit_of(0));
  REQUIRE(jobs.size() == 4);
  CHECK(jobs[0] == JobPlan{"smtp", "b.example", {0, 3}});
  CHECK(jobs[1] == JobPlan{"local", "host", {1, 4}});
  CHECK(jobs[2] == JobPlan{"smtp", "a.example", {2}});
  CHECK(jobs[3] == JobPlan{"smtp", "B.example", {5}});  // next hops are compared as given
}

TEST_CASE("a job holds at most the transport's recipient limit", "[qmgr][jobs]") {
  std::vector<Routed> routed;
  for (std::uint32_t i = 0; i < 7; ++i) routed.push_back({"smtp", "x.example", i});
  routed.push_back({"local", "host", 7});
  auto jobs = group_jobs(routed, limit_of(3, 1));
  REQUIRE(jobs.size() == 4);
  CHECK(jobs[0].units == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(jobs[1].units == std::vector<std::uint32_t>{3, 4, 5});
  CHECK(jobs[2].units == std::vector<std::uint32_t>{6});
  CHECK(jobs[3] == JobPlan{"local", "host", {7}});
  CHECK(group_jobs({}, limit_of(3)).empty());
}

TEST_CASE("answers map back to deliveries by index, duplicates in order", "[qmgr][jobs]") {
  std::vector<deliver::Rcpt> sent = {rcpt(0, "a@x"), rcpt(2, "b@x"), rcpt(2, "c@x"), rcpt(5, "d@x")};
  SECTION("in request order") {
    std::vector<deliver::RcptResult> res = {result(0, "sent"), result(2, "deferred"), result(2, "sent"),
                                            result(5, "bounced")};
    auto m = match_results(sent, res);
    REQUIRE(m.size() == 4);
    CHECK(m[0] == &res[0]);
    CHECK(m[1] == &res[1]);
    CHECK(m[2] == &res[2]);
    CHECK(m[3] == &res[3]);
  }
  SECTION("shuffled, missing and unknown entries") {
    std::vector<deliver::RcptResult> res = {result(5, "sent"), result(9, "sent"), result(2, "bounced")};
    auto m = match_results(sent, res);
    CHECK(m[0] == nullptr);
    CHECK(m[1] == &res[2]);  // the first delivery with index 2
    CHECK(m[2] == nullptr);
    CHECK(m[3] == &res[0]);
  }
  SECTION("more answers than deliveries") {
    std::vector<deliver::RcptResult> res = {result(0, "sent"), result(0, "bounced")};
    auto m = match_results(sent, res);
    CHECK(m[0] == &res[0]);
  }
}
