// lib/base/fd.h - owning file descriptor and owning pointers for C resources.
//
// Nothing else in Posthorn calls close(2) or a C library's free function
// directly: an Fd or an Owned<> does it when it goes out of scope.
#pragma once

#include <unistd.h>

#include <memory>
#include <utility>

namespace posthorn {

class Fd {  // move-only
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

template <auto Free>
struct CallFree {
  void operator()(auto* p) const noexcept { Free(p); }
};
// Owned<SSL, SSL_free>, Owned<event_base, event_base_free>, ...
template <class T, auto Free>
using Owned = std::unique_ptr<T, CallFree<Free>>;

}  // namespace posthorn
