// lib/mime/transfer.cc - quoted-printable and base64.
#include "lib/mime/transfer.h"

#include <cstdint>

namespace posthorn::mime {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::size_t kMaxLine = 76;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Encodes one line (no line break in it) onto `out`.
void qp_line(std::string_view line, std::string_view eol, std::string& out) {
  std::size_t col = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    std::size_t width = plain ? 1 : 3;
    // Room for this and, unless it is the last, a soft-break "=".
    if (col + width > (last ? kMaxLine : kMaxLine - 1)) {
      out += '=';
      out += eol;
      col = 0;
      // A soft break must not start a line that reads as a multipart
      // delimiter ("--boundary"), so a leading "-" is encoded.
      if (c == '-') {
        plain = false;
        width = 3;
      }
    }
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    col += width;
  }
}

}  // namespace

std::string qp_encode(std::string_view in, std::string_view eol) {
  std::string out;
  out.reserve(in.size() + in.size() / 8);
  std::size_t pos = 0;
  while (pos <= in.size()) {
    std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) {
      qp_line(in.substr(pos), eol, out);
      break;
    }
    std::size_t end = nl;
    if (end > pos && in[end - 1] == '\r') --end;
    qp_line(in.substr(pos, end - pos), eol, out);
    out += eol;
    pos = nl + 1;
  }
  return out;
}

Decoded qp_decode(std::string_view in) {
  Decoded d;
  d.data.reserve(in.size());
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t nl = in.find('\n', pos);
    std::size_t next = nl == std::string_view::npos ? in.size() : nl + 1;
    std::string_view line = in.substr(pos, next - pos);
    std::string_view brk;
    if (!line.empty() && line.back() == '\n') {
      bool cr = line.size() >= 2 && line[line.size() - 2] == '\r';
      brk = line.substr(line.size() - (cr ? 2 : 1));
      line.remove_suffix(brk.size());
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    bool soft = !line.empty() && line.back() == '=';
    if (soft) line.remove_suffix(1);
    for (std::size_t i = 0; i < line.size(); ++i) {
      int hi = 0, lo = 0;
      if (line[i] != '=') {
        d.data += line[i];
      } else if (i + 2 < line.size() && (hi = hex_value(line[i + 1])) >= 0 &&
                 (lo = hex_value(line[i + 2])) >= 0) {
        d.data += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        d.clean = false;
        d.data += '=';
      }
    }
    if (!soft) d.data += brk;
    pos = next;
  }
  return d;
}

std::string base64_encode(std::string_view in, std::string_view eol) {
  std::string out;
  out.reserve(in.size() * 4 / 3 + in.size() / 38 + 8);
  std::size_t col = 0;
  auto put = [&](char c) {
    out += c;
    if (++col == kMaxLine && !eol.empty()) {
      out += eol;
      col = 0;
    }
  };
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                      (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    put(kB64[v >> 18]); put(kB64[(v >> 12) & 63]); put(kB64[(v >> 6) & 63]); put(kB64[v & 63]);
  }
  if (i < in.size()) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    put(kB64[v >> 18]);
    put(kB64[(v >> 12) & 63]);
    put(i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=');
    put('=');
  }
  if (col > 0 && !eol.empty()) out += eol;
  return out;
}

Decoded base64_decode(std::string_view in) {
  Decoded d;
  d.data.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0, pad = 0;
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const char* hit = c ? std::char_traits<char>::find(kB64, 64, c) : nullptr;
    if (hit == nullptr || pad > 0) {
      d.clean = false;  // garbage, or data after the padding
      continue;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(hit - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      d.data += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // What is left must be a whole group: 4 bits after "xx==", 2 after "xxx=".
  if (bits >= 6 || (bits == 4 && pad != 2) || (bits == 2 && pad != 1) || (bits == 0 && pad)) {
    d.clean = false;
  }
  return d;
}

}  // namespace posthorn::mime
