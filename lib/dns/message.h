// lib/dns/message.h - DNS messages: the query we send and what we accept back.
//
// ldns builds and parses the wire format; this file decides what a reply
// means. It is separate from the transport so that it can be tested and
// fuzzed on bytes alone.
//
// A reply is used only when it is a response (QR) to our query: same id, and
// a question section naming our name, type and class IN (RFC 5452 9.1).
// Anything else is ignored, so that a forged or stray datagram cannot end a
// lookup early. A response with our id that ldns cannot parse is malformed
// (whoever knows the id could forge a well-formed answer anyway). Answers are read the way a non-recursive
// resolver must: the recursive server follows CNAMEs, and we follow the chain it returned in the
// answer section from the asked name to the records of the asked type (RFC 1034 3.6.2, 5.2.2), at
// most kMaxCnameChain links, refusing loops.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/result.h"
#include "lib/dns/answer.h"
#include "lib/dns/config.h"

namespace posthorn::dns {

inline constexpr int kMaxCnameChain = 16;

// The wire form of a recursive (RD) query for `name` (normalized, see
// names.h) and `type` with query id `id`, with an EDNS0 OPT record
// advertising cfg.edns_size and, when cfg.dnssec_ok, the DO bit. Errc::parse
// when ldns refuses the name.
Result<std::string> build_query(const std::string& name, RrType type, std::uint16_t id,
                                const Config& cfg);

enum class Verdict {
  ignore,     // not a reply to this query (wrong id/question, not a response): keep waiting
  truncated,  // TC set: ask again over TCP (RFC 7766 5)
  use,        // a reply to this query; Reply::answer says what it means
};

struct Reply {
  Verdict verdict = Verdict::ignore;
  // For Verdict::use: status is found, nxdomain, nodata, null_mx,
  // server_failure (rcode kept) or malformed (detail says why).
  Answer answer;
};

// Reads `wire` as the reply to the query (`name`, `type`, `id`).
Reply read_reply(std::string_view wire, const std::string& name, RrType type, std::uint16_t id);

}  // namespace posthorn::dns
