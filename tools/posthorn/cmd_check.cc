// posthorn check - is this installation or instance fit to run?
// (Postfix's `postfix check`.)
//
//   posthorn [-c DIR] check [-n]
//
// Checks, in order, and reports every problem found, not only the first:
//   1. main.cf and master.cf parse (else exit 78, the errors with file:line);
//   2. the spool: every queue directory exists, is a real directory, and has
//      the owner, group and mode lib/queue's layout gives it; missing ones are
//      created and wrong ones repaired unless -n; all on one filesystem;
//   3. every lookup table named by a table-list parameter opens (a missing
//      .db file, a bad regexp, an unknown type), so a typo shows now and not
//      when the first message needs the table.
// Exit status: 0 when nothing is wrong (or all was repaired), 1 when problems
// remain, 64 usage, 78 configuration errors.
#include <sysexits.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/config/params.h"
#include "lib/maps/table.h"
#include "lib/queue/spool.h"
#include "lib/service/spool_owners.h"
#include "tools/posthorn/command.h"

namespace posthorn::tools {
namespace {

constexpr const char* kName = "check";

void warn(const std::string& text) {
  std::fprintf(stderr, "posthorn check: warning: %s\n", text.c_str());
}

// Step 2; returns the number of problems left.
int check_queue(const config::Config& cfg, bool repair) {
  auto owners = service::spool_owners(cfg);
  if (!owners) {
    warn(owners.error().detail);
    return 1;
  }
  queue::Spool spool(cfg.get_path("queue_directory"));
  auto problems = queue::check_spool(spool, *owners, repair);
  if (!problems) {
    warn(cat("queue_directory ", spool.root().string(), ": ", problems.error().detail));
    return 1;
  }
  int left = 0;
  for (const queue::SpoolProblem& p : *problems) {
    warn(cat(p.path.string(), ": ", p.what, p.repaired ? " (repaired)" : ""));
    if (!p.repaired) ++left;
  }
  if (left == 0) {
    if (auto one = queue::check_one_filesystem(spool); !one) {
      warn(one.error().detail);
      ++left;
    }
  }
  return left;
}

// Step 3; returns the number of tables that do not open.
int check_tables(const config::Config& cfg) {
  int bad = 0;
  for (const config::Param& p : config::params()) {
    // alias_database names what newaliases writes, not what is read: when it
    // is used, alias_maps names it too and is checked there.
    if (p.type != config::Type::table_list || p.name == "alias_database") continue;
    for (const std::string& spec : cfg.get_list(p.name)) {
      auto table = maps::open_table(spec);
      if (table) continue;
      warn(cat(p.name, ": ", table.error().detail));
      ++bad;
    }
  }
  return bad;
}

int run(Context& ctx, const std::vector<std::string>& args) {
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (auto& a : rest)
    if (a == "--help") a = "-h";
  auto p = parse_options(rest, "c:nh");
  if (!p.error.empty()) return usage_error(kName, p.error);
  if (!p.operands.empty()) return usage_error(kName, "unexpected argument " + p.operands[0]);
  if (p.has('h')) {
    std::printf(
        "usage: posthorn check [-c DIR] [-n]\n"
        "Checks the configuration, the spool's directories, owners and modes (repairing\n"
        "them unless -n) and that every lookup table opens.\n");
    return 0;
  }
  if (p.has('c')) ctx.config_dir = p.value('c');
  auto cfg = config::Config::load(ctx.config_dir);
  if (!cfg) {
    std::fprintf(stderr, "posthorn check: %s\n", cfg.error().detail.c_str());
    return EX_CONFIG;
  }
  int left = check_queue(*cfg, !p.has('n')) + check_tables(*cfg);
  return left == 0 ? 0 : 1;
}

const Registration reg{kName, run, "check [-c DIR] [-n]"};

}  // namespace
}  // namespace posthorn::tools
