// local/sysexits.h - what a |command's end means for the mail.
//
// Commands that local pipes mail into report with <sysexits.h> exit codes,
// the sendmail convention Postfix follows. The table is Postfix's, so a
// procmail or a dovecot-lda that works under Postfix behaves the same here:
//
//   0                 sent
//   64..78 (EX_*)     each code's dsn and text; EX_TEMPFAIL (75) and
//                     EX_OSERR (71) are temporary (deferred), the others
//                     permanent (bounced)
//   anything else     bounced 5.3.0 "unknown mail system error N"
//   killed by signal  deferred 4.3.0 (the command did not decide)
//   time limit        deferred 4.3.0 "command time limit exceeded"
//
// When a failing command's output starts with an RFC 3463 status code
// ("5.1.1 no such list"), that code decides the dsn and the class instead
// (Postfix 2.3 and later). The first line of the output, made printable and
// cut at 200 bytes, ends the text: "temporary failure. Command output: ...".
#pragma once

#include <string>
#include <string_view>

#include "local/outcome.h"

namespace posthorn::local {

struct ExitMeaning {
  std::string dsn;   // "4.3.0"
  std::string text;  // "temporary failure"
  bool temporary = false;
};

// The meaning of exit status `code` (not 0).
ExitMeaning sysexit_meaning(int code);

// How a command ended.
struct CommandEnd {
  enum class How { exited, signaled, timed_out, not_started };
  How how = How::exited;
  int code = 0;        // exit status, or the signal number
  std::string output;  // what it wrote on stdout/stderr (a bounded prefix)
  std::string error;   // not_started: why (fork, pipe)
};

// The Outcome for a command delivery; `command` names it in the text.
Outcome command_outcome(const CommandEnd& end, std::string_view command);

// "X.Y.Z" at the start of `text` with X 4 or 5 (then a space, end, or
// punctuation), or "".
std::string leading_status_code(std::string_view text);

}  // namespace posthorn::local
