// tools/posthorn/queue_select.h - the command line of `posthorn queue` and
// which messages it selects.
//
// Every verb that acts on messages takes the same selectors, so that no one
// needs a `mailq | awk | postsuper -d -` pipeline:
//
//   --from ADDR         the envelope sender is ADDR ("<>" or MAILER-DAEMON
//                       for the null sender; "@example.org" for any sender
//                       in a domain)
//   --to ADDR           a recipient not yet delivered or bounced is ADDR
//                       (its address or its original address)
//   --domain D          a recipient not yet done is in domain D
//   --older-than DUR    arrived more than DUR ago (30m, 2h, 3d, 1w; a bare
//                       number is seconds)
//   --queue Q           only queue Q (incoming, active, deferred, hold);
//                       repeatable or comma-separated
//
// and operands: queue IDs (a trailing "*" or "!", as `list` prints them, is
// ignored), ALL, or "-" (IDs from standard input, one a line, as
// `postsuper -d -`). Selectors and IDs combine: a message must be named (or
// ALL given) and match every selector. Addresses and domains are compared
// ignoring ASCII case.
//
// Pure functions only: the tests drive them without a spool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"
#include "lib/queue/envelope_reader.h"
#include "lib/queue/spool.h"

namespace posthorn::tools::queue_cmd {

enum class Verb { list, show, remove, hold, release, requeue, flush };

// "list", "show", "delete", ...; and back (nullopt for an unknown word).
std::string_view verb_name(Verb v);
std::optional<Verb> parse_verb(std::string_view s);

// The queues a verb looks in, in the order it reports them (Postfix's
// postsuper defaults): list/show/delete incoming active deferred hold; hold
// incoming active deferred; release hold; requeue active deferred hold
// (incoming mail is resolved anyway); flush deferred.
std::vector<queue::QueueName> default_queues(Verb v);

struct Selector {
  std::vector<queue::QueueName> queues;  // empty: default_queues()
  std::optional<std::string> from;
  std::optional<std::string> to;
  std::optional<std::string> domain;
  std::optional<long long> older_than;   // seconds
  // True when matching needs the envelope (every selector but --queue).
  bool needs_envelope() const { return from || to || domain || older_than; }
  bool any() const { return needs_envelope() || !queues.empty(); }
};

// Does the message (arrived at env.arrival_us) match every selector at time
// `now` (unix seconds)? --queue is not looked at here: the caller reads only
// the queues selected.
bool matches(const Selector& s, const queue::Envelope& env, std::int64_t now);

// "30m" -> 1800. Units s, m, h, d, w; a bare number is seconds. Errc::parse.
Result<long long> parse_duration(std::string_view s);
// "deferred" -> QueueName::deferred; only the four message queues. Errc::parse.
Result<queue::QueueName> parse_queue_name(std::string_view s);
// A queue ID operand, with the "*" or "!" of list's output allowed at its
// end. Errc::parse naming the operand.
Result<queue::QueueId> parse_id_operand(std::string_view s);

// Which parts `show` prints (postcat -e, -h, -b); all when none is given.
struct ShowParts {
  bool envelope = false, headers = false, body = false;
};

struct Args {
  std::optional<Verb> verb;
  bool help = false;
  std::optional<std::string> config_dir;  // -c DIR
  bool json = false;                      // list --json
  ShowParts parts;
  Selector select;
  bool all = false;                        // the operand ALL
  bool ids_from_stdin = false;             // the operand "-"
  std::vector<queue::QueueId> ids;         // named messages, in command-line order
};

// Parses the words after "queue" (for `posthorn flush`: `preset` = flush and
// the words after "flush"). Checks what can be checked without the spool:
// options the verb does not take, --queue values the verb cannot act on,
// malformed IDs, a verb that changes the queue named without IDs, ALL or a
// selector. Errc::invalid with a message for the user.
Result<Args> parse_args(const std::vector<std::string>& words, std::optional<Verb> preset = {});

}  // namespace posthorn::tools::queue_cmd
