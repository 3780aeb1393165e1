// lib/cleanup/cleanup.h - the step every message takes between receiving and
// queueing: smtpd (DATA/BDAT) and pickup (maildrop files) stream the content
// through a Cleanup, which checks it, completes its header and writes the
// queue file under lib/queue's durability contract.
//
// Purpose:    one place that decides what a stored message looks like, so mail
//             from the network and from local submission is treated alike.
// Guarantees: - the stored message (queue::QueueFile headers + body) has every
//               line ending in CRLF: CRLF stays, a bare LF becomes CRLF, a
//               last line without a line end gets one; a bare CR (not before
//               LF) is kept as a byte of its line. Every other byte (NUL,
//               8-bit, binary) is stored as given;
//             - the result does not depend on how the input was split among
//               feed() calls;
//             - the header section always ends with an empty line, so every
//               later reader splits header and body the same way;
//             - after a limit is exceeded, input is still consumed (the SMTP
//               session answers only after end-of-data) but nothing more is
//               kept; finish() then reports the limit.
// Refusals:   cleanup never looks for an end-of-data sequence: "." alone on
//             a line, after LF or CRLF, is an ordinary line. Finding the end
//             of DATA and dot-unstuffing are smtpd's (RFC 5321 4.1.1.4); the
//             bare CR / bare LF counts (observed()) let smtpd refuse such
//             mail as Postfix's smtpd_forbid_bare_newline does.
//
// Header section (RFC 5322 2.2, 3.6): a header line is a field name (printable
// ASCII 33..126 except ':'), optional blanks (obs-optional), ':'; a line
// starting with a blank continues (folds) the field before it. The section
// ends at the first empty line. A line that is neither ends it too and is the
// first body line, as Postfix's MIME parser does; cleanup then inserts the
// empty line that the message lacked.
//
// Header rules, following Postfix's cleanup(8):
//   - header_size_limit applies to each field with its continuation lines;
//     the excess is dropped (whole continuation lines; a single longer line is
//     cut) and logged, and the message is accepted. A header line is never
//     held longer than that while it arrives: memory stays bounded by the
//     limit, not by message_size_limit, however long the line. max_header_count fields
//     at most: more is a rejection (too_many_headers).
//   - the fields named in drop_headers (Postfix's message_drop_headers:
//     Bcc, Content-Length, Resent-Bcc, Return-Path) are removed from all mail;
//     Return-Path and Delivered-To are added by local delivery, not here.
//   - Received fields already in the message are counted; more than
//     hopcount_limit is a rejection (mail loop, RFC 5321 6.3).
//   - a Received field is prepended to every message (RFC 5321 4.4).
//   - missing Date, Message-ID and From are appended at the end of the header
//     section only for local submission or with always_add_missing_headers
//     (Postfix >= 2.6 adds them only for local_header_rewrite_clients, to
//     keep DKIM signatures over absent fields intact). No To is added
//     (Postfix >= 2.8: undisclosed_recipients_header is empty).
//
// Queue ID: the ID comes from the queue file's inode and is known only when
// queue::write_queue_file() returns, after the content is on disk. So the
// Received field carries no "id" clause and Message-ID uses a random token
// instead of the ID; smtpd and pickup log "ID: client=..." and
// "ID: message-id=<...>" to tie the two together.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/spool.h"
#include "lib/queue/writer.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::cleanup {

// Where the message comes from; decides which headers are added.
enum class Origin { smtp, local };

struct CleanupSettings {
  std::string myhostname = "localhost";  // main.cf myhostname
  std::string myorigin = "localhost";    // main.cf myorigin: qualifies bare addresses
  std::string mail_name = "Posthorn";    // main.cf mail_name, in the Received field
  std::uint64_t message_size_limit = 10240000;  // content bytes as fed; 0 = no limit
  std::size_t header_size_limit = 102400;       // bytes per field, folded lines included
  std::size_t hopcount_limit = 100;             // most Received fields accepted
  std::size_t max_header_count = 10000;         // no main.cf parameter (see report)
  bool always_add_missing_headers = false;      // main.cf always_add_missing_headers
  // Postfix's message_drop_headers default; names compared case-insensitively.
  std::vector<std::string> drop_headers = {"bcc", "content-length", "resent-bcc", "return-path"};

  Origin origin = Origin::smtp;
  // sendmail -t: add the To, Cc and Bcc mailboxes to the envelope (after any
  // given on the command line, as Postfix >= 2.1 does; duplicates left out);
  // bare ones get @myorigin. Resent-To/Cc/Bcc are not used. Bcc itself is
  // removed through drop_headers, for every message, as in Postfix.
  bool extract_recipients = false;
  std::string full_name;  // sendmail -F: display name of an added From field

  // Received field details that are not in the Envelope's ClientInfo.
  std::string tls_info;  // "TLSv1.3 with cipher X (256/256 bits)"; "" = no TLS
  bool received_auth = false;  // smtpd_sasl_authenticated_header: name the login
  std::optional<uid_t> submitter_uid;  // local: "(Posthorn, from userid N)"

  // The time put in Received and Date; unset = the clock at finish().
  std::optional<std::chrono::system_clock::time_point> now;

  // The parameters above that main.cf has (myhostname, myorigin, mail_name,
  // message_size_limit, header_size_limit, hopcount_limit,
  // always_add_missing_headers, smtpd_sasl_authenticated_header); the rest
  // keep their defaults.
  static CleanupSettings from_config(const config::Config& cfg);
};

// Why a message was not accepted. ok until something goes wrong.
enum class Status {
  ok,
  too_big,           // message_size_limit exceeded
  too_many_hops,     // more than hopcount_limit Received fields
  too_many_headers,  // more than max_header_count fields
  bad_header,        // sendmail -t: a To/Cc/Bcc that does not parse
  no_recipients,     // the envelope has no recipient (sendmail -t found none)
  write_error,       // the queue file could not be written
};

// The SMTP reply for a Status (RFC 5321 4.2, RFC 3463). pickup and sendmail
// map them to sysexits codes instead.
struct Reply {
  int code;                   // 552, 554, 451, 550
  std::string_view enhanced;  // "5.3.4"
  std::string_view text;      // "Message size exceeds fixed limit"
};
Reply smtp_reply(Status s);
std::string_view status_name(Status s);  // "too_big", ...

// What the input looked like, for smtpd's decisions and the log.
struct Observed {
  std::uint64_t size = 0;        // bytes fed, line ends as received
  std::uint64_t bare_cr = 0;     // CR not followed by LF
  std::uint64_t bare_lf = 0;     // LF not preceded by CR
  std::size_t hops = 0;          // Received fields in the message as received
  std::size_t header_count = 0;  // fields in the message as received
  std::size_t truncated_headers = 0;  // fields cut to header_size_limit
  bool header_terminated = false;     // the header section ended with an empty line
};

// One message. Use: construct, feed() the content in any pieces, finish(),
// then commit(). Not copyable; cheap to move.
class Cleanup {
 public:
  // `env` is the envelope as received (sender, recipients, client, DSN...);
  // finish() qualifies bare addresses ("root", "postmaster") with myorigin,
  // as Postfix does for every origin, and adds extracted recipients.
  Cleanup(CleanupSettings settings, queue::Envelope env);
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  Cleanup(Cleanup&&) = default;
  Cleanup& operator=(Cleanup&&) = default;

  // Takes the next bytes of the content, in any split. Never fails: problems
  // are remembered and reported by finish(). Must not be called after finish()
  // (a broken invariant: panics).
  void feed(std::string_view bytes);

  // Ends the input: completes the header (Received, missing fields),
  // extracts recipients, checks the limits. Errors (Error::code / status()):
  // too_big (wins over any other refusal) -> Errc::too_large,
  // too_many_hops -> Errc::protocol,
  // too_many_headers -> Errc::too_large, bad_header -> Errc::parse,
  // no_recipients -> Errc::invalid. Error::detail is for the log. Calling it
  // twice returns the first answer.
  Result<void> finish();

  // Writes the queue file (queue::write_queue_file; `opts` chooses incoming/
  // or maildrop/) and returns its ID: from then on the message is the queue's.
  // Calls finish() first if the caller did not. Errors: finish()'s, or
  // status() == write_error with the writer's Error. Call it once.
  Result<queue::QueueId> commit(const queue::Spool& spool, queue::WriteOptions opts = {});

  Status status() const { return status_; }
  const Observed& observed() const { return observed_; }
  // The message as it will be stored; complete after a successful finish().
  const std::string& headers() const { return out_headers_; }
  const std::string& body() const { return body_; }
  const queue::Envelope& envelope() const { return env_; }
  // The Message-ID value (with angle brackets) of the message, found or
  // added; "" when it has none. For the "ID: message-id=" log line.
  const std::string& message_id() const { return message_id_; }

 private:
  struct Field;  // one header field being collected
  void scan(std::string_view bytes);
  void end_line();
  void header_line(std::string_view line);
  void start_field(std::string_view line);
  void fold_into_field(std::string_view line);
  void close_field();
  void keep_field(std::string_view name, std::string_view text);
  void start_body(bool terminated);
  void body_bytes(std::string_view bytes);
  void bound_header_line();
  void fail(Status s);
  Result<void> check_and_complete();
  Result<void> extract_recipients();
  void qualify_envelope();
  std::string added_headers(std::chrono::system_clock::time_point now);

  CleanupSettings s_;
  queue::Envelope env_;
  Status status_ = Status::ok;
  Observed observed_;
  bool finished_ = false;
  std::optional<Result<void>> finish_result_;

  // Streaming state.
  bool in_body_ = false;
  bool pending_cr_ = false;  // the last byte fed was a CR not yet placed
  std::string line_;         // header phase: the current line, without line end
  bool line_truncated_ = false;  // line_ was cut at header_size_limit
  std::string field_;        // the current header field, folded lines joined by CRLF
  bool field_open_ = false;
  bool field_truncated_ = false;

  // Collected.
  std::string in_headers_;  // kept fields, each ending in CRLF
  std::string body_;
  std::string out_headers_;
  std::string message_id_;
  bool seen_date_ = false, seen_message_id_ = false, seen_from_ = false;
  std::vector<std::string> recipient_fields_;  // To/Cc/Bcc values for extraction
};

}  // namespace posthorn::cleanup
