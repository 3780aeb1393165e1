// qfdump - a test-only reader of one queue file, for integration tests that
// must look inside a queue file before the queue tools can.
// Does:       parses FILE with the queue reader and prints, one per line,
//             "id: ID", "sender: S", "recipient: R" (each), "full_name: N"
//             (the client name record), "protocol: P", "envid: E",
//             "ret: 0|1|2", "body_type: 0..3", "smtputf8: 0|1", then an
//             empty line and the message (headers and body) as stored.
// Trusts:     nothing: a file the reader refuses is an error (exit 1, the
//             reason on stderr).
// Usage:      qfdump FILE   (the file name must be its queue ID)
#include <cstdio>
#include <string>

#include "lib/queue/reader.h"

int main(int argc, char** argv) {
  using namespace posthorn;
  if (argc != 2) {
    std::fprintf(stderr, "usage: qfdump FILE\n");
    return 2;
  }
  auto qf = queue::read_queue_file(argv[1]);
  if (!qf) {
    std::fprintf(stderr, "qfdump: %s\n", qf.error().detail.c_str());
    return 1;
  }
  const queue::Envelope& e = qf->env;
  std::printf("id: %s\nsender: %s\n", qf->id.str().c_str(), e.sender.c_str());
  for (const queue::Recipient& r : e.recipients)
    std::printf("recipient: %s\n", r.address.c_str());
  std::printf("full_name: %s\nprotocol: %s\nenvid: %s\nret: %d\nbody_type: %d\nsmtputf8: %d\n\n",
              e.client.name.c_str(), e.client.protocol.c_str(), e.envid.c_str(),
              static_cast<int>(e.ret), static_cast<int>(e.body_type), e.smtputf8 ? 1 : 0);
  std::fwrite(qf->headers.data(), 1, qf->headers.size(), stdout);
  std::fwrite(qf->body.data(), 1, qf->body.size(), stdout);
  return 0;
}
