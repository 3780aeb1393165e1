// Feeds arbitrary client bytes to smtpd's protocol engine, split where the
// first byte says, and checks what must hold for any input: the same replies
// whatever the split, every reply line well formed ("ddd" then ' ' or '-',
// CRLF-terminated), and no message accepted with more than the size limit.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "smtpd/session.h"

using namespace posthorn;
using namespace posthorn::smtpd;

namespace {

constexpr std::uint64_t kLimit = 4096;

class Sink final : public smtpd::Sink {
 public:
  class Msg final : public Message {
   public:
    void feed(std::string_view b) override { size_ += b.size(); }
    void commit(Done done) override {
      if (size_ > kLimit) std::abort();  // the session must have refused it
      done({250, "2.0.0", "Ok: queued as Q"});
    }

   private:
    std::uint64_t size_ = 0;
  };
  std::unique_ptr<Message> open(const queue::Envelope&) override { return std::make_unique<Msg>(); }
};

std::string run(std::string_view input, std::size_t cut) {
  Settings s;
  s.myhostname = "mx.example";
  s.banner = "mx.example ESMTP";
  s.message_size_limit = kLimit;
  s.recipient_limit = 5;
  s.mydestination = {"example.org"};
  s.client_addr = "192.0.2.1";
  Sink sink;
  std::string out;
  Session session(s, sink, [&](std::string_view b) { out.append(b); });
  session.start();
  session.feed(input.substr(0, cut));
  session.feed(input.substr(cut));
  return out;
}

void check_lines(const std::string& out) {
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t end = out.find("\r\n", at);
    if (end == std::string::npos || end - at < 4) std::abort();
    for (std::size_t i = at; i < at + 3; ++i)
      if (out[i] < '0' || out[i] > '9') std::abort();
    if (out[at + 3] != ' ' && out[at + 3] != '-') std::abort();
    at = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  std::string whole = run(input, input.size());
  if (run(input, cut) != whole) std::abort();
  check_lines(whole);
  return 0;
}
