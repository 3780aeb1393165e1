// tools/sendmail/args.cc - see args.h.
#include "tools/sendmail/args.h"

#include <string_view>

#include "lib/base/strings.h"

namespace posthorn::sendmail {

namespace {

// Letters that take a value, attached or as the next argument.
constexpr std::string_view kWithValue = "ABCFLNORVXbfhopr";
// Letters that take none and change nothing.
constexpr std::string_view kIgnoredFlags = "GUcmn";

Error usage(std::string text) { return make_error(Errc::invalid, std::move(text)); }

Result<void> set_mode(Args& a, std::string_view v) {
  if (v == "m") a.mode = Mode::deliver;
  else if (v == "s") a.mode = Mode::smtp;
  else if (v == "p") a.mode = Mode::list;
  else if (v == "i") a.mode = Mode::aliases;
  else if (v == "d") a.mode = Mode::daemon;
  else return usage(cat("unsupported mode -b", printable(v)));
  return {};
}

// RFC 3461 4.4: ENVID is at most 100 characters of printable ASCII; the
// queue stores it decoded, so it must be plain text here.
Result<void> set_envid(Args& a, std::string_view v) {
  if (v.empty() || v.size() > 100) return usage("-V: the envelope ID must be 1 to 100 characters");
  for (char c : v)
    if (c < 0x21 || c > 0x7e) return usage("-V: the envelope ID must be printable ASCII");
  a.envid = std::string(v);
  return {};
}

Result<void> set_body(Args& a, std::string_view v) {
  if (iequals(v, "8BITMIME")) a.body = queue::BodyType::eight_bit_mime;
  else if (iequals(v, "7BIT")) a.body = queue::BodyType::seven_bit;
  else return usage(cat("-B: unsupported body type \"", printable(v), "\" (7BIT or 8BITMIME)"));
  return {};
}

// -q, -q30m, -qRdomain, -qIqueueid (the value is attached; an empty one
// after R or I is the next argument, see take()).
Result<void> set_flush(Args& a, std::string_view v) {
  a.mode = Mode::flush;
  if (v.empty()) return {};
  if (v[0] == 'R' || v[0] == 'I') {
    std::string what(v.substr(1));
    if (what.empty()) return usage(cat("-q", v[0], " needs a value"));
    if (v[0] == 'R')
      a.flush_domain = to_lower(what);
    else
      a.flush_id = what;
    return {};
  }
  unsigned long long n = 0;
  std::string_view digits = v;
  if (!digits.empty() && std::string_view("smhdw").find(digits.back()) != std::string_view::npos)
    digits.remove_suffix(1);
  if (!parse_uint(digits, n)) return usage(cat("-q", printable(v), ": not a queue run interval"));
  a.flush_interval = true;
  return {};
}

Result<void> set_ret(Args& a, std::string_view v) {
  if (iequals(v, "full")) a.ret = queue::DsnRet::full;
  else if (iequals(v, "hdrs")) a.ret = queue::DsnRet::hdrs;
  else return usage(cat("-R: bad DSN return value \"", printable(v), "\" (full or hdrs)"));
  return {};
}

Result<void> take_value(Args& a, char c, const std::string& v, const std::string& as_given) {
  switch (c) {
    case 'b': return set_mode(a, v);
    case 'B': return set_body(a, v);
    case 'C': a.config = v; return {};
    case 'F': a.full_name = v; return {};
    case 'f':
    case 'r': a.sender = v; return {};
    case 'N': {
      auto n = parse_notify(v);
      if (!n) return std::move(n).error();
      a.notify = *n;
      return {};
    }
    case 'R': return set_ret(a, v);
    case 'V': return set_envid(a, v);
    case 'o':
      if (v == "i") {
        a.ignore_dots = true;
        return {};
      }
      a.ignored.push_back(as_given);
      return {};
    default:  // A h L O p X: accepted for compatibility, without effect
      a.ignored.push_back(as_given);
      return {};
  }
}

Result<void> take_flag(Args& a, char c) {
  switch (c) {
    case 't': a.extract = true; return {};
    case 'i': a.ignore_dots = true; return {};
    case 'v': a.verbose = true; return {};
    case 'I': a.mode = Mode::aliases; return {};
    default:
      if (kIgnoredFlags.find(c) != std::string_view::npos) {
        a.ignored.push_back(cat("-", c));
        return {};
      }
      return usage(cat("unknown option -", printable(std::string_view(&c, 1))));
  }
}

// One argument that starts with '-'; may consume the next one (index i).
Result<void> take(Args& a, const std::vector<std::string>& args, std::size_t& i) {
  const std::string& arg = args[i];
  for (std::size_t k = 1; k < arg.size(); ++k) {
    char c = arg[k];
    if (c == 'q') {
      std::string v = arg.substr(k + 1);
      if ((v == "R" || v == "I") && i + 1 < args.size()) v += args[++i];
      return set_flush(a, v);
    }
    if (kWithValue.find(c) == std::string_view::npos) {
      if (auto r = take_flag(a, c); !r) return r;
      continue;
    }
    std::string v = arg.substr(k + 1);
    std::string as_given = arg;
    if (v.empty()) {
      if (i + 1 >= args.size()) return usage(cat("option -", c, " needs a value"));
      v = args[++i];
      as_given = cat(arg, " ", v);
    }
    return take_value(a, c, v, as_given);
  }
  return {};
}

}  // namespace

Result<std::uint8_t> parse_notify(std::string_view value) {
  if (iequals(value, "never")) return queue::kNotifyNever;
  std::uint8_t bits = 0;
  for (const std::string& w : split(value, ',')) {
    std::string_view word = trim(w);
    if (iequals(word, "success")) bits |= queue::kNotifySuccess;
    else if (iequals(word, "failure")) bits |= queue::kNotifyFailure;
    else if (iequals(word, "delay")) bits |= queue::kNotifyDelay;
    else
      return usage(cat("-N: bad DSN notify value \"", printable(value),
                       "\" (never, or a list of success, failure, delay)"));
  }
  return bits;
}

Result<Args> parse_args(const std::vector<std::string>& args) {
  Args a;
  bool options = true;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options && arg == "--") {
      options = false;
      continue;
    }
    if (options && arg.size() > 1 && arg[0] == '-') {
      if (auto r = take(a, args, i); !r) return std::move(r).error();
      continue;
    }
    a.recipients.push_back(arg);
  }
  return a;
}

}  // namespace posthorn::sendmail
