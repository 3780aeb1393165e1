// lib/queue/codec.h - queue files to bytes and back (the format of FORMAT.md, version 1).
//
// The parser is the one place that turns untrusted bytes into a QueueFile.
// It accepts any byte sequence without crashing and allocates only for
// lengths that it has checked against the bytes actually present, so a
// forged length or count cannot make it allocate more than the input's size.
// Anything but a complete, well-formed version-1 file is Errc::corrupt (or
// Errc::unsupported for a well-formed header of another version).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/queue/queue_file.h"

namespace posthorn::queue {

inline constexpr std::string_view kMagic{"\x89PHQ\r\n\x1a\n", 8};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kStatusBlockSize = 24;
// Longest envelope string (address, HELO, ENVID, ...): far above any SMTP
// limit, low enough that a damaged file cannot smuggle megabytes into logs.
inline constexpr std::size_t kMaxEnvelopeField = 65536;

// Encodes qf (id, envelope, content; status blocks from each recipient's
// status). Errors: Errc::invalid for a value the format cannot hold (no
// recipients, an empty recipient address, bad NOTIFY bits, an enum out of
// range, an empty id), Errc::too_large for a field above kMaxEnvelopeField or
// a content part of 4 GiB or more.
Result<std::string> encode_queue_file(const QueueFile& qf);

// The same file in pieces, so the writer need not copy the content:
// the file is head + headers + mid + body + tail.
struct EncodedParts {
  std::string head, mid, tail;
};
Result<EncodedParts> encode_parts(const QueueId& id, const Envelope& env, std::string_view headers,
                                  std::string_view body);

struct ParseOptions {
  // Off only for fuzzing, so that the fuzzer reaches the record parser
  // without having to forge checksums. Every real reader verifies.
  bool verify_checksum = true;
};

// Parses a whole queue file held in memory. On success every
// Recipient::status_offset and QueueFile::file_size are set.
Result<QueueFile> parse_queue_file(std::string_view bytes, ParseOptions opts = {});

// The records before a queue file's content: header, envelope, recipients,
// and the type and length of the headers record. What `posthorn queue list`
// needs, without reading the message itself (envelope_reader.h).
struct EnvelopeRecords {
  QueueId id;
  Envelope env;                      // recipients with status_offset set
  std::uint64_t message_size = 0;    // from the meta record
  std::uint64_t content_offset = 0;  // where the headers begin in the file
  // 0 when the records above are complete. Otherwise `prefix` ended before
  // they did, and the file has at least this many bytes that are needed to
  // go on: parse again with a longer prefix.
  std::uint64_t need_bytes = 0;
};

// Parses the envelope from `prefix`, the first bytes of a file whose size is
// `file_size`. Checks what parse_queue_file() checks about these records,
// and that `file_size` is exactly what the records announce (headers record
// no longer than the message, body and end records after it). Not checked,
// because they need the content: the checksum and the split of the content
// into headers and body. Errors as parse_queue_file(); a prefix longer than
// `file_size` is Errc::invalid.
Result<EnvelopeRecords> parse_queue_envelope(std::string_view prefix, std::uint64_t file_size);

// The fixed-size status block as stored (FORMAT.md), for in-place updates.
std::array<char, kStatusBlockSize> encode_status(const RecipientStatus& s);
// Errc::corrupt for an unknown state, unknown flag bits or nonzero reserved bytes.
Result<RecipientStatus> decode_status(std::string_view block);

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) continuing from `crc`.
std::uint32_t crc32_update(std::uint32_t crc, std::string_view data);

}  // namespace posthorn::queue
