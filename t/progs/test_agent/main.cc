// test_agent - a test-only delivery agent for qmgr's integration tests.
// Does:       serves lib/deliver/protocol.h on its master.cf socket; reads
//             the queue file the request names (read-only, as real agents
//             do) and answers each recipient by its local part:
//               defer-...      deferred 4.2.0, every time
//               deferonce-...  deferred 4.2.0 the first time (per queue ID
//                              and recipient, as the -l file tells), then sent
//               bounce-...     bounced 5.1.1
//               slow-...       sent, after -w seconds (the other recipients
//                              of the job wait with it)
//               anything else  sent 2.0.0
//             Logs Postfix's delivery line per recipient (relay=test_agent).
// Options:    -l FILE  append one line per outcome: "QUEUEID INDEX ADDRESS
//                      ORIGINAL STATUS TIME" (STATUS sent, deferred,
//                      bounced, or begin for each recipient of a job with a
//                      slow- recipient when it arrives; TIME unix seconds
//                      with microseconds)
//             -m DIR   write each sent message (headers and body as queued)
//                      to DIR/QUEUEID.INDEX.PID.N
//             -w SECS  how long slow- deliveries take (default 2)
// Runs as:    whatever lib/service makes it.
// Trusts:     requests only as far as lib/ipc decoded them.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/deliver/protocol.h"
#include "lib/event/timer.h"
#include "lib/ipc/channel.h"
#include "lib/ipc/codec.h"
#include "lib/log/log.h"
#include "lib/queue/reader.h"
#include "lib/queue/spool.h"
#include "lib/service/service.h"

namespace {

using namespace posthorn;

struct Options {
  std::string log_file;
  std::string copy_dir;
  long slow_seconds = 2;
};
Options opts;
unsigned copies = 0;

struct Conn {
  std::unique_ptr<ipc::Channel> channel;
  service::Job job;
};
std::map<Conn*, std::unique_ptr<Conn>> conns;

// A slow delivery in progress. Like a real agent's, it completes even when
// qmgr goes away meanwhile (then only the answer is lost).
struct Slow {
  std::unique_ptr<event::Timer> timer;
  Conn* conn;  // nullptr once the connection has closed
  service::Job job;
};
std::map<Slow*, std::unique_ptr<Slow>> slow_jobs;

std::string local_part(const std::string& address) { return to_lower(address.substr(0, address.find('@'))); }

void append_line(const std::string& queue_id, const deliver::Rcpt& r, std::string_view status) {
  if (opts.log_file.empty()) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  char when[32];
  std::snprintf(when, sizeof when, "%lld.%06lld", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000));
  const std::string line = cat(queue_id, " ", r.index, " ", r.address, " ",
                               r.original.empty() ? "-" : r.original, " ", status, " ", when, "\n");
  auto fd = open_file(opts.log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd) (void)write_all(fd->get(), line);  // one write: O_APPEND keeps lines whole
}

// How often this queue ID's recipient `index` was deferred before.
int deferrals_before(const std::string& queue_id, std::uint32_t index) {
  auto text = read_file(opts.log_file);
  if (!text) return 0;
  int n = 0;
  for (const std::string& line : split(*text, '\n')) {
    auto f = split(line, ' ');
    if (f.size() == 6 && f[0] == queue_id && f[1] == std::to_string(index) && f[4] == "deferred") ++n;
  }
  return n;
}

std::string seconds(std::int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(us < 0 ? 0 : us) / 1e6);
  return buf;
}

deliver::RcptResult decide(const deliver::Request& req, const deliver::Rcpt& r) {
  const std::string lp = local_part(r.address);
  deliver::RcptResult out{r.index, "sent", "2.0.0", "test agent: delivered", "test_agent"};
  if (lp.rfind("defer-", 0) == 0 || (lp.rfind("deferonce-", 0) == 0 && deferrals_before(req.queue_id, r.index) == 0))
    out = {r.index, "deferred", "4.2.0", "test agent: deferred on request", "test_agent"};
  else if (lp.rfind("bounce-", 0) == 0)
    out = {r.index, "bounced", "5.1.1", "test agent: bounced on request", "test_agent"};
  return out;
}

// Delivers `req` and answers on `c` (nullptr: the peer has gone).
void finish(Conn* c, std::uint64_t id, const deliver::Request& req) {
  deliver::Reply reply;
  // The skeleton chdirs to queue_directory; `queue` names a directory there.
  auto qf = queue::read_queue_file(std::filesystem::path(req.queue) / req.queue_id);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  for (const deliver::Rcpt& r : req.rcpts) {
    deliver::RcptResult res = qf ? decide(req, r)
                                 : deliver::RcptResult{r.index, "deferred", "4.3.0",
                                                       cat("cannot read queue file: ", qf.error().detail), "test_agent"};
    if (res.status == "sent" && qf && !opts.copy_dir.empty()) {
      const std::string path = cat(opts.copy_dir, "/", req.queue_id, ".", r.index, ".", ::getpid(), ".", ++copies);
      (void)write_file_durable(path, qf->headers + qf->body, 0644);
    }
    append_line(req.queue_id, r, res.status);
    log::Record rec{log::Level::info, "delivery", req.queue_id, {}, cat("(", res.text, ")")};
    rec.fields.push_back({"to", cat("<", r.address, ">")});
    if (!r.original.empty() && r.original != r.address) rec.fields.push_back({"orig_to", cat("<", r.original, ">")});
    rec.fields.push_back({"relay", res.relay});
    rec.fields.push_back({"delay", seconds(now - req.arrival_us)});
    rec.fields.push_back({"delays", cat(seconds(req.active_us - req.arrival_us), "/",
                                        seconds(req.dispatch_us - req.active_us), "/0/",
                                        seconds(now - req.dispatch_us))});
    rec.fields.push_back({"dsn", res.dsn});
    rec.fields.push_back({"status", res.status});
    log::emit(rec);
    reply.results.push_back(std::move(res));
  }
  if (c) c->channel->send(ipc::encode(reply, ipc::Kind::reply, id));
}

void on_frame(service::Context& ctx, Conn* c, const ipc::Frame& f) {
  if (f.kind != ipc::Kind::request || f.id == 0)
    return c->channel->close({Errc::protocol, "expected a deliver request"});
  auto req = ipc::decode<deliver::Request>(f);
  if (!req) return c->channel->send(ipc::error_frame(f.id, f.name, Errc::protocol, req.error().detail));
  if (req->queue.empty() || req->queue.find('/') != std::string::npos || req->queue[0] == '.')
    return c->channel->send(ipc::error_frame(f.id, f.name, Errc::protocol, "bad queue name"));
  bool slow = false;
  for (const deliver::Rcpt& r : req->rcpts) slow |= local_part(r.address).rfind("slow-", 0) == 0;
  if (!slow) return finish(c, f.id, *req);
  for (const deliver::Rcpt& r : req->rcpts) append_line(req->queue_id, r, "begin");
  // Answer later from a timer: the loop stays free for other connections.
  auto w = std::make_unique<Slow>();
  Slow* key = w.get();
  w->conn = c;
  w->job = ctx.begin_job();
  w->timer = std::make_unique<event::Timer>(ctx.loop(), [key, id = f.id, r = *req] {
    finish(key->conn, id, r);
    slow_jobs.erase(key);  // the timer's callback may destroy the timer (timer.h)
  });
  w->timer->start(std::chrono::seconds(opts.slow_seconds));
  slow_jobs.emplace(key, std::move(w));
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  auto c = std::make_unique<Conn>();
  Conn* key = c.get();
  c->channel = std::make_unique<ipc::Channel>(ctx.loop(), std::move(a.fd), ipc::ChannelOptions{deliver::kProtocol});
  c->job = std::move(job);
  c->channel->on_frame([&ctx, key](ipc::Frame f) { on_frame(ctx, key, f); });
  c->channel->on_close([key](const Error&) {
    for (auto& [k, w] : slow_jobs)
      if (w->conn == key) w->conn = nullptr;
    conns.erase(key);
  });
  conns.emplace(key, std::move(c));
}

void post_drop(service::Context& ctx) {
  const ParsedArgs& p = ctx.args().program;
  opts.log_file = p.value('l');
  opts.copy_dir = p.value('m');
  unsigned long long secs = 2;
  if (p.has('w') && !parse_uint(p.value('w'), secs)) throw std::runtime_error("-w needs a number of seconds");
  opts.slow_seconds = static_cast<long>(secs);
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "test_agent";
  p.options = "l:m:w:";
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  return service::run(p, argc, argv);
}
