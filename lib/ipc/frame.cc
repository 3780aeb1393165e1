// lib/ipc/frame.cc - see frame.h and PROTOCOL.md.
#include "lib/ipc/frame.h"

#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::ipc {

namespace {

constexpr std::string_view kFormat = "1";  // the frame layout's own version

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t get_be(std::string_view s, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

// A cursor over untrusted bytes: every take checks what is left first.
struct Cursor {
  std::string_view s;
  bool take(std::size_t n, std::string_view& out) {
    if (s.size() < n) return false;
    out = s.substr(0, n);
    s.remove_prefix(n);
    return true;
  }
  bool take_be(std::size_t n, std::uint64_t& out) {
    std::string_view b;
    if (!take(n, b)) return false;
    out = get_be(b, n);
    return true;
  }
  bool take_name(std::string_view& out) {
    std::uint64_t len;
    return take_be(1, len) && take(len, out) && valid_name(out);
  }
};

Error malformed(std::string_view what) { return {Errc::protocol, cat("malformed frame: ", what)}; }

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void append_attr(std::string& out, std::string_view name, std::string_view value) {
  if (!valid_name(name)) log::panic("ipc: invalid attribute name \"", printable(name), "\"");
  if (value.size() > 0xffffffffu) log::panic("ipc: attribute ", name, " too long");
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  put_u32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
}

Result<std::vector<Attr>> parse_attrs(std::string_view bytes) {
  Cursor c{bytes};
  std::vector<Attr> attrs;
  while (!c.s.empty()) {
    std::string_view name, value;
    std::uint64_t len;
    if (!c.take_name(name)) return malformed("bad attribute name");
    if (!c.take_be(4, len) || !c.take(len, value))
      return malformed(cat("attribute ", name, " longer than its frame"));
    attrs.push_back({std::string(name), std::string(value)});
  }
  return attrs;
}

std::string serialize(const Frame& f) {
  if (!valid_name(f.name)) log::panic("ipc: invalid message name \"", printable(f.name), "\"");
  std::string body;
  body.push_back(static_cast<char>(f.kind));
  put_u64(body, f.id);
  body.push_back(static_cast<char>(f.name.size()));
  body.append(f.name);
  for (const Attr& a : f.attrs) append_attr(body, a.name, a.value);
  if (body.size() > 0xffffffffu) log::panic("ipc: frame too long to encode");
  std::string out;
  out.reserve(kHeaderSize + body.size());
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
  return out;
}

Result<Frame> parse_body(std::string_view body) {
  Cursor c{body};
  Frame f;
  std::uint64_t kind, id;
  std::string_view name;
  if (!c.take_be(1, kind) || !c.take_be(8, id)) return malformed("short header");
  if (kind < 1 || kind > 4) return malformed(cat("unknown kind ", kind));
  if (!c.take_name(name)) return malformed("bad message name");
  f.kind = static_cast<Kind>(kind);
  f.id = id;
  f.name = std::string(name);
  if (f.kind == Kind::hello && id != 0) return malformed("hello with an id");
  if ((f.kind == Kind::reply || f.kind == Kind::error) && id == 0)
    return malformed("reply without an id");
  auto attrs = parse_attrs(c.s);
  if (!attrs) return std::move(attrs).error();
  f.attrs = std::move(*attrs);
  return f;
}

Result<std::size_t> check_header(std::string_view four, std::size_t max_frame) {
  std::size_t len = static_cast<std::size_t>(get_be(four, kHeaderSize));
  if (len > max_frame)
    return make_error(Errc::too_large, cat("frame of ", len, " bytes exceeds the limit of ", max_frame));
  if (len < kMinBody) return malformed(cat("frame of ", len, " bytes is too short"));
  return len;
}

Result<std::optional<Frame>> FrameReader::next() {
  if (failed_) return *failed_;
  std::string_view rest = std::string_view(buf_).substr(pos_);
  if (rest.size() < kHeaderSize) return std::optional<Frame>();
  auto len = check_header(rest, max_);
  if (!len) return *(failed_ = len.error());
  if (rest.size() - kHeaderSize < *len) return std::optional<Frame>();
  auto f = parse_body(rest.substr(kHeaderSize, *len));
  if (!f) return *(failed_ = f.error());
  pos_ += kHeaderSize + *len;
  if (pos_ == buf_.size() || pos_ > 64 * 1024) {  // keep the buffer from creeping
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return std::optional<Frame>(std::move(*f));
}

Frame hello_frame(const Protocol& p) {
  return Frame{Kind::hello, 0, "hello",
               {{"format", std::string(kFormat)},
                {"protocol", p.name},
                {"version", std::to_string(p.version)}}};
}

Result<void> check_hello(const Frame& f, const Protocol& ours) {
  if (f.kind != Kind::hello || f.name != "hello")
    return make_error(Errc::protocol, "peer did not open with a hello");
  std::string format, protocol, version;
  for (const Attr& a : f.attrs) {
    if (a.name == "format") format = a.value;
    if (a.name == "protocol") protocol = a.value;
    if (a.name == "version") version = a.value;
  }
  if (format != kFormat)
    return make_error(Errc::protocol, cat("peer uses IPC frame format \"", printable(format),
                                          "\", this side ", kFormat));
  if (protocol != ours.name || version != std::to_string(ours.version))
    return make_error(Errc::protocol,
                      cat("protocol mismatch: peer speaks \"", printable(protocol), "\" version \"",
                          printable(version), "\", this side \"", ours.name, "\" version ",
                          ours.version));
  return {};
}

Frame error_frame(std::uint64_t id, std::string_view name, Errc code, std::string_view text) {
  return Frame{Kind::error, id, std::string(name),
               {{"code", std::string(errc_name(code))}, {"text", std::string(text)}}};
}

Error error_from_frame(const Frame& f) {
  Error e{Errc::protocol, "peer reported an error"};
  for (const Attr& a : f.attrs) {
    if (a.name == "code") e.code = errc_from_name(a.value);
    if (a.name == "text") e.detail = cat("peer: ", printable(a.value));
  }
  return e;
}

Errc errc_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Errc::invalid); ++i)
    if (errc_name(static_cast<Errc>(i)) == name) return static_cast<Errc>(i);
  return Errc::protocol;
}

}  // namespace posthorn::ipc
