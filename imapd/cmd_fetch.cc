// imapd/cmd_fetch.cc - FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8).
//
// Steps: parse the set and the items; when a body item without PEEK is
// asked for, set \Seen on the unseen messages in one store() (one folder
// lock, not one per message); then answer message by message, reading a
// message's file only when an item needs its octets (ENVELOPE, BODY and
// BODYSTRUCTURE come from imapd/fetch_cache.h when they were made before;
// ENVELOPE and header sections need only the header). Messages expunged by
// another session meanwhile are left out and the tagged OK carries
// [EXPUNGEISSUED] (RFC 9051 7.1).
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "imapd/fetch_job.h"
#include "imapd/format.h"
#include "lib/base/strings.h"
#include "lib/mailstore/names.h"
#include "lib/mime/header.h"
#include "lib/mime/imap.h"
#include "lib/mime/message.h"
#include "lib/mime/section.h"
#include "lib/mime/transfer.h"

namespace posthorn::imapd {
namespace {

using K = FetchItem::Kind;

constexpr std::size_t kFetchFlushAt = 16 * 1024;
constexpr std::size_t kHeadChunk = 8192;

// The header section of a message (and maybe a little of its body): read
// until the header has ended, so that ENVELOPE costs one small read.
Result<std::string> read_head(mailstore::Folder& folder, std::uint32_t uid) {
  auto fd = folder.open_message(uid);
  if (!fd) return std::move(fd).error();
  std::string buf;
  std::size_t chunk = kHeadChunk;
  for (;;) {
    std::size_t at = buf.size();
    buf.resize(at + chunk);
    ssize_t n;
    do n = ::pread(fd->get(), buf.data() + at, chunk, static_cast<off_t>(at));
    while (n < 0 && errno == EINTR);
    if (n < 0) return sys_error(cat("read message ", uid));
    buf.resize(at + static_cast<std::size_t>(n));
    mime::HeaderBounds hb = mime::find_header_end(buf);
    if (n == 0 || hb.has_blank_line || hb.end < buf.size()) return buf;
    chunk *= 2;
  }
}

void literal(std::string& out, std::string_view s) {
  // A NUL can only travel in a literal8 (RFC 3516), which BINARY may send.
  if (s.find('\0') != std::string_view::npos) out += '~';
  out += '{';
  out += std::to_string(s.size());
  out += "}\r\n";
  out += s;
}

// One message's response line(s), from what the items need.
// The cache kind of an item whose string can be kept across sessions.
std::optional<FetchCache::Kind> cached_kind(K k) {
  switch (k) {
    case K::envelope: return FetchCache::Kind::envelope;
    case K::body: return FetchCache::Kind::body;
    case K::bodystructure: return FetchCache::Kind::bodystructure;
    default: return std::nullopt;
  }
}

// What of message `uid` must be read for `items`, the cache considered.
FetchData data_needed(const std::vector<FetchItem>& items, FetchCache& cache, std::uint32_t uid) {
  FetchData need = FetchData::none;
  for (const FetchItem& it : items) {
    if (it.data == FetchData::none) continue;
    if (auto k = cached_kind(it.kind); k && cache.find(uid, *k)) continue;
    need = std::max(need, it.data);
  }
  return need;
}

class Responder {
 public:
  Responder(const mailstore::Message& m, std::string_view data, bool recent, FetchCache& cache)
      : m_(m), data_(data), recent_(recent), cache_(cache) {}

  bool unknown_cte = false;  // a BINARY item met an encoding it cannot undo

  void item(const FetchItem& it, std::string& out) {
    switch (it.kind) {
      case K::flags:
        out += "FLAGS " + flag_list(m_.flags, m_.keywords, recent_);
        break;
      case K::uid:
        out += "UID " + std::to_string(m_.uid);
        break;
      case K::internaldate:
        out += "INTERNALDATE \"" + format_date_time(m_.internal_date) + "\"";
        break;
      case K::rfc822_size:
        out += "RFC822.SIZE " + std::to_string(m_.vsize);
        break;
      case K::envelope:
        out += "ENVELOPE ";
        out += cached(FetchCache::Kind::envelope, [&] { return mime::envelope(parsed()); });
        break;
      case K::body:
        out += "BODY ";
        out += cached(FetchCache::Kind::body, [&] { return mime::body_structure(parsed(), false); });
        break;
      case K::bodystructure:
        out += "BODYSTRUCTURE ";
        out += cached(FetchCache::Kind::bodystructure,
                      [&] { return mime::body_structure(parsed(), true); });
        break;
      case K::rfc822:
        out += "RFC822 ";
        section({}, std::nullopt, 0, out);
        break;
      case K::rfc822_header:
        out += "RFC822.HEADER ";
        section(text(mime::SectionSpec::Text::header), std::nullopt, 0, out);
        break;
      case K::rfc822_text:
        out += "RFC822.TEXT ";
        section(text(mime::SectionSpec::Text::text), std::nullopt, 0, out);
        break;
      case K::section:
        out += it.name + " ";
        section(it.spec, it.origin, it.count, out);
        break;
      case K::binary:
      case K::binary_size: {
        out += it.name + " ";
        auto d = binary(it.spec);
        if (!d) {
          unknown_cte = d.error().code == Errc::unsupported;
          out += it.kind == K::binary_size ? "0" : "NIL";
        } else if (it.kind == K::binary_size) {
          out += std::to_string(d->size());
        } else {
          literal(out, it.origin ? mime::partial(*d, *it.origin, it.count) : std::string_view(*d));
        }
        break;
      }
    }
  }

 private:
  static mime::SectionSpec text(mime::SectionSpec::Text t) {
    mime::SectionSpec s;
    s.text = t;
    return s;
  }

  // A part's content with its Content-Transfer-Encoding undone (RFC 3516),
  // line breaks as CRLF. Errors: Errc::not_found (no such part),
  // Errc::unsupported (an encoding other than 7bit, 8bit, binary, base64,
  // quoted-printable). A multipart or message part is sent as BODY would.
  Result<std::string> binary(const mime::SectionSpec& spec) {
    if (spec.part.empty()) return mime::to_crlf(data_);
    auto idx = mime::section_part(parsed(), spec.part);
    if (!idx) return idx.error();
    const mime::Part& p = parsed().parts[*idx];
    std::string_view raw = parsed().body(p);
    if (p.is_multipart() || p.is_message()) return mime::to_crlf(raw);
    const std::string& e = p.encoding;
    if (e == "7bit" || e == "8bit" || e == "binary") return mime::to_crlf(raw);
    if (e == "base64") return mime::base64_decode(raw).data;
    if (e == "quoted-printable") return mime::qp_decode(mime::to_crlf(raw)).data;
    return make_error(Errc::unsupported, "unknown Content-Transfer-Encoding");
  }

  // From the cache, or made now and kept there.
  template <class Make>
  std::string cached(FetchCache::Kind kind, Make make) {
    if (auto hit = cache_.find(m_.uid, kind)) return std::string(*hit);
    std::string v = make();
    cache_.add(m_.uid, kind, v);
    return v;
  }

  const mime::Message& parsed() {
    if (!parsed_) {
      parsed_ = mime::parse(data_);
    }
    return *parsed_;
  }

  // A part that does not exist is NIL (as Dovecot answers it). The whole
  // message is sent from the file's octets when they have no bare LF (the
  // sizes say so), without a converted copy.
  void section(const mime::SectionSpec& spec, std::optional<std::uint64_t> origin,
               std::uint64_t count, std::string& out) {
    std::string converted;
    std::string_view s;
    if (spec.part.empty() && spec.text == mime::SectionSpec::Text::none) {
      if (m_.vsize == m_.size && data_.size() == m_.size) {
        s = data_;
      } else {
        converted = mime::to_crlf(data_);
        s = converted;
      }
    } else {
      auto r = mime::fetch_section(parsed(), spec);
      if (!r) {
        out += "NIL";
        return;
      }
      converted = std::move(*r);
      s = converted;
    }
    literal(out, origin ? mime::partial(s, *origin, count) : s);
  }

  const mailstore::Message& m_;
  std::string_view data_;
  bool recent_;
  FetchCache& cache_;
  std::optional<mime::Message> parsed_;
};

}  // namespace

void Session::cmd_fetch(Command& c) {
  if (c.args.size() != 2) return bad(c.tag, "FETCH needs a sequence set and data items");
  auto seqs = message_set(c.tag, c.args[0]);
  if (!seqs) return;
  auto req = parse_fetch_items(c.args[1]);
  if (!req) return bad(c.tag, req.error().detail);
  auto job = std::make_unique<FetchJob>();
  job->tag = c.tag;
  job->uid = uid_;
  if (uid_ && !req->has(K::uid)) {
    FetchItem u;
    u.kind = K::uid;
    req->items.insert(req->items.begin(), u);
  }
  job->req = std::move(*req);
  job->seqs = std::move(*seqs);
  if (job->req.sets_seen && !view_->read_only()) {
    std::vector<std::uint32_t> unseen;
    for (std::uint32_t s : job->seqs) {
      const mailstore::Message* m = view_->message(s);
      if (m && !(m->flags & mailstore::kSeen)) unseen.push_back(m->uid);
    }
    if (!unseen.empty()) {
      auto r = view_->folder().store(unseen, mailstore::FlagOp::add, {mailstore::kSeen, {}});
      if (r) job->seen_now = std::move(unseen);
      else host_.log(cat("mailbox ", view_->folder().name(), ": setting \\Seen: ", r.error().detail));
    }
  }
  fetch_ = std::move(job);
  run_fetch();
}

bool Session::run_fetch() {
  FetchJob& j = *fetch_;
  while (j.next < j.seqs.size()) {
    if (host_.congested()) return false;
    std::uint32_t seq = j.seqs[j.next++];
    const mailstore::Message* mp = view_->message(seq);
    if (!mp) {
      j.expunged = true;
      continue;
    }
    mailstore::Message m = *mp;  // reading the file may rescan the folder
    std::string data;
    FetchData need = j.req.needs_data ? data_needed(j.req.items, view_->cache(), m.uid)
                                      : FetchData::none;
    if (need != FetchData::none) {
      auto d = need == FetchData::header ? read_head(view_->folder(), m.uid)
                                         : view_->folder().read_message(m.uid);
      if (!d) {
        if (d.error().code == Errc::not_found) {
          j.expunged = true;
        } else {
          j.failed = true;
          host_.log(cat("mailbox ", view_->folder().name(), ": ", d.error().detail));
        }
        continue;
      }
      data = std::move(*d);
    }
    bool seen_now = std::binary_search(j.seen_now.begin(), j.seen_now.end(), m.uid);
    if (seen_now) m.flags |= mailstore::kSeen;
    Responder r(m, data, view_->shows_recent(seq), view_->cache());
    out_ += "* " + std::to_string(seq) + " FETCH (";
    bool first = true;
    for (const FetchItem& it : j.req.items) {
      if (!first) out_ += ' ';
      first = false;
      r.item(it, out_);
    }
    if (seen_now && !j.req.has(K::flags)) {
      out_ += ' ';
      FetchItem f;
      r.item(f, out_);
    }
    out_ += ")\r\n";
    if (seen_now || j.req.has(K::flags)) view_->reported(seq, m.flags, m.keyword_bits);
    if (r.unknown_cte) j.unknown_cte = true;
    if (out_.size() >= kFetchFlushAt) flush();
  }
  view_->cache().flush();
  std::string tag = std::move(j.tag);
  bool expunged = j.expunged, failed = j.failed, unknown_cte = j.unknown_cte;
  uid_ = j.uid;
  fetch_.reset();
  if (failed) finish(tag, "NO", "[UNAVAILABLE] Some messages could not be read");
  else if (unknown_cte) finish(tag, "NO", "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
  else if (expunged) finish(tag, "OK", "[EXPUNGEISSUED] Some messages were expunged");
  else finish(tag, "OK", "FETCH completed");
  return true;
}

void Session::output_drained() {
  if (!fetch_) return;
  bool done = run_fetch();
  flush();
  if (done) host_.resume();
}

}  // namespace posthorn::imapd
