// lib/address/header.cc - see header.h.
//
// Two steps: a lexer turns the field body into tokens (atoms, quoted strings,
// domain literals, specials), dropping comments and folding whitespace but
// noting where blanks were; a parser walks the tokens. Neither recurses, so
// input depth cannot exhaust the stack.
#include "lib/address/header.h"

#include "lib/address/syntax.h"

namespace posthorn::address {
namespace {

enum class Tok { atom, quoted, literal, special };

struct Token {
  Tok kind;
  std::string text;           // content (quoted: unescaped; literal: "[...]")
  bool space_before = false;  // blanks or a comment before it
  bool is(char c) const { return kind == Tok::special && text[0] == c; }
  bool word() const { return kind == Tok::atom || kind == Tok::quoted; }
};

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Line ends may only fold (RFC 5322 3.2.2) or end the value. Returns the
// octets the line end takes (the following blank is left), or 0 if bare.
std::size_t fold_len(std::string_view s, std::size_t i) {
  std::size_t n = (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : (s[i] == '\n' ? 1 : 0);
  if (n == 0) return 0;
  if (i + n == s.size() || is_wsp(s[i + n])) return n;
  return 0;
}

struct Lexer {
  std::string_view s;
  std::size_t i = 0;
  std::vector<Token> out;
  bool space = false;

  Result<void> error() { return make_address_error(Code::syntax); }

  // A comment: nesting counted, quoted pairs skipped (RFC 5322 3.2.2).
  Result<void> comment() {
    std::size_t depth = 1;
    for (++i; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '\0') return error();
      if (c == '\r' || c == '\n') {
        const std::size_t n = fold_len(s, i);
        if (n == 0) return error();
        i += n - 1;
      } else if (c == '\\') {
        if (++i == s.size() || s[i] == '\0' || s[i] == '\r' || s[i] == '\n') return error();
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        ++i;
        return {};
      }
    }
    return error();
  }

  Result<void> quoted() {
    std::string text;
    for (++i; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '\0') return error();
      if (c == '\r' || c == '\n') {
        const std::size_t n = fold_len(s, i);
        if (n == 0) return error();
        i += n - 1;  // unfolding removes the line end, keeps the blank
      } else if (c == '\\') {
        if (++i == s.size() || s[i] == '\0' || s[i] == '\r' || s[i] == '\n') return error();
        text += s[i];
      } else if (c == '"') {
        ++i;
        push(Tok::quoted, std::move(text));
        return {};
      } else {
        text += c;
      }
    }
    return error();
  }

  Result<void> literal() {
    const std::size_t end = s.find(']', i);
    if (end == std::string_view::npos) return error();
    const std::string_view lit = s.substr(i, end - i + 1);
    if (lit.find_first_of(std::string_view("[\\\r\n\0", 5), 1) != std::string_view::npos) return error();
    push(Tok::literal, std::string(lit));
    i = end + 1;
    return {};
  }

  void push(Tok k, std::string text) {
    out.push_back(Token{k, std::move(text), space});
    space = false;
  }

  Result<void> step() {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (is_wsp(c)) {
      space = true;
      ++i;
    } else if (c == '\r' || c == '\n') {
      const std::size_t n = fold_len(s, i);
      if (n == 0) return error();
      space = true;
      i += n;
    } else if (c == '(') {
      space = true;
      return comment();
    } else if (c == '"') {
      return quoted();
    } else if (c == '[') {
      return literal();
    } else if (std::string_view("<>:;@,.").find(c) != std::string_view::npos) {
      push(Tok::special, std::string(1, c));
      ++i;
    } else if (internal::is_atext(u) || u >= 0x80) {
      const std::size_t start = i;
      while (i < s.size() && (internal::is_atext(static_cast<unsigned char>(s[i])) ||
                              static_cast<unsigned char>(s[i]) >= 0x80))
        ++i;
      push(Tok::atom, std::string(s.substr(start, i - start)));
    } else {
      return error();  // ')', ']', '\', NUL and other controls
    }
    return {};
  }
};

Result<std::vector<Token>> tokenize(std::string_view s) {
  Lexer lx{s, 0, {}, false};
  while (lx.i < s.size())
    if (auto r = lx.step(); !r) return std::move(r).error();
  return std::move(lx.out);
}

struct Parser {
  const std::vector<Token>& t;
  const Options& opts;
  std::size_t i = 0;

  bool at(char c) const { return i < t.size() && t[i].is(c); }
  bool at_word() const { return i < t.size() && t[i].word(); }
  Error error() const { return make_address_error(Code::syntax); }

  // obs-phrase: words and dots; joined with one space where blanks were.
  std::string phrase() {
    std::string name;
    for (; i < t.size() && (t[i].word() || t[i].is('.')); ++i) {
      if (!name.empty() && t[i].space_before) name += ' ';
      name += t[i].text;
    }
    return name;
  }

  // local-part (obs: word *("." word)) ["@" domain]; no "@": unqualified.
  Result<Mailbox> addr_spec() {
    if (!at_word()) return error();
    Mailbox m;
    m.local = t[i++].text;
    while (at('.')) {
      ++i;
      if (!at_word()) return error();
      m.local += "." + t[i++].text;
    }
    if (auto r = internal::check_local_octets(m.local, opts); !r) return std::move(r).error();
    if (at('@')) {
      ++i;
      auto d = domain();
      if (!d) return std::move(d).error();
      m.domain = std::move(*d);
    }
    if (auto r = internal::check_lengths(m); !r) return std::move(r).error();
    return m;
  }

  // domain-literal, or atom *("." atom) (obs-domain allows CFWS between).
  Result<std::string> domain() {
    std::string text;
    if (i < t.size() && t[i].kind == Tok::literal) {
      text = t[i++].text;
    } else {
      if (i >= t.size() || t[i].kind != Tok::atom) return make_address_error(Code::bad_domain);
      text = t[i++].text;
      while (at('.')) {
        ++i;
        if (i >= t.size() || t[i].kind != Tok::atom) return make_address_error(Code::bad_domain);
        text += "." + t[i++].text;
      }
    }
    return canonical_domain(text, opts);
  }

  // "<" [obs-route] addr-spec ">"; the route is checked loosely and dropped.
  Result<Mailbox> angle_addr() {
    ++i;  // '<'
    if (at('@')) {
      while (i < t.size() && !at(':')) {
        if (!(t[i].kind == Tok::atom || t[i].kind == Tok::literal || at('@') || at(',') || at('.')))
          return error();
        ++i;
      }
      if (!at(':')) return error();
      ++i;
    }
    auto m = addr_spec();
    if (!m) return m;
    if (!at('>')) return error();
    ++i;
    return m;
  }

  // name-addr or addr-spec. A phrase followed by ':' is reported as a group
  // start by returning with `group` set and nothing consumed past the ':'.
  Result<NameAddr> mailbox(bool allow_group, bool& group, std::string& group_name) {
    const std::size_t start = i;
    std::string name = phrase();
    if (at('<')) {
      auto m = angle_addr();
      if (!m) return std::move(m).error();
      return NameAddr{std::move(name), std::move(*m)};
    }
    if (at(':') && i > start && allow_group) {
      ++i;
      group = true;
      group_name = std::move(name);
      return NameAddr{};
    }
    i = start;
    auto m = addr_spec();
    if (!m) return std::move(m).error();
    return NameAddr{{}, std::move(*m)};
  }

  // group-list after "name:", through ';' (or the end of the value).
  Result<void> group_members(HeaderAddress& g) {
    while (i < t.size() && !at(';')) {
      if (at(',')) {
        ++i;
        continue;
      }
      bool nested = false;
      std::string unused;
      auto m = mailbox(false, nested, unused);
      if (!m) return std::move(m).error();
      g.mailboxes.push_back(std::move(*m));
      if (i < t.size() && !at(',') && !at(';')) return error();
    }
    if (at(';')) ++i;
    return {};
  }

  Result<AddressList> list() {
    AddressList out;
    while (i < t.size()) {
      if (at(',')) {
        ++i;
        continue;
      }
      HeaderAddress a;
      auto m = mailbox(true, a.is_group, a.group_name);
      if (!m) return std::move(m).error();
      if (a.is_group) {
        if (auto r = group_members(a); !r) return std::move(r).error();
      } else {
        a.mailboxes.push_back(std::move(*m));
      }
      out.push_back(std::move(a));
      if (i < t.size() && !at(',')) return error();
    }
    return out;
  }
};

// A display name as a phrase: as is when it is atoms separated by single
// spaces, otherwise one quoted string.
std::string render_phrase(std::string_view name) {
  bool plain = !name.empty() && name.front() != ' ' && name.back() != ' ' &&
               name.find("  ") == std::string_view::npos;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch != ' ' && !internal::is_atext(c) && c < 0x80) plain = false;
  }
  if (plain) return std::string(name);
  std::string q = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

Result<AddressList> parse_address_list(std::string_view value, const Options& opts) {
  auto tokens = tokenize(value);
  if (!tokens) return std::move(tokens).error();
  Parser p{*tokens, opts};
  return p.list();
}

std::vector<Mailbox> all_mailboxes(const AddressList& list) {
  std::vector<Mailbox> out;
  for (const auto& a : list)
    for (const auto& m : a.mailboxes) out.push_back(m.mailbox);
  return out;
}

std::string to_string(const NameAddr& a) {
  if (a.display_name.empty()) return to_string(a.mailbox);
  return render_phrase(a.display_name) + " <" + to_string(a.mailbox) + ">";
}

std::string to_string(const AddressList& list) {
  std::string out;
  for (const auto& a : list) {
    if (!out.empty()) out += ", ";
    if (!a.is_group) {
      out += to_string(a.mailboxes.at(0));
      continue;
    }
    out += render_phrase(a.group_name) + ":";
    for (std::size_t k = 0; k < a.mailboxes.size(); ++k)
      out += (k ? ", " : " ") + to_string(a.mailboxes[k]);
    out += ";";
  }
  return out;
}

}  // namespace posthorn::address
