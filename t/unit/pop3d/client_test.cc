// The connection side of pop3d over a real socket pair and event loop: the
// idle time-out (pop3_timeout; its integration value is at least ten
// minutes, so it is tested here), pipelined retrievals larger than the
// output watermark, and the password check that holds the input.
#include "pop3d/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <thread>

#include "lib/event/timer.h"

using namespace posthorn;
using namespace posthorn::pop3d;

namespace {

class Box : public Mailbox {
 public:
  std::vector<std::string> data;
  std::vector<MessageInfo> infos;
  std::vector<std::size_t>* removed;
  Box(std::vector<std::string> d, std::vector<std::size_t>* r) : data(std::move(d)), removed(r) {
    for (std::size_t i = 0; i < data.size(); ++i)
      infos.push_back({data[i].size(), "1." + std::to_string(i + 1)});
  }
  const std::vector<MessageInfo>& messages() const override { return infos; }
  Result<std::string> read(std::size_t i) override { return data.at(i); }
  Result<void> remove(const std::vector<std::size_t>& i) override {
    *removed = i;
    return {};
  }
};

class FakeBackend : public Backend {
 public:
  explicit FakeBackend(posthorn::event::EventBase& loop) : timer_(loop, [this] { answer(); }) {}
  std::vector<std::string> messages;
  std::vector<std::size_t> removed;
  int checks = 0;

  void check_password(const std::string&, const std::string& password, const std::string&,
                      Checked done) override {
    ++checks;
    pending_ = std::move(done);
    verdict_ = password == "right" ? PasswordCheck::ok : PasswordCheck::wrong;
    timer_.start(std::chrono::milliseconds(20));  // answered later, from the loop
  }
  Result<std::unique_ptr<Mailbox>> open_mailbox(const std::string&) override {
    return std::unique_ptr<Mailbox>(std::make_unique<Box>(messages, &removed));
  }

 private:
  void answer() {
    Checked d = std::move(pending_);
    d({verdict_, "alice"});
  }
  posthorn::event::Timer timer_;
  Checked pending_;
  PasswordCheck::Verdict verdict_ = PasswordCheck::wrong;
};

struct Pair {
  int ours = -1, theirs = -1;
  Pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    ours = sv[0];
    theirs = sv[1];
  }
};

// The client side, blocking, in its own thread: sends `script`, then reads
// until the server closes.
std::string talk(int fd, std::string script) {
  std::string got;
  std::size_t off = 0;
  while (off < script.size()) {
    ssize_t n = ::write(fd, script.data() + off, script.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got;
}

struct Harness {
  posthorn::event::EventBase loop;
  FakeBackend backend{loop};
  ClientOptions options;
  std::unique_ptr<Client> client;
  bool done = false;
  Harness() {
    options.session.plaintext_auth = true;
    options.session.banner = "ready";
  }
  std::string run(std::string script, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    Pair p;
    std::string got;
    std::thread peer([&] { got = talk(p.theirs, script); });
    client = std::make_unique<Client>(loop, Fd(p.ours), "test[local]", "127.0.0.1", options,
                                      backend, [this] {
                                        done = true;
                                        client.reset();
                                        loop.loopexit();
                                      });
    posthorn::event::Timer guard(loop, [this] { loop.loopexit(); });
    guard.start(limit);
    REQUIRE(loop.run());
    peer.join();
    return got;
  }
};

}  // namespace

TEST_CASE("pop3d client: silence past the timeout ends the session without UPDATE",
          "[pop3d][client]") {
  Harness h;
  h.options.timeout = std::chrono::milliseconds(200);
  h.backend.messages = {"Subject: a\r\n\r\nx\r\n"};
  std::string got = h.run("USER alice\r\nPASS right\r\nDELE 1\r\n");
  CHECK(h.done);
  CHECK(got == "+OK ready\r\n+OK\r\n+OK Logged in\r\n+OK Marked to be deleted\r\n");
  CHECK(h.backend.removed.empty());  // no QUIT: the deletion never happened
}

TEST_CASE("pop3d client: pipelined retrievals beyond the output watermark arrive whole",
          "[pop3d][client]") {
  Harness h;
  // Each message alone is larger than the output high watermark (256 KiB).
  for (char c : {'a', 'b', 'c', 'd'})
    h.backend.messages.push_back(std::string(300 * 1024 - 2, c) + "\r\n");
  std::string script = "USER alice\r\nPASS right\r\n";
  for (int i = 1; i <= 4; ++i) script += "RETR " + std::to_string(i) + "\r\n";
  script += "DELE 2\r\nQUIT\r\n";
  std::string got = h.run(script);
  std::string want = "+OK ready\r\n+OK\r\n+OK Logged in\r\n";
  for (const std::string& m : h.backend.messages)
    want += "+OK " + std::to_string(m.size()) + " octets\r\n" + m + ".\r\n";
  want += "+OK Marked to be deleted\r\n+OK Logging out\r\n";
  CHECK(got.size() == want.size());
  CHECK(got == want);
  CHECK(h.backend.removed == std::vector<std::size_t>{1});
}

TEST_CASE("pop3d client: nothing pipelined after PASS is acted on before the answer",
          "[pop3d][client]") {
  Harness h;
  h.backend.messages = {"Subject: a\r\n\r\nx\r\n"};
  std::string got = h.run("USER alice\r\nPASS wrong\r\nSTAT\r\nUSER alice\r\nPASS right\r\nSTAT\r\nQUIT\r\n");
  CHECK(got ==
        "+OK ready\r\n+OK\r\n-ERR [AUTH] Authentication failed\r\n-ERR Not logged in\r\n+OK\r\n"
        "+OK Logged in\r\n+OK 1 17\r\n+OK Logging out\r\n");
  CHECK(h.backend.checks == 2);
}
