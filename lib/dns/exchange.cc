// lib/dns/exchange.cc - UDP with TCP fallback, retries across servers.
#include "lib/dns/exchange.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <cstring>
#include <random>

#include "lib/base/strings.h"
#include "lib/dns/message.h"
#include "lib/dns/names.h"

namespace posthorn::dns {

namespace {
// Largest DNS message (the TCP length prefix is 16 bits); a UDP datagram
// larger than this is reported by MSG_TRUNC and retried over TCP.
constexpr std::size_t kMaxMessage = 65535;

std::uint16_t random_id() {
  std::uint16_t id = 0;
  if (::getrandom(&id, sizeof id, 0) == sizeof id) return id;
  std::random_device rd;  // getrandom(2) missing or interrupted
  return static_cast<std::uint16_t>(rd());
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }
}  // namespace

Exchange::Exchange(event_base* base, std::shared_ptr<const Config> cfg, std::string name,
                   RrType type, Done done)
    : base_(base),
      cfg_(std::move(cfg)),
      name_(std::move(name)),
      type_(type),
      done_(std::move(done)) {
  failure_ = make_answer(Status::timeout, "no reply");
}

Exchange::~Exchange() { close_io(); }

Answer Exchange::make_answer(Status s, std::string detail) const {
  Answer a;
  a.status = s;
  a.name = name_;
  a.type = type_;
  a.canonical = name_;
  a.rcode = -1;
  a.detail = std::move(detail);
  return a;
}

void Exchange::start() {
  timer_.reset(evtimer_new(base_, &Exchange::on_timer, this));
  if (!timer_) throw std::bad_alloc();
  in_start_ = true;  // finish() now defers to the loop
  auto norm = normalize_name(name_);
  if (!norm) {
    finish(make_answer(Status::bad_name, norm.error().detail));
  } else if (cfg_->servers.empty()) {
    finish(make_answer(Status::local_error, "no name servers"));
  } else {
    name_ = *norm;
    failure_.name = failure_.canonical = name_;
    next_try();
  }
  in_start_ = false;
}

void Exchange::close_io() {
  io_.reset();  // event_free deletes the event first
  fd_.reset();
  tcp_ = tcp_connected_ = false;
  tcp_out_.clear();
  tcp_in_.clear();
}

void Exchange::next_try() {
  close_io();
  unsigned total = cfg_->attempts * static_cast<unsigned>(cfg_->servers.size());
  while (tries_ < total) {
    server_ = tries_++ % cfg_->servers.size();
    id_ = random_id();
    auto q = build_query(name_, type_, id_, *cfg_);
    if (!q) return finish(make_answer(Status::bad_name, q.error().detail));
    query_ = std::move(*q);
    if (open_udp()) {
      timeval tv = to_timeval(cfg_->timeout);
      evtimer_add(timer_.get(), &tv);
      return;
    }
  }
  finish(failure_);
}

// Opens, connects and sends; on failure records why and returns false.
bool Exchange::open_udp() {
  const NameServer& ns = server();
  fd_.reset(::socket(ns.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) {
    record(make_answer(Status::local_error, sys_error("socket").detail));
    return false;
  }
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&ns.addr), ns.addr_len) != 0 ||
      ::send(fd_.get(), query_.data(), query_.size(), 0) < 0) {
    record(make_answer(Status::local_error, sys_error("send to " + ns.text).detail));
    close_io();
    return false;
  }
  return watch(EV_READ);
}

bool Exchange::watch(short what) {
  io_.reset(event_new(base_, fd_.get(), what | EV_PERSIST, &Exchange::on_io, this));
  if (!io_ || event_add(io_.get(), nullptr) != 0) throw std::bad_alloc();
  return true;
}

void Exchange::start_tcp() {
  close_io();
  tcp_ = true;
  const NameServer& ns = server();
  fd_.reset(::socket(ns.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) return fail_try(Status::local_error, sys_error("socket").detail);
  if (::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&ns.addr), ns.addr_len) != 0 &&
      errno != EINPROGRESS)
    return fail_try(Status::local_error, sys_error("TCP connect to " + ns.text).detail);
  tcp_out_.push_back(static_cast<char>(query_.size() >> 8));
  tcp_out_.push_back(static_cast<char>(query_.size() & 0xff));
  tcp_out_ += query_;
  watch(EV_WRITE);
  timeval tv = to_timeval(cfg_->timeout);  // a fresh wait for the TCP exchange
  evtimer_add(timer_.get(), &tv);
}

void Exchange::on_io(evutil_socket_t, short, void* self) {
  auto* x = static_cast<Exchange*>(self);
  if (!x->tcp_)
    x->udp_readable();
  else if (!x->tcp_out_.empty())
    x->tcp_writable();
  else
    x->tcp_readable();
}

void Exchange::on_timer(evutil_socket_t, short, void* self) {
  auto* x = static_cast<Exchange*>(self);
  if (x->pending_) return x->finish(std::move(*x->pending_));
  x->fail_try(Status::timeout, cat("timeout from ", x->server().text, x->tcp_ ? " (TCP)" : ""));
}

void Exchange::udp_readable() {
  std::string buf(kMaxMessage + 1, '\0');
  for (;;) {
    // MSG_TRUNC: the real size is returned even when the datagram was cut.
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0 && would_block(errno)) return;
    // ECONNREFUSED: an ICMP port-unreachable on the connected socket.
    if (n < 0)
      return fail_try(Status::local_error, sys_error("receive from " + server().text).detail);
    if (static_cast<std::size_t>(n) > buf.size()) return start_tcp();
    if (!take(std::string_view(buf.data(), n), false)) return;  // `this` may be gone
  }
}

void Exchange::tcp_writable() {
  if (!tcp_connected_) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return fail_try(Status::local_error,
                      sys_error("TCP connect to " + server().text, err).detail);
    tcp_connected_ = true;
  }
  ssize_t n = ::send(fd_.get(), tcp_out_.data(), tcp_out_.size(), MSG_NOSIGNAL);
  if (n < 0 && would_block(errno)) return;
  if (n < 0) return fail_try(Status::local_error, sys_error("TCP send to " + server().text).detail);
  tcp_out_.erase(0, n);
  if (tcp_out_.empty()) watch(EV_READ);
}

void Exchange::tcp_readable() {
  char buf[4096];
  ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
  if (n < 0 && would_block(errno)) return;
  if (n < 0)
    return fail_try(Status::local_error, sys_error("TCP receive from " + server().text).detail);
  if (n == 0) return fail_try(Status::malformed, "TCP connection closed before a full reply");
  tcp_in_.append(buf, n);
  if (tcp_in_.size() < 2) return;
  std::size_t want =
      static_cast<unsigned char>(tcp_in_[0]) << 8 | static_cast<unsigned char>(tcp_in_[1]);
  if (tcp_in_.size() < 2 + want) return;
  take(std::string_view(tcp_in_).substr(2, want), true);
}

// Acts on one reply; returns true when we keep waiting on this socket.
bool Exchange::take(std::string_view wire, bool over_tcp) {
  Reply r = read_reply(wire, name_, type_, id_);
  if (r.verdict == Verdict::ignore && !over_tcp) return true;
  if (r.verdict == Verdict::truncated && !over_tcp) return start_tcp(), false;
  // Over TCP the connection is ours alone: a reply to something else, or a
  // truncated one, is the server's fault.
  if (r.verdict != Verdict::use) {
    fail_try(Status::malformed,
             cat("TCP reply from ", server().text,
                 r.verdict == Verdict::ignore ? " to another question" : " truncated"));
    return false;
  }
  r.answer.server = server().text;
  Status s = r.answer.status;
  if (s == Status::server_failure || s == Status::malformed) {
    r.answer.detail = cat(status_name(s), " from ", server().text,
                          r.answer.detail.empty() ? "" : ": ", r.answer.detail);
    record(std::move(r.answer));
    next_try();
    return false;
  }
  finish(std::move(r.answer));
  return false;
}

void Exchange::fail_try(Status s, std::string detail) {
  record(make_answer(s, std::move(detail)));
  next_try();
}

// Keeps the most telling failure: anything a server said beats silence.
void Exchange::record(Answer a) {
  if (a.status != Status::timeout || failure_.status == Status::timeout) failure_ = std::move(a);
}

void Exchange::finish(Answer a) {
  close_io();
  if (in_start_) {  // the caller of start() is not ready for the callback yet
    pending_ = std::make_unique<Answer>(std::move(a));
    timeval now{0, 0};
    evtimer_add(timer_.get(), &now);
    return;
  }
  evtimer_del(timer_.get());
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(a));  // last: the callback may destroy *this
}

}  // namespace posthorn::dns
