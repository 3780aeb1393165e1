// bounce_compose - a test-only tool: composes the delivery status notification
// for a queue file with lib/bounce, the way qmgr does, and prints it.
// Does:       reads QUEUE_FILE (lib/queue reader), builds one DsnRecipient per
//             recipient of the file (or per -i INDEX) from the options, calls
//             compose() (or compose_postmaster_notice() with -p) and writes
//             the notice's headers and body to stdout; with -e FILE also its
//             envelope, one "name=value" line each; with -q SPOOL it writes
//             the notice into SPOOL/incoming/ with write_queue_file() as qmgr
//             will, and prints the new queue ID instead.
// Options:    -k failure|delay|success   kind (default failure)
//             -p                         the postmaster copy
//             -c DIR                     main.cf from DIR (default: built-in defaults)
//             -o name=value              a main.cf setting on top (repeatable)
//             -i INDEX                   only this recipient (repeatable)
//             -s STATUS -m RELAY -t TEXT -a ACTION   for every recipient
//             -l UNIXTIME -w UNIXTIME    last attempt, will retry until
//             -T UNIXTIME                the time of composing (default: now)
// Exit:       0; 1 and one line on stderr when the notice is refused or an
//             input is bad; 2 for bad usage.
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "lib/base/file.h"
#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/bounce/bounce.h"
#include "lib/config/config.h"
#include "lib/queue/reader.h"
#include "lib/queue/writer.h"

namespace {

using namespace posthorn;

int fail(std::string_view what) {
  std::cerr << "bounce_compose: " << what << "\n";
  return 1;
}

std::int64_t number(const ParsedArgs& a, char opt) {
  unsigned long long v = 0;
  std::string s = a.value(opt, "0");
  if (!parse_uint(s, v)) throw std::invalid_argument(cat("-", opt, ": not a number: ", s));
  return static_cast<std::int64_t>(v);
}

Result<config::Config> load_config(const ParsedArgs& a) {
  config::Config c;
  if (a.has('c')) {
    auto loaded = config::Config::load(a.value('c'));
    if (!loaded) return std::move(loaded).error();
    c = std::move(*loaded);
  }
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& [opt, v] : a.opts) {
    if (opt != 'o') continue;
    std::size_t eq = v.find('=');
    if (eq == std::string::npos) return make_error(Errc::invalid, cat("-o ", v, ": expected name=value"));
    overrides.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  }
  return c.with_overrides(overrides);
}

std::string envelope_text(const queue::Envelope& env) {
  std::string out = cat("sender=", env.sender, "\n");
  for (const queue::Recipient& r : env.recipients)
    out += cat("recipient=", r.address, "\nnotify=", static_cast<int>(r.notify), "\n");
  out += cat("smtputf8=", env.smtputf8 ? 1 : 0, "\n");
  out += cat("body_type=", env.body_type == queue::BodyType::eight_bit_mime ? "8BITMIME"
                           : env.body_type == queue::BodyType::seven_bit    ? "7BIT"
                                                                            : "other",
             "\n");
  out += cat("protocol=", env.client.protocol, "\n");
  return out;
}

int run(const ParsedArgs& a) {
  auto cfg = load_config(a);
  if (!cfg) return fail(cfg.error().detail);
  auto settings = bounce::Settings::load(*cfg);
  if (!settings) return fail(settings.error().detail);
  auto qf = queue::read_queue_file(a.operands[0]);
  if (!qf) return fail(cat(a.operands[0], ": ", qf.error().detail));

  std::string kind_name = a.value('k', "failure");
  bounce::Kind kind = kind_name == "delay"     ? bounce::Kind::delay
                      : kind_name == "success" ? bounce::Kind::success
                                               : bounce::Kind::failure;
  if (kind_name != "failure" && kind_name != "delay" && kind_name != "success")
    return fail(cat("-k ", kind_name, ": expected failure, delay or success"));

  std::vector<std::size_t> indices;
  for (const auto& [opt, v] : a.opts) {
    unsigned long long i = 0;
    if (opt != 'i') continue;
    if (!parse_uint(v, i) || i >= qf->env.recipients.size()) return fail(cat("-i ", v, ": no such recipient"));
    indices.push_back(static_cast<std::size_t>(i));
  }
  if (indices.empty())
    for (std::size_t i = 0; i < qf->env.recipients.size(); ++i) indices.push_back(i);

  std::vector<bounce::DsnRecipient> rcpts;
  for (std::size_t i : indices) {
    queue::Reason why{number(a, 'l'), static_cast<std::uint32_t>(i), a.value('s'), a.value('m'),
                      qf->env.recipients[i].address, a.value('t')};
    bounce::DsnRecipient d = bounce::dsn_recipient(qf->env.recipients[i], why, kind);
    if (a.has('a')) d.action = a.value('a');
    d.will_retry_until = number(a, 'w');
    rcpts.push_back(std::move(d));
  }
  auto now = a.has('T') ? std::chrono::system_clock::time_point(std::chrono::seconds(number(a, 'T')))
                        : std::chrono::system_clock::now();
  auto notice = a.has('p') ? bounce::compose_postmaster_notice(*qf, kind, rcpts, *settings, now)
                           : bounce::compose(*qf, kind, rcpts, *settings, now);
  if (!notice) return fail(cat(errc_name(notice.error().code), ": ", notice.error().detail));

  if (a.has('e'))
    if (auto w = write_file_durable(a.value('e'), envelope_text(notice->env)); !w)
      return fail(w.error().detail);
  if (a.has('q')) {
    auto id = queue::write_queue_file(queue::Spool(a.value('q')), notice->env, notice->headers,
                                      notice->body);
    if (!id) return fail(id.error().detail);
    std::cout << id->str() << "\n";
    return 0;
  }
  std::cout << notice->headers << notice->body;
  std::cout.flush();
  return std::cout ? 0 : fail("write to stdout failed");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ParsedArgs a = parse_options(args, "k:pc:o:i:s:m:t:a:l:w:T:e:q:");
  if (!a.error.empty() || a.operands.size() != 1) {
    std::cerr << "usage: bounce_compose [-k kind] [-p] [-c dir] [-o name=value] [-i index] "
                 "[-s status] [-m relay] [-t text] [-a action] [-l time] [-w time] [-T time] "
                 "[-e file] [-q spool] queue-file\n";
    if (!a.error.empty()) std::cerr << "bounce_compose: " << a.error << "\n";
    return 2;
  }
  try {
    return run(a);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
