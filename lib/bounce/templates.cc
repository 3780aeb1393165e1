// lib/bounce/templates.cc - see templates.h.
#include "lib/bounce/templates.h"

#include <array>

#include "lib/base/strings.h"
#include "lib/bounce/fields.h"

namespace posthorn::bounce {
namespace {

struct Unit {
  std::string_view suffix;
  long long seconds;
};
constexpr std::array<Unit, 5> kUnits{{
    {"_seconds", 1}, {"_minutes", 60}, {"_hours", 3600}, {"_days", 86400}, {"_weeks", 604800}}};

// "5 days", "4 hours", "90 seconds": the largest unit that divides evenly.
std::string duration(std::int64_t secs) {
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (secs < it->seconds || secs % it->seconds != 0) continue;
    std::int64_t n = secs / it->seconds;
    std::string unit(it->suffix.substr(1));
    if (n == 1) unit.pop_back();
    return cat(n, " ", unit);
  }
  return cat(secs, " seconds");
}

Template builtin(Kind kind, const Settings& s) {
  const std::string head = cat("This is the mail system at host ", s.myhostname, ".\n\n");
  const std::string sign = cat("\n                   The ", s.mail_name, " program\n");
  const std::string help =
      "For further help, write to the postmaster of this system. Please\n"
      "include this report; you may delete your own text from the returned\n"
      "message first.\n";
  Template t;
  t.charset = "us-ascii";
  t.from = "MAILER-DAEMON (Mail Delivery System)";
  switch (kind) {
    case Kind::failure:
      t.subject = "Undelivered Mail Returned to Sender";
      t.postmaster_subject = "Postmaster Copy: Undelivered Mail";
      t.text = head +
               "Your message could not be delivered to one or more of its recipients.\n"
               "The reasons are listed below; the message, or its header if it was\n"
               "large, is attached.\n\n" +
               help + sign;
      break;
    case Kind::delay: {
      t.subject = "Delayed Mail (still being retried)";
      t.postmaster_subject = "Postmaster Warning: Delayed Mail";
      std::string since = s.delay_warning_time > 0
                              ? cat("has not been delivered for ", duration(s.delay_warning_time))
                              : std::string("has not been delivered yet");
      t.text = head +
               "        *** THIS IS ONLY A WARNING: DO NOT SEND YOUR MESSAGE AGAIN ***\n\n"
               "Your message " + since + " to the recipients listed\n"
               "below. Delivery is still being tried until the message is " +
               duration(s.maximal_queue_lifetime) + "\n"
               "old; only then would it come back to you.\n\n" +
               help + sign;
      break;
    }
    case Kind::success:
      t.subject = "Successful Mail Delivery Report";
      t.postmaster_subject = "Successful Mail Delivery Report";
      t.text = head +
               "Your message was delivered to the destinations listed below. If it\n"
               "went into a mailbox, you will hear nothing more about it; if it was\n"
               "passed on to another system, that system may still report problems.\n" +
               sign;
      break;
  }
  return t;
}

bool valid_charset(std::string_view cs) {
  if (cs.empty() || cs.size() > 40) return false;
  for (char c : cs) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
    if (!ok) return false;
  }
  return true;
}

// The parse state of one file: where we are and what went wrong.
class Parser {
 public:
  Parser(std::string_view file, const Lookup& lookup) : file_(file), lookup_(lookup) {}

  Result<Templates> run(std::string_view text);

 private:
  void error(std::size_t line, std::string_view what) {
    errors_ += cat(file_, ":", line, ": ", what, "\n");
  }
  std::string expand(std::string_view in, std::size_t line);
  void finish(Template* t, std::string_view name, std::size_t first_line,
              const std::vector<std::string>& lines);
  Template* slot(std::string_view name);

  std::string file_;
  const Lookup& lookup_;
  Templates out_;
  std::vector<std::string> seen_;
  std::string errors_;
};

Template* Parser::slot(std::string_view name) {
  if (name == "failure_template") return &out_.failure;
  if (name == "delay_template") return &out_.delay;
  if (name == "success_template") return &out_.success;
  return nullptr;
}

std::string Parser::expand(std::string_view in, std::size_t line) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$') {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::size_t begin = i + 1, end;
    std::size_t after;
    if (begin < in.size() && (in[begin] == '{' || in[begin] == '(')) {
      char close = in[begin] == '{' ? '}' : ')';
      end = in.find(close, begin + 1);
      if (end == std::string_view::npos) {
        error(line, cat("unterminated \"$", in[begin], "\""));
        return out;
      }
      after = end + 1;
      ++begin;
    } else {
      end = begin;
      while (end < in.size() && ((in[end] >= 'a' && in[end] <= 'z') ||
                                 (in[end] >= 'A' && in[end] <= 'Z') ||
                                 (in[end] >= '0' && in[end] <= '9') || in[end] == '_'))
        ++end;
      after = end;
    }
    std::string_view name = in.substr(begin, end - begin);
    if (name.empty()) {
      error(line, "\"$\" without a parameter name (write $$ for a dollar sign)");
      out += '$';
      continue;
    }
    if (auto v = lookup_(name)) out += *v;
    else error(line, cat("unknown parameter \"$", name, "\""));
    i = after - 1;
  }
  return out;
}

// Header lines, a blank line, the text: into *t (nullptr: checked, dropped).
void Parser::finish(Template* t, std::string_view name, std::size_t first_line,
                    const std::vector<std::string>& lines) {
  Template tmp;
  std::size_t k = 0;
  for (; k < lines.size() && !lines[k].empty(); ++k) {
    std::size_t line = first_line + k;
    std::size_t colon = lines[k].find(':');
    if (colon == std::string::npos) {
      error(line, cat(name, ": header line without ':' (a blank line must end the headers)"));
      continue;
    }
    std::string key = to_lower(trim(std::string_view(lines[k]).substr(0, colon)));
    std::string value = expand(trim(std::string_view(lines[k]).substr(colon + 1)), line);
    if (key == "charset") {
      if (!valid_charset(value)) error(line, cat(name, ": bad charset \"", printable(value), "\""));
      tmp.charset = value;
    } else if (key == "from") {
      tmp.from = value;
    } else if (key == "subject") {
      tmp.subject = value;
    } else if (key == "postmaster-subject") {
      tmp.postmaster_subject = value;
    } else {
      error(line, cat(name, ": unknown header \"", printable(key), "\""));
    }
  }
  if (k == lines.size()) error(first_line, cat(name, ": no blank line after the header lines"));
  for (++k; k < lines.size(); ++k) tmp.text += expand(lines[k], first_line + k) + "\n";
  bool ascii = tmp.charset.empty() || iequals(tmp.charset, "us-ascii");
  if (ascii && (has_8bit(tmp.text) || has_8bit(tmp.subject) || has_8bit(tmp.from) ||
                has_8bit(tmp.postmaster_subject)))
    error(first_line, cat(name, ": 8-bit text needs a Charset other than us-ascii"));
  if (t) *t = std::move(tmp);
}

Result<Templates> Parser::run(std::string_view text) {
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (std::string& l : lines)
    if (!l.empty() && l.back() == '\r') l.pop_back();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (trim(l).empty() || trim(l)[0] == '#') continue;
    std::size_t eq = l.find('=');
    std::string_view name = trim(l.substr(0, eq == std::string_view::npos ? 0 : eq));
    std::string_view rest = eq == std::string_view::npos ? "" : trim(l.substr(eq + 1));
    if (eq == std::string_view::npos || name.empty() || rest.substr(0, 2) != "<<" ||
        trim(rest.substr(2)).empty()) {
      error(i + 1, "expected \"NAME = <<TAG\"");
      continue;
    }
    std::string tag(trim(rest.substr(2)));
    Template* t = slot(name);
    if (!t && name != "verp_template") error(i + 1, cat("unknown template \"", printable(name), "\""));
    if (std::find(seen_.begin(), seen_.end(), name) != seen_.end())
      error(i + 1, cat(name, " is defined twice"));
    seen_.emplace_back(name);
    std::size_t first = i + 1, j = first;
    while (j < lines.size() && lines[j] != tag) ++j;
    if (j == lines.size()) {
      error(i + 1, cat(name, ": no line \"", printable(tag), "\" ends it"));
      break;
    }
    finish(t, name, first + 1, {lines.begin() + static_cast<std::ptrdiff_t>(first),
                                lines.begin() + static_cast<std::ptrdiff_t>(j)});
    i = j;
  }
  if (!errors_.empty()) {
    errors_.pop_back();
    return make_error(Errc::parse, errors_);
  }
  return out_;
}

}  // namespace

Result<Templates> parse_templates(std::string_view text, std::string_view file,
                                  const Lookup& lookup) {
  return Parser(file, lookup).run(text);
}

Lookup config_lookup(const config::Config& c) {
  return [&c](std::string_view name) -> std::optional<std::string> {
    if (c.is_known(name)) return c.get(name);
    for (const Unit& u : kUnits) {
      if (name.size() <= u.suffix.size() || !name.ends_with(u.suffix)) continue;
      std::string_view base = name.substr(0, name.size() - u.suffix.size());
      if (c.is_known(base) && c.type_of(base) == config::Type::time)
        return std::to_string(c.get_time(base) / u.seconds);
    }
    return std::nullopt;
  };
}

Template effective_template(Kind kind, const Settings& s) {
  const Template& given = kind == Kind::failure ? s.failure
                          : kind == Kind::delay ? s.delay
                                                : s.success;
  Template t = builtin(kind, s);
  if (!given.charset.empty()) t.charset = given.charset;
  if (!given.from.empty()) t.from = given.from;
  if (!given.subject.empty()) t.subject = given.subject;
  if (!given.postmaster_subject.empty()) t.postmaster_subject = given.postmaster_subject;
  if (!given.text.empty()) t.text = given.text;
  return t;
}

}  // namespace posthorn::bounce
