#include "lib/config/value.h"

#include <catch2/catch.hpp>

using namespace posthorn::config;

namespace {
const Param& param(std::string_view name) {
  const Param* p = find_param(name);
  REQUIRE(p != nullptr);
  return *p;
}
}  // namespace

TEST_CASE("booleans are yes or no in any case", "[config][value]") {
  bool b = false;
  CHECK((parse_bool("yes", b) && b));
  CHECK((parse_bool("NO", b) && !b));
  CHECK((parse_bool("Yes", b) && b));
  for (const char* bad : {"", "y", "true", "1", "yes ", "on"}) CHECK_FALSE(parse_bool(bad, b));
}

TEST_CASE("times take units s m h d w and default to the unit of the default", "[config][value]") {
  struct Case { const char* in; char unit; bool ok; long long secs; };
  const Case cases[] = {
      {"300s", 's', true, 300}, {"5m", 's', true, 300}, {"2h", 's', true, 7200},
      {"5d", 's', true, 432000}, {"1w", 's', true, 604800}, {"10", 's', true, 10},
      {"10", 'd', true, 864000}, {"0", 's', true, 0}, {"5x", 's', false, 0},
      {"", 's', false, 0}, {"s", 's', false, 0}, {"-1s", 's', false, 0}, {"1.5h", 's', false, 0},
      {" 5s", 's', false, 0}, {"5 s", 's', false, 0}, {"5S", 's', false, 0},
      {"9223372036854775807w", 's', false, 0}, {"9223372036854775807s", 's', true, 9223372036854775807LL},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    long long v = -1;
    CHECK(parse_time(c.in, c.unit, v) == c.ok);
    if (c.ok) CHECK(v == c.secs);
  }
  CHECK(default_time_unit(param("maximal_queue_lifetime")) == 'd');
  CHECK(default_time_unit(param("smtpd_timeout")) == 's');
  CHECK(default_time_unit(param("imap_timeout")) == 'm');
}

TEST_CASE("lists split on commas and white space, braces group", "[config][value]") {
  using V = std::vector<std::string>;
  CHECK(split_list("a, b c,,d\te") == V{"a", "b", "c", "d", "e"});
  CHECK(split_list("").empty());
  CHECK(split_list(" , ,").empty());
  CHECK(split_list("inline:{a=b, c=d}, hash:/x") == V{"inline:{a=b, c=d}", "hash:/x"});
  CHECK(split_list("check_client_access hash:/etc/access") == V{"check_client_access", "hash:/etc/access"});
  CHECK(split_list("{a {b c}} d") == V{"{a {b c}}", "d"});
  CHECK(split_list("x{ y") == V{"x{ y"});  // unbalanced: the rest stays together
  CHECK(braces_balanced("{a{b}}"));
  CHECK_FALSE(braces_balanced("}{"));
  CHECK_FALSE(braces_balanced("{"));
}

TEST_CASE("check_value explains what is wrong", "[config][value]") {
  struct Case { const char* param; const char* value; const char* why; };
  const Case cases[] = {
      {"smtpd_timeout", "5x", "\"5x\" is not a time"},
      {"smtpd_timeout", "0s", "\"0s\" is below the minimum 1s"},
      {"smtpd_timeout", "10m", ""},
      {"smtpd_recipient_limit", "0", "\"0\" is below the minimum 1"},
      {"smtpd_recipient_limit", "ten", "\"ten\" is not a number"},
      {"smtpd_recipient_limit", "", "\"\" is not a number"},
      {"smtpd_tls_loglevel", "5", "\"5\" is above the maximum 4"},
      {"message_size_limit", "10M", "\"10M\" is not a size in bytes"},
      {"message_size_limit", "0", ""},
      {"disable_vrfy_command", "true", "\"true\" is not yes or no"},
      {"maillog_format", "xml", "\"xml\" is not one of: text, json"},
      {"maillog_format", "json", ""},
      {"smtpd_tls_security_level", "", ""},
      {"smtpd_tls_security_level", "verify", "\"verify\" is not one of: (empty), none, may, encrypt"},
      {"inet_protocols", "ipv4, ipv6", ""},
      {"inet_protocols", "ipv4, ipx", "\"ipx\" is not one of: all, ipv4, ipv6"},
      {"alias_maps", "hash:/etc/aliases, lmdb:/x", ""},
      {"alias_maps", "", ""},
      {"alias_maps", "/etc/aliases", "\"/etc/aliases\" is not a type:name lookup table"},
      {"alias_maps", "hash:", "\"hash:\" is not a type:name lookup table"},
      {"alias_maps", "HASH:/x", "\"HASH:/x\" is not a type:name lookup table"},
      {"virtual_alias_maps", "inline:{ a@x=b@y, c@x=d@y }", ""},
      {"virtual_alias_maps", "inline:{ a=b", "\"inline:{ a=b\" has an unbalanced \"{\" or \"}\""},
      {"myhostname", "any text at all", ""},
      {"smtpd_banner", "bell\a", ""},
  };
  for (const Case& c : cases) {
    INFO(c.param << " = " << c.value);
    CHECK(check_value(param(c.param), c.value) == c.why);
  }
}

TEST_CASE("parameter names are letters, digits and underscores", "[config][value]") {
  CHECK(is_param_name("smtpd_tls_CAfile"));
  CHECK(is_param_name("2bounce_notice_recipient"));
  for (const char* bad : {"", "a-b", "a b", "a.b", "ä", "a="}) CHECK_FALSE(is_param_name(bad));
}
