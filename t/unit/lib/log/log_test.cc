#include "lib/log/log.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/base/file.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn::log;

TEST_CASE("a delivery record renders as Postfix's line", "[log]") {
  Record r{Level::info, "delivery", "4F2A1B",
           {{"to", "<bob@example.org>"},
            {"relay", "mx.example.org[192.0.2.1]:25"},
            {"delay", "0.4"},
            {"dsn", "2.0.0"},
            {"status", "sent"}},
           "(250 ok)"};
  CHECK(render_text_body(r) ==
        "4F2A1B: to=<bob@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=0.4, "
        "dsn=2.0.0, status=sent (250 ok)");
}

TEST_CASE("text-only, warning and peer text with control bytes", "[log]") {
  CHECK(render_text_body({Level::info, "connect", "", {}, "connect from localhost[127.0.0.1]"}) ==
        "connect from localhost[127.0.0.1]");
  CHECK(render_text_body({Level::warn, "message", "", {}, "disk full"}) == "warning: disk full");
  CHECK(render_text_body({Level::info, "x", "ID", {{"helo", "evil\r\nforged: line"}}, ""}) ==
        "ID: helo=evil\\015\\012forged: line");
}

TEST_CASE("json records are one valid line with a schema version", "[log]") {
  struct Restore {
    Options saved = options();
    ~Restore() { configure(saved); }
  } restore;
  Options o;
  o.program = "smtp";
  o.file = "-";
  o.format = Format::json;
  o.hostname = "mx1";
  configure(o);
  Record r{Level::info, "delivery", "4F2A1B", {{"to", "<bob@example.org>"}, {"status", "sent"}},
           "(250 \"ok\"\n)"};
  std::string line = render_json(r, 1763805600123LL);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.rfind("{\"v\":1,\"time\":\"2025-11-22T10:00:00.123Z\",\"host\":\"mx1\","
                   "\"program\":\"posthorn/smtp\",\"pid\":", 0) == 0);
  CHECK(line.find(",\"level\":\"info\",\"event\":\"delivery\",\"queue_id\":\"4F2A1B\","
                  "\"to\":\"<bob@example.org>\",\"status\":\"sent\","
                  "\"text\":\"(250 \\\"ok\\\"\\n)\"}") != std::string::npos);
  Format f;
  CHECK(parse_format("json", f));
  CHECK(f == Format::json);
  CHECK_FALSE(parse_format("xml", f));
}

namespace {
struct RestoreLog {
  Options saved = options();
  ~RestoreLog() { configure(saved); }
};
}  // namespace

TEST_CASE("a log file rotated away is reopened by its path", "[log]") {
  RestoreLog restore;
  posthorn::test::TempDir d("log");
  Options o;
  o.program = "qmgr";
  o.file = (d / "maillog").string();
  configure(o);
  info("before rotation");
  std::filesystem::rename(d / "maillog", d / "maillog.1");
  info("after rotation");
  CHECK(posthorn::read_file(d / "maillog.1")->find("before rotation") != std::string::npos);
  auto now = posthorn::read_file(d / "maillog");
  REQUIRE(now);
  CHECK(now->find("after rotation") != std::string::npos);
  CHECK(now->find("before rotation") == std::string::npos);
}

TEST_CASE("a log file whose path is out of reach keeps its descriptor", "[log]") {
  // After a privilege drop or a chroot the path may no longer resolve; the
  // open descriptor must keep receiving lines instead of falling back to stderr.
  RestoreLog restore;
  posthorn::test::TempDir d("log");
  std::filesystem::create_directory(d / "spool");
  Options o;
  o.program = "smtpd";
  o.file = (d / "spool" / "maillog").string();
  configure(o);
  info("first line");
  std::filesystem::create_hard_link(d / "spool" / "maillog", d / "kept");
  std::filesystem::remove_all(d / "spool");
  info("second line");
  set_program("smtpd2");  // re-configuring onto the same file keeps it too
  info("third line");
  auto kept = posthorn::read_file(d / "kept");
  REQUIRE(kept);
  CHECK(kept->find("first line") != std::string::npos);
  CHECK(kept->find("second line") != std::string::npos);
  CHECK(kept->find("posthorn/smtpd2[") != std::string::npos);
}
