// Feeds arbitrary bytes to the IPC frame reader (split where the first byte
// says) and every frame it yields to the message decoder; a decoded message
// must survive re-encoding unchanged.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "lib/ipc/codec.h"
#include "lib/ipc/frame.h"

using namespace posthorn;
using namespace posthorn::ipc;

namespace {
struct Rcpt {
  std::string address;
  std::optional<std::string> orig_rcpt;
  unsigned notify = 0;
  void fields(auto& f) { f("address", address); f("orig_rcpt", orig_rcpt); f("notify", notify); }
  bool operator==(const Rcpt&) const = default;
};
struct Msg {
  static constexpr std::string_view kName = "deliver";
  std::string sender;
  std::int64_t size = 0;
  bool flag = false;
  std::vector<Rcpt> rcpts;
  std::vector<std::uint8_t> small;
  void fields(auto& f) {
    f("sender", sender); f("size", size); f("flag", flag); f("rcpt", rcpts); f("small", small);
  }
  bool operator==(const Msg&) const = default;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t cut = data[0] % (in.size() + 1);
  FrameReader r(4096);
  for (std::string_view part : {in.substr(0, cut), in.substr(cut)}) {
    r.feed(part);
    for (;;) {
      auto f = r.next();
      if (!f || !*f) break;
      (void)check_hello(**f, {"deliver", 1});
      auto m = decode<Msg>(**f);
      if (!m) continue;
      auto again = decode<Msg>(encode(*m));
      if (!again || !(*again == *m)) std::abort();
    }
  }
  return 0;
}
