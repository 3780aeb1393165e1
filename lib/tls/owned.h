// lib/tls/owned.h - owning pointers for the OpenSSL objects lib/tls hands out.
//
// SslPtr and SslCtxPtr are defined once, by lib/event (Connection takes them);
// they are re-exported here so users of lib/tls need not name lib/event.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

#include "lib/base/fd.h"
#include "lib/event/connection.h"

namespace posthorn::tls {

using event::SslCtxPtr;
using event::SslPtr;
using X509Ptr = Owned<X509, X509_free>;
using EvpPkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using BioPtr = Owned<BIO, BIO_free_all>;

inline void free_x509_stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = Owned<STACK_OF(X509), free_x509_stack>;

// Drains OpenSSL's thread-local error queue into one line ("a; b"), or
// "no detail from OpenSSL" when it is empty. Call right after a failing call.
std::string openssl_errors();

}  // namespace posthorn::tls
