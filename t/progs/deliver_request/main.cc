// deliver_request - a test-only qmgr stand-in for local's integration tests.
// Does:       writes a queue file with lib/queue's writer into a queue
//             directory (active/ by default), as qmgr would have it, then
//             sends one deliver::Request for it to a delivery agent's socket
//             and prints the reply as one JSON object:
//               {"queue_id": "...", "results": [{"index": 0, "status": "sent",
//                "dsn": "2.0.0", "text": "...", "relay": "local"}, ...]}
// Usage:      deliver_request -q SPOOL -s SOCKET -r RCPT[=ORIG] ... [-f SENDER]
//                 [-m MESSAGE_FILE] [-t TRANSPORT] [-Q QUEUE] [-i QUEUE_ID]
//                 [-N NOTIFY] [-w SECONDS]
//             -m: the message (headers, empty line, body) as bytes; stdin
//                 when not given. -i: send a request for an existing queue
//                 file instead of writing one (a retry); -r then names the
//                 recipients to ask for, indexed in the order given.
//             -Q: the queue directory to write to and to name in the
//                 request (default active). -t: the transport (default
//                 local). -N: NOTIFY bits for every recipient.
//             deliver_request -S QUEUE_FILE prints a queue file instead, as
//                 {"sender": ..., "recipients": [{"address", "original",
//                 "notify", "orcpt"}], "envid": ..., "ret": N, "headers": ...,
//                 "body": ...}.
//             In both outputs bytes outside printable ASCII come out as
//             \u00XX, so a test gets the bytes back with .encode("latin-1").
// Exit:       0 with the JSON on stdout once a reply arrived; 1 with a line
//             on stderr otherwise (usage, write error, no agent, timeout,
//             an error reply).
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
#include "lib/queue/reader.h"
#include "lib/queue/spool.h"
#include "lib/queue/writer.h"

namespace {

using namespace posthorn;

// Bytes as JSON string content: printable ASCII as is, the rest escaped.
std::string json_bytes(std::string_view s) {
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

int show(const std::string& path) {
  auto qf = queue::read_queue_file(path);
  if (!qf) {
    std::cerr << "deliver_request: " << qf.error().detail << "\n";
    return 1;
  }
  std::string out = cat("{\"queue_id\": ", json_bytes(qf->id.str()), ", \"sender\": ",
                        json_bytes(qf->env.sender), ", \"envid\": ", json_bytes(qf->env.envid),
                        ", \"ret\": ", static_cast<int>(qf->env.ret), ", \"recipients\": [");
  for (std::size_t i = 0; i < qf->env.recipients.size(); ++i) {
    const queue::Recipient& r = qf->env.recipients[i];
    if (i) out += ", ";
    out += cat("{\"address\": ", json_bytes(r.address), ", \"original\": ", json_bytes(r.original),
               ", \"notify\": ", static_cast<int>(r.notify), ", \"orcpt\": ", json_bytes(r.orcpt), "}");
  }
  out += cat("], \"headers\": ", json_bytes(qf->headers), ", \"body\": ", json_bytes(qf->body), "}");
  std::cout << out << "\n";
  return 0;
}

int fail(std::string_view what) {
  std::cerr << "deliver_request: " << what << "\n";
  return 1;
}

// Headers run up to and including the first empty line.
void split_message(const std::string& msg, std::string& headers, std::string& body) {
  std::size_t end = std::string::npos;
  if (msg.rfind("\r\n", 0) == 0) end = 2;
  else if (msg.rfind("\n", 0) == 0) end = 1;
  else if (std::size_t p = msg.find("\r\n\r\n"); p != std::string::npos) end = p + 4;
  if (std::size_t p = msg.find("\n\n"); p != std::string::npos && (end == std::string::npos || p + 2 < end))
    end = p + 2;
  if (end == std::string::npos) end = msg.size();
  headers = msg.substr(0, end);
  body = msg.substr(end);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  ParsedArgs a = parse_options(std::vector<std::string>(argv + 1, argv + argc), "q:s:r:f:m:t:Q:i:N:w:S:");
  if (!a.error.empty()) return fail(a.error);
  if (a.has('S')) return show(a.value('S'));
  if (!a.has('q') || !a.has('s') || !a.has('r'))
    return fail("usage: deliver_request -q SPOOL -s SOCKET -r RCPT[=ORIG] ... [-f SENDER] [-m FILE]");
  queue::Spool spool(a.value('q'));
  const std::string queue_name = a.value('Q', "active");
  queue::QueueName queue = queue::QueueName::active;
  bool known = false;
  for (queue::QueueName q : queue::kAllQueues)
    if (queue::queue_dir_name(q) == queue_name) queue = q, known = true;

  deliver::Request req;
  req.queue = queue_name;
  req.transport = a.value('t', "local");
  req.nexthop = "localhost";
  req.sender = a.value('f');
  unsigned long long notify = 0;
  if (a.has('N') && !parse_uint(a.value('N'), notify)) return fail("-N: not a number");
  queue::Envelope env;
  env.sender = req.sender;
  env.client = {"localhost", "127.0.0.1", "test.example", "ESMTP", ""};
  std::uint32_t index = 0;
  for (const auto& [opt, value] : a.opts) {
    if (opt != 'r') continue;
    std::size_t eq = value.find('=');
    deliver::Rcpt r;
    r.index = index++;
    r.address = value.substr(0, eq);
    if (eq != std::string::npos) r.original = value.substr(eq + 1);
    r.notify = static_cast<std::uint8_t>(notify);
    queue::Recipient qr;
    qr.address = r.address;
    qr.original = r.original;
    qr.notify = r.notify;
    env.recipients.push_back(qr);
    req.rcpts.push_back(std::move(r));
  }
  if (a.has('i')) {
    req.queue_id = a.value('i');
    req.arrival_us = now_us();
  } else {
    if (!known) return fail("-Q: unknown queue directory " + queue_name);
    std::string msg;
    if (a.has('m')) {
      auto m = read_file(a.value('m'));
      if (!m) return fail(m.error().detail);
      msg = std::move(*m);
    } else {
      msg.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    std::string headers, body;
    split_message(msg, headers, body);
    queue::WriteOptions wo;
    wo.queue = queue;
    auto id = queue::write_queue_file(spool, env, headers, body, wo);
    if (!id) return fail("write queue file: " + id.error().detail);
    req.queue_id = id->str();
    req.arrival_us = static_cast<std::int64_t>(id->micros());
  }
  req.active_us = now_us();
  req.dispatch_us = now_us();
  unsigned long long wait = 60;
  if (a.has('w') && !parse_uint(a.value('w'), wait)) return fail("-w: not a number");
  auto reply = ipc::call(a.value('s'), deliver::kProtocol, req, std::chrono::seconds(wait));
  if (!reply) return fail(cat(errc_name(reply.error().code), ": ", reply.error().detail));
  std::string out = cat("{\"queue_id\": ", json_bytes(req.queue_id), ", \"results\": [");
  for (std::size_t i = 0; i < reply->results.size(); ++i) {
    const deliver::RcptResult& r = reply->results[i];
    if (i) out += ", ";
    out += cat("{\"index\": ", r.index, ", \"status\": ", json_bytes(r.status), ", \"dsn\": ",
               json_bytes(r.dsn), ", \"text\": ", json_bytes(r.text), ", \"relay\": ",
               json_bytes(r.relay), "}");
  }
  std::cout << out << "]}\n";
  return 0;
}
