// smtpd/policy.h - what a Session asks its owner before it says yes to a
// client, a HELO name, a sender, a recipient or an ETRN: the questions
// (CheckRequest), the answers (Verdict) and the interface between them.
//
// Purpose:    keep the session free of tables, DNS and configuration. The
//             session describes the command; the owner (smtpd/main.cc with
//             the restriction engine, smtpd/restrictions.h) decides, at once
//             or later, and the session replies accordingly.
// Guarantees: at most one check or flush is out per session at a time; while
//             one is out the session reads no input (Session::waiting()).
#pragma once

#include <optional>
#include <string>

namespace posthorn::smtpd {

// One SMTP reply line's parts; format_reply() writes "code enhanced text".
struct Reply {
  int code = 250;
  std::string enhanced;  // "2.0.0"; "" = none (greeting, HELO)
  std::string text;
};

// The client as the restrictions see it (Postfix's three names).
struct ClientIdentity {
  std::string addr;                    // "192.0.2.1", "2001:db8::1"
  std::string name = "unknown";        // forward-confirmed PTR name, or "unknown"
  std::string reverse_name = "unknown";  // the PTR name, confirmed or not
  // The lookup that left `name` unknown failed temporarily (SERVFAIL,
  // timeout): reject_unknown_*_hostname then defer rather than reject.
  bool name_tempfail = false;
};

// The moment of a check; it decides which restriction lists apply
// (smtpd_delay_reject).
enum class CheckPoint { connect, helo, mail, rcpt, etrn };

struct CheckRequest {
  CheckPoint point = CheckPoint::rcpt;
  ClientIdentity client;
  std::string helo;          // "" before HELO/EHLO
  bool has_sender = false;   // MAIL FROM was accepted (or is being checked)
  std::string sender;        // external form; "" = the null sender <>
  std::string recipient;     // RCPT: external form; "postmaster" for <postmaster>
  std::string etrn_domain;   // ETRN
  std::string sasl_login;    // "" = not authenticated
};

// The answer: accepted, or refused with the reply to send. A 2xx reply is
// never a refusal.
struct Verdict {
  bool accepted = true;
  Reply reply;
  static Verdict accept() { return {}; }
  static Verdict refuse(Reply r) { return {false, std::move(r)}; }
};

// The owner's side. Implementations may answer check() at once (the result)
// or later (nullopt, then Session::policy_checked() from the event loop,
// never from inside check()).
class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::optional<Verdict> check(const CheckRequest& req) = 0;
  // ETRN (RFC 1985) passed its checks: ask qmgr to retry the deferred mail
  // of `domain`; answer with Session::etrn_done(), later, never from inside
  // this call.
  virtual void flush(const std::string& domain) = 0;
};

}  // namespace posthorn::smtpd
