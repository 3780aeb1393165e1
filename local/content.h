// local/content.h - the bytes local writes: the message as stored in a
// mailbox, piped to a command, or forwarded, and the loop check on it.
//
// Purpose:    one place that turns queue-file content (headers + body,
//             normally with CRLF line ends as received) into what each kind
//             of destination gets, as Postfix's local(8) writes it:
//
//   maildir   Return-Path, X-Original-To, Delivered-To, then the message
//   mbox      "From SENDER  DATE" line, the same three headers, the message
//             with ">" before each line that starts with "From ", and an
//             empty line after it
//   command   the From_ line and the three headers (Delivered-To only when
//             prepend_delivered_header has "command"), no quoting, no
//             empty line
//
// Guarantees: CRLF becomes LF (mailboxes and commands store and expect LF,
//             as under Postfix); a bare CR or a bare LF is kept; a message
//             that does not end with a line end gets one; every other byte
//             is copied unchanged (8-bit, NUL). Output depends only on the
//             inputs (the time is a parameter), so tests can compare bytes.
// Refusals:   none: any content renders.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::local {

enum class Style { maildir, mbox, command };

struct Envelope {
  std::string sender;                       // "" = <>
  std::optional<std::string> original_to;   // X-Original-To:, when known
  std::optional<std::string> delivered_to;  // Delivered-To:, when wanted
};

// The From_ line of mbox and command deliveries, Postfix's form: "From " the
// sender (MAILER-DAEMON for <>), two spaces, the time as asctime() in local
// time without its newline, then "\n".
std::string from_line(std::string_view sender, std::time_t when);

// An address as it appears in Return-Path:, X-Original-To: and Delivered-To:
// (RFC 5322 quoting of the local part when it is not a dot-atom).
std::string header_address(std::string_view address);

// The whole rendering for `style`.
std::string render(Style style, const Envelope& env, std::string_view headers,
                   std::string_view body, std::time_t when);

// Forwarded copies (a new queue file) keep the queue file's line ends: the
// Delivered-To: line to put in front of `headers`, ending in CRLF when the
// headers use CRLF and in LF otherwise.
std::string delivered_to_line(std::string_view headers, std::string_view address);

// The values of every Delivered-To: field of a header section (unfolded,
// trimmed, one pair of angle brackets removed), in order.
std::vector<std::string> delivered_to_values(std::string_view headers);

// True when `address` is among `values` (compared ignoring ASCII case, after
// header_address(), as Postfix compares them): a forwarding loop.
bool is_loop(const std::vector<std::string>& values, std::string_view address);

}  // namespace posthorn::local
