// lib/config/man.cc - see man.h.
#include "lib/config/man.h"

#include <algorithm>
#include <vector>

#include "lib/base/strings.h"
#include "lib/config/params.h"

namespace posthorn::config {

namespace {

constexpr std::string_view kHead = R"(.TH MAIN.CF 5 "" "Posthorn" "File Formats"
.SH NAME
main.cf \- Posthorn main configuration parameters
.SH SYNOPSIS
.B /etc/posthorn/main.cf
.br
.B posthorn conf
[\fB\-n\fR|\fB\-d\fR] [\fIname\fR ...]
.SH DESCRIPTION
.B main.cf
holds the parameters that shape Posthorn's behaviour, in Postfix's syntax and,
wherever the concept is the same, with Postfix's parameter names and defaults,
so that a Postfix configuration needs few or no edits.
.PP
Each parameter is set on a line of the form
.IP
\fIname\fR = \fIvalue\fR
.PP
White space around the "=" and at the ends of the value is ignored.
A line that starts with white space continues the line before it; the lines
are joined with one space.
Blank lines and lines whose first non\-blank character is "#" are ignored.
A "#" after other text is part of the value.
A parameter set twice takes its last value, with a warning.
.SH PARAMETER EXPANSION
Values may refer to other parameters; references are expanded when a program
reads the value, so an override in master.cf (\fB\-o\fR) changes every value
that refers to it.
.TP
.B $name\fR, \fB${name}\fR, \fB$(name)
The value of \fIname\fR.
.TP
.B ${name?text}
\fItext\fR when \fIname\fR is not empty, else nothing.
.TP
.B ${name:text}
\fItext\fR when \fIname\fR is empty, else nothing.
.TP
.B ${name?{text1}:{text2}}
\fItext1\fR when \fIname\fR is not empty, else \fItext2\fR.
.TP
.B $$
A literal "$".
.PP
A reference to an unknown parameter and a loop (a = $b, b = $a) are errors.
.SH TYPES
.TP
.B string
Any text; some parameters accept only the words listed with them.
.TP
.B boolean
\fByes\fR or \fBno\fR.
.TP
.B count
A whole decimal number.
.TP
.B time
A number with an optional unit: \fBs\fR (seconds), \fBm\fR (minutes),
\fBh\fR (hours), \fBd\fR (days), \fBw\fR (weeks). A number without a unit
takes the unit of the parameter's default.
.TP
.B size
A number of bytes.
.TP
.B list
Words separated by commas and/or white space. Text in "{ }" is one word.
.TP
.B table list
A list of lookup tables written \fItype\fR:\fIname\fR, such as
hash:/etc/aliases or inline:{ a=b, c=d }.
.SH NAMES THAT ARE NOT LISTED HERE
Two kinds are accepted, as in Postfix.
A \fIservice\-specific\fR parameter is \fIservice\fR_\fIrest\fR where
\fIservice\fR is a service name in master.cf and default_\fIrest\fR is a
parameter below; it has that parameter's type and defaults to its value
(relay_destination_concurrency_limit for the relay transport).
A \fIuser\-defined\fR parameter is set in main.cf and used as $\fIname\fR by
another main.cf value or by a master.cf \fB\-o\fR override; its value is a
string. Any other name is an error, so that a misspelt name is reported.
.SH ERRORS
An unknown name, a value that does not fit its type or bounds, or a line
without "=" is reported as
.IP
/etc/posthorn/main.cf:12: smtpd_timeout: "5x" is not a time
.PP
Every error of main.cf and master.cf is reported in one run; no program starts
with a configuration that has errors.
.SH PARAMETERS
The list below is generated from the parameter registry that the programs use.
)";

constexpr std::string_view kTail = R"(.SH SEE ALSO
master.cf(5), posthorn\-conf(1), posthorn(1)
)";

std::string bounds_text(const Param& p) {
  std::string unit = p.type == Type::time ? "s" : "";
  if (p.bounds.min && p.bounds.max) return cat("; from ", *p.bounds.min, unit, " to ", *p.bounds.max, unit);
  if (p.bounds.min) return cat("; at least ", *p.bounds.min, unit);
  if (p.bounds.max) return cat("; at most ", *p.bounds.max, unit);
  return {};
}

std::string choices_text(const Param& p) {
  if (p.choices.empty()) return {};
  std::vector<std::string> words;
  for (const std::string& w : split(p.choices, '|')) words.push_back(w.empty() ? "(empty)" : w);
  return cat("; one of: ", join(words, ", "));
}

std::string entry(const Param& p) {
  std::string def;
  if (p.flags & kComputed) def = cat("\\fIdefault: ", roff_escape(p.def), "\\fR");
  else if (p.name == "default_database_type") def = "\\fIdefault: \\fBhash\\fI (\\fBlmdb\\fI when built without Berkeley DB)\\fR";
  else if (p.def.empty()) def = "\\fIdefault: empty\\fR";
  else def = cat("\\fIdefault: \\fB", roff_escape(p.def), "\\fR");
  return cat(".TP\n.B ", roff_escape(p.name), "\n(", type_name(p.type), bounds_text(p),
             roff_escape(choices_text(p)), ") ", def, "\n.br\n", roff_escape(p.doc), "\n");
}

}  // namespace

std::string roff_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string main_cf_man_page() {
  std::vector<const Param*> sorted;
  for (const Param& p : params()) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const Param* a, const Param* b) { return a->name < b->name; });
  std::string out(kHead);
  for (const Param* p : sorted) out += entry(*p);
  out += kTail;
  return out;
}

}  // namespace posthorn::config
