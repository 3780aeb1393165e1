// lib/cleanup/cleanup.cc - streaming intake: line splitting, the header
// section, limits, then completing and committing the message.
#include "lib/cleanup/cleanup.h"

#include <algorithm>
#include <utility>

#include "lib/address/header.h"
#include "lib/base/strings.h"
#include "lib/cleanup/added_headers.h"
#include "lib/config/config.h"
#include "lib/log/log.h"

namespace posthorn::cleanup {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 3.6.8 field name (printable ASCII but ':'), then optional blanks
// (obs-optional, 4.5.8), then ':'. Returns the name, or "" when `line` is not
// a header line.
std::string_view field_name(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size()) {
    auto u = static_cast<unsigned char>(line[i]);
    if (u < 33 || u > 126 || u == ':') break;
    ++i;
  }
  if (i == 0) return {};
  std::size_t j = i;
  while (j < line.size() && is_blank(line[j])) ++j;
  if (j == line.size() || line[j] != ':') return {};
  return line.substr(0, i);
}

}  // namespace

CleanupSettings CleanupSettings::from_config(const config::Config& cfg) {
  CleanupSettings s;
  s.myhostname = cfg.get("myhostname");
  s.myorigin = cfg.get("myorigin");
  s.mail_name = cfg.get("mail_name");
  s.message_size_limit = static_cast<std::uint64_t>(cfg.get_size("message_size_limit"));
  s.header_size_limit = static_cast<std::size_t>(cfg.get_size("header_size_limit"));
  s.hopcount_limit = static_cast<std::size_t>(cfg.get_int("hopcount_limit"));
  s.always_add_missing_headers = cfg.get_bool("always_add_missing_headers");
  s.received_auth = cfg.get_bool("smtpd_sasl_authenticated_header");
  return s;
}

Reply smtp_reply(Status s) {
  switch (s) {
    case Status::ok: return {250, "2.0.0", "Ok"};
    case Status::too_big: return {552, "5.3.4", "Message size exceeds fixed limit"};
    case Status::too_many_hops: return {554, "5.4.6", "Too many hops"};
    case Status::too_many_headers: return {552, "5.3.4", "Message header too large"};
    case Status::bad_header: return {550, "5.6.0", "Bad address syntax in message header"};
    case Status::no_recipients: return {554, "5.5.1", "No recipients specified"};
    case Status::write_error: return {451, "4.3.0", "Error: queue file write error"};
  }
  return {451, "4.3.0", "Error: internal error"};
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::too_big: return "too_big";
    case Status::too_many_hops: return "too_many_hops";
    case Status::too_many_headers: return "too_many_headers";
    case Status::bad_header: return "bad_header";
    case Status::no_recipients: return "no_recipients";
    case Status::write_error: return "write_error";
  }
  return "unknown";
}

Cleanup::Cleanup(CleanupSettings settings, queue::Envelope env)
    : s_(std::move(settings)), env_(std::move(env)) {}

// Once a limit is hit the message is refused: drop what was kept and keep
// nothing more, so memory stays bounded while the input is drained. The first
// refusal found in the content stands, except that too_big replaces it: the
// size is known only at the end, and otherwise the answer would depend on
// where the input was split.
void Cleanup::fail(Status s) {
  if (status_ == Status::ok || s == Status::too_big) status_ = s;
  std::string().swap(line_);
  std::string().swap(field_);
  std::string().swap(in_headers_);
  std::string().swap(body_);
  recipient_fields_.clear();
  field_open_ = false;
}

void Cleanup::feed(std::string_view bytes) {
  if (finished_) log::panic("cleanup: feed() after finish()");
  observed_.size += bytes.size();
  if (s_.message_size_limit != 0 && observed_.size > s_.message_size_limit) fail(Status::too_big);
  if (status_ != Status::ok) return;
  scan(bytes);
}

// Splits the input into lines. CRLF and bare LF end a line; a CR is held back
// until the next byte shows whether it starts a CRLF, which is what makes
// the result independent of the split.
void Cleanup::scan(std::string_view bytes) {
  while (!bytes.empty() && status_ == Status::ok) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        end_line();
        continue;
      }
      ++observed_.bare_cr;
      body_bytes("\r");
    }
    std::size_t i = bytes.find_first_of("\r\n");
    body_bytes(bytes.substr(0, i));
    if (i == std::string_view::npos) return;
    if (bytes[i] == '\r') {
      pending_cr_ = true;
    } else {
      ++observed_.bare_lf;
      end_line();
    }
    bytes.remove_prefix(i + 1);
  }
}

// Bytes of the current line: in the body they are stored at once; in the
// header section they wait for the line end, but never more than
// header_size_limit of them (bound_header_line()).
void Cleanup::body_bytes(std::string_view bytes) {
  if (in_body_) {
    body_.append(bytes);
    return;
  }
  if (line_truncated_) return;
  line_.append(bytes);
  if (line_.size() > s_.header_size_limit) bound_header_line();
}

// A header-section line has grown past header_size_limit before its end. A
// header field (or a continuation of one) keeps its first header_size_limit
// bytes and drops the rest as it arrives, as start_field() would; any other
// line is the first body line and goes to the body whole. The decision looks
// at the first header_size_limit + 1 bytes only, so it is the same however
// the input was split.
void Cleanup::bound_header_line() {
  const std::string_view head = std::string_view(line_).substr(0, s_.header_size_limit + 1);
  const bool continuation = field_open_ && is_blank(head.front());
  if (!continuation && field_name(head).empty()) {
    close_field();
    if (status_ != Status::ok) return;
    start_body(false);
    body_.swap(line_);
    line_.clear();
    return;
  }
  line_.resize(s_.header_size_limit);
  line_truncated_ = true;
}

void Cleanup::end_line() {
  if (in_body_) {
    body_ += "\r\n";
    return;
  }
  std::string line = std::exchange(line_, {});
  const bool truncated = std::exchange(line_truncated_, false);
  header_line(line);
  // A cut continuation line cannot fit and is dropped by fold_into_field();
  // a cut first line opened its field, which is now known to be cut too.
  if (truncated && field_open_) field_truncated_ = true;
}

void Cleanup::header_line(std::string_view line) {
  if (!line.empty() && is_blank(line.front()) && field_open_) {
    fold_into_field(line);
    return;
  }
  // Any other line completes the open field, whose checks may refuse the
  // message; then nothing more is kept.
  close_field();
  if (status_ != Status::ok) return;
  if (line.empty()) {
    start_body(true);
  } else if (field_name(line).empty()) {
    // Not a header line: the body starts here (Postfix's MIME parser does
    // the same); the empty line that should have come first is inserted.
    start_body(false);
    body_.append(line);
    body_ += "\r\n";
  } else {
    start_field(line);
  }
}

void Cleanup::start_field(std::string_view line) {
  if (++observed_.header_count > s_.max_header_count) {
    fail(Status::too_many_headers);
    return;
  }
  field_open_ = true;
  field_truncated_ = false;
  if (line.size() > s_.header_size_limit) {
    line = line.substr(0, s_.header_size_limit);
    field_truncated_ = true;
  }
  field_.assign(line);
}

// header_size_limit counts the field with its folds. Continuation lines that
// do not fit are dropped whole, so the field still ends at a line boundary.
void Cleanup::fold_into_field(std::string_view line) {
  if (field_truncated_ || field_.size() + 2 + line.size() > s_.header_size_limit) {
    field_truncated_ = true;
    return;
  }
  field_ += "\r\n";
  field_.append(line);
}

void Cleanup::close_field() {
  if (!field_open_) return;
  field_open_ = false;
  if (field_truncated_) {
    ++observed_.truncated_headers;
    log::warn("cleanup: header ", printable(field_.substr(0, 40)), "... exceeds header_size_limit ",
              s_.header_size_limit, ": truncated");
  }
  std::string_view text = field_;
  keep_field(to_lower(field_name(text)), text);
  field_.clear();
}

void Cleanup::keep_field(std::string_view name, std::string_view text) {
  std::string_view value = text.substr(text.find(':') + 1);
  if (name == "received" && ++observed_.hops > s_.hopcount_limit) {
    fail(Status::too_many_hops);
    return;
  }
  if (name == "date") seen_date_ = true;
  if (name == "from") seen_from_ = true;
  if (name == "message-id") {
    if (!seen_message_id_) message_id_ = std::string(trim(value));
    seen_message_id_ = true;
  }
  if (s_.extract_recipients && (name == "to" || name == "cc" || name == "bcc"))
    recipient_fields_.emplace_back(value);
  for (const std::string& d : s_.drop_headers)
    if (iequals(d, name)) return;
  in_headers_.append(text);
  in_headers_ += "\r\n";
}

void Cleanup::start_body(bool terminated) {
  in_body_ = true;
  observed_.header_terminated = terminated;
}

Result<void> Cleanup::finish() {
  if (finish_result_) return *finish_result_;
  finished_ = true;
  if (status_ == Status::ok) {
    if (pending_cr_) {
      // A CR as the very last byte: bare, and it ends no line.
      pending_cr_ = false;
      ++observed_.bare_cr;
      body_bytes("\r");
    }
    // A last line without a line end gets one (the stored form is CRLF).
    if (in_body_ ? (!body_.empty() && !body_.ends_with("\r\n")) : !line_.empty()) end_line();
    if (!in_body_) close_field();
  }
  finish_result_ = check_and_complete();
  return *finish_result_;
}

Result<void> Cleanup::check_and_complete() {
  auto refuse = [this](Errc code, std::string detail) -> Result<void> {
    return Error{code, cat("cleanup: ", status_name(status_), ": ", detail)};
  };
  switch (status_) {
    case Status::ok: break;
    case Status::too_big:
      return refuse(Errc::too_large, cat(observed_.size, " bytes > message_size_limit ",
                                         s_.message_size_limit));
    case Status::too_many_hops:
      return refuse(Errc::protocol, cat("more than ", s_.hopcount_limit, " Received headers"));
    case Status::too_many_headers:
      return refuse(Errc::too_large, cat("more than ", s_.max_header_count, " header fields"));
    default: return refuse(Errc::invalid, "unexpected state");
  }
  qualify_envelope();
  if (s_.extract_recipients) {
    if (auto r = extract_recipients(); !r) {
      status_ = Status::bad_header;
      return refuse(Errc::parse, r.error().detail);
    }
  }
  if (env_.recipients.empty()) {
    status_ = Status::no_recipients;
    return refuse(Errc::invalid, "no recipients");
  }
  auto now = s_.now.value_or(std::chrono::system_clock::now());
  out_headers_ = received_field(s_, env_, now);
  out_headers_ += in_headers_;
  out_headers_ += added_headers(now);
  out_headers_ += "\r\n";
  std::string().swap(in_headers_);
  return {};
}

// Postfix qualifies bare envelope addresses with myorigin, whatever the
// origin (trivial-rewrite's append_at_myorigin in the "local" context): a
// local "root", or "<postmaster>" from SMTP (RFC 5321 4.5.1).
void Cleanup::qualify_envelope() {
  env_.sender = qualify(env_.sender, s_.myorigin);
  for (queue::Recipient& r : env_.recipients) r.address = qualify(r.address, s_.myorigin);
}

Result<void> Cleanup::extract_recipients() {
  address::Options opts;
  opts.smtputf8 = true;
  for (const std::string& value : recipient_fields_) {
    auto list = address::parse_address_list(value, opts);
    if (!list) return Error{list.error().code, cat("To/Cc/Bcc: ", list.error().detail)};
    for (const address::Mailbox& m : address::all_mailboxes(*list)) {
      address::Mailbox q = m;
      if (!q.qualified()) q.domain = s_.myorigin;
      std::string a = address::to_string(q);
      bool dup = std::any_of(env_.recipients.begin(), env_.recipients.end(),
                             [&](const queue::Recipient& r) { return r.address == a; });
      if (dup) continue;
      queue::Recipient r;
      r.address = std::move(a);
      env_.recipients.push_back(std::move(r));
    }
  }
  recipient_fields_.clear();
  return {};
}

std::string Cleanup::added_headers(std::chrono::system_clock::time_point now) {
  if (s_.origin != Origin::local && !s_.always_add_missing_headers) return {};
  std::string out;
  if (!seen_date_) out += cat("Date: ", rfc5322_date(now), "\r\n");
  if (!seen_message_id_) {
    message_id_ = new_message_id(now, s_.myhostname);
    out += cat("Message-ID: ", message_id_, "\r\n");
  }
  if (!seen_from_) out += from_field(s_, env_.sender);
  return out;
}

Result<queue::QueueId> Cleanup::commit(const queue::Spool& spool, queue::WriteOptions opts) {
  if (auto r = finish(); !r) return r.error();
  auto id = queue::write_queue_file(spool, env_, out_headers_, body_, opts);
  if (!id) {
    status_ = Status::write_error;
    return id.error();
  }
  return id;
}

}  // namespace posthorn::cleanup
