// tools/postdrop/stream.cc - see stream.h.
#include "tools/postdrop/stream.h"

#include <unistd.h>

#include <cerrno>

#include "lib/base/strings.h"
#include "lib/queue/codec.h"

namespace posthorn::postdrop {

Result<std::string> read_stream(int fd, std::size_t max_bytes) {
  std::string out;
  std::string chunk(64 * 1024, '\0');
  for (;;) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read standard input");
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes)
      return make_error(Errc::too_large, cat("input larger than ", max_bytes, " bytes"));
    out.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

Result<Submission> accept_stream(std::string_view bytes) {
  auto qf = queue::parse_queue_file(bytes);
  if (!qf) {
    Error e = std::move(qf).error();
    if (e.code != Errc::unsupported) e.code = Errc::parse;
    e.detail = cat("input is not a submission stream: ", e.detail);
    return e;
  }
  Submission s;
  const queue::Envelope& in = qf->env;
  s.env.sender = in.sender;
  for (const queue::Recipient& r : in.recipients) {
    queue::Recipient out;
    out.address = r.address;
    out.orcpt = r.orcpt;
    out.notify = r.notify;
    s.env.recipients.push_back(std::move(out));
  }
  s.env.client.name = in.client.name;  // the full name (MAILDROP.md)
  s.env.client.protocol = "local";
  s.env.ret = in.ret;
  s.env.envid = in.envid;
  s.env.body_type = in.body_type;
  s.env.smtputf8 = in.smtputf8;
  s.content = std::move(qf->headers);
  s.content += qf->body;
  return s;
}

}  // namespace posthorn::postdrop
