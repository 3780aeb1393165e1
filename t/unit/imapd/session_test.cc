// Tests for imapd/session.h: the protocol engine driven through a fake Host,
// over real Maildir stores in a temporary directory.
#include "imapd/session.h"

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "imapd/format.h"
#include "imapd/search.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/mailstore/store.h"
#include "t/unit/support/temp_dir.h"

using namespace posthorn;
using namespace posthorn::imapd;

namespace {

class FakeHost : public Host {
 public:
  explicit FakeHost(std::filesystem::path root) : root_(std::move(root)) {}

  std::string out;
  std::map<std::string, std::string> passwords{{"alice", "secret"}, {"bob", "hunter2"}};
  bool async_auth = false;
  bool auth_unavailable = false;
  std::function<void()> pending_auth;
  bool tls_started = false;
  bool congested_now = false;
  std::filesystem::path watched;
  int resumes = 0;
  std::vector<std::string> logs;
  std::vector<std::string> checked;  // logins checked

  void send(std::string_view b) override { out.append(b); }
  bool congested() const override { return congested_now; }
  void check_password(const std::string& login, const std::string& password,
                      std::function<void(AuthAnswer)> done) override {
    checked.push_back(login);
    AuthAnswer a;
    if (auth_unavailable) {
      a.kind = AuthAnswer::Kind::temporary;
    } else if (auto it = passwords.find(login); it != passwords.end() && it->second == password) {
      a.kind = AuthAnswer::Kind::ok;
      a.login = login;
    }
    if (async_auth) pending_auth = [done, a] { done(a); };
    else done(a);
  }
  Result<mailstore::Store> open_store(const std::string& login) override {
    return mailstore::Store::open(root_ / login, true);
  }
  void start_tls() override { tls_started = true; }
  void watch(const std::filesystem::path& dir) override { watched = dir; }
  void unwatch() override { watched.clear(); }
  void resume() override { ++resumes; }
  void log(std::string_view line) override { logs.emplace_back(line); }

 private:
  std::filesystem::path root_;
};

Settings settings() {
  Settings s;
  s.banner = "Posthorn ready";
  s.plaintext_auth = true;
  s.limits.max_line = 8192;
  s.limits.max_literal = 100000;
  s.limits.max_nesting = 8;
  s.client_addr = "192.0.2.1";
  return s;
}

// A session with its own host; `root` may be shared with other sessions.
struct Client {
  FakeHost host;
  Session session;
  std::string pending;  // input the session has not consumed yet

  Client(const std::filesystem::path& root, Settings s = settings())
      : host(root), session(std::move(s), host) {
    session.start();
  }
  // Sends `in` and returns what came back.
  std::string say(std::string_view in) {
    std::size_t at = host.out.size();
    pending += in;
    for (;;) {
      std::size_t used = session.feed(pending);
      pending.erase(0, used);
      if (used == 0 || pending.empty()) break;
    }
    return host.out.substr(at);
  }
  std::string login(const std::string& user = "alice", const std::string& pass = "secret") {
    return say("L LOGIN " + user + " " + pass + "\r\n");
  }
  // Appends a message to `box` (via the protocol) and returns the response.
  std::string append(const std::string& box, const std::string& msg, const std::string& extra = "") {
    return say("AP APPEND " + box + " " + extra + "{" + std::to_string(msg.size()) + "+}\r\n" +
               msg + "\r\n");
  }
};

// Replaces the numbers that depend on the time (UIDVALIDITY) with "V".
std::string stable(const std::string& s) {
  static const std::regex uidvalidity(R"((UIDVALIDITY|APPENDUID|COPYUID) \d+)");
  std::string out = std::regex_replace(s, uidvalidity, "$1 V");
  static const std::regex internaldate(R"(INTERNALDATE "[^"]*")");
  return std::regex_replace(out, internaldate, "INTERNALDATE \"D\"");
}

const std::string kMsg1 =
    "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Hello\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.org>\r\n\r\nHi Bob.\r\n";
const std::string kMsg2 =
    "From: carol@example.net\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    "Date: Tue, 8 Feb 1994 10:00:00 +0000\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    "\r\nSch=C3=B6ne Gr=C3=BC=C3=9Fe und ein Needle.\r\n";

const std::string kSelectEmpty =
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] "
    "Flags permitted.\r\n"
    "* 0 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY V] UIDs valid\r\n"
    "* OK [UIDNEXT 1] Predicted next UID\r\n";

}  // namespace

TEST_CASE("greeting and capabilities follow TLS and the plaintext setting", "[imapd][session]") {
  test::TempDir dir("imapd");
  Settings s = settings();
  s.plaintext_auth = false;
  s.tls_available = true;
  Client c(dir.path(), s);
  CHECK(c.host.out ==
        "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE STARTTLS LOGINDISABLED] "
        "Posthorn ready\r\n");
  CHECK(c.say("a LOGIN alice secret\r\n") ==
        "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections\r\n");
  CHECK(c.say("b AUTHENTICATE PLAIN\r\n").find("b NO [PRIVACYREQUIRED]") == 0);
  CHECK(c.host.checked.empty());
  // STARTTLS: the OK, then nothing is read until the handshake is done.
  CHECK(c.say("c STARTTLS\r\nd CAPABILITY\r\n") == "c OK Begin TLS negotiation now\r\n");
  CHECK(c.host.tls_started);
  CHECK(c.session.waiting());
  CHECK(c.pending == "d CAPABILITY\r\n");
  c.pending.clear();  // the owner discards plaintext sent before the handshake
  c.session.tls_ready();
  CHECK(c.say("e CAPABILITY\r\n") ==
        "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN\r\n"
        "e OK Capability completed\r\n");
  CHECK(c.say("f STARTTLS\r\n") == "f BAD TLS is already active\r\n");
  CHECK(c.login() ==
        "L OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE "
        "UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH BINARY STATUS=SIZE "
        "UTF8=ACCEPT APPENDLIMIT=100000] Logged in\r\n");
  CHECK(c.session.user() == "alice");
}

TEST_CASE("STARTTLS without a certificate", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  CHECK(c.say("a STARTTLS\r\n") == "a NO [UNAVAILABLE] TLS is not configured\r\n");
  CHECK_FALSE(c.host.tls_started);
}

TEST_CASE("failed logins are limited", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  CHECK(c.say("a LOGIN alice wrong\r\n") == "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  CHECK(c.say("b LOGIN nobody x\r\n") == "b NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  CHECK(c.say("c SELECT INBOX\r\n") == "c BAD Log in first\r\n");
  CHECK(c.say("d LOGIN alice wrong\r\ne NOOP\r\n") ==
        "d NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
        "* BYE Too many invalid authentication attempts\r\n");
  CHECK(c.session.finished());
  c.host.auth_unavailable = true;
  Client t(dir.path());
  t.host.auth_unavailable = true;
  CHECK(t.login() == "L NO [UNAVAILABLE] Temporary authentication failure\r\n");
}

TEST_CASE("AUTHENTICATE PLAIN, with and without an initial response", "[imapd][session]") {
  test::TempDir dir("imapd");
  {
    Client c(dir.path());
    // "\0alice\0secret"
    CHECK(c.say("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n").find("a OK [CAPABILITY") == 0);
  }
  {
    Client c(dir.path());
    CHECK(c.say("a AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    CHECK(c.say("*\r\n") == "a BAD Authentication cancelled\r\n");
    CHECK(c.say("b AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    CHECK(c.say("not base64!\r\n") == "b BAD Invalid base64 data\r\n");
    CHECK(c.say("c AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    // authzid "bob" for authcid "alice": acting for another user is refused.
    CHECK(c.say("Ym9iAGFsaWNlAHNlY3JldA==\r\n") ==
          "c NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
    CHECK(c.say("d AUTHENTICATE PLAIN =\r\n") ==
          "d NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
    CHECK(c.say("e LOGIN alice nope\r\n") ==
          "e NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
          "* BYE Too many invalid authentication attempts\r\n");
  }
  {
    Client c(dir.path());
    // LOGIN: user name and password in two challenges ("Username:", "Password:").
    CHECK(c.say("a AUTHENTICATE LOGIN\r\n") == "+ VXNlcm5hbWU6\r\n");
    CHECK(c.say("Ym9i\r\n") == "+ UGFzc3dvcmQ6\r\n");
    CHECK(c.say("aHVudGVyMg==\r\n").find("a OK [CAPABILITY") == 0);
    CHECK(c.session.user() == "bob");
  }
  {
    Client c(dir.path());
    CHECK(c.say("a AUTHENTICATE CRAM-MD5\r\n") ==
          "a NO [CANNOT] Unsupported authentication mechanism\r\n");
    CHECK(c.say("b AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    CHECK(c.say("YWxpY2UAYWxpY2UAc2VjcmV0\r\n").find("b OK [CAPABILITY") == 0);  // authzid = authcid
  }
}

TEST_CASE("no input is read while a password check is pending", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.host.async_auth = true;
  CHECK(c.say("a LOGIN alice secret\r\nb NOOP\r\n").empty());
  CHECK(c.session.waiting());
  CHECK(c.pending == "b NOOP\r\n");
  c.host.pending_auth();
  CHECK(c.host.resumes == 1);
  CHECK(c.host.out.find("a OK [CAPABILITY") != std::string::npos);
  CHECK(c.say("") == "b OK NOOP completed\r\n");
}

TEST_CASE("literals before login are held to a line's length", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  CHECK(c.say("a LOGIN {9000}\r\n") ==
        "a NO [TOOBIG] Literal too big (the limit is 8192 octets)\r\n");
  CHECK(c.say("b LOGIN {5}\r\n") == "+ Ready for literal data\r\n");
  CHECK(c.say("alice {6}\r\n") == "+ Ready for literal data\r\n");
  CHECK(c.say("secret\r\n").find("b OK [CAPABILITY") == 0);
  CHECK(c.say("c APPEND INBOX {100001}\r\n") ==
        "c NO [TOOBIG] Literal too big (the limit is 100000 octets)\r\n");
  CHECK(c.say("d NOOP\r\n") == "d OK NOOP completed\r\n");
  CHECK(c.say("e APPEND INBOX {100001+}\r\n") == "* BYE [TOOBIG] Literal too big\r\n");
  CHECK(c.session.finished());
}

TEST_CASE("protocol errors", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  CHECK(c.say("a XYZZY\r\n") == "a BAD Unknown command\r\n");
  CHECK(c.say("b UID NOOP\r\n") == "b BAD Unknown command\r\n");
  CHECK(c.say("c NOOP (\r\n") == "c BAD Error in IMAP command: Unclosed parenthesis\r\n");
  CHECK(c.say("+ NOOP\r\n") == "* BAD Error in IMAP command: Invalid tag\r\n");
  CHECK(c.say("d ((((((((((x))))))))))\r\n") ==
        "d BAD Error in IMAP command: Too deeply nested\r\n");
  CHECK(c.say("e " + std::string(9000, 'x') + "\r\n") == "* BYE [TOOBIG] Command line too long\r\n");
  CHECK(c.session.finished());
  Client d(dir.path());
  std::string all;
  for (std::size_t i = 0; i < kMaxBadCommands; ++i) all += d.say("x BOGUS\r\n");
  CHECK(all.find("* BYE Too many invalid IMAP commands\r\n") != std::string::npos);
  CHECK(d.session.finished());
}

TEST_CASE("any-state commands", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  CHECK(c.say("a ID (\"name\" \"test\" \"version\" NIL)\r\n") ==
        "* ID (\"name\" \"Posthorn\")\r\na OK ID completed\r\n");
  CHECK(c.say("b ID NIL\r\n") == "* ID (\"name\" \"Posthorn\")\r\nb OK ID completed\r\n");
  CHECK(c.say("c ID (\"name\")\r\n") == "c BAD Invalid ID list\r\n");
  CHECK(c.say("d ENABLE IMAP4rev2\r\n") == "d BAD Log in first\r\n");
  c.login();
  CHECK(c.say("e ENABLE CONDSTORE\r\n") == "* ENABLED\r\ne OK ENABLE completed\r\n");
  CHECK(c.say("e2 ENABLE UTF8=ACCEPT utf8=accept\r\n") ==
        "* ENABLED UTF8=ACCEPT\r\ne2 OK ENABLE completed\r\n");
  CHECK(c.say("f NAMESPACE\r\n") == "* NAMESPACE ((\"\" \".\")) NIL NIL\r\nf OK NAMESPACE completed\r\n");
  CHECK(c.say("g LOGOUT\r\n") == "* BYE Logging out\r\ng OK Logout completed\r\n");
  CHECK(c.session.finished());
}

TEST_CASE("SELECT, APPEND and FETCH", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  CHECK(stable(c.say("a SELECT inbox\r\n")) == kSelectEmpty + "a OK [READ-WRITE] SELECT completed\r\n");
  CHECK(stable(c.append("INBOX", kMsg1, "(\\Seen $Junk) \"17-Jul-1996 02:44:25 -0700\" ")) ==
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk)\r\n"
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk \\*)] "
        "Flags permitted.\r\n"
        "* 1 EXISTS\r\n* 0 RECENT\r\nAP OK [APPENDUID V 1] APPEND completed\r\n");
  CHECK(stable(c.append("INBOX", kMsg2)).find("AP OK [APPENDUID V 2]") != std::string::npos);
  CHECK(c.say("b FETCH 1 (FLAGS UID RFC822.SIZE INTERNALDATE)\r\n") ==
        "* 1 FETCH (FLAGS (\\Seen $Junk) UID 1 RFC822.SIZE " + std::to_string(kMsg1.size()) +
            " INTERNALDATE \"" + format_date_time(837596665) + "\")\r\nb OK FETCH completed\r\n");
  CHECK(c.say("c FETCH 1 ENVELOPE\r\n") ==
        "* 1 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\" "
        "((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) "
        "((\"Alice\" NIL \"alice\" \"example.org\")) ((NIL NIL \"bob\" \"example.com\")) NIL NIL "
        "NIL \"<1@example.org>\"))\r\nc OK FETCH completed\r\n");
  CHECK(c.say("d FETCH 1 BODYSTRUCTURE\r\n") ==
        "* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 "
        "1 NIL NIL NIL NIL))\r\nd OK FETCH completed\r\n");
  CHECK(c.say("e FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject)] BODY.PEEK[TEXT]<0.2> BODY[9])\r\n") ==
        "* 1 FETCH (BODY[HEADER.FIELDS (subject)] {18}\r\nSubject: Hello\r\n\r\n BODY[TEXT]<0> "
        "{2}\r\nHi BODY[9] NIL)\r\ne OK FETCH completed\r\n");
  // BODY[] without PEEK sets \Seen, and the response says so.
  CHECK(c.say("f FETCH 2 BODY[]\r\n") == "* 2 FETCH (BODY[] {" + std::to_string(kMsg2.size()) +
                                            "}\r\n" + kMsg2 + " FLAGS (\\Seen))\r\nf OK FETCH completed\r\n");
  CHECK(c.say("g UID FETCH 2 FLAGS\r\n") == "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\ng OK FETCH completed\r\n");
  CHECK(c.say("h FETCH 1:* FAST\r\n").find("h OK FETCH completed") != std::string::npos);
  CHECK(c.say("i FETCH 3 FLAGS\r\n") == "i BAD Invalid message sequence number\r\n");
  CHECK(c.say("j FETCH 0 FLAGS\r\n") == "j BAD Invalid number in sequence set: 0\r\n");
  CHECK(c.say("k FETCH 4294967296 FLAGS\r\n") ==
        "k BAD Invalid number in sequence set: 4294967296\r\n");
  CHECK(c.say("l UID FETCH 3:4294967295 FLAGS\r\n") == "l OK FETCH completed\r\n");
  CHECK(c.say("m FETCH 1 (FLAGS BOGUS)\r\n") == "m BAD Invalid fetch item BOGUS\r\n");
  CHECK(c.say("n FETCH 1 BODY[1.0]\r\n") == "n BAD Invalid fetch item BODY[1.0]\r\n");
  CHECK(c.say("o FETCH 1 BODY[]<0.0>\r\n") == "o BAD Invalid fetch item BODY[]<0.0>\r\n");
  CHECK(c.say("p APPEND Nowhere {1+}\r\nx\r\n") == "p NO [TRYCREATE] Mailbox does not exist\r\n");
  CHECK(c.say("q APPEND INBOX {0+}\r\n\r\n") == "q NO [CANNOT] An empty message cannot be saved\r\n");
  CHECK(c.say("r APPEND INBOX (\\Bogus) {1+}\r\nx\r\n") == "r BAD Invalid system flag \\Bogus\r\n");
  CHECK(c.say("s APPEND INBOX \"1-Jan-99\" {1+}\r\nx\r\n") == "s BAD Invalid date-time\r\n");
}

TEST_CASE("FETCH and SEARCH before anything is selected", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  CHECK(c.say("a FETCH *:* FLAGS\r\n") == "a BAD Command not valid in this state\r\n");
  CHECK(c.say("b UID SEARCH ALL\r\n") == "b BAD Command not valid in this state\r\n");
  CHECK(c.say("c SELECT INBOX\r\n").find("c OK") != std::string::npos);
  CHECK(c.say("d FETCH *:* FLAGS\r\n") == "d OK FETCH completed\r\n");
  CHECK(c.say("e FETCH 1 FLAGS\r\n") == "e BAD Invalid message sequence number\r\n");
}

TEST_CASE("STORE, EXPUNGE, CLOSE", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.say("a SELECT INBOX\r\n");
  for (int i = 0; i < 4; ++i) c.append("INBOX", kMsg1);
  CHECK(c.say("b STORE 1:2 +FLAGS (\\Deleted \\Seen)\r\n") ==
        "* 1 FETCH (FLAGS (\\Deleted \\Seen))\r\n* 2 FETCH (FLAGS (\\Deleted \\Seen))\r\n"
        "b OK STORE completed\r\n");
  CHECK(c.say("c STORE 2 -FLAGS.SILENT \\Seen\r\n") == "c OK STORE completed\r\n");
  CHECK(c.say("d UID STORE 3 FLAGS ($Label1 \\Flagged)\r\n") ==
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Label1)\r\n"
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Label1 \\*)] "
        "Flags permitted.\r\n"
        "* 3 FETCH (UID 3 FLAGS (\\Flagged $Label1))\r\nd OK STORE completed\r\n");
  CHECK(c.say("e STORE 1 XFLAGS (\\Seen)\r\n") == "e BAD Invalid STORE data item\r\n");
  CHECK(c.say("f EXPUNGE\r\n") == "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\nf OK EXPUNGE completed\r\n");
  CHECK(c.say("g FETCH 1:* UID\r\n") ==
        "* 1 FETCH (UID 3)\r\n* 2 FETCH (UID 4)\r\ng OK FETCH completed\r\n");
  CHECK(c.say("h STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n") == "h OK STORE completed\r\n");
  CHECK(c.say("i UID EXPUNGE 4\r\n") == "* 2 EXPUNGE\r\ni OK EXPUNGE completed\r\n");
  CHECK(c.say("j CLOSE\r\n") == "j OK CLOSE completed\r\n");
  CHECK(stable(c.say("k EXAMINE INBOX\r\n")).find("* 0 EXISTS") != std::string::npos);
  CHECK(c.say("l STORE 1 +FLAGS (\\Seen)\r\n") == "l BAD Invalid message sequence number\r\n");
}

TEST_CASE("EXAMINE is read-only", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.append("INBOX", kMsg1);
  std::string r = stable(c.say("a EXAMINE INBOX\r\n"));
  CHECK(r.find("* 1 EXISTS") != std::string::npos);
  CHECK(r.find("a OK [READ-ONLY] EXAMINE completed") != std::string::npos);
  CHECK(c.say("b STORE 1 +FLAGS (\\Seen)\r\n") == "b NO [READ-ONLY] The mailbox is read-only\r\n");
  CHECK(c.say("c EXPUNGE\r\n") == "c NO [READ-ONLY] The mailbox is read-only\r\n");
  // BODY[] does not set \Seen in a read-only mailbox.
  CHECK(c.say("d FETCH 1 (BODY[TEXT] FLAGS)\r\n") ==
        "* 1 FETCH (BODY[TEXT] {9}\r\nHi Bob.\r\n FLAGS ())\r\nd OK FETCH completed\r\n");
  CHECK(c.say("e UNSELECT\r\n") == "e OK UNSELECT completed\r\n");
  CHECK(c.say("f CHECK\r\n") == "f BAD Command not valid in this state\r\n");
}

TEST_CASE("two sessions see each other's changes at the allowed points", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client a(dir.path()), b(dir.path());
  a.login();
  b.login();
  a.append("INBOX", kMsg1);
  a.append("INBOX", kMsg1);
  a.append("INBOX", kMsg1);
  CHECK(stable(a.say("s SELECT INBOX\r\n")).find("* 3 EXISTS") != std::string::npos);
  b.say("s SELECT INBOX\r\n");
  // b flags and expunges; a learns of the flags at once, of the expunge only
  // where RFC 3501 7.4.1 allows it.
  b.say("x STORE 2 +FLAGS (\\Deleted)\r\ny EXPUNGE\r\n");
  b.say("z STORE 1 +FLAGS (\\Flagged)\r\n");
  // a answers from what it knew when the command began; message 2's file
  // is gone, so its octets cannot be fetched any more.
  CHECK(a.say("f FETCH 1:3 UID\r\n") ==
        "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n"
        "* 1 FETCH (FLAGS (\\Flagged))\r\nf OK FETCH completed\r\n");
  CHECK(a.say("f2 FETCH 1:3 BODY.PEEK[HEADER.FIELDS (X)]\r\n") ==
        "* 1 FETCH (BODY[HEADER.FIELDS (X)] {2}\r\n\r\n)\r\n"
        "* 3 FETCH (BODY[HEADER.FIELDS (X)] {2}\r\n\r\n)\r\n"
        "f2 OK [EXPUNGEISSUED] Some messages were expunged\r\n");
  CHECK(a.say("g SEARCH ALL\r\n") == "* SEARCH 1 3\r\ng OK SEARCH completed\r\n");
  CHECK(a.say("h NOOP\r\n") == "* 2 EXPUNGE\r\nh OK NOOP completed\r\n");
  CHECK(a.say("i FETCH 2 UID\r\n") == "* 2 FETCH (UID 3)\r\ni OK FETCH completed\r\n");
  // A delivery shows up as EXISTS (and RECENT for the session that sees it first).
  auto store = mailstore::Store::open(dir / "alice", false);
  REQUIRE(mailstore::deliver(store->root(), kMsg1));
  CHECK(a.say("j NOOP\r\n") == "* 3 EXISTS\r\n* 1 RECENT\r\nj OK NOOP completed\r\n");
  CHECK(b.say("k NOOP\r\n") == "* 3 EXISTS\r\n* 0 RECENT\r\nk OK NOOP completed\r\n");
  CHECK(a.say("l FETCH 3 FLAGS\r\n") == "* 3 FETCH (FLAGS (\\Recent))\r\nl OK FETCH completed\r\n");
  // UID commands may report EXPUNGE (RFC 3501 7.4.1).
  b.say("m STORE 1 +FLAGS (\\Deleted)\r\nn EXPUNGE\r\n");
  CHECK(a.say("o UID FETCH 4 UID\r\n") ==
        "* 3 FETCH (UID 4)\r\n* 1 EXPUNGE\r\no OK FETCH completed\r\n");
}

TEST_CASE("a folder deleted under a session ends it", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client a(dir.path()), b(dir.path());
  a.login();
  b.login();
  a.say("c CREATE Work\r\n");
  CHECK(a.say("s SELECT Work\r\n").find("s OK [READ-WRITE]") != std::string::npos);
  CHECK(a.say("d DELETE Work\r\n") == "d NO [INUSE] The mailbox is selected\r\n");
  CHECK(b.say("d DELETE Work\r\n") == "d OK DELETE completed\r\n");
  CHECK(a.say("n NOOP\r\n") ==
        "* BYE Selected mailbox was deleted or its UIDVALIDITY changed, have to disconnect\r\n");
  CHECK(a.session.finished());
}

TEST_CASE("mailbox management and LIST", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  CHECK(c.say("a CREATE Archive.2024\r\n") == "a OK CREATE completed\r\n");
  CHECK(c.say("b CREATE Sent.\r\n") == "b OK CREATE completed\r\n");
  CHECK(c.say("c CREATE Sent\r\n") == "c NO [ALREADYEXISTS] CREATE failed\r\n");
  CHECK(c.say("d CREATE inbox\r\n") == "d NO [ALREADYEXISTS] INBOX exists\r\n");
  CHECK(c.say("e CREATE a*b\r\n") == "e NO [CANNOT] Mailbox name may not contain wildcards\r\n");
  CHECK(c.say("f CREATE ../../etc\r\n") == "f NO [CANNOT] Invalid mailbox name\r\n");
  CHECK(c.say("g CREATE \"a/b\"\r\n") == "g NO [CANNOT] Invalid mailbox name\r\n");
  CHECK(c.say("h CREATE &Jjo\r\n") == "h NO [CANNOT] Mailbox name is not valid modified UTF-7\r\n");
  CHECK(c.say("i CREATE Entw&APw-rfe\r\n") == "i OK CREATE completed\r\n");
  CHECK(c.say("j LIST \"\" *\r\n") ==
        "* LIST (\\Noselect \\HasChildren) \".\" \"Archive\"\r\n"
        "* LIST (\\HasNoChildren) \".\" \"Archive.2024\"\r\n"
        "* LIST (\\HasNoChildren) \".\" \"Entw&APw-rfe\"\r\n"
        "* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n"
        "* LIST (\\HasNoChildren) \".\" \"Sent\"\r\n"
        "j OK LIST completed\r\n");
  CHECK(c.say("k LIST \"\" %\r\n").find("Archive.2024") == std::string::npos);
  CHECK(c.say("l LIST Archive. %\r\n") ==
        "* LIST (\\HasNoChildren) \".\" \"Archive.2024\"\r\nl OK LIST completed\r\n");
  CHECK(c.say("m LIST \"\" \"\"\r\n") == "* LIST (\\Noselect) \".\" \"\"\r\nm OK LIST completed\r\n");
  CHECK(c.say("n RENAME Archive.2024 Old.2024\r\n") == "n OK RENAME completed\r\n");
  CHECK(c.say("o RENAME Nope X\r\n") == "o NO [NONEXISTENT] RENAME failed\r\n");
  CHECK(c.say("p RENAME Sent Old.2024\r\n") == "p NO [ALREADYEXISTS] RENAME failed\r\n");
  CHECK(c.say("q DELETE INBOX\r\n") == "q NO [CANNOT] INBOX cannot be deleted\r\n");
  CHECK(c.say("r DELETE Old.2024\r\n") == "r OK DELETE completed\r\n");
  CHECK(c.say("s DELETE Old.2024\r\n") == "s NO [NONEXISTENT] DELETE failed\r\n");
  CHECK(c.say("t SUBSCRIBE Sent\r\nu SUBSCRIBE Lists.a.b\r\n") ==
        "t OK SUBSCRIBE completed\r\nu OK SUBSCRIBE completed\r\n");
  CHECK(c.say("v LSUB \"\" *\r\n") ==
        "* LSUB () \".\" \"Lists.a.b\"\r\n* LSUB () \".\" \"Sent\"\r\nv OK LSUB completed\r\n");
  CHECK(c.say("w LSUB \"\" %\r\n") ==
        "* LSUB (\\Noselect) \".\" \"Lists\"\r\n* LSUB () \".\" \"Sent\"\r\nw OK LSUB completed\r\n");
  CHECK(c.say("x UNSUBSCRIBE Sent\r\ny LSUB \"\" Sent\r\n") ==
        "x OK UNSUBSCRIBE completed\r\ny OK LSUB completed\r\n");
  c.append("Sent", kMsg1, "(\\Seen) ");
  c.append("Sent", kMsg2);
  CHECK(stable(c.say("z STATUS Sent (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)\r\n")) ==
        "* STATUS \"Sent\" (MESSAGES 2 UNSEEN 1 UIDNEXT 3 UIDVALIDITY V RECENT 0)\r\n"
        "z OK STATUS completed\r\n");
  CHECK(c.say("z2 STATUS Sent (BOGUS)\r\n") == "z2 BAD Unknown STATUS item\r\n");
  CHECK(c.say("z3 STATUS Nope (MESSAGES)\r\n") == "z3 NO [NONEXISTENT] STATUS failed\r\n");
}

TEST_CASE("COPY and MOVE report COPYUID", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.say("a CREATE Archive\r\n");
  for (int i = 0; i < 3; ++i) c.append("INBOX", i == 1 ? kMsg2 : kMsg1);
  c.say("b SELECT INBOX\r\n");
  c.say("c STORE 2 +FLAGS (\\Flagged)\r\n");
  CHECK(stable(c.say("d COPY 1:2 Archive\r\n")) == "d OK [COPYUID V 1:2 1:2] COPY completed\r\n");
  CHECK(c.say("e COPY 1 Nope\r\n") == "e NO [TRYCREATE] Mailbox does not exist\r\n");
  CHECK(stable(c.say("f UID MOVE 2:3 Archive\r\n")) ==
        "* OK [COPYUID V 2:3 3:4] Moved\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nf OK MOVE completed\r\n");
  CHECK(c.say("g SELECT Archive\r\n").find("* 4 EXISTS") != std::string::npos);
  CHECK(c.say("h FETCH 1:* FLAGS\r\n") ==
        "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Flagged))\r\n* 3 FETCH (FLAGS (\\Flagged))\r\n"
        "* 4 FETCH (FLAGS ())\r\nh OK FETCH completed\r\n");
  CHECK(c.say("i UID FETCH 3 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n") ==
        "* 3 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT)] {40}\r\n"
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n)\r\ni OK FETCH completed\r\n");
}

TEST_CASE("SEARCH keys", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.append("INBOX", kMsg1, "(\\Seen) \"07-Feb-1994 12:00:00 +0000\" ");
  c.append("INBOX", kMsg2, "($Junk) \"08-Feb-1994 12:00:00 +0000\" ");
  c.append("INBOX", "Subject: third\r\n\r\n" + std::string(5000, 'x') + "\r\n", "(\\Flagged) ");
  c.say("s SELECT INBOX\r\n");
  auto search = [&](const std::string& keys) {
    std::string r = c.say("t SEARCH " + keys + "\r\n");
    std::string ok = "t OK SEARCH completed\r\n";
    if (r.size() < ok.size() || r.compare(r.size() - ok.size(), ok.size(), ok) != 0) return r;
    std::string line = r.substr(0, r.size() - ok.size());
    return line.substr(std::string("* SEARCH").size(), line.size() - 10);
  };
  CHECK(search("ALL") == " 1 2 3");
  CHECK(search("SEEN") == " 1");
  CHECK(search("UNSEEN") == " 2 3");
  CHECK(search("FLAGGED") == " 3");
  CHECK(search("KEYWORD $Junk") == " 2");
  CHECK(search("UNKEYWORD $junk") == " 1 3");
  CHECK(search("FROM alice") == " 1");
  CHECK(search("FROM ALICE@EXAMPLE") == " 1");
  CHECK(search("SUBJECT \"gr\xc3\xbc\xc3\x9f\"") == " 2");  // RFC 2047 decoded
  CHECK(search("BODY needle") == " 2");                      // quoted-printable decoded
  CHECK(search("BODY \"sch\xc3\xb6ne\"") == " 2");
  CHECK(search("TEXT hello") == " 1");
  CHECK(search("HEADER Message-ID <1@") == " 1");
  CHECK(search("HEADER Message-ID \"\"") == " 1");
  CHECK(search("LARGER 1000") == " 3");
  CHECK(search("SMALLER 1000") == " 1 2");
  CHECK(search("SENTON 7-Feb-1994") == " 1");
  CHECK(search("SENTSINCE 8-Feb-1994") == " 2");
  CHECK(search("SENTBEFORE 8-Feb-1994") == " 1");
  CHECK(search("OR SEEN FLAGGED") == " 1 3");
  CHECK(search("NOT (SEEN FLAGGED)") == " 1 2 3");
  CHECK(search("NOT OR SEEN FLAGGED") == " 2");
  CHECK(search("2:*") == " 2 3");
  CHECK(search("UID 1,3") == " 1 3");
  CHECK(search("CHARSET UTF-8 SEEN") == " 1");
  CHECK(search("RECENT").empty());
  CHECK(search("NEW").empty());
  CHECK(c.say("u SEARCH CHARSET KOI8-R SEEN\r\n") ==
        "u NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  CHECK(c.say("v SEARCH BOGUS\r\n") == "v BAD Invalid search key: BOGUS\r\n");
  CHECK(c.say("w SEARCH FROM\r\n") == "w BAD Invalid search key: FROM needs an argument\r\n");
  CHECK(c.say("x SEARCH BEFORE 1-Foo-2000\r\n") == "x BAD Invalid search key: BEFORE needs a date\r\n");
  std::string deep;
  for (int i = 0; i < kMaxSearchDepth + 2; ++i) deep += "NOT ";
  CHECK(c.say("y SEARCH " + deep + "ALL\r\n") == "y BAD Search key nested too deeply\r\n");
  CHECK(c.say("z UID SEARCH 2\r\n") == "* SEARCH 2\r\nz OK SEARCH completed\r\n");
}

TEST_CASE("IDLE reports changes until DONE", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.say("s SELECT INBOX\r\n");
  CHECK(c.say("i IDLE\r\n") == "+ idling\r\n");
  CHECK(c.host.watched == dir / "alice");
  auto store = mailstore::Store::open(dir / "alice", false);
  REQUIRE(mailstore::deliver(store->root(), kMsg1));
  std::size_t at = c.host.out.size();
  c.session.changed();
  CHECK(c.host.out.substr(at) == "* 1 EXISTS\r\n* 1 RECENT\r\n");
  CHECK(c.say("DONE\r\n") == "i OK IDLE terminated\r\n");
  CHECK(c.host.watched.empty());
  CHECK(c.say("j IDLE\r\n") == "+ idling\r\n");
  CHECK(c.say("NOPE\r\n") == "j BAD Expected DONE\r\n");
}

TEST_CASE("a long FETCH stops while the output is congested", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  for (int i = 0; i < 5; ++i) c.append("INBOX", kMsg1);
  c.say("s SELECT INBOX\r\n");
  c.host.congested_now = true;
  int resumes = c.host.resumes;
  CHECK(c.say("f FETCH 1:* BODY.PEEK[]\r\ng NOOP\r\n").empty());
  CHECK(c.session.waiting());
  CHECK(c.pending == "g NOOP\r\n");
  c.host.congested_now = false;
  std::size_t at = c.host.out.size();
  c.session.output_drained();
  std::string r = c.host.out.substr(at);
  CHECK(r.find("* 5 FETCH") != std::string::npos);
  CHECK(r.find("f OK FETCH completed\r\n") == r.size() - 22);
  CHECK(c.host.resumes == resumes + 1);
  CHECK(c.say("") == "g OK NOOP completed\r\n");
}

TEST_CASE("responses do not depend on how the input is split", "[imapd][session]") {
  const std::string wire =
      "a LOGIN {5}\r\nalice \"secret\"\r\nb CREATE {3+}\r\nBox\r\n"
      "c LIST \"\" *\r\nd BOGUS\r\ne LOGOUT\r\n";
  std::string expect;
  for (std::size_t cut = 0; cut <= wire.size(); cut += 5) {
    test::TempDir dir("imapd");
    Client c(dir.path());
    c.say(wire.substr(0, cut));
    c.say(wire.substr(cut));
    if (expect.empty()) expect = c.host.out;
    REQUIRE(c.host.out == expect);
    REQUIRE(c.session.finished());
  }
  CHECK(expect.find("* LIST (\\HasNoChildren) \".\" \"Box\"") != std::string::npos);
}

TEST_CASE("special-use folders: made for a new user, shown by LIST", "[imapd][session]") {
  test::TempDir dir("imapd");
  Settings s = settings();
  s.special_use = *parse_special_use({"Drafts=\\Drafts", "Sent=\\Sent", "Trash=\\Trash", "Junk=\\Junk"});
  {
    Client c(dir.path(), s);
    c.login();
    CHECK(c.say("a LIST \"\" *\r\n") ==
          "* LIST (\\HasNoChildren \\Drafts) \".\" \"Drafts\"\r\n"
          "* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n"
          "* LIST (\\HasNoChildren \\Junk) \".\" \"Junk\"\r\n"
          "* LIST (\\HasNoChildren \\Sent) \".\" \"Sent\"\r\n"
          "* LIST (\\HasNoChildren \\Trash) \".\" \"Trash\"\r\n"
          "a OK LIST completed\r\n");
    CHECK(c.say("b LSUB \"\" *\r\n") ==
          "* LSUB () \".\" \"Drafts\"\r\n* LSUB () \".\" \"Junk\"\r\n"
          "* LSUB () \".\" \"Sent\"\r\n* LSUB () \".\" \"Trash\"\r\nb OK LSUB completed\r\n");
    CHECK(c.say("c DELETE Junk\r\n") == "c OK DELETE completed\r\n");
  }
  // Not a new user any more: what they deleted stays deleted.
  Client c(dir.path(), s);
  c.login();
  CHECK(c.say("a LIST \"\" J*\r\n") == "a OK LIST completed\r\n");
}

TEST_CASE("imap_special_use_folders values", "[imapd][special-use]") {
  auto ok = parse_special_use({"Gesendet=\\sent", "Archiv.2024=\\Archive"});
  REQUIRE(ok);
  CHECK(special_use_of(*ok, "Gesendet") == "\\Sent");
  CHECK(special_use_of(*ok, "Archiv.2024") == "\\Archive");
  CHECK(special_use_of(*ok, "INBOX").empty());
  for (std::vector<std::string> bad : {std::vector<std::string>{"Sent"}, {"Sent=\\Bogus"},
                                       {"../x=\\Sent"}, {"a*=\\Sent"},
                                       {"Sent=\\Sent", "Other=\\Sent"},
                                       {"Sent=\\Sent", "Sent=\\Trash"}}) {
    INFO(bad[0]);
    CHECK_FALSE(parse_special_use(bad));
  }
}

TEST_CASE("LIST-EXTENDED and LIST-STATUS", "[imapd][session]") {
  test::TempDir dir("imapd");
  Settings s = settings();
  s.special_use = *parse_special_use({"Sent=\\Sent"});
  Client c(dir.path(), s);
  c.login();
  c.say("a CREATE Lists.a\r\nb CREATE Work\r\nc SUBSCRIBE Lists.a\r\nd SUBSCRIBE Gone\r\n");
  c.append("Work", kMsg1);
  CHECK(c.say("e LIST (SUBSCRIBED) \"\" *\r\n") ==
        "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \".\" \"Gone\"\r\n"
        "* LIST (\\HasNoChildren \\Subscribed) \".\" \"Lists.a\"\r\n"
        "* LIST (\\HasNoChildren \\Subscribed \\Sent) \".\" \"Sent\"\r\n"
        "e OK LIST completed\r\n");
  CHECK(c.say("f LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n") ==
        "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \".\" \"Gone\"\r\n"
        "* LIST (\\Noselect \\HasChildren) \".\" \"Lists\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
        "* LIST (\\HasNoChildren \\Subscribed \\Sent) \".\" \"Sent\"\r\n"
        "f OK LIST completed\r\n");
  CHECK(c.say("g LIST (SPECIAL-USE) \"\" *\r\n") ==
        "* LIST (\\HasNoChildren \\Sent) \".\" \"Sent\"\r\ng OK LIST completed\r\n");
  CHECK(stable(c.say("h LIST \"\" (Work INBOX) RETURN (SUBSCRIBED STATUS (MESSAGES UIDVALIDITY))\r\n")) ==
        "* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n"
        "* STATUS \"INBOX\" (MESSAGES 0 UIDVALIDITY V)\r\n"
        "* LIST (\\HasNoChildren) \".\" \"Work\"\r\n"
        "* STATUS \"Work\" (MESSAGES 1 UIDVALIDITY V)\r\n"
        "h OK LIST completed\r\n");
  CHECK(c.say("i LIST (RECURSIVEMATCH) \"\" *\r\n") ==
        "i BAD RECURSIVEMATCH needs another selection option\r\n");
  CHECK(c.say("j LIST (BOGUS) \"\" *\r\n") == "j BAD Unknown LIST selection option\r\n");
  CHECK(c.say("k LIST \"\" * RETURN (STATUS (BOGUS))\r\n") == "k BAD Unknown STATUS item\r\n");
  CHECK(c.say("l LIST \"\" * RETURN\r\n") == "l BAD Invalid LIST return options\r\n");
}

TEST_CASE("ENVELOPE and BODYSTRUCTURE come from the cache in later sessions", "[imapd][session]") {
  test::TempDir dir("imapd");
  {
    Client c(dir.path());
    c.login();
    c.append("INBOX", kMsg1);
    c.say("s SELECT INBOX\r\n");
    CHECK(c.say("f FETCH 1 (ENVELOPE BODYSTRUCTURE)\r\n").find("\"Hello\"") != std::string::npos);
  }
  // Another program rewrites the file behind UID 1 (which it must never do):
  // a later session answers from the cache, so it does not read the file.
  auto cur = dir / "alice" / "cur";
  for (const auto& e : std::filesystem::directory_iterator(cur))
    REQUIRE(write_file_durable(e.path(), "Subject: changed\r\n\r\nx\r\n"));
  Client c(dir.path());
  c.login();
  c.say("s SELECT INBOX\r\n");
  std::string r = c.say("f FETCH 1 (ENVELOPE BODYSTRUCTURE)\r\n");
  CHECK(r.find("\"Hello\"") != std::string::npos);
  CHECK(r.find("changed") == std::string::npos);
  // Header sections are never cached.
  CHECK(c.say("g FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n").find("Subject: changed") !=
        std::string::npos);
}

TEST_CASE("IMAP4rev2: no \\Recent, ESEARCH, LIST in SELECT, CLOSED, UTF-8 names", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.append("INBOX", kMsg1);
  c.append("INBOX", kMsg2);
  // rev1 first: ESEARCH only when RETURN asks for it.
  c.say("s SELECT INBOX\r\n");
  CHECK(c.say("a SEARCH RETURN (MIN MAX COUNT) ALL\r\n") ==
        "* ESEARCH (TAG \"a\") MIN 1 MAX 2 COUNT 2\r\na OK SEARCH completed\r\n");
  CHECK(c.say("b UID SEARCH RETURN () SUBJECT nothing\r\n") ==
        "* ESEARCH (TAG \"b\") UID\r\nb OK SEARCH completed\r\n");
  CHECK(c.say("b2 SEARCH RETURN (SAVE) ALL\r\n") == "b2 BAD Unknown or unsupported RETURN option\r\n");
  c.say("u UNSELECT\r\n");
  CHECK(c.say("e ENABLE IMAP4rev2\r\n") == "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
  CHECK(stable(c.say("f SELECT inbox\r\n")) ==
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] "
        "Flags permitted.\r\n"
        "* 2 EXISTS\r\n* LIST () \".\" \"INBOX\"\r\n* OK [UIDVALIDITY V] UIDs valid\r\n"
        "* OK [UIDNEXT 3] Predicted next UID\r\nf OK [READ-WRITE] SELECT completed\r\n");
  CHECK(c.say("g UID SEARCH ALL\r\n") == "* ESEARCH (TAG \"g\") UID ALL 1:2\r\ng OK SEARCH completed\r\n");
  CHECK(c.say("h FETCH 1 FLAGS\r\n") == "* 1 FETCH (FLAGS ())\r\nh OK FETCH completed\r\n");
  auto store = mailstore::Store::open(dir / "alice", false);
  REQUIRE(mailstore::deliver(store->root(), kMsg1));
  CHECK(c.say("i NOOP\r\n") == "* 3 EXISTS\r\ni OK NOOP completed\r\n");  // no RECENT
  // UTF-8 names in and out; stored as modified UTF-7.
  CHECK(c.say("j CREATE \"Entw\xc3\xbcrfe & Co\"\r\n") == "j OK CREATE completed\r\n");
  CHECK(std::filesystem::is_directory(dir / "alice" / ".Entw&APw-rfe &- Co"));
  CHECK(c.say("k LIST \"\" Entw*\r\n") ==
        "* LIST (\\HasNoChildren) \".\" \"Entw\xc3\xbcrfe & Co\"\r\nk OK LIST completed\r\n");
  CHECK(c.say("l STATUS \"Entw\xc3\xbcrfe & Co\" (MESSAGES SIZE DELETED)\r\n") ==
        "* STATUS \"Entw\xc3\xbcrfe & Co\" (MESSAGES 0 SIZE 0 DELETED 0)\r\nl OK STATUS completed\r\n");
  CHECK(c.say("m CREATE \"\xff\"\r\n") == "m NO [CANNOT] Mailbox name is not UTF-8\r\n");
  CHECK(stable(c.say("n SELECT \"Entw\xc3\xbcrfe & Co\"\r\n")).find(
            "* OK [CLOSED] Previous mailbox is now closed\r\n") == 0);
}

TEST_CASE("BINARY fetches undo the transfer encoding", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Transfer-Encoding: base64\r\nContent-Type: application/octet-stream\r\n\r\n"
      "AAECAw==\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "caf=C3=A9 soft=\r\nbreak\r\n--b\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
      "begin\r\n--b--\r\n";
  c.append("INBOX", msg);
  c.say("s SELECT INBOX\r\n");
  using namespace std::string_literals;
  CHECK(c.say("a FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[2])\r\n") ==
        "* 1 FETCH (BINARY.SIZE[1] 4 BINARY[1] ~{4}\r\n\0\x01\x02\x03 "
        "BINARY[2] {15}\r\ncaf\xc3\xa9 softbreak BINARY.SIZE[2] 15)\r\na OK FETCH completed\r\n"s);
  CHECK(c.say("b FETCH 1 BINARY.PEEK[2]<4.3>\r\n") ==
        "* 1 FETCH (BINARY[2]<4> {3}\r\n\xa9 s)\r\nb OK FETCH completed\r\n");
  CHECK(c.say("c FETCH 1 BINARY.PEEK[3]\r\n") ==
        "* 1 FETCH (BINARY[3] NIL)\r\nc NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding\r\n");
  CHECK(c.say("d FETCH 1 BINARY.PEEK[4]\r\n") == "* 1 FETCH (BINARY[4] NIL)\r\nd OK FETCH completed\r\n");
  CHECK(c.say("e FETCH 1 BINARY[1.HEADER]\r\n") == "e BAD Invalid fetch item BINARY[1.HEADER]\r\n");
  CHECK(c.say("f FETCH 1 BINARY.SIZE[1]<0.1>\r\n") == "f BAD Invalid fetch item BINARY.SIZE[1]<0.1>\r\n");
  // A literal8 APPEND keeps NUL octets.
  CHECK(c.say("g APPEND INBOX ~{5+}\r\na\0b\r\n\r\n"s).find("g OK [APPENDUID") != std::string::npos);
  CHECK(c.say("h FETCH 2 BODY.PEEK[]\r\n") == "* 2 FETCH (BODY[] ~{5}\r\na\0b\r\n)\r\nh OK FETCH completed\r\n"s);
  // RFC 6855: APPEND ... UTF8 (literal8).
  CHECK(c.say("i APPEND INBOX UTF8 (~{16+}\r\nSubject: \xc3\xa4\r\n\r\nx)\r\n").find("i OK [APPENDUID") !=
        std::string::npos);
  CHECK(c.say("j FETCH 3 BODY.PEEK[HEADER]\r\n") ==
        "* 3 FETCH (BODY[HEADER] {15}\r\nSubject: \xc3\xa4\r\n\r\n)\r\nj OK FETCH completed\r\n");
}

TEST_CASE("RENAME INBOX moves its messages and leaves an empty INBOX", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.append("INBOX", kMsg1, "(\\Seen) ");
  c.append("INBOX", kMsg2);
  CHECK(c.say("a CREATE INBOX.Child\r\n") == "a OK CREATE completed\r\n");
  CHECK(c.say("b RENAME INBOX Old\r\n") == "b OK RENAME completed\r\n");
  CHECK(stable(c.say("c STATUS INBOX (MESSAGES UIDNEXT)\r\nd STATUS Old (MESSAGES UNSEEN)\r\n")) ==
        "* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 3)\r\nc OK STATUS completed\r\n"
        "* STATUS \"Old\" (MESSAGES 2 UNSEEN 1)\r\nd OK STATUS completed\r\n");
  // INBOX's sub-folders stay where they are (RFC 3501 6.3.5).
  CHECK(c.say("e LIST \"\" INBOX.*\r\n") ==
        "* LIST (\\HasNoChildren) \".\" \"INBOX.Child\"\r\ne OK LIST completed\r\n");
  CHECK(c.say("f RENAME INBOX Old\r\n") == "f NO [ALREADYEXISTS] RENAME failed\r\n");
  CHECK(c.say("g RENAME Old INBOX\r\n") == "g NO [ALREADYEXISTS] RENAME failed\r\n");
  CHECK(c.say("h SELECT Old\r\ni FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
            .find("* 1 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: Hello\r\n\r\n)")
        != std::string::npos);
}

TEST_CASE("mailbox names that could leave the store are refused", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  const std::string names[] = {"..",       "../x",     "a..b", ".hidden", "\"/etc\"",
                               "\"a/b\"",  "/",        "~root/../..",
                               "{3+}\r\na\x01" "b",        "{4+}\r\nx\x7fyz", "{3+}\r\n\x1b[m"};
  for (const auto& n : names) {
    INFO(printable(n));
    for (const char* verb : {"CREATE", "SELECT", "RENAME INBOX", "DELETE", "STATUS"}) {
      std::string tail = std::string(verb) == "STATUS" ? " (MESSAGES)" : "";
      std::string r = c.say(cat("t ", verb, " ", n, tail, "\r\n"));
      CHECK(r.rfind("t NO", 0) == 0);
    }
  }
  // Nothing was made outside the user's store, and nothing odd inside it.
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    CHECK(e.path().filename() == "alice");
  for (const auto& e : std::filesystem::directory_iterator(dir / "alice")) {
    std::string f = e.path().filename().string();
    INFO(f);
    CHECK(f.find('\x01') == std::string::npos);
    CHECK(f.find("..") == std::string::npos);
  }
}

TEST_CASE("EXPUNGE responses: never during FETCH, STORE or SEARCH; during UID commands, NOOP, IDLE",
          "[imapd][session]") {
  test::TempDir dir("imapd");
  Client a(dir.path()), b(dir.path());
  a.login();
  b.login();
  for (int i = 0; i < 4; ++i) a.append("INBOX", kMsg1);
  a.say("s SELECT INBOX\r\n");
  b.say("s SELECT INBOX\r\n");
  b.say("x STORE 1 +FLAGS.SILENT (\\Deleted)\r\ny EXPUNGE\r\n");
  // Sequence-number commands answer from the numbers the client knows.
  CHECK(a.say("c STORE 2 +FLAGS (\\Flagged)\r\n") ==
        "* 2 FETCH (FLAGS (\\Flagged))\r\nc OK STORE completed\r\n");
  CHECK(a.say("d SEARCH FLAGGED\r\n") == "* SEARCH 2\r\nd OK SEARCH completed\r\n");
  CHECK(a.say("e FETCH 4 UID\r\n") == "* 4 FETCH (UID 4)\r\ne OK FETCH completed\r\n");
  // UID STORE may report it (RFC 3501 7.4.1); numbers shift after it.
  CHECK(a.say("f UID STORE 3 +FLAGS (\\Seen)\r\n") ==
        "* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n* 1 EXPUNGE\r\nf OK STORE completed\r\n");
  CHECK(a.say("g FETCH 1 UID\r\n") == "* 1 FETCH (UID 2)\r\ng OK FETCH completed\r\n");
  b.say("z STORE 1 +FLAGS.SILENT (\\Deleted)\r\nw EXPUNGE\r\n");
  // The search sees the mailbox as the command began (UID 2 still numbered);
  // the EXPUNGE follows.
  CHECK(a.say("h UID SEARCH ALL\r\n") == "* SEARCH 2 3 4\r\n* 1 EXPUNGE\r\nh OK SEARCH completed\r\n");
  // During IDLE the expunge is reported as it happens.
  CHECK(a.say("i IDLE\r\n") == "+ idling\r\n");
  b.say("v STORE 1 +FLAGS.SILENT (\\Deleted)\r\nu EXPUNGE\r\n");
  std::size_t at = a.host.out.size();
  a.session.changed();
  CHECK(a.host.out.substr(at) == "* 1 EXPUNGE\r\n");
  CHECK(a.say("DONE\r\n") == "i OK IDLE terminated\r\n");
  CHECK(a.say("j FETCH 1:* UID\r\n") == "* 1 FETCH (UID 4)\r\nj OK FETCH completed\r\n");
}

TEST_CASE("SEARCH CHARSET UTF-8 with decoded words inside nested OR and NOT", "[imapd][session]") {
  test::TempDir dir("imapd");
  Client c(dir.path());
  c.login();
  c.append("INBOX", kMsg1, "(\\Seen) ");
  c.append("INBOX", kMsg2, "(\\Flagged) ");
  c.append("INBOX", "Subject: =?iso-8859-1?b?R3L832U=?=\r\n\r\nplain\r\n");  // "Grüße" in Latin-1
  c.say("s SELECT INBOX\r\n");
  auto search = [&](const std::string& keys) { return c.say("t SEARCH " + keys + "\r\n"); };
  const std::string gruesse = "\"Gr\xc3\xbc\xc3\x9f\"";
  CHECK(search("CHARSET UTF-8 SUBJECT " + gruesse) == "* SEARCH 2 3\r\nt OK SEARCH completed\r\n");
  CHECK(search("CHARSET UTF-8 OR (SUBJECT " + gruesse + " NOT FLAGGED) SEEN") ==
        "* SEARCH 1 3\r\nt OK SEARCH completed\r\n");
  CHECK(search("CHARSET UTF-8 NOT OR SUBJECT " + gruesse + " OR SEEN (NOT UNSEEN)") ==
        "* SEARCH\r\nt OK SEARCH completed\r\n");
  CHECK(search("CHARSET UTF-8 OR OR SEEN FLAGGED NOT (OR SUBJECT " + gruesse + " BODY plain)") ==
        "* SEARCH 1 2\r\nt OK SEARCH completed\r\n");
  CHECK(search("CHARSET utf-8 BODY {6+}\r\nsch\xc3\xb6n") == "* SEARCH 2\r\nt OK SEARCH completed\r\n");
  CHECK(search("CHARSET UTF-8 SUBJECT \"\xff\"") == "* SEARCH\r\nt OK SEARCH completed\r\n");
}
