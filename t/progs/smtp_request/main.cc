// smtp_request - a test-only qmgr stand-in for smtp's integration tests.
// Does:       writes a queue file into active/ with lib/queue's writer (the
//             envelope as the options say), sends one deliver::Request for
//             it to the smtp agent's socket and prints the reply as one
//             JSON object on stdout:
//               {"queue_id": "...", "results": [{"index": 0, "status": "sent",
//                "dsn": "2.0.0", "text": "...", "relay": "..."}, ...]}
// Usage:      smtp_request -q SPOOL -s SOCKET -n NEXTHOP -r RCPT ... [-f SENDER]
//                 [-m MESSAGE_FILE] [-t TRANSPORT] [-N NOTIFY] [-O ORCPT]
//                 [-E ENVID] [-R full|hdrs] [-8] [-U] [-w SECONDS]
//             -m: the message (headers, empty line, body); stdin when not
//             given. -N/-O: NOTIFY bits and an ORCPT ("rfc822;addr") for
//             every recipient. The queue file gets the owner of the
//             spool's active/ directory. -8: BODY=8BITMIME was declared. -U: SMTPUTF8
//             was requested. -t: the transport (default smtp).
// Exit:       0 once a reply arrived; 1 with a line on stderr otherwise.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/deliver/protocol.h"
#include "lib/ipc/blocking_client.h"
#include "lib/queue/spool.h"
#include "lib/queue/writer.h"

namespace {

using namespace posthorn;

std::string json_text(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int fail(std::string_view what) {
  std::cerr << "smtp_request: " << what << "\n";
  return 1;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  ParsedArgs a = parse_options(std::vector<std::string>(argv + 1, argv + argc), "q:s:n:r:f:m:t:N:O:E:R:8Uw:");
  if (!a.error.empty()) return fail(a.error);
  if (!a.has('q') || !a.has('s') || !a.has('n') || !a.has('r'))
    return fail("usage: smtp_request -q SPOOL -s SOCKET -n NEXTHOP -r RCPT ... [-f SENDER] [-m FILE]");
  queue::Spool spool(a.value('q'));
  deliver::Request req;
  req.transport = a.value('t', "smtp");
  req.nexthop = a.value('n');
  req.sender = a.value('f');
  unsigned long long notify = 0;
  if (a.has('N') && !parse_uint(a.value('N'), notify)) return fail("-N: not a number");
  queue::Envelope env;
  env.sender = req.sender;
  env.client = {"localhost", "127.0.0.1", "test.example", "ESMTP", ""};
  env.envid = a.value('E');
  if (a.value('R') == "full") env.ret = queue::DsnRet::full;
  if (a.value('R') == "hdrs") env.ret = queue::DsnRet::hdrs;
  if (a.has('8')) env.body_type = queue::BodyType::eight_bit_mime;
  env.smtputf8 = a.has('U');
  std::uint32_t index = 0;
  for (const auto& [opt, value] : a.opts) {
    if (opt != 'r') continue;
    deliver::Rcpt r;
    r.index = index++;
    r.address = value;
    r.notify = static_cast<std::uint8_t>(notify);
    r.orcpt = a.value('O');
    env.recipients.push_back({r.address, "", r.orcpt, r.notify, {}, 0});
    req.rcpts.push_back(std::move(r));
  }
  std::string msg;
  if (a.has('m')) {
    auto m = read_file(a.value('m'));
    if (!m) return fail(m.error().detail);
    msg = std::move(*m);
  } else {
    msg.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::size_t split = msg.find("\r\n\r\n");
  split = split == std::string::npos ? msg.find("\n\n") : split + 2;
  split = split == std::string::npos ? msg.size() : split + 2;
  queue::WriteOptions wo;
  wo.queue = queue::QueueName::active;
  auto id = queue::write_queue_file(spool, env, msg.substr(0, split), msg.substr(split), wo);
  if (!id) return fail("write queue file: " + id.error().detail);
  // As qmgr's would be, the file belongs to the owner of the queue (the
  // mail owner when the instance runs as root), who runs the agent.
  struct stat dir{};
  const std::string file = spool.file(queue::QueueName::active, *id).string();
  if (::stat((a.value('q') + "/active").c_str(), &dir) == 0 && ::chown(file.c_str(), dir.st_uid, dir.st_gid) != 0)
    return fail("chown " + file);
  req.queue_id = id->str();
  req.arrival_us = static_cast<std::int64_t>(id->micros());
  req.active_us = now_us();
  req.dispatch_us = now_us();
  unsigned long long wait = 60;
  if (a.has('w') && !parse_uint(a.value('w'), wait)) return fail("-w: not a number");
  auto reply = ipc::call(a.value('s'), deliver::kProtocol, req, std::chrono::seconds(wait));
  if (!reply) return fail(cat(errc_name(reply.error().code), ": ", reply.error().detail));
  std::string out = cat("{\"queue_id\": ", json_text(req.queue_id), ", \"results\": [");
  for (std::size_t i = 0; i < reply->results.size(); ++i) {
    const deliver::RcptResult& r = reply->results[i];
    if (i) out += ", ";
    out += cat("{\"index\": ", r.index, ", \"status\": ", json_text(r.status), ", \"dsn\": ",
               json_text(r.dsn), ", \"text\": ", json_text(r.text), ", \"relay\": ", json_text(r.relay), "}");
  }
  std::cout << out << "]}\n";
  return 0;
}
