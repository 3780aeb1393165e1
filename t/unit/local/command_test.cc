// Running |command deliveries: argument vectors, input, output, exit
// status, environment and the time limit.
#include "local/command.h"

#include <catch2/catch.hpp>

#include "lib/base/file.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::local;
using How = CommandEnd::How;

namespace {

CommandSpec spec(std::string command) {
  CommandSpec s;
  s.command = std::move(command);
  s.time_limit = std::chrono::seconds(10);
  s.env = {"PATH=/usr/bin:/bin", "RECIPIENT=bob@example.org"};
  return s;
}

}  // namespace

TEST_CASE("simple commands run directly, the rest through the shell", "[local][command]") {
  CHECK(command_argv("/usr/bin/procmail -a x", "") ==
        std::vector<std::string>{"/usr/bin/procmail", "-a", "x"});
  CHECK(command_argv("cat", "") == std::vector<std::string>{"cat"});
  CHECK(command_argv("cat > /tmp/x", "") == std::vector<std::string>{"/bin/sh", "-c", "cat > /tmp/x"});
  CHECK(command_argv("exit 75", "") == std::vector<std::string>{"/bin/sh", "-c", "exit 75"});
  CHECK(command_argv("echo $HOME", "") == std::vector<std::string>{"/bin/sh", "-c", "echo $HOME"});
  CHECK(command_argv("procmail", "/bin/bash") ==
        std::vector<std::string>{"/bin/bash", "-c", "procmail"});
}

TEST_CASE("the command reads the message and its output is captured", "[local][command]") {
  test::TempDir dir("cmd");
  std::string out = (dir / "got").string();
  CommandEnd e = run_command(spec("cat > " + out + "; echo done; echo err >&2"), "line 1\nline 2\n");
  CHECK(e.how == How::exited);
  CHECK(e.code == 0);
  CHECK(e.output == "done\nerr\n");
  CHECK(*read_file(out) == "line 1\nline 2\n");
}

TEST_CASE("exit codes come back", "[local][command]") {
  CommandEnd e = run_command(spec("exit 75"), "x\n");
  CHECK(e.how == How::exited);
  CHECK(e.code == 75);
  e = run_command(spec("/bin/false"), "");
  CHECK(e.code == 1);
  e = run_command(spec("/no/such/program"), "x\n");
  CHECK(e.how == How::exited);
  CHECK(e.code == 69);  // EX_UNAVAILABLE: bounced
  CHECK(e.output.find("cannot execute /no/such/program") != std::string::npos);
}

TEST_CASE("the environment is exactly the one given", "[local][command]") {
  CommandEnd e = run_command(spec("env | sort"), "");
  CHECK(e.output == "PATH=/usr/bin:/bin\nPWD=/\nRECIPIENT=bob@example.org\n");
}

TEST_CASE("a command that does not read its input still finishes", "[local][command]") {
  CommandEnd e = run_command(spec("/bin/true"), std::string(1 << 20, 'x'));
  CHECK(e.how == How::exited);
  CHECK(e.code == 0);
}

TEST_CASE("a chatty command's output is bounded", "[local][command]") {
  CommandSpec s = spec("head -c 1000000 /dev/zero | tr '\\0' y");
  s.max_output = 100;
  CommandEnd e = run_command(s, "");
  CHECK(e.code == 0);
  CHECK(e.output == std::string(100, 'y'));
}

TEST_CASE("the time limit kills the command and what it started", "[local][command]") {
  test::TempDir dir("cmd");
  std::string flag = (dir / "late").string();
  CommandSpec s = spec("(sleep 3; touch " + flag + ") & sleep 30");
  s.time_limit = std::chrono::seconds(1);
  CommandEnd e = run_command(s, "");
  CHECK(e.how == How::timed_out);
  // The background part would have left its flag 3 s in; it was killed
  // with the rest of the session.
  ::sleep(4);
  CHECK_FALSE(std::filesystem::exists(flag));
}

TEST_CASE("a signal ends the command", "[local][command]") {
  CommandEnd e = run_command(spec("kill -TERM $$"), "");
  CHECK(e.how == How::signaled);
  CHECK(e.code == 15);
}
