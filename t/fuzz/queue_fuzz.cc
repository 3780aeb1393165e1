// libFuzzer target: arbitrary bytes into the queue-file parser.
//
// The first input byte chooses whether the checksum is verified: without it
// the fuzzer reaches the record parser; with it, the checksum path itself is
// exercised. Whatever parses must encode again to the same bytes (modulo the
// checksum when it was not verified), so parser and encoder cannot drift.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/queue/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace posthorn::queue;
  if (size == 0) return 0;
  ParseOptions opts;
  opts.verify_checksum = (data[0] & 1) != 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto qf = parse_queue_file(bytes, opts);
  if (!qf) return 0;
  for (const Recipient& r : qf->env.recipients)
    if (r.status_offset + kStatusBlockSize > bytes.size()) std::abort();
  auto again = encode_queue_file(*qf);
  if (!again) std::abort();  // whatever we accept we must be able to write
  std::size_t body_end = again->size() - 4;
  if (again->size() != bytes.size() || again->compare(0, body_end, bytes.substr(0, body_end)) != 0)
    std::abort();
  if (opts.verify_checksum && *again != bytes) std::abort();
  return 0;
}
