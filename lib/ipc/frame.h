// lib/ipc/frame.h - the frames of Posthorn's one IPC protocol (PROTOCOL.md).
//
// A frame is a kind, a request id, a message name and an ordered list of
// attributes (name, binary-safe value). This file turns frames into bytes
// and back; codec.h maps frames to message structs.
//
// Refusals: a length field is compared with the limit before anything is
// allocated for it; names must be 1..255 bytes of [A-Za-z0-9_.-]; every
// length must fit what contains it. All errors are values: Errc::too_large
// for the limit, Errc::protocol for anything malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::ipc {

constexpr std::size_t kDefaultMaxFrame = 1024 * 1024;  // body bytes
constexpr std::size_t kHeaderSize = 4;                 // the big-endian body length
constexpr std::size_t kMinBody = 1 + 8 + 1 + 1;       // kind, id, name length, 1-byte name
constexpr std::size_t kMaxName = 255;

enum class Kind : std::uint8_t { hello = 1, request = 2, reply = 3, error = 4 };

struct Attr {
  std::string name;
  std::string value;
  bool operator==(const Attr&) const = default;
};

struct Frame {
  Kind kind = Kind::request;
  std::uint64_t id = 0;  // request: 0 = no reply wanted; reply/error: the request's id
  std::string name;      // message name
  std::vector<Attr> attrs;
  bool operator==(const Frame&) const = default;
};

bool valid_name(std::string_view name);

// Appends one attribute in wire form. Panics on an invalid name or a value
// longer than 2^32-1 (both are bugs in the sender, never peer input).
void append_attr(std::string& out, std::string_view name, std::string_view value);
// Parses a whole attribute list (a frame's tail or a nested record).
Result<std::vector<Attr>> parse_attrs(std::string_view bytes);

// The frame with its 4-byte length header. Panics on invalid names (a bug).
std::string serialize(const Frame& f);
// Parses a frame body (the bytes after the header).
Result<Frame> parse_body(std::string_view body);

// Incremental reader for a byte stream: feed() what arrives, then call next()
// until it yields nullopt. Each header is checked against `max_frame` as soon
// as its 4 bytes are present, before the body is awaited. After an error the
// stream is out of step: next() keeps returning that error.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_frame = kDefaultMaxFrame) : max_(max_frame) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  Result<std::optional<Frame>> next();
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::size_t max_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::optional<Error> failed_;
};

// Checks a 4-byte header: the body length, or Errc::too_large (over
// `max_frame`) / Errc::protocol (shorter than any frame).
Result<std::size_t> check_header(std::string_view four_bytes, std::size_t max_frame);

// The connection's opening frame (PROTOCOL.md "Hello").
struct Protocol {
  std::string name;       // e.g. "deliver", "auth", "status"
  unsigned version = 1;
};
Frame hello_frame(const Protocol& p);
// Checks the peer's first frame; Errc::protocol with a message naming both
// sides' protocol and version on mismatch.
Result<void> check_hello(const Frame& f, const Protocol& ours);

// Error frames (PROTOCOL.md "Errors"): code is an errc_name(), text a short
// reason for the peer's log.
Frame error_frame(std::uint64_t id, std::string_view name, Errc code, std::string_view text);
Error error_from_frame(const Frame& f);
// Inverse of errc_name(); Errc::protocol for names it does not know.
Errc errc_from_name(std::string_view name);

}  // namespace posthorn::ipc
