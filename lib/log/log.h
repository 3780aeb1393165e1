// lib/log - Postfix-shaped logging.
//
// Every log event is a Record: a level, an event name, an optional queue ID,
// ordered name=value fields and a free text. It is rendered either as the
// line Postfix would write, so pflogsumm and fail2ban's filters keep working:
//
//   Nov 22 10:00:00 host posthorn/smtp[456]: 4F2A1B: to=<bob@example.org>,
//       relay=mx.example.org[192.0.2.1]:25, delay=0.4, dsn=2.0.0, status=sent (250 ok)
//
// or, with maillog_format = json, as one JSON object per line:
//
//   {"v":1,"time":"2026-11-22T10:00:00.123Z","host":"host","program":"posthorn/smtp",
//    "pid":456,"level":"info","event":"delivery","queue_id":"4F2A1B",
//    "to":"<bob@example.org>",...,"text":"(250 ok)"}
//
// Destinations: syslog (default, facility mail), a file (maillog_file, opened
// for append and reopened when it is rotated away), or stderr
// (maillog_file = /dev/stderr or "-"). Peer-supplied text in fields and
// text is escaped (control bytes as \ooo). Passwords, AUTH data and message
// bodies are never passed to the logger.
//
// The logger is one of the two mutable globals the style allows. It is
// thread-compatible, not thread-safe: Posthorn's programs are single-threaded.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/strings.h"

namespace posthorn::log {

enum class Level { info, warn, error, fatal, panic };
enum class Format { text, json };

struct Options {
  std::string program = "posthorn";   // rendered as "<syslog_name>/<program>"
  std::string syslog_name = "posthorn";
  std::string syslog_facility = "mail";
  std::string file;                   // "" = syslog; "-" or "/dev/stderr" = stderr
  Format format = Format::text;
  std::string hostname;               // "" = gethostname()
};

struct Field {
  std::string name;
  std::string value;
};

struct Record {
  Level level = Level::info;
  std::string event = "message";  // a stable name for json consumers
  std::string queue_id;           // "" when the event belongs to no message
  std::vector<Field> fields;      // rendered "name=value, name=value"
  std::string text;               // rendered after the fields, separated by a space
};

// Sets the destination and format; may be called again (reload). Never fails:
// an unusable file falls back to stderr with a line saying so.
void configure(const Options& opts);
// The options in force (to restore them after a temporary change).
Options options();
// Sets only the program part of the name ("smtpd" -> "posthorn/smtpd").
void set_program(std::string_view program);
// Parses "text"/"json"; false if neither.
bool parse_format(std::string_view s, Format& out);

void emit(const Record& r);

// Renders a record as it would be written (no timestamp/host/prefix for text:
// "QUEUEID: a=b, c=d text"); exposed for golden tests and for tools.
std::string render_text_body(const Record& r);
// Renders the whole JSON line (without the trailing newline) at a given time.
std::string render_json(const Record& r, long long unix_ms);

// Convenience: a free-text line, pieces concatenated like cat().
template <class... A> void info(const A&... a) { emit({Level::info, "message", {}, {}, cat(a...)}); }
template <class... A> void warn(const A&... a) { emit({Level::warn, "message", {}, {}, cat(a...)}); }
template <class... A> void error(const A&... a) { emit({Level::error, "message", {}, {}, cat(a...)}); }
// fatal: the program cannot start or go on; logs and exits with status 1.
[[noreturn]] void fatal_text(std::string text);
// panic: a broken invariant; logs and aborts (core dump), master restarts us.
[[noreturn]] void panic_text(std::string text);
template <class... A> [[noreturn]] void fatal(const A&... a) { fatal_text(cat(a...)); }
template <class... A> [[noreturn]] void panic(const A&... a) { panic_text(cat(a...)); }

}  // namespace posthorn::log
