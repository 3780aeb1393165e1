#include "lib/bounce/templates.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::bounce;

namespace {

std::optional<std::string> fake_lookup(std::string_view name) {
  if (name == "myhostname") return std::string("mx.example.org");
  if (name == "mail_name") return std::string("Posthorn");
  if (name == "delay_warning_time_hours") return std::string("4");
  return std::nullopt;
}

config::Config config_with(std::vector<std::pair<std::string, std::string>> o) {
  auto c = config::Config().with_overrides(o);
  REQUIRE(c);
  return *c;
}

const char kFile[] =
    "# Texts of the mail system at example.org\n"
    "\n"
    "failure_template = <<EOF\n"
    "Charset: utf-8\n"
    "From: MAILER-DAEMON (Mail-System von $myhostname)\n"
    "Subject: Unzustellbar: Nachricht zur\xc3\xbc\x63k\n"
    "Postmaster-Subject: Postmaster-Kopie\n"
    "\n"
    "Dies ist das Mailsystem auf $myhostname ($mail_name).\n"
    "Kosten: 5$$, Variable ${mail_name} und $(myhostname).\n"
    "EOF\n"
    "\n"
    "delay_template = <<END\n"
    "Subject: Still trying\n"
    "\n"
    "Delayed for $delay_warning_time_hours hours.\n"
    "\n"
    "END\n"
    "verp_template = <<EOF\n"
    "Subject: ignored\n"
    "\n"
    "ignored\n"
    "EOF\n";

}  // namespace

TEST_CASE("template files: Postfix's here-document format", "[bounce][templates]") {
  auto t = parse_templates(kFile, "bounce.cf", fake_lookup);
  REQUIRE(t);
  CHECK(t->failure.charset == "utf-8");
  CHECK(t->failure.from == "MAILER-DAEMON (Mail-System von mx.example.org)");
  CHECK(t->failure.subject == "Unzustellbar: Nachricht zur\xc3\xbc\x63k");
  CHECK(t->failure.postmaster_subject == "Postmaster-Kopie");
  CHECK(t->failure.text ==
        "Dies ist das Mailsystem auf mx.example.org (Posthorn).\n"
        "Kosten: 5$, Variable Posthorn und mx.example.org.\n");
  CHECK(t->delay.charset.empty());  // not given: the built-in one stays
  CHECK(t->delay.subject == "Still trying");
  CHECK(t->delay.text == "Delayed for 4 hours.\n\n");
  CHECK(t->success.subject.empty());
  CHECK(t->success.text.empty());
}

TEST_CASE("template files: every error is named by file and line", "[bounce][templates]") {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"bogus_template = <<EOF\nSubject: x\n\ntext\nEOF\n", "t.cf:1: unknown template \"bogus_template\""},
      {"failure_template <<EOF\n", "t.cf:1: expected \"NAME = <<TAG\""},
      {"failure_template = text\n", "t.cf:1: expected \"NAME = <<TAG\""},
      {"stray text\n", "t.cf:1: expected \"NAME = <<TAG\""},
      {"failure_template = <<EOF\nSubject: x\n\ntext\n", "t.cf:1: failure_template: no line \"EOF\" ends it"},
      {"failure_template = <<EOF\nSubject: x\ntext\nEOF\n",
       "t.cf:3: failure_template: header line without ':'"},
      {"failure_template = <<EOF\nSubject: x\nEOF\n",
       "t.cf:2: failure_template: no blank line after the header lines"},
      {"failure_template = <<EOF\nX-Other: x\n\ntext\nEOF\n", "t.cf:2: failure_template: unknown header \"x-other\""},
      {"failure_template = <<EOF\nCharset: utf 8\n\ntext\nEOF\n", "t.cf:2: failure_template: bad charset"},
      {"failure_template = <<EOF\nSubject: x\n\nHost $nosuchparam here\nEOF\n",
       "t.cf:4: unknown parameter \"$nosuchparam\""},
      {"failure_template = <<EOF\nSubject: x\n\nHost ${myhostname here\nEOF\n", "t.cf:4: unterminated"},
      {"failure_template = <<EOF\nSubject: x\n\nCosts 5$ only\nEOF\n", "t.cf:4: \"$\" without a parameter name"},
      {"failure_template = <<EOF\nSubject: x\n\ncaf\xc3\xa9\nEOF\n",
       "t.cf:2: failure_template: 8-bit text needs a Charset other than us-ascii"},
      {"failure_template = <<EOF\nSubject: x\n\ny\nEOF\nfailure_template = <<EOF\nSubject: x\n\ny\nEOF\n",
       "t.cf:6: failure_template is defined twice"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto t = parse_templates(c.text, "t.cf", fake_lookup);
    REQUIRE_FALSE(t);
    CHECK(t.error().code == Errc::parse);
    CHECK_THAT(t.error().detail, Catch::Contains(c.error));
  }
  // Several errors are reported together, one per line.
  auto t = parse_templates("a\nb\n", "t.cf", fake_lookup);
  REQUIRE_FALSE(t);
  CHECK(t.error().detail == "t.cf:1: expected \"NAME = <<TAG\"\nt.cf:2: expected \"NAME = <<TAG\"");
  // An empty file (or only comments) is no error: every text is built in.
  CHECK(parse_templates("", "t.cf", fake_lookup));
  CHECK(parse_templates("# nothing\n\n", "t.cf", fake_lookup));
}

TEST_CASE("template expansion sees main.cf and the time units", "[bounce][templates]") {
  config::Config c = config_with({{"myhostname", "mx.example.org"},
                                  {"delay_warning_time", "4h"},
                                  {"maximal_queue_lifetime", "3d"}});
  Lookup look = config_lookup(c);
  CHECK(look("myhostname") == std::optional<std::string>("mx.example.org"));
  CHECK(look("delay_warning_time_hours") == std::optional<std::string>("4"));
  CHECK(look("delay_warning_time_minutes") == std::optional<std::string>("240"));
  CHECK(look("delay_warning_time_days") == std::optional<std::string>("0"));
  CHECK(look("maximal_queue_lifetime_days") == std::optional<std::string>("3"));
  CHECK(look("maximal_queue_lifetime_weeks") == std::optional<std::string>("0"));
  CHECK(look("maximal_queue_lifetime_seconds") == std::optional<std::string>("259200"));
  CHECK_FALSE(look("myhostname_hours"));  // not a time
  CHECK_FALSE(look("no_such_parameter"));
}

TEST_CASE("Settings from main.cf, with and without a template file", "[bounce][templates]") {
  test::TempDir dir("bounce-templates");
  SECTION("defaults and parameters") {
    config::Config c = config_with({{"myhostname", "mx.example.org"},
                                    {"myorigin", "example.org"},
                                    {"bounce_size_limit", "1000"},
                                    {"notify_classes", "bounce, 2bounce"},
                                    {"2bounce_notice_recipient", "hostmaster"}});
    Settings s = Settings::from_config(c);
    CHECK(s.myhostname == "mx.example.org");
    CHECK(s.myorigin == "example.org");
    CHECK(s.mail_name == "Posthorn");
    CHECK(s.bounce_size_limit == 1000);
    CHECK(s.maximal_queue_lifetime == 5 * 86400);
    CHECK(s.double_bounce_sender == "double-bounce");
    CHECK(s.double_bounce_notice_recipient == "hostmaster");
    CHECK(s.notify_classes == std::vector<std::string>{"bounce", "2bounce"});
    CHECK(s.failure.text.empty());
    Template t = effective_template(Kind::failure, s);
    CHECK(t.subject == "Undelivered Mail Returned to Sender");
    CHECK(t.postmaster_subject == "Postmaster Copy: Undelivered Mail");
    CHECK(t.text.find("at host mx.example.org.") != std::string::npos);
    CHECK(effective_template(Kind::delay, s).subject == "Delayed Mail (still being retried)");
    CHECK(effective_template(Kind::success, s).subject == "Successful Mail Delivery Report");
  }
  SECTION("a template file replaces what it gives") {
    REQUIRE(write_file_durable(dir.path() / "bounce.cf", kFile));
    config::Config c = config_with({{"myhostname", "mx.example.org"},
                                    {"delay_warning_time", "4h"},
                                    {"bounce_template_file", (dir.path() / "bounce.cf").string()}});
    Settings s = Settings::from_config(c);
    Template f = effective_template(Kind::failure, s);
    CHECK(f.subject == "Unzustellbar: Nachricht zur\xc3\xbc\x63k");
    CHECK(f.text.rfind("Dies ist das Mailsystem auf mx.example.org", 0) == 0);
    Template d = effective_template(Kind::delay, s);
    CHECK(d.subject == "Still trying");
    CHECK(d.charset == "us-ascii");
    CHECK(d.postmaster_subject == "Postmaster Warning: Delayed Mail");  // built in
    CHECK(effective_template(Kind::success, s).subject == "Successful Mail Delivery Report");
  }
  SECTION("the built-in delay text names the configured times") {
    config::Config c = config_with({{"delay_warning_time", "4h"}, {"maximal_queue_lifetime", "3d"}});
    std::string text = effective_template(Kind::delay, Settings::from_config(c)).text;
    CHECK(text.find("for 4 hours") != std::string::npos);
    CHECK(text.find("3 days") != std::string::npos);
  }
  SECTION("a bad or missing template file stops start-up with its name") {
    REQUIRE(write_file_durable(dir.path() / "bad.cf", "failure_template = <<EOF\n"));
    config::Config bad = config_with({{"bounce_template_file", (dir.path() / "bad.cf").string()}});
    auto s = Settings::load(bad);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == Errc::parse);
    CHECK_THAT(s.error().detail, Catch::Contains("bad.cf:1:"));
    CHECK_THROWS_WITH(Settings::from_config(bad), Catch::Contains("bad.cf:1:"));
    config::Config missing =
        config_with({{"bounce_template_file", (dir.path() / "missing.cf").string()}});
    auto m = Settings::load(missing);
    REQUIRE_FALSE(m);
    CHECK(m.error().code == Errc::not_found);
    CHECK_THAT(m.error().detail, Catch::Contains("bounce_template_file: ") && Catch::Contains("missing.cf"));
  }
}
