// lib/mime/header.cc - header sections and structured MIME field values.
#include "lib/mime/header.h"

#include <algorithm>
#include <map>

#include "lib/base/strings.h"

namespace posthorn::mime {

namespace {

// The line starting at `pos`, with its line break (if any).
std::string_view line_at(std::string_view text, std::size_t pos) {
  std::size_t nl = text.find('\n', pos);
  return text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl + 1 - pos);
}

bool is_blank_line(std::string_view line) { return line == "\n" || line == "\r\n"; }

// RFC 5322 2.2: field-name is printable US-ASCII but ':'; obs-syntax allows
// white space before the colon.
bool is_field_line(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] > ' ' && line[i] < 127 && line[i] != ':') ++i;
  if (i == 0) return false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < line.size() && line[i] == ':';
}

bool is_continuation(std::string_view line) {
  return !line.empty() && (line[0] == ' ' || line[0] == '\t');
}

std::string_view strip_eol(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

}  // namespace

HeaderBounds find_header_end(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = line_at(text, pos);
    if (is_blank_line(line)) return {pos + line.size(), pos + line.size(), true};
    if (!is_field_line(line) && !is_continuation(line)) return {pos, pos, false};
    pos += line.size();
  }
  return {text.size(), text.size(), false};
}

void for_each_field(std::string_view header, const std::function<bool(const Field&)>& fn) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::string_view line = line_at(header, pos);
    if (is_blank_line(line) || !is_field_line(line)) {
      pos += line.size();  // a stray continuation line belongs to no field
      continue;
    }
    std::size_t start = pos;
    pos += line.size();
    while (pos < header.size() && is_continuation(line_at(header, pos))) {
      pos += line_at(header, pos).size();
    }
    std::string_view raw = header.substr(start, pos - start);
    std::size_t colon = raw.find(':');
    Field f;
    f.raw = raw;
    f.name = trim(raw.substr(0, colon));
    f.value = strip_eol(raw.substr(colon + 1));
    if (!fn(f)) return;
  }
}

std::optional<std::string_view> find_field(std::string_view header, std::string_view name) {
  std::optional<std::string_view> out;
  for_each_field(header, [&](const Field& f) {
    if (!iequals(f.name, name)) return true;
    out = f.value;
    return false;
  });
  return out;
}

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  return std::string(trim(out));
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

const std::string* StructuredValue::param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p.value;
  }
  return nullptr;
}

namespace {

// A cursor over a structured field value (RFC 2045 5.1 grammar).
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  bool done() { skip_cfws(); return i_ >= s_.size(); }
  bool eat(char c) {
    skip_cfws();
    if (i_ < s_.size() && s_[i_] == c) { ++i_; return true; }
    return false;
  }
  // A token, or anything up to the next separator for tolerance.
  std::string token(std::string_view stops) {
    skip_cfws();
    std::size_t start = i_;
    while (i_ < s_.size() && stops.find(s_[i_]) == std::string_view::npos &&
           s_[i_] != ' ' && s_[i_] != '\t' && s_[i_] != '\r' && s_[i_] != '\n' && s_[i_] != '(') {
      ++i_;
    }
    return std::string(s_.substr(start, i_ - start));
  }
  // A quoted-string (escapes removed; an unclosed quote runs to the end) or
  // a token; an unquoted value may hold "/", "=", "@" and the like.
  std::string value() {
    skip_cfws();
    if (i_ >= s_.size() || s_[i_] != '"') return token(";");
    std::string out;
    for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      else if (s_[i_] == '\r' || s_[i_] == '\n') continue;  // folding inside quotes
      out += s_[i_];
    }
    if (i_ < s_.size()) ++i_;
    return out;
  }
  void skip_to(char c) {
    while (i_ < s_.size() && s_[i_] != c) ++i_;
  }

 private:
  // White space and comments; comments nest (scanned with a counter).
  void skip_cfws() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { ++i_; continue; }
      if (c != '(') return;
      int depth = 0;
      for (; i_ < s_.size(); ++i_) {
        if (s_[i_] == '\\') { ++i_; continue; }
        if (s_[i_] == '(') ++depth;
        if (s_[i_] == ')' && --depth == 0) { ++i_; break; }
      }
    }
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_digit(s[i + 1])) >= 0 &&
        (lo = hex_digit(s[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 2231 pieces of one parameter, keyed by section number.
struct Pieces {
  std::map<unsigned long long, std::pair<std::string, bool>> sections;  // value, encoded
};

// Joins RFC 2231 sections: the charset'language' prefix sits on the first
// encoded section only (RFC 2231 4.1).
std::string join_pieces(const Pieces& p) {
  std::string out;
  std::string charset;
  bool first = true;
  for (const auto& [idx, piece] : p.sections) {
    std::string_view v = piece.first;
    if (piece.second) {
      if (first) {
        std::size_t q1 = v.find('\'');
        std::size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = to_lower(v.substr(0, q1));
          v.remove_prefix(q2 + 1);
        }
      }
      out += percent_decode(v);
    } else {
      out += v;
    }
    first = false;
  }
  if (charset == "iso-8859-1" || charset == "latin1") return latin1_to_utf8(out);
  return out;
}

}  // namespace

StructuredValue parse_structured(std::string_view value, bool with_subtype) {
  StructuredValue out;
  Lexer lx(value);
  out.type = to_lower(lx.token(with_subtype ? "/;" : ";"));
  if (with_subtype && lx.eat('/')) out.subtype = to_lower(lx.token(";"));
  std::vector<std::string> order;
  std::map<std::string, Pieces> pieces;
  while (!lx.done()) {
    if (!lx.eat(';')) {
      lx.skip_to(';');  // junk after a value: skip to the next parameter
      continue;
    }
    std::string name = to_lower(lx.token(";="));
    if (name.empty() || !lx.eat('=')) continue;
    std::string v = lx.value();
    // RFC 2231 3 and 4: name*n, name*n*, name*.
    bool encoded = name.back() == '*';
    if (encoded) name.pop_back();
    unsigned long long idx = 0;
    std::size_t star = name.rfind('*');
    if (star != std::string::npos && parse_uint(std::string_view(name).substr(star + 1), idx)) {
      name.resize(star);
    }
    if (name.empty()) continue;
    if (!pieces.count(name)) order.push_back(name);
    pieces[name].sections.try_emplace(idx, std::move(v), encoded);  // first one wins
  }
  for (const auto& name : order) out.params.push_back({name, join_pieces(pieces[name])});
  return out;
}

}  // namespace posthorn::mime
