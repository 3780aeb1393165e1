// t/unit/qmgr/fakes.h - stand-ins for the world around qmgr's scheduler
// (qmgr/ports.h): agents that answer when the test says so, a resolver
// driven by a table, a composer that writes a plain notice, a settable clock;
// and a spool in a scratch directory with helpers to look at it.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/queue/reader.h"
#include "lib/queue/spool.h"
#include "lib/queue/writer.h"
#include "qmgr/ports.h"
#include "qmgr/scheduler.h"
#include "qmgr/settings.h"
#include "t/unit/support/temp_dir.h"

namespace posthorn::qmgr::test {

struct FakeClock : Clock {
  std::int64_t now = 1'763'805'600'000'000;  // 2025-11-22 10:00:00 UTC
  double draw = 0.0;
  std::int64_t now_us() override { return now; }
  double uniform() override { return draw; }
  std::int64_t secs() const { return now / 1'000'000; }
  void advance(std::int64_t seconds) { now += seconds * 1'000'000; }
};

struct FakeAgents : Agents {
  struct Call {
    std::string transport;
    deliver::Request req;
    std::function<void(AgentAnswer)> done;
  };
  std::deque<Call> calls;   // not answered yet
  std::size_t started = 0;  // every call ever made
  std::set<std::string> unreachable;  // transports that cannot be connected to

  void deliver(const std::string& transport, const deliver::Request& req,
               std::function<void(AgentAnswer)> done) override {
    ++started;
    calls.push_back(Call{transport, req, std::move(done)});
  }
  // Answers the oldest call: every recipient gets `status` ("sent",
  // "deferred", "bounced"), or the per-address choice of `pick`.
  void answer(const std::string& status = "sent",
              std::function<std::string(const deliver::Rcpt&)> pick = nullptr) {
    Call c = std::move(calls.front());
    calls.pop_front();
    AgentAnswer a;
    if (unreachable.count(c.transport)) {
      a.reply = Error{Errc::not_found, "connect private/" + c.transport + ": No such file or directory"};
      a.unreachable = true;
      return c.done(std::move(a));
    }
    deliver::Reply r;
    for (const deliver::Rcpt& rc : c.req.rcpts) {
      std::string s = pick ? pick(rc) : status;
      std::string dsn = s == "sent" ? "2.0.0" : s == "bounced" ? "5.1.1" : "4.4.1";
      r.results.push_back({rc.index, s, dsn, "test says " + s, "test.example[192.0.2.1]:25"});
    }
    a.reply = std::move(r);
    c.done(std::move(a));
  }
  void fail(Errc code) {
    Call c = std::move(calls.front());
    calls.pop_front();
    AgentAnswer a;
    a.reply = Error{code, "test failure"};
    c.done(std::move(a));
  }
  void answer_all(const std::string& status = "sent") {
    while (!calls.empty()) answer(status);
  }
};

// Removes at once, and reports at once (the real one reports later, from
// the loop; the scheduler does not tell the difference).
struct FakeRemover : FileRemover {
  std::size_t removed = 0;
  void remove(std::filesystem::path path, std::function<void(int error)> done) override {
    const int error = ::unlink(path.c_str()) == 0 ? 0 : errno;
    if (error == 0) ++removed;
    done(error);
  }
};

struct FakeResolver : RecipientResolver {
  std::map<std::string, resolve::Resolution> table;  // exact address -> answer
  std::string transport = "smtp";
  std::size_t calls = 0;
  resolve::Resolution resolve(std::string_view address) override {
    ++calls;
    auto it = table.find(std::string(address));
    if (it != table.end()) return it->second;
    resolve::Resolution r;
    std::string a(address);
    r.destinations.push_back({a, resolve::AddressClass::default_, transport, a.substr(a.rfind('@') + 1)});
    return r;
  }
};

struct FakeComposer : Composer {
  struct Made {
    NoticeKind kind;
    bool postmaster;
    std::vector<NoticeRcpt> rcpts;
    std::string original_id;
  };
  std::vector<Made> made;
  bool fail = false;
  bool notify_2bounce = false;  // notify_classes "2bounce"
  bool notify_bounce = false;   // notify_classes "bounce"

  Result<Notice> make(const queue::QueueFile& original, NoticeKind kind, const std::vector<NoticeRcpt>& rcpts,
                      bool postmaster) {
    if (fail) return Error{Errc::io, "composer told to fail"};
    made.push_back({kind, postmaster, rcpts, original.id.str()});
    Notice n;
    n.env.sender = postmaster ? "double-bounce" : "";
    queue::Recipient r;
    r.address = postmaster ? "postmaster@test.example" : original.env.sender;
    r.notify = queue::kNotifyNever;
    n.env.recipients.push_back(r);
    n.env.client.protocol = "local";
    const char* what = kind == NoticeKind::failure ? "failure" : kind == NoticeKind::delay ? "delay" : "success";
    n.headers = cat("Subject: ", what, " notice for ", original.id.str(), "\r\n\r\n");
    for (const NoticeRcpt& x : rcpts) n.body += cat(x.address, " ", x.action, " ", x.status, " ", x.diagnostic, "\r\n");
    return n;
  }
  Result<Notice> compose(const queue::QueueFile& original, NoticeKind kind, const std::vector<NoticeRcpt>& rcpts,
                         std::int64_t) override {
    if (original.env.sender.empty() || is_double_bounce_sender(original.env.sender))
      return Error{Errc::invalid, "no notice to <>"};
    return make(original, kind, rcpts, false);
  }
  Result<Notice> compose_postmaster(const queue::QueueFile& original, NoticeKind kind,
                                    const std::vector<NoticeRcpt>& rcpts, std::int64_t) override {
    return make(original, kind, rcpts, true);
  }
  bool wants(std::uint8_t notify, NoticeKind kind) const override {
    if (notify == 0) return kind != NoticeKind::success;
    if (notify & queue::kNotifyNever) return false;
    switch (kind) {
      case NoticeKind::failure: return notify & queue::kNotifyFailure;
      case NoticeKind::delay: return notify & queue::kNotifyDelay;
      case NoticeKind::success: return notify & queue::kNotifySuccess;
    }
    return false;
  }
  bool postmaster_wants(const queue::QueueFile& original, NoticeKind kind) const override {
    if (kind != NoticeKind::failure || is_double_bounce_sender(original.env.sender)) return false;
    return original.env.sender.empty() ? notify_2bounce : notify_bounce;
  }
  bool is_double_bounce_sender(std::string_view s) const override { return s == "double-bounce"; }
};

// A scheduler on a scratch spool with every fake; log lines go to a file.
struct Rig {
  posthorn::test::TempDir dir{"qmgr"};
  queue::Spool spool{dir.path() / "spool"};
  Settings settings;
  FakeClock clock;
  FakeAgents agents;
  FakeRemover remover;
  FakeResolver resolver;
  FakeComposer composer;
  std::vector<bool> busy_changes;
  std::unique_ptr<Scheduler> sched;
  log::Options saved = log::options();

  Rig() {
    if (!queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}))
      throw std::runtime_error("cannot create the spool");
    settings.min_backoff = std::chrono::seconds(60);
    settings.max_backoff = std::chrono::seconds(600);
    log::Options o;
    o.program = "qmgr";
    o.file = (dir.path() / "maillog").string();
    log::configure(o);
  }
  ~Rig() {
    sched.reset();
    log::configure(saved);
  }
  Scheduler& make() {
    sched = std::make_unique<Scheduler>(settings, spool,
                                        Deps{agents, resolver, composer, clock, remover,
                                             [this](bool b) { busy_changes.push_back(b); }});
    return *sched;
  }
  Scheduler& start() {
    make().start();
    return *sched;
  }

  // A new message in incoming/ (or `where`), arrived at the clock's time.
  queue::QueueId submit(const std::string& sender, const std::vector<std::string>& rcpts,
                        std::uint8_t notify = 0, queue::QueueName where = queue::QueueName::incoming,
                        std::int64_t arrival_us = 0) {
    queue::Envelope env;
    env.sender = sender;
    for (const std::string& a : rcpts) {
      queue::Recipient r;
      r.address = a;
      r.notify = notify;
      env.recipients.push_back(r);
    }
    env.arrival_us = arrival_us ? arrival_us : clock.now;
    env.client.protocol = "ESMTP";
    auto id = queue::write_queue_file(spool, env, "Subject: test\r\n\r\n", "hello\r\n",
                                      queue::WriteOptions{where});
    if (!id) throw std::runtime_error(id.error().detail);
    if (where == queue::QueueName::deferred) set_mtime(where, *id, clock.secs());
    return *id;
  }

  void set_mtime(queue::QueueName q, const queue::QueueId& id, std::int64_t when) {
    timespec ts[2] = {{static_cast<time_t>(when), 0}, {static_cast<time_t>(when), 0}};
    ::utimensat(AT_FDCWD, spool.file(q, id).c_str(), ts, 0);
  }
  bool in(queue::QueueName q, const queue::QueueId& id) const {
    return std::filesystem::exists(spool.file(q, id));
  }
  std::vector<queue::QueueId> listed(queue::QueueName q) const {
    auto l = queue::list_queue(spool, q);
    return l ? l->ids : std::vector<queue::QueueId>{};
  }
  queue::QueueFile read(queue::QueueName q, const queue::QueueId& id) const {
    auto qf = queue::read_queue_file(spool.file(q, id));
    if (!qf) throw std::runtime_error(qf.error().detail);
    return *qf;
  }
  std::int64_t mtime(queue::QueueName q, const queue::QueueId& id) const {
    struct stat st {};
    ::stat(spool.file(q, id).c_str(), &st);
    return st.st_mtime;
  }
  std::string log_text() const { return read_file(dir.path() / "maillog").value_or(std::string()); }
};

}  // namespace posthorn::qmgr::test
