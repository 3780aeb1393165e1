// lib/queue/codec.cc - see codec.h and FORMAT.md.
#include "lib/queue/codec.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "lib/base/strings.h"

namespace posthorn::queue {
namespace {

// Record types, in the order a version-1 file holds them (FORMAT.md).
constexpr char kRecId = 'I', kRecMeta = 'M', kRecSender = 'S', kRecEnvid = 'E',
               kRecClientName = 'N', kRecClientAddr = 'A', kRecHelo = 'H', kRecProtocol = 'P',
               kRecSaslUser = 'U', kRecRcpt = 'R', kRecHeaders = 'h', kRecBody = 'B',
               kRecEnd = 'Z';
constexpr std::size_t kRecordHeader = 5;  // type byte + 32-bit length
constexpr std::size_t kMetaSize = 24;
constexpr std::size_t kFileHeader = 12;   // magic + version
constexpr std::size_t kMinRcptPayload = kStatusBlockSize + 1 + 3 * 4 + 1;
constexpr std::uint8_t kMetaSmtputf8 = 1;

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

void put_record(std::string& out, char type, std::string_view payload) {
  out.push_back(type);
  put_be(out, payload.size(), 4);
  out.append(payload);
}

void put_string(std::string& out, std::string_view s) {
  put_be(out, s.size(), 4);
  out.append(s);
}

Error corrupt(std::size_t offset, std::string_view what) {
  return make_error(Errc::corrupt, cat("offset ", offset, ": ", what));
}

}  // namespace

bool notify_valid(std::uint8_t n) {
  if (n == kNotifyNever) return true;
  return (n & ~(kNotifySuccess | kNotifyFailure | kNotifyDelay)) == 0;
}

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc ^= 0xFFFFFFFFu;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::array<char, kStatusBlockSize> encode_status(const RecipientStatus& s) {
  std::string b;
  b.push_back(static_cast<char>(s.state));
  b.push_back(static_cast<char>(s.flags));
  put_be(b, 0, 2);
  put_be(b, s.attempts, 4);
  put_be(b, static_cast<std::uint64_t>(s.last_attempt), 8);
  put_be(b, static_cast<std::uint64_t>(s.next_attempt), 8);
  std::array<char, kStatusBlockSize> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

// What is wrong with a status block, or nullptr. Shared by decode_status()
// and the parser, which reports the offset.
static const char* status_problem(std::string_view b) {
  if (b.size() != kStatusBlockSize) return "status block has the wrong size";
  if (static_cast<unsigned char>(b[0]) > static_cast<unsigned char>(RcptState::bounced))
    return "unknown recipient state";
  if ((static_cast<unsigned char>(b[1]) & ~kKnownStatusFlags) != 0)
    return "unknown recipient status flags";
  if (b[2] != 0 || b[3] != 0) return "reserved status bytes are not zero";
  return nullptr;
}

Result<RecipientStatus> decode_status(std::string_view b) {
  if (const char* why = status_problem(b)) return make_error(Errc::corrupt, why);
  RecipientStatus s;
  s.state = static_cast<RcptState>(b[0]);
  s.flags = static_cast<std::uint8_t>(b[1]);
  s.attempts = static_cast<std::uint32_t>(get_be(b, 4, 4));
  s.last_attempt = static_cast<std::int64_t>(get_be(b, 8, 8));
  s.next_attempt = static_cast<std::int64_t>(get_be(b, 16, 8));
  return s;
}

// ---------------------------------------------------------------- encoding

static Result<void> check_encodable(const QueueId& id, const Envelope& e, std::size_t hsize,
                                     std::size_t bsize) {
  if (id.empty()) return make_error(Errc::invalid, "queue file without a queue ID");
  if (e.recipients.empty()) return make_error(Errc::invalid, "message has no recipients");
  if (static_cast<unsigned>(e.body_type) > 3 || static_cast<unsigned>(e.ret) > 2)
    return make_error(Errc::invalid, "body type or DSN RET out of range");
  const ClientInfo& c = e.client;
  for (const std::string* s : {&e.sender, &e.envid, &c.name, &c.addr, &c.helo, &c.protocol,
                               &c.sasl_user})
    if (s->size() > kMaxEnvelopeField) return make_error(Errc::too_large, "envelope field too long");
  for (const Recipient& r : e.recipients) {
    if (r.address.empty()) return make_error(Errc::invalid, "empty recipient address");
    if (r.address.size() > kMaxEnvelopeField || r.original.size() > kMaxEnvelopeField ||
        r.orcpt.size() > kMaxEnvelopeField)
      return make_error(Errc::too_large, "recipient field too long");
    if (!notify_valid(r.notify)) return make_error(Errc::invalid, "bad NOTIFY combination");
    if (static_cast<unsigned>(r.status.state) > 3 || (r.status.flags & ~kKnownStatusFlags) != 0)
      return make_error(Errc::invalid, "bad recipient status");
  }
  if (hsize > 0xFFFFFFFFu || bsize > 0xFFFFFFFFu)
    return make_error(Errc::too_large, "message content of 4 GiB or more");
  return {};
}

static std::string encode_meta(const Envelope& e, std::uint64_t message_size) {
  std::string m;
  put_be(m, static_cast<std::uint64_t>(e.arrival_us), 8);
  put_be(m, message_size, 8);
  m.push_back(static_cast<char>(e.body_type));
  m.push_back(static_cast<char>(e.smtputf8 ? kMetaSmtputf8 : 0));
  m.push_back(static_cast<char>(e.ret));
  m.push_back(0);
  put_be(m, e.recipients.size(), 4);
  return m;
}

// Everything before the content: header, envelope, recipients, and the
// headers record's type and length. Appends each status block's offset.
static std::string encode_envelope(const QueueId& id, const Envelope& e, std::size_t hsize,
                                   std::size_t bsize, std::vector<std::size_t>& status_at) {
  std::string out(kMagic);
  put_be(out, kFormatVersion, 4);
  put_record(out, kRecId, id.str());
  put_record(out, kRecMeta, encode_meta(e, hsize + bsize));
  put_record(out, kRecSender, e.sender);
  put_record(out, kRecEnvid, e.envid);
  put_record(out, kRecClientName, e.client.name);
  put_record(out, kRecClientAddr, e.client.addr);
  put_record(out, kRecHelo, e.client.helo);
  put_record(out, kRecProtocol, e.client.protocol);
  put_record(out, kRecSaslUser, e.client.sasl_user);
  for (const Recipient& r : e.recipients) {
    std::string p;
    auto st = encode_status(r.status);
    p.append(st.data(), st.size());
    p.push_back(static_cast<char>(r.notify));
    put_string(p, r.address);
    put_string(p, r.original);
    put_string(p, r.orcpt);
    status_at.push_back(out.size() + kRecordHeader);
    put_record(out, kRecRcpt, p);
  }
  out.push_back(kRecHeaders);
  put_be(out, hsize, 4);
  return out;
}

Result<EncodedParts> encode_parts(const QueueId& id, const Envelope& env, std::string_view headers,
                                  std::string_view body) {
  if (auto ok = check_encodable(id, env, headers.size(), body.size()); !ok)
    return std::move(ok).error();
  EncodedParts parts;
  std::vector<std::size_t> status_at;
  parts.head = encode_envelope(id, env, headers.size(), body.size(), status_at);
  parts.mid.push_back(kRecBody);
  put_be(parts.mid, body.size(), 4);
  parts.tail.push_back(kRecEnd);
  put_be(parts.tail, 4, 4);
  // The checksum covers everything before it except the status blocks, which
  // are rewritten in place after the file is published.
  std::uint32_t crc = 0;
  std::size_t from = 0;
  std::string_view head = parts.head;
  for (std::size_t at : status_at) {
    crc = crc32_update(crc, head.substr(from, at - from));
    from = at + kStatusBlockSize;
  }
  crc = crc32_update(crc, head.substr(from));
  for (std::string_view piece : {headers, std::string_view(parts.mid), body,
                                 std::string_view(parts.tail)})
    crc = crc32_update(crc, piece);
  put_be(parts.tail, crc, 4);
  return parts;
}

Result<std::string> encode_queue_file(const QueueFile& qf) {
  auto p = encode_parts(qf.id, qf.env, qf.headers, qf.body);
  if (!p) return std::move(p).error();
  return p->head + qf.headers + p->mid + qf.body + p->tail;
}

// ----------------------------------------------------------------- parsing

namespace {

// One parser for whole files (run) and for the envelope alone (run_envelope).
// For the latter `in_` may be a prefix of a file of `whole_` bytes; where the
// prefix ends too early, need_ says how many bytes of the file are needed.
class Parser {
 public:
  Parser(std::string_view in, ParseOptions opts, std::uint64_t whole)
      : in_(in), opts_(opts), whole_(whole) {}
  Result<QueueFile> run();
  Result<EnvelopeRecords> run_envelope();

 private:
  Result<void> envelope(std::uint64_t& size);
  Result<std::string_view> record(char type, const char* name);
  Result<std::uint64_t> record_header(char type, const char* name);
  Result<std::string> field(char type, const char* name);
  Result<void> meta(std::string_view p, std::uint64_t& size, std::uint32_t& count);
  Result<Recipient> recipient(std::string_view p, std::size_t payload_at);
  Result<void> end_record();
  Error short_input(std::uint64_t needed, std::string_view what);

  std::string_view in_;
  ParseOptions opts_;
  std::uint64_t whole_;
  std::uint64_t need_ = 0;
  std::size_t pos_ = 0;
  QueueFile qf_;
};

// The input ends before `needed` bytes: corrupt when the input is the whole
// file, else (the file has them) a request for a longer prefix.
Error Parser::short_input(std::uint64_t needed, std::string_view what) {
  if (in_.size() < whole_ && needed <= whole_) need_ = needed;
  return corrupt(pos_, what);
}

// A record's type and length, checked against the file's size but not
// against the bytes present; pos_ moves past the 5 header bytes only.
Result<std::uint64_t> Parser::record_header(char type, const char* name) {
  if (in_.size() - pos_ < kRecordHeader)
    return short_input(pos_ + kRecordHeader, cat("truncated before ", name));
  if (in_[pos_] != type)
    return corrupt(pos_, cat("expected ", name, " record, found type ", static_cast<int>(
                                                   static_cast<unsigned char>(in_[pos_]))));
  std::uint64_t len = get_be(in_, pos_ + 1, 4);
  if (len > whole_ - pos_ - kRecordHeader) return corrupt(pos_, cat(name, " runs past end of file"));
  pos_ += kRecordHeader;
  return len;
}

Result<std::string_view> Parser::record(char type, const char* name) {
  auto len = record_header(type, name);
  if (!len) return std::move(len).error();
  pos_ -= kRecordHeader;
  if (*len > in_.size() - pos_ - kRecordHeader)
    return short_input(pos_ + kRecordHeader + *len, cat(name, " runs past end of file"));
  std::string_view payload = in_.substr(pos_ + kRecordHeader, *len);
  pos_ += kRecordHeader + *len;
  return payload;
}

Result<std::string> Parser::field(char type, const char* name) {
  auto p = record(type, name);
  if (!p) return std::move(p).error();
  if (p->size() > kMaxEnvelopeField) return corrupt(pos_ - p->size(), cat(name, " too long"));
  return std::string(*p);
}

Result<void> Parser::meta(std::string_view p, std::uint64_t& size, std::uint32_t& count) {
  std::size_t at = pos_ - p.size();
  if (p.size() != kMetaSize) return corrupt(at, "meta record has the wrong size");
  Envelope& e = qf_.env;
  e.arrival_us = static_cast<std::int64_t>(get_be(p, 0, 8));
  size = get_be(p, 8, 8);
  auto body = static_cast<unsigned char>(p[16]), flags = static_cast<unsigned char>(p[17]),
       ret = static_cast<unsigned char>(p[18]);
  if (body > 3) return corrupt(at, "unknown body type");
  if ((flags & ~kMetaSmtputf8) != 0) return corrupt(at, "unknown meta flags");
  if (ret > 2) return corrupt(at, "unknown DSN RET value");
  if (p[19] != 0) return corrupt(at, "reserved meta byte is not zero");
  e.body_type = static_cast<BodyType>(body);
  e.smtputf8 = (flags & kMetaSmtputf8) != 0;
  e.ret = static_cast<DsnRet>(ret);
  count = static_cast<std::uint32_t>(get_be(p, 20, 4));
  if (count == 0) return corrupt(at, "no recipients");
  return {};
}

Result<Recipient> Parser::recipient(std::string_view p, std::size_t payload_at) {
  if (p.size() < kMinRcptPayload) return corrupt(payload_at, "recipient record too short");
  if (const char* why = status_problem(p.substr(0, kStatusBlockSize))) return corrupt(payload_at, why);
  Recipient r;
  r.status = *decode_status(p.substr(0, kStatusBlockSize));
  r.status_offset = payload_at;
  r.notify = static_cast<std::uint8_t>(p[kStatusBlockSize]);
  if (!notify_valid(r.notify)) return corrupt(payload_at, "bad NOTIFY bits");
  std::size_t at = kStatusBlockSize + 1;
  for (std::string* s : {&r.address, &r.original, &r.orcpt}) {
    if (p.size() - at < 4) return corrupt(payload_at + at, "recipient record truncated");
    std::uint64_t len = get_be(p, at, 4);
    at += 4;
    if (len > p.size() - at || len > kMaxEnvelopeField)
      return corrupt(payload_at + at, "recipient field length out of range");
    s->assign(p.substr(at, len));
    at += len;
  }
  if (at != p.size()) return corrupt(payload_at + at, "junk at end of recipient record");
  if (r.address.empty()) return corrupt(payload_at, "empty recipient address");
  return r;
}

Result<void> Parser::end_record() {
  std::size_t end_at = pos_;
  auto p = record(kRecEnd, "end");
  if (!p) return std::move(p).error();
  if (p->size() != 4) return corrupt(end_at, "end record has the wrong size");
  if (pos_ != in_.size()) return corrupt(pos_, "data after the end record");
  if (!opts_.verify_checksum) return {};
  std::uint32_t crc = 0;
  std::size_t from = 0;
  for (const Recipient& r : qf_.env.recipients) {
    crc = crc32_update(crc, in_.substr(from, r.status_offset - from));
    from = r.status_offset + kStatusBlockSize;
  }
  crc = crc32_update(crc, in_.substr(from, pos_ - 4 - from));
  if (crc != get_be(*p, 0, 4)) return corrupt(end_at, "checksum mismatch");
  return {};
}

// Header, ID, meta, envelope fields and recipients: everything before the
// headers record, at which pos_ is left. `size` is the meta record's size.
Result<void> Parser::envelope(std::uint64_t& size) {
  if (in_.size() < kFileHeader && whole_ >= kFileHeader)
    return short_input(kFileHeader, "truncated file header");
  if (in_.size() < kFileHeader || in_.substr(0, kMagic.size()) != kMagic)
    return corrupt(0, "not a queue file (bad magic)");
  if (auto v = get_be(in_, 8, 4); v != kFormatVersion)
    return make_error(Errc::unsupported, cat("queue file format version ", v, " (this build reads ",
                                             kFormatVersion, ")"));
  pos_ = kFileHeader;
  auto id_rec = record(kRecId, "queue ID");
  if (!id_rec) return std::move(id_rec).error();
  auto id = QueueId::parse(*id_rec);
  if (!id) return corrupt(kFileHeader, id.error().detail);
  qf_.id = *id;
  auto m = record(kRecMeta, "meta");
  if (!m) return std::move(m).error();
  std::uint32_t count = 0;
  if (auto ok = meta(*m, size, count); !ok) return std::move(ok).error();
  Envelope& e = qf_.env;
  ClientInfo& c = e.client;
  const std::pair<char, std::string*> fields[] = {
      {kRecSender, &e.sender},   {kRecEnvid, &e.envid},       {kRecClientName, &c.name},
      {kRecClientAddr, &c.addr}, {kRecHelo, &c.helo},         {kRecProtocol, &c.protocol},
      {kRecSaslUser, &c.sasl_user}};
  for (auto [type, dest] : fields) {
    auto f = field(type, "envelope field");
    if (!f) return std::move(f).error();
    *dest = std::move(*f);
  }
  // Bounded allocation: never reserve more recipients than could fit in the
  // bytes that are left, whatever the count claims.
  e.recipients.reserve(std::min<std::size_t>(count, (in_.size() - pos_) / (kRecordHeader + kMinRcptPayload)));
  for (std::uint32_t i = 0; i < count; ++i) {
    auto p = record(kRecRcpt, "recipient");
    if (!p) return std::move(p).error();
    auto r = recipient(*p, pos_ - p->size());
    if (!r) return std::move(r).error();
    e.recipients.push_back(std::move(*r));
  }
  return {};
}

Result<QueueFile> Parser::run() {
  std::uint64_t size = 0;
  if (auto ok = envelope(size); !ok) return std::move(ok).error();
  auto h = record(kRecHeaders, "headers");
  if (!h) return std::move(h).error();
  auto b = record(kRecBody, "body");
  if (!b) return std::move(b).error();
  if (h->size() + b->size() != size) return corrupt(pos_, "message size does not match the content");
  if (auto ok = end_record(); !ok) return std::move(ok).error();
  qf_.headers.assign(*h);
  qf_.body.assign(*b);
  qf_.file_size = in_.size();
  return std::move(qf_);
}

Result<EnvelopeRecords> Parser::run_envelope() {
  EnvelopeRecords out;
  std::uint64_t size = 0;
  auto ok = envelope(size);
  std::uint64_t hlen = 0;
  if (ok) {
    auto h = record_header(kRecHeaders, "headers");
    if (h) hlen = *h;
    else ok = std::move(h).error();
  }
  if (!ok) {
    if (need_ == 0) return std::move(ok).error();
    out.need_bytes = need_;
    return out;
  }
  // The rest of a version-1 file is the content, the body record's header
  // and the end record: its size follows from the meta record.
  std::uint64_t rest = whole_ - pos_;
  if (hlen > size || size > rest || rest - size != kRecordHeader + kRecordHeader + 4)
    return corrupt(pos_, "file size does not match the message size");
  out.id = qf_.id;
  out.env = std::move(qf_.env);
  out.message_size = size;
  out.content_offset = pos_;
  return out;
}

}  // namespace

Result<QueueFile> parse_queue_file(std::string_view bytes, ParseOptions opts) {
  return Parser(bytes, opts, bytes.size()).run();
}

Result<EnvelopeRecords> parse_queue_envelope(std::string_view prefix, std::uint64_t file_size) {
  if (prefix.size() > file_size)
    return make_error(Errc::invalid, "queue file prefix longer than the file");
  return Parser(prefix, ParseOptions{}, file_size).run_envelope();
}

}  // namespace posthorn::queue
