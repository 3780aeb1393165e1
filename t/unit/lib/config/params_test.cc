// The registry walk: every entry is well formed, every default is valid
// for its type and bounds, and man/main.cf.5 is what the registry generates.
#include "lib/config/params.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "lib/config/config.h"
#include "lib/config/man.h"
#include "lib/config/value.h"

using namespace posthorn::config;

TEST_CASE("registry: names are unique and well formed, docs are one line", "[config][params]") {
  std::set<std::string_view> seen;
  CHECK(params().size() >= 150);
  for (const Param& p : params()) {
    INFO(p.name);
    CHECK(is_param_name(p.name));
    CHECK(seen.insert(p.name).second);
    CHECK(find_param(p.name) == &p);
    CHECK(!p.doc.empty());
    CHECK(p.doc.find('\n') == std::string_view::npos);
    CHECK(p.doc.size() < 160);
    if (!p.choices.empty()) CHECK((p.type == Type::string || p.type == Type::list));
    if (p.bounds.min || p.bounds.max)
      CHECK((p.type == Type::count || p.type == Type::time || p.type == Type::size));
    if (p.bounds.min && p.bounds.max) CHECK(*p.bounds.min <= *p.bounds.max);
  }
  CHECK(find_param("no_such_parameter") == nullptr);
}

TEST_CASE("registry: every default expands and fits its type and bounds", "[config][params]") {
  Sources src;
  src.hostname = "mail.example.org";
  Parsed parsed = Config::parse(src);
  REQUIRE(parsed.errors.empty());
  const Config& c = parsed.config;
  for (const Param& p : params()) {
    INFO(p.name << " = " << p.def);
    CHECK(c.is_default(p.name));
    std::string v = c.get(p.name);  // panics on a loop or an unknown reference
    if (!(p.flags & kRaw)) CHECK(check_value(p, v) == "");
    switch (p.type) {
      case Type::boolean: c.get_bool(p.name); break;
      case Type::count: c.get_int(p.name); break;
      case Type::time: c.get_time(p.name); break;
      case Type::size: c.get_size(p.name); break;
      case Type::list:
      case Type::table_list: c.get_list(p.name); break;
      case Type::string: break;
    }
  }
  CHECK(c.get("myhostname") == "mail.example.org");
  CHECK(c.get("mydomain") == "example.org");
  CHECK(c.get("myorigin") == "mail.example.org");
  CHECK(c.get("mydestination") == "mail.example.org, localhost.example.org, localhost");
#ifdef POSTHORN_WITHOUT_BDB
  CHECK(c.get("default_database_type") == "lmdb");
  CHECK(c.get_list("alias_maps") == std::vector<std::string>{"lmdb:/etc/aliases"});
#else
  CHECK(c.get("default_database_type") == "hash");
  CHECK(c.get_list("alias_maps") == std::vector<std::string>{"hash:/etc/aliases"});
#endif
}

TEST_CASE("registry: the parameters later programs rely on are declared", "[config][params]") {
  for (const char* n :
       {"myhostname", "mydomain", "myorigin", "mydestination", "mynetworks", "inet_interfaces",
        "inet_protocols", "relayhost", "relay_domains", "config_directory", "queue_directory",
        "data_directory", "daemon_directory", "mail_owner", "setgid_group", "default_privs",
        "maillog_file", "maillog_format", "syslog_name", "syslog_facility", "message_size_limit",
        "smtpd_banner", "smtpd_recipient_limit", "smtpd_timeout", "smtpd_tls_cert_file",
        "smtpd_sasl_auth_enable", "smtpd_relay_restrictions", "smtpd_hard_error_limit",
        "smtpd_forbid_bare_newline", "smtp_tls_security_level", "smtp_tls_CAfile",
        "smtp_sasl_password_maps", "smtp_connection_cache_destinations", "smtp_tcp_port",
        "alias_maps", "alias_database", "virtual_alias_maps", "virtual_mailbox_domains",
        "virtual_mailbox_maps", "virtual_mailbox_base", "virtual_uid_maps", "virtual_gid_maps",
        "virtual_minimum_uid", "home_mailbox", "mail_spool_directory", "recipient_delimiter",
        "transport_maps", "default_transport", "local_transport", "virtual_transport",
        "relay_transport", "qmgr_message_active_limit", "minimal_backoff_time",
        "maximal_backoff_time", "queue_run_delay", "maximal_queue_lifetime",
        "bounce_queue_lifetime", "delay_warning_time", "default_destination_concurrency_limit",
        "default_destination_recipient_limit", "default_database_type", "disable_vrfy_command",
        "max_use", "max_idle", "pop3_plaintext_auth", "imap_plaintext_auth", "imap_max_literal",
        "dns_nameservers", "hopcount_limit", "auth_password_maps", "default_process_limit"}) {
    INFO(n);
    CHECK(find_param(n) != nullptr);
  }
}

TEST_CASE("man/main.cf.5 is generated from the registry", "[config][params][man]") {
  std::string page = main_cf_man_page();
  for (const Param& p : params()) {
    INFO(p.name);
    CHECK(page.find(".B " + roff_escape(p.name) + "\n") != std::string::npos);
  }
  const char* path = "man/main.cf.5";
  if (const char* regen = std::getenv("POSTHORN_REGEN_MAN"); regen && *regen == '1') {
    REQUIRE(posthorn::write_file_durable(path, page));
  }
  auto file = posthorn::read_file(path);
  INFO("run from the top of the source tree; regenerate with: "
       "POSTHORN_REGEN_MAN=1 build/t/unit_tests \"[config][man]\"");
  REQUIRE(file);
  CHECK(*file == page);
}

TEST_CASE("roff escaping protects backslashes, hyphens and leading dots", "[config][man]") {
  CHECK(roff_escape("a-b\\c") == "a\\-b\\ec");
  CHECK(roff_escape(".forward") == "\\&.forward");
  CHECK(roff_escape("'x") == "\\&'x");
  CHECK(roff_escape("") == "");
}
