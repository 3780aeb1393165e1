// Tests of the way from sendmail to maildrop/: tools/sendmail/submit.cc (the
// trial cleanup and the stream), tools/postdrop/stream.cc, drop_file.cc and
// config_trust.cc.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "lib/queue/codec.h"
#include "lib/queue/reader.h"
#include "t/unit/support/temp_dir.h"
#include "tools/postdrop/config_trust.h"
#include "tools/postdrop/drop_file.h"
#include "tools/postdrop/stream.h"
#include "tools/sendmail/submit.h"

using namespace posthorn;
using posthorn::test::TempDir;

namespace {

cleanup::CleanupSettings settings() {
  cleanup::CleanupSettings s;
  s.myhostname = "host.example.org";
  s.myorigin = "example.org";
  return s;
}

sendmail::Submission submission(std::vector<std::string> rcpts, std::string content) {
  sendmail::Submission s;
  s.env.sender = "alice";
  for (auto& r : rcpts) {
    queue::Recipient q;
    q.address = r;
    q.notify = queue::kNotifyFailure;
    s.env.recipients.push_back(q);
  }
  s.full_name = "Alice Example";
  s.content = std::move(content);
  return s;
}

std::vector<std::string> addresses(const queue::Envelope& e) {
  std::vector<std::string> out;
  for (const auto& r : e.recipients) out.push_back(r.address);
  return out;
}

}  // namespace

TEST_CASE("submit: the trial cleanup extracts -t recipients and qualifies", "[sendmail][submit]") {
  auto s = submission({"bob"}, "To: carol, Bob <bob@example.org>\r\nCc: dave@example.net\r\n"
                               "Bcc: eve@example.com\r\nSubject: x\r\n\r\nbody\r\n");
  s.extract = true;
  auto t = sendmail::trial_cleanup(settings(), s);
  REQUIRE(t.ok);
  CHECK(t.env.sender == "alice@example.org");
  CHECK(addresses(t.env) == std::vector<std::string>{"bob@example.org", "carol@example.org",
                                                     "dave@example.net", "eve@example.com"});
  CHECK(t.env.recipients[0].notify == queue::kNotifyFailure);
  CHECK_FALSE(t.env.smtputf8);

  s.extract = false;
  t = sendmail::trial_cleanup(settings(), s);
  REQUIRE(t.ok);
  CHECK(addresses(t.env) == std::vector<std::string>{"bob@example.org"});
}

TEST_CASE("submit: messages cleanup would refuse are refused at once", "[sendmail][submit]") {
  auto s = submission({}, "Subject: no one\r\n\r\nbody\r\n");
  s.extract = true;
  auto t = sendmail::trial_cleanup(settings(), s);
  REQUIRE_FALSE(t.ok);
  CHECK(t.refusal.exit_code == 65);
  CHECK(t.refusal.status == cleanup::Status::no_recipients);
  CHECK_THAT(t.refusal.error, Catch::Contains("no recipient addresses found"));

  auto small = settings();
  small.message_size_limit = 10;
  t = sendmail::trial_cleanup(small, submission({"bob"}, "Subject: too long\r\n\r\nbody\r\n"));
  REQUIRE_FALSE(t.ok);
  CHECK(t.refusal.status == cleanup::Status::too_big);
  CHECK_THAT(t.refusal.error, Catch::Contains("message_size_limit is 10 bytes"));

  s = submission({}, "To: a@@b\r\n\r\nbody\r\n");
  s.extract = true;
  t = sendmail::trial_cleanup(settings(), s);
  REQUIRE_FALSE(t.ok);
  CHECK(t.refusal.status == cleanup::Status::bad_header);
}

TEST_CASE("submit: a non-ASCII address makes the message SMTPUTF8", "[sendmail][submit]") {
  auto t = sendmail::trial_cleanup(settings(), submission({"j\xc3\xb6rg@example.org"}, "x\r\n"));
  REQUIRE(t.ok);
  CHECK(t.env.smtputf8);
}

TEST_CASE("postdrop: the stream keeps the maildrop fields only", "[sendmail][postdrop]") {
  queue::Envelope env;
  env.sender = "alice@example.org";
  queue::Recipient r;
  r.address = "bob@example.org";
  r.orcpt = "rfc822;bob@example.org";
  r.notify = queue::kNotifySuccess;
  r.status.state = queue::RcptState::delivered;  // a forged status is reset
  r.status.attempts = 7;
  env.recipients.push_back(r);
  env.client = {"ignored", "192.0.2.1", "helo", "ESMTPSA", "login"};
  env.ret = queue::DsnRet::full;
  env.envid = "E1";
  env.body_type = queue::BodyType::eight_bit_mime;
  auto bytes = sendmail::encode_stream(env, "Alice Example", "Subject: s\r\n\r\nbody\r\n");
  REQUIRE(bytes);
  auto sub = postdrop::accept_stream(*bytes);
  REQUIRE(sub);
  CHECK(sub->env.sender == "alice@example.org");
  REQUIRE(sub->env.recipients.size() == 1);
  CHECK(sub->env.recipients[0].address == "bob@example.org");
  CHECK(sub->env.recipients[0].orcpt == "rfc822;bob@example.org");
  CHECK(sub->env.recipients[0].notify == queue::kNotifySuccess);
  CHECK(sub->env.recipients[0].status == queue::RecipientStatus{});
  CHECK(sub->env.client == queue::ClientInfo{"Alice Example", "", "", "local", ""});
  CHECK(sub->env.ret == queue::DsnRet::full);
  CHECK(sub->env.envid == "E1");
  CHECK(sub->env.body_type == queue::BodyType::eight_bit_mime);
  CHECK(sub->env.arrival_us == 0);
  CHECK(sub->content == "Subject: s\r\n\r\nbody\r\n");
}

TEST_CASE("postdrop: a stream cut short or altered anywhere is refused", "[sendmail][postdrop]") {
  queue::Envelope env;
  env.sender = "a@example.org";
  env.recipients.push_back(queue::Recipient{"b@example.org", "", "", 0, {}, 0});
  auto bytes = sendmail::encode_stream(env, "", "Subject: s\r\n\r\nbody\r\n");
  REQUIRE(bytes);
  REQUIRE(postdrop::accept_stream(*bytes));
  for (std::size_t cut = 0; cut < bytes->size(); ++cut) {
    auto r = postdrop::accept_stream(std::string_view(*bytes).substr(0, cut));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::parse);
  }
  // Every byte is covered by the CRC but the status blocks, which queue
  // files rewrite in place (FORMAT.md); postdrop resets those anyway.
  auto parsed = queue::parse_queue_file(*bytes);
  REQUIRE(parsed);
  const std::uint64_t status_at = parsed->env.recipients[0].status_offset;
  for (std::size_t i = 0; i < bytes->size(); i += 3) {
    if (i >= status_at && i < status_at + queue::kStatusBlockSize) continue;
    std::string bad = *bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    CHECK_FALSE(postdrop::accept_stream(bad));
  }
  CHECK_FALSE(postdrop::accept_stream(*bytes + "x"));
  CHECK_THAT(postdrop::accept_stream("From: x\n\nhello\n").error().detail,
             Catch::Contains("input is not a submission stream"));
}

TEST_CASE("postdrop: reading the stream stops at its limit", "[sendmail][postdrop]") {
  TempDir dir("postdrop");
  std::string path = dir.file("in", std::string(1000, 'x'));
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto all = postdrop::read_stream(fd.get(), 1000);
  REQUIRE(all);
  CHECK(all->size() == 1000);
  Fd again(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto over = postdrop::read_stream(again.get(), 999);
  REQUIRE_FALSE(over);
  CHECK(over.error().code == Errc::too_large);
}

TEST_CASE("postdrop: the maildrop file is complete, named by its ID, mode 0444",
          "[sendmail][postdrop]") {
  TempDir dir("postdrop");
  queue::Spool spool(dir.path());
  REQUIRE(queue::create_spool(spool, {::getuid(), ::getgid(), ::getgid()}));
  queue::Envelope env;
  env.sender = "a@example.org";
  env.recipients.push_back(queue::Recipient{"b@example.org", "", "", 0, {}, 0});
  auto id = postdrop::write_drop_file(spool, env, "Subject: s\r\n\r\nbody\r\n");
  REQUIRE(id);
  auto path = spool.file(queue::QueueName::maildrop, *id);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0444);
  auto qf = queue::read_queue_file(path);
  REQUIRE(qf);
  CHECK(qf->env.sender == "a@example.org");
  CHECK(qf->body == "Subject: s\r\n\r\nbody\r\n");
  CHECK(qf->env.arrival_us == static_cast<std::int64_t>(id->micros()));
  auto listing = queue::list_queue(spool, queue::QueueName::maildrop);
  REQUIRE(listing);
  CHECK(listing->ids == std::vector<queue::QueueId>{*id});
  CHECK(listing->strangers.empty());

  // No maildrop/: an error, and nothing is left anywhere.
  std::filesystem::remove_all(spool.dir(queue::QueueName::maildrop));
  auto none = postdrop::write_drop_file(spool, env, "x");
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::not_found);
}

TEST_CASE("postdrop: which configuration directories it reads", "[sendmail][postdrop]") {
  TempDir dir("trust");
  const std::filesystem::path def = dir / "default";
  std::filesystem::create_directories(def);
  const std::filesystem::path mine = dir / "mine";
  std::filesystem::create_directories(mine);
  dir.file("mine/main.cf", "myhostname = x.example\n");
  postdrop::Caller plain{false, 1000};
  postdrop::Caller setgid_user{true, 1000};
  postdrop::Caller setgid_root{true, 0};

  // Rules 1-3: no privilege, root, the default directory.
  CHECK(*postdrop::trusted_config_dir(mine, def, plain) == mine);
  CHECK(*postdrop::trusted_config_dir(mine, def, setgid_root) == mine);
  CHECK(postdrop::trusted_config_dir(def, def, setgid_user));

  if (::geteuid() != 0) return;  // the rest needs files of other owners
  // Rule 5: root's own directory (TempDir is root's, 0700, below /tmp 1777).
  auto real = std::filesystem::canonical(mine);
  CHECK(postdrop::root_only_path(mine));
  CHECK(*postdrop::trusted_config_dir(mine, def, setgid_user) == real);
  // A main.cf someone else may change is not root's alone.
  REQUIRE(::chmod((mine / "main.cf").c_str(), 0666) == 0);
  auto writable = postdrop::trusted_config_dir(mine, def, setgid_user);
  REQUIRE_FALSE(writable);
  CHECK(writable.error().code == Errc::permission);
  CHECK_THAT(writable.error().detail, Catch::Contains("writable by group or others"));
  CHECK_THAT(writable.error().detail, Catch::Contains("alternate_config_directories"));
  REQUIRE(::chmod((mine / "main.cf").c_str(), 0644) == 0);
  // A directory of another user: refused, unless the default main.cf lists it.
  REQUIRE(::chown(mine.c_str(), 65534, 65534) == 0);
  auto other = postdrop::trusted_config_dir(mine, def, setgid_user);
  REQUIRE_FALSE(other);
  CHECK_THAT(other.error().detail, Catch::Contains("owned by uid 65534"));
  dir.file("default/main.cf", "alternate_config_directories = " + mine.string() + "\n");
  CHECK(*postdrop::trusted_config_dir(mine, def, setgid_user) == real);
  // Through a symbolic link, the checked path is the one to load.
  std::filesystem::create_directory_symlink(mine, dir / "link");
  CHECK(*postdrop::trusted_config_dir(dir / "link", def, setgid_user) == real);
}
