// lib/queue/queue_file.h - what a queue file holds, as plain values.
//
// These structs are what the writer (writer.h) stores and the reader
// (codec.h, reader.h) returns; FORMAT.md gives their byte layout. Strings are
// byte strings: nothing here assumes ASCII or UTF-8, and the content keeps
// every byte (NUL, bare CR, bare LF, 8-bit) exactly as given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/queue/queue_id.h"

namespace posthorn::queue {

// 8BITMIME / BINARYMIME as declared with MAIL FROM BODY= (RFC 6152, RFC 3030).
enum class BodyType : std::uint8_t { unspecified = 0, seven_bit = 1, eight_bit_mime = 2, binary_mime = 3 };
// DSN RET= (RFC 3461 section 4.3).
enum class DsnRet : std::uint8_t { unspecified = 0, full = 1, hdrs = 2 };

// DSN NOTIFY= bits (RFC 3461 section 4.1). 0 means "not given" (the MTA's
// default applies); kNotifyNever may not be combined with the others.
inline constexpr std::uint8_t kNotifyNever = 1;
inline constexpr std::uint8_t kNotifySuccess = 2;
inline constexpr std::uint8_t kNotifyFailure = 4;
inline constexpr std::uint8_t kNotifyDelay = 8;
// True for 0, NEVER alone, or any combination of SUCCESS, FAILURE, DELAY.
bool notify_valid(std::uint8_t notify);

// Where a recipient stands. delivered and bounced are final ("done"): qmgr
// never tries a done recipient again. deferred is a pending recipient whose
// last attempt failed temporarily.
enum class RcptState : std::uint8_t { pending = 0, deferred = 1, delivered = 2, bounced = 3 };

// Bits of RecipientStatus::flags: which DSN notices have been sent already, so
// that a crash after sending does not send them twice.
inline constexpr std::uint8_t kSentDelayNotice = 1;
inline constexpr std::uint8_t kSentSuccessNotice = 2;
inline constexpr std::uint8_t kKnownStatusFlags = kSentDelayNotice | kSentSuccessNotice;

// The per-recipient bookkeeping that is rewritten in place (FORMAT.md
// "Recipient status block"): fixed size, at a fixed offset in the file.
struct RecipientStatus {
  RcptState state = RcptState::pending;
  std::uint8_t flags = 0;           // kSent* bits
  std::uint32_t attempts = 0;       // delivery attempts made so far
  std::int64_t last_attempt = 0;    // unix seconds of the last attempt, 0 = none
  std::int64_t next_attempt = 0;    // unix seconds before which not to retry, 0 = any time
  bool done() const { return state == RcptState::delivered || state == RcptState::bounced; }
  bool operator==(const RecipientStatus&) const = default;
};

struct Recipient {
  std::string address;   // the envelope recipient, without angle brackets
  std::string original;  // the address before rewriting (logged as orig_to=), "" = same
  std::string orcpt;     // RFC 3461 ORCPT as "addr-type;address" (xtext decoded), "" = none
  std::uint8_t notify = 0;  // kNotify* bits
  RecipientStatus status;
  // Set by the reader: byte offset of this recipient's status block in the
  // file. Ignored by the writer.
  std::uint64_t status_offset = 0;
  bool operator==(const Recipient&) const = default;
};

struct ClientInfo {
  std::string name;       // reverse-DNS name, "unknown" when there is none
  std::string addr;       // IP address as text, "" for local submission
  std::string helo;       // HELO/EHLO argument
  std::string protocol;   // "ESMTP", "SMTP", "ESMTPSA", "local", ...
  std::string sasl_user;  // authenticated login, "" = none
  bool operator==(const ClientInfo&) const = default;
};

struct Envelope {
  std::string sender;  // "" = the null sender <>
  std::vector<Recipient> recipients;
  std::int64_t arrival_us = 0;  // unix microseconds; the writer fills it from the ID when 0
  ClientInfo client;
  DsnRet ret = DsnRet::unspecified;
  std::string envid;  // RFC 3461 ENVID (xtext decoded), "" = none
  BodyType body_type = BodyType::unspecified;
  bool smtputf8 = false;  // RFC 6531
  bool operator==(const Envelope&) const = default;
};

// A whole queue file. The message is headers + body exactly: `headers` runs
// up to and including the empty line that ends the header section (if the
// message has one), `body` is the rest.
struct QueueFile {
  QueueId id;
  Envelope env;
  std::string headers;
  std::string body;
  // Set by the reader: size of the file it parsed, so in-place updates can
  // check they write to the file they think they do.
  std::uint64_t file_size = 0;
  std::uint64_t message_size() const { return headers.size() + body.size(); }
  // True when every recipient is delivered or bounced: the file may go.
  bool all_done() const {
    for (const Recipient& r : env.recipients)
      if (!r.status.done()) return false;
    return true;
  }
};

}  // namespace posthorn::queue
