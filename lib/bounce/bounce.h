// lib/bounce/bounce.h - delivery status notifications (DSNs): the message
// that tells a sender what became of his mail, composed as a new message that
// qmgr writes into incoming/ (write_queue_file) like any other.
//
// Standards followed:
//   RFC 3464  the report: multipart/report (RFC 6522) with a human-readable
//             text/plain part, a message/delivery-status part (per-message
//             fields, then one block per recipient) and the returned content
//   RFC 3461  NOTIFY (wants()), RET (what is returned), ENVID
//             (Original-Envelope-Id), ORCPT (Original-Recipient)
//   RFC 6533  when the original was SMTPUTF8: message/global-delivery-status,
//             message/global or message/global-headers, report-type
//             global-delivery-status, UTF-8 kept in addresses and diagnostics;
//             in every DSN a non-ASCII address is typed "utf-8" and written in
//             the \x{HEX} forms of section 3
//   RFC 3834  Auto-Submitted: auto-replied
//
// The notice (every line CRLF, as queue files store content):
//   Date, From: MAILER-DAEMON@myhostname (Mail Delivery System), Subject,
//   To: the sender, Auto-Submitted, MIME-Version, Content-Type:
//   multipart/report; report-type=...; boundary="...", Content-Transfer-Encoding
//   (8bit, only when the notice has 8-bit octets), Message-ID; then
//   1. text/plain "Notification": the template's text, then one paragraph per
//      recipient: "<final> (expanded from <original>): reason", wrapped;
//   2. message/delivery-status "Delivery report": Original-Envelope-Id (ENVID),
//      Reporting-MTA: dns; myhostname, Arrival-Date, X-Posthorn-Queue-ID,
//      X-Posthorn-Sender; per recipient Original-Recipient (ORCPT, else the
//      address before rewriting, as RFC 3461 4.2 lets an MTA supply it),
//      Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
//      Last-Attempt-Date, Will-Retry-Until (delay notices);
//   3. the returned content. The whole message (message/rfc822) for a failure
//      notice when RET=FULL or RET was not given; only its header section
//      (text/rfc822-headers) for RET=HDRS, for delay and success notices, and,
//      as Postfix does, whenever the message is larger than bounce_size_limit
//      (a cut message would be broken MIME, so the headers go instead). The
//      headers also go instead of content that is not valid 8bit MIME
//      (BINARYMIME, NUL, bare CR or LF, a line over 998 octets), so that every
//      notice can be relayed as 8BITMIME. 8-bit content is carried as is; the
//      part, the notice and its envelope (BodyType) say 8bit when it has any.
//
// Refusals: a notice is never sent to the null sender (a bounce is never
// bounced) nor to double_bounce_sender (a postmaster notice never causes
// another); compose() then fails with Errc::invalid and the caller uses
// compose_postmaster_notice() or drops the notice, per notify_classes
// (postmaster_wants()). Field values from peers (reply texts, relays,
// addresses) are made single-line and, outside RFC 6533 parts, ASCII, so
// nothing a peer says can add a header field or break the report.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/result.h"
#include "lib/config/config.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/reasons.h"

namespace posthorn::bounce {

enum class Kind { failure, delay, success };

struct DsnRecipient {
  std::string address;   // final recipient
  std::string original;  // address before rewriting ("" = same)
  std::string orcpt;     // ORCPT "type;addr" ("" = none)
  std::string action;    // "failed", "delayed", "delivered", "relayed", "expanded"; "" = by kind
  std::string status;    // "5.1.1"; "" or malformed = X.0.0 by action (5 failed, 4 delayed, else 2)
  std::string diagnostic;  // reason text as logged; "smtp; 550 ..." is derived when it is an SMTP reply
  std::string remote_mta;  // relay ("" or "local"/"none" = omit Remote-MTA)
  std::int64_t last_attempt = 0;      // unix seconds, 0 = omit
  std::int64_t will_retry_until = 0;  // delay notices: arrival + maximal_queue_lifetime; 0 = omit
};

// A recipient of the queue file with the reason recorded for it (reasons.h):
// action by kind, status, diagnostic, relay and time from the reason.
DsnRecipient dsn_recipient(const queue::Recipient& r, const queue::Reason& why, Kind kind);

// The human-readable texts of one kind of notice. An empty field means the
// built-in text (Postfix-like, in English).
struct Template {
  std::string charset;             // of subject and text; "" = us-ascii
  std::string from;                // "MAILER-DAEMON (Mail Delivery System)"; qualified with @myhostname
  std::string subject;             // "Undelivered Mail Returned to Sender", ...
  std::string postmaster_subject;  // "Postmaster Copy: Undelivered Mail", ...
  std::string text;                // before the per-recipient reasons; LF or CRLF line ends
};

struct Settings {
  std::string myhostname = "localhost";
  std::string myorigin = "localhost";  // qualifies double_bounce_sender and postmaster recipients
  std::string mail_name = "Posthorn";
  std::uint64_t bounce_size_limit = 50000;
  std::int64_t delay_warning_time = 0;            // seconds, for the built-in delay text
  std::int64_t maximal_queue_lifetime = 5 * 86400;  // seconds, likewise
  std::string double_bounce_sender = "double-bounce";
  std::string bounce_notice_recipient = "postmaster";         // copies of failure notices
  std::string delay_notice_recipient = "postmaster";          // copies of delay notices
  std::string double_bounce_notice_recipient = "postmaster";  // 2bounce_notice_recipient
  std::vector<std::string> notify_classes = {"resource", "software"};
  Template failure, delay, success;  // from bounce_template_file; empty = built-in

  // From main.cf: the parameters above, and the templates of the file that
  // bounce_template_file names (format: templates.h). Errors (an unreadable
  // or malformed template file, naming FILE:LINE): Errc::not_found, io,
  // permission, parse.
  static Result<Settings> load(const config::Config& c);
  // load(), for start-up code: throws std::runtime_error with the error's
  // detail (main catches it and stops with one line).
  static Settings from_config(const config::Config& c);
};

// What qmgr writes into incoming/ with write_queue_file(env, headers, body).
struct Notice {
  queue::Envelope env;
  std::string headers;  // the header section, with the blank line that ends it
  std::string body;     // the multipart/report body
};

// Composes the DSN for `original` (the queue file as read) about `rcpts`.
// env: sender "" (null), one recipient = original.env.sender with NOTIFY=NEVER
// (so it never bounces itself), client protocol "local", SMTPUTF8 when the
// original was (or the sender is not ASCII), body type 8BITMIME when the
// notice has 8-bit octets, else 7BIT. Errors: Errc::invalid when original's
// sender is "" or double_bounce_sender (the caller then uses
// compose_postmaster_notice or drops it, per notify_classes), holds control
// characters, when `rcpts` is empty, or a recipient has no address or an
// action outside the five.
Result<Notice> compose(const queue::QueueFile& original, Kind kind,
                       const std::vector<DsnRecipient>& rcpts, const Settings& s,
                       std::chrono::system_clock::time_point now);

// The copy for the postmaster, in the shape Postfix sends:
//   - original.env.sender "" (a failure notice about a notice, Postfix's
//     2bounce): to double_bounce_notice_recipient, the whole undeliverable
//     notice returned (within bounce_size_limit);
//   - otherwise a copy of the failure or delay notice the sender got (notify
//     classes "bounce" and "delay"): to bounce_notice_recipient or
//     delay_notice_recipient, headers only.
// Sender double_bounce_sender@myorigin, so that when this notice fails too it
// is dropped; subject the template's Postmaster-Subject; recipients
// unqualified by a domain get @myorigin. Errors: Errc::invalid for
// Kind::success, when original's sender is double_bounce_sender, and for
// `rcpts` as in compose().
Result<Notice> compose_postmaster_notice(const queue::QueueFile& original, Kind kind,
                                         const std::vector<DsnRecipient>& rcpts,
                                         const Settings& s,
                                         std::chrono::system_clock::time_point now);

// Which recipients want which notice (RFC 3461 4.1 NOTIFY bits of
// queue::Recipient). 0 = not given: FAILURE and DELAY, as Postfix does (the
// caller sends delay notices only when delay_warning_time is set); NEVER:
// none; otherwise the bits given.
bool wants(std::uint8_t notify, Kind kind);

// Whether notify_classes asks for a postmaster notice about `original`:
// "2bounce" for a failed notice (sender ""), "bounce" for a failure notice,
// "delay" for a delay notice. Never for success, nor when the original
// comes from double_bounce_sender.
bool postmaster_wants(const Settings& s, const queue::QueueFile& original, Kind kind);

// True when `sender` is double_bounce_sender, bare or @myorigin/@myhostname
// (case-insensitive): mail from it is never answered with a notice.
bool is_double_bounce_sender(const Settings& s, std::string_view sender);

}  // namespace posthorn::bounce
