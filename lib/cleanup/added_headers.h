// lib/cleanup/added_headers.h - the header fields cleanup writes itself:
// Received, Date, Message-ID and From, and the address qualification they
// share with recipient extraction. Pure functions of their inputs (the time
// is a parameter), except new_message_id() which draws random bits.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "lib/cleanup/cleanup.h"
#include "lib/queue/queue_file.h"

namespace posthorn::cleanup {

// RFC 5322 3.3 date-time in the local time zone with a numeric offset:
// "Mon, 23 Nov 2026 10:28:45 +0000". Independent of the locale.
std::string rfc5322_date(std::chrono::system_clock::time_point t);

// "<YYYYMMDDhhmmss.TOKEN@host>" (UTC time; TOKEN is 12 characters of
// Crockford base-32 from 60 random bits), unique without knowing the queue ID.
std::string new_message_id(std::chrono::system_clock::time_point t, std::string_view host);

// The whole Received field, folded, ending in CRLF (RFC 5321 4.4; the layout
// Postfix uses). SMTP (client.addr not empty):
//   Received: from HELO (NAME [ADDR])
//   \t(using TLS_INFO)                        when s.tls_info is set
//   \t(Authenticated sender: USER)            when s.received_auth and a login
//   \tby MYHOSTNAME (MAIL_NAME) with PROTOCOL
//   \tfor <RCPT>; DATE                        "for" only with one recipient
// Local submission: "Received: by MYHOSTNAME (MAIL_NAME, from userid N);"
// then "\tDATE". Peer text (HELO, names, login) is made printable ASCII:
// bytes outside 0x21..0x7e, '(' and ')' become '?', so it cannot end the
// comment or the field.
std::string received_field(const CleanupSettings& s, const queue::Envelope& env,
                           std::chrono::system_clock::time_point t);

// "From: ADDR\r\n" or, with a full name, "From: \"Full Name\" <ADDR>\r\n"
// (display name quoted as RFC 5322 3.2.5 needs). ADDR is the envelope sender,
// or MAILER-DAEMON@myhostname for the null sender.
std::string from_field(const CleanupSettings& s, std::string_view sender);

// True when `addr` (canonical external form) has a domain: an '@' outside a
// quoted local part.
bool is_qualified(std::string_view addr);
// `addr`, with "@" + origin appended when it is not qualified.
std::string qualify(std::string_view addr, std::string_view origin);

}  // namespace posthorn::cleanup
