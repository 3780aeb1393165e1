// Host addresses from the system's name service (getaddrinfo).
#include "lib/dns/native.h"

#include <catch2/catch.hpp>

using namespace posthorn;

TEST_CASE("native lookups read the system's name service", "[dns][native]") {
  dns::Answer a = dns::native_lookup("localhost", dns::RrType::a);
  REQUIRE(a.ok());
  CHECK(a.addresses[0].text == "127.0.0.1");
  CHECK(a.addresses[0].family() == AF_INET);
  CHECK(dns::native_lookup("no-such-host.invalid", dns::RrType::a).status != dns::Status::found);
  CHECK(dns::native_lookup("bad..name", dns::RrType::a).status == dns::Status::bad_name);
  CHECK(dns::native_lookup("localhost", dns::RrType::mx).status == dns::Status::bad_name);
}
