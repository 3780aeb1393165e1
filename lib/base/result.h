// lib/base/result.h - expected failures as values.
//
// Result<T> holds either a T or an Error. It is shaped like C++23's
// std::expected (has_value, operator bool, *, ->, value, error) so that it can
// become an alias once the toolchain has it. Error::code is what callers
// decide on; Error::detail is for the log and never goes to a peer.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace posthorn {

enum class Errc {
  io,           // a system call failed (detail has strerror)
  not_found,    // no such file, key, user, record
  exists,       // already there
  parse,        // malformed input (file, frame, address, value)
  too_large,    // a configured or protocol limit was exceeded
  timeout,      // a wait ran out
  closed,       // the peer closed the connection
  protocol,     // the peer broke the protocol
  corrupt,      // a stored file is damaged
  permission,   // not allowed
  unsupported,  // known but not available in this build or here
  busy,         // locked or in use; try again later
  invalid,      // a caller passed a bad argument
};

std::string_view errc_name(Errc c);

struct Error {
  Errc code;
  std::string detail;
};

// Errors from errno: detail is "what: strerror(errno)".
Error sys_error(std::string_view what, int errnum);
Error sys_error(std::string_view what);  // uses the current errno

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }
  template <class U>
  T value_or(U&& u) const& { return has_value() ? value() : T(std::forward<U>(u)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_{Errc::invalid, {}};
  bool ok_ = true;
};

inline Error make_error(Errc c, std::string detail) { return Error{c, std::move(detail)}; }

}  // namespace posthorn
