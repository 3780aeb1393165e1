// tools/sendmail/smtp_stdio.h - sendmail -bs: an SMTP session on standard
// input and output.
//
// Decision: this runs smtpd's own protocol engine (smtpd/session.h), which
// does no I/O of its own (bytes in through feed(), replies out through a
// callback), over the two descriptors instead of a socket, so -bs speaks
// exactly the SMTP that smtpd speaks, extensions and refusals included;
// sendmail links smtpd/session.o and smtpd/params.o for it (the Makefile's
// sendmail_USES). A second, smaller SMTP reader would be a second copy of
// the protocol to keep right.
//
// What differs from smtpd: the client is the local user, so every recipient
// is accepted (no relay control, as Postfix's sendmail -bs without
// privileges), and each message goes to postdrop through the Submitter,
// which is why the reply to the end of data comes only after the maildrop
// file is durable. The session ends at QUIT, at end of input, or after
// smtpd_timeout without input (421).
#pragma once

#include "lib/config/config.h"
#include "tools/sendmail/submit.h"

namespace posthorn::sendmail {

// Runs the session; returns the exit status (0, or EX_IOERR when output fails).
int run_smtp_session(const config::Config& cfg, const Submitter& submitter,
                     const std::string& full_name, int in_fd, int out_fd);

}  // namespace posthorn::sendmail
