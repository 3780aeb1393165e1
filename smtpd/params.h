// smtpd/params.h - the ESMTP parameters of MAIL FROM and RCPT TO: SIZE
// (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461
// 4.3, 4.4), NOTIFY and ORCPT (RFC 3461 4.1, 4.2).
//
// Refusals: a parameter we did not announce is 555 5.5.4 (RFC 5321
// 4.1.1.11); a repeated one or a malformed value is 501 5.5.4; BODY=BINARYMIME
// is refused because BINARYMIME is not offered.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/address/path.h"
#include "lib/queue/queue_file.h"
#include "smtpd/session.h"

namespace posthorn::smtpd {

struct MailParams {
  std::optional<std::uint64_t> size;
  queue::BodyType body = queue::BodyType::unspecified;
  bool smtputf8 = false;
  queue::DsnRet ret = queue::DsnRet::unspecified;
  std::string envid;  // decoded
  // AUTH=<> or AUTH=xtext, decoded ("" for <>). Accepted and not acted on:
  // we trust no client's claim about who submitted a message elsewhere.
  std::optional<std::string> auth;
};

struct RcptParams {
  std::uint8_t notify = 0;  // queue::kNotify* bits
  std::string orcpt;        // "type;address", decoded
};

// Reads MAIL FROM's parameters; nullopt result with `error` set on refusal.
std::optional<MailParams> mail_params(const std::vector<address::EsmtpParam>& params,
                                      Reply& error);
// Reads RCPT TO's parameters; the same convention.
std::optional<RcptParams> rcpt_params(const std::vector<address::EsmtpParam>& params,
                                      Reply& error);

// The reply for an address parse error of MAIL (mail = true) or RCPT, as the
// table in lib/address/address.h says.
Reply address_error_reply(const Error& e, bool mail);

}  // namespace posthorn::smtpd
