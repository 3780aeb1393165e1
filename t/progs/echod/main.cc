// echod - a test-only service for master's integration tests.
// Does:       greets each connection with "220 <mail_name> pid <pid> generation <g>",
//             then answers each line: "whoami" -> "uid U gid G groups N",
//             "quit" -> "221 bye" and close, anything else -> "echo: <line>";
//             logs "wakeup N" for each wake-up from master.
// Talks to:   master (status, through lib/service), test clients on its socket.
// Runs as:    whatever lib/service makes it (mail_owner when started as root).
// Trusts:     nothing; lines are capped at 1000 bytes.
// Options:    -x exit  fail at start-up (exit status 1, before the first report)
//             -x crash abort at start-up (killed by SIGABRT)
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>

#include "lib/base/strings.h"
#include "lib/event/connection.h"
#include "lib/log/log.h"
#include "lib/service/service.h"

namespace {

using namespace posthorn;

struct Session {
  std::unique_ptr<event::Connection> conn;
  service::Job job;
};

std::map<Session*, std::unique_ptr<Session>> sessions;

std::string answer(std::string_view line) {
  if (iequals(line, "whoami"))
    return cat("uid ", ::getuid(), " gid ", ::getgid(), " groups ", ::getgroups(0, nullptr));
  return cat("echo: ", line);
}

void on_line(Session* s) {
  for (;;) {
    auto line = s->conn->read_line();
    if (!line) return s->conn->close_after_flush();
    if (!*line) return;
    std::string_view text = trim(**line);
    if (iequals(text, "quit")) {
      s->conn->write("221 bye\r\n");
      return s->conn->close_after_flush();
    }
    s->conn->write(cat(answer(text), "\r\n"));
  }
}

void on_connection(service::Context& ctx, event::Accepted a, service::Job job) {
  event::ConnectionOptions o;
  o.max_line = 1000;
  auto s = std::make_unique<Session>(Session{event::Connection::plain(ctx.loop(), std::move(a.fd), o),
                                             std::move(job)});
  Session* raw = s.get();
  raw->conn->on_read([raw] { on_line(raw); });
  // Destroying the session ends its Job: the process may become idle.
  raw->conn->on_close([raw](const Error&) { sessions.erase(raw); });
  raw->conn->write(cat("220 ", ctx.config().get("mail_name"), " pid ", ::getpid(), " generation ",
                       ctx.args().generation, "\r\n"));
  sessions[raw] = std::move(s);
}

void on_wakeup(service::Context&) {
  static unsigned count = 0;
  log::info("wakeup ", ++count);
}

void fail_if_asked(service::Context& ctx) {
  std::string mode = ctx.args().program.value('x');
  if (mode == "exit") throw std::runtime_error("asked to fail at start-up (-x exit)");
  if (mode == "crash") std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "echod";
  p.options = "x:";
  p.post_drop = fail_if_asked;
  p.on_accept = on_connection;
  p.on_wakeup = on_wakeup;
  return service::run(p, argc, argv);
}
