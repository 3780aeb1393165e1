#include "pop3d/session.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

using namespace posthorn;
using namespace posthorn::pop3d;

namespace {

class FakeMailbox : public Mailbox {
 public:
  std::vector<std::string> data;
  std::vector<MessageInfo> infos;
  std::vector<std::size_t>* removed = nullptr;
  bool fail_remove = false;
  std::size_t gone = static_cast<std::size_t>(-1);  // read() of this index: not_found

  explicit FakeMailbox(std::vector<std::string> msgs) : data(std::move(msgs)) {
    for (std::size_t i = 0; i < data.size(); ++i) {
      std::uint64_t octets = 0;
      char prev = 0;
      for (char c : data[i]) {
        octets += (c == '\n' && prev != '\r') ? 2 : 1;
        prev = c;
      }
      infos.push_back({octets, "1700000000." + std::to_string(i + 1)});
    }
  }
  const std::vector<MessageInfo>& messages() const override { return infos; }
  Result<std::string> read(std::size_t index) override {
    if (index == gone) return make_error(Errc::not_found, "gone");
    return data.at(index);
  }
  Result<void> remove(const std::vector<std::size_t>& indices) override {
    if (fail_remove) return make_error(Errc::io, "unlink failed");
    *removed = indices;
    return {};
  }
};

struct FakeHost : Host {
  std::string out;
  std::vector<std::pair<std::string, std::string>> checks;
  std::vector<std::string> opened;
  std::vector<std::size_t> removed;
  std::vector<std::string> msgs = {
      "From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n",
      "Subject: two\n\n.dot line\nline 2\n..two dots\nlast\n",
      "Subject: three\r\n\r\nno final newline",
  };
  Errc open_error = Errc::io;
  bool fail_open = false;
  bool fail_remove = false;
  std::size_t gone = static_cast<std::size_t>(-1);
  int tls_starts = 0;
  std::size_t congest_after = static_cast<std::size_t>(-1);  // bytes of output

  void send(std::string_view b) override { out.append(b); }
  bool congested() const override { return out.size() >= congest_after; }
  void check_password(const std::string& l, const std::string& p) override { checks.emplace_back(l, p); }
  Result<std::unique_ptr<Mailbox>> open_mailbox(const std::string& login) override {
    opened.push_back(login);
    if (fail_open) return make_error(open_error, "cannot");
    auto m = std::make_unique<FakeMailbox>(msgs);
    m->removed = &removed;
    m->fail_remove = fail_remove;
    m->gone = gone;
    return std::unique_ptr<Mailbox>(std::move(m));
  }
  void start_tls() override { ++tls_starts; }
};

Settings plaintext() {
  Settings s;
  s.banner = "pop.example ready";
  s.plaintext_auth = true;
  return s;
}

struct Run {
  FakeHost host;
  Session session;
  std::string pending;  // input the session has not consumed yet
  explicit Run(Settings s = plaintext()) : session(std::move(s), host) { session.start(); }
  // Feeds `text` as the owner does and returns the output it caused.
  std::string say(std::string_view text) {
    std::size_t before = host.out.size();
    pending += text;
    pending.erase(0, session.feed(pending));
    return host.out.substr(before);
  }
  std::string checked(PasswordCheck::Verdict v, std::string login = "alice@example.org") {
    std::size_t before = host.out.size();
    session.password_checked({v, std::move(login)});
    pending.erase(0, session.feed(pending));
    return host.out.substr(before);
  }
  void login() {
    REQUIRE(say("USER alice@example.org\r\nPASS secret\r\n") == "+OK\r\n");
    REQUIRE(checked(PasswordCheck::ok) == "+OK Logged in\r\n");
  }
};

}  // namespace

TEST_CASE("pop3d session greets and answers CAPA by state and TLS", "[pop3d][session]") {
  Settings s;
  s.banner = "pop.example ready";
  s.tls_offered = true;
  Run r(s);
  CHECK(r.host.out == "+OK pop.example ready\r\n");
  CHECK(r.say("CAPA\r\n") ==
        "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
        "PIPELINING\r\nSTLS\r\nIMPLEMENTATION Posthorn\r\n.\r\n");
  CHECK(r.say("STLS\r\nCAPA\r\n") == "+OK Begin TLS negotiation\r\n");
  CHECK(r.session.waiting());
  CHECK(r.host.tls_starts == 1);
  CHECK(r.say("USER x\r\n").empty());  // nothing is read during the handshake
  r.pending.clear();                    // the owner drops what came with STLS
  r.session.tls_started();
  CHECK(r.say("CAPA\r\n") ==
        "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
        "PIPELINING\r\nUSER\r\nSASL PLAIN LOGIN\r\nIMPLEMENTATION Posthorn\r\n.\r\n");
  CHECK(r.say("STLS\r\n") == "-ERR TLS is already active\r\n");
}

TEST_CASE("pop3d session refuses plaintext logins before TLS and says why", "[pop3d][session]") {
  Settings s;
  s.tls_offered = true;
  Run r(s);
  const std::string refused =
      "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections\r\n";
  CHECK(r.say("USER alice\r\n") == refused);
  CHECK(r.say("PASS x\r\n") == refused);
  CHECK(r.say("AUTH PLAIN\r\n") == refused);
  CHECK(r.say("AUTH\r\n") == "+OK\r\n.\r\n");
  CHECK(r.host.checks.empty());
  // Implicit TLS (port 995) allows them from the start.
  Settings t;
  t.tls_active = true;
  Run w(t);
  CHECK(w.say("USER alice\r\n") == "+OK\r\n");
  CHECK(w.say("STLS\r\n") == "-ERR TLS is already active\r\n");
}

TEST_CASE("pop3d session without a certificate has no STLS", "[pop3d][session]") {
  Run r;
  CHECK(r.say("STLS\r\n") == "-ERR TLS is not available\r\n");
  CHECK(r.host.tls_starts == 0);
  CHECK(r.say("CAPA\r\n").find("STLS") == std::string::npos);
}

TEST_CASE("pop3d USER/PASS: the password is the rest of the line", "[pop3d][session]") {
  Run r;
  CHECK(r.say("PASS early\r\n") == "-ERR USER first\r\n");
  CHECK(r.say("USER alice@example.org \r\n") == "+OK\r\n");
  CHECK(r.say("PASS two  words \r\n").empty());
  REQUIRE(r.host.checks.size() == 1);
  CHECK(r.host.checks[0] == std::make_pair(std::string("alice@example.org"), std::string("two  words ")));
  CHECK(r.session.waiting());
  CHECK(r.say("STAT\r\n").empty());  // held until the answer
  CHECK(r.checked(PasswordCheck::ok, "alice@example.org") == "+OK Logged in\r\n+OK 3 134\r\n");
  CHECK(r.host.opened == std::vector<std::string>{"alice@example.org"});
  CHECK(r.session.login() == "alice@example.org");
}

TEST_CASE("pop3d failed logins: [AUTH], then the session ends at the limit", "[pop3d][session]") {
  Run r;
  for (int i = 0; i < 2; ++i) {
    r.say("USER bob\r\nPASS wrong\r\n");
    CHECK(r.checked(PasswordCheck::wrong) == "-ERR [AUTH] Authentication failed\r\n");
    CHECK_FALSE(r.session.finished());
  }
  r.say("USER bob\r\nPASS wrong\r\n");
  CHECK(r.checked(PasswordCheck::wrong) ==
        "-ERR [AUTH] Authentication failed; too many failures, closing\r\n");
  CHECK(r.session.finished());
  CHECK(r.host.opened.empty());
  CHECK(r.say("USER bob\r\n").empty());
}

TEST_CASE("pop3d login answers: [SYS/TEMP], [IN-USE], [SYS/PERM]", "[pop3d][session]") {
  SECTION("the auth service cannot answer") {
    Run r;
    r.say("USER bob\r\nPASS pw\r\n");
    CHECK(r.checked(PasswordCheck::temporary) ==
          "-ERR [SYS/TEMP] Authentication service unavailable; try again later\r\n");
    CHECK_FALSE(r.session.finished());
    CHECK(r.session.auth_failures() == 0);
  }
  const std::pair<Errc, std::string> cases[] = {
      {Errc::busy, "-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n"},
      {Errc::not_found, "-ERR [SYS/PERM] Mailbox is not available\r\n"},
      {Errc::unsupported, "-ERR [SYS/PERM] Mailbox is not available\r\n"},
      {Errc::io, "-ERR [SYS/TEMP] Mailbox cannot be opened now; try again later\r\n"},
  };
  for (const auto& [code, reply] : cases) {
    Run r;
    r.host.fail_open = true;
    r.host.open_error = code;
    r.say("USER bob\r\nPASS pw\r\nSTAT\r\n");
    CHECK(r.checked(PasswordCheck::ok, "bob") == reply);
    CHECK(r.session.finished());
  }
}

TEST_CASE("pop3d transaction: STAT, LIST, UIDL with exact octet counts", "[pop3d][session]") {
  Run r;
  r.login();
  // 47 octets; 47 bytes with 6 bare LFs -> 53; 34 without a final line end.
  CHECK(r.say("STAT\r\n") == "+OK 3 134\r\n");
  CHECK(r.say("LIST\r\n") == "+OK scan listing follows\r\n1 47\r\n2 53\r\n3 34\r\n.\r\n");
  CHECK(r.say("LIST 2\r\n") == "+OK 2 53\r\n");
  CHECK(r.say("UIDL\r\n") ==
        "+OK unique-id listing follows\r\n1 1700000000.1\r\n2 1700000000.2\r\n3 1700000000.3\r\n.\r\n");
  CHECK(r.say("UIDL 3\r\n") == "+OK 3 1700000000.3\r\n");
  CHECK(r.say("list 1\r\n") == "+OK 1 47\r\n");  // verbs are case-insensitive
}

TEST_CASE("pop3d RETR and TOP: CRLF line ends and byte-stuffing", "[pop3d][session]") {
  Run r;
  r.login();
  CHECK(r.say("RETR 1\r\n") ==
        "+OK 47 octets\r\nFrom: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n.\r\n");
  CHECK(r.say("RETR 2\r\n") ==
        "+OK 53 octets\r\nSubject: two\r\n\r\n..dot line\r\nline 2\r\n...two dots\r\nlast\r\n.\r\n");
  CHECK(r.say("RETR 3\r\n") == "+OK 34 octets\r\nSubject: three\r\n\r\nno final newline\r\n.\r\n");
  CHECK(r.say("TOP 2 0\r\n") == "+OK\r\nSubject: two\r\n\r\n.\r\n");
  CHECK(r.say("TOP 2 2\r\n") == "+OK\r\nSubject: two\r\n\r\n..dot line\r\nline 2\r\n.\r\n");
  CHECK(r.say("TOP 1 100\r\n") ==
        "+OK\r\nFrom: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n.\r\n");
  CHECK(r.say("TOP 1\r\n") == "-ERR Usage: TOP message lines\r\n");
  CHECK(r.say("TOP 1 -1\r\n") == "-ERR Usage: TOP message lines\r\n");
  CHECK(r.session.retrieved() == 3);
}

TEST_CASE("pop3d message numbers are checked", "[pop3d][session]") {
  Run r;
  r.login();
  const std::pair<const char*, const char*> cases[] = {
      {"RETR 0\r\n", "-ERR No such message\r\n"},
      {"RETR 4\r\n", "-ERR No such message\r\n"},
      {"RETR 99999999999999999999\r\n", "-ERR Invalid message number\r\n"},
      {"RETR -1\r\n", "-ERR Invalid message number\r\n"},
      {"RETR +1\r\n", "-ERR Invalid message number\r\n"},
      {"RETR x\r\n", "-ERR Invalid message number\r\n"},
      {"RETR\r\n", "-ERR Invalid message number\r\n"},
      {"DELE 1x\r\n", "-ERR Invalid message number\r\n"},
      {"LIST 0\r\n", "-ERR No such message\r\n"},
  };
  for (const auto& [cmd, reply] : cases) CHECK(r.say(cmd) == reply);
  CHECK(r.say("LIST 1 \r\n") == "+OK 1 47\r\n");  // trailing blanks are ignored
  CHECK(r.say("TOP  1   0\t\r\n") == "+OK\r\nFrom: a@example.org\r\nSubject: one\r\n\r\n.\r\n");
}

TEST_CASE("pop3d DELE marks, RSET unmarks, QUIT removes only then", "[pop3d][session]") {
  SECTION("DELE then QUIT removes") {
    Run r;
    r.login();
    CHECK(r.say("DELE 2\r\n") == "+OK Marked to be deleted\r\n");
    CHECK(r.say("DELE 2\r\n") == "-ERR Message is deleted\r\n");
    CHECK(r.say("RETR 2\r\n") == "-ERR Message is deleted\r\n");
    CHECK(r.say("STAT\r\n") == "+OK 2 81\r\n");
    CHECK(r.say("LIST\r\n") == "+OK scan listing follows\r\n1 47\r\n3 34\r\n.\r\n");
    CHECK(r.say("UIDL\r\n") ==
          "+OK unique-id listing follows\r\n1 1700000000.1\r\n3 1700000000.3\r\n.\r\n");
    CHECK(r.host.removed.empty());
    CHECK(r.say("QUIT\r\nNOOP\r\n") == "+OK Logging out\r\n");
    CHECK(r.host.removed == std::vector<std::size_t>{1});
    CHECK(r.session.finished());
    CHECK(r.session.removed() == 1);
  }
  SECTION("DELE, RSET, QUIT keeps") {
    Run r;
    r.login();
    r.say("DELE 1\r\nDELE 3\r\n");
    CHECK(r.say("RSET\r\n") == "+OK 3 messages (134 octets)\r\n");
    CHECK(r.say("STAT\r\n") == "+OK 3 134\r\n");
    CHECK(r.say("QUIT\r\n") == "+OK Logging out\r\n");
    CHECK(r.host.removed.empty());
  }
  SECTION("a removal that fails is [SYS/TEMP]") {
    Run r;
    r.host.fail_remove = true;
    r.login();
    r.say("DELE 1\r\n");
    CHECK(r.say("QUIT\r\n") == "-ERR [SYS/TEMP] Some deleted messages were not removed\r\n");
    CHECK(r.session.finished());
  }
}

TEST_CASE("pop3d commands outside their state are refused", "[pop3d][session]") {
  Run r;
  CHECK(r.say("STAT\r\n") == "-ERR Not logged in\r\n");
  CHECK(r.say("NOOP\r\n") == "-ERR Not logged in\r\n");
  CHECK(r.say("APOP alice 0123\r\n") == "-ERR Unknown command\r\n");
  r.login();
  CHECK(r.say("USER bob\r\n") == "-ERR Command not valid in this state\r\n");
  CHECK(r.say("STLS\r\n") == "-ERR Command not valid in this state\r\n");
  CHECK(r.say("NOOP\r\n") == "+OK\r\n");
  CHECK(r.say("QUIT\r\n") == "+OK Logging out\r\n");
}

TEST_CASE("pop3d AUTH PLAIN and LOGIN (RFC 5034)", "[pop3d][session]") {
  SECTION("initial response") {
    Run r;
    // "\0alice\0pw one"
    CHECK(r.say("AUTH PLAIN AGFsaWNlAHB3IG9uZQ==\r\n").empty());
    REQUIRE(r.host.checks.size() == 1);
    CHECK(r.host.checks[0] == std::make_pair(std::string("alice"), std::string("pw one")));
    CHECK(r.checked(PasswordCheck::ok, "alice") == "+OK Logged in\r\n");
  }
  SECTION("continuation") {
    Run r;
    CHECK(r.say("AUTH PLAIN\r\n") == "+ \r\n");
    CHECK(r.say("AGFsaWNlAHB3IG9uZQ==\r\n").empty());
    REQUIRE(r.host.checks.size() == 1);
    CHECK(r.checked(PasswordCheck::wrong) == "-ERR [AUTH] Authentication failed\r\n");
  }
  SECTION("cancel, bad base64, malformed") {
    Run r;
    CHECK(r.say("AUTH PLAIN\r\n*\r\n") == "+ \r\n-ERR Authentication cancelled\r\n");
    CHECK(r.say("AUTH PLAIN\r\n!!!!\r\n") == "+ \r\n-ERR Invalid base64 data\r\n");
    CHECK(r.say("AUTH PLAIN YWxpY2U=\r\n") == "-ERR [AUTH] Authentication failed\r\n");
    CHECK(r.say("AUTH CRAM-MD5\r\n") == "-ERR Unsupported authentication mechanism\r\n");
    CHECK(r.host.checks.empty());
    CHECK(r.session.auth_failures() == 1);
  }
  SECTION("LOGIN") {
    Run r;
    CHECK(r.say("AUTH LOGIN\r\n") == "+ VXNlcm5hbWU6\r\n");
    CHECK(r.say("Ym9i\r\n") == "+ UGFzc3dvcmQ6\r\n");
    CHECK(r.say("c2VjcmV0\r\n").empty());
    REQUIRE(r.host.checks.size() == 1);
    CHECK(r.host.checks[0] == std::make_pair(std::string("bob"), std::string("secret")));
  }
  SECTION("mechanism list") {
    Run r;
    CHECK(r.say("AUTH\r\n") == "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
  }
}

TEST_CASE("pop3d session bounds lines and bad commands", "[pop3d][session]") {
  SECTION("a line over max_line ends the session") {
    Settings s = plaintext();
    s.max_line = 64;
    Run r(s);
    CHECK(r.say(std::string(63, 'x')) .empty());
    CHECK(r.say("x") == "-ERR Line too long\r\n");
    CHECK(r.session.finished());
  }
  SECTION("a complete line over max_line too") {
    Settings s = plaintext();
    s.max_line = 16;
    Run r(s);
    CHECK(r.say("USER " + std::string(20, 'a') + "\r\n") == "-ERR Line too long\r\n");
    CHECK(r.session.finished());
  }
  SECTION("bad commands") {
    Settings s = plaintext();
    s.max_bad_commands = 3;
    Run r(s);
    CHECK(r.say("FOO\r\nBAR\r\n") == "-ERR Unknown command\r\n-ERR Unknown command\r\n");
    CHECK(r.say("BAZ\r\nQUIT\r\n") == "-ERR Unknown command; too many bad commands, closing\r\n");
    CHECK(r.session.finished());
  }
}

TEST_CASE("pop3d session stops taking commands while the output is congested", "[pop3d][session]") {
  Run r;
  r.login();
  r.host.congest_after = r.host.out.size() + 1;  // the next reply congests
  std::string script = "NOOP\r\nSTAT\r\n";
  std::size_t used = r.session.feed(script);
  CHECK(used == 6);
  r.host.congest_after = static_cast<std::size_t>(-1);
  CHECK(r.session.feed(std::string_view(script).substr(used)) == 6);
  CHECK(r.host.out.substr(r.host.out.size() - 16) == "+OK\r\n+OK 3 134\r\n");
}

TEST_CASE("pop3d session replies do not depend on how the input is split", "[pop3d][session]") {
  const std::string script =
      "CAPA\r\nUSER alice@example.org\r\nPASS pw\r\nSTAT\r\nLIST\r\nRETR 2\r\nTOP 1 0\r\n"
      "DELE 1\r\nUIDL\r\nRSET\r\nDELE 3\r\nNOOP\nQUIT\r\n";
  auto run = [&](std::size_t cut) {
    Run r;
    r.say(script.substr(0, cut));
    r.say(script.substr(cut));
    if (r.session.waiting()) r.checked(PasswordCheck::ok);
    return std::make_pair(r.host.out, r.host.removed);
  };
  const auto whole = run(script.size());
  CHECK(whole.second == std::vector<std::size_t>{2});
  CHECK(whole.first.find("+OK Logged in\r\n+OK 3 134\r\n") != std::string::npos);
  for (std::size_t cut = 0; cut <= script.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK(run(cut) == whole);
  }
}

TEST_CASE("pop3d RETR of a message removed meanwhile", "[pop3d][session]") {
  Run r;
  r.host.gone = 1;
  r.login();
  CHECK(r.say("RETR 2\r\n") == "-ERR Message is no longer available\r\n");
  CHECK(r.say("RETR 1\r\n").rfind("+OK 47 octets\r\n", 0) == 0);
}
