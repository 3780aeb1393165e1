#include "pop3d/transfer.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "lib/mailstore/new_message.h"

using namespace posthorn;
using namespace posthorn::pop3d;

namespace {

std::string transfer(std::string_view m, std::optional<std::uint64_t> lines = {}) {
  std::string out;
  append_transfer(out, m, lines);
  return out;
}

// What a client gets back: unstuffed, without the terminator.
std::string unstuff(std::string_view t) {
  std::string out;
  std::size_t pos = 0;
  while (pos < t.size()) {
    std::size_t e = t.find("\r\n", pos);
    std::string_view line = t.substr(pos, e - pos);
    pos = e + 2;
    if (line == ".") break;
    if (!line.empty() && line[0] == '.') line.remove_prefix(1);
    out.append(line);
    out += "\r\n";
  }
  return out;
}

}  // namespace

TEST_CASE("transfer: CRLF line ends and byte-stuffing", "[pop3d][transfer]") {
  const std::pair<std::string, std::string> cases[] = {
      {"", ".\r\n"},
      {"a\r\n", "a\r\n.\r\n"},
      {"a\n", "a\r\n.\r\n"},
      {"a", "a\r\n.\r\n"},
      {".\r\n", "..\r\n.\r\n"},
      {"..x\n.\n", "...x\r\n..\r\n.\r\n"},
      {"x\n.y\r\nz", "x\r\n..y\r\nz\r\n.\r\n"},
      {"bare\rcr\r\n", "bare\rcr\r\n.\r\n"},
      {"two\r\r\n", "two\r\r\n.\r\n"},
      {"\n\n", "\r\n\r\n.\r\n"},
      {std::string("nul\0byte\n", 9), std::string("nul\0byte\r\n.\r\n", 13)},
  };
  for (const auto& [in, want] : cases) {
    INFO(in);
    CHECK(transfer(in) == want);
  }
}

TEST_CASE("transfer: octets sent equal the CRLF size of messages that end in a line end",
          "[pop3d][transfer]") {
  const std::string msgs[] = {"", "a\n", "a\r\nb\n.c\n", "\r\n\n\r\n", "x\ry\n", ".\n..\n...\r\n"};
  for (const std::string& m : msgs) {
    INFO(m);
    bool cr = false;
    std::uint64_t vsize = m.size() + mailstore::crlf_extra(m, cr);
    CHECK(unstuff(transfer(m)).size() == vsize);
  }
}

TEST_CASE("transfer: TOP sends the header, the empty line and N body lines", "[pop3d][transfer]") {
  const std::string m = "A: 1\nB: 2\n\n.l1\nl2\nl3\n";
  CHECK(transfer(m, 0) == "A: 1\r\nB: 2\r\n\r\n.\r\n");
  CHECK(transfer(m, 1) == "A: 1\r\nB: 2\r\n\r\n..l1\r\n.\r\n");
  CHECK(transfer(m, 3) == "A: 1\r\nB: 2\r\n\r\n..l1\r\nl2\r\nl3\r\n.\r\n");
  CHECK(transfer(m, 10) == transfer(m));
  CHECK(transfer("A: 1\r\nB: 2\r\n", 0) == "A: 1\r\nB: 2\r\n.\r\n");  // no body at all
  CHECK(transfer("A: 1\r\n\r\n\r\nx\r\n", 1) == "A: 1\r\n\r\n\r\n.\r\n");  // an empty body line counts
}
