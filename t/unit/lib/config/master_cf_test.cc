#include "lib/config/master_cf.h"

#include <catch2/catch.hpp>

using namespace posthorn::config;

namespace {
Service one(const std::string& text) {
  MasterCf cf = parse_master_cf(text, "master.cf");
  INFO(text);
  for (const auto& e : cf.errors) INFO(e.text());
  REQUIRE(cf.errors.empty());
  REQUIRE(cf.services.size() == 1);
  return cf.services[0];
}
}  // namespace

TEST_CASE("master.cf: columns and their defaults", "[config][master]") {
  Service s = one("smtp inet n - n - - smtpd -v");
  CHECK(s.name == "smtp");
  CHECK(s.type == ServiceType::inet);
  CHECK(s.key() == "smtp/inet");
  CHECK_FALSE(s.is_private);
  CHECK(s.unprivileged);
  CHECK_FALSE(s.chroot);
  CHECK(s.wakeup == 0);
  CHECK_FALSE(s.maxproc);
  CHECK(s.command == "smtpd");
  CHECK(s.args == std::vector<std::string>{"-v"});
  CHECK(s.host.empty());
  CHECK(s.port == 25);
  CHECK(s.line == 1);

  Service q = one("qmgr unix - n y 300? 1 qmgr");
  CHECK(q.type == ServiceType::unix_stream);
  CHECK(q.is_private);
  CHECK_FALSE(q.unprivileged);
  CHECK(q.chroot);
  CHECK(q.wakeup == 300);
  CHECK(q.wakeup_when_used);
  CHECK(q.maxproc == 1u);

  CHECK(one("x unix-dgram - - - - 0 p").type == ServiceType::unix_dgram);
  CHECK(one("x fifo - - - - - p").type == ServiceType::fifo);
  CHECK(one("x pass - - - - - p").type == ServiceType::pass);
}

TEST_CASE("master.cf: inet service names", "[config][master]") {
  struct Case { const char* name; const char* host; unsigned port; };
  const Case cases[] = {
      {"25", "", 25}, {"smtp", "", 25}, {"submission", "", 587}, {"submissions", "", 465},
      {"smtps", "", 465}, {"pop3", "", 110}, {"pop3s", "", 995}, {"imap", "", 143},
      {"imaps", "", 993}, {"127.0.0.1:2525", "127.0.0.1", 2525}, {"*:2525", "", 2525},
      {"[::1]:2525", "::1", 2525}, {"localhost:smtp", "localhost", 25},
      {"[2001:db8::1]:65535", "2001:db8::1", 65535},
  };
  for (const Case& c : cases) {
    Service s = one(std::string(c.name) + " inet n - n - - smtpd");
    CHECK(s.host == c.host);
    CHECK(s.port == c.port);
  }
}

TEST_CASE("master.cf: -o overrides, braces and continuation lines", "[config][master]") {
  Service s = one(
      "submission inet n - n - - smtpd\n"
      "  -o syslog_name=posthorn/submission\n"
      "  -osmtpd_tls_security_level=encrypt\n"
      "# a comment between continuation lines\n"
      "  -o { smtpd_banner = $myhostname says hello }\n"
      "  -o smtpd_client_restrictions=\n"
      "  { an argument with spaces } -o {x=inline:{ a=b, c=d }}\n");
  REQUIRE(s.overrides.size() == 5);
  CHECK(s.overrides[0].name == "syslog_name");
  CHECK(s.overrides[0].value == "posthorn/submission");
  CHECK(s.overrides[1].name == "smtpd_tls_security_level");
  CHECK(s.overrides[2].value == "$myhostname says hello");
  CHECK(s.overrides[3].value == "");
  CHECK(s.overrides[4].name == "x");
  CHECK(s.overrides[4].value == "inline:{ a=b, c=d }");
  CHECK(s.args == std::vector<std::string>{"an argument with spaces"});
  CHECK(s.line == 1);
  CHECK(s.overrides[0].line == 1);
}

TEST_CASE("master.cf: bad entries are errors with file and line", "[config][master]") {
  struct Case { const char* text; const char* error; };
  const Case cases[] = {
      {"smtp inet n - n - -", "master.cf:1: expected at least 8 columns (service type private unpriv chroot wakeup maxproc command), found 7"},
      {"smtp tcp n - n - - smtpd", "master.cf:1: \"tcp\" is not a service type (inet, unix, unix-dgram, fifo, pass)"},
      {"smtp inet x - n - - smtpd", "master.cf:1: private: \"x\" is not y, n or -"},
      {"smtp inet n yes n - - smtpd", "master.cf:1: unpriv: \"yes\" is not y, n or -"},
      {"smtp inet n - N - - smtpd", "master.cf:1: chroot: \"N\" is not y, n or -"},
      {"smtp inet y - n - - smtpd", "master.cf:1: smtp/inet: an inet service cannot be private"},
      {"smtp inet n - n 1m - smtpd", "master.cf:1: wakeup: \"1m\" is not a number of seconds or -"},
      {"smtp inet n - n -? - smtpd", "master.cf:1: wakeup: \"-?\" is not a number of seconds or -"},
      {"smtp inet n - n - x smtpd", "master.cf:1: maxproc: \"x\" is not a number or -"},
      {"smtp inet n - n - -1 smtpd", "master.cf:1: maxproc: \"-1\" is not a number or -"},
      {"smtpx inet n - n - - smtpd", "master.cf:1: smtpx: \"smtpx\" is not a port number or known service name"},
      {"0 inet n - n - - smtpd", "master.cf:1: 0: \"0\" is not a port number or known service name"},
      {"65536 inet n - n - - smtpd", "master.cf:1: 65536: \"65536\" is not a port number or known service name"},
      {"::1:25 inet n - n - - smtpd", "master.cf:1: ::1:25: an IPv6 address needs brackets: [address]:port"},
      {"[::1 inet n - n - - smtpd", "master.cf:1: [::1: expected [address]:port"},
      {"[::1]25 inet n - n - - smtpd", "master.cf:1: [::1]25: expected [address]:port"},
      {":25 inet n - n - - smtpd", "master.cf:1: :25: empty host before \":\""},
      {"a/b unix - - n - - x", "master.cf:1: a/b: a unix, fifo or pass service name is a plain name (letters, digits, . _ -)"},
      {"a{b} unix - - n - - x", "master.cf:1: a{b}: a unix, fifo or pass service name is a plain name (letters, digits, . _ -)"},
      {"{a b} unix - - n - - x", "master.cf:1: \"a b\": a service name cannot contain white space"},
      {"{a b:25} inet n - n - - x", "master.cf:1: \"a b:25\": a service name cannot contain white space"},
      {"smtp inet n - n - - smtpd -o", "master.cf:1: smtp/inet: -o without name=value"},
      {"smtp inet n - n - - smtpd -o novalue", "master.cf:1: smtp/inet: -o \"novalue\": missing \"=\""},
      {"smtp inet n - n - - smtpd -o a-b=c", "master.cf:1: smtp/inet: -o: \"a-b\" is not a parameter name"},
      {"smtp inet n - n - - smtpd -o {a=b", "master.cf:1: unbalanced \"{\" or \"}\""},
      {"smtp inet n - n - - smtpd a}", "master.cf:1: unbalanced \"{\" or \"}\""},
      {"  -o a=b", "master.cf:1: continuation line without a service before it"},
      {"smtp inet n - n - - smtpd\x7f", "master.cf:1: control character \\177 in the line"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    MasterCf cf = parse_master_cf(c.text, "master.cf");
    REQUIRE(cf.errors.size() >= 1);
    CHECK(cf.errors[0].text() == c.error);
    CHECK(cf.services.empty());
  }
}

TEST_CASE("master.cf: duplicates and every error in one run", "[config][master]") {
  MasterCf cf = parse_master_cf(
      "smtp inet n - n - - smtpd\n"
      "25 inet n - n - - smtpd\n"
      "127.0.0.1:25 inet n - n - - smtpd\n"
      "smtp unix - - n - - smtp\n"
      "smtp unix - - n - - smtp\n"
      "bad\n"
      "qmgr unix n - n x 1 qmgr\n",
      "/etc/posthorn/master.cf");
  REQUIRE(cf.errors.size() == 4);
  CHECK(cf.errors[0].text() == "/etc/posthorn/master.cf:2: 25/inet: duplicate of the entry at line 1");
  CHECK(cf.errors[1].text() == "/etc/posthorn/master.cf:5: smtp/unix: duplicate of the entry at line 4");
  CHECK(cf.errors[2].line == 6);
  CHECK(cf.errors[3].line == 7);
  REQUIRE(cf.services.size() == 3);
  CHECK(cf.services[1].host == "127.0.0.1");
}

TEST_CASE("master.cf: format_service re-parses to the same entry", "[config][master]") {
  const char* entries[] = {
      "smtp inet n - n - - smtpd",
      "submission inet n - n - 10 smtpd -o syslog_name=posthorn/submission -v -o { smtpd_banner = a b } -o x=",
      "qmgr unix n - n 300? 1 qmgr { arg one } two {-o} {-ox=y}",
      "[::1]:2525 inet n - y 0 0 smtpd -o v=inline:{a=b}",
  };
  for (const char* e : entries) {
    Service a = one(e);
    std::string text = format_service(a);
    INFO(text);
    Service b = one(text);
    CHECK(b.key() == a.key());
    CHECK(b.columns == a.columns);
    CHECK(b.command == a.command);
    CHECK(b.args == a.args);
    REQUIRE(b.overrides.size() == a.overrides.size());
    for (std::size_t i = 0; i < a.overrides.size(); ++i) {
      CHECK(b.overrides[i].name == a.overrides[i].name);
      CHECK(b.overrides[i].value == a.overrides[i].value);
    }
  }
  CHECK(format_service(one("smtp inet n - n - - smtpd")) ==
        "smtp       inet  n       -       n       -       -       smtpd");
}

TEST_CASE("port numbers and names", "[config][master]") {
  CHECK(port_number("1") == 1);
  CHECK(port_number("submission") == 587);
  CHECK(port_number("") == 0);
  CHECK(port_number("SMTP") == 0);
  CHECK(port_number("99999999999999999999999") == 0);
}
