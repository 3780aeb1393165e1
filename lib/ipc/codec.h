// lib/ipc/codec.h - message structs <-> frames (PROTOCOL.md "Values").
//
// A message lists its fields once (STYLE.md section 5):
//
//   struct Recipient {
//     std::string address, orig_rcpt; unsigned notify = 0; std::optional<std::string> dsn_status;
//     void fields(auto& f) { f("address", address); f("orig_rcpt", orig_rcpt);
//                            f("notify", notify); f("dsn_status", dsn_status); }
//   };
//   struct DeliverRequest {
//     static constexpr std::string_view kName = "deliver";
//     using Reply = DeliverReply;          // needed by Client::request and call()
//     static constexpr bool kStrict = false;  // optional; true: unknown attributes are errors
//     QueueId queue_id; std::string sender; std::vector<Recipient> rcpts;
//     void fields(auto& f) { f("queue_id", queue_id); f("sender", sender); f("rcpt", rcpts); }
//   };
//
// encode() and decode() both walk fields(). Supported field types:
//   std::string (binary-safe), bool ("1"/"0"), integers including int8_t/uint8_t
//   but not char (canonical decimal; range-checked on decode), records (a struct with
//   fields(): encoded as a nested attribute list), user types with the two
//   conversion hooks below, std::optional<T> (absent attribute = nullopt) and
//   std::vector<T> (one attribute per element, in order; empty = absent).
// Conversion hooks for a user type T, found by argument-dependent lookup in
// T's namespace:
//   std::string to_ipc_string(const T& v);
//   Result<void> from_ipc_string(std::string_view text, T& out);  // Errc::protocol on bad text
// Decoding rules: a plain (non-optional, non-vector) field must appear exactly
// once; an optional field at most once; unknown attributes are skipped unless
// the record declares kStrict = true. Every error is a value (Errc::protocol).
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "lib/base/result.h"
#include "lib/base/strings.h"
#include "lib/ipc/frame.h"

namespace posthorn::ipc {

namespace detail {
struct FieldProbe {
  template <class T>
  void operator()(std::string_view, T&) {}
};
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> inline constexpr bool always_false = false;

Result<long long> parse_signed(std::string_view s, long long min, long long max);
Result<unsigned long long> parse_unsigned(std::string_view s, unsigned long long max);
}  // namespace detail

template <class T>
concept Record = requires(T& t, detail::FieldProbe& p) { t.fields(p); };

template <class T>
concept Message = Record<T> && requires {
  { T::kName } -> std::convertible_to<std::string_view>;
};

template <class T>
concept Convertible = requires(const T& v, std::string_view s, T& out) {
  { to_ipc_string(v) } -> std::convertible_to<std::string>;
  { from_ipc_string(s, out) } -> std::same_as<Result<void>>;
};

template <class T>
concept Integer = std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                  !std::is_same_v<T, char> && !std::is_same_v<T, char8_t> &&
                  !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t> &&
                  !std::is_same_v<T, wchar_t>;

template <class T>
constexpr bool is_strict() {
  if constexpr (requires { T::kStrict; })
    return T::kStrict;
  else
    return false;
}

template <Record T> std::string encode_record(const T& r);
template <Record T> Result<void> decode_record(const std::vector<Attr>& attrs, T& out,
                                               std::string_view path = {});

namespace detail {

template <class T>
std::string encode_value(const T& v) {
  if constexpr (std::is_same_v<T, std::string>)
    return v;
  else if constexpr (std::is_same_v<T, bool>)
    return v ? "1" : "0";
  else if constexpr (Integer<T>)
    return std::to_string(+v);  // + promotes int8_t to a number
  else if constexpr (Convertible<T>)
    return to_ipc_string(v);
  else if constexpr (Record<T>)
    return encode_record(v);
  else
    static_assert(always_false<T>, "type cannot be carried over IPC (see codec.h)");
}

template <class T>
Result<void> decode_value(std::string_view s, T& out, std::string_view path) {
  if constexpr (std::is_same_v<T, std::string>) {
    out.assign(s);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (s != "0" && s != "1") return make_error(Errc::protocol, cat(path, ": not a boolean"));
    out = s == "1";
  } else if constexpr (Integer<T> && std::is_signed_v<T>) {
    auto v = parse_signed(s, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
    if (!v) return make_error(Errc::protocol, cat(path, ": ", v.error().detail));
    out = static_cast<T>(*v);
  } else if constexpr (Integer<T>) {
    auto v = parse_unsigned(s, std::numeric_limits<T>::max());
    if (!v) return make_error(Errc::protocol, cat(path, ": ", v.error().detail));
    out = static_cast<T>(*v);
  } else if constexpr (Convertible<T>) {
    auto r = from_ipc_string(s, out);
    if (!r) return make_error(Errc::protocol, cat(path, ": ", r.error().detail));
  } else if constexpr (Record<T>) {
    auto attrs = parse_attrs(s);
    if (!attrs) return make_error(Errc::protocol, cat(path, ": ", attrs.error().detail));
    return decode_record(*attrs, out, path);
  } else {
    static_assert(always_false<T>, "type cannot be carried over IPC (see codec.h)");
  }
  return {};
}

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  template <class T>
  void operator()(std::string_view name, const T& v) {
    if constexpr (is_vector<T>::value) {
      for (const auto& e : v) append_attr(out_, name, encode_value(e));
    } else if constexpr (is_optional<T>::value) {
      if (v) append_attr(out_, name, encode_value(*v));
    } else {
      append_attr(out_, name, encode_value(v));
    }
  }

 private:
  std::string& out_;
};

class Decoder {
 public:
  Decoder(const std::vector<Attr>& attrs, std::string_view path)
      : attrs_(attrs), used_(attrs.size(), false), path_(path) {}

  template <class T>
  void operator()(std::string_view name, T& field) {
    if (error_) return;
    std::string path = path_.empty() ? std::string(name) : cat(path_, ".", name);
    std::vector<std::size_t> hits = find(name);
    if constexpr (is_vector<T>::value) {
      field.clear();
      for (std::size_t i : hits) {
        typename T::value_type v{};
        if (!check(decode_value(attrs_[i].value, v, path))) return;
        field.push_back(std::move(v));
      }
    } else if constexpr (is_optional<T>::value) {
      field.reset();
      if (hits.size() > 1) return fail(cat("attribute ", path, " repeated"));
      if (hits.empty()) return;
      typename T::value_type v{};
      if (check(decode_value(attrs_[hits[0]].value, v, path))) field = std::move(v);
    } else {
      if (hits.empty()) return fail(cat("attribute ", path, " missing"));
      if (hits.size() > 1) return fail(cat("attribute ", path, " repeated"));
      check(decode_value(attrs_[hits[0]].value, field, path));
    }
  }

  // The first attribute no field asked for, if any.
  const Attr* unused() const {
    for (std::size_t i = 0; i < attrs_.size(); ++i)
      if (!used_[i]) return &attrs_[i];
    return nullptr;
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  std::vector<std::size_t> find(std::string_view name) {
    std::vector<std::size_t> hits;
    for (std::size_t i = 0; i < attrs_.size(); ++i)
      if (attrs_[i].name == name) {
        hits.push_back(i);
        used_[i] = true;
      }
    return hits;
  }
  bool check(Result<void> r) {
    if (!r) error_ = std::move(r).error();
    return !error_;
  }
  void fail(std::string detail) { error_ = Error{Errc::protocol, std::move(detail)}; }

  const std::vector<Attr>& attrs_;
  std::vector<bool> used_;
  std::string_view path_;
  std::optional<Error> error_;
};

}  // namespace detail

// The attribute list of a record, as carried in a nested value.
template <Record T>
std::string encode_record(const T& r) {
  std::string out;
  detail::Encoder enc(out);
  // fields() is not const because the decoder writes through it; the encoder
  // only reads, so the object is never modified.
  const_cast<T&>(r).fields(enc);
  return out;
}

// Fills `out` from `attrs` by the rules above; `path` prefixes error details.
template <Record T>
Result<void> decode_record(const std::vector<Attr>& attrs, T& out, std::string_view path) {
  detail::Decoder dec(attrs, path);
  out.fields(dec);
  if (dec.error()) return *dec.error();
  if constexpr (is_strict<T>()) {
    if (const Attr* a = dec.unused())
      return make_error(Errc::protocol, cat("unknown attribute ", printable(a->name),
                                            path.empty() ? "" : " in ", path, " (strict)"));
  }
  return {};
}

// A frame carrying `m`: name M::kName, the given kind and id.
template <Message M>
Frame encode(const M& m, Kind kind = Kind::request, std::uint64_t id = 0) {
  Frame f{kind, id, std::string(M::kName), {}};
  std::string attrs = encode_record(m);
  auto parsed = parse_attrs(attrs);  // cannot fail: we just wrote it
  f.attrs = std::move(*parsed);
  return f;
}

// The message in `f`. Errc::protocol if the frame names another message, an
// error frame (use error_from_frame first), or any attribute does not decode.
template <Message M>
Result<M> decode(const Frame& f) {
  if (f.kind == Kind::error || f.kind == Kind::hello)
    return make_error(Errc::protocol, cat("expected message ", M::kName, ", got a control frame"));
  if (f.name != M::kName)
    return make_error(Errc::protocol,
                      cat("expected message ", M::kName, ", got ", printable(f.name)));
  M m{};
  auto r = decode_record(f.attrs, m);
  if (!r) return std::move(r).error();
  return m;
}

}  // namespace posthorn::ipc
