// lib/event/connection_tls.cc - the TLS half of connection.h: implicit TLS,
// STARTTLS and the OpenSSL error text. Kept apart from connection.cc so that
// only programs that make TLS connections link libssl and libcrypto.
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "lib/base/strings.h"
#include "lib/event/connection.h"
#include "lib/log/log.h"

namespace posthorn::event {

namespace {

std::string openssl_errors(bufferevent* bev) {
  std::string text;
  while (unsigned long e = bufferevent_get_openssl_error(bev)) {
    char buf[256];  // ERR_error_string_n's documented buffer size
    ERR_error_string_n(e, buf, sizeof buf);
    text += text.empty() ? buf : cat("; ", buf);
  }
  return text;
}

bufferevent_ssl_state initial_state(TlsRole role) {
  return role == TlsRole::server ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING;
}

}  // namespace

std::unique_ptr<Connection> Connection::tls(EventBase& base, Fd fd, SslPtr ssl, TlsRole role,
                                            ConnectionOptions opts) {
  tls_errors_ = &openssl_errors;
  evutil_make_socket_nonblocking(fd.get());
  bufferevent* bev = bufferevent_openssl_socket_new(base.get(), fd.get(), ssl.get(),
                                                    initial_state(role), BEV_OPT_CLOSE_ON_FREE);
  if (!bev) log::panic("bufferevent_openssl_socket_new failed");
  fd.release();   // both are freed by bufferevent_free (BEV_OPT_CLOSE_ON_FREE)
  ssl.release();
  // Many clients drop TCP without close_notify; that is an end, not an attack
  // on us (we frame our own data: SMTP's dot, IMAP's literals).
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  std::unique_ptr<Connection> c(new Connection(base, bev, opts));
  c->tls_ = true;
  return c;
}

void Connection::start_tls(SslPtr ssl, TlsRole role) {
  if (closed_) return;
  tls_errors_ = &openssl_errors;
  drain(input_size());
  bufferevent* under = bev_.release();
  bufferevent_set_timeouts(under, nullptr, nullptr);  // the filter carries the timeout
  bufferevent* filter = bufferevent_openssl_filter_new(base_.get(), under, ssl.get(),
                                                       initial_state(role), BEV_OPT_CLOSE_ON_FREE);
  if (!filter) log::panic("bufferevent_openssl_filter_new failed");
  ssl.release();  // freed with the filter, which also frees `under`
  bufferevent_openssl_set_allow_dirty_shutdown(filter, 1);
  bev_.reset(filter);
  tls_ = true;
  install();
}

SSL* Connection::ssl() const { return tls_ ? bufferevent_openssl_get_ssl(bev_.get()) : nullptr; }

}  // namespace posthorn::event
