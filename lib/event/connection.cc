// lib/event/connection.cc - see connection.h.
//
// Reading is wanted unless the owner paused it, the output is above its high
// watermark, or the connection is closing; update_reading() applies that one
// rule after every change, so the three reasons cannot undo each other.
//
// Everything that touches OpenSSL is in connection_tls.cc, so a program that
// never makes a TLS connection does not link libssl and libcrypto (each
// process would carry ~0.5 MiB of their relocated tables).
#include "lib/event/connection.h"

#include <event2/buffer.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::event {

namespace {
// Under a STARTTLS filter the encrypted bytes wait in the underlying
// bufferevent, which tells nobody when it has written them: a close after
// flush looks again this often until they are gone.
constexpr std::chrono::milliseconds kUnderlyingFlushPoll{5};
}  // namespace

std::unique_ptr<Connection> Connection::plain(EventBase& base, Fd fd, ConnectionOptions opts) {
  evutil_make_socket_nonblocking(fd.get());
  bufferevent* bev = bufferevent_socket_new(base.get(), fd.get(), BEV_OPT_CLOSE_ON_FREE);
  if (!bev) log::panic("bufferevent_socket_new failed");
  fd.release();  // closed by bufferevent_free
  return std::unique_ptr<Connection>(new Connection(base, bev, opts));
}

std::string (*Connection::tls_errors_)(bufferevent*) = nullptr;

Connection::Connection(EventBase& base, bufferevent* bev, ConnectionOptions opts)
    : base_(base), opts_(opts), bev_(bev), kick_(base, [this] {
        if (closed_) return;
        if (closing_) return close_when_sent();
        if (reading() && input_size() > 0 && read_fn_ && *read_fn_) {
          SharedFn<void()> fn = read_fn_;
          guarded("read", [&] { (*fn)(); });
        }
      }) {
  install();
}

Connection::~Connection() = default;

void Connection::install() {
  bufferevent_setcb(bev_.get(), &Connection::read_cb, &Connection::write_cb,
                    &Connection::event_cb, this);
  bufferevent_setwatermark(bev_.get(), EV_READ, 0, std::max(opts_.max_input, opts_.max_line + 1));
  bufferevent_setwatermark(bev_.get(), EV_WRITE, closing_ ? 0 : opts_.output_low, 0);
  set_idle_timeout(opts_.idle_timeout);
  bufferevent_enable(bev_.get(), EV_WRITE);
  update_reading();
}

void Connection::set_idle_timeout(std::chrono::milliseconds t) {
  opts_.idle_timeout = t;
  if (t.count() > 0) {
    timeval tv = to_timeval(t);
    bufferevent_set_timeouts(bev_.get(), &tv, &tv);
  } else {
    bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
  }
}

bool Connection::reading() const {
  return !closed_ && !closing_ && !paused_by_owner_ && !paused_by_output_;
}

void Connection::update_reading() {
  if (closed_) return;
  if (reading())
    bufferevent_enable(bev_.get(), EV_READ);
  else
    bufferevent_disable(bev_.get(), EV_READ);
}

void Connection::kick() { kick_.start(std::chrono::milliseconds(0)); }

std::size_t Connection::input_size() const {
  return evbuffer_get_length(bufferevent_get_input(bev_.get()));
}

std::size_t Connection::output_size() const {
  return evbuffer_get_length(bufferevent_get_output(bev_.get()));
}

std::string_view Connection::peek(std::size_t n) {
  n = std::min(n, input_size());
  if (n == 0) return {};
  auto* p = evbuffer_pullup(bufferevent_get_input(bev_.get()), static_cast<ev_ssize_t>(n));
  return {reinterpret_cast<const char*>(p), n};
}

void Connection::drain(std::size_t n) { evbuffer_drain(bufferevent_get_input(bev_.get()), n); }

std::string Connection::read(std::size_t n) {
  std::string out(peek(n));
  drain(out.size());
  return out;
}

Result<std::optional<std::string>> Connection::read_line() {
  evbuffer* in = bufferevent_get_input(bev_.get());
  std::size_t have = evbuffer_get_length(in);
  // Look for LF only where a line of allowed length could end.
  evbuffer_ptr end;
  evbuffer_ptr_set(in, &end, std::min(have, opts_.max_line), EVBUFFER_PTR_SET);
  evbuffer_ptr lf = evbuffer_search_range(in, "\n", 1, nullptr, &end);
  if (lf.pos < 0) {
    if (have >= opts_.max_line) {
      pause_reading();  // the caller should close; until then, no more read callbacks
      return make_error(Errc::too_large, cat("line longer than ", opts_.max_line, " bytes"));
    }
    return std::optional<std::string>();
  }
  return std::optional<std::string>(read(static_cast<std::size_t>(lf.pos) + 1));
}

void Connection::write(std::string_view bytes) {
  if (closed_ || closing_ || bytes.empty()) return;
  // With nothing queued before, the socket nearly always takes a reply at
  // once: send it now and spare the loop a write event (two epoll_ctl calls
  // and a wake-up for every reply). What it does not take, any error (the
  // bufferevent meets it again and reports it) and all of TLS go through the
  // bufferevent as before.
  if (!tls_ && direct_ && output_size() == 0) {
    ssize_t n = ::send(fd(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
    if (n < 0 && errno == ENOTSOCK) direct_ = false;  // a pipe (sendmail -bs): never again
    if (bytes.empty()) return;
  }
  bufferevent_write(bev_.get(), bytes.data(), bytes.size());
  if (!paused_by_output_ && output_size() > opts_.output_high) {
    paused_by_output_ = true;
    update_reading();
  }
}

void Connection::pause_reading() {
  paused_by_owner_ = true;
  update_reading();
}

void Connection::resume_reading() {
  paused_by_owner_ = false;
  update_reading();
  if (reading() && input_size() > 0) kick();
}

void Connection::close_after_flush() {
  if (closed_ || closing_) return;
  closing_ = true;
  update_reading();
  // The write callback now runs when the output is empty.
  bufferevent_setwatermark(bev_.get(), EV_WRITE, 0, 0);
  if (output_size() == 0) kick();
}

std::size_t Connection::unsent() const {
  std::size_t n = output_size();
  if (bufferevent* under = bufferevent_get_underlying(bev_.get()))
    n += evbuffer_get_length(bufferevent_get_output(under));
  return n;
}

void Connection::close_when_sent() {
  if (unsent() == 0) return finish({Errc::closed, "closed after flush"});
  // Our own output pending: the write callback comes back. Only the
  // underlying's: nothing will call, so look again shortly.
  if (output_size() == 0) kick_.start(kUnderlyingFlushPoll);
}

int Connection::fd() const { return static_cast<int>(bufferevent_getfd(bev_.get())); }

void Connection::finish(Error e) {
  if (closed_) return;
  closed_ = true;
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  kick_.cancel();
  SharedFn<void(const Error&)> fn = close_fn_;
  if (fn && *fn) guarded("close", [&] { (*fn)(e); });
}

void Connection::read_cb(bufferevent*, void* arg) {
  auto* self = static_cast<Connection*>(arg);
  if (!self->reading()) return;  // delivered again by kick() when reading resumes
  SharedFn<void()> fn = self->read_fn_;
  if (fn && *fn) guarded("read", [&] { (*fn)(); });
}

void Connection::write_cb(bufferevent*, void* arg) {
  auto* self = static_cast<Connection*>(arg);
  if (self->closed_) return;
  if (self->closing_) return self->close_when_sent();
  if (self->paused_by_output_ && self->output_size() <= self->opts_.output_low) {
    self->paused_by_output_ = false;
    self->update_reading();
    if (self->reading() && self->input_size() > 0) self->kick();
  }
}

void Connection::event_cb(bufferevent*, short what, void* arg) {
  auto* self = static_cast<Connection*>(arg);
  if (self->closed_) return;
  if (what & BEV_EVENT_CONNECTED) {
    SharedFn<void()> fn = self->tls_fn_;
    if (fn && *fn) guarded("tls ready", [&] { (*fn)(); });
    return;
  }
  if (what & BEV_EVENT_TIMEOUT) return self->finish({Errc::timeout, "idle timeout"});
  if (what & BEV_EVENT_EOF) return self->finish({Errc::closed, "connection closed by peer"});
  if (what & BEV_EVENT_ERROR) return self->finish(self->describe_error(what));
}

Error Connection::describe_error(short) const {
  if (tls_ && tls_errors_) {
    std::string text = tls_errors_(bev_.get());
    if (!text.empty()) return {Errc::protocol, "TLS: " + text};
  }
  int err = EVUTIL_SOCKET_ERROR();
  if (err != 0) return sys_error("connection", err);
  return {Errc::io, tls_ ? "TLS connection failed" : "connection failed"};
}

}  // namespace posthorn::event
