#include "smtpd/params.h"

#include <set>

#include "lib/base/strings.h"

namespace posthorn::smtpd {
namespace {

Reply bad(std::string_view what) { return {501, "5.5.4", cat("Bad ", what, " parameter syntax")}; }

// Refuses a parameter given twice (RFC 5321 4.1.2: each keyword once).
bool duplicate(std::set<std::string>& seen, const address::EsmtpParam& p, Reply& error) {
  if (seen.insert(p.keyword).second) return false;
  error = {501, "5.5.4", cat("Duplicate ", p.keyword, " parameter")};
  return true;
}

bool mail_param(const address::EsmtpParam& p, MailParams& out, Reply& error) {
  const std::string v = p.value.value_or("");
  if (p.keyword == "SIZE") {
    unsigned long long n = 0;
    if (!p.value || !parse_uint(v, n)) return error = bad("SIZE"), false;
    out.size = n;
  } else if (p.keyword == "BODY") {
    if (iequals(v, "7BIT")) out.body = queue::BodyType::seven_bit;
    else if (iequals(v, "8BITMIME")) out.body = queue::BodyType::eight_bit_mime;
    else return error = {501, "5.5.4", "Unsupported BODY parameter value"}, false;
  } else if (p.keyword == "SMTPUTF8") {
    if (p.value) return error = bad("SMTPUTF8"), false;
    out.smtputf8 = true;
  } else if (p.keyword == "RET") {
    if (iequals(v, "FULL")) out.ret = queue::DsnRet::full;
    else if (iequals(v, "HDRS")) out.ret = queue::DsnRet::hdrs;
    else return error = bad("RET"), false;
  } else if (p.keyword == "AUTH") {
    if (v == "<>") {
      out.auth = "";
    } else {
      auto d = address::xtext_decode(v);
      if (!p.value || !d || d->empty()) return error = bad("AUTH"), false;
      out.auth = *d;
    }
  } else if (p.keyword == "ENVID") {
    auto d = address::xtext_decode(v);
    if (!p.value || !d || d->empty() || d->size() > 100) return error = bad("ENVID"), false;
    out.envid = *d;
  } else {
    return error = {555, "5.5.4", cat("Unsupported option: ", p.keyword)}, false;
  }
  return true;
}

// NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1).
bool notify_value(std::string_view v, std::uint8_t& bits) {
  bits = 0;
  for (const std::string& word : split(v, ',')) {
    if (iequals(word, "NEVER")) bits |= queue::kNotifyNever;
    else if (iequals(word, "SUCCESS")) bits |= queue::kNotifySuccess;
    else if (iequals(word, "FAILURE")) bits |= queue::kNotifyFailure;
    else if (iequals(word, "DELAY")) bits |= queue::kNotifyDelay;
    else return false;
  }
  return bits != 0 && (bits == queue::kNotifyNever || !(bits & queue::kNotifyNever));
}

}  // namespace

std::optional<MailParams> mail_params(const std::vector<address::EsmtpParam>& params,
                                      Reply& error) {
  MailParams out;
  std::set<std::string> seen;
  for (const auto& p : params)
    if (duplicate(seen, p, error) || !mail_param(p, out, error)) return std::nullopt;
  return out;
}

std::optional<RcptParams> rcpt_params(const std::vector<address::EsmtpParam>& params,
                                      Reply& error) {
  RcptParams out;
  std::set<std::string> seen;
  for (const auto& p : params) {
    if (duplicate(seen, p, error)) return std::nullopt;
    if (p.keyword == "NOTIFY") {
      if (!p.value || !notify_value(*p.value, out.notify)) return error = bad("NOTIFY"), std::nullopt;
    } else if (p.keyword == "ORCPT") {
      auto o = address::parse_orcpt(p.value.value_or(""));
      if (!p.value || !o) return error = bad("ORCPT"), std::nullopt;
      out.orcpt = cat(o->type, ";", o->address);
    } else {
      error = {555, "5.5.4", cat("Unsupported option: ", p.keyword)};
      return std::nullopt;
    }
  }
  return out;
}

Reply address_error_reply(const Error& e, bool mail) {
  using address::Code;
  const Code c = address::code_of(e);
  const std::string text(address::reply_text(c));
  switch (c) {
    case Code::local_too_long: return {553, mail ? "5.1.7" : "5.1.3", text};
    case Code::domain_too_long: return {553, mail ? "5.1.8" : "5.1.2", text};
    case Code::needs_smtputf8: return {553, "5.6.7", text};
    case Code::path_too_long:
    case Code::bad_param:
    case Code::bad_xtext: return {501, "5.5.4", text};
    default: return {501, mail ? "5.1.7" : "5.1.3", text};
  }
}

}  // namespace posthorn::smtpd
