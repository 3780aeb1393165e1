// local/sysexits.cc - see sysexits.h.
#include "local/sysexits.h"

#include <cctype>

#include "lib/base/strings.h"

namespace posthorn::local {

namespace {

struct Entry {
  int code;
  std::string_view dsn;
  std::string_view text;
};

// <sysexits.h> from EX_USAGE (64) to EX_CONFIG (78), in order.
constexpr Entry kTable[] = {
    {64, "5.3.0", "command line usage error"},
    {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},
    {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},
    {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},
    {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},
    {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},
    {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},
    {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

constexpr std::size_t kMaxOutputText = 200;

// The first non-empty line of the output, printable and bounded.
std::string first_line(std::string_view out) {
  while (!out.empty()) {
    std::size_t nl = out.find('\n');
    std::string_view line = trim(out.substr(0, nl));
    if (!line.empty()) {
      std::string p = printable(line.substr(0, kMaxOutputText));
      if (line.size() > kMaxOutputText) p += "...";
      return p;
    }
    if (nl == std::string_view::npos) break;
    out.remove_prefix(nl + 1);
  }
  return {};
}

std::string with_output(std::string text, const std::string& output) {
  std::string line = first_line(output);
  if (!line.empty()) text += cat(". Command output: ", line);
  return text;
}

}  // namespace

ExitMeaning sysexit_meaning(int code) {
  for (const Entry& e : kTable)
    if (e.code == code) return {std::string(e.dsn), std::string(e.text), e.dsn[0] == '4'};
  return {"5.3.0", cat("unknown mail system error ", code), false};
}

std::string leading_status_code(std::string_view t) {
  // X.Y.Z: class 4 or 5, subject 1-3 digits, detail 1-3 digits (RFC 3463).
  std::size_t i = 0;
  auto digits = [&](std::size_t max) {
    std::size_t start = i;
    while (i < t.size() && i - start < max && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    return i > start && (i >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i])));
  };
  if (t.empty() || (t[0] != '4' && t[0] != '5')) return {};
  i = 1;
  if (i >= t.size() || t[i++] != '.' || !digits(3)) return {};
  if (i >= t.size() || t[i++] != '.' || !digits(3)) return {};
  if (i < t.size() && std::isalnum(static_cast<unsigned char>(t[i]))) return {};
  return std::string(t.substr(0, i));
}

Outcome command_outcome(const CommandEnd& end, std::string_view command) {
  const std::string cmd = printable(command);
  switch (end.how) {
    case CommandEnd::How::not_started:
      return Outcome::deferred("4.3.0", cat("cannot run command ", cmd, ": ", end.error));
    case CommandEnd::How::timed_out:
      return Outcome::deferred("4.3.0", with_output(cat("command time limit exceeded: ", cmd), end.output));
    case CommandEnd::How::signaled:
      return Outcome::deferred(
          "4.3.0", with_output(cat("command died with signal ", end.code, ": ", cmd), end.output));
    case CommandEnd::How::exited:
      break;
  }
  if (end.code == 0) return Outcome::sent(cat("delivered to command: ", cmd));
  ExitMeaning m = sysexit_meaning(end.code);
  std::string own = leading_status_code(trim(end.output));
  if (!own.empty()) {
    m.dsn = own;
    m.temporary = own[0] == '4';
  }
  std::string text = with_output(std::move(m.text), end.output);
  return m.temporary ? Outcome::deferred(m.dsn, std::move(text))
                     : Outcome::bounced(m.dsn, std::move(text));
}

}  // namespace posthorn::local
