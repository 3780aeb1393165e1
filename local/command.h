// local/command.h - running a |command delivery.
//
// The command gets the message on standard input and a clean environment
// (only what the caller lists, e.g. HOME USER SHELL LOGNAME PATH SENDER
// RECIPIENT EXTENSION DOMAIN LOCAL ORIGINAL_RECIPIENT). It runs in a child
// that first becomes its own session (so a time-out kills everything it
// started), then, when local runs as root, drops to `run_as` for good with
// lib/privs (no supplementary groups; uid 0 refused), resets the signals
// local changed, closes every other descriptor and executes:
//   - with local_command_shell set: SHELL -c COMMAND
//   - otherwise directly (split at white space, PATH=/usr/bin:/bin) when the
//     command has no shell syntax and does not start with a shell built-in,
//     else /bin/sh -c COMMAND (Postfix's rule).
// Standard output and standard error are captured (the first `max_output`
// bytes kept, the rest read and dropped, so a chatty command never blocks).
// After `time_limit` the whole session is killed: CommandEnd::timed_out.
// The call blocks until the command has ended (local delivers one message at
// a time, as Postfix's local does); it never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "local/account.h"
#include "local/sysexits.h"

namespace posthorn::local {

struct CommandSpec {
  std::string command;
  std::string shell;             // local_command_shell; "" = Postfix's rule above
  std::optional<Rights> run_as;  // nullopt: keep the current identity (instance mode)
  std::vector<std::string> env;  // "NAME=value"
  std::string cwd = "/";
  std::chrono::seconds time_limit{1000};
  std::size_t max_output = 4096;
};

// The argument vector the command is executed with (exposed for tests).
std::vector<std::string> command_argv(std::string_view command, std::string_view shell);

CommandEnd run_command(const CommandSpec& spec, std::string_view input);

}  // namespace posthorn::local
