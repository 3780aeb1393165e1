// t/unit/lib/dns/test_zone.h - the zone data the resolver tests ask about.
#pragma once

#include <string>
#include <vector>

namespace posthorn::dns::test {

inline std::vector<std::string> test_zone() {
  return {
      "example.test. 300 IN MX 20 mx2.example.test.",
      "example.test. 300 IN MX 10 mx1.example.test.",
      "example.test. 300 IN MX 20 mx3.example.test.",
      "mx1.example.test. 300 IN A 192.0.2.1",
      "mx1.example.test. 300 IN AAAA 2001:db8::1",
      "implicit.test. 300 IN A 192.0.2.10",
      "implicit.test. 300 IN A 192.0.2.11",
      "implicit.test. 300 IN AAAA 2001:db8::10",
      "null.test. 300 IN MX 0 .",
      "alias.test. 300 IN CNAME middle.test.",
      "middle.test. 120 IN CNAME final.test.",
      "final.test. 300 IN A 192.0.2.50",
      "final.test. 300 IN MX 10 mx1.example.test.",
      "loop1.test. 300 IN CNAME loop2.test.",
      "loop2.test. 300 IN CNAME loop1.test.",
      "spf.test. 300 IN TXT \"v=spf1 \" \"ip4:192.0.2.0/24\" \" -all\"",
      "spf.test. 300 IN TXT \"unrelated text\"",
      "1.2.0.192.in-addr.arpa. 300 IN PTR mx1.example.test.",
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN PTR "
      "mx1.example.test.",
      "_25._tcp.mx1.example.test. 300 IN TLSA 3 1 1 "
      "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1",
      "_25._tcp.mx1.example.test. 300 IN TLSA 2 0 2 00ff",
      "servfail.test. 300 IN A 192.0.2.98",
      "silent.test. 300 IN A 192.0.2.97",
      "spoof.test. 300 IN A 192.0.2.99",
      "truncated.test. 300 IN MX 10 mx1.example.test.",
      "signed.test. 300 IN A 192.0.2.100",
      "big.test. 300 IN A 192.0.2.101",
  };
}

}  // namespace posthorn::dns::test
