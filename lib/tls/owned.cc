// lib/tls/owned.cc - OpenSSL error text.
#include "lib/tls/owned.h"

#include <openssl/err.h>

#include "lib/base/strings.h"

namespace posthorn::tls {

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];  // ERR_error_string_n's documented buffer size
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? buf : cat("; ", buf);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

}  // namespace posthorn::tls
