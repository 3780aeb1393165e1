// imapd/parser.cc - see parser.h.
//
// step() runs one of three modes until something needs the session:
//   line     a whole line is tokenized into the open lists; a literal marker
//            at its end switches to literal mode, otherwise the command ends
//   literal  the announced octets are appended to the string they belong to,
//            then the command goes on with its next line
//   discard  the rest of a refused command is skipped (see parser.h)
#include "imapd/parser.h"

#include <limits>

#include "lib/base/strings.h"

namespace posthorn::imapd {
namespace {

// 8-bit octets are taken too: RFC 3501 wants them in literals only, but
// clients (Python's imaplib among them) send UTF-8 search strings as atoms.
bool atom_char(unsigned char c) {
  return c > 0x20 && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

// One line of input: the text without its line break, and how many octets
// the line took (with the break). nullopt when no line break has come yet.
struct Line {
  std::string_view text;
  std::size_t used = 0;
};
std::optional<Line> next_line(std::string_view in) {
  std::size_t lf = in.find('\n');
  if (lf == std::string_view::npos) return std::nullopt;
  std::string_view text = in.substr(0, lf);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return Line{text, lf + 1};
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::optional<std::uint64_t> parse_size(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  unsigned long long n = 0;
  if (!parse_uint(digits, n)) return std::nullopt;
  return n;
}

}  // namespace

bool Value::is(std::string_view word) const { return kind == Kind::atom && iequals(text, word); }

bool valid_tag(std::string_view tag) {
  if (tag.empty()) return false;
  for (unsigned char c : tag) {
    // ASTRING-CHAR = ATOM-CHAR / "]"; atom-specials include "%", "*", "\".
    if (!atom_char(c) || c >= 0x80 || c == '%' || c == '*' || c == '\\' || c == '+' || c == '[')
      return false;
  }
  return true;
}

std::optional<LiteralMarker> trailing_literal(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  LiteralMarker m;
  if (!inner.empty() && inner.back() == '+') {
    m.sync = false;
    inner.remove_suffix(1);
  }
  auto n = parse_size(inner);
  if (!n) return std::nullopt;
  m.size = *n;
  return m;
}

void CommandReader::reset() {
  started_ = false;
  text_used_ = 0;
  literal_used_ = 0;
  top_.clear();
  open_.clear();
  in_literal_ = false;
  literal_left_ = 0;
  literal_target_ = nullptr;
}

std::vector<Value>& CommandReader::current() { return open_.empty() ? top_ : open_.back()->items; }

Command CommandReader::take() {
  Command c;
  c.tag = top_[0].text;
  c.name = upper(top_[1].text);
  c.args.assign(std::make_move_iterator(top_.begin() + 2), std::make_move_iterator(top_.end()));
  reset();
  tag_.clear();
  return c;
}

CommandReader::Event CommandReader::step(std::string_view in, std::size_t& used) {
  used = 0;
  for (;;) {
    std::string_view rest = in.substr(used);
    std::size_t n = 0;
    Event e;
    if (discarding_) e = discard_step(rest, n);
    else if (in_literal_) e = literal_step(rest, n);
    else e = line_step(rest, n);
    used += n;
    if (e != Event::need_more || n == 0) return e;
  }
}

CommandReader::Event CommandReader::discard_step(std::string_view in, std::size_t& used) {
  if (discard_left_ > 0) {
    used = static_cast<std::size_t>(std::min<std::uint64_t>(discard_left_, in.size()));
    discard_left_ -= used;
    return Event::need_more;
  }
  auto line = next_line(in);
  if (!line) {
    // A line longer than max_line ends the connection here as well.
    return in.size() > limits_.max_line ? Event::line_too_long : Event::need_more;
  }
  used = line->used;
  auto m = trailing_literal(line->text);
  if (m && !m->sync) {
    if (m->size > limits_.max_literal) {
      literal_size_ = m->size;
      literal_sync_ = false;
      return Event::literal_too_big;
    }
    discard_left_ = m->size;
  } else {
    discarding_ = false;  // the refused command has ended
  }
  return Event::need_more;
}

CommandReader::Event CommandReader::literal_step(std::string_view in, std::size_t& used) {
  used = static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, in.size()));
  literal_target_->text.append(in.substr(0, used));
  literal_left_ -= used;
  if (literal_left_ == 0) {
    in_literal_ = false;
    literal_target_ = nullptr;
  }
  return Event::need_more;
}

CommandReader::Event CommandReader::line_step(std::string_view in, std::size_t& used) {
  auto line = next_line(in);
  if (!line) {
    if (text_used_ + in.size() > limits_.max_line) return Event::line_too_long;
    return Event::need_more;
  }
  used = line->used;
  text_used_ += line->used;
  if (text_used_ > limits_.max_line) return Event::line_too_long;
  if (!started_) {
    if (line->text.empty()) return Event::need_more;  // a stray empty line
    tag_.clear();
    started_ = true;
  }
  marker_seen_ = false;
  Event e = tokenize(line->text);
  if (e != Event::need_more) return e;
  // The command goes on after the literal's octets.
  if (marker_seen_) return literal_sync_ ? Event::literal : Event::need_more;
  if (!open_.empty()) return fail("Unclosed parenthesis", {});
  return finish();
}

CommandReader::Event CommandReader::fail(std::string msg, std::string_view line) {
  error_ = std::move(msg);
  auto m = trailing_literal(line);
  reset();
  if (m && !m->sync) {
    if (m->size > limits_.max_literal) {
      literal_size_ = m->size;
      literal_sync_ = false;
      return Event::literal_too_big;
    }
    discarding_ = true;
    discard_left_ = m->size;
  }
  return Event::bad;
}

CommandReader::Event CommandReader::finish() {
  if (top_.empty() || !top_[0].is_atom() || !valid_tag(top_[0].text)) {
    tag_.clear();
    return fail("Invalid tag", {});
  }
  tag_ = top_[0].text;
  if (top_.size() < 2 || !top_[1].is_atom()) return fail("Missing command", {});
  return Event::command;
}

// The tokens of one line, appended to the innermost open list.
CommandReader::Event CommandReader::tokenize(std::string_view line) {
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == ' ') {
      ++i;
    } else if (c == '(') {
      if (open_.size() >= limits_.max_nesting) return fail("Too deeply nested", line);
      Value v;
      v.kind = Value::Kind::list;
      current().push_back(std::move(v));
      open_.push_back(&current().back());
      ++i;
    } else if (c == ')') {
      if (open_.empty()) return fail("Unexpected ')'", line);
      open_.pop_back();
      ++i;
    } else if (c == '"') {
      Value v;
      v.kind = Value::Kind::string;
      for (++i;; ++i) {
        if (i >= n) return fail("Unterminated quoted string", line);
        char q = line[i];
        if (q == '"') break;
        if (q == '\0') return fail("NUL in quoted string", line);
        if (q == '\\') {
          if (i + 1 >= n || (line[i + 1] != '"' && line[i + 1] != '\\'))
            return fail("Bad escape in quoted string", line);
          q = line[++i];
        }
        v.text += q;
      }
      ++i;
      current().push_back(std::move(v));
    } else if (c == '{' || (c == '~' && i + 1 < n && line[i + 1] == '{')) {
      const bool binary = c == '~';  // literal8 (RFC 3516): the same, NUL allowed
      if (binary) ++i;
      std::size_t close = line.find('}', i);
      if (close == std::string_view::npos || close + 1 != n)
        return fail("Literal marker must end the line", line);
      std::string_view inner = line.substr(i + 1, close - i - 1);
      bool sync = true;
      if (!inner.empty() && inner.back() == '+') {
        sync = false;
        inner.remove_suffix(1);
      }
      auto size = parse_size(inner);
      if (!size) return fail("Bad literal size", line);
      literal_size_ = *size;
      literal_sync_ = sync;
      if (*size > limits_.max_literal - literal_used_) {
        if (sync) reset();  // the client sends nothing more of this command
        return Event::literal_too_big;
      }
      literal_used_ += *size;
      Value v;
      v.kind = Value::Kind::string;
      v.literal = true;
      v.binary = binary;
      current().push_back(std::move(v));
      literal_target_ = &current().back();
      literal_left_ = *size;
      in_literal_ = *size > 0;
      if (!in_literal_) literal_target_ = nullptr;
      marker_seen_ = true;
      i = n;
    } else {
      Value v;
      int depth = 0;
      bool quoted = false;
      while (i < n) {
        unsigned char a = static_cast<unsigned char>(line[i]);
        if (depth > 0) {
          if (a < 0x20 || a == 0x7f) return fail("Control character in atom", line);
          if (quoted) {
            if (a == '\\' && i + 1 < n) v.text += line[i++];
            else if (a == '"') quoted = false;
          } else if (a == '"') {
            quoted = true;
          } else if (a == '[') {
            ++depth;
          } else if (a == ']') {
            --depth;
          }
          v.text += line[i++];
          continue;
        }
        if (a == ' ' || a == '(' || a == ')') break;
        if (!atom_char(a)) return fail("Invalid character in atom", line);
        if (a == '[') ++depth;
        v.text += line[i++];
      }
      if (depth > 0) return fail("Unterminated '['", line);
      if (started_ && top_.empty() && open_.empty()) {
        tag_ = valid_tag(v.text) ? v.text : std::string();
      }
      current().push_back(std::move(v));
    }
  }
  return Event::need_more;
}

}  // namespace posthorn::imapd
