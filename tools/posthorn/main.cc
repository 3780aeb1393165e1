// posthorn - the administrator's command: start, stop, reload, status, check,
// flush, and the queue, map and conf sub-commands.
// Does:       dispatches `posthorn [-c DIR] COMMAND [ARGS]` to the sub-command.
// Talks to:   master (control), the spool and the configuration files.
// Runs as:    the invoking user; what it may do follows from that user's rights.
// Trusts:     nothing it reads: configuration errors name the file and line.
#include <sysexits.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/base/options.h"
#include "tools/posthorn/command.h"

namespace {
void print_usage(FILE* out) {
  std::fprintf(out, "usage: posthorn [-c DIR] COMMAND [ARGS ...]\ncommands:\n");
  for (const posthorn::tools::Command& c : posthorn::tools::commands())
    std::fprintf(out, "  posthorn %s\n", c.usage.c_str());
}
}  // namespace

int main(int argc, char** argv) {
  using namespace posthorn::tools;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = posthorn::parse_options(args, "c:h", /*permute=*/false);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "posthorn: %s\n", parsed.error.c_str());
    print_usage(stderr);
    return EX_USAGE;
  }
  if (parsed.has('h')) {
    print_usage(stdout);
    return 0;
  }
  Context ctx;
  const char* env = std::getenv("MAIL_CONFIG");
  ctx.config_dir = parsed.has('c') ? parsed.value('c') : (env && *env ? env : "/etc/posthorn");
  if (parsed.operands.empty()) {
    print_usage(stderr);
    return EX_USAGE;
  }
  for (const Command& c : commands())
    if (c.name == parsed.operands[0]) return c.run(ctx, parsed.operands);
  std::fprintf(stderr, "posthorn: unknown command \"%s\"\n", parsed.operands[0].c_str());
  print_usage(stderr);
  return EX_USAGE;
}
