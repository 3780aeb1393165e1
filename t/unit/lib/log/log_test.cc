#include "lib/log/log.h"

#include <catch2/catch.hpp>

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
