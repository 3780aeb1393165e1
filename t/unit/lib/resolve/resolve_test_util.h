// Helpers shared by the lib/resolve unit tests: a Resolver from main.cf
// text, and one-line views of what it answers.
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/config/config.h"
#include "lib/resolve/resolve.h"
#include "t/unit/support/temp_dir.h"

namespace posthorn::resolve::test {

using posthorn::test::TempDir;

// main.cf text -> Config, with myhostname mx.example.org (so mydomain is
// example.org and mydestination "mx.example.org, localhost.example.org,
// localhost").
inline config::Config config_of(const std::string& main_cf) {
  config::Sources src;
  src.main_text = main_cf;
  src.hostname = "mx.example.org";
  src.config_dir = "/etc/test";
  config::Parsed p = config::Config::parse(src);
  for (const auto& e : p.errors) INFO(e.text());
  REQUIRE(p.errors.empty());
  return p.config;
}

inline Resolver resolver_of(const std::string& main_cf) {
  auto r = Resolver::from_config(config_of(main_cf));
  if (!r) FAIL(r.error().detail);
  return std::move(*r);
}

// "rcpt transport:nexthop class; ..." or "FAIL 4.3.0 text".
inline std::string show(const Resolution& r) {
  if (r.failed) {
    CHECK(r.destinations.empty());
    CHECK(r.temporary == (r.dsn[0] == '4'));
    return "FAIL " + r.dsn + " " + r.text;
  }
  CHECK_FALSE(r.destinations.empty());
  std::string out;
  for (const Destination& d : r.destinations) {
    if (!out.empty()) out += "; ";
    out += d.recipient + " " + d.transport + ":" + d.nexthop + " " + std::string(class_name(d.cls));
  }
  return out;
}

inline std::string show(const Resolver& r, std::string_view address) {
  return show(r.resolve(address));
}

// The final recipients only: "a@x, b@y".
inline std::string recipients(const Resolver& r, std::string_view address) {
  Resolution res = r.resolve(address);
  if (res.failed) return "FAIL " + res.dsn + " " + res.text;
  std::string out;
  for (const Destination& d : res.destinations) out += (out.empty() ? "" : ", ") + d.recipient;
  return out;
}

}  // namespace posthorn::resolve::test
