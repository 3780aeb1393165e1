// The Catch2 runner for every unit test under t/unit.
// SIGPIPE is ignored as in every Posthorn program (lib/service does it for the
// daemons): a write to a peer that has gone must be an error, not a death.
// Log lines that the code under test writes go to <this binary>.log, so the
// test report stays readable; tests that check log lines configure their own.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "lib/log/log.h"

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  posthorn::log::Options o;
  o.program = "unit_tests";
  o.file = std::string(argv[0]) + ".log";
  posthorn::log::configure(o);
  return Catch::Session().run(argc, argv);
}
