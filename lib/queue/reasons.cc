// lib/queue/reasons.cc - see reasons.h.
#include "lib/queue/reasons.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <limits>
#include <map>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::queue {
namespace {

constexpr std::string_view kVersion = "v1";
constexpr char kHex[] = "0123456789ABCDEF";

bool needs_escape(unsigned char c) { return c < 0x21 || c > 0x7e || c == '%'; }

void encode_into(std::string& out, std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (needs_escape(c)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not canonical
}

// Strict inverse of encode_into: only the one form it writes.
bool decode(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c != '%') {
      if (needs_escape(c)) return false;
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    auto b = static_cast<unsigned char>(hi * 16 + lo);
    if (!needs_escape(b)) return false;  // "%41" for 'A' is not how we write it
    out += static_cast<char>(b);
    i += 2;
  }
  return true;
}

// Canonical decimal: no sign, no leading zero (but "0" itself).
template <class T>
bool parse_canonical(std::string_view s, T& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_time(std::string_view s, std::int64_t& out) {
  if (!s.empty() && s[0] == '-') {
    if (s == "-0" || s.size() < 2 || s[1] == '0') return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  }
  return !s.empty() && s[0] != '+' && parse_canonical(s, out);
}

bool is_log(QueueName log) { return log == QueueName::defer || log == QueueName::bounce; }

Error not_a_log() {
  return make_error(Errc::invalid, "reason logs are defer/ and bounce/ only");
}

// Opens LOG/ID for appending, creating it when missing. `created` tells
// whether this call made the file (its directory entry then needs an fsync).
Result<Fd> open_for_append(const std::filesystem::path& path, bool& created) {
  for (int tries = 0; tries < 3; ++tries) {
    auto fd = open_file(path, O_RDWR | O_APPEND);
    if (fd || fd.error().code != Errc::not_found) {
      created = false;
      return fd;
    }
    auto made = open_file(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0600);
    if (made || made.error().code != Errc::exists) {
      created = true;
      return made;
    }
    // Someone created it between the two calls: open it again.
  }
  return make_error(Errc::io, cat("open ", path.string(), ": keeps appearing and vanishing"));
}

// Cuts a last line that lacks its '\n' (a write torn by a crash), so that the
// next record starts on a line of its own. Reads the tail backwards.
Result<void> cut_torn_tail(int fd, const std::filesystem::path& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error(cat("fstat ", path.string()));
  auto end = static_cast<std::uint64_t>(st.st_size);
  if (end == 0) return {};
  char buf[4096];
  std::uint64_t pos = end;
  while (pos > 0) {
    std::size_t n = pos < sizeof buf ? static_cast<std::size_t>(pos) : sizeof buf;
    ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(pos - n));
    if (got < 0 && errno == EINTR) continue;
    if (got != static_cast<ssize_t>(n)) return sys_error(cat("pread ", path.string()));
    for (std::size_t i = n; i > 0; --i) {
      if (buf[i - 1] != '\n') continue;
      std::uint64_t keep = pos - n + i;
      if (keep == end) return {};  // the file ends with a whole line
      if (::ftruncate(fd, static_cast<off_t>(keep)) != 0)
        return sys_error(cat("ftruncate ", path.string()));
      return {};
    }
    pos -= n;
  }
  if (::ftruncate(fd, 0) != 0) return sys_error(cat("ftruncate ", path.string()));
  return {};
}

}  // namespace

std::string format_reason_line(const Reason& r) {
  std::string out = cat(kVersion, " ", r.time, " ", r.index, " ");
  encode_into(out, r.dsn);
  out += ' ';
  encode_into(out, r.relay);
  out += ' ';
  encode_into(out, r.address);
  out += ' ';
  encode_into(out, r.text);
  return out;
}

Result<Reason> parse_reason_line(std::string_view line) {
  std::vector<std::string> f = split(line, ' ');
  if (f.size() != 7) return make_error(Errc::corrupt, cat("reason record: ", f.size(), " fields, expected 7"));
  if (f[0] != kVersion) return make_error(Errc::corrupt, "reason record: not version v1");
  Reason r;
  if (!parse_time(f[1], r.time)) return make_error(Errc::corrupt, "reason record: bad time");
  if (!parse_canonical(f[2], r.index)) return make_error(Errc::corrupt, "reason record: bad index");
  if (!decode(f[3], r.dsn) || !decode(f[4], r.relay) || !decode(f[5], r.address) ||
      !decode(f[6], r.text))
    return make_error(Errc::corrupt, "reason record: bad encoding");
  return r;
}

Result<void> append_reason(const Spool& spool, QueueName log, const QueueId& id, const Reason& r,
                           bool durable) {
  if (!is_log(log)) return not_a_log();
  std::filesystem::path path = spool.file(log, id);
  bool created = false;
  auto fd = open_for_append(path, created);
  if (!fd) return std::move(fd).error();
  if (!created)
    if (auto cut = cut_torn_tail(fd->get(), path); !cut) return cut;
  std::string line = format_reason_line(r);
  line += '\n';
  // One write(2) (a regular file takes it whole unless the disk fills up): a
  // crash leaves the whole line, a prefix of it, or nothing.
  if (auto w = write_all(fd->get(), line); !w)
    return make_error(w.error().code, cat(path.string(), ": ", w.error().detail));
  if (!durable) return {};
  if (::fsync(fd->get()) != 0) return sys_error(cat("fsync ", path.string()));
  if (created) return fsync_dir(spool.dir(log));
  return {};
}

Result<std::vector<Reason>> read_reasons(const Spool& spool, QueueName log, const QueueId& id,
                                         std::size_t* skipped) {
  if (skipped) *skipped = 0;
  if (!is_log(log)) return not_a_log();
  auto text = read_file(spool.file(log, id), kMaxReasonsFile);
  if (!text) {
    if (text.error().code == Errc::not_found) return std::vector<Reason>{};
    return std::move(text).error();
  }
  return parse_reasons(*text, skipped);
}

std::vector<Reason> parse_reasons(std::string_view text, std::size_t* skipped) {
  std::vector<Reason> out;
  std::size_t bad = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {  // torn last line
      ++bad;
      break;
    }
    auto r = parse_reason_line(text.substr(0, nl));
    if (r) out.push_back(std::move(*r));
    else ++bad;
    text.remove_prefix(nl + 1);
  }
  if (skipped) *skipped = bad;
  return out;
}

std::vector<Reason> latest_per_recipient(const std::vector<Reason>& all) {
  std::map<std::uint32_t, const Reason*> last;
  for (const Reason& r : all) last[r.index] = &r;
  std::vector<Reason> out;
  out.reserve(last.size());
  for (const auto& [index, r] : last) out.push_back(*r);
  return out;
}

Result<void> remove_reasons(const Spool& spool, QueueName log, const QueueId& id) {
  if (!is_log(log)) return not_a_log();
  std::filesystem::path path = spool.file(log, id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error(cat("unlink ", path.string()));
  return {};
}

}  // namespace posthorn::queue
