// lib/bounce/templates.h - the human-readable texts of notices: built in, or
// read from the file that bounce_template_file names.
//
// The file has Postfix's bounce(5) format, so a Postfix administrator's
// template file works unchanged:
//
//   # comments and blank lines between templates are ignored
//   failure_template = <<EOF
//   Charset: us-ascii
//   From: MAILER-DAEMON (Mail Delivery System)
//   Subject: Undelivered Mail Returned to Sender
//   Postmaster-Subject: Postmaster Copy: Undelivered Mail
//
//   This is the mail system at host $myhostname.
//   ...
//   EOF
//
// Templates: failure_template, delay_template, success_template.
// verp_template is accepted and not used (Posthorn has no VERP). A template
// opens with "NAME = <<TAG" and ends at the next line that is exactly TAG. Its
// first lines are header lines "Name: value" of Charset, From, Subject and
// Postmaster-Subject (each optional: a missing one keeps the built-in value),
// then a blank line, then the text, which goes before the list of recipients.
// In header values and text, $name, ${name} and $(name) are main.cf
// parameters; a time parameter is also available in whole units as
// $name_seconds, _minutes, _hours, _days and _weeks (rounded down, as in
// "$delay_warning_time_hours"); $$ is a dollar sign. The charset must be a
// MIME charset name; text or headers with 8-bit octets need a charset other
// than us-ascii.
//
// Errors name the file and line: an unknown template or header name, a
// template that does not end, text outside a template, an unknown $name, a
// bad charset, 8-bit octets under us-ascii, a template defined twice.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/bounce/bounce.h"
#include "lib/config/config.h"

namespace posthorn::bounce {

struct Templates {
  Template failure, delay, success;
};

// What $name stands for; nullopt for a name that is not known.
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses a template file's text; `file` names it in errors
// ("FILE:LINE: what"). Errc::parse, with every error found, one per line.
Result<Templates> parse_templates(std::string_view text, std::string_view file,
                                  const Lookup& lookup);

// Lookup of main.cf parameters (and the time-unit forms) in `c`.
Lookup config_lookup(const config::Config& c);

// The template of `kind` in `s` with every empty field filled from the
// built-in one (whose texts name s.myhostname and s.mail_name, and in the
// delay text s.delay_warning_time and s.maximal_queue_lifetime).
Template effective_template(Kind kind, const Settings& s);

}  // namespace posthorn::bounce
