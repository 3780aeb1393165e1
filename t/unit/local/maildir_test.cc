// Maildir deliveries and the envelope of forwarded copies.
#include "local/maildir.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

#include "lib/base/file.h"
#include "local/forward_queue.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::local;

namespace {

std::vector<std::filesystem::path> files_in(const std::filesystem::path& d) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(d, ec)) out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("a missing Maildir is created and the message lands in new/", "[local][maildir]") {
  test::TempDir dir("maildir");
  MaildirTarget t{(dir / "users/bob/Maildir/").string(), numeric_rights(::getuid(), ::getgid()), 0};
  CHECK(deliver_maildir(t, "Subject: x\n\nbody\n") == Outcome::sent("delivered to maildir"));
  CHECK(deliver_maildir(t, "second\n").ok());
  auto fresh = files_in(dir / "users/bob/Maildir/new");
  REQUIRE(fresh.size() == 2);
  CHECK(files_in(dir / "users/bob/Maildir/tmp").empty());
  CHECK(std::filesystem::is_directory(dir / "users/bob/Maildir/cur"));
  std::set<std::string> bodies;
  for (auto& f : fresh) bodies.insert(*read_file(f));
  CHECK(bodies == std::set<std::string>{"Subject: x\n\nbody\n", "second\n"});
}

TEST_CASE("a message over the per-file limit bounces unwritten", "[local][maildir]") {
  test::TempDir dir("maildir");
  MaildirTarget t{(dir / "md/").string(), numeric_rights(::getuid(), ::getgid()), 5};
  Outcome o = deliver_maildir(t, "123456");
  CHECK(o.status == Status::bounced);
  CHECK(o.dsn == "5.2.2");
  CHECK_FALSE(std::filesystem::exists(dir / "md/new"));
}

TEST_CASE("a Maildir that cannot be made defers", "[local][maildir]") {
  test::TempDir dir("maildir");
  REQUIRE(write_file_durable((dir / "file").string(), "x", 0600));
  MaildirTarget t{(dir / "file/Maildir/").string(), numeric_rights(::getuid(), ::getgid()), 0};
  Outcome o = deliver_maildir(t, "x");
  CHECK(o.status == Status::deferred);
  CHECK(o.dsn == "4.3.0");
}

TEST_CASE("forwarded copies keep DSN fields unless a list owner takes over", "[local][forward]") {
  queue::QueueFile qf;
  qf.env.sender = "alice@example.org";
  qf.env.envid = "ENV1";
  qf.env.ret = queue::DsnRet::hdrs;
  qf.env.smtputf8 = true;
  qf.env.client.addr = "192.0.2.1";
  Forward f;
  f.sender = "alice@example.org";
  f.recipients = {"bob@example.org", "carol@example.net"};
  f.original = "team@example.org";
  f.notify = queue::kNotifySuccess | queue::kNotifyFailure;
  f.orcpt = "rfc822;team@example.org";
  queue::Envelope e = forward_envelope(qf, f);
  CHECK(e.sender == "alice@example.org");
  CHECK(e.envid == "ENV1");
  CHECK(e.ret == queue::DsnRet::hdrs);
  CHECK(e.smtputf8);
  CHECK(e.client.addr == "192.0.2.1");
  REQUIRE(e.recipients.size() == 2);
  CHECK(e.recipients[0].address == "bob@example.org");
  CHECK(e.recipients[0].original == "team@example.org");
  CHECK(e.recipients[0].notify == queue::kNotifyFailure);  // SUCCESS was answered by the expansion
  CHECK(e.recipients[1].orcpt == "rfc822;team@example.org");

  f.notify = queue::kNotifySuccess;
  CHECK(forward_envelope(qf, f).recipients[0].notify == queue::kNotifyNever);

  f.owner = true;
  f.sender = "owner-team@example.org";
  e = forward_envelope(qf, f);
  CHECK(e.sender == "owner-team@example.org");
  CHECK(e.envid.empty());
  CHECK(e.ret == queue::DsnRet::unspecified);
  CHECK(e.recipients[0].notify == 0);
  CHECK(e.recipients[0].orcpt.empty());
}
