#include "smtpd/session.h"

#include <algorithm>

#include "lib/address/path.h"
#include "lib/base/strings.h"
#include "lib/dns/names.h"
#include "smtpd/params.h"

namespace posthorn::smtpd {
namespace {

// Verb flags.
constexpr unsigned kEndsPipeline = 1;  // RFC 2920 3.1: the reply is flushed at once
constexpr unsigned kNeedsTls = 2;      // 530 before STARTTLS at smtpd_tls_security_level=encrypt

constexpr std::string_view kBareLf = "Error: bare <LF> received";

}  // namespace

using P = Session::Phase;

// `needs` is the least a verb requires: P::helo means "no transaction open"
// (MAIL; HELO itself only with smtpd_helo_required), P::mail "MAIL given",
// P::rcpt "a recipient accepted". Anything else gets 503 5.5.1.

const Session::Verb Session::kVerbs[] = {
    {"HELO", &Session::helo, P::connected, kEndsPipeline},
    {"EHLO", &Session::ehlo, P::connected, kEndsPipeline},
    {"MAIL", &Session::mail, P::helo, kNeedsTls},
    {"RCPT", &Session::rcpt, P::mail, kNeedsTls},
    {"DATA", &Session::data, P::rcpt, kEndsPipeline | kNeedsTls},
    {"BDAT", &Session::bdat, P::rcpt, 0},
    {"RSET", &Session::rset, P::connected, 0},
    {"NOOP", &Session::noop, P::connected, kEndsPipeline},
    {"QUIT", &Session::quit, P::connected, kEndsPipeline},
    {"VRFY", &Session::vrfy, P::connected, kEndsPipeline | kNeedsTls},
    {"EXPN", &Session::expn, P::connected, kEndsPipeline | kNeedsTls},
    {"HELP", &Session::help, P::connected, kEndsPipeline},
    {"STARTTLS", &Session::starttls, P::connected, kEndsPipeline},
    {"AUTH", &Session::auth, P::connected, kEndsPipeline | kNeedsTls},
    {"ETRN", &Session::etrn, P::connected, kEndsPipeline | kNeedsTls},
};

std::string format_reply(int code, std::string_view enhanced, std::string_view text) {
  if (enhanced.empty()) return cat(code, " ", text, "\r\n");
  return cat(code, " ", enhanced, " ", text, "\r\n");
}

Session::Session(Settings settings, Sink& sink, SendFn send, Security* security, Policy* policy)
    : s_(std::move(settings)), sink_(sink), send_(std::move(send)), security_(security), policy_(policy) {
  env_.client.name = s_.client_name;
  env_.client.addr = s_.client_addr;
  env_.client.protocol = "SMTP";
  tls_ = s_.tls_wrapped;
}

// With smtpd_delay_reject = no the client restrictions answer at connect:
// a refusal replaces the greeting (Postfix's way), and every command but
// QUIT is then answered 503.
void Session::start() { check(CheckPoint::connect, Pending::connect); }

void Session::greet() {
  reply(220, "", s_.banner);
  flush();
}

void Session::feed(std::string_view bytes) {
  // After STARTTLS, nothing more is plaintext we may act on (RFC 3207 4.2).
  if (mode_ == Mode::closed || mode_ == Mode::tls) return;
  in_.append(bytes);
  process();
  flush();
}

// Steps consume input by moving pos_; the buffer is compacted once per
// feed(), so a large pipelined batch or message chunk costs linear time.
void Session::process() {
  bool progress = true;
  while (progress) {
    switch (mode_) {
      case Mode::command:
      case Mode::auth: progress = command_step(); break;
      case Mode::data: progress = data_step(); break;
      case Mode::bdat: progress = bdat_step(); break;
      case Mode::waiting:
      case Mode::committing: progress = false; break;
      case Mode::tls:
      case Mode::closed: pos_ = in_.size(); progress = false; break;
    }
  }
  in_.erase(0, pos_);
  pos_ = 0;
}

// One command line (or SASL response line), or part of an over-long one.
// False: need more input.
bool Session::command_step() {
  const std::string_view in = pending();
  const std::size_t lf = in.find('\n');
  if (lf == std::string_view::npos) {
    // Bound the buffer: an over-long line is dropped as it arrives.
    if (in.size() >= s_.max_line) {
      discarding_ = true;
      pos_ = in_.size();
    }
    return false;
  }
  std::string line(in.substr(0, lf + 1));
  pos_ += lf + 1;
  ++progress_;
  if (discarding_ || line.size() > s_.max_line) {
    discarding_ = false;
    end_exchange();
    reply(500, "5.5.2", "Error: command line too long");
    return true;
  }
  if (line.size() < 2 || line[line.size() - 2] != '\r') {
    end_exchange();
    reply(550, "5.5.2", kBareLf);
    return true;
  }
  line.resize(line.size() - 2);
  if (mode_ == Mode::auth) {
    auth_response(line);
  } else {
    dispatch(line);
  }
  return true;
}

void Session::dispatch(std::string_view line) {
  const std::size_t sp = line.find(' ');
  const std::string_view name = line.substr(0, sp);
  const std::string_view arg = sp == std::string_view::npos ? "" : line.substr(sp + 1);
  const Verb* verb = nullptr;
  for (const Verb& v : kVerbs)
    if (iequals(v.name, name)) verb = &v;
  if (!verb) return reply(500, "5.5.2", "Error: command not recognized");
  last_verb_ = std::string(verb->name);
  if (access_denied_ && verb->run != &Session::quit)
    return reply(503, "5.7.0", cat("Error: access denied for ", s_.client_name, "[", s_.client_addr, "]"));
  if ((verb->flags & kNeedsTls) && s_.tls_required && !tls_)
    return reply(530, "5.7.0", "Must issue a STARTTLS command first");
  if (!phase_ok(verb->needs)) {
    // BDAT's chunk follows the command whatever we answer (RFC 3030 2).
    if (verb->run == &Session::bdat) return bdat(arg);
    if (verb->needs == P::helo && phase_ == P::connected)
      return reply(503, "5.5.1", "Error: send HELO/EHLO first");
    if (verb->needs == P::helo) return reply(503, "5.5.1", "Error: nested MAIL command");
    if (verb->needs == P::mail) return reply(503, "5.5.1", "Error: need MAIL command");
    return reply(503, "5.5.1", "Error: need RCPT command");
  }
  (this->*verb->run)(arg);
  if (verb->flags & kEndsPipeline) flush();
}

bool Session::phase_ok(Phase needs) const {
  switch (needs) {
    case P::connected: return true;
    case P::helo: return phase_ == P::helo || (phase_ == P::connected && !s_.helo_required);
    case P::mail: return phase_ == P::mail || phase_ == P::rcpt;
    case P::rcpt: return phase_ == P::rcpt;
  }
  return false;
}

void Session::helo(std::string_view arg) {
  arg = trim(arg);
  if (arg.empty()) return reply(501, "5.5.4", "Syntax: HELO hostname");
  pending_helo_ = std::string(arg);
  check(CheckPoint::helo, Pending::helo);
}

void Session::ehlo(std::string_view arg) {
  arg = trim(arg);
  if (arg.empty()) return reply(501, "5.5.4", "Syntax: EHLO hostname");
  pending_helo_ = std::string(arg);
  check(CheckPoint::helo, Pending::ehlo);
}

// HELO or EHLO passed smtpd_helo_restrictions (when they apply then).
void Session::helo_accepted(bool ehlo) {
  reset_transaction();
  env_.client.helo = pending_helo_;
  ehlo_ = ehlo;
  update_protocol();
  phase_ = P::helo;
  if (!ehlo) return reply(250, "", s_.myhostname);
  std::vector<std::string> lines = {s_.myhostname, "PIPELINING"};
  lines.push_back(s_.message_size_limit ? cat("SIZE ", s_.message_size_limit) : "SIZE");
  if (policy_) lines.emplace_back("ETRN");
  if (security_ && s_.tls_offered && !tls_) lines.emplace_back("STARTTLS");
  if (!auth_mechanisms().empty()) lines.push_back(cat("AUTH ", join(auth_mechanisms(), " ")));
  for (const char* kw : {"8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN"})
    lines.emplace_back(kw);
  for (std::size_t i = 0; i < lines.size(); ++i)
    out_ += cat("250", i + 1 < lines.size() ? "-" : " ", lines[i], "\r\n");
}

void Session::mail(std::string_view arg) {
  if (!istarts_with(arg, "FROM:")) return reply(501, "5.5.4", "Syntax: MAIL FROM:<address>");
  auto parsed = address::parse_path_arg(arg.substr(5));
  if (!parsed) return reply(address_error_reply(parsed.error(), true));
  Reply err;
  auto params = mail_params(parsed->params, err);
  if (!params) return reply(err);
  if (params->size && s_.message_size_limit && *params->size > s_.message_size_limit)
    return reply(552, "5.3.4", "Message size exceeds fixed limit");
  if (parsed->path.is_postmaster()) return reply(501, "5.1.7", "Bad sender address syntax");
  // RFC 4954 5: AUTH= is a parameter of the extension, known only when offered.
  if (params->auth && auth_mechanisms().empty())
    return reply(555, "5.5.4", "Unsupported option: AUTH");
  env_.sender = parsed->path.null ? "" : address::to_string(parsed->path.mailbox);
  env_.body_type = params->body;
  env_.smtputf8 = params->smtputf8;
  env_.ret = params->ret;
  env_.envid = params->envid;
  declared_size_ = params->size.value_or(0);
  check(CheckPoint::mail, Pending::mail);
}

bool Session::relay_allowed(const std::string& domain) const {
  if (s_.client_trusted) return true;
  if (!sasl_login_.empty() && s_.relay_authenticated) return true;  // permit_sasl_authenticated
  const std::string d = to_lower(domain);
  return std::find(s_.mydestination.begin(), s_.mydestination.end(), d) != s_.mydestination.end();
}

void Session::rcpt(std::string_view arg) {
  pending_rcpt_ = {};  // a refusal before the address is known names none
  if (!istarts_with(arg, "TO:")) return reply(501, "5.5.4", "Syntax: RCPT TO:<address>");
  address::Options opts;
  opts.smtputf8 = env_.smtputf8;
  auto parsed = address::parse_path_arg(arg.substr(3), opts);
  if (!parsed) return reply(address_error_reply(parsed.error(), false));
  if (parsed->path.null) return reply(501, "5.1.3", "Bad recipient address syntax");
  Reply err;
  auto params = rcpt_params(parsed->params, err);
  if (!params) return reply(err);
  const std::string addr = address::to_string(parsed->path.mailbox);
  pending_rcpt_.address = addr;
  if (!policy_ && !parsed->path.is_postmaster() && !relay_allowed(parsed->path.mailbox.domain))
    return reply(554, "5.7.1", cat("<", addr, ">: Relay access denied"));
  if (env_.recipients.size() >= s_.recipient_limit) {
    // Postfix's smtpd_recipient_overshoot_limit: a client that sends more
    // recipients than we take is normal (it sends the rest later); only
    // far beyond the limit do the refusals count as errors.
    if (overshoot_++ < s_.recipient_overshoot_limit)
      return reply_uncounted(452, "4.5.3", "Error: too many recipients");
    return reply(452, "4.5.3", "Error: too many recipients");
  }
  pending_rcpt_.orcpt = params->orcpt;
  pending_rcpt_.notify = params->notify;
  check(CheckPoint::rcpt, Pending::rcpt);
}

// ETRN (RFC 1985): "ETRN domain", "ETRN @domain" (the domain; qmgr's flush
// matches recipients in that domain), "ETRN #name" (a queue name: this
// system's queues are its destinations, so the name is taken as a domain).
void Session::etrn(std::string_view arg) {
  if (phase_ == P::connected) return reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (phase_ == P::mail || phase_ == P::rcpt)
    return reply(503, "5.5.1", "Error: MAIL transaction in progress");
  std::string_view d = trim(arg);
  if (!d.empty() && (d.front() == '@' || d.front() == '#')) d.remove_prefix(1);
  auto name = dns::normalize_name(d);
  if (d.empty() || !name || name->empty()) return reply(501, "5.5.4", "Syntax: ETRN domain");
  if (!policy_) return reply(458, "4.5.0", "Unable to queue messages");
  etrn_domain_ = *name;
  check(CheckPoint::etrn, Pending::etrn);
}

void Session::etrn_done(bool reached) {
  if (mode_ != Mode::waiting || pending_ != Pending::flush) return;
  mode_ = Mode::command;
  pending_ = Pending::none;
  if (reached) reply(250, "2.0.0", "Queuing started");
  else reply(458, "4.5.0", "Unable to queue messages");
  process();
  flush();
}

CheckRequest Session::request(CheckPoint point) const {
  CheckRequest r;
  r.point = point;
  r.client.addr = s_.client_addr;
  r.client.name = s_.client_name;
  r.client.reverse_name = s_.client_reverse_name;
  r.client.name_tempfail = s_.client_name_tempfail;
  r.helo = point == CheckPoint::helo ? pending_helo_ : env_.client.helo;
  r.has_sender = point == CheckPoint::mail || point == CheckPoint::rcpt;
  r.sender = env_.sender;
  if (point == CheckPoint::rcpt) r.recipient = pending_rcpt_.address;
  r.etrn_domain = etrn_domain_;
  r.sasl_login = sasl_login_;
  return r;
}

// Asks the policy; the answer continues in checked(), now or from
// policy_checked() (input waits meanwhile).
void Session::check(CheckPoint point, Pending what) {
  if (!policy_) return checked(what, Verdict::accept());
  if (auto v = policy_->check(request(point))) return checked(what, *v);
  pending_ = what;
  mode_ = Mode::waiting;
  flush();
}

void Session::policy_checked(const Verdict& v) {
  if (mode_ != Mode::waiting || pending_ == Pending::none || pending_ == Pending::flush) return;
  mode_ = Mode::command;
  checked(std::exchange(pending_, Pending::none), v);
  if (mode_ != Mode::waiting) process();
  flush();
}

void Session::checked(Pending what, const Verdict& v) {
  const bool ok = v.accepted;
  switch (what) {
    case Pending::none:
    case Pending::flush: return;
    case Pending::connect:
      if (ok) return greet();
      access_denied_ = true;
      reply(v.reply);
      return flush();
    case Pending::helo:
    case Pending::ehlo:
      if (!ok) return reply(v.reply);
      helo_accepted(what == Pending::ehlo);
      return flush();  // HELO and EHLO end a pipeline group
    case Pending::mail:
      if (!ok) {
        reset_transaction();
        return reply(v.reply);
      }
      phase_ = P::mail;
      return reply(250, "2.1.0", "Ok");
    case Pending::rcpt:
      if (!ok) return reply(v.reply);
      env_.recipients.push_back(std::move(pending_rcpt_));
      phase_ = P::rcpt;
      return reply(250, "2.1.5", "Ok");
    case Pending::etrn:
      if (!ok) return reply(v.reply);
      pending_ = Pending::flush;
      mode_ = Mode::waiting;
      flush();
      return policy_->flush(etrn_domain_);
  }
}

void Session::data(std::string_view arg) {
  if (!trim(arg).empty()) return reply(501, "5.5.4", "Syntax: DATA");
  if (bdat_used_) return reply(503, "5.5.1", "Error: DATA after BDAT");
  msg_ = sink_.open(env_);
  mode_ = Mode::data;
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

void Session::bdat(std::string_view arg) {
  const std::vector<std::string> words = split_fields(arg, " ");
  unsigned long long n = 0;
  const bool last = words.size() == 2 && iequals(words[1], "LAST");
  if (words.empty() || words.size() > 2 || (words.size() == 2 && !last) || !parse_uint(words[0], n)) {
    // The chunk's length is unknown, so its bytes cannot be skipped: what
    // follows is read as commands (and will mostly fail as such).
    return reply(501, "5.5.4", "Syntax: BDAT count [LAST]");
  }
  bdat_left_ = n;
  bdat_last_ = last;
  bdat_discard_ = false;
  mode_ = Mode::bdat;
  if (!phase_ok(P::rcpt)) {
    bdat_discard_ = true;
    bdat_error_ = {503, "5.5.1", phase_ == P::mail ? "Error: need RCPT command"
                                                   : "Error: need MAIL command"};
  } else if (!bdat_used_) {
    bdat_used_ = true;
    msg_ = sink_.open(env_);
  }
}

void Session::rset(std::string_view) {
  reset_transaction();
  if (phase_ != P::connected) phase_ = P::helo;
  reply(250, "2.0.0", "Ok");
}

void Session::noop(std::string_view) { reply(250, "2.0.0", "Ok"); }

void Session::quit(std::string_view) {
  reply(221, "2.0.0", "Bye");
  reset_transaction();
  mode_ = Mode::closed;
}

void Session::vrfy(std::string_view arg) {
  if (s_.disable_vrfy) return reply(502, "5.5.1", "VRFY command is disabled");
  if (trim(arg).empty()) return reply(501, "5.5.4", "Syntax: VRFY address");
  // RFC 5321 3.5.3: we do not disclose which users exist.
  reply(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

void Session::expn(std::string_view) { reply(502, "5.5.1", "EXPN command is not supported"); }

void Session::help(std::string_view) {
  reply(214, "2.0.0", cat("Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY ",
                          policy_ ? "ETRN " : "", "HELP"));
}

// DATA content, one line or part of a line at a time (RFC 5321 4.5.2:
// a leading "." is removed; only CR LF "." CR LF ends the message).
bool Session::data_step() {
  const std::string_view in = pending();
  if (in.empty()) return false;
  ++progress_;
  if (line_start_ && in[0] == '.') {
    constexpr std::string_view kEnd = ".\r\n";
    if (in.size() < kEnd.size() && kEnd.starts_with(in)) return false;
    if (crlf_ && in.starts_with(kEnd)) {
      pos_ += kEnd.size();
      end_of_message();
      return true;
    }
    pos_ += 1;  // dot-unstuffing
    prev_ = '.';
    line_start_ = false;
    return true;
  }
  const std::size_t lf = in.find('\n');
  const std::size_t n = lf == std::string_view::npos ? in.size() : lf + 1;
  if (lf != std::string_view::npos) {
    crlf_ = (lf > 0 ? in[lf - 1] : prev_) == '\r';
    if (!crlf_) bare_lf_ = true;
  }
  prev_ = in[n - 1];
  line_start_ = lf != std::string_view::npos;
  pos_ += n;
  content(in.substr(0, n));
  return true;
}

// BDAT content: exactly the announced count of bytes, as sent (RFC 3030 2).
bool Session::bdat_step() {
  const std::string_view in = pending();
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(bdat_left_, in.size()));
  pos_ += n;
  if (n > 0) ++progress_;
  if (!bdat_discard_) content(in.substr(0, n));
  bdat_left_ -= n;
  if (bdat_left_ > 0) return false;
  mode_ = Mode::command;
  if (bdat_discard_) {
    reply(bdat_error_);
  } else if (bdat_last_) {
    end_of_message();
  } else if (too_big_) {
    // RFC 3030 2: after a failed chunk the transaction is over.
    reset_transaction();
    phase_ = P::helo;
    reply(552, "5.3.4", "Message size exceeds fixed limit");
  } else {
    reply(250, "2.0.0", cat("Ok: ", size_, " bytes"));
  }
  return true;
}

void Session::content(std::string_view bytes) {
  size_ += bytes.size();
  if (s_.message_size_limit && size_ > s_.message_size_limit) too_big_ = true;
  if (!too_big_ && msg_) msg_->feed(bytes);
}

void Session::end_of_message() {
  last_verb_ = "END-OF-MESSAGE";
  mode_ = Mode::command;
  Reply r;
  if (too_big_) {
    r = {552, "5.3.4", "Message size exceeds fixed limit"};
  } else if (bare_lf_) {
    r = {550, "5.5.2", std::string(kBareLf)};
  } else {
    // Input waits while the message is stored (the owner pauses reading),
    // so nothing pipelined after the end of data is acted on before the
    // reply; its answer may come inside commit() or later (committed()).
    mode_ = Mode::committing;
    commit_reply_.reset();
    in_commit_ = true;
    msg_->commit([this](Reply cr) { committed(std::move(cr)); });
    in_commit_ = false;
    if (commit_reply_) finish_commit();
    return;
  }
  reset_transaction();
  phase_ = P::helo;
  reply(r);
}

void Session::committed(Reply r) {
  if (mode_ != Mode::committing || commit_reply_) return;
  commit_reply_ = std::move(r);
  if (in_commit_) return;  // end_of_message() goes on when commit() returns
  finish_commit();
  process();
  flush();
}

// The store answered: the transaction ends (the Message goes, which the
// contract of Message::commit allows here) and the reply is due.
void Session::finish_commit() {
  Reply r = std::move(*commit_reply_);
  commit_reply_.reset();
  mode_ = Mode::command;
  if (r.code / 100 == 2) ++messages_;
  reset_transaction();
  phase_ = P::helo;
  reply(r);
}

void Session::timeout() {
  if (mode_ == Mode::closed) return;
  out_ += format_reply(421, "4.4.2", cat(s_.myhostname, " Error: timeout exceeded"));
  reset_transaction();
  mode_ = Mode::closed;
  flush();
}

std::string Session::state_name() const {
  if (mode_ == Mode::data) return cat("DATA (", size_, " bytes)");
  if (mode_ == Mode::bdat || (mode_ == Mode::command && bdat_used_))
    return cat("BDAT (", size_, " bytes)");
  if (mode_ == Mode::auth) return "AUTH";
  return last_verb_;
}

void Session::reset_transaction() {
  queue::ClientInfo client = env_.client;
  env_ = queue::Envelope{};
  env_.client = std::move(client);
  declared_size_ = 0;
  msg_.reset();
  size_ = 0;
  too_big_ = false;
  bare_lf_ = false;
  line_start_ = true;
  crlf_ = true;
  prev_ = '\n';
  bdat_used_ = false;
  bdat_left_ = 0;
  bdat_last_ = false;
  bdat_discard_ = false;
  overshoot_ = 0;
}

void Session::reply(int code, std::string_view enhanced, std::string_view text) {
  if (mode_ == Mode::closed) return;
  out_ += format_reply(code, enhanced, text);
  if (code < 400) return;
  sink_.refused({code, std::string(enhanced), std::string(text)}, env_, state_name(),
                last_verb_ == "RCPT" ? pending_rcpt_.address : "");
  // Every refusal counts towards smtpd_hard_error_limit (as in Postfix).
  if (++errors_ < s_.hard_error_limit) return;
  out_ += format_reply(421, "4.7.0", cat(s_.myhostname, " Error: too many errors"));
  reset_transaction();
  mode_ = Mode::closed;
}

// Neither counted nor logged, as in Postfix: a client that sends a long
// recipient list in one batch is not misbehaving, and one log line per
// surplus recipient would only flood the log.
void Session::reply_uncounted(int code, std::string_view enhanced, std::string_view text) {
  if (mode_ == Mode::closed) return;
  out_ += format_reply(code, enhanced, text);
}

void Session::flush() {
  if (out_.empty()) return;
  std::string out;
  out.swap(out_);
  send_(out);
}

}  // namespace posthorn::smtpd
