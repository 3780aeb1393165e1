// lib/dns/answer.h - what a DNS lookup returns, as plain C++ values.
//
// Every lookup ends in exactly one Answer. Its Status tells the outcomes
// apart that lead to different delivery decisions (RFC 3463 codes):
//   found           records of the asked type exist (CNAME chains already followed)
//   nxdomain        the name does not exist                  -> permanent (5.1.2 / 5.4.4)
//   nodata          the name exists, no record of that type  -> permanent for that type;
//                   for MX the caller falls back to A/AAAA (implicit MX, RFC 5321 5.1)
//   null_mx         RFC 7505 "MX 0 ." : the domain accepts no mail -> permanent (5.1.10)
//   server_failure  SERVFAIL, REFUSED or another rcode       -> temporary (4.4.3)
//   timeout         no usable reply after all servers and attempts -> temporary
//   malformed       a reply matched our question but could not be used -> temporary
//   bad_name        the name cannot be asked (syntax, length) -> permanent
//   local_error     we could not send (no servers, socket failure) -> temporary
// The lists in Answer are filled only for `found`.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::dns {

// The record types mail needs; values are the IANA type numbers.
enum class RrType : std::uint16_t {
  a = 1,
  cname = 5,
  ptr = 12,
  mx = 15,
  txt = 16,
  aaaa = 28,
  tlsa = 52,
};
std::string_view type_name(RrType t);  // "MX", "AAAA", ...

enum class Status {
  found,
  nxdomain,
  nodata,
  null_mx,
  server_failure,
  timeout,
  malformed,
  bad_name,
  local_error,
};
std::string_view status_name(Status s);  // "found", "NXDOMAIN", "NODATA", ...
// True for the outcomes after which a later attempt may succeed (defer, 4xx).
bool is_temporary(Status s);

struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;  // lower case, no trailing dot; "" only in a null MX
};

struct Address {
  std::string text;           // "192.0.2.1" or "2001:db8::1"
  sockaddr_storage sockaddr;  // AF_INET/AF_INET6, port 0: set the port before connect()
  socklen_t sockaddr_len = 0;
  int family() const { return sockaddr.ss_family; }
};

struct TlsaRecord {  // RFC 6698 2.1
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::string data;  // raw certificate association data (binary, not hex)
};

struct Answer {
  Status status = Status::local_error;
  std::string name;  // the name asked, lower case, no trailing dot
  RrType type = RrType::a;
  std::string canonical;       // where the CNAME chain ended (== name when there was none)
  bool authenticated = false;  // AD bit of the reply used (meaningful only with a
                               // validating resolver on a trusted path)
  int rcode = 0;               // rcode of the reply used; -1 when there was none
  std::uint32_t ttl = 0;       // smallest TTL among the records returned
  std::string server;          // "ip:port" of the server that gave the reply
  std::string detail;          // for the log: why it failed, which server; never for peers

  std::vector<MxRecord> mx;        // MX: sorted by preference, equal ones in reply order
  std::vector<Address> addresses;  // A, AAAA
  std::vector<std::string> texts;  // TXT: one entry per record, strings joined (RFC 7208 3.3)
  std::vector<std::string> names;  // PTR targets; CNAME target for a CNAME query
  std::vector<TlsaRecord> tlsa;    // TLSA

  bool ok() const { return status == Status::found; }
};

}  // namespace posthorn::dns
