// lib/auth/password.cc - see password.h. libcrypt (libxcrypt) does the
// hashing: crypt_rn() with a heap crypt_data (32 KiB; reentrant, no static
// buffer), crypt_gensalt_rn() for new salts.
#include "lib/auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <memory>
#include <optional>

#include "lib/base/strings.h"

namespace posthorn::auth {
namespace {

struct SchemeInfo {
  Scheme scheme;
  std::string_view name;
  std::string_view gensalt_prefix;  // for make_hash; "" = not a crypt scheme
  unsigned long cost;               // crypt_gensalt count; 0 = libcrypt's default
};

constexpr SchemeInfo kSchemes[] = {
    {Scheme::sha512_crypt, "SHA512-CRYPT", "$6$", 0},
    {Scheme::sha256_crypt, "SHA256-CRYPT", "$5$", 0},
    // libcrypt's default bcrypt cost is 5; 10 is today's usual minimum.
    {Scheme::blf_crypt, "BLF-CRYPT", "$2b$", 10},
    {Scheme::plain, "PLAIN", "", 0},
};

// The hash prefixes a labelled crypt entry must start with.
bool prefix_agrees(std::string_view scheme, std::string_view hash) {
  if (scheme == "SHA512-CRYPT") return hash.starts_with("$6$");
  if (scheme == "SHA256-CRYPT") return hash.starts_with("$5$");
  if (scheme == "BLF-CRYPT")
    return hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$");
  return true;  // CRYPT: any method libcrypt knows
}

// crypt_rn(password, setting); nullopt when libcrypt refuses the setting.
std::optional<std::string> run_crypt(std::string_view password, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_rn requires
  std::string phrase(password);
  const char* out = ::crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof *data);
  OPENSSL_cleanse(phrase.data(), phrase.size());
  std::optional<std::string> result;
  if (out && out[0] != '*') result = std::string(out);
  OPENSSL_cleanse(data.get(), sizeof *data);  // it held the password
  return result;
}

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Equal digests, compared in constant time: the length of neither input leaks.
bool same_digest(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

Verdict check_crypt(std::string_view hash, std::string_view password) {
  if (hash.empty() || hash[0] == '!' || hash[0] == '*') return {Verdict::locked, {}};
  auto out = run_crypt(password, std::string(hash));
  if (!out) return {Verdict::unusable, "libcrypt does not know the hash method, or the hash is malformed"};
  return {same_bytes(*out, hash) ? Verdict::match : Verdict::mismatch, {}};
}

}  // namespace

Result<Scheme> parse_scheme(std::string_view name) {
  if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
    name = name.substr(1, name.size() - 2);
  for (const SchemeInfo& s : kSchemes)
    if (iequals(s.name, name)) return s.scheme;
  return make_error(Errc::parse, cat("unknown password scheme \"", printable(name),
                                     "\" (known: SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, PLAIN)"));
}

std::string_view scheme_name(Scheme s) {
  for (const SchemeInfo& i : kSchemes)
    if (i.scheme == s) return i.name;
  return "?";
}

Result<std::string> make_hash(Scheme scheme, std::string_view password) {
  if (password.empty()) return make_error(Errc::invalid, "empty password");
  if (password.find('\0') != std::string_view::npos)
    return make_error(Errc::invalid, "password holds a NUL byte");
  const SchemeInfo* info = nullptr;
  for (const SchemeInfo& i : kSchemes)
    if (i.scheme == scheme) info = &i;
  if (scheme == Scheme::plain) return cat("{PLAIN}", password);
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // Null random bytes: libcrypt draws them from the kernel itself.
  if (!::crypt_gensalt_rn(std::string(info->gensalt_prefix).c_str(), info->cost, nullptr, 0,
                          setting, sizeof setting))
    return sys_error("crypt_gensalt");
  auto out = run_crypt(password, setting);
  if (!out) return make_error(Errc::io, cat("libcrypt cannot hash with ", info->name));
  return cat("{", info->name, "}", *out);
}

Verdict verify_password(std::string_view entry, std::string_view password, bool allow_plain) {
  // A NUL cannot be in a password crypt(3) hashed, nor in a table value.
  if (password.find('\0') != std::string_view::npos) return {Verdict::mismatch, {}};
  if (!entry.starts_with('{')) return check_crypt(entry, password);
  std::size_t close = entry.find('}');
  if (close == std::string_view::npos)
    return {Verdict::unusable, "a '{' without '}' before the hash"};
  std::string scheme = upper(entry.substr(1, close - 1));
  std::string_view hash = entry.substr(close + 1);
  if (scheme == "PLAIN") {
    if (!allow_plain) return {Verdict::unusable, "{PLAIN} entry, but auth_allow_plain_scheme = no"};
    if (hash.empty()) return {Verdict::locked, {}};
    return {same_digest(hash, password) ? Verdict::match : Verdict::mismatch, {}};
  }
  if (scheme != "CRYPT" && scheme != "SHA512-CRYPT" && scheme != "SHA256-CRYPT" &&
      scheme != "BLF-CRYPT")
    return {Verdict::unusable, cat("unknown password scheme {", printable(scheme), "}")};
  if (!hash.empty() && hash[0] != '!' && hash[0] != '*' && !prefix_agrees(scheme, hash))
    return {Verdict::unusable, cat("the hash does not match its scheme {", scheme, "}")};
  return check_crypt(hash, password);
}

void spend_check_time(std::string_view password) {
  static const std::string dummy = [] {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!::crypt_gensalt_rn("$6$", 0, nullptr, 0, setting, sizeof setting)) return std::string();
    return run_crypt("posthorn", setting).value_or("");
  }();
  if (!dummy.empty()) (void)run_crypt(password, dummy);
}

}  // namespace posthorn::auth
