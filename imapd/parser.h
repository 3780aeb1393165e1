// imapd/parser.h - the IMAP command reader: bytes from the client in, whole
// commands out (RFC 3501 section 9 / RFC 9051 section 9 syntax, with RFC 7888
// LITERAL+).
//
// Purpose:    frames and tokenizes commands as they arrive, so that the
//             session can answer a literal's announcement (send "+" for a
//             synchronizing literal, or refuse it) before its octets come.
//             A command is a tag, a name and a tree of Values: atoms, strings
//             (quoted or literal) and parenthesized lists.
// Guarantees: - memory is bounded: a command's text outside literals is at
//               most Limits::max_line octets, the octets of its literals
//               together at most Limits::max_literal, and lists nest at most
//               Limits::max_nesting deep; nothing is allocated for a literal
//               before its size has been checked;
//             - the result does not depend on how the input was split among
//               step() calls;
//             - after a syntax error the rest of the line is skipped, and
//               when that line announced a non-synchronizing literal its
//               octets (and the command lines that follow it) are skipped
//               too, so they are never read as commands.
// Tokens:     an atom runs up to SP, "(", ")", CR or LF; a "[" inside an
//             atom opens a section that runs to the matching "]" and may hold
//             spaces and parentheses (FETCH's BODY[HEADER.FIELDS (A B)]<0.10>
//             is one atom). Quoted strings know the escapes \" and \\ only
//             and hold no CR, LF or NUL. Literals are "{n}" or "{n+}" at the
//             end of a line, literal8s (RFC 3516) "~{n}" or "~{n+}". Several spaces between tokens are accepted.
//             Lines may end in CRLF or a bare LF; empty lines are skipped.
//             8-bit octets are accepted in atoms (UTF-8 search strings).
// Refusals:   control characters in atoms, a literal marker that does not end its line, unbalanced
//             parentheses, tags with characters RFC 3501's "tag" forbids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::imapd {

struct Value {
  enum class Kind { atom, string, list };
  Kind kind = Kind::atom;
  std::string text;           // atom text, or the string's octets
  bool literal = false;       // a string sent as a literal
  bool binary = false;        // ... as a literal8 ("~{n}", RFC 3516)
  std::vector<Value> items;   // Kind::list

  bool is_atom() const { return kind == Kind::atom; }
  bool is_string() const { return kind == Kind::string; }
  bool is_list() const { return kind == Kind::list; }
  // An atom equal to `word`, ignoring ASCII case.
  bool is(std::string_view word) const;
  bool is_nil() const { return is("NIL"); }
  // RFC 3501 astring: an atom or a string.
  bool is_astring() const { return kind != Kind::list; }
};

struct Command {
  std::string tag;
  std::string name;          // upper case
  std::vector<Value> args;   // everything after the name
};

struct Limits {
  std::size_t max_line = 65536;          // command text outside literals, in octets
  std::uint64_t max_literal = 52428800;  // all literal octets of one command
  std::size_t max_nesting = 32;          // list depth
};

class CommandReader {
 public:
  enum class Event {
    need_more,      // everything given was consumed; no command is complete yet
    command,        // take() returns the command
    literal,        // a literal was announced and accepted: send "+" if synchronizing
    literal_too_big,  // a literal over the limit: answer NO [TOOBIG] (tag() names it)
    bad,            // a syntax error: answer BAD with error() (tag() may be empty)
    line_too_long,  // over max_line: the session ends the connection
  };

  explicit CommandReader(Limits limits) : limits_(limits) {}

  // Consumes a prefix of `in` and reports what it found. Call again with the
  // rest (and further input) until need_more. Consumes only whole lines,
  // and literal octets; `used` says how many octets were consumed.
  Event step(std::string_view in, std::size_t& used);

  // The command after Event::command (moves it out).
  Command take();
  // After Event::literal: its size and whether the client waits for "+".
  std::uint64_t literal_size() const { return literal_size_; }
  bool literal_sync() const { return literal_sync_; }
  // The tag of the command being read ("" when not yet known or invalid),
  // for literal_too_big and bad.
  const std::string& tag() const { return tag_; }
  const std::string& error() const { return error_; }

  // Between commands: a different literal limit (before login it is low).
  void set_max_literal(std::uint64_t n) { limits_.max_literal = n; }
  const Limits& limits() const { return limits_; }
  // True while a command is partly read (its first line seen).
  bool mid_command() const { return started_; }

 private:
  Event line_step(std::string_view in, std::size_t& used);
  Event literal_step(std::string_view in, std::size_t& used);
  Event discard_step(std::string_view in, std::size_t& used);
  // Tokenizes one line (without its line break) into the open lists.
  Event tokenize(std::string_view line);
  Event fail(std::string msg, std::string_view line);
  Event finish();
  void reset();
  std::vector<Value>& current();

  Limits limits_;
  bool started_ = false;
  std::size_t text_used_ = 0;     // command text so far
  std::uint64_t literal_used_ = 0;
  std::vector<Value> top_;        // top-level tokens
  std::vector<Value*> open_;      // open lists, innermost last
  std::string tag_, error_;
  // A literal being read, or octets being skipped.
  std::uint64_t literal_size_ = 0;
  bool literal_sync_ = false;
  bool in_literal_ = false;
  bool marker_seen_ = false;       // the line just tokenized ended in a literal marker
  std::uint64_t literal_left_ = 0;
  Value* literal_target_ = nullptr;
  bool discarding_ = false;        // skipping the rest of a refused command
  std::uint64_t discard_left_ = 0;  // literal octets to skip first
};

// The size and kind of a literal marker ending `line` ("... {12}" or
// "... {12+}"), or nullopt. Used to skip the rest of a refused command.
struct LiteralMarker {
  std::uint64_t size = 0;
  bool sync = true;
};
std::optional<LiteralMarker> trailing_literal(std::string_view line);

// RFC 3501 tag: 1*<ASTRING-CHAR except "+">.
bool valid_tag(std::string_view tag);

}  // namespace posthorn::imapd
