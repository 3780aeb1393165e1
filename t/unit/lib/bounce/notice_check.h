// Test helpers for lib/bounce: a composed notice parsed back with lib/mime,
// and the checks every notice must pass whatever it reports.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/strings.h"
#include "lib/bounce/bounce.h"
#include "lib/mime/header.h"
#include "lib/mime/message.h"

namespace posthorn::bounce::test {

// Header fields in order, values unfolded.
struct Fields {
  std::vector<std::pair<std::string, std::string>> list;
  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& [k, v] : list) n += iequals(k, name) ? 1 : 0;
    return n;
  }
  // The value of the one field `name`; "<missing>" or "<twice>" otherwise.
  std::string get(std::string_view name) const {
    std::size_t n = count(name);
    if (n != 1) return n == 0 ? "<missing>" : "<twice>";
    for (const auto& [k, v] : list)
      if (iequals(k, name)) return v;
    return {};
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : list) out.push_back(k);
    return out;
  }
};

inline Fields fields_of(std::string_view header) {
  Fields f;
  mime::for_each_field(header, [&](const mime::Field& fl) {
    f.list.emplace_back(std::string(fl.name), mime::unfold(fl.value));
    return true;
  });
  return f;
}

// The groups of fields of a message/delivery-status body (RFC 3464 2.1: the
// per-message group, then one per recipient, separated by blank lines).
inline std::vector<Fields> status_groups(std::string_view body) {
  std::vector<Fields> out;
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find("\r\n\r\n", at);
    std::string_view group = body.substr(at, end == std::string_view::npos ? end : end + 2 - at);
    if (!trim(group).empty()) out.push_back(fields_of(group));
    if (end == std::string_view::npos) break;
    at = end + 4;
  }
  return out;
}

// A notice parsed back: its bytes, the MIME tree and the parts by role.
struct Parsed {
  std::string data;
  mime::Message msg;
  Fields header;
  const mime::Part* text = nullptr;
  const mime::Part* report = nullptr;
  const mime::Part* returned = nullptr;
  std::vector<Fields> groups;  // of the report
  std::string_view body(const mime::Part* p) const { return msg.body(*p); }
  std::string type(const mime::Part* p) const {
    return p->content_type.type + "/" + p->content_type.subtype;
  }
  Fields part_header(const mime::Part* p) const { return fields_of(msg.header(*p)); }
};

inline std::unique_ptr<Parsed> parse_notice(const Notice& n) {
  auto p = std::make_unique<Parsed>();
  p->data = n.headers + n.body;
  p->msg = mime::parse(std::string_view(p->data));
  p->header = fields_of(p->msg.header(p->msg.root()));
  const mime::Part& root = p->msg.root();
  REQUIRE(root.content_type.type == "multipart");
  REQUIRE(root.content_type.subtype == "report");
  REQUIRE(root.children.size() == 3);
  p->text = &p->msg.parts[root.children[0]];
  p->report = &p->msg.parts[root.children[1]];
  p->returned = &p->msg.parts[root.children[2]];
  p->groups = status_groups(p->body(p->report));
  return p;
}

// Every line ends in CRLF and has at most 998 octets; no NUL.
inline void check_lines(std::string_view s) {
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t end = s.find("\r\n", at);
    REQUIRE(end != std::string_view::npos);
    std::string_view line = s.substr(at, end - at);
    INFO(std::string(line.substr(0, 80)));
    CHECK(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    CHECK(line.size() <= 998);
    at = end + 2;
  }
}

inline bool has_8bit_octet(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

// What holds for every notice: the header fields once each, the report type
// matching the second part, 8bit declared exactly where there are 8-bit
// octets, CRLF lines, an envelope that never bounces.
inline void check_well_formed(const Notice& n, const Parsed& p) {
  check_lines(n.headers);
  check_lines(n.body);
  REQUIRE(n.headers.ends_with("\r\n\r\n"));
  for (const char* f : {"Date", "From", "Subject", "To", "Auto-Submitted", "MIME-Version",
                        "Content-Type", "Message-ID"})
    CHECK(p.header.count(f) == 1);
  CHECK(p.header.get("Auto-Submitted") == "auto-replied");
  CHECK(p.header.get("MIME-Version") == "1.0");
  const std::string* report_type = p.msg.root().content_type.param("report-type");
  REQUIRE(report_type);
  CHECK(*report_type == p.report->content_type.subtype);
  CHECK(p.type(p.text) == "text/plain");
  bool body8 = has_8bit_octet(n.body);
  CHECK((p.header.count("Content-Transfer-Encoding") == 1) == body8);
  CHECK(n.env.body_type ==
        (body8 ? queue::BodyType::eight_bit_mime : queue::BodyType::seven_bit));
  for (const mime::Part* part : {p.text, p.report, p.returned})
    CHECK((p.part_header(part).get("Content-Transfer-Encoding") == "8bit") ==
          has_8bit_octet(p.body(part)));
  REQUIRE(n.env.recipients.size() == 1);
  CHECK(n.env.recipients[0].notify == queue::kNotifyNever);
  CHECK(n.env.recipients[0].address == p.header.get("To"));
  CHECK(n.env.client.protocol == "local");
  REQUIRE(!p.groups.empty());
  CHECK(p.groups[0].count("Reporting-MTA") == 1);
}

}  // namespace posthorn::bounce::test
