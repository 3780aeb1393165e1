// lib/log/log.cc - see log.h.
#include "lib/log/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "lib/base/fd.h"

namespace posthorn::log {
namespace {

struct Logger {
  Options opts;
  std::string ident;       // "posthorn/smtpd", kept alive for openlog()
  Fd file;                 // when logging to a file
  dev_t file_dev = 0;
  ino_t file_ino = 0;
  bool to_stderr = true;   // until configure() says otherwise
  bool syslog_open = false;
};

Logger& logger() {
  static Logger l;
  return l;
}

int facility_code(std::string_view f) {
  static const struct { std::string_view name; int code; } kFacilities[] = {
      {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
  };
  for (const auto& e : kFacilities)
    if (e.name == f) return e.code;
  return LOG_MAIL;
}

int syslog_priority(Level l) {
  switch (l) {
    case Level::info: return LOG_INFO;
    case Level::warn: return LOG_WARNING;
    case Level::error: return LOG_ERR;
    case Level::fatal: return LOG_CRIT;
    case Level::panic: return LOG_CRIT;
  }
  return LOG_INFO;
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
    case Level::fatal: return "fatal";
    case Level::panic: return "panic";
  }
  return "info";
}

// Opens maillog_file. On failure an already open descriptor is kept (after a
// privilege drop or inside a chroot the path may be out of reach while the
// descriptor still works); with none open, lines go to stderr, said once.
void open_file(Logger& lg) {
  int fd = ::open(lg.opts.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (lg.file) return;
    int e = errno;
    lg.to_stderr = true;
    std::string msg = cat("posthorn: cannot open maillog_file ", lg.opts.file, ": ",
                          std::strerror(e), "; logging to stderr\n");
    (void)!::write(2, msg.data(), msg.size());
    return;
  }
  lg.file.reset(fd);
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    lg.file_dev = st.st_dev;
    lg.file_ino = st.st_ino;
  }
}

// A rotated-away log file (moved by logrotate) is reopened on the next line.
// A path we may no longer look up (EACCES after a privilege drop, or a
// chroot) is not a rotation: the open descriptor stays in use.
void reopen_if_rotated(Logger& lg) {
  struct stat st;
  if (::stat(lg.opts.file.c_str(), &st) != 0) {
    if (errno == ENOENT) open_file(lg);
    return;
  }
  if (st.st_dev != lg.file_dev || st.st_ino != lg.file_ino) open_file(lg);
}

void append_json_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // Control bytes and non-ASCII bytes (which may not be valid UTF-8)
        // are escaped so the line is always valid JSON.
        if (c < 0x20 || c >= 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string hostname_now(const Logger& lg) {
  if (!lg.opts.hostname.empty()) return lg.opts.hostname;
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void write_line(Logger& lg, std::string line) {
  line += '\n';
  int fd = 2;
  if (!lg.to_stderr && lg.file) {
    reopen_if_rotated(lg);
    if (lg.file) fd = lg.file.get();
  }
  (void)!::write(fd, line.data(), line.size());
}

}  // namespace

bool parse_format(std::string_view s, Format& out) {
  if (s == "text") out = Format::text;
  else if (s == "json") out = Format::json;
  else return false;
  return true;
}

void configure(const Options& opts) {
  Logger& lg = logger();
  bool same_file = !opts.file.empty() && opts.file == lg.opts.file && lg.file;
  lg.opts = opts;
  lg.ident = opts.syslog_name + "/" + opts.program;
  // Re-configuring onto the same file keeps its descriptor (set_program()
  // after a privilege drop must not lose a file it can no longer open).
  if (!same_file) lg.file.reset();
  if (opts.file.empty()) {
    lg.to_stderr = false;
    if (lg.syslog_open) ::closelog();
    ::openlog(lg.ident.c_str(), LOG_PID | LOG_NDELAY, facility_code(opts.syslog_facility));
    lg.syslog_open = true;
  } else if (opts.file == "-" || opts.file == "/dev/stderr") {
    lg.to_stderr = true;
  } else {
    lg.to_stderr = false;
    if (!same_file) open_file(lg);
  }
}

Options options() { return logger().opts; }

void set_program(std::string_view program) {
  Options o = logger().opts;
  o.program = std::string(program);
  configure(o);
}

std::string render_text_body(const Record& r) {
  std::string out;
  if (!r.queue_id.empty()) {
    out += r.queue_id;
    out += ": ";
  }
  if (r.level != Level::info) {
    out += level_name(r.level);
    out += ": ";
  }
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    if (i) out += ", ";
    out += r.fields[i].name;
    out += '=';
    out += printable(r.fields[i].value);
  }
  if (!r.text.empty()) {
    if (!r.fields.empty()) out += ' ';
    out += printable(r.text);
  }
  return out;
}

std::string render_json(const Record& r, long long unix_ms) {
  const Logger& lg = logger();
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  ::gmtime_r(&secs, &tm);
  char ts[80];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  std::string out = "{\"v\":1,\"time\":\"";
  out += ts;
  out += "\",\"host\":";
  append_json_string(out, hostname_now(lg));
  out += ",\"program\":";
  append_json_string(out, lg.opts.syslog_name + "/" + lg.opts.program);
  out += cat(",\"pid\":", ::getpid(), ",\"level\":\"", level_name(r.level), "\",\"event\":");
  append_json_string(out, r.event);
  if (!r.queue_id.empty()) {
    out += ",\"queue_id\":";
    append_json_string(out, r.queue_id);
  }
  for (const Field& f : r.fields) {
    out += ',';
    append_json_string(out, f.name);
    out += ':';
    append_json_string(out, f.value);
  }
  if (!r.text.empty()) {
    out += ",\"text\":";
    append_json_string(out, r.text);
  }
  out += '}';
  return out;
}

void emit(const Record& r) {
  Logger& lg = logger();
  if (lg.opts.format == Format::json) {
    std::string line = render_json(r, now_ms());
    if (!lg.to_stderr && !lg.file) ::syslog(syslog_priority(r.level), "%s", line.c_str());
    else write_line(lg, std::move(line));
    return;
  }
  std::string body = render_text_body(r);
  if (!lg.to_stderr && !lg.file) {
    ::syslog(syslog_priority(r.level), "%s", body.c_str());
    return;
  }
  // The syslog shape: "Nov 22 10:00:00 host posthorn/smtpd[123]: body".
  time_t now = ::time(nullptr);
  struct tm tm;
  ::localtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
  write_line(lg, cat(ts, ' ', hostname_now(lg), ' ', lg.opts.syslog_name, '/', lg.opts.program,
                     '[', ::getpid(), "]: ", body));
}

void fatal_text(std::string text) {
  emit({Level::fatal, "fatal", {}, {}, std::move(text)});
  std::exit(1);
}

void panic_text(std::string text) {
  emit({Level::panic, "panic", {}, {}, std::move(text)});
  std::abort();
}

}  // namespace posthorn::log
