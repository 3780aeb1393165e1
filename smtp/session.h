// smtp/session.h - one SMTP client session over a Transport: the protocol
// stages and what each outcome means for the recipients.
//
// Stages, each with its own time limit (Postfix's smtp_*_timeout):
//   greeting (helo)  ->  EHLO, or HELO when EHLO is refused (helo)
//   -> [STARTTLS (starttls), EHLO again (helo)] -> [AUTH (helo)]
//   -> per transaction: MAIL (mail), RCPT... (rcpt), DATA (data_init),
//      message (data_xfer, a limit on each stall), end of data (data_done)
//   -> RSET between reused transactions (mail), QUIT (quit)
// With PIPELINING offered, MAIL, every RCPT and DATA go out in one write and
// their replies are read in order (RFC 2920 3.1); otherwise one by one.
// With CHUNKING offered (and not in smtp_discard_ehlo_keywords) the message
// goes as one "BDAT n LAST" after the RCPT replies instead of DATA, with no
// dot-stuffing (RFC 3030); its reply counts as the end-of-data reply. The
// RSET that checks a reused session goes first in that same write (RSET may
// stand anywhere in a group, RFC 2920 3.1), so reuse costs no round trip; a
// session whose RSET fails is `stale`, and its recipients are left to a
// fresh connection.
//
// Results: a stage before the transaction fails with a Failure (dsn, text,
// whether the connection is still usable); the caller decides whether to
// try the next host. A transaction returns one outcome per recipient:
//   - a 2xx to the end of data: sent, for every recipient that got a 2xx RCPT
//   - a 4xx/5xx to RCPT: that recipient deferred/bounced
//   - a 4xx/5xx to DATA or to the end of data: every accepted recipient
//   - a 4xx/5xx to MAIL, a time-out or a lost connection before the end of
//     data was sent: every undecided recipient deferred (MAIL 5xx: bounced),
//     marked `retry_elsewhere` when temporary, so that the next MX host gets
//     them in the same delivery
//   - after the end of data was sent, a lost reply is a deferral that is not
//     retried elsewhere: the message may have been accepted ("message may be
//     sent more than once")
// A 421 reply at any stage, or an I/O failure, leaves the session unusable.
// Texts follow Postfix: "host mx.example[192.0.2.1] said: 550 5.1.1 ...
// (in reply to RCPT TO command)", "conversation with mx.example[192.0.2.1]
// timed out while sending message body", "lost connection with ...".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/queue/queue_file.h"
#include "lib/tls/client.h"
#include "smtp/reply.h"
#include "smtp/transport.h"

namespace posthorn::smtp {

struct Timeouts {
  Millis helo{300'000}, mail{300'000}, rcpt{300'000}, data_init{120'000};
  Millis data_xfer{180'000}, data_done{600'000}, quit{300'000}, starttls{300'000};
};

struct SessionSettings {
  std::string helo_name = "localhost";
  Timeouts timeouts;
  bool always_send_ehlo = true;  // smtp_always_send_ehlo
  std::vector<std::string> discard_ehlo_keywords;  // smtp_discard_ehlo_keywords, lower case
};

enum class Status { sent, deferred, bounced };
std::string_view status_name(Status s);  // "sent", "deferred", "bounced"

struct Failure {
  std::string dsn;   // "4.4.2"
  std::string text;  // for the log and the DSN
  bool usable = false;  // the connection can still carry commands
  int code = 0;         // the server's reply code when a reply caused it, else 0
  bool permanent() const { return !dsn.empty() && dsn[0] == '5'; }
};

struct RcptOutcome {
  Status status = Status::deferred;
  std::string dsn;
  std::string text;
  bool retry_elsewhere = false;  // temporary and not the server's verdict on this recipient
};

struct Transaction {
  std::string sender;  // "" = <>
  struct Rcpt {
    std::string address;
    std::uint8_t notify = 0;  // queue::kNotify* bits
    std::string orcpt;        // "type;address" (decoded), "" = none
  };
  std::vector<Rcpt> rcpts;
  std::string data;         // the message as it goes after DATA: CRLF lines,
                            // dot-stuffed, ending with ".\r\n" (content.h);
                            // with bdat, chunk_stream's lines
  bool bdat = false;        // send it with BDAT (the server offers CHUNKING)
  std::uint64_t size = 0;   // message size for SIZE=
  bool eight_bit = false;   // BODY=8BITMIME (only when offered)
  bool smtputf8 = false;
  queue::DsnRet ret = queue::DsnRet::unspecified;
  std::string envid;        // decoded
  bool reset_first = false; // RSET ahead: the session served an earlier transaction
};

struct SaslCredentials {
  std::string user;
  std::string password;
  std::vector<std::string> mechanisms;  // allowed, in order of preference ("PLAIN", "LOGIN")
};

class Session {
 public:
  // `peer` is "host[address]" for texts.
  Session(Transport& t, SessionSettings s, std::string peer);

  // Reads the greeting and sends EHLO (HELO after a refused EHLO).
  std::optional<Failure> open();
  const Extensions& extensions() const { return ext_; }
  const Reply& greeting() const { return greeting_; }

  // STARTTLS, the handshake with `ssl`, EHLO again. `info` gets what the
  // handshake told, also when it failed.
  std::optional<Failure> starttls(tls::SslPtr ssl, tls::SessionInfo& info);

  // AUTH with the first of creds.mechanisms the server offers (PLAIN:
  // RFC 4616 as an initial response; LOGIN: the draft's two prompts).
  // A server offering none of them is a Failure with dsn 4.7.0 (usable).
  std::optional<Failure> authenticate(const SaslCredentials& creds);

  // One mail transaction; one outcome per tx.rcpts entry, in order.
  std::vector<RcptOutcome> transaction(const Transaction& tx);

  // RSET before reusing the session (RFC 5321 4.1.1.5); false when the
  // session is no longer usable.
  bool reset();
  // QUIT and its reply (both best effort, within the quit time limit).
  void quit();

  // False once the connection failed, timed out or was told 421.
  bool usable() const { return usable_; }
  // True when a transaction's reset_first RSET failed: nothing was decided
  // and the session is unusable (a cached connection the server dropped).
  bool stale() const { return stale_; }
  // The command stage that failed last, for callers' logs.
  const std::string& peer() const { return peer_; }

 private:
  // Sends `bytes`; on failure marks the session unusable and returns the
  // failure text for stage `while_`.
  std::optional<Failure> send(std::string_view bytes, Millis limit, std::string_view while_);
  // Reads one reply; Failure for time-out, end of stream, garbage.
  Result<Reply> read(Millis limit, std::string_view while_, Failure& f);
  Failure rejected(const Reply& r, std::string_view in_reply_to);
  Failure broken(const Error& e, std::string_view while_);
  std::optional<Failure> helo();
  struct Progress;
  // MAIL and the RCPTs (and, pipelined, DATA); true when some recipient was
  // accepted and the DATA reply is next to read.
  bool envelope(const Transaction& tx, Progress& p);
  // Reads the reply to a pipelined DATA sent when no recipient was
  // accepted (or MAIL was refused); ends a 354 with an empty message.
  void end_refused_data();
  // DATA, the message, the end of data.
  void message(const Transaction& tx, Progress& p);
  std::string mail_command(const Transaction& tx) const;
  std::string rcpt_command(const Transaction::Rcpt& r) const;

  Transport& t_;
  SessionSettings s_;
  std::string peer_;
  ReplyParser parser_;
  Reply greeting_;
  Extensions ext_;
  bool usable_ = true;
  bool stale_ = false;
};

}  // namespace posthorn::smtp
