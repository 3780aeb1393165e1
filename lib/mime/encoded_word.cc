// lib/mime/encoded_word.cc - RFC 2047 decoding.
#include "lib/mime/encoded_word.h"

#include <optional>

#include "lib/base/strings.h"
#include "lib/mime/header.h"
#include "lib/mime/transfer.h"

namespace posthorn::mime {

namespace {

constexpr std::size_t kMaxWord = 1000;

struct Word {
  std::size_t length = 0;  // of "=?...?=" in the input
  std::string text;        // decoded, UTF-8
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 2047 4.2: "_" is a space, =XX an octet.
std::optional<std::string> q_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      out += ' ';
    } else if (s[i] != '=') {
      out += s[i];
    } else if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// An encoded word at the start of `s`, if there is a well-formed one in a
// charset we convert.
std::optional<Word> word_at(std::string_view s) {
  // RFC 2047 2 allows 75 octets; real mail has longer words, but a bound
  // keeps hostile input ("=?=?=?...") linear.
  s = s.substr(0, kMaxWord);
  if (s.size() < 8 || s[0] != '=' || s[1] != '?') return std::nullopt;
  std::size_t q1 = s.find('?', 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
  std::size_t end = s.find("?=", q1 + 3);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view text = s.substr(q1 + 3, end - q1 - 3);
  if (text.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  std::string charset = to_lower(s.substr(2, q1 - 2));
  if (std::size_t star = charset.find('*'); star != std::string::npos) charset.resize(star);
  char enc = static_cast<char>(s[q1 + 1] | 0x20);
  std::optional<std::string> raw;
  if (enc == 'q') {
    raw = q_decode(text);
  } else if (enc == 'b') {
    Decoded d = base64_decode(text);
    if (d.clean) raw = std::move(d.data);
  }
  if (!raw) return std::nullopt;
  Word w;
  w.length = end + 2;
  if (charset == "utf-8" || charset == "utf8" || charset == "us-ascii") {
    w.text = std::move(*raw);
  } else if (charset == "iso-8859-1" || charset == "latin1" || charset == "iso8859-1") {
    w.text = latin1_to_utf8(*raw);
  } else {
    return std::nullopt;
  }
  return w;
}

}  // namespace

std::string decode_header_text(std::string_view value) {
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    std::optional<Word> w;
    if (value[i] == '=') w = word_at(value.substr(i));
    if (w) {
      out += w->text;
      i += w->length;
      std::size_t j = i;
      while (j < value.size() && (value[j] == ' ' || value[j] == '\t' || value[j] == '\r' ||
                                  value[j] == '\n')) {
        ++j;
      }
      // White space between two encoded words is not text (RFC 2047 6.2).
      if (j < value.size() && word_at(value.substr(j))) {
        i = j;
      }
      continue;
    }
    out += value[i++];
  }
  return out;
}

}  // namespace posthorn::mime
