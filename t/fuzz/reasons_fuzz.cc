// reasons_fuzz - arbitrary bytes into the reason-log parser (lib/queue/reasons.h).
//
// The first byte chooses the mode:
//   even: the rest is a log file's text. Every line the parser accepts must
//         format back to exactly that line (one canonical form), every other
//         line is counted as skipped, and latest_per_recipient() returns one
//         record per index, in order, each the last one for its index.
//   odd:  the rest is cut into a record's fields (time, index, four strings at
//         cut points taken from the input); the formatted line must be one
//         line of printable ASCII that parses back to the same record.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "lib/queue/reasons.h"

using namespace posthorn::queue;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check_log_text(std::string_view text) {
  std::size_t skipped = 0;
  std::vector<Reason> records = parse_reasons(text, &skipped);
  std::size_t accepted = 0, rejected = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      ++rejected;
      break;
    }
    std::string_view line = rest.substr(0, nl);
    auto r = parse_reason_line(line);
    if (r) {
      require(accepted < records.size(), "parse_reasons lost a record");
      require(records[accepted] == *r, "parse_reasons and parse_reason_line disagree");
      require(format_reason_line(*r) == line, "an accepted line is not canonical");
      ++accepted;
    } else {
      ++rejected;
    }
    rest.remove_prefix(nl + 1);
  }
  require(accepted == records.size(), "parse_reasons invented a record");
  require(rejected == skipped, "skipped lines miscounted");

  std::vector<Reason> latest = latest_per_recipient(records);
  for (std::size_t i = 0; i < latest.size(); ++i) {
    if (i > 0) require(latest[i - 1].index < latest[i].index, "latest not ordered by index");
    const Reason* last = nullptr;
    for (const Reason& r : records)
      if (r.index == latest[i].index) last = &r;
    require(last && *last == latest[i], "latest is not the last record of its index");
  }
}

void check_record(std::string_view in) {
  Reason r;
  std::uint64_t t = 0;
  std::uint32_t index = 0;
  std::memcpy(&t, in.data(), in.size() < 8 ? in.size() : 8);
  in.remove_prefix(in.size() < 8 ? in.size() : 8);
  std::memcpy(&index, in.data(), in.size() < 4 ? in.size() : 4);
  in.remove_prefix(in.size() < 4 ? in.size() : 4);
  r.time = static_cast<std::int64_t>(t);
  r.index = index;
  std::string* fields[] = {&r.dsn, &r.relay, &r.address, &r.text};
  for (std::string* f : fields) {  // each field up to the next 0xFF byte
    std::size_t cut = in.find('\xff');
    *f = std::string(in.substr(0, cut));
    in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
  }
  std::string line = format_reason_line(r);
  for (char c : line)
    require(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e,
            "formatted record is not printable ASCII");
  auto back = parse_reason_line(line);
  require(back.has_value(), "a formatted record does not parse");
  require(*back == r, "a record does not round-trip");
  check_log_text(line + "\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) check_record(in);
  else check_log_text(in);
  return 0;
}
