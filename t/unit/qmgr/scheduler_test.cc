// The scheduler against fake agents, resolver, composer and clock, on a real
// scratch spool: each case checks what an administrator would find on disk
// (queue files, status blocks, reason logs, notices in incoming/).
#include "qmgr/scheduler.h"

#include <catch2/catch.hpp>

#include "lib/queue/reasons.h"
#include "qmgr/notes.h"
#include "t/unit/qmgr/fakes.h"

using namespace posthorn;
using namespace posthorn::qmgr;
using namespace posthorn::qmgr::test;
using queue::QueueName;
using queue::RcptState;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

resolve::Resolution expands_to(std::vector<std::pair<std::string, std::string>> dests) {
  resolve::Resolution r;
  for (auto& [addr, transport] : dests)
    r.destinations.push_back({addr, resolve::AddressClass::default_, transport,
                              transport == "error" || transport == "discard" || transport == "retry"
                                  ? std::string("5.7.1 go away")
                                  : addr.substr(addr.rfind('@') + 1)});
  return r;
}

}  // namespace

TEST_CASE("a message is delivered, recorded and removed", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("alice@a.example", {"bob@b.example", "carol@b.example", "dave@c.example"});
  Scheduler& s = rig.start();
  CHECK_FALSE(rig.in(QueueName::incoming, id));
  CHECK(rig.in(QueueName::active, id));
  REQUIRE(rig.agents.calls.size() == 2);  // one job per destination
  const deliver::Request& first = rig.agents.calls[0].req;
  CHECK(first.queue_id == id.str());
  CHECK(first.queue == "active");
  CHECK(first.transport == "smtp");
  CHECK(first.nexthop == "b.example");
  CHECK(first.sender == "alice@a.example");
  CHECK(first.arrival_us == rig.clock.now);
  CHECK(first.active_us == rig.clock.now);
  CHECK(first.dispatch_us == rig.clock.now);
  REQUIRE(first.rcpts.size() == 2);
  CHECK(first.rcpts[0].index == 0);
  CHECK(first.rcpts[1].address == "carol@b.example");
  CHECK(rig.agents.calls[1].req.rcpts[0].index == 2);
  CHECK(s.stats().in_flight == 2);
  CHECK(rig.busy_changes == std::vector<bool>{true});

  rig.agents.answer("sent");
  // Half done: the recorded recipients are marked in the file already.
  auto mid = rig.read(QueueName::active, id);
  CHECK(mid.env.recipients[0].status.state == RcptState::delivered);
  CHECK(mid.env.recipients[0].status.attempts == 1);
  CHECK(mid.env.recipients[2].status.state == RcptState::pending);
  rig.agents.answer("sent");
  CHECK(rig.listed(QueueName::active).empty());
  CHECK(rig.listed(QueueName::deferred).empty());
  CHECK(s.stats().messages == 0);
  CHECK(s.stats().recipients == 0);
  CHECK(rig.busy_changes == std::vector<bool>{true, false});
  const std::string log = rig.log_text();
  INFO(log);
  CHECK(log.find(id.str() + ": from=<alice@a.example>, size=24, nrcpt=3 (queue active)") != std::string::npos);
  CHECK(log.find(id.str() + ": removed") != std::string::npos);
  CHECK(rig.composer.made.empty());
}

TEST_CASE("a deferred recipient waits in deferred/ and is retried when due", "[qmgr][scheduler]") {
  Rig rig;
  rig.clock.draw = 0.5;
  auto id = rig.submit("alice@a.example", {"bob@b.example", "carol@c.example"});
  Scheduler& s = rig.start();
  REQUIRE(rig.agents.calls.size() == 2);
  rig.agents.answer("sent");
  rig.agents.answer("deferred");
  REQUIRE(rig.in(QueueName::deferred, id));
  auto qf = rig.read(QueueName::deferred, id);
  const auto& st = qf.env.recipients[1].status;
  CHECK(st.state == RcptState::deferred);
  CHECK(st.attempts == 1);
  CHECK(st.last_attempt == rig.clock.secs());
  CHECK(st.next_attempt == rig.clock.secs() + 66);  // min 60, jitter up to 12, draw 0.5
  CHECK(rig.mtime(QueueName::deferred, id) == st.next_attempt);
  auto reasons = queue::read_reasons(rig.spool, QueueName::defer, id);
  REQUIRE(reasons);
  REQUIRE(reasons->size() == 1);
  CHECK((*reasons)[0].index == 1);
  CHECK((*reasons)[0].dsn == "4.4.1");
  CHECK((*reasons)[0].text == "test says deferred");

  s.scan_deferred();  // not due yet
  CHECK(rig.agents.calls.empty());
  rig.clock.advance(66);
  s.scan_deferred();
  REQUIRE(rig.agents.calls.size() == 1);  // only the pending recipient
  CHECK(rig.agents.calls[0].req.rcpts.size() == 1);
  CHECK(rig.agents.calls[0].req.rcpts[0].address == "carol@c.example");
  rig.agents.answer("deferred");
  auto again = rig.read(QueueName::deferred, id);
  CHECK(again.env.recipients[1].status.attempts == 2);
  CHECK(again.env.recipients[1].status.next_attempt == rig.clock.secs() + 132);  // doubled
  rig.clock.advance(200);
  s.scan_deferred();
  rig.agents.answer("sent");
  CHECK(rig.listed(QueueName::deferred).empty());
  CHECK_FALSE(std::filesystem::exists(rig.spool.file(QueueName::defer, id)));
}

TEST_CASE("the back-off is never cut short by whole-second file times", "[qmgr][scheduler]") {
  Rig rig;
  rig.clock.now += 900'000;  // x.9 s: truncated, a 60 s wait would end 59.1 s later
  auto id = rig.submit("alice@a.example", {"bob@b.example"});
  Scheduler& s = rig.start();
  REQUIRE(rig.agents.calls.size() == 1);
  rig.agents.answer("deferred");
  REQUIRE(rig.in(QueueName::deferred, id));
  const auto next = rig.read(QueueName::deferred, id).env.recipients[0].status.next_attempt;
  CHECK(next == rig.clock.secs() + 1 + 60);  // draw 0: the shortest wait, rounded up
  CHECK(rig.mtime(QueueName::deferred, id) == next);
  rig.clock.advance(60);  // 60 s after the deferral: still 0.1 s to go
  s.scan_deferred();
  CHECK(rig.agents.calls.empty());
  rig.clock.advance(1);
  s.scan_deferred();
  CHECK(rig.agents.calls.size() == 1);
}

TEST_CASE("a bounce is logged durably and returned to the sender in one notice", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("alice@a.example", {"bob@b.example", "carol@b.example", "dan@b.example"},
                       queue::kNotifyFailure);
  rig.start();
  rig.agents.answer("", [](const deliver::Rcpt& r) { return r.index == 1 ? "sent" : "bounced"; });
  CHECK_FALSE(rig.in(QueueName::active, id));
  REQUIRE(rig.composer.made.size() == 1);
  const auto& notice = rig.composer.made[0];
  CHECK(notice.kind == NoticeKind::failure);
  CHECK(notice.original_id == id.str());
  REQUIRE(notice.rcpts.size() == 2);
  CHECK(notice.rcpts[0].address == "bob@b.example");
  CHECK(notice.rcpts[0].action == "failed");
  CHECK(notice.rcpts[0].status == "5.1.1");
  CHECK(notice.rcpts[0].diagnostic == "test says bounced");
  CHECK(notice.rcpts[0].remote_mta == "test.example[192.0.2.1]:25");
  CHECK(notice.rcpts[1].address == "dan@b.example");
  CHECK_FALSE(std::filesystem::exists(rig.spool.file(QueueName::bounce, id)));
  // The notice went through incoming/ and is being delivered to the sender.
  REQUIRE(rig.agents.calls.size() == 1);
  CHECK(rig.agents.calls[0].req.sender.empty());
  CHECK(rig.agents.calls[0].req.rcpts[0].address == "alice@a.example");
  CHECK(rig.agents.calls[0].req.nexthop == "a.example");
  const std::string log = rig.log_text();
  CHECK(log.find(id.str() + ": sender non-delivery notification: " + rig.agents.calls[0].req.queue_id) !=
        std::string::npos);
}

TEST_CASE("a notice that bounces is never bounced again", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("", {"alice@a.example"}, queue::kNotifyNever);
  SECTION("dropped without 2bounce") {
    rig.start();
    rig.agents.answer("bounced");
    CHECK(rig.composer.made.empty());
    CHECK(rig.listed(QueueName::incoming).empty());
    CHECK(rig.agents.calls.empty());
    CHECK(rig.log_text().find(id.str() + ": sender is <>: undeliverable notice discarded") != std::string::npos);
  }
  SECTION("to the postmaster with 2bounce, and that one is dropped if it fails") {
    rig.composer.notify_2bounce = true;
    rig.start();
    rig.agents.answer("bounced");
    REQUIRE(rig.composer.made.size() == 1);
    CHECK(rig.composer.made[0].postmaster);
    REQUIRE(rig.agents.calls.size() == 1);
    CHECK(rig.agents.calls[0].req.sender == "double-bounce");
    rig.agents.answer("bounced");
    CHECK(rig.composer.made.size() == 1);
    CHECK(rig.agents.calls.empty());
    CHECK(rig.listed(QueueName::active).empty());
  }
}

TEST_CASE("NOTIFY=SUCCESS gets one success notice, flagged before the message goes", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("alice@a.example", {"bob@b.example", "carol@c.example"},
                       queue::kNotifySuccess | queue::kNotifyFailure);
  rig.start();
  rig.agents.answer("sent");      // bob
  rig.agents.answer("deferred");  // carol
  REQUIRE(rig.composer.made.size() == 1);
  CHECK(rig.composer.made[0].kind == NoticeKind::success);
  REQUIRE(rig.composer.made[0].rcpts.size() == 1);
  CHECK(rig.composer.made[0].rcpts[0].address == "bob@b.example");
  CHECK(rig.composer.made[0].rcpts[0].action == "delivered");
  CHECK(rig.composer.made[0].rcpts[0].diagnostic == "test says sent");
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.flags == queue::kSentSuccessNotice);
  CHECK(qf.env.recipients[1].status.flags == 0);
  rig.agents.answer("sent");  // the notice itself, to alice
  rig.clock.advance(1000);
  rig.sched->scan_deferred();
  rig.agents.answer("sent");  // carol
  REQUIRE(rig.composer.made.size() == 2);  // one more, for carol only
  REQUIRE(rig.composer.made[1].rcpts.size() == 1);
  CHECK(rig.composer.made[1].rcpts[0].address == "carol@c.example");
}

TEST_CASE("an expired message's deferral becomes a bounce 5.4.7", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.max_queue_lifetime = std::chrono::seconds(86400);
  const std::int64_t arrival = rig.clock.now - 2 * 86400LL * 1'000'000;
  auto id = rig.submit("alice@a.example", {"bob@b.example", "carol@c.example"}, 0, QueueName::deferred, arrival);
  rig.start();
  REQUIRE(rig.agents.calls.size() == 2);  // an expired message still gets its last try
  rig.agents.answer("deferred");  // bob
  rig.agents.answer("sent");      // carol
  CHECK_FALSE(rig.in(QueueName::deferred, id));
  REQUIRE(rig.composer.made.size() == 1);
  const auto& n = rig.composer.made[0];
  CHECK(n.kind == NoticeKind::failure);
  REQUIRE(n.rcpts.size() == 1);
  CHECK(n.rcpts[0].address == "bob@b.example");
  CHECK(n.rcpts[0].status == "5.4.7");
  CHECK(n.rcpts[0].diagnostic == "message expired after 1 day in queue (last error: test says deferred)");
  const std::string log = rig.log_text();
  CHECK(log.find(id.str() + ": to=<bob@b.example>, relay=none, delay=172800, delays=172800/0/0/0, dsn=5.4.7, "
                            "status=expired, returned to sender (message expired after 1 day in queue (last "
                            "error: test says deferred))") != std::string::npos);
}

TEST_CASE("slow start: a destination's window starts small and opens with successes", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.defaults.initial_concurrency = 2;
  rig.settings.defaults.concurrency_limit = 3;
  rig.settings.defaults.process_limit = 10;
  for (int i = 0; i < 8; ++i) rig.submit("s@a.example", {cat("r", i, "@b.example")});
  Scheduler& s = rig.start();
  CHECK(rig.agents.calls.size() == 2);
  CHECK(s.window_of("smtp", "b.example") == 2);
  rig.agents.answer("sent");
  CHECK(s.window_of("smtp", "b.example") == 3);
  CHECK(rig.agents.calls.size() == 3);
  rig.agents.answer("sent");
  CHECK(rig.agents.calls.size() == 3);  // the limit holds
  rig.agents.answer_all("sent");
  CHECK(rig.agents.started == 8);
  CHECK(rig.listed(QueueName::active).empty());
}

TEST_CASE("the transport's process limit bounds deliveries across destinations", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.defaults.process_limit = 3;
  for (int i = 0; i < 6; ++i) rig.submit("s@a.example", {cat("r@d", i, ".example")});
  rig.start();
  CHECK(rig.agents.calls.size() == 3);
  rig.agents.answer("sent");
  CHECK(rig.agents.calls.size() == 3);
  rig.agents.answer_all("sent");
  CHECK(rig.agents.started == 6);
}

TEST_CASE("recipients per job are limited by the transport", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.defaults.recipient_limit = 2;
  rig.submit("s@a.example", {"a@b.example", "b@b.example", "c@b.example", "d@b.example", "e@b.example"});
  rig.start();
  REQUIRE(rig.agents.calls.size() == 3);
  CHECK(rig.agents.calls[0].req.rcpts.size() == 2);
  CHECK(rig.agents.calls[2].req.rcpts.size() == 1);
}

TEST_CASE("a failing destination is suspended and its mail deferred without attempts", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.defaults.initial_concurrency = 1;
  std::vector<queue::QueueId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(rig.submit("s@a.example", {cat("r", i, "@dead.example")}));
  auto other = rig.submit("s@a.example", {"x@live.example"});
  Scheduler& s = rig.start();
  REQUIRE(rig.agents.calls.size() == 2);  // one to dead.example (window 1), one to live.example
  rig.agents.answer("deferred");          // dead.example: the site failed
  CHECK(s.stats().dead_destinations == 1);
  // The three queued behind it were deferred at once, without an attempt.
  for (int i = 1; i < 4; ++i) {
    REQUIRE(rig.in(QueueName::deferred, ids[i]));
    auto qf = rig.read(QueueName::deferred, ids[i]);
    CHECK(qf.env.recipients[0].status.attempts == 0);
    CHECK(qf.env.recipients[0].status.state == RcptState::deferred);
  }
  auto reasons = queue::read_reasons(rig.spool, QueueName::defer, ids[2]);
  REQUIRE(reasons);
  REQUIRE(reasons->size() == 1);
  CHECK((*reasons)[0].text == "delivery temporarily suspended: test says deferred");
  CHECK((*reasons)[0].dsn == "4.4.1");
  CHECK(rig.read(QueueName::deferred, ids[0]).env.recipients[0].status.attempts == 1);
  rig.agents.answer("sent");  // live.example is not affected
  CHECK_FALSE(rig.in(QueueName::active, other));
  // New mail for it is deferred at once too, until the suspension ends.
  auto late = rig.submit("s@a.example", {"z@dead.example"});
  s.scan_incoming();
  CHECK(rig.agents.calls.empty());
  CHECK(rig.in(QueueName::deferred, late));
  // After minimal_backoff_time a flush finds it alive again.
  rig.clock.advance(61);
  CHECK(s.flush("", "") == 5);
  CHECK(rig.agents.calls.size() == 1);  // slow start again: window 1
  CHECK(rig.log_text().find("dsn=4.4.1, status=deferred (delivery temporarily suspended: test says deferred)") !=
        std::string::npos);
}

TEST_CASE("an unreachable agent defers its jobs 4.3.0 and pauses the transport", "[qmgr][scheduler]") {
  Rig rig;
  rig.agents.unreachable.insert("smtp");
  auto id = rig.submit("s@a.example", {"r@b.example"});
  auto id2 = rig.submit("s@a.example", {"r@c.example"});
  Scheduler& s = rig.start();
  rig.agents.answer();
  rig.agents.answer();
  for (auto& m : {id, id2}) {
    REQUIRE(rig.in(QueueName::deferred, m));
    auto qf = rig.read(QueueName::deferred, m);
    CHECK(qf.env.recipients[0].status.attempts == 0);
    auto reasons = queue::read_reasons(rig.spool, QueueName::defer, m);
    REQUIRE(reasons);
    CHECK(reasons->back().dsn == "4.3.0");
    CHECK(reasons->back().text == "delivery agent not reachable");
  }
  auto log = rig.log_text();
  CHECK(count_of(log, "warning: connect to transport private/smtp") == 1);
  // Within transport_retry_time nothing is sent to it.
  auto id3 = rig.submit("s@a.example", {"r@d.example"});
  s.scan_incoming();
  CHECK(rig.agents.calls.empty());
  CHECK(rig.in(QueueName::deferred, id3));
}

TEST_CASE("an agent that dies without answering defers the job as an attempt", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("s@a.example", {"r@b.example"});
  rig.start();
  rig.agents.fail(Errc::closed);
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.attempts == 1);
  auto reasons = queue::read_reasons(rig.spool, QueueName::defer, id);
  REQUIRE(reasons);
  CHECK(reasons->back().text == "delivery agent failed");
  CHECK(rig.log_text().find(id.str() + ": to=<r@b.example>, relay=none") != std::string::npos);
  CHECK(rig.log_text().find("dsn=4.3.0, status=deferred (delivery agent failed)") != std::string::npos);
}

TEST_CASE("a slow agent is waited for: no second attempt while the first is under way",
          "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.ipc_timeout = std::chrono::seconds(60);
  rig.settings.queue_run_delay = std::chrono::seconds(1);
  auto id = rig.submit("s@a.example", {"r@b.example"});
  Scheduler& s = rig.start();
  REQUIRE(rig.agents.calls.size() == 1);
  // Ten minutes (an smtp agent's smtp_data_done_timeout) pass with queue
  // runs and wake-ups meanwhile: the recipient stays in flight.
  for (int i = 0; i < 10; ++i) {
    rig.clock.advance(60);
    s.scan_incoming();
    s.scan_deferred();
  }
  CHECK(rig.agents.started == 1);
  CHECK(rig.in(QueueName::active, id));
  CHECK(s.stats().in_flight == 1);
  rig.agents.answer("sent");
  CHECK(rig.agents.started == 1);
  CHECK(rig.listed(QueueName::active).empty());
  CHECK(rig.listed(QueueName::deferred).empty());
  CHECK(rig.log_text().find("status=deferred") == std::string::npos);
}

TEST_CASE("answers that do not fit the request are protocol errors, per recipient", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("s@a.example", {"a@b.example", "c@b.example"});
  rig.start();
  auto call = std::move(rig.agents.calls.front());
  rig.agents.calls.pop_front();
  AgentAnswer a;
  deliver::Reply r;
  r.results.push_back({1, "sent", "2.0.0", "ok", "x"});
  r.results.push_back({7, "sent", "2.0.0", "not asked", "x"});
  a.reply = r;
  call.done(std::move(a));
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.state == RcptState::deferred);
  CHECK(qf.env.recipients[1].status.state == RcptState::delivered);
  auto reasons = queue::read_reasons(rig.spool, QueueName::defer, id);
  REQUIRE(reasons);
  CHECK(reasons->back().text == "delivery agent protocol error");
}

TEST_CASE("qmgr's own transports and resolver failures", "[qmgr][scheduler]") {
  Rig rig;
  resolve::Resolution temp;
  temp.failed = true;
  temp.temporary = true;
  temp.dsn = "4.3.0";
  temp.text = "virtual_alias_maps lookup failure";
  resolve::Resolution perm;
  perm.failed = true;
  perm.dsn = "5.1.3";
  perm.text = "bad address syntax";
  rig.resolver.table["t@x.example"] = temp;
  rig.resolver.table["p@x.example"] = perm;
  rig.resolver.table["e@x.example"] = expands_to({{"e@x.example", "error"}});
  rig.resolver.table["d@x.example"] = expands_to({{"d@x.example", "discard"}});
  rig.resolver.table["d@x.example"].destinations[0].nexthop = "dropped on purpose";
  auto id = rig.submit("s@a.example", {"t@x.example", "p@x.example", "e@x.example", "d@x.example"});
  rig.start();
  REQUIRE(rig.agents.started == 1);  // only the failure notice, to s@a.example
  CHECK(rig.agents.calls[0].req.sender.empty());
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.state == RcptState::deferred);
  CHECK(qf.env.recipients[1].status.state == RcptState::bounced);
  CHECK(qf.env.recipients[2].status.state == RcptState::bounced);
  CHECK(qf.env.recipients[3].status.state == RcptState::delivered);
  REQUIRE(rig.composer.made.size() == 1);
  REQUIRE(rig.composer.made[0].rcpts.size() == 2);
  CHECK(rig.composer.made[0].rcpts[0].status == "5.1.3");
  CHECK(rig.composer.made[0].rcpts[1].status == "5.7.1");
  CHECK(rig.composer.made[0].rcpts[1].diagnostic == "go away");
  const std::string log = rig.log_text();
  CHECK(log.find("to=<d@x.example>, relay=none, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (dropped on purpose)") !=
        std::string::npos);
  CHECK(log.find("to=<e@x.example>, relay=none, delay=0, delays=0/0/0/0, dsn=5.7.1, status=bounced (go away)") !=
        std::string::npos);
  CHECK(log.find("dsn=4.3.0, status=deferred (virtual_alias_maps lookup failure)") != std::string::npos);
}

TEST_CASE("soft_bounce keeps permanent failures queued", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.soft_bounce = true;
  auto id = rig.submit("s@a.example", {"r@b.example"});
  rig.start();
  rig.agents.answer("bounced");
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.state == RcptState::deferred);
  auto reasons = queue::read_reasons(rig.spool, QueueName::defer, id);
  CHECK(reasons->back().dsn == "4.1.1");
  CHECK(rig.composer.made.empty());
}

TEST_CASE("an expanded recipient is done only when every destination is", "[qmgr][scheduler]") {
  Rig rig;
  rig.resolver.table["list@a.example"] =
      expands_to({{"x@b.example", "smtp"}, {"y@c.example", "smtp"}, {"z@b.example", "smtp"}});
  auto id = rig.submit("s@a.example", {"list@a.example"}, queue::kNotifyFailure | queue::kNotifySuccess);
  rig.start();
  REQUIRE(rig.agents.calls.size() == 2);
  CHECK(rig.agents.calls[0].req.rcpts.size() == 2);  // x and z share b.example
  CHECK(rig.agents.calls[0].req.rcpts[0].index == 0);
  CHECK(rig.agents.calls[0].req.rcpts[1].index == 0);
  CHECK(rig.agents.calls[0].req.rcpts[0].original == "list@a.example");
  rig.agents.answer("", [](const deliver::Rcpt& r) { return r.address == "x@b.example" ? "sent" : "deferred"; });
  rig.agents.answer("sent");  // y
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.state == RcptState::deferred);
  auto notes = read_notes(rig.spool, id);
  REQUIRE(notes);
  CHECK(*notes == std::vector<NoteEntry>{{0, false, "x@b.example"}, {0, false, "y@c.example"}});
  // A restart forgets memory: the note alone keeps x and y from a second copy.
  rig.sched.reset();
  rig.clock.advance(3600);
  rig.start();
  REQUIRE(rig.agents.calls.size() == 1);
  REQUIRE(rig.agents.calls[0].req.rcpts.size() == 1);
  CHECK(rig.agents.calls[0].req.rcpts[0].address == "z@b.example");
  rig.agents.answer("bounced");
  CHECK_FALSE(rig.in(QueueName::deferred, id));
  CHECK(read_notes(rig.spool, id)->empty());
  REQUIRE(rig.composer.made.size() == 1);  // the failure for z; no success: the recipient bounced
  CHECK(rig.composer.made[0].rcpts[0].address == "z@b.example");
  CHECK(rig.composer.made[0].rcpts[0].original == "list@a.example");
}

TEST_CASE("the in-memory bounds hold a backlog as queue IDs", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.message_active_limit = 2;
  for (int i = 0; i < 5; ++i) rig.submit("s@a.example", {cat("r@d", i, ".example")});
  Scheduler& s = rig.start();
  CHECK(s.stats().messages == 2);
  CHECK(s.stats().backlog == 3);
  CHECK(rig.listed(QueueName::incoming).size() == 3);
  rig.agents.answer("sent");
  CHECK(s.stats().messages == 2);
  CHECK(rig.listed(QueueName::incoming).size() == 2);
  rig.agents.answer_all("sent");
  CHECK(rig.agents.started == 5);
  CHECK(rig.listed(QueueName::incoming).empty());
}

TEST_CASE("the recipient bound admits messages while recipients fit", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.message_recipient_limit = 3;
  rig.submit("s@a.example", {"a@b.example", "b@b.example"});
  rig.submit("s@a.example", {"c@b.example", "d@b.example"});
  rig.submit("s@a.example", {"e@b.example"});
  Scheduler& s = rig.start();
  CHECK(s.stats().messages == 2);  // 2, then 4 > 3: the second overshoots, the third waits
  CHECK(s.stats().recipients == 4);
  rig.agents.answer_all("sent");
  CHECK(rig.agents.started == 3);
}

TEST_CASE("a message that vanishes under qmgr is forgotten quietly", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("s@a.example", {"a@b.example"});
  auto keep = rig.submit("s@a.example", {"a@c.example"});
  Scheduler& s = rig.start();
  REQUIRE(rig.agents.calls.size() == 2);
  SECTION("deleted") { REQUIRE(std::filesystem::remove(rig.spool.file(QueueName::active, id))); }
  SECTION("put on hold") {
    REQUIRE(queue::move_queue_file(rig.spool, id, QueueName::active, QueueName::hold));
  }
  rig.agents.answer("sent");
  rig.agents.answer("sent");
  CHECK(s.stats().messages == 0);
  CHECK(rig.listed(QueueName::active).empty());
  CHECK(rig.listed(QueueName::deferred).empty());
  CHECK_FALSE(rig.in(QueueName::active, keep));
  const std::string log = rig.log_text();
  CHECK(log.find(id.str() + ": queue file gone from active/") != std::string::npos);
  CHECK(log.find("error") == std::string::npos);
  CHECK(log.find("warning") == std::string::npos);
}

TEST_CASE("a corrupt queue file goes to corrupt/ and the rest flows", "[qmgr][scheduler]") {
  Rig rig;
  auto good = rig.submit("s@a.example", {"a@b.example"});
  const queue::QueueId bad_id(1763805600000001, 123456);
  REQUIRE(write_file_durable(rig.spool.file(QueueName::incoming, bad_id), "this is no queue file", 0600));
  REQUIRE(write_file_durable(rig.spool.dir(QueueName::incoming) / "stray-name", "junk", 0600));
  Scheduler& s = rig.start();
  CHECK(rig.in(QueueName::corrupt, bad_id));
  CHECK(std::filesystem::exists(rig.spool.dir(QueueName::corrupt) / "stray-name"));
  REQUIRE(rig.agents.calls.size() == 1);
  CHECK(rig.agents.calls[0].req.queue_id == good.str());
  rig.agents.answer("sent");
  CHECK(s.stats().messages == 0);
}

TEST_CASE("messages left in active/ by a dead qmgr are taken again", "[qmgr][scheduler]") {
  Rig rig;
  auto id = rig.submit("s@a.example", {"a@b.example", "c@b.example"}, 0, QueueName::active);
  auto qf = rig.read(QueueName::active, id);
  REQUIRE(queue::mark_recipient_done(rig.spool.file(QueueName::active, id), qf, 0, RcptState::delivered,
                                     rig.clock.secs()));
  rig.start();
  REQUIRE(rig.agents.calls.size() == 1);
  REQUIRE(rig.agents.calls[0].req.rcpts.size() == 1);  // the done one is not sent again
  CHECK(rig.agents.calls[0].req.rcpts[0].index == 1);
  rig.agents.answer("sent");
  CHECK(rig.listed(QueueName::active).empty());
}

TEST_CASE("flush makes deferred mail due now: all, by domain, or one message", "[qmgr][scheduler]") {
  Rig rig;
  auto a = rig.submit("s@a.example", {"x@one.example"});
  auto b = rig.submit("s@a.example", {"y@two.example"});
  auto c = rig.submit("s@a.example", {"z@two.example"});
  Scheduler& s = rig.start();
  rig.agents.answer_all("deferred");
  REQUIRE(rig.listed(QueueName::deferred).size() == 3);
  s.scan_deferred();
  CHECK(rig.agents.calls.empty());
  CHECK(s.flush("TWO.example.", "") == 2);
  CHECK(rig.agents.calls.size() == 2);
  rig.agents.answer_all("sent");
  CHECK(s.flush("", "NOTANID") == 0);
  CHECK(s.flush("", b.str()) == 0);  // gone already
  CHECK(s.flush("", a.str()) == 1);
  REQUIRE(rig.agents.calls.size() == 1);
  CHECK(rig.agents.calls[0].req.queue_id == a.str());
  rig.agents.answer("deferred");
  CHECK(s.flush("", "") == 1);
  rig.agents.answer("sent");
  CHECK(rig.listed(QueueName::deferred).empty());
  (void)c;
}

TEST_CASE("flush also takes mail left in incoming/ by a lost wake-up", "[qmgr][scheduler]") {
  Rig rig;
  Scheduler& s = rig.start();
  CHECK(rig.agents.started == 0);
  auto id = rig.submit("s@a.example", {"x@one.example"});  // nobody wakes qmgr
  s.scan_deferred();  // a queue run of deferred/ alone does not see it
  CHECK(rig.agents.calls.empty());
  CHECK(s.flush("", "") == 0);  // nothing deferred was made due...
  REQUIRE(rig.agents.calls.size() == 1);  // ...but incoming/ was looked at
  CHECK(rig.agents.calls[0].req.queue_id == id.str());
  rig.agents.answer("sent");
  CHECK(rig.listed(QueueName::incoming).empty());
  CHECK(rig.listed(QueueName::active).empty());
}

TEST_CASE("one delay notice per recipient once delay_warning_time has passed", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.delay_warning_time = std::chrono::seconds(3600);
  auto id = rig.submit("s@a.example", {"x@b.example", "y@b.example"}, 0);
  Scheduler& s = rig.start();
  rig.agents.answer("deferred");
  CHECK(rig.composer.made.empty());  // too early
  rig.clock.advance(3600);
  s.scan_deferred();
  rig.agents.answer("deferred");
  REQUIRE(rig.composer.made.size() == 1);
  CHECK(rig.composer.made[0].kind == NoticeKind::delay);
  REQUIRE(rig.composer.made[0].rcpts.size() == 2);
  CHECK(rig.composer.made[0].rcpts[0].action == "delayed");
  CHECK(rig.composer.made[0].rcpts[0].status == "4.4.1");
  CHECK(rig.composer.made[0].rcpts[0].will_retry_until == rig.clock.secs() - 3600 + 5 * 86400);
  auto qf = rig.read(QueueName::deferred, id);
  CHECK(qf.env.recipients[0].status.flags == queue::kSentDelayNotice);
  rig.agents.answer("sent");  // the notice
  rig.clock.advance(3600);
  s.scan_deferred();
  rig.agents.answer("deferred");
  CHECK(rig.composer.made.size() == 1);  // not twice
}

TEST_CASE("a notice that cannot be composed keeps the message and its reasons", "[qmgr][scheduler]") {
  Rig rig;
  rig.composer.fail = true;
  auto id = rig.submit("s@a.example", {"x@b.example"});
  Scheduler& s = rig.start();
  rig.agents.answer("bounced");
  REQUIRE(rig.in(QueueName::deferred, id));
  CHECK(rig.read(QueueName::deferred, id).env.recipients[0].status.state == RcptState::bounced);
  CHECK(std::filesystem::exists(rig.spool.file(QueueName::bounce, id)));
  rig.composer.fail = false;
  rig.clock.advance(61);
  s.scan_deferred();
  CHECK(rig.agents.started == 2);  // no new attempt for x; the notice goes to s
  CHECK_FALSE(rig.in(QueueName::deferred, id));
  REQUIRE(rig.composer.made.size() == 1);
  CHECK(rig.composer.made[0].rcpts[0].address == "x@b.example");
}

TEST_CASE("incoming and deferred mail take turns", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.message_active_limit = 1;
  for (int i = 0; i < 3; ++i) rig.submit("s@a.example", {cat("d", i, "@old.example")}, 0, QueueName::deferred);
  for (int i = 0; i < 3; ++i) rig.submit("s@a.example", {cat("i", i, "@new.example")});
  rig.start();
  std::string order;
  while (!rig.agents.calls.empty()) {
    order += rig.agents.calls[0].req.nexthop == "old.example" ? 'd' : 'i';
    rig.agents.answer("sent");
  }
  CHECK(order == "ididid");
}

TEST_CASE("destinations of a transport are served in turn", "[qmgr][scheduler]") {
  Rig rig;
  rig.settings.defaults.process_limit = 1;
  for (int i = 0; i < 3; ++i) rig.submit("s@a.example", {cat("r", i, "@one.example")});
  for (int i = 0; i < 3; ++i) rig.submit("s@a.example", {cat("r", i, "@two.example")});
  rig.start();
  std::string order;
  while (!rig.agents.calls.empty()) {
    REQUIRE(rig.agents.calls.size() == 1);
    order += rig.agents.calls[0].req.nexthop == "one.example" ? '1' : '2';
    rig.agents.answer("sent");
  }
  CHECK(order == "121212");
}

TEST_CASE("mail requeued into incoming/ is tried at once, whatever its back-off", "[qmgr][scheduler]") {
  Rig rig;
  queue::Envelope env;
  env.sender = "s@a.example";
  queue::Recipient r;
  r.address = "x@b.example";
  r.status = {RcptState::deferred, 0, 3, rig.clock.secs() - 10, rig.clock.secs() + 86400};
  env.recipients.push_back(r);
  env.arrival_us = rig.clock.now;
  auto id = queue::write_queue_file(rig.spool, env, "", "body\r\n");
  REQUIRE(id);
  rig.start();
  REQUIRE(rig.agents.calls.size() == 1);
  rig.agents.answer("deferred");
  auto qf = rig.read(QueueName::deferred, *id);
  CHECK(qf.env.recipients[0].status.attempts == 4);
  // From deferred/ the same recipient waits for its time.
  rig.set_mtime(QueueName::deferred, *id, rig.clock.secs());
  rig.sched->scan_deferred();
  CHECK(rig.agents.calls.empty());
  CHECK(rig.in(QueueName::deferred, *id));
}
