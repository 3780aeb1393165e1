// qmgr/notes.cc - see notes.h.
#include "qmgr/notes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace posthorn::qmgr {
namespace {

constexpr std::string_view kSuffix = ".expanded";

std::filesystem::path note_path(const queue::Spool& spool, const queue::QueueId& id) {
  return spool.dir(queue::QueueName::defer) / (id.str() + std::string(kSuffix));
}

std::string encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x21 && c <= 0x7e && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<std::string> decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c > 0x7e) return make_error(Errc::parse, "raw byte in an encoded field");
    if (c != '%') {
      out += static_cast<char>(c);
      continue;
    }
    if (i + 2 >= s.size()) return make_error(Errc::parse, "truncated %XX");
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return make_error(Errc::parse, "bad %XX");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::string format_note(const NoteEntry& e) {
  return cat("v1 ", e.index, e.bounced ? " bounced " : " sent ", encode(e.address));
}

Result<NoteEntry> parse_note(std::string_view line) {
  std::vector<std::string> f = split(line, ' ');
  if (f.size() != 4 || f[0] != "v1") return make_error(Errc::parse, "not a v1 note line");
  unsigned long long index = 0;
  if (!parse_uint(f[1], index) || index > 0xffffffffULL)
    return make_error(Errc::parse, "bad recipient index");
  NoteEntry e;
  e.index = static_cast<std::uint32_t>(index);
  if (f[2] == "bounced")
    e.bounced = true;
  else if (f[2] != "sent")
    return make_error(Errc::parse, "bad state");
  auto addr = decode(f[3]);
  if (!addr) return std::move(addr).error();
  if (addr->empty()) return make_error(Errc::parse, "empty address");
  e.address = std::move(*addr);
  return e;
}

Result<std::vector<NoteEntry>> read_notes(const queue::Spool& spool, const queue::QueueId& id) {
  auto text = read_file(note_path(spool, id), 16u << 20);
  if (!text) {
    if (text.error().code == Errc::not_found) return std::vector<NoteEntry>{};
    return std::move(text).error();
  }
  std::vector<NoteEntry> out;
  for (const std::string& line : split(*text, '\n'))
    if (auto e = parse_note(line)) out.push_back(std::move(*e));
  return out;
}

Result<void> append_notes(const queue::Spool& spool, const queue::QueueId& id,
                          const std::vector<NoteEntry>& entries) {
  if (entries.empty()) return {};
  const std::filesystem::path path = note_path(spool, id);
  struct stat st;
  const bool existed = ::stat(path.c_str(), &st) == 0;
  auto fd = open_file(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (!fd) return std::move(fd).error();
  std::string text;
  for (const NoteEntry& e : entries) text += format_note(e) + "\n";
  if (auto w = write_all(fd->get(), text); !w) return w;
  if (::fsync(fd->get()) != 0) return sys_error(cat("fsync ", path.string()));
  if (!existed) return fsync_dir(path.parent_path());
  return {};
}

Result<void> remove_notes(const queue::Spool& spool, const queue::QueueId& id) {
  const std::filesystem::path path = note_path(spool, id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error(cat("unlink ", path.string()));
  return {};
}

std::size_t remove_orphan_notes(const queue::Spool& spool) {
  std::error_code ec;
  std::size_t removed = 0;
  std::filesystem::directory_iterator it(spool.dir(queue::QueueName::defer), ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() <= kSuffix.size() || name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
      continue;
    auto id = queue::QueueId::parse(std::string_view(name).substr(0, name.size() - kSuffix.size()));
    if (!id) continue;
    bool alive = false;
    for (queue::QueueName q : {queue::QueueName::incoming, queue::QueueName::active,
                               queue::QueueName::deferred, queue::QueueName::hold}) {
      struct stat st;
      if (::lstat(spool.file(q, *id).c_str(), &st) == 0) alive = true;
    }
    if (!alive && ::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace posthorn::qmgr
