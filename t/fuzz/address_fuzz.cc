// address_fuzz - feeds arbitrary bytes to the lib/address parsers and checks
// that whatever parses keeps the module's guarantees: the canonical form
// parses back to the same value, limits hold, and no local part or domain
// carries control octets or invalid UTF-8.
//
// Input: the first byte picks the options (bit 0 lenient, bit 1 SMTPUTF8);
// the rest is the text given to every parser.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/address/address.h"
#include "lib/address/header.h"
#include "lib/address/path.h"
#include "lib/address/utf8.h"

using namespace posthorn::address;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check_mailbox(const Mailbox& m, const Options& o) {
  require(quote_local(m.local).size() <= kMaxLocal, "local part limit");
  require(m.domain.size() <= kMaxDomain, "domain limit");
  require(to_string(m).size() + 2 <= kMaxPath, "path limit");
  require(valid_utf8(m.local) && valid_utf8(m.domain), "valid UTF-8");
  require(o.smtputf8 || (!has_non_ascii(m.local) && !has_non_ascii(m.domain)), "ASCII without SMTPUTF8");
  for (char c : m.local) require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "local octets");
  for (char c : m.domain) {
    require(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "domain octets");
    require(c < 'A' || c > 'Z' || m.domain[0] == '[', "domain lower case");
  }
}

std::string render_params(const std::vector<EsmtpParam>& params) {
  std::string s;
  for (const auto& p : params) s += " " + p.keyword + (p.value ? "=" + *p.value : "");
  return s;
}

void fuzz_path_arg(std::string_view in, const Options& o) {
  auto r = parse_path_arg(in, o);
  if (!r) {
    require(code_of(r.error()) != Code::other, "error code from the table");
    return;
  }
  Options again = o;
  again.smtputf8 = o.smtputf8 || find_param(r->params, "SMTPUTF8") != nullptr;
  if (!r->path.null) check_mailbox(r->path.mailbox, again);
  auto back = parse_path_arg(to_string(r->path) + render_params(r->params), again);
  require(back.has_value(), "path argument round trip parses");
  require(back->path == r->path && back->params == r->params, "path argument round trip equal");
}

void fuzz_path(std::string_view in, const Options& o) {
  auto r = parse_path(in, o);
  if (!r) return;
  if (!r->null) check_mailbox(r->mailbox, o);
  auto back = parse_path(to_string(*r), o);
  require(back.has_value() && *back == *r, "path round trip");
  if (r->null) return;
  auto m = parse_mailbox(to_string(r->mailbox), o);
  require(m.has_value() && *m == r->mailbox, "mailbox external form round trip");
}

void fuzz_header(std::string_view in, const Options& o) {
  auto r = parse_address_list(in, o);
  if (!r) {
    require(code_of(r.error()) != Code::other, "error code from the table");
    return;
  }
  for (const auto& m : all_mailboxes(*r)) check_mailbox(m, o);
  const std::string text = to_string(*r);
  auto back = parse_address_list(text, o);
  require(back.has_value(), "address list round trip parses");
  require(*back == *r, "address list round trip equal");
}

void fuzz_pieces(std::string_view in, const Options& o) {
  if (auto l = unquote_local(in, o)) {
    auto back = unquote_local(quote_local(*l), o);
    require(back.has_value() && *back == *l, "local part round trip");
  }
  if (auto d = canonical_domain(in, o)) {
    auto back = canonical_domain(*d, o);
    require(back.has_value() && *back == *d, "domain is a fixed point");
  }
  auto x = xtext_decode(xtext_encode(in));
  require(x.has_value() && *x == in, "xtext round trip");
  if (auto d = xtext_decode(in)) {
    auto again = xtext_decode(xtext_encode(*d));
    require(again.has_value() && *again == *d, "xtext decode then encode");
  }
  const LocalSplit s = split_extension(in, "+-");
  const std::string joined = s.delimiter ? s.base + s.delimiter + s.extension : s.base;
  require(joined == in, "split_extension keeps every octet");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Options o;
  o.lenient = (data[0] & 1) != 0;
  o.smtputf8 = (data[0] & 2) != 0;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz_path_arg(in, o);
  fuzz_path(in, o);
  fuzz_header(in, o);
  fuzz_pieces(in, o);
  return 0;
}
