// lib/dns/answer.cc - names of types and outcomes, for logs.
#include "lib/dns/answer.h"

namespace posthorn::dns {

std::string_view type_name(RrType t) {
  switch (t) {
    case RrType::a:
      return "A";
    case RrType::cname:
      return "CNAME";
    case RrType::ptr:
      return "PTR";
    case RrType::mx:
      return "MX";
    case RrType::txt:
      return "TXT";
    case RrType::aaaa:
      return "AAAA";
    case RrType::tlsa:
      return "TLSA";
  }
  return "?";
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::found:
      return "found";
    case Status::nxdomain:
      return "NXDOMAIN";
    case Status::nodata:
      return "NODATA";
    case Status::null_mx:
      return "null MX";
    case Status::server_failure:
      return "server failure";
    case Status::timeout:
      return "timeout";
    case Status::malformed:
      return "malformed reply";
    case Status::bad_name:
      return "bad domain name";
    case Status::local_error:
      return "local error";
  }
  return "?";
}

bool is_temporary(Status s) {
  return s == Status::server_failure || s == Status::timeout || s == Status::malformed ||
         s == Status::local_error;
}

}  // namespace posthorn::dns
