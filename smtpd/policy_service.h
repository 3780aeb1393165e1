// smtpd/policy_service.h - the daemon's side of smtpd/policy.h: the
// restriction engine with real DNS (lib/dns AsyncResolver), real tables
// (smtpd/recipients.h) and qmgr for ETRN.
//
// PolicyService: one per process, built after the privilege drop from
//   main.cf; shared by every session.
// SessionPolicy: one per client; runs one Evaluation at a time and answers
//   the session through callbacks from the event loop.
// Refuses to start (std::runtime_error, the daemon's fatal line) when
// neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can
// refuse mail for other destinations, as Postfix does: an open relay is
// never the result of a configuration mistake.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lib/dns/async_resolver.h"
#include "lib/event/event_base.h"
#include "lib/event/timer.h"
#include "lib/ipc/client.h"
#include "smtpd/networks.h"
#include "smtpd/policy.h"
#include "smtpd/recipients.h"
#include "smtpd/restrictions.h"

namespace posthorn::config {
class Config;
}

namespace posthorn::smtpd {

class PolicyService : public PolicyEnv {
 public:
  // `qmgr_socket`: where ETRN's flush requests go (queue::qmgr_socket()).
  PolicyService(const config::Config& cfg, event::EventBase& loop, std::vector<Network> mynetworks,
                std::string qmgr_socket);
  ~PolicyService() override;

  dns::Lookup dns_query(std::string_view name, dns::RrType type,
                        std::function<void(dns::Answer)> cb) override;
  Result<resolve::AddressClass> classify(std::string_view domain) const override;
  Result<std::optional<std::string>> unknown_recipient(std::string_view address,
                                                       resolve::AddressClass cls) const override;

  const Restrictions& restrictions() const { return restrictions_; }
  // A restriction or recipient table whose file changed, or "".
  std::string changed_table() const;
  event::EventBase& loop() const { return loop_; }
  const std::string& qmgr_socket() const { return qmgr_socket_; }

 private:
  event::EventBase& loop_;
  dns::AsyncResolver resolver_;
  RecipientDirectory recipients_;
  Restrictions restrictions_;
  std::string qmgr_socket_;
};

// Also the PolicyEnv of its evaluations: it keeps the session's DNS answers
// (at most kMaxCached, temporary failures not), so that an RBL or a sender
// domain is asked once per session, not once per recipient.
class SessionPolicy : public Policy, public PolicyEnv {
 public:
  static constexpr std::size_t kMaxCached = 64;
  using Checked = std::function<void(const Verdict&)>;
  using Flushed = std::function<void(bool reached)>;
  SessionPolicy(PolicyService& service, Checked checked, Flushed flushed);
  ~SessionPolicy() override;

  std::optional<Verdict> check(const CheckRequest& req) override;
  void flush(const std::string& domain) override;

  dns::Lookup dns_query(std::string_view name, dns::RrType type,
                        std::function<void(dns::Answer)> cb) override;
  const dns::Answer* cached(std::string_view name, dns::RrType type) const override;
  Result<resolve::AddressClass> classify(std::string_view domain) const override {
    return service_.classify(domain);
  }
  Result<std::optional<std::string>> unknown_recipient(std::string_view address,
                                                       resolve::AddressClass cls) const override {
    return service_.unknown_recipient(address, cls);
  }

 private:
  void flushed(bool reached);

  PolicyService& service_;
  Checked checked_;
  Flushed flushed_;
  std::unique_ptr<Evaluation> eval_;
  std::unique_ptr<Evaluation> retired_;  // the previous one, possibly still on the stack
  std::unique_ptr<ipc::Client> qmgr_;
  std::unique_ptr<ipc::Client> retired_qmgr_;
  event::Timer fail_later_;
  std::map<std::string, dns::Answer> cache_;  // "name|type"  // answers a flush that failed at once, from the loop
};

}  // namespace posthorn::smtpd
