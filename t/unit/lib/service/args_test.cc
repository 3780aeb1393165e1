// Tests for lib/service/args.cc: the command line between master and children.
#include <catch2/catch.hpp>

#include "lib/service/service.h"

using posthorn::Errc;
using posthorn::service::format_args;
using posthorn::service::parse_args;
using posthorn::service::ServiceArgs;

TEST_CASE("format_args and parse_args round-trip", "[service]") {
  ServiceArgs a;
  a.config_dir = "/tmp/inst";
  a.service_name = "127.0.0.1:2525";
  a.type = "inet";
  a.generation = 18446744073709551615ull;
  a.listen_fds = 2;
  a.unprivileged = true;
  a.chroot = true;
  a.verbose = 2;
  a.overrides = {{"syslog_name", "posthorn/submission"}, {"smtpd_banner", "a = b c"}};
  auto b = parse_args(format_args(a), "");
  REQUIRE(b);
  CHECK(b->config_dir == a.config_dir);
  CHECK(b->service_name == a.service_name);
  CHECK(b->type == a.type);
  CHECK(b->generation == a.generation);
  CHECK(b->listen_fds == 2);
  CHECK(b->unprivileged);
  CHECK(b->chroot);
  CHECK(b->verbose == 2);
  CHECK(b->overrides == a.overrides);
}

TEST_CASE("the program's own options and operands come after the skeleton's", "[service]") {
  auto a = parse_args({"-c", "/d", "-n", "echo", "-t", "unix", "-x", "crash", "op1", "--", "-y"},
                      "x:");
  REQUIRE(a);
  CHECK(a->program.value('x') == "crash");
  CHECK(a->program.operands == std::vector<std::string>{"op1", "-y"});
  CHECK_FALSE(a->unprivileged);
  CHECK(a->listen_fds == 0);
}

TEST_CASE("malformed command lines are refused", "[service]") {
  struct Case { std::vector<std::string> args; const char* spec; const char* error; };
  const Case cases[] = {
      {{"-q"}, "", "unknown option -q"},
      {{"-c"}, "", "option -c needs a value"},
      {{"-o", "novalue"}, "", "expected name=value"},
      {{"-o", "=x"}, "", "expected name=value"},
      {{"-g", "-1"}, "", "-g -1"},
      {{"-g", "18446744073709551616"}, "", "-g"},
      {{"-s", "65"}, "", "-s 65"},
      {{"-s", "x"}, "", "-s x"},
      {{"-x", "1"}, "", "unknown option -x"},
      {{}, "c:", "program option -c is the skeleton's"},
  };
  for (const auto& c : cases) {
    INFO(c.error);
    auto r = parse_args(c.args, c.spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
    CHECK(r.error().detail.find(c.error) != std::string::npos);
  }
}
