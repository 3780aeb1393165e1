// The Catch2 runner for every unit test under t/unit.
// SIGPIPE is ignored as in every Posthorn program (lib/service does it for the
// daemons): a write to a peer that has gone must be an error, not a death.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <csignal>

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
