// tools/posthorn/queue_select.cc - see queue_select.h.
#include "tools/posthorn/queue_select.h"

#include <algorithm>

#include "lib/base/strings.h"
#include "lib/config/value.h"

namespace posthorn::tools::queue_cmd {

using queue::QueueName;

namespace {

constexpr struct {
  Verb verb;
  std::string_view name;
} kVerbs[] = {
    {Verb::list, "list"},       {Verb::show, "show"},       {Verb::remove, "delete"},
    {Verb::hold, "hold"},       {Verb::release, "release"}, {Verb::requeue, "requeue"},
    {Verb::flush, "flush"},
};

// The domain of an address: after its last '@', "" when it has none.
std::string_view domain_of(std::string_view addr) {
  std::size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string_view() : addr.substr(at + 1);
}

// "<a@b>" -> "a@b".
std::string strip_brackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

// "@Example.ORG." -> "example.org": what qmgr compares with (flush).
std::string clean_domain(std::string_view d) {
  if (!d.empty() && d.front() == '@') d.remove_prefix(1);
  while (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return to_lower(d);
}

bool sender_matches(std::string_view want, std::string_view sender) {
  // MAILER-DAEMON: what list prints for the null sender.
  if (want.empty() || want == "<>" || iequals(want, "MAILER-DAEMON")) return sender.empty();
  if (want.front() == '@') return !sender.empty() && iequals(domain_of(sender), clean_domain(want));
  return iequals(sender, want);
}

Error bad(std::string text) { return make_error(Errc::invalid, std::move(text)); }

// The long options that take a value, and where each one goes.
Result<void> set_selector(Args& a, std::string_view opt, std::string_view value) {
  if (opt == "--from") {
    a.select.from = strip_brackets(value);  // "<>" and "" both mean the null sender
  } else if (opt == "--to") {
    if (strip_brackets(value).empty()) return bad("--to needs an address");
    a.select.to = strip_brackets(value);
  } else if (opt == "--domain") {
    if (clean_domain(value).empty()) return bad("--domain needs a domain");
    a.select.domain = clean_domain(value);
  } else if (opt == "--older-than") {
    auto d = parse_duration(value);
    if (!d) return bad(cat("--older-than: ", d.error().detail));
    a.select.older_than = *d;
  } else {  // --queue
    for (const std::string& name : split_fields(value, ",")) {
      auto q = parse_queue_name(name);
      if (!q) return bad(cat("--queue: ", q.error().detail));
      if (std::find(a.select.queues.begin(), a.select.queues.end(), *q) == a.select.queues.end())
        a.select.queues.push_back(*q);
    }
    if (a.select.queues.empty()) return bad("--queue needs a queue name");
  }
  return {};
}

bool takes_value(std::string_view opt) {
  return opt == "--from" || opt == "--to" || opt == "--domain" || opt == "--older-than" ||
         opt == "--queue";
}

Result<void> add_operand(Args& a, const std::string& w) {
  if (w == "ALL") {
    a.all = true;
  } else if (w == "-") {
    a.ids_from_stdin = true;
  } else {
    auto id = parse_id_operand(w);
    if (!id) return bad(id.error().detail);
    a.ids.push_back(*id);
  }
  return {};
}

// One word that starts with '-'; `i` moves past a separate value.
Result<void> take_option(Args& a, const std::vector<std::string>& words, std::size_t& i) {
  const std::string& w = words[i];
  std::string opt = w, value;
  bool has_value = false;
  if (std::size_t eq = w.find('='); w.rfind("--", 0) == 0 && eq != std::string::npos) {
    opt = w.substr(0, eq);
    value = w.substr(eq + 1);
    has_value = true;
  }
  if (opt == "-h" || opt == "--help") {
    a.help = true;
  } else if (opt == "--json") {
    a.json = true;
  } else if (opt == "--envelope") {
    a.parts.envelope = true;
  } else if (opt == "--headers") {
    a.parts.headers = true;
  } else if (opt == "--body") {
    a.parts.body = true;
  } else if (opt.size() >= 2 && opt[0] == '-' && opt[1] == 'c') {  // -c DIR or -cDIR
    if (opt.size() > 2) {
      a.config_dir = opt.substr(2);
    } else {
      if (i + 1 >= words.size()) return bad("option -c needs a directory");
      a.config_dir = words[++i];
    }
  } else if (takes_value(opt)) {
    if (!has_value) {
      if (i + 1 >= words.size()) return bad(cat("option ", opt, " needs a value"));
      value = words[++i];
    }
    return set_selector(a, opt, value);
  } else {
    return bad(cat("unknown option ", printable(w)));
  }
  if (has_value) return bad(cat("option ", opt, " takes no value"));
  return {};
}

// What the verb does not take, and what it needs.
Result<void> check_verb(const Args& a) {
  Verb v = *a.verb;
  if (a.json && v != Verb::list) return bad("--json is for list only");
  if ((a.parts.envelope || a.parts.headers || a.parts.body) && v != Verb::show)
    return bad("--envelope, --headers and --body are for show only");
  auto allowed = default_queues(v);
  for (QueueName q : a.select.queues) {
    if (std::find(allowed.begin(), allowed.end(), q) != allowed.end()) continue;
    std::vector<std::string> names;
    for (QueueName ok : allowed) names.emplace_back(queue::queue_dir_name(ok));
    return bad(cat(verb_name(v), " does not act on ", queue::queue_dir_name(q),
                   " mail (it takes --queue ", join(names, ", "), ")"));
  }
  if (a.all && (!a.ids.empty() || a.ids_from_stdin)) return bad("ALL and queue IDs do not mix");
  bool named = a.all || a.ids_from_stdin || !a.ids.empty() || a.select.any();
  if (!named && v != Verb::list && v != Verb::flush)
    return bad(cat(verb_name(v), " needs queue IDs, ALL or a selector"));
  return {};
}

}  // namespace

std::string_view verb_name(Verb v) {
  for (const auto& e : kVerbs)
    if (e.verb == v) return e.name;
  return "?";
}

std::optional<Verb> parse_verb(std::string_view s) {
  for (const auto& e : kVerbs)
    if (e.name == s) return e.verb;
  return std::nullopt;
}

std::vector<QueueName> default_queues(Verb v) {
  switch (v) {
    case Verb::list:
    case Verb::show:
    case Verb::remove:
      return {QueueName::incoming, QueueName::active, QueueName::deferred, QueueName::hold};
    case Verb::hold: return {QueueName::incoming, QueueName::active, QueueName::deferred};
    case Verb::release: return {QueueName::hold};
    case Verb::requeue: return {QueueName::active, QueueName::deferred, QueueName::hold};
    case Verb::flush: return {QueueName::deferred};
  }
  return {};
}

bool matches(const Selector& s, const queue::Envelope& env, std::int64_t now) {
  if (s.older_than && now - env.arrival_us / 1000000 <= *s.older_than) return false;
  if (s.from && !sender_matches(*s.from, env.sender)) return false;
  auto any_rcpt = [&](auto&& pred) {
    for (const queue::Recipient& r : env.recipients)
      if (!r.status.done() && pred(r)) return true;
    return false;
  };
  if (s.to && !any_rcpt([&](const queue::Recipient& r) {
        return iequals(r.address, *s.to) || (!r.original.empty() && iequals(r.original, *s.to));
      }))
    return false;
  if (s.domain && !any_rcpt([&](const queue::Recipient& r) {
        return iequals(domain_of(r.address), *s.domain);
      }))
    return false;
  return true;
}

Result<long long> parse_duration(std::string_view s) {
  long long seconds = 0;
  if (s.empty() || !config::parse_time(s, 's', seconds))
    return make_error(Errc::parse, cat("\"", printable(s), "\" is not a duration (such as 45s, 30m, 2h, 3d, 1w)"));
  return seconds;
}

Result<QueueName> parse_queue_name(std::string_view s) {
  for (QueueName q : {QueueName::incoming, QueueName::active, QueueName::deferred, QueueName::hold})
    if (queue::queue_dir_name(q) == s) return q;
  return make_error(Errc::parse, cat("\"", printable(s), "\" is not a queue (incoming, active, deferred or hold)"));
}

Result<queue::QueueId> parse_id_operand(std::string_view s) {
  std::string_view core = s;
  if (!core.empty() && (core.back() == '*' || core.back() == '!')) core.remove_suffix(1);
  auto id = queue::QueueId::parse(core);
  if (!id) return make_error(Errc::parse, cat("\"", printable(s), "\" is not a queue ID"));
  return *id;
}

Result<Args> parse_args(const std::vector<std::string>& words, std::optional<Verb> preset) {
  Args a;
  a.verb = preset;
  bool options_done = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!options_done && w == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && w.size() > 1 && w[0] == '-') {
      if (auto ok = take_option(a, words, i); !ok) return std::move(ok).error();
      continue;
    }
    if (!a.verb) {
      a.verb = parse_verb(w);
      if (!a.verb) return bad(cat("unknown command \"", printable(w), "\""));
      continue;
    }
    if (auto ok = add_operand(a, w); !ok) return std::move(ok).error();
  }
  if (a.help) return a;
  if (!a.verb) return bad("expected a command: list, show, delete, hold, release, requeue or flush");
  if (auto ok = check_verb(a); !ok) return std::move(ok).error();
  return a;
}

}  // namespace posthorn::tools::queue_cmd
