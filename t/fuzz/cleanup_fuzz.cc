// cleanup_fuzz - streams arbitrary bytes through a Cleanup up to finish() and
// checks the module's guarantees: the stored message does not depend on the
// split of the input, every LF in it is preceded by CR, the header section
// ends with an empty line, and refusals keep nothing.
//
// Input: byte 0 picks the settings (bit 0 local origin, bit 1 sendmail -t,
// bit 2 small limits, bit 3 always_add_missing_headers); byte 1 picks where
// the rest is cut into two feed() calls; the rest is the message.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lib/cleanup/cleanup.h"

using namespace posthorn;
using namespace posthorn::cleanup;

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

CleanupSettings settings(std::uint8_t flags) {
  CleanupSettings s;
  s.myhostname = "mx.example.net";
  s.myorigin = "example.net";
  s.now = std::chrono::system_clock::from_time_t(1795429725);
  if (flags & 1) s.origin = Origin::local;
  s.extract_recipients = (flags & 2) != 0;
  if (flags & 4) {
    s.message_size_limit = 200;
    s.header_size_limit = 30;
    s.hopcount_limit = 2;
    s.max_header_count = 4;
  }
  s.always_add_missing_headers = (flags & 8) != 0;
  return s;
}

queue::Envelope envelope() {
  queue::Envelope e;
  e.sender = "alice@example.org";
  queue::Recipient r;
  r.address = "bob@example.net";
  e.recipients.push_back(r);
  e.client = {"client.example.org", "192.0.2.1", "helo", "ESMTP", ""};
  return e;
}

bool crlf_only(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::uint8_t flags = data[0];
  std::string_view msg(reinterpret_cast<const char*>(data + 2), size - 2);
  std::size_t cut = msg.empty() ? 0 : data[1] % (msg.size() + 1);

  Cleanup whole(settings(flags), envelope());
  whole.feed(msg);
  Cleanup split(settings(flags), envelope());
  split.feed(msg.substr(0, cut));
  split.feed(msg.substr(cut));
  auto a = whole.finish();
  auto b = split.finish();
  require(a.has_value() == b.has_value(), "same verdict for any split");
  require(whole.status() == split.status(), "same status for any split");
  require(whole.observed().size == msg.size(), "size counts every byte");
  if (whole.status() == Status::ok) {
    require(whole.observed().bare_cr == split.observed().bare_cr, "same bare CR count");
    require(whole.observed().bare_lf == split.observed().bare_lf, "same bare LF count");
    require(whole.observed().hops == split.observed().hops, "same hop count");
  }
  if (!a) {
    require(whole.status() != Status::ok, "an error has a status");
    require(whole.body().empty() || whole.status() == Status::bad_header ||
                whole.status() == Status::no_recipients,
            "a refused message keeps no body");
    return 0;
  }
  // An added Message-ID is random: compare with the split's one put in its place.
  std::string h = split.headers();
  if (whole.message_id() != split.message_id()) {
    std::size_t at = h.find(split.message_id());
    require(at != std::string::npos, "added Message-ID is in the header");
    h.replace(at, split.message_id().size(), whole.message_id());
  }
  require(whole.headers() == h, "same headers for any split");
  require(whole.body() == split.body(), "same body for any split");
  require(crlf_only(whole.headers()) && crlf_only(whole.body()), "CRLF line ends");
  require(whole.headers().ends_with("\r\n\r\n"), "header section ends with an empty line");
  require(whole.body().empty() || whole.body().ends_with("\r\n"), "body ends with CRLF");
  require(whole.headers().starts_with("Received: "), "Received first");
  return 0;
}
