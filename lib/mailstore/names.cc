// lib/mailstore/names.cc - see names.h.
#include "lib/mailstore/names.h"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "lib/base/strings.h"

namespace posthorn::mailstore {
namespace {

constexpr std::string_view kFlagLetters = "DFPRST";  // bit i of Flag is letter i
constexpr std::size_t kMaxDirName = 200;  // NAME_MAX is 255; leave room for temp names

Error bad_name(std::string_view why) { return make_error(Errc::invalid, cat("folder name ", why)); }

// Per-process sequence number: the "Q<n>" part that keeps two deliveries by
// one process within one microsecond apart.
std::atomic<unsigned long> g_sequence{0};

std::string escaped_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string out;
  for (const char* p = buf; *p; ++p) {
    if (*p == '/') out += "\\057";
    else if (*p == ':') out += "\\072";
    else if (*p == ',') out += "\\054";
    else out += *p;
  }
  return out;
}

}  // namespace

Result<std::string> canonical_folder_name(std::string_view name) {
  if (name.empty()) return bad_name("is empty");
  if (name.size() > kMaxDirName) return bad_name("is too long");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return bad_name("contains a control character");
    if (c >= 0x80) return bad_name("contains a non-ASCII byte (use modified UTF-7)");
    if (c == '/') return bad_name("contains '/'");
  }
  std::vector<std::string> parts = split(name, '.');
  for (const auto& p : parts)
    if (p.empty()) return bad_name("has an empty hierarchy part");
  if (iequals(parts[0], "INBOX")) parts[0] = "INBOX";
  return join(parts, ".");
}

std::string folder_dir_name(std::string_view canonical) {
  if (is_inbox(canonical)) return {};
  return cat(".", canonical);
}

bool is_inbox(std::string_view canonical) { return canonical == "INBOX"; }

void parse_size_fields(std::string_view base, FileName& out) {
  std::size_t comma = base.find(',');
  while (comma != std::string_view::npos) {
    base.remove_prefix(comma + 1);
    comma = base.find(',');
    std::string_view f = base.substr(0, comma);
    unsigned long long v;
    if (f.size() > 2 && f[1] == '=' && (f[0] == 'S' || f[0] == 'W') && parse_uint(f.substr(2), v)) {
      (f[0] == 'S' ? out.size : out.vsize) = v;
      (f[0] == 'S' ? out.has_size : out.has_vsize) = true;
    }
  }
}

FileName parse_file_name(std::string_view name) {
  FileName out;
  std::size_t colon = name.find(':');
  out.base = std::string(name.substr(0, colon));
  parse_size_fields(out.base, out);
  if (colon != std::string_view::npos) parse_info(name.substr(colon), out);
  return out;
}

void parse_info(std::string_view info, FileName& out) {
  // ":1," is experimental; anything but ":2," carries no flags.
  if (info.size() < 3 || info[0] != ':' || info[1] != '2' || info[2] != ',') return;
  for (char c : info.substr(3)) {
    std::size_t i = kFlagLetters.find(c);
    if (i != std::string_view::npos) out.flags |= 1u << i;
    else if (c >= 'a' && c <= 'z') out.keywords |= 1u << (c - 'a');
    else if (out.other_flags.find(c) == std::string::npos) out.other_flags += c;
  }
}

std::string cur_file_name(std::string_view base, unsigned flags, std::uint32_t keywords,
                          std::string_view other_flags) {
  std::string letters(other_flags);
  for (std::size_t i = 0; i < kFlagLetters.size(); ++i)
    if (flags & (1u << i)) letters += kFlagLetters[i];
  for (int i = 0; i < kMaxKeywords; ++i)
    if (keywords & (1u << i)) letters += static_cast<char>('a' + i);
  std::sort(letters.begin(), letters.end());  // Maildir requires ASCII order
  letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
  return cat(base, ":2,", letters);
}

std::string unique_base() {
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  static const std::string host = escaped_host();
  return cat(tv.tv_sec, ".M", tv.tv_usec, "P", ::getpid(), "Q", ++g_sequence, ".", host);
}

// Natural order: runs of digits compare as numbers, so that the
// microseconds of "<sec>.M<usec>P<pid>..." order names within one second
// even where they are not zero-padded (Python's mailbox module, Posthorn's
// own names).
unsigned long long arrival_seconds(std::string_view s) {
  unsigned long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 1'000'000'000'000ULL) break;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

bool arrived_before(std::string_view a, std::string_view b) {
  unsigned long long ta = arrival_seconds(a), tb = arrival_seconds(b);
  if (ta != tb) return ta < tb;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      while (i < a.size() && a[i] == '0') ++i;
      while (j < b.size() && b[j] == '0') ++j;
      std::size_t ei = i, ej = j;
      while (ei < a.size() && digit(a[ei])) ++ei;
      while (ej < b.size() && digit(b[ej])) ++ej;
      if (ei - i != ej - j) return ei - i < ej - j;
      int c = a.substr(i, ei - i).compare(b.substr(j, ej - j));
      if (c != 0) return c < 0;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;  // equal but for leading zeros: any fixed order
}

}  // namespace posthorn::mailstore
