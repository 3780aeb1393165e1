#include "lib/config/config.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <filesystem>

#include <catch2/catch.hpp>

#include "lib/base/file.h"

using namespace posthorn::config;

namespace {

Parsed parse(const std::string& main, const std::string& master = "") {
  Sources src;
  src.main_text = main;
  src.master_text = master;
  src.hostname = "mx.example.org";
  src.config_dir = "/etc/test";
  return Config::parse(src);
}

Config good(const std::string& main, const std::string& master = "") {
  Parsed p = parse(main, master);
  for (const auto& e : p.errors) INFO(e.text());
  REQUIRE(p.errors.empty());
  return p.config;
}

std::vector<std::string> texts(const std::vector<Diagnostic>& d) {
  std::vector<std::string> out;
  for (const auto& x : d) out.push_back(x.text());
  return out;
}

// Runs f in a child; true when the child was killed by a signal (panic aborts).
template <class F>
bool aborts(F f) {
  std::cout.flush();
  std::fflush(nullptr);  // the child must not write our buffered output again
  pid_t pid = fork();
  if (pid == 0) {
    // Catch's own handler would report the abort from the child.
    std::signal(SIGABRT, SIG_DFL);
    if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout)) _exit(2);
    f();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

}  // namespace

TEST_CASE("expansion: the forms Postfix knows", "[config][expand]") {
  struct Case { const char* main; const char* expected; };
  const Case cases[] = {
      {"relayhost = $mydomain", "example.org"},
      {"relayhost = ${mydomain}", "example.org"},
      {"relayhost = $(mydomain)", "example.org"},
      {"relayhost = a$mydomain.b", "aexample.org.b"},
      {"relayhost = $$mydomain", "$mydomain"},
      {"relayhost = x${smtp_bind_address?set}y", "xy"},
      {"relayhost = x${smtp_bind_address:empty}y", "xemptyy"},
      {"smtp_bind_address = r\nrelayhost = x${smtp_bind_address?set $smtp_bind_address}y", "xset ry"},
      {"smtp_bind_address = r\nrelayhost = x${smtp_bind_address:empty}y", "xy"},
      {"relayhost = ${smtp_bind_address?{a}:{b}}", "b"},
      {"smtp_bind_address = r\nrelayhost = ${smtp_bind_address?{a}:{b}}", "a"},
      {"smtp_bind_address = r\nrelayhost = ${smtp_bind_address?{a}}", "a"},
      {"relayhost = ${smtp_bind_address?{a}:{${mail_name}}}", "Posthorn"},
      {"relayhost = ", ""},
  };
  for (const Case& c : cases) {
    INFO(c.main);
    CHECK(good(c.main).get("relayhost") == c.expected);
  }
}

TEST_CASE("expansion: loops, unknown names and bad references are errors", "[config][expand]") {
  struct Case { const char* main; const char* error; };
  const Case cases[] = {
      {"myhostname = $myhostname", "main.cf:1: myhostname: parameter expansion loop: myhostname -> myhostname"},
      {"myhostname = $myorigin", "main.cf:1: myhostname: parameter expansion loop: myhostname -> myorigin -> myhostname"},
      {"myhostname = $mydomain", "main.cf:1: myhostname: parameter expansion loop: myhostname -> mydomain -> myhostname"},
      {"mydomain = example.org\nmyhostname = $mydomain", ""},
      {"relayhost = ${relayhost?x}", "main.cf:1: relayhost: parameter expansion loop: relayhost -> relayhost"},
      {"relayhost = $nosuch", "main.cf:1: relayhost: $nosuch: unknown parameter"},
      {"relayhost = a $", "main.cf:1: relayhost: \"$\" at the end of the value"},
      {"relayhost = a $ b", "main.cf:1: relayhost: \"$\" is not followed by a parameter name"},
      {"relayhost = ${myhostname", "main.cf:1: relayhost: unbalanced \"{\" after \"$\""},
      {"relayhost = ${}", "main.cf:1: relayhost: \"${\" is not followed by a parameter name"},
      {"relayhost = ${myhostname!x}", "main.cf:1: relayhost: bad parameter reference \"${myhostname!x}\""},
      {"relayhost = $(myhostname?x)", "main.cf:1: relayhost: bad parameter reference \"$(myhostname?x)\""},
      {"relayhost = ${myhostname?{a}x}", "main.cf:1: relayhost: bad text after ${myhostname?{...}}"},
  };
  for (const Case& c : cases) {
    INFO(c.main);
    Parsed p = parse(c.main);
    if (!*c.error) {
      CHECK(p.errors.empty());
      continue;
    }
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].text() == c.error);
    // What failed is left out, so the result stays usable.
    CHECK(p.config.is_default(p.errors[0].param));
    CHECK_NOTHROW(p.config.get(p.errors[0].param));
  }
}

TEST_CASE("expansion: runaway expansion is bounded", "[config][expand]") {
  std::string main = "a0 = x\n";
  for (int i = 1; i <= 40; ++i) main += "a" + std::to_string(i) + " = $a" + std::to_string(i - 1) + "$a" + std::to_string(i - 1) + "\n";
  main += "relayhost = $a40\n";
  Parsed p = parse(main);
  REQUIRE_FALSE(p.errors.empty());
  bool bounded = false;
  for (const auto& e : p.errors)
    bounded = bounded || e.message.find("too many steps") != std::string::npos ||
              e.message.find("longer than 1 MiB") != std::string::npos;
  CHECK(bounded);
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "b" + std::to_string(i) + " = $b" + std::to_string(i + 1) + "\n";
  deep += "b300 = end\nrelayhost = $b0\n";
  Parsed d = parse(deep);
  REQUIRE_FALSE(d.errors.empty());
  CHECK(d.errors[0].message == "parameter expansion nested too deeply");
}

TEST_CASE("config: values, defaults and typed getters", "[config]") {
  Config c = good(
      "smtpd_timeout = 5m\n"
      "message_size_limit = 1000\n"
      "disable_vrfy_command = YES\n"
      "mynetworks = 10.0.0.0/8,\n  192.168.0.0/16 [::1]/128\n"
      "queue_directory = spool\n"
      "data_directory = /abs\n"
      "maximal_queue_lifetime = 2\n");
  CHECK(c.get_time("smtpd_timeout") == 300);
  CHECK(c.get_time("maximal_queue_lifetime") == 2 * 86400);
  CHECK(c.get_size("message_size_limit") == 1000);
  CHECK(c.get_bool("disable_vrfy_command"));
  CHECK(c.get_int("smtpd_recipient_limit") == 1000);
  CHECK(c.get_list("mynetworks") == std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16", "[::1]/128"});
  CHECK(c.get_path("queue_directory") == "/etc/test/spool");
  CHECK(c.get_path("data_directory") == "/abs");
  CHECK(c.get("config_directory") == "/etc/test");
  CHECK_FALSE(c.is_default("smtpd_timeout"));
  CHECK(c.is_default("smtpd_banner"));
  CHECK(c.raw("smtpd_banner") == "$myhostname ESMTP $mail_name");
  CHECK(c.get("smtpd_banner") == "mx.example.org ESMTP Posthorn");
  CHECK(c.default_raw("smtpd_timeout") == "300s");
  CHECK(c.raw("myhostname") == "mx.example.org");
  CHECK(c.set_names().size() == 7);
  CHECK(c.get("forward_path") == "$home/.forward${recipient_delimiter}${extension}, $home/.forward");
}

TEST_CASE("config: bad values are errors naming file, line and parameter", "[config]") {
  Parsed p = parse(
      "smtpd_timeout = 5x\n"
      "smtpd_timout = 10s\n"
      "message_size_limit = big\n"
      "ok_line_follows = 1\n"
      "maillog_format = xml\n"
      "smtpd_recipient_limit = 0\n"
      "mynetworks = 127.0.0.1\n");
  CHECK(texts(p.errors) == std::vector<std::string>{
      "main.cf:1: smtpd_timeout: \"5x\" is not a time",
      "main.cf:2: smtpd_timout: unknown parameter (did you mean smtpd_timeout?)",
      "main.cf:3: message_size_limit: \"big\" is not a size in bytes",
      "main.cf:4: ok_line_follows: unknown parameter",
      "main.cf:5: maillog_format: \"xml\" is not one of: text, json",
      "main.cf:6: smtpd_recipient_limit: \"0\" is below the minimum 1",
  });
  CHECK(p.config.get_time("smtpd_timeout") == 300);
  CHECK(p.config.get("mynetworks") == "127.0.0.1");
}

TEST_CASE("config: user-defined and service-specific names", "[config]") {
  const std::string master =
      "relay unix - - n - - smtp\n"
      "submission inet n - n - - smtpd -o smtpd_client_restrictions=$mua_restrictions\n";
  Config c = good(
      "mua_restrictions = permit_sasl_authenticated, reject\n"
      "shared = 7\n"
      "smtpd_recipient_limit = $shared\n"
      "relay_destination_concurrency_limit = 5\n",
      master);
  CHECK(c.get("mua_restrictions") == "permit_sasl_authenticated, reject");
  CHECK(c.type_of("mua_restrictions") == Type::string);
  CHECK(c.get_int("smtpd_recipient_limit") == 7);
  CHECK(c.get_int("relay_destination_concurrency_limit") == 5);
  CHECK(c.is_known("relay_destination_recipient_limit"));
  CHECK(c.get_int("relay_destination_recipient_limit") == 50);
  CHECK(c.default_raw("relay_destination_recipient_limit") == "$default_destination_recipient_limit");
  CHECK_FALSE(c.is_known("smtpx_destination_recipient_limit"));
  CHECK_FALSE(c.is_known("relay_no_such_thing"));

  Parsed p = parse("unused_name = 1\nrelay_destination_concurrency_limit = x\n", master);
  CHECK(texts(p.errors) == std::vector<std::string>{
      "main.cf:1: unused_name: unknown parameter",
      "main.cf:2: relay_destination_concurrency_limit: \"x\" is not a number",
      "master.cf:2: submission/inet: -o smtpd_client_restrictions: $mua_restrictions: unknown parameter",
  });
  // A user-defined name whose own value fails is gone, and so is what uses it.
  Parsed r = parse("shared = $nosuch\nsmtpd_banner = $shared\nrelayhost = x\n");
  CHECK(texts(r.errors) == std::vector<std::string>{
      "main.cf:1: shared: $nosuch: unknown parameter",
      "main.cf:2: smtpd_banner: $nosuch: unknown parameter"});
  CHECK_FALSE(r.config.is_known("shared"));
  CHECK(r.config.is_default("smtpd_banner"));
  CHECK(r.config.get("smtpd_banner") == "mx.example.org ESMTP Posthorn");
  CHECK(r.config.get("relayhost") == "x");
  Parsed q = parse("relay_destination_concurrency_limit = 5\n");
  CHECK(texts(q.errors) == std::vector<std::string>{
      "main.cf:1: relay_destination_concurrency_limit: unknown parameter"});
}

TEST_CASE("config: master.cf -o overrides are checked and expand lazily", "[config]") {
  const std::string master =
      "smtp inet n - n - - smtpd\n"
      "submission inet n - n - - smtpd\n"
      "  -o myhostname=sub.example.org\n"
      "  -o smtpd_timeout=1m\n";
  Config c = good("", master);
  REQUIRE(c.services().size() == 2);
  const Service* sub = c.find_service("submission/inet");
  REQUIRE(sub != nullptr);
  CHECK(c.find_service("submission/unix") == nullptr);
  Config view = c.for_service(*sub);
  CHECK(view.get("smtpd_banner") == "sub.example.org ESMTP Posthorn");
  CHECK(view.get_time("smtpd_timeout") == 60);
  CHECK_FALSE(view.is_default("smtpd_timeout"));
  CHECK(c.get("smtpd_banner") == "mx.example.org ESMTP Posthorn");
  CHECK(c.for_service(c.services()[0]).get_time("smtpd_timeout") == 300);

  Parsed p = parse("smtpd_timeout = $t\nt = 10s\n",
                   "smtp inet n - n - - smtpd\n"
                   "  -o smtpd_tls_security_level=bogus\n"
                   "  -o nosuch=1\n"
                   "local unix - n n - - local -o t=xx\n"
                   "other unix - n n - - local -o smtpd_timeout=$missing\n");
  CHECK(texts(p.errors) == std::vector<std::string>{
      "master.cf:1: smtp/inet: -o nosuch: unknown parameter",
      "master.cf:1: smtp/inet: -o smtpd_tls_security_level: \"bogus\" is not one of: (empty), none, may, encrypt",
      "master.cf:4: local/unix: smtpd_timeout (from main.cf with this service's -o): \"xx\" is not a time",
      "master.cf:5: other/unix: -o smtpd_timeout: $missing: unknown parameter",
  });
  for (const Service& s : p.config.services()) {
    Config v = p.config.for_service(s);
    CHECK(v.get_time("smtpd_timeout") == 10);
  }
}

TEST_CASE("config: with_overrides checks what it is given", "[config]") {
  Config c = good("");
  auto ok = c.with_overrides({{"smtpd_timeout", "2m"}, {"myhostname", "x.y"}});
  REQUIRE(ok);
  CHECK(ok->get_time("smtpd_timeout") == 120);
  CHECK(ok->get("mydomain") == "y");
  auto bad = c.with_overrides({{"smtpd_timeout", "2x"}, {"nope", "1"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail == "nope: unknown parameter\nsmtpd_timeout: \"2x\" is not a time");
}

TEST_CASE("config: computed defaults follow myhostname", "[config]") {
  CHECK(good("myhostname = a.b.c").get("mydomain") == "b.c");
  CHECK(good("myhostname = single").get("mydomain") == "localdomain");
  CHECK(good("myhostname = trailing.").get("mydomain") == "localdomain");
  CHECK(good("mydomain = d.example").get("myorigin") == "mx.example.org");
  CHECK(good("myorigin = $mydomain").get("myorigin") == "example.org");
  Config d;
  CHECK(d.get("config_directory") == "/etc/posthorn");
  CHECK_FALSE(d.get("myhostname").empty());
}

TEST_CASE("config: undeclared names and wrong types are programming errors", "[config]") {
  Config c = good("");
  CHECK(aborts([&] { c.get("no_such_parameter"); }));
  CHECK(aborts([&] { c.get_bool("smtpd_timeout"); }));
  CHECK(aborts([&] { c.get_time("smtpd_banner"); }));
  CHECK(aborts([&] { c.is_default("nope"); }));
  CHECK_FALSE(aborts([&] { c.get("smtpd_banner"); }));
  Service stranger;
  stranger.overrides.push_back({"smtpd_timeout", "bad", 1});
  CHECK(aborts([&] { c.for_service(stranger); }));
}

TEST_CASE("config: load reads main.cf and master.cf from a directory", "[config]") {
  auto dir = std::filesystem::temp_directory_path() / ("config_test." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  REQUIRE(posthorn::write_file_durable(dir / "main.cf", "smtpd_timeout = 1m\n"));
  auto c = Config::load(dir);
  REQUIRE(c);
  CHECK(c->get_time("smtpd_timeout") == 60);
  CHECK(c->services().empty());
  CHECK(c->config_directory() == dir);
  REQUIRE(posthorn::write_file_durable(dir / "master.cf", "smtp inet n - n - - smtpd -o smtpd_timeout=x\n"));
  REQUIRE(posthorn::write_file_durable(dir / "main.cf", "a\nsmtpd_timeout = 1q\n"));
  auto bad = Config::load(dir);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == posthorn::Errc::parse);
  std::string m = (dir / "main.cf").string(), k = (dir / "master.cf").string();
  CHECK(bad.error().detail ==
        m + ":1: missing \"=\" in \"a\"\n" + m + ":2: smtpd_timeout: \"1q\" is not a time\n" + k +
            ":1: smtp/inet: -o smtpd_timeout: \"x\" is not a time");
  std::filesystem::remove_all(dir);
  auto missing = Config::load(dir);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == posthorn::Errc::not_found);
}
