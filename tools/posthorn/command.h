// tools/posthorn/command.h - the sub-commands of `posthorn`.
//
// Each sub-command lives in its own cmd_NAME.cc and registers itself with a
// static Registration, so adding one touches no other file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace posthorn::tools {

struct Context {
  // -c DIR before the sub-command, else $MAIL_CONFIG, else /etc/posthorn.
  // A sub-command's own -c DIR replaces it.
  std::filesystem::path config_dir;
};

// args[0] is the sub-command's name; returns the exit status (sysexits.h).
using CommandFn = int (*)(Context& ctx, const std::vector<std::string>& args);

struct Command {
  std::string name;
  CommandFn run;
  std::string usage;  // one line: "conf [-c DIR] [-n|-d] [name ...]"
};

struct Registration {
  Registration(std::string name, CommandFn run, std::string usage);
};

const std::vector<Command>& commands();

// Prints "posthorn NAME: message" to stderr; returns EX_USAGE.
int usage_error(const std::string& name, const std::string& message);

}  // namespace posthorn::tools
