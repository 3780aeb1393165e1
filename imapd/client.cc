// imapd/client.cc - see client.h.
#include "imapd/client.h"

#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::imapd {
namespace {

// A FETCH stops producing above kOutputHigh octets of unsent output and goes
// on below kOutputLow. The window is wide enough that the millisecond poll
// does not idle a fast client (loopback empties a megabyte in well under
// a millisecond), and small enough to bound a session's memory.
constexpr std::size_t kOutputHigh = 2 * 1024 * 1024;
constexpr std::size_t kOutputLow = 512 * 1024;
constexpr std::chrono::milliseconds kDrainPoll{1};

}  // namespace

Client::Client(event::EventBase& loop, Fd fd, std::string label, std::string addr,
               const ClientOptions& options, Backend& backend, DoneFn on_done)
    : o_(options),
      backend_(backend),
      label_(std::move(label)),
      addr_(std::move(addr)),
      watch_(loop, [this] { session_->changed(); }),
      login_timer_(loop, [this] {
        if (session_->state() != Session::State::not_authenticated || closed_) return;
        log::info("login timeout from ", label_);
        conn_->write("* BYE Login timed out\r\n");
        conn_->close_after_flush();
      }),
      drain_timer_(loop, [this] { poll_output(); }),
      on_done_(std::move(on_done)),
      alive_(std::make_shared<bool>(true)) {
  event::ConnectionOptions co;
  co.max_line = o_.session.limits.max_line + 2;
  co.output_high = kOutputHigh;
  co.output_low = kOutputLow;
  co.idle_timeout = o_.timeout;
  Settings s = o_.session;
  s.client_addr = addr_;
  s.tls_available = o_.tls != nullptr;
  if (o_.wrappermode && o_.tls) {
    conn_ = event::Connection::tls(loop, std::move(fd), o_.tls->new_ssl(), event::TlsRole::server, co);
    s.tls_active = true;
  } else {
    conn_ = event::Connection::plain(loop, std::move(fd), co);
  }
  session_ = std::make_unique<Session>(std::move(s), *this);
  conn_->on_read([this] { on_read(); });
  conn_->on_close([this](const Error& e) { on_close(e); });
  conn_->on_tls_ready([this] {
    if (tls_pending_) {
      tls_pending_ = false;
      session_->tls_ready();
    }
  });
  log::info("connect from ", label_);
  login_timer_.start(o_.login_timeout);
  session_->start();
}

Client::~Client() { *alive_ = false; }

void Client::on_read() {
  while (!session_->finished() && !session_->waiting()) {
    const std::size_t n = conn_->input_size();
    if (n == 0) break;
    std::size_t used = session_->feed(conn_->peek(n));
    conn_->drain(used);
    if (used == 0) break;
  }
  after_feed();
}

// What the session's state asks of the connection after it ran.
void Client::after_feed() {
  if (closed_) return;
  if (session_->finished()) {
    watch_.stop();
    conn_->close_after_flush();
    return;
  }
  if (tls_pending_ && !conn_->ssl()) {
    // The tagged OK is queued; TLS starts behind it (Connection::start_tls
    // drops the plaintext input that came after STARTTLS).
    conn_->start_tls(o_.tls->new_ssl(), event::TlsRole::server);
  }
  if (session_->waiting()) conn_->pause_reading();
  if (session_->state() != Session::State::not_authenticated) login_timer_.cancel();
}

void Client::poll_output() {
  if (closed_) return;
  if (conn_->output_size() > kOutputLow) {
    drain_timer_.start(kDrainPoll);
    return;
  }
  session_->output_drained();  // sending more restarts the timer when congested again
  after_feed();
}

void Client::on_close(const Error& e) {
  if (closed_) return;
  closed_ = true;
  watch_.stop();
  if (e.code == Errc::timeout) log::info("timeout after ", label_);
  else if (e.code == Errc::protocol) log::info("TLS failure with ", label_, ": ", e.detail);
  std::string user = session_->user().empty() ? "" : cat(" user=", session_->user());
  log::info("disconnect from ", label_, user);
  DoneFn done = std::move(on_done_);
  done();  // may destroy this Client
}

void Client::send(std::string_view bytes) {
  conn_->write(bytes);
  if (congested() && !drain_timer_.pending()) drain_timer_.start(kDrainPoll);
}

bool Client::congested() const { return conn_->output_size() >= kOutputHigh; }

void Client::check_password(const std::string& login, const std::string& password,
                            std::function<void(AuthAnswer)> done) {
  std::weak_ptr<bool> alive = alive_;
  backend_.check_password(login, password, addr_, [this, alive, done](AuthAnswer a) {
    auto still = alive.lock();
    if (!still || !*still || closed_) return;
    if (a.kind == AuthAnswer::Kind::failed) log::info("login failed: ", label_);
    done(std::move(a));
    after_feed();
  });
}

Result<mailstore::Store> Client::open_store(const std::string& login) {
  return backend_.open_store(login);
}

void Client::start_tls() { tls_pending_ = true; }

void Client::watch(const std::filesystem::path& dir) { watch_.start(dir); }

void Client::unwatch() { watch_.stop(); }

void Client::resume() {
  if (closed_) return;
  conn_->resume_reading();
}

void Client::log(std::string_view line) { log::info(label_, ": ", line); }

}  // namespace posthorn::imapd
