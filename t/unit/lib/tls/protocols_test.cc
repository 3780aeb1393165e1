#include "lib/tls/protocols.h"

#include <catch2/catch.hpp>

#include "lib/tls/owned.h"

using namespace posthorn;
using namespace posthorn::tls;

TEST_CASE("Postfix protocol lists become an OpenSSL range", "[tls][protocols]") {
  struct Row {
    const char* spec;
    int min, max;
    uint64_t holes;
  };
  const Row rows[] = {
      {">=TLSv1.2", TLS1_2_VERSION, TLS1_3_VERSION, 0},
      {">=tlsv1.3", TLS1_3_VERSION, TLS1_3_VERSION, 0},
      {"!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", TLS1_2_VERSION, TLS1_3_VERSION, 0},
      {"!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", TLS1_2_VERSION, TLS1_3_VERSION, 0},
      {"  !SSLv2 \t!SSLv3,,!TLSv1 ", TLS1_1_VERSION, TLS1_3_VERSION, 0},
      {"TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION, 0},
      {"TLSv1.2 TLSv1.3", TLS1_2_VERSION, TLS1_3_VERSION, 0},
      {">=TLSv1 <=TLSv1.2", TLS1_VERSION, TLS1_2_VERSION, 0},
      {">=TLSv1.2, !TLSv1.3", TLS1_2_VERSION, TLS1_2_VERSION, 0},
      {">=TLSv1 !TLSv1.1", TLS1_VERSION, TLS1_3_VERSION, SSL_OP_NO_TLSv1_1},
      {"TLSv1 TLSv1.3", TLS1_VERSION, TLS1_3_VERSION, SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2},
      {"", SSL3_VERSION, TLS1_3_VERSION, 0},
      {"SSLv2 SSLv3", SSL3_VERSION, SSL3_VERSION, 0},  // SSLv2 named but never on
  };
  for (const Row& r : rows) {
    INFO(r.spec);
    auto p = parse_protocols(r.spec);
    REQUIRE(p);
    CHECK(p->min_version == r.min);
    CHECK(p->max_version == r.max);
    CHECK(p->holes == r.holes);
  }
}

TEST_CASE("bad protocol lists are refused with the reason", "[tls][protocols]") {
  struct Row {
    const char* spec;
    const char* says;
  };
  const Row rows[] = {
      {"TLSv1.4", "unknown TLS protocol \"TLSv1.4\""},
      {">=TLSv9", "unknown TLS protocol \">=TLSv9\""},
      {"!!TLSv1", "unknown TLS protocol \"!!TLSv1\""},
      {"=>TLSv1.2", "unknown"},
      {">=", "unknown"},
      {"!", "unknown"},
      {"TLS1.2", "unknown"},
      {"TLSv1.2;TLSv1.3", "unknown"},
      {"TLSv1.\x01", "unknown TLS protocol \"TLSv1.\\001\""},
      {"SSLv2", "excludes every protocol"},
      {"!SSLv3 !TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", "excludes every protocol"},
      {">=TLSv1.3 <=TLSv1.2", "excludes every protocol"},
      {"TLSv1.2 !TLSv1.2", "excludes every protocol"},
  };
  for (const Row& r : rows) {
    INFO(r.spec);
    auto p = parse_protocols(r.spec);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == Errc::parse);
    CHECK_THAT(p.error().detail, Catch::Contains(r.says));
  }
}

TEST_CASE("a parsed range is applied to a context", "[tls][protocols]") {
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  auto p = parse_protocols(">=TLSv1 !TLSv1.1 <=TLSv1.2");
  REQUIRE(p);
  REQUIRE(apply_protocols(ctx.get(), *p));
  CHECK(SSL_CTX_get_min_proto_version(ctx.get()) == TLS1_VERSION);
  CHECK(SSL_CTX_get_max_proto_version(ctx.get()) == TLS1_2_VERSION);
  CHECK((SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_TLSv1_1) != 0);
  // A narrower range later clears the old hole.
  REQUIRE(apply_protocols(ctx.get(), *parse_protocols(">=TLSv1.2")));
  CHECK((SSL_CTX_get_options(ctx.get()) & SSL_OP_NO_TLSv1_1) == 0);
}

TEST_CASE("cipher grades map to Postfix's lists", "[tls][protocols]") {
  CHECK(*parse_cipher_grade("HIGH") == CipherGrade::high);
  CHECK(*parse_cipher_grade("medium") == CipherGrade::medium);
  CHECK(*parse_cipher_grade("null") == CipherGrade::null);
  for (const char* bad : {"", "low", "export", "high ", "mediums"}) {
    INFO(bad);
    auto g = parse_cipher_grade(bad);
    REQUIRE_FALSE(g);
    CHECK(g.error().code == Errc::parse);
  }
  CHECK(cipher_list(CipherGrade::high) == "aNULL:-aNULL:HIGH:@STRENGTH");
  CHECK(cipher_list(CipherGrade::medium, {"AES128-SHA", "RC4"}) ==
        "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!AES128-SHA:!RC4");
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  for (CipherGrade g : {CipherGrade::high, CipherGrade::medium})
    CHECK(SSL_CTX_set_cipher_list(ctx.get(), cipher_list(g).c_str()) == 1);
}

TEST_CASE("every version list applies, the open one too", "[tls][protocols]") {
  for (const char* spec : {"", ">=SSLv3", "SSLv3", ">=TLSv1.2", "TLSv1.3"}) {
    INFO(spec);
    SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    auto p = parse_protocols(spec);
    REQUIRE(p);
    CHECK(apply_protocols(ctx.get(), *p));
  }
}

TEST_CASE("protocol lists of random tokens and bytes never break the parser",
          "[tls][protocols][adversarial]") {
  const char* pieces[] = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "!", ">=",
                          "<=", ",", " ", ":", "\t", "x", "\xff", "\0", "=", "tlsv1.2"};
  uint32_t seed = 12345;  // a fixed LCG: the same inputs every run
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  for (int i = 0; i < 5000; ++i) {
    std::string spec;
    int n = static_cast<int>(next() % 8);
    for (int k = 0; k < n; ++k) {
      const char* piece = pieces[(next() >> 8) % std::size(pieces)];
      spec += piece[0] == '\0' ? std::string(1, '\0') : std::string(piece);
    }
    auto p = parse_protocols(spec);
    if (p) {
      CHECK(p->min_version >= SSL3_VERSION);
      CHECK(p->min_version <= p->max_version);
      CHECK(p->max_version <= TLS1_3_VERSION);
    } else {
      CHECK(p.error().code == Errc::parse);
      bool ascii = true;  // the detail goes to a log line
      for (unsigned char c : p.error().detail) ascii = ascii && c >= 0x20 && c < 0x7f;
      CHECK(ascii);
    }
  }
}
