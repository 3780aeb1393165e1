// tools/posthorn/command.cc - the sub-command registry (see command.h).
#include "tools/posthorn/command.h"

#include <sysexits.h>

#include <cstdio>

namespace posthorn::tools {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace

Registration::Registration(std::string name, CommandFn run, std::string usage) {
  registry().push_back(Command{std::move(name), run, std::move(usage)});
}

const std::vector<Command>& commands() { return registry(); }

int usage_error(const std::string& name, const std::string& message) {
  std::fprintf(stderr, "posthorn %s: %s\n", name.c_str(), message.c_str());
  for (const Command& c : commands())
    if (c.name == name) std::fprintf(stderr, "usage: posthorn %s\n", c.usage.c_str());
  return EX_USAGE;
}

}  // namespace posthorn::tools
