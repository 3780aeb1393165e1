// tools/posthorn/queue_format.h - what `posthorn queue` prints.
//
// list: Postfix's mailq format, column for column, so that scripts and eyes
// trained on `mailq` read it unchanged (postqueue -p with short queue IDs):
//
//   -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
//   1J45FZ3Z2J044J*   412 Mon Nov 23 10:00:00  alice@example.org
//                                       (connect to mx.example.net[192.0.2.1]:25: Connection refused)
//                                            bob@example.net
//
//   -- 0 Kbytes in 1 Request.
//
// The ID is followed by "*" in active/ and "!" in hold/; a null sender shows
// as MAILER-DAEMON; each recipient not yet delivered or bounced is listed,
// with its last deferral reason right-aligned above it when that differs
// from the previous recipient's ("reason unavailable" when a later one has
// none); messages are separated by a blank line; "Mail queue is empty" when
// there is nothing. Addresses are shown as the queue file holds them (in
// their external form: smtpd quotes a local part that needs it), with
// control characters and invalid UTF-8 as "?".
//
// list --json: one object per message and line, as postqueue -j, with more
// per recipient (see json_message()).
//
// show: postcat -q's labelled sections: envelope with each recipient's
// state, then the headers and the body byte for byte.
//
// Times are local time, as asctime(3) writes them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/queue/envelope_reader.h"
#include "lib/queue/queue_file.h"
#include "lib/queue/reasons.h"
#include "lib/queue/spool.h"
#include "tools/posthorn/queue_select.h"

namespace posthorn::tools::queue_cmd {

// One message as listed.
struct Message {
  queue::QueueName queue = queue::QueueName::incoming;
  queue::QueueEnvelope envelope;
  std::vector<queue::Reason> defer;   // latest_per_recipient() of defer/ID
  std::vector<queue::Reason> bounce;  // latest_per_recipient() of bounce/ID (json, show)
};

// The reason recorded for recipient `index`, or nullptr.
const queue::Reason* reason_for(const std::vector<queue::Reason>& latest, std::size_t index);

std::string mailq_heading();
// One message's block: the sender line, then reasons and recipients.
std::string mailq_message(const Message& m);
// "\n-- N Kbytes in M Requests.\n" ("Request" for one), or "Mail queue is
// empty\n" for none.
std::string mailq_trailer(std::size_t messages, std::uint64_t total_bytes);

// One line (with its newline):
//   {"queue_name": "deferred", "queue_id": "...", "arrival_time": SECONDS,
//    "message_size": N, "sender": "...", "recipients": [{"address": "...",
//    "orig_address": "...", "state": "pending|deferred|delivered|bounced",
//    "delay_reason": "...", "dsn": "4.4.1", "bounce_reason": "...",
//    "attempts": N, "last_attempt": SECONDS, "next_retry": SECONDS}]}
// sender is "" for the null sender; orig_address "" when it is the address;
// delay_reason and dsn only when the defer log has a record for the
// recipient, bounce_reason only for bounced ones with a bounce record;
// last_attempt and next_retry 0 for none / any time. Every recipient is
// listed, done ones too (their state says so). Strings are valid UTF-8 JSON.
std::string json_message(const Message& m);

// postcat -q: "*** ENVELOPE RECORDS deferred/ID ***", the envelope, then
// "*** MESSAGE HEADERS ... ***", the headers, "*** MESSAGE BODY ... ***", the
// body, and "*** MESSAGE FILE END ... ***"; `parts` picks sections (all when
// none is set). `defer` and `bounce` as in Message.
std::string show_message(queue::QueueName q, const queue::QueueFile& qf,
                         const std::vector<queue::Reason>& defer,
                         const std::vector<queue::Reason>& bounce, ShowParts parts);

// "Mon Nov 23 10:00:00" (asctime's first 19 characters) in local time.
std::string arrival_text(std::int64_t unix_seconds);
// An address as mailq shows it: "MAILER-DAEMON" for "", else as stored
// with unprintable bytes as '?'.
std::string address_text(std::string_view addr);
// A JSON string literal of `s` (quotes included).
std::string json_string(std::string_view s);

}  // namespace posthorn::tools::queue_cmd
