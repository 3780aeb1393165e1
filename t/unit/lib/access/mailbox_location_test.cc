#include "lib/access/mailbox_location.h"

#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cctype>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::access;

namespace {

config::Config make_config(const std::filesystem::path& dir, const std::string& main) {
  config::Sources src;
  src.main_text = main;
  src.hostname = "mx.example.org";
  src.config_dir = dir;
  config::Parsed p = config::Config::parse(src);
  for (const auto& e : p.errors) INFO(e.text());
  REQUIRE(p.errors.empty());
  return p.config;
}

// A virtual setup: example.org virtual, example.net local.
struct Virtual {
  test::TempDir dir{"access"};
  config::Config cfg;
  explicit Virtual(const std::string& extra = "") {
    REQUIRE(write_file_durable(dir.path() / "vmailbox",
                               "alice@example.org example.org/alice/\n"
                               "mbox@example.org example.org/mbox\n"
                               "evil@example.org ../../etc/\n"
                               "abs@example.org /var/mail/abs/\n"
                               "@catch.example catchall/\n",
                               0644));
    cfg = make_config(dir.path(),
                      cat("virtual_mailbox_domains = example.org, catch.example\n"
                          "virtual_mailbox_maps = texthash:", (dir.path() / "vmailbox").string(), "\n"
                          "virtual_mailbox_base = mail\n"
                          "mydestination = example.net\n"
                          "recipient_delimiter = +\n", extra));
  }
};

}  // namespace

TEST_CASE("mailbox location: virtual mailboxes as local's virtual delivery finds them",
          "[access][location]") {
  Virtual v;
  MailboxLocator l = MailboxLocator::open(v.cfg);
  auto a = l.locate("alice@example.org", false);
  REQUIRE(a);
  // A relative virtual_mailbox_base is taken from config_directory.
  CHECK(a->path == cat(v.dir.path().string(), "/mail/example.org/alice/"));
  CHECK(a->maildir);
  CHECK(a->is_virtual);
  CHECK(a->uid == ::getuid());  // no uid maps, not root: the process's own
  CHECK(a->gid == ::getgid());

  auto ext = l.locate("alice+lists@EXAMPLE.ORG", false);  // the extension is dropped; case ignored
  REQUIRE(ext);
  CHECK(ext->path == a->path);

  auto m = l.locate("mbox@example.org", false);
  REQUIRE(m);
  CHECK_FALSE(m->maildir);

  auto c = l.locate("anyone@catch.example", false);
  REQUIRE(c);
  CHECK(c->path == cat(v.dir.path().string(), "/mail/catchall/"));

  const std::pair<const char*, Errc> refused[] = {
      {"nobody@example.org", Errc::not_found},
      {"alice@elsewhere.example", Errc::not_found},
      {"@example.org", Errc::not_found},
      {"alice@", Errc::not_found},
      {"evil@example.org", Errc::invalid},
      {"abs@example.org", Errc::invalid},
  };
  for (const auto& [login, code] : refused) {
    INFO(login);
    auto r = l.locate(login, false);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == code);
  }
}

TEST_CASE("mailbox location: owners from virtual_uid_maps, checked", "[access][location]") {
  Virtual v;
  SECTION("as root, no uid maps is a configuration error") {
    MailboxLocator l = MailboxLocator::open(v.cfg);
    auto r = l.locate("alice@example.org", true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
    CHECK(r.error().detail.find("virtual_uid_maps is not set") != std::string::npos);
  }
  SECTION("uid and gid maps") {
    Virtual w;
    REQUIRE(write_file_durable(w.dir.path() / "uids",
                               "alice@example.org 5000\nlow@example.org 12\n"
                               "@catch.example 5002\n", 0644));
    config::Config cfg = make_config(
        w.dir.path(),
        cat("virtual_mailbox_domains = example.org, catch.example\n"
            "virtual_mailbox_maps = texthash:", (w.dir.path() / "vmailbox").string(), "\n"
            "virtual_mailbox_base = /srv/mail\n"
            "virtual_uid_maps = texthash:", (w.dir.path() / "uids").string(), "\n"
            "virtual_gid_maps = static:5100\n"));
    REQUIRE(write_file_durable(w.dir.path() / "vmailbox",
                               "alice@example.org example.org/alice/\n"
                               "low@example.org example.org/low/\n"
                               "nouid@example.org example.org/nouid/\n", 0644));
    MailboxLocator l = MailboxLocator::open(cfg);
    auto a = l.locate("alice@example.org", true);
    REQUIRE(a);
    CHECK(a->path == "/srv/mail/example.org/alice/");
    CHECK(a->uid == 5000);
    CHECK(a->gid == 5100);
    auto low = l.locate("low@example.org", true);
    REQUIRE_FALSE(low);
    CHECK(low.error().code == Errc::invalid);
    CHECK(low.error().detail.find("virtual_minimum_uid") != std::string::npos);
    auto none = l.locate("nouid@example.org", true);
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::invalid);
  }
}

TEST_CASE("mailbox location: system accounts, home_mailbox and the spool", "[access][location]") {
  test::TempDir dir("access");
  passwd* pw = ::getpwuid(0);
  REQUIRE(pw);
  const std::string root_name = pw->pw_name, root_home = pw->pw_dir;
  SECTION("home_mailbox") {
    config::Config cfg = make_config(dir.path(), "home_mailbox = Maildir/\nmydestination = example.net\n");
    MailboxLocator l = MailboxLocator::open(cfg);
    auto r = l.locate(root_name, false);
    REQUIRE(r);
    CHECK(r->path == root_home + "/Maildir/");
    CHECK(r->maildir);
    CHECK(r->account == root_name);
    CHECK(r->uid == 0);
    CHECK_FALSE(r->is_virtual);
    std::string upper = root_name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto at = l.locate(cat(upper, "@Example.NET"), false);
    REQUIRE(at);
    CHECK(at->path == r->path);
  }
  SECTION("mail_spool_directory, mbox and Maildir") {
    config::Config mbox = make_config(dir.path(), "mail_spool_directory = /var/mail\n");
    auto r = MailboxLocator::open(mbox).locate(root_name, false);
    REQUIRE(r);
    CHECK(r->path == "/var/mail/" + root_name);
    CHECK_FALSE(r->maildir);
    config::Config md = make_config(dir.path(), "mail_spool_directory = spool/\n");
    auto d = MailboxLocator::open(md).locate(root_name, false);
    REQUIRE(d);
    CHECK(d->path == cat(dir.path().string(), "/spool/", root_name, "/"));
    CHECK(d->maildir);
  }
  SECTION("unknown accounts") {
    config::Config cfg = make_config(dir.path(), "home_mailbox = Maildir/\n");
    MailboxLocator l = MailboxLocator::open(cfg);
    for (const char* login : {"no-such-user-posthorn", "a/b", ""}) {
      auto r = l.locate(login, false);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::not_found);
    }
  }
}

TEST_CASE("mailbox location: a table that cannot be read fails the lookup, not the start",
          "[access][location]") {
  test::TempDir dir("access");
  config::Config cfg = make_config(
      dir.path(), cat("virtual_mailbox_domains = example.org\n"
                      "virtual_mailbox_maps = texthash:", (dir.path() / "missing").string(), "\n"
                      "virtual_mailbox_base = /srv/mail\n"));
  MailboxLocator l = MailboxLocator::open(cfg);
  auto r = l.locate("alice@example.org", false);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::io);
}

TEST_CASE("mailbox paths: the rules local delivery and the access agents share",
          "[access][location]") {
  struct Sys {
    const char *home_mailbox, *spool, *want;
    bool maildir, in_spool;
  };
  const Sys sys[] = {
      {"Maildir/", "/var/mail", "/home/u/Maildir/", true, false},
      {"Mailbox", "/var/mail", "/home/u/Mailbox", false, false},
      {"", "/var/mail", "/var/mail/u", false, true},
      {"", "/var/mail/", "/var/mail/u/", true, true},
  };
  for (const Sys& c : sys) {
    auto p = system_mailbox_path(c.home_mailbox, c.spool, "u", "/home/u");
    REQUIRE(p);
    CHECK(p->path == c.want);
    CHECK(p->maildir == c.maildir);
    CHECK(p->in_spool == c.in_spool);
  }
  CHECK_FALSE(system_mailbox_path("", "", "u", "/home/u"));

  auto v = virtual_mailbox_path("/srv/mail", " example.org/alice/ ");
  REQUIRE(v);
  CHECK(v->path == "/srv/mail/example.org/alice/");
  CHECK(v->maildir);
  CHECK_FALSE(v->in_spool);
  auto m = virtual_mailbox_path("/srv/mail", "example.org/alice");
  REQUIRE(m);
  CHECK_FALSE(m->maildir);
  for (const char* bad : {"", "  ", "/etc/", "../x/", "a/../../x/", "a/.."})
    CHECK_FALSE(virtual_mailbox_path("/srv/mail", bad));
  CHECK(virtual_mailbox_path("/srv/mail", "a/..b/"));  // ".." only as a whole level
}
