// local/outcome.h - what delivering to one recipient came to.
//
// Every path through local ends in an Outcome: sent (dsn 2.x.x), deferred
// (4.x.x, try again later) or bounced (5.x.x). The agent answers qmgr with it
// (lib/deliver/protocol.h) and logs it; nothing in local throws past a
// recipient, so a failure always has a status, a dsn and a text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace posthorn::local {

enum class Status { sent, deferred, bounced };

// "sent", "deferred", "bounced": the words of the protocol and of the log.
std::string_view status_name(Status s);

struct Outcome {
  Status status = Status::deferred;
  std::string dsn;   // RFC 3463 "X.Y.Z"
  std::string text;  // "delivered to maildir", "unknown user: \"x@y\""

  static Outcome sent(std::string text, std::string dsn = "2.0.0");
  static Outcome deferred(std::string dsn, std::string text);
  static Outcome bounced(std::string dsn, std::string text);
  bool ok() const { return status == Status::sent; }
  bool operator==(const Outcome&) const = default;
};

// The outcome of a recipient whose delivery had several parts (an alias with
// a command, a file and forwarded addresses): deferred when any part was
// deferred (the first such part's dsn and text: the recipient is tried again
// as a whole), else bounced when any part bounced (the first bounce), else
// sent with the parts' texts joined by "; ". An empty list is a bug in the
// caller and comes out deferred 4.3.0.
Outcome combine(const std::vector<Outcome>& parts);

// soft_bounce = yes: a bounce becomes a deferral, its dsn's class 5 becoming
// 4 (Postfix's rule); other outcomes are returned as they are.
Outcome soften(Outcome o);

}  // namespace posthorn::local
