// Feeds arbitrary bytes to the DNS reply reader as the answer to a query for
// "example.test". The first byte picks the query type; the reply's own id is
// taken as the query id so that inputs get past the id check and into the
// question, answer and CNAME-chain parsing. Whatever is accepted must be
// internally consistent.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/dns/message.h"

using namespace posthorn::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const RrType kTypes[] = {RrType::a,   RrType::cname, RrType::ptr, RrType::mx,
                                  RrType::txt, RrType::aaaa,  RrType::tlsa};
  RrType type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto id = static_cast<std::uint16_t>((static_cast<unsigned char>(wire[0]) << 8) |
                                       static_cast<unsigned char>(wire[1]));
  Reply r = read_reply(wire, "example.test", type, id);
  if (r.verdict != Verdict::use) return 0;
  const Answer& a = r.answer;
  if (a.status == Status::found) {
    for (std::size_t i = 1; i < a.mx.size(); ++i)
      if (a.mx[i - 1].preference > a.mx[i].preference) std::abort();  // must be sorted
    for (const auto& m : a.mx)
      if (m.exchange.empty()) std::abort();  // "" only in a null MX
  }
  if (a.status == Status::null_mx && type != RrType::mx) std::abort();
  return 0;
}
