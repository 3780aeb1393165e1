#include "lib/queue/codec.h"

#include <catch2/catch.hpp>
#include <set>

#include "lib/base/file.h"
#include "t/unit/lib/queue/queue_test_util.h"

using namespace posthorn;
using namespace posthorn::queue;
using posthorn::queue::test::sample_file;

namespace {

std::string encode(const QueueFile& qf) {
  auto b = encode_queue_file(qf);
  REQUIRE(b);
  return *b;
}

QueueFile parse_ok(std::string_view bytes, ParseOptions o = {}) {
  auto qf = parse_queue_file(bytes, o);
  if (!qf) FAIL(qf.error().detail);
  return *qf;
}

void check_same(const QueueFile& a, const QueueFile& b) {
  CHECK(a.id == b.id);
  CHECK(a.env.sender == b.env.sender);
  CHECK(a.env.arrival_us == b.env.arrival_us);
  CHECK(a.env.client.name == b.env.client.name);
  CHECK(a.env.client.addr == b.env.client.addr);
  CHECK(a.env.client.helo == b.env.client.helo);
  CHECK(a.env.client.protocol == b.env.client.protocol);
  CHECK(a.env.client.sasl_user == b.env.client.sasl_user);
  CHECK(a.env.ret == b.env.ret);
  CHECK(a.env.envid == b.env.envid);
  CHECK(a.env.body_type == b.env.body_type);
  CHECK(a.env.smtputf8 == b.env.smtputf8);
  REQUIRE(a.env.recipients.size() == b.env.recipients.size());
  for (std::size_t i = 0; i < a.env.recipients.size(); ++i) {
    const Recipient &x = a.env.recipients[i], &y = b.env.recipients[i];
    CHECK(x.address == y.address);
    CHECK(x.original == y.original);
    CHECK(x.orcpt == y.orcpt);
    CHECK(x.notify == y.notify);
    CHECK(x.status == y.status);
  }
  CHECK(a.headers == b.headers);
  CHECK(a.body == b.body);
}

// Offsets of every 32-bit length field: record lengths and recipient sub-field lengths.
std::vector<std::size_t> length_fields(std::string_view f) {
  std::vector<std::size_t> out;
  std::size_t pos = 12;
  while (pos + 5 <= f.size()) {
    std::size_t len = (std::size_t(std::uint8_t(f[pos + 1])) << 24) | (std::size_t(std::uint8_t(f[pos + 2])) << 16) |
                      (std::size_t(std::uint8_t(f[pos + 3])) << 8) | std::uint8_t(f[pos + 4]);
    out.push_back(pos + 1);
    if (f[pos] == 'R') {
      std::size_t at = pos + 5 + kStatusBlockSize + 1;
      for (int k = 0; k < 3; ++k) {
        out.push_back(at);
        std::size_t l = (std::size_t(std::uint8_t(f[at + 2])) << 8) | std::uint8_t(f[at + 3]);
        at += 4 + l;
      }
    }
    pos += 5 + len;
  }
  return out;
}

}  // namespace

TEST_CASE("crc32 is the IEEE one", "[queue][codec]") {
  CHECK(crc32_update(0, "123456789") == 0xCBF43926u);
  CHECK(crc32_update(crc32_update(0, "1234"), "56789") == 0xCBF43926u);
  CHECK(crc32_update(0, "") == 0);
}

TEST_CASE("a queue file round-trips every field and binary content", "[queue][codec]") {
  QueueFile qf = sample_file(5);
  qf.env.recipients[4].status = {RcptState::bounced, kSentDelayNotice | kSentSuccessNotice, 7, -1, 99};
  std::string bytes = encode(qf);
  QueueFile back = parse_ok(bytes);
  check_same(qf, back);
  CHECK(back.file_size == bytes.size());
  CHECK(back.message_size() == qf.headers.size() + qf.body.size());
  for (const Recipient& r : back.env.recipients) {
    auto st = decode_status(std::string_view(bytes).substr(r.status_offset, kStatusBlockSize));
    REQUIRE(st);
    CHECK(*st == r.status);
  }
}

TEST_CASE("content edge cases round-trip byte for byte", "[queue][codec]") {
  struct Case {
    const char* name;
    std::string headers, body, sender;
    std::size_t rcpts;
  };
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const Case cases[] = {
      {"empty body", "Subject: x\r\n\r\n", "", "a@b", 1},
      {"empty content", "", "", "a@b", 1},
      {"null sender", "Subject: bounce\r\n\r\n", "body\r\n", "", 2},
      {"every byte value", all_bytes, all_bytes + all_bytes, "a@b", 1},
      {"NUL only", std::string(3, '\0'), std::string(5, '\0'), "a@b", 1},
      {"bare CR and LF", "A: b\rC: d\n\n", "\r\r\n\n.\n.\r\n", "a@b", 1},
      {"long header", "X-Long: " + std::string(1 << 20, 'x') + "\r\n\r\n", "b", "a@b", 1},
      {"many recipients", "S: x\r\n\r\n", "b", "a@b", 2000},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      QueueFile qf = sample_file(c.rcpts);
      qf.headers = c.headers;
      qf.body = c.body;
      qf.env.sender = c.sender;
      check_same(qf, parse_ok(encode(qf)));
    }
  }
}

TEST_CASE("the encoder refuses what the format cannot hold", "[queue][codec]") {
  auto refused = [](QueueFile qf, Errc code) {
    auto r = encode_queue_file(qf);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == code);
  };
  QueueFile qf = sample_file();
  qf.env.recipients.clear();
  refused(qf, Errc::invalid);
  qf = sample_file();
  qf.env.recipients[1].address.clear();
  refused(qf, Errc::invalid);
  qf = sample_file();
  qf.env.recipients[0].notify = kNotifyNever | kNotifyDelay;
  refused(qf, Errc::invalid);
  qf = sample_file();
  qf.env.recipients[0].notify = 16;
  refused(qf, Errc::invalid);
  qf = sample_file();
  qf.env.client.helo = std::string(kMaxEnvelopeField + 1, 'h');
  refused(qf, Errc::too_large);
  qf = sample_file();
  qf.env.recipients[2].orcpt = std::string(kMaxEnvelopeField + 1, 'o');
  refused(qf, Errc::too_large);
  qf = sample_file();
  qf.id = QueueId();
  refused(qf, Errc::invalid);
  qf = sample_file();
  qf.env.body_type = static_cast<BodyType>(9);
  refused(qf, Errc::invalid);
  qf = sample_file();
  qf.env.recipients[0].status.flags = 0x80;
  refused(qf, Errc::invalid);
}

TEST_CASE("the golden version-1 file still reads and encodes identically", "[queue][codec]") {
  auto golden = read_file("t/unit/lib/queue/data/v1_sample.qf");
  REQUIRE(golden);
  QueueFile want = sample_file(3);
  want.env.recipients[2].status = {RcptState::deferred, kSentDelayNotice, 2, 1763805700, 1763806000};
  QueueFile got = parse_ok(*golden);
  check_same(want, got);
  CHECK(got.id.str() == "1J45FZ3Z2J044J");
  CHECK(got.env.recipients[1].notify == kNotifyNever);
  CHECK(got.env.recipients[0].orcpt == "rfc822;orig0@example.net");
  CHECK(encode(want) == *golden);
}

TEST_CASE("every truncation of a valid file is detected", "[queue][codec]") {
  std::string bytes = encode(sample_file(4));
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    for (bool verify : {true, false}) {
      auto r = parse_queue_file(std::string_view(bytes).substr(0, len), {verify});
      CAPTURE(len, verify);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == Errc::corrupt);
    }
  }
  CHECK(parse_queue_file(bytes));
}

TEST_CASE("bit flips are detected: anywhere by the checksum, in lengths without it",
          "[queue][codec]") {
  std::string bytes = encode(sample_file(4));
  QueueFile qf = parse_ok(bytes);
  std::set<std::size_t> status_bytes;
  for (const Recipient& r : qf.env.recipients)
    for (std::size_t i = 0; i < kStatusBlockSize; ++i) status_bytes.insert(r.status_offset + i);
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = bytes;
      b[at] = static_cast<char>(b[at] ^ (1 << bit));
      auto r = parse_queue_file(b);
      CAPTURE(at, bit);
      if (status_bytes.count(at)) {
        if (r) CHECK_FALSE(r->env.recipients == qf.env.recipients);  // a different status, still valid
      } else {
        CHECK_FALSE(r);
      }
    }
  }
  auto lengths = length_fields(bytes);
  CHECK(lengths.size() == 16 + 4 * 3);  // 12 fixed records + 4 recipients; 3 fields each
  for (std::size_t at : lengths)
    for (std::size_t byte = 0; byte < 4; ++byte)
      for (int bit = 0; bit < 8; ++bit) {
        std::string b = bytes;
        b[at + byte] = static_cast<char>(b[at + byte] ^ (1 << bit));
        CAPTURE(at, byte, bit);
        CHECK_FALSE(parse_queue_file(b, {false}));
      }
}

TEST_CASE("adversarial headers, counts and orders are rejected", "[queue][codec]") {
  const std::string good = encode(sample_file(2));
  auto with = [&](std::size_t at, std::string_view patch) {
    std::string b = good;
    b.replace(at, patch.size(), patch);
    return b;
  };
  auto corrupt = [](std::string_view b) {
    auto r = parse_queue_file(b, {false});
    REQUIRE_FALSE(r);
    return r.error().code;
  };
  CHECK(corrupt("") == Errc::corrupt);
  CHECK(corrupt("From alice Mon Nov 23 09:00:00 2026\n") == Errc::corrupt);
  CHECK(corrupt(with(0, "\x89PHQ\r\n\n\n")) == Errc::corrupt);  // text-mode mangled magic
  CHECK(corrupt(with(8, std::string("\0\0\0\2", 4))) == Errc::unsupported);
  CHECK(corrupt(with(8, std::string("\xff\xff\xff\xff", 4))) == Errc::unsupported);
  CHECK(corrupt(good + "x") == Errc::corrupt);  // data after the end record
  QueueFile qf = parse_ok(good);
  const std::size_t meta = 12 + 5 + qf.id.str().size();  // the meta record
  CHECK(corrupt(with(meta + 5 + 20, "\xff\xff\xff\xff")) == Errc::corrupt);  // absurd count
  CHECK(corrupt(with(meta + 5 + 20, std::string("\0\0\0\0", 4))) == Errc::corrupt);  // no recipients
  CHECK(corrupt(with(meta + 5 + 20, std::string("\0\0\0\3", 4))) == Errc::corrupt);  // one too many
  CHECK(corrupt(with(meta + 5 + 20, std::string("\0\0\0\1", 4))) == Errc::corrupt);  // one too few
  CHECK(corrupt(with(meta + 5 + 16, "\x07")) == Errc::corrupt);  // unknown body type
  CHECK(corrupt(with(meta + 5 + 17, "\x02")) == Errc::corrupt);  // unknown meta flag
  CHECK(corrupt(with(meta + 5 + 18, "\x03")) == Errc::corrupt);  // unknown RET
  CHECK(corrupt(with(meta + 5 + 19, "\x01")) == Errc::corrupt);  // reserved byte
  CHECK(corrupt(with(meta + 5 + 8, std::string("\0\0\0\0\0\0\0\0", 8))) == Errc::corrupt);  // size
  CHECK(corrupt(with(meta, "S")) == Errc::corrupt);                // records out of order
  CHECK(corrupt(with(12, "M")) == Errc::corrupt);
  CHECK(corrupt(with(12 + 5, "../../../etc/x")) == Errc::corrupt);  // not a queue ID
  const std::size_t st = qf.env.recipients[0].status_offset;
  CHECK(corrupt(with(st, "\x04")) == Errc::corrupt);       // unknown state
  CHECK(corrupt(with(st + 1, "\x80")) == Errc::corrupt);   // unknown status flag
  CHECK(corrupt(with(st + 2, "\x01")) == Errc::corrupt);   // reserved status bytes
  CHECK(corrupt(with(st + kStatusBlockSize, "\x05")) == Errc::corrupt);  // NEVER|FAILURE
  // The same damage to a status block is caught with the checksum on, too:
  // the block is outside the checksum, but still validated.
  CHECK_FALSE(parse_queue_file(with(st, "\x04")));
}

TEST_CASE("a forged huge length cannot make the parser allocate", "[queue][codec]") {
  // A file whose recipient count and body length claim gigabytes, cut short:
  // the parser must fail fast on the lengths, not try to reserve them.
  std::string bytes = encode(sample_file(1));
  QueueFile qf = parse_ok(bytes);
  const std::size_t meta = 12 + 5 + qf.id.str().size();
  std::string b = bytes;
  b.replace(meta + 5 + 20, 4, "\x7f\xff\xff\xff");
  for (std::size_t len = meta + 5 + 24; len <= b.size(); len += 7)
    CHECK_FALSE(parse_queue_file(std::string_view(b).substr(0, len), {false}));
}

TEST_CASE("status blocks round-trip", "[queue][codec]") {
  const RecipientStatus cases[] = {
      {}, {RcptState::delivered, 0, 1, 1763805600, 0},
      {RcptState::deferred, kSentDelayNotice, 0xFFFFFFFFu, -5, INT64_MAX},
      {RcptState::bounced, kKnownStatusFlags, 3, INT64_MIN, 1}};
  for (const RecipientStatus& s : cases) {
    auto block = encode_status(s);
    auto back = decode_status(std::string_view(block.data(), block.size()));
    REQUIRE(back);
    CHECK(*back == s);
  }
  CHECK_FALSE(decode_status("short"));
}
