// tools/sendmail/args.h - the sendmail command line, as programs use it.
//
// Accepted (sendmail(1) has the details):
//   -bm (default) -bs -bp -bi -bd  mode; -I = -bi; -q[Rsite|Iid|interval] = flush
//   -t -i -oi -f/-r sender -F name -C dir -N dsn -R ret -V envid -B type -v --
//   ignored, with a log line: any other -oX, -O opt=val, -A x, -h n, -L label,
//     -X file, -p proto, -G, -U, -m, -n, -c
// Options and recipients may be mixed until "--", after which every argument
// is a recipient. An option's value may be attached (-fuser, -oi) or the next
// argument (-f user); flags may be grouped (-ti). Anything else is a usage
// error (exit 64) whose text names the option.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"

namespace posthorn::sendmail {

enum class Mode {
  deliver,  // -bm: read a message, queue it
  smtp,     // -bs: an SMTP session on standard input and output
  list,     // -bp, mailq: posthorn queue list
  aliases,  // -bi, -I, newaliases: posthorn map build-aliases
  flush,    // -q: ask qmgr to retry deferred mail now
  daemon,   // -bd: refused (posthorn start runs the mail system)
};

struct Args {
  Mode mode = Mode::deliver;
  std::optional<std::string> config;     // -C: a directory, or a main.cf in it
  std::optional<std::string> sender;     // -f / -r, as given ("" or "<>": null sender)
  std::optional<std::string> full_name;  // -F
  bool extract = false;                  // -t
  bool ignore_dots = false;              // -i, -oi: a lone "." is content
  bool verbose = false;                  // -v
  std::uint8_t notify = 0;               // -N, queue::kNotify* bits
  queue::DsnRet ret = queue::DsnRet::unspecified;     // -R
  std::string envid;                                  // -V
  queue::BodyType body = queue::BodyType::unspecified;  // -B
  std::string flush_domain;  // -qR
  std::string flush_id;      // -qI
  bool flush_interval = false;  // -q30m: periodic runs are qmgr's own; nothing to do
  std::vector<std::string> recipients;  // operands, as given
  std::vector<std::string> ignored;     // options accepted without effect, as given
};

// Parses the arguments after argv[0]. Errors: Errc::invalid with the text
// for the user ("unknown option -x", "-N: bad DSN notify value ...").
Result<Args> parse_args(const std::vector<std::string>& args);

// -N value: "never", or a comma list of success, failure, delay (any case).
Result<std::uint8_t> parse_notify(std::string_view value);

}  // namespace posthorn::sendmail
