// pop3d/client.cc - see client.h.
#include "pop3d/client.h"

#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/tls/session.h"

namespace posthorn::pop3d {

Client::Client(event::EventBase& loop, Fd fd, std::string label, std::string addr,
               const ClientOptions& options, Backend& backend, DoneFn on_done)
    : o_(options), backend_(backend), label_(std::move(label)), addr_(std::move(addr)),
      on_done_(std::move(on_done)) {
  event::ConnectionOptions co;
  co.idle_timeout = o_.timeout;
  co.max_line = o_.session.max_line;
  if (o_.wrappermode && o_.tls)
    conn_ = event::Connection::tls(loop, std::move(fd), o_.tls->new_ssl(), event::TlsRole::server, co);
  else
    conn_ = event::Connection::plain(loop, std::move(fd), co);
  Settings s = o_.session;
  s.tls_offered = o_.tls != nullptr && !o_.wrappermode;
  s.tls_active = o_.wrappermode;
  session_ = std::make_unique<Session>(std::move(s), *this);
  conn_->on_read([this] { on_read(); });
  conn_->on_close([this](const Error& e) { on_close(e); });
  conn_->on_tls_ready([this] { tls_ready(); });
  log::info("connect from ", label_);
  // In wrapper mode the greeting waits in the TLS layer until the handshake.
  session_->start();
}

Client::~Client() = default;

void Client::send(std::string_view bytes) { conn_->write(bytes); }

bool Client::congested() const { return !conn_->closed() && !conn_->reading(); }

void Client::on_read() {
  while (conn_->reading() && !session_->finished() && !session_->waiting()) {
    const std::size_t n = conn_->input_size();
    if (n == 0) break;
    const std::size_t used = session_->feed(conn_->peek(n));
    conn_->drain(used);
    if (used == 0) break;
  }
  after_feed();
}

// What the session asked for during feed(), done now that it has returned.
void Client::after_feed() {
  if (session_->finished()) return conn_->close_after_flush();
  if (tls_requested_ && session_->tls_pending()) {
    tls_requested_ = false;
    conn_->start_tls(o_.tls->new_ssl(), event::TlsRole::server);  // drops unread plaintext
  }
}

void Client::check_password(const std::string& login, const std::string& password) {
  conn_->pause_reading();
  std::weak_ptr<int> guard = alive_;
  backend_.check_password(login, password, addr_, [this, guard, login](PasswordCheck c) {
    if (guard.expired()) return;  // the connection has gone meanwhile
    if (c.verdict == PasswordCheck::wrong)
      log::warn(label_, ": POP3 login failed for ", printable(login));
    else if (c.verdict == PasswordCheck::temporary)
      log::warn(label_, ": POP3 login of ", printable(login), " aborted: the auth service could not check");
    session_->password_checked(c);
    if (session_->finished()) return conn_->close_after_flush();
    conn_->resume_reading();  // input that waited is delivered from the loop
  });
}

Result<std::unique_ptr<Mailbox>> Client::open_mailbox(const std::string& login) {
  auto box = backend_.open_mailbox(login);
  if (box) {
    log::info(label_, ": login=", printable(login), " messages=", (*box)->messages().size());
  } else if (box.error().code == Errc::busy) {
    log::info(label_, ": login=", printable(login), " mailbox in use");
  } else {
    log::warn(label_, ": login=", printable(login), " mailbox not opened: ", box.error().detail);
  }
  return box;
}

void Client::start_tls() { tls_requested_ = true; }

void Client::tls_ready() {
  tls_up_ = true;
  log::info(tls::connection_established(tls::session_info(conn_->ssl()), "from", label_));
  if (session_->tls_pending()) {
    session_->tls_started();
    on_read();  // a client that sent CAPA at once after the handshake
  }
}

void Client::on_close(const Error& e) {
  if (e.code == Errc::timeout) log::info("timeout after ", label_);
  else if ((session_->tls_pending() || (o_.wrappermode && !tls_up_)) && e.code != Errc::closed)
    log::info("TLS handshake failed with ", label_, ": ", e.detail);
  log::info("disconnect from ", label_, session_->login().empty() ? "" : " login=",
            printable(session_->login()), " retrieved=", session_->retrieved(),
            " deleted=", session_->removed());
  DoneFn done = std::move(on_done_);
  if (done) done();  // may destroy this object: nothing after it
}

}  // namespace posthorn::pop3d
