// Tests for tools/posthorn/init_plan.cc: the texts `posthorn init` writes.
#include <crypt.h>

#include <catch2/catch.hpp>

#include <cctype>
#include <memory>
#include <set>
#include <string>

#include "lib/config/config.h"
#include "tools/posthorn/init_plan.h"

using namespace posthorn;
namespace init = posthorn::tools::init;

namespace {

init::Plan plan(std::string listen = "127.0.0.1", uid_t uid = 1000) {
  init::Plan p;
  p.dir = "/srv/inst";
  p.domain = "example.test";
  p.listen = std::move(listen);
  p.port_base = 2525;
  p.owner = "alice";
  p.group = "alice";
  p.uid = uid;
  p.gid = 1000;
  return p;
}

config::Parsed parse(const init::Plan& p) {
  const std::string main = init::main_cf(p), master = init::master_cf(p);
  config::Sources src{main, "main.cf", master, "master.cf", p.dir, "host.example"};
  return config::Config::parse(src);
}

}  // namespace

TEST_CASE("init accepts DNS names of two labels or more, in lower case", "[init]") {
  struct Case {
    const char* in;
    const char* out;  // nullptr: refused
  };
  const Case cases[] = {
      {"example.test", "example.test"},  {"Mail.Example.ORG", "mail.example.org"},
      {"a-b.c9.test.", "a-b.c9.test"},   {"x.y", "x.y"},
      {"localhost", nullptr},            {"", nullptr},
      {"-a.test", nullptr},              {"a-.test", nullptr},
      {"a..test", nullptr},              {"under_score.test", nullptr},
      {"sp ace.test", nullptr},          {"ex\xc3\xa4mple.test", nullptr},
      {"a.test\n", nullptr},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto r = init::check_domain(c.in);
    if (c.out) {
      REQUIRE(r);
      CHECK(*r == c.out);
    } else {
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::invalid);
    }
  }
  CHECK_FALSE(init::check_domain(std::string(64, 'a') + ".test"));
  CHECK(init::check_domain(std::string(63, 'a') + ".test"));
}

TEST_CASE("init listens on an address or on Postfix's keywords", "[init]") {
  for (const char* ok : {"127.0.0.1", "::1", "0.0.0.0", "all", "loopback-only", "ALL"})
    CHECK(init::check_listen(ok));
  for (const char* bad : {"", "localhost", "127.0.0.256", "[::1]", "1.2.3.4:25", "all,::1"})
    CHECK_FALSE(init::check_listen(bad));
}

TEST_CASE("the port base leaves room for the whole plan", "[init]") {
  CHECK(*init::check_port_base("1") == 1);
  CHECK(*init::check_port_base("65529") == 65529);
  for (const char* bad : {"0", "65530", "-1", "", "25x", "99999999999999999999"})
    CHECK_FALSE(init::check_port_base(bad));
}

TEST_CASE("the instance's directory must survive main.cf's list syntax", "[init]") {
  CHECK(init::check_dir("/srv/posthorn/run"));
  CHECK(init::check_dir("/tmp/a-b_c.d/\xc3\xa4"));
  for (const char* bad : {"/tmp/a b", "/tmp/a,b", "/tmp/{x}", "/tmp/a\tb"}) {
    INFO(bad);
    auto r = init::check_dir(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
  }
}

TEST_CASE("the plan's addresses name the listening address", "[init]") {
  CHECK(plan().address(2525) == "127.0.0.1:2525");
  CHECK(plan("::1").address(2526) == "[::1]:2526");
  CHECK(plan("all").address(2527) == "*:2527");
  CHECK(plan("loopback-only").address(2528) == "127.0.0.1:2528");
}

TEST_CASE("main.cf and master.cf parse without a diagnostic", "[init]") {
  for (const char* listen : {"127.0.0.1", "::1", "all", "loopback-only"}) {
    INFO(listen);
    auto parsed = parse(plan(listen));
    for (const auto& e : parsed.errors) FAIL(e.text());
    CHECK(parsed.warnings.empty());
  }
}

TEST_CASE("main.cf makes the instance a folder with one virtual domain", "[init]") {
  auto parsed = parse(plan());
  const config::Config& cfg = parsed.config;
  CHECK(cfg.get_path("queue_directory") == "/srv/inst/spool");
  CHECK(cfg.get_path("data_directory") == "/srv/inst/data");
  CHECK(cfg.get("maillog_file") == "maillog");
  CHECK(cfg.get("virtual_mailbox_domains") == "example.test");
  CHECK(cfg.get("virtual_mailbox_maps") == "texthash:/srv/inst/vmailbox");
  CHECK(cfg.get("virtual_mailbox_base") == "/srv/inst/mail");
  CHECK(cfg.get("virtual_alias_maps") == "texthash:/srv/inst/virtual");
  CHECK(cfg.get("auth_password_maps") == "texthash:/srv/inst/passwd");
  CHECK(cfg.get("virtual_uid_maps") == "static:1000");
  CHECK(cfg.get("virtual_gid_maps") == "static:1000");
  CHECK(cfg.get("smtpd_tls_cert_file") == "/srv/inst/cert.pem");
  CHECK(cfg.get("pop3_tls_key_file") == "/srv/inst/key.pem");
  CHECK(cfg.get("imap_tls_cert_file") == "/srv/inst/cert.pem");
  CHECK(cfg.get_list("mydestination").empty());
  CHECK(cfg.get_list("alias_maps").empty());
  CHECK(cfg.get("mail_owner") == "alice");
  CHECK(cfg.get("myhostname") == "mail.example.test");
  CHECK(cfg.is_default("virtual_minimum_uid"));
}

TEST_CASE("an owner below virtual_minimum_uid's default lowers it", "[init]") {
  auto parsed = parse(plan("127.0.0.1", 1));
  REQUIRE(parsed.errors.empty());
  CHECK(parsed.config.get_int("virtual_minimum_uid") == 1);
}

TEST_CASE("an unnamed owner leaves mail_owner and setgid_group out", "[init]") {
  init::Plan p = plan();
  p.owner.clear();
  p.group.clear();
  auto parsed = parse(p);
  REQUIRE(parsed.errors.empty());
  CHECK(parsed.config.is_default("mail_owner"));
  CHECK(parsed.config.is_default("setgid_group"));
}

TEST_CASE("master.cf holds the port plan in order, then the unix services", "[init]") {
  init::Plan p = plan();
  p.port_base = 40000;
  auto parsed = parse(p);
  REQUIRE(parsed.errors.empty());
  const auto& services = parsed.config.services();
  REQUIRE(services.size() == init::kPorts.size() + 7);
  for (std::size_t i = 0; i < init::kPorts.size(); ++i) {
    const config::Service& s = services[i];
    INFO(init::kPorts[i].name);
    CHECK(s.type == config::ServiceType::inet);
    CHECK(s.host.empty());  // inet_interfaces decides
    CHECK(s.port == 40000 + i);
    CHECK(s.command == init::kPorts[i].program);
    CHECK_FALSE(s.chroot);
  }
  auto overrides = [&](std::size_t i) {
    std::set<std::string> out;
    for (const auto& o : services[i].overrides) out.insert(o.name + "=" + o.value);
    return out;
  };
  CHECK(overrides(0).empty());
  CHECK(overrides(1).count("smtpd_tls_security_level=encrypt"));
  CHECK(overrides(1).count("smtpd_relay_restrictions=permit_sasl_authenticated,reject"));
  CHECK(overrides(2).count("smtpd_tls_wrappermode=yes"));
  CHECK(overrides(4) == std::set<std::string>{"pop3_tls_wrappermode=yes"});
  CHECK(overrides(6) == std::set<std::string>{"imap_tls_wrappermode=yes"});
  // pop3d and imapd start as root to become the mailbox owner after login.
  for (std::size_t i = 3; i <= 6; ++i) CHECK_FALSE(services[i].unprivileged);
  CHECK(services[0].unprivileged);
  const char* unix_names[] = {"pickup", "qmgr", "smtp", "relay", "local", "virtual", "auth"};
  for (std::size_t i = 0; i < 7; ++i) {
    const config::Service& s = services[init::kPorts.size() + i];
    CHECK(s.name == unix_names[i]);
    CHECK(s.type == config::ServiceType::unix_stream);
  }
  // local (and virtual, the same program) keep root to switch to each recipient.
  CHECK_FALSE(services[init::kPorts.size() + 4].unprivileged);
  CHECK_FALSE(services[init::kPorts.size() + 5].unprivileged);
  CHECK(services[init::kPorts.size() + 1].wakeup == 300);
  CHECK(*services[init::kPorts.size() + 1].maxproc == 1);
}

TEST_CASE("every table file opens with a comment and holds the demo user", "[init]") {
  init::Plan p = plan();
  const std::pair<std::string, std::string> files[] = {
      {"vmailbox", init::vmailbox(p)},
      {"virtual", init::virtual_aliases(p)},
      {"passwd", init::passwd(p, "{SHA512-CRYPT}$6$x$y")},
      {"demo-password", init::password_note(p, "secret")},
      {"main.cf", init::main_cf(p)},
      {"master.cf", init::master_cf(p)}};
  for (const auto& [name, text] : files) {
    INFO(name);
    CHECK(text.rfind("# " + name + " - ", 0) == 0);
  }
  CHECK(init::vmailbox(p).find("\ndemo@example.test    example.test/demo/\n") != std::string::npos);
  CHECK(init::virtual_aliases(p).find("\npostmaster@example.test    demo@example.test\n") !=
        std::string::npos);
  CHECK(init::passwd(p, "{SHA512-CRYPT}$6$x$y").find("\ndemo@example.test {SHA512-CRYPT}$6$x$y\n") !=
        std::string::npos);
  CHECK(p.mailbox() == "mail/example.test/demo/");
}

TEST_CASE("passwords are 16 characters without look-alikes, and differ", "[init]") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto pw = init::make_password();
    REQUIRE(pw);
    CHECK(pw->size() == 16);
    CHECK(pw->find_first_of("0O1lI") == std::string::npos);
    for (char c : *pw) CHECK(std::isalnum(static_cast<unsigned char>(c)));
    seen.insert(*pw);
  }
  CHECK(seen.size() == 50);
}

TEST_CASE("the hash is SHA-512 crypt with the scheme prefix, salted per call", "[init]") {
  auto a = init::sha512_crypt("correct horse");
  auto b = init::sha512_crypt("correct horse");
  REQUIRE(a);
  REQUIRE(b);
  const std::string prefix = "{SHA512-CRYPT}$6$";
  REQUIRE(a->rfind(prefix, 0) == 0);
  CHECK(*a != *b);
  std::string hash = a->substr(std::string("{SHA512-CRYPT}").size());
  auto data = std::make_unique<crypt_data>();
  CHECK(std::string(crypt_r("correct horse", hash.c_str(), data.get())) == hash);
  CHECK(std::string(crypt_r("correct horsf", hash.c_str(), data.get())) != hash);
}
