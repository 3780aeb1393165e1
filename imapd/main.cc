// imapd - the IMAP access agent (IMAP4rev1, RFC 3501, with the extensions
// listed in imapd/session.h; port 143 with STARTTLS, and 993 with
// imap_tls_wrappermode).
// Does:       one IMAP session per process (master spawns up to maxproc):
//             imapd/session.h is the protocol engine, imapd/client.h the
//             connection, lib/mailstore the user's Maildir++ store. After
//             the first accept the process retires (stops accepting) and
//             exits when its session ends.
// Talks to:   master (status, through lib/service); IMAP clients on the
//             sockets master passes; auth (imap_sasl_path, private/auth)
//             for every password.
// Runs as:    mail owner (master.cf unpriv y): see "Not yet".
// Trusts:     nothing from clients: command text, literals and nesting are
//             bounded (imap_max_line_length, imap_max_literal,
//             imap_max_nesting), every wait has a timer (imap_login_timeout,
//             imap_timeout), failed logins are bounded per session
//             (imap_auth_failure_limit) and counted per address by the auth
//             service; passwords are never logged. Mailbox names only after
//             lib/mailstore validated them.
// Not yet:    a mailbox is found through virtual_mailbox_maps (relative to
//             virtual_mailbox_base, a Maildir: the value ends in "/") only,
//             and the process keeps its own identity after login. XXX:
//             lib/access (local delivery's rules for system accounts,
//             home_mailbox, virtual_uid_maps, and the switch to the mailbox
//             owner after login, as pop3d does it) replaces both once it is
//             on main.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <stdexcept>

#include "imapd/client.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"
#include "lib/maps/address_lookup.h"
#include "lib/maps/table.h"
#include "lib/service/service.h"
#include "lib/tls/server.h"

// XXX: lib/auth (the auth service's client) is on its own branch while this
// is written; until it is on main, a build without it answers every login
// with NO [UNAVAILABLE] (and logs why). This switch goes when it lands.
#if __has_include("lib/auth/client.h")
#include "lib/auth/client.h"
#define IMAPD_AUTH_CLIENT 1
#endif

namespace {

using namespace posthorn;

std::string peer_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  else
    return "127.0.0.1";  // a UNIX-domain client is local
  return buf;
}

std::string from_config_dir(const config::Config& cfg, const std::string& file) {
  if (file.empty() || file.front() == '/') return file;
  return (cfg.config_directory() / file).string();
}

bool has_dotdot(std::string_view path) {
  for (const std::string& part : split(path, '/'))
    if (part == "..") return true;
  return false;
}

// Passwords through the auth service; stores through virtual_mailbox_maps.
class ProcessBackend : public imapd::Backend {
 public:
  ProcessBackend(event::EventBase& loop, const config::Config& cfg, std::string service)
      :
#ifdef IMAPD_AUTH_CLIENT
        auth_(loop, auth::service_socket(cfg.get("imap_sasl_path")),
              std::chrono::seconds(cfg.get_time("imap_sasl_check_timeout"))),
#endif
        base_(from_config_dir(cfg, cfg.get("virtual_mailbox_base"))),
        service_(std::move(service)) {
    (void)loop;
    for (const std::string& spec : cfg.get_list("virtual_mailbox_maps")) {
      auto t = maps::open_table(spec);
      if (!t) throw std::runtime_error(cat("virtual_mailbox_maps: ", spec, ": ", t.error().detail));
      maps_.push_back(std::move(*t));
    }
  }

  void check_password(const std::string& login, const std::string& password,
                      const std::string& client_addr,
                      std::function<void(imapd::AuthAnswer)> done) override {
#ifndef IMAPD_AUTH_CLIENT
    (void)login, (void)password, (void)client_addr;
    log::warn("this imapd was built without the auth service client (lib/auth)");
    done({imapd::AuthAnswer::Kind::temporary, {}});
#else
    auth::Check req;
    req.login = login;
    req.password = password;
    req.service = service_;
    req.client_addr = client_addr;
    auth_.check(req, [done = std::move(done)](Result<auth::Checked> r) {
      using K = imapd::AuthAnswer::Kind;
      if (!r) log::warn("auth service: ", r.error().detail);
      if (!r || r->temporary) return done({K::temporary, {}});
      if (!r->ok) return done({K::failed, {}});
      done({K::ok, r->login});
    });
#endif
  }

  Result<mailstore::Store> open_store(const std::string& login) override {
    auto rel = mailbox_of(login);
    if (!rel) return std::move(rel).error();
    if (base_.empty()) return make_error(Errc::invalid, "virtual_mailbox_base is not set");
    if (rel->empty() || rel->front() == '/' || has_dotdot(*rel))
      return make_error(Errc::invalid, cat("bad mailbox path ", printable(*rel), " in virtual_mailbox_maps"));
    if (rel->back() != '/')
      return make_error(Errc::unsupported, cat("mailbox ", printable(*rel), " is not a Maildir"));
    return mailstore::Store::open(cat(base_, "/", *rel), true);
  }

 private:
  Result<std::string> mailbox_of(const std::string& login) const {
    for (const auto& t : maps_) {
      auto hit = maps::lookup_address(*t, login);
      if (!hit) return std::move(hit).error();
      if (*hit) return std::string(trim((*hit)->value));
    }
    return make_error(Errc::not_found, cat("no virtual mailbox for ", printable(login)));
  }

#ifdef IMAPD_AUTH_CLIENT
  auth::Client auth_;
#endif
  std::vector<std::unique_ptr<maps::Table>> maps_;
  std::string base_;
  std::string service_;
};

struct Shared {
  imapd::ClientOptions options;
  std::optional<tls::ReloadingServerContext> tls;
  std::unique_ptr<ProcessBackend> backend;
};
std::unique_ptr<Shared> shared;

std::unique_ptr<imapd::Client> client;
service::Job client_job;

// imap_tls_cert_file/_key_file with smtpd's mandatory protocol and cipher
// settings. No certificate: no STARTTLS (and wrapper mode cannot start). A
// certificate that does not load stops wrapper mode and turns STARTTLS off.
void tls_setup(const config::Config& cfg, const std::string& service, Shared& sh) {
  const bool wrapper = cfg.get_bool("imap_tls_wrappermode");
  std::string cert = cfg.get("imap_tls_cert_file");
  if (cert.empty()) {
    if (wrapper) throw std::runtime_error("imap_tls_wrappermode = yes needs imap_tls_cert_file");
    return;
  }
  tls::ServerSettings s;
  std::string key = cfg.get("imap_tls_key_file");
  s.certificates.push_back({from_config_dir(cfg, cert), key.empty() ? "" : from_config_dir(cfg, key)});
  s.protocols = join(cfg.get_list("smtpd_tls_mandatory_protocols"), " ");
  s.ciphers = cfg.get("smtpd_tls_mandatory_ciphers");
  s.exclude_ciphers = cfg.get_list("smtpd_tls_exclude_ciphers");
  s.ticket_lifetime = std::chrono::seconds(cfg.get_time("smtpd_tls_session_cache_timeout"));
  s.session_id_context = cat("imapd/", service);
  auto ctx = tls::ReloadingServerContext::create(std::move(s));
  if (!ctx) {
    if (wrapper || ctx.error().code == Errc::parse) throw std::runtime_error(ctx.error().detail);
    log::warn("STARTTLS is off: ", ctx.error().detail);
    return;
  }
  sh.tls.emplace(std::move(*ctx));
}

void post_drop(service::Context& ctx) {
  const config::Config& cfg = ctx.config();
  auto sh = std::make_unique<Shared>();
  imapd::Settings& s = sh->options.session;
  s.banner = cfg.get("imap_banner");
  s.plaintext_auth = cfg.get_bool("imap_plaintext_auth");
  s.auth_failure_limit = static_cast<std::size_t>(cfg.get_int("imap_auth_failure_limit"));
  s.limits.max_line = static_cast<std::size_t>(cfg.get_size("imap_max_line_length"));
  s.limits.max_literal = static_cast<std::uint64_t>(cfg.get_size("imap_max_literal"));
  s.limits.max_nesting = static_cast<std::size_t>(cfg.get_int("imap_max_nesting"));
  sh->options.login_timeout = std::chrono::seconds(cfg.get_time("imap_login_timeout"));
  sh->options.timeout = std::chrono::seconds(cfg.get_time("imap_timeout"));
  sh->options.wrappermode = cfg.get_bool("imap_tls_wrappermode");
  const std::string service = ctx.args().service_name.empty() ? "imapd" : ctx.args().service_name;
  tls_setup(cfg, service, *sh);
  sh->options.tls = sh->tls ? &*sh->tls : nullptr;
  sh->backend = std::make_unique<ProcessBackend>(ctx.loop(), cfg, service);
  shared = std::move(sh);
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  ctx.retire("one session per process");  // stops the listener before it accepts again
  if (client) return;  // cannot happen: the listener stopped with the first
  std::string addr = peer_address(a.peer);
  client_job = std::move(job);
  client = std::make_unique<imapd::Client>(
      ctx.loop(), std::move(a.fd), cat("unknown[", addr, "]"), addr, shared->options,
      *shared->backend, [] {
        client.reset();
        client_job.end();  // the process exits once idle and retiring
      });
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "imapd";
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  return service::run(p, argc, argv);
}
