// imapd/session.cc - input, dispatch, output, and the commands valid in
// every state (CAPABILITY, NOOP, LOGOUT, ID, ENABLE, NAMESPACE).
//
// feed() runs one step at a time: a command line (with its literals) through
// the CommandReader, or a raw line while AUTHENTICATE or IDLE wait for one.
// A command either completes inside dispatch() (finish() writes the tagged
// response), or leaves the session waiting (the auth service, a TLS
// handshake, a congested output) and completes later from a Host callback.
#include "imapd/session.h"

#include <algorithm>

#include "imapd/fetch_job.h"
#include "imapd/format.h"
#include "imapd/mailbox_name.h"
#include "imapd/sequence.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"

namespace posthorn::imapd {
namespace {

using S = Session::State;

constexpr unsigned bit(S s) { return 1u << static_cast<unsigned>(s); }
constexpr unsigned kNotAuth = bit(S::not_authenticated);
constexpr unsigned kAuthed = bit(S::authenticated) | bit(S::selected);
constexpr unsigned kSelected = bit(S::selected);
constexpr unsigned kAny = kNotAuth | kAuthed;

// Verb flags.
constexpr unsigned kUidForm = 1;     // also valid after UID
constexpr unsigned kSeqNumbers = 2;  // RFC 3501 7.4.1: no EXPUNGE responses while it runs

constexpr std::size_t kFlushAt = 64 * 1024;  // output batched up to this size

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

const Session::Verb Session::kVerbs[] = {
    {"CAPABILITY", &Session::cmd_capability, kAny, 0},
    {"NOOP", &Session::cmd_noop, kAny, 0},
    {"LOGOUT", &Session::cmd_logout, kAny, 0},
    {"ID", &Session::cmd_id, kAny, 0},
    {"STARTTLS", &Session::cmd_starttls, kNotAuth, 0},
    {"LOGIN", &Session::cmd_login, kNotAuth, 0},
    {"AUTHENTICATE", &Session::cmd_authenticate, kNotAuth, 0},
    {"ENABLE", &Session::cmd_enable, bit(S::authenticated), 0},
    {"NAMESPACE", &Session::cmd_namespace, kAuthed, 0},
    {"SELECT", &Session::cmd_select, kAuthed, 0},
    {"EXAMINE", &Session::cmd_examine, kAuthed, 0},
    {"CREATE", &Session::cmd_create, kAuthed, 0},
    {"DELETE", &Session::cmd_delete, kAuthed, 0},
    {"RENAME", &Session::cmd_rename, kAuthed, 0},
    {"SUBSCRIBE", &Session::cmd_subscribe, kAuthed, 0},
    {"UNSUBSCRIBE", &Session::cmd_unsubscribe, kAuthed, 0},
    {"LIST", &Session::cmd_list, kAuthed, 0},
    {"LSUB", &Session::cmd_lsub, kAuthed, 0},
    {"STATUS", &Session::cmd_status, kAuthed, 0},
    {"APPEND", &Session::cmd_append, kAuthed, 0},
    {"IDLE", &Session::cmd_idle, kAuthed, 0},
    {"CHECK", &Session::cmd_check, kSelected, 0},
    {"CLOSE", &Session::cmd_close, kSelected, 0},
    {"UNSELECT", &Session::cmd_unselect, kSelected, 0},
    {"EXPUNGE", &Session::cmd_expunge, kSelected, kUidForm},
    {"FETCH", &Session::cmd_fetch, kSelected, kUidForm | kSeqNumbers},
    {"STORE", &Session::cmd_store, kSelected, kUidForm | kSeqNumbers},
    {"SEARCH", &Session::cmd_search, kSelected, kUidForm | kSeqNumbers},
    {"COPY", &Session::cmd_copy, kSelected, kUidForm},
    {"MOVE", &Session::cmd_move, kSelected, kUidForm},
};

Session::Session(Settings settings, Host& host)
    : s_(std::move(settings)), host_(host), reader_(s_.limits) {
  // Before login nobody may make us hold more than a command line's worth.
  reader_.set_max_literal(std::min<std::uint64_t>(s_.limits.max_literal, s_.limits.max_line));
}

Session::~Session() = default;

void Session::start() {
  out_ += cat("* OK [CAPABILITY ", capabilities(), "] ", s_.banner, "\r\n");
  flush();
}

bool Session::waiting() const { return waiting_auth_ || mode_ == Mode::tls || fetch_ != nullptr; }

std::size_t Session::feed(std::string_view in) {
  std::size_t used = 0;
  while (!finished() && !waiting()) {
    std::size_t n = 0;
    bool more = step(in.substr(used), n);
    used += n;
    if (!more) break;
  }
  flush();
  return used;
}

bool Session::step(std::string_view in, std::size_t& used) {
  std::string line;
  switch (mode_) {
    case Mode::command:
      return command_step(in, used);
    case Mode::sasl:
      if (!raw_line(in, used, line)) return false;
      sasl_response(line);
      return true;
    case Mode::idle:
      if (!raw_line(in, used, line)) return false;
      idle_line(line);
      return true;
    case Mode::tls:
      return false;
  }
  return false;
}

bool Session::raw_line(std::string_view in, std::size_t& used, std::string& line) {
  std::size_t lf = in.find('\n');
  if (lf == std::string_view::npos) {
    if (in.size() > s_.limits.max_line) bye("[TOOBIG] Line too long");
    return false;
  }
  if (lf + 1 > s_.limits.max_line) {
    bye("[TOOBIG] Line too long");
    return false;
  }
  used = lf + 1;
  line.assign(in.substr(0, lf));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool Session::command_step(std::string_view in, std::size_t& used) {
  using E = CommandReader::Event;
  switch (reader_.step(in, used)) {
    case E::need_more:
      return false;
    case E::command: {
      Command c = reader_.take();
      dispatch(c);
      return true;
    }
    case E::literal:
      out_ += "+ Ready for literal data\r\n";
      return true;
    case E::literal_too_big: {
      if (!reader_.literal_sync()) {
        // The client sends it anyway; we will not read that much.
        bye("[TOOBIG] Literal too big");
        return false;
      }
      std::string tag = reader_.tag().empty() ? "*" : reader_.tag();
      out_ += cat(tag, " NO [TOOBIG] Literal too big (the limit is ", reader_.limits().max_literal,
                  " octets)\r\n");
      return true;
    }
    case E::bad:
      bad(reader_.tag().empty() ? "*" : reader_.tag(), cat("Error in IMAP command: ", reader_.error()));
      return true;
    case E::line_too_long:
      bye("[TOOBIG] Command line too long");
      return false;
  }
  return false;
}

const Session::Verb* Session::find_verb(std::string_view name, bool uid) const {
  for (const Verb& v : kVerbs)
    if (v.name == name) return uid && !(v.flags & kUidForm) ? nullptr : &v;
  return nullptr;
}

void Session::dispatch(Command& c) {
  tag_ = c.tag;
  uid_ = false;
  if (c.name == "UID") {
    if (c.args.empty() || !c.args[0].is_atom()) return bad(c.tag, "Missing UID command");
    c.name = upper(c.args[0].text);
    c.args.erase(c.args.begin());
    uid_ = true;
  }
  const Verb* v = find_verb(c.name, uid_);
  if (!v) return bad(c.tag, "Unknown command");
  if (!(v->states & bit(state_))) {
    if (state_ == S::not_authenticated) return bad(c.tag, "Log in first");
    return bad(c.tag, "Command not valid in this state");
  }
  allow_expunge_ = uid_ || !(v->flags & kSeqNumbers);
  (this->*v->run)(c);
}

// --- output ----------------------------------------------------------------

void Session::untagged(std::string_view line) {
  out_ += line;
  out_ += "\r\n";
  if (out_.size() >= kFlushAt) flush();
}

void Session::send_raw(std::string_view bytes) {
  out_ += bytes;
  if (out_.size() >= kFlushAt) flush();
}

void Session::flush() {
  if (out_.empty()) return;
  host_.send(out_);
  out_.clear();
}

void Session::finish(const std::string& tag, std::string_view status, std::string_view text) {
  if (state_ == S::selected && view_) report_changes(allow_expunge_);
  if (finished()) return;  // the report ended the session
  out_ += cat(tag, " ", status, " ", text, "\r\n");
}

void Session::bad(const std::string& tag, std::string_view text) {
  out_ += cat(tag, " BAD ", text, "\r\n");
  if (++bad_ >= kMaxBadCommands) bye("Too many invalid IMAP commands");
}

void Session::bye(std::string_view text) {
  if (finished()) return;
  out_ += cat("* BYE ", text, "\r\n");
  if (mode_ == Mode::idle) host_.unwatch();
  state_ = S::logout;
  view_.reset();
  fetch_.reset();
  flush();
}

void Session::report_changes(bool allow_expunge) {
  auto r = view_->update(true, allow_expunge, uid_, out_);
  if (r) return;
  if (r.error().code == Errc::corrupt || r.error().code == Errc::not_found) {
    host_.log(cat("mailbox ", view_->folder().name(), ": ", r.error().detail));
    bye("Selected mailbox was deleted or its UIDVALIDITY changed, have to disconnect");
    return;
  }
  host_.log(cat("mailbox ", view_->folder().name(), ": ", r.error().detail));  // try again later
}

std::string Session::capabilities() const {
  std::string caps = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE";
  if (state_ == S::not_authenticated) {
    if (s_.tls_available && !s_.tls_active) caps += " STARTTLS";
    caps += s_.tls_active || s_.plaintext_auth ? " AUTH=PLAIN AUTH=LOGIN" : " LOGINDISABLED";
    return caps;
  }
  return cat(caps, " NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS",
             " ESEARCH BINARY STATUS=SIZE UTF8=ACCEPT APPENDLIMIT=", s_.limits.max_literal);
}

// --- helpers for commands ------------------------------------------------------

std::optional<std::vector<std::uint32_t>> Session::message_set(const std::string& tag,
                                                               const Value& v) {
  if (!v.is_atom()) {
    bad(tag, "Invalid sequence set");
    return std::nullopt;
  }
  auto set = SequenceSet::parse(v.text);
  if (!set) {
    bad(tag, set.error().detail);
    return std::nullopt;
  }
  std::vector<std::uint32_t> seqs;
  const std::uint32_t exists = view_->exists();
  if (uid_) {
    std::uint32_t star = exists ? view_->at(exists).uid : 0;
    auto ranges = set->resolve(star);
    for (std::uint32_t seq = 1; seq <= exists; ++seq)
      if (contains(ranges, view_->at(seq).uid)) seqs.push_back(seq);
    return seqs;
  }
  if (set->largest() > exists) {
    bad(tag, "Invalid message sequence number");
    return std::nullopt;
  }
  for (SeqRange r : set->resolve(exists))
    for (std::uint64_t n = r.lo; n <= r.hi && n <= exists; ++n)
      seqs.push_back(static_cast<std::uint32_t>(n));
  return seqs;
}

bool Session::mailbox_arg(const std::string& tag, const Value& v, std::string& name,
                          bool new_name) {
  if (!v.is_astring()) {
    bad(tag, "Invalid mailbox name");
    return false;
  }
  std::string given = v.text;
  if (utf8_) {
    auto m = utf8_to_mutf7(given);
    if (!m) {
      finish(tag, "NO", cat(new_name ? "[CANNOT] " : "[NONEXISTENT] ", "Mailbox name is not UTF-8"));
      return false;
    }
    given = std::move(*m);
  }
  auto n = store_name(given, new_name);
  if (!n) {
    finish(tag, "NO", cat(new_name ? "[CANNOT] " : "[NONEXISTENT] ", n.error().detail));
    return false;
  }
  name = std::move(*n);
  return true;
}

std::string Session::mailbox_out(std::string_view name) const {
  if (!utf8_) return mailbox_astring(name);
  auto u = mutf7_to_utf8(name);
  return quote_utf8(u ? *u : std::string(name));
}

void Session::store_error(const std::string& tag, const Error& e, std::string_view what) {
  std::string_view code;
  switch (e.code) {
    case Errc::not_found: code = "[NONEXISTENT] "; break;
    case Errc::exists: code = "[ALREADYEXISTS] "; break;
    case Errc::invalid: code = "[CANNOT] "; break;
    case Errc::too_large: code = "[LIMIT] "; break;
    case Errc::permission: code = "[NOPERM] "; break;
    case Errc::busy: code = "[INUSE] "; break;
    default:
      host_.log(cat(what, ": ", e.detail));
      return finish(tag, "NO", cat("[UNAVAILABLE] ", what, " failed: internal error"));
  }
  finish(tag, "NO", cat(code, what, " failed"));
}

void Session::login_done(const std::string& login) {
  auto store = host_.open_store(login);
  if (!store) {
    host_.log(cat("user=", login, ": cannot open the mail store: ", store.error().detail));
    return finish(tag_, "NO", "[UNAVAILABLE] Mailbox is not available, try again later");
  }
  user_ = login;
  store_.emplace(std::move(*store));
  if (auto r = create_special_folders(*store_, s_.special_use); !r)
    host_.log(cat("user=", login, ": creating the special-use folders: ", r.error().detail));
  state_ = S::authenticated;
  reader_.set_max_literal(s_.limits.max_literal);
  host_.log(cat("login: user=", login));
  finish(tag_, "OK", cat("[CAPABILITY ", capabilities(), "] Logged in"));
}

// --- any state ------------------------------------------------------------

void Session::cmd_capability(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "CAPABILITY takes no arguments");
  untagged(cat("* CAPABILITY ", capabilities()));
  finish(c.tag, "OK", "Capability completed");
}

void Session::cmd_noop(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "NOOP takes no arguments");
  finish(c.tag, "OK", "NOOP completed");
}

void Session::cmd_logout(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "LOGOUT takes no arguments");
  out_ += "* BYE Logging out\r\n";
  out_ += cat(c.tag, " OK Logout completed\r\n");
  state_ = S::logout;
  view_.reset();
}

// RFC 2971: NIL, or a list of at most 30 field/value pairs.
void Session::cmd_id(Command& c) {
  if (c.args.size() != 1) return bad(c.tag, "ID takes one argument");
  const Value& a = c.args[0];
  if (a.is_list()) {
    if (a.items.size() % 2 != 0 || a.items.size() > 60) return bad(c.tag, "Invalid ID list");
    std::string client;
    for (std::size_t i = 0; i < a.items.size(); i += 2) {
      const Value& k = a.items[i];
      const Value& val = a.items[i + 1];
      if (!k.is_string() || (!val.is_string() && !val.is_nil())) return bad(c.tag, "Invalid ID list");
      if (val.is_string() && (iequals(k.text, "name") || iequals(k.text, "version")))
        client += cat(client.empty() ? "" : " ", k.text, "=", val.text.substr(0, 64));
    }
    if (!client.empty()) host_.log(cat("client id: ", client));
  } else if (!a.is_nil()) {
    return bad(c.tag, "Invalid ID argument");
  }
  untagged("* ID (\"name\" \"Posthorn\")");
  finish(c.tag, "OK", "ID completed");
}

// RFC 5161: IMAP4rev2 (RFC 9051) and UTF8=ACCEPT (RFC 6855) can be enabled;
// other names are ignored, as the RFC says.
void Session::cmd_enable(Command& c) {
  if (c.args.empty()) return bad(c.tag, "ENABLE needs a capability");
  std::string enabled;
  for (const Value& v : c.args) {
    if (!v.is_atom()) return bad(c.tag, "Invalid capability");
    if (v.is("IMAP4rev2") && !rev2_) {
      rev2_ = utf8_ = true;
      enabled += " IMAP4rev2";
    } else if (v.is("UTF8=ACCEPT") && !utf8_) {
      utf8_ = true;
      enabled += " UTF8=ACCEPT";
    }
  }
  untagged(cat("* ENABLED", enabled));
  finish(c.tag, "OK", "ENABLE completed");
}

void Session::cmd_namespace(Command& c) {
  if (!c.args.empty()) return bad(c.tag, "NAMESPACE takes no arguments");
  untagged(cat("* NAMESPACE ((\"\" \"", kSeparator, "\")) NIL NIL"));
  finish(c.tag, "OK", "NAMESPACE completed");
}

}  // namespace posthorn::imapd
