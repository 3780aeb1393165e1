// Feeds arbitrary client bytes to imapd's command reader, split where the
// first byte says, and checks what must hold for any input: the same events
// and commands whatever the split; no command deeper than max_nesting; no
// literal octets beyond max_literal; no command text beyond max_line.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "imapd/parser.h"

using namespace posthorn::imapd;

namespace {

Limits limits() {
  Limits l;
  l.max_line = 256;
  l.max_literal = 512;
  l.max_nesting = 6;
  return l;
}

struct Sizes {
  std::size_t text = 0, literal = 0;
};

void walk(const Value& v, std::size_t depth, Sizes& s, std::string& out) {
  if (depth > limits().max_nesting) std::abort();
  switch (v.kind) {
    case Value::Kind::atom: s.text += v.text.size(); out += "a:" + v.text; break;
    case Value::Kind::string:
      (v.literal ? s.literal : s.text) += v.text.size();
      out += (v.literal ? "l:" : "q:") + v.text;
      break;
    case Value::Kind::list:
      out += "(";
      for (const auto& i : v.items) walk(i, depth + 1, s, out);
      out += ")";
      break;
  }
  out += ' ';
}

std::string run(std::string_view input, std::size_t cut) {
  CommandReader r(limits());
  std::string out, buf;
  for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
    buf.append(piece);
    for (;;) {
      std::size_t used = 0;
      auto e = r.step(buf, used);
      if (used > buf.size()) std::abort();
      buf.erase(0, used);
      using E = CommandReader::Event;
      if (e == E::need_more) break;
      out += std::to_string(static_cast<int>(e)) + ":";
      if (e == E::command) {
        Command c = r.take();
        if (!valid_tag(c.tag) || c.name.empty()) std::abort();
        Sizes s;
        for (const auto& a : c.args) walk(a, 0, s, out);
        if (s.literal > limits().max_literal || s.text > limits().max_line) std::abort();
      } else if (e == E::literal) {
        if (r.literal_size() > limits().max_literal) std::abort();
      } else if (e == E::line_too_long ||
                 (e == E::literal_too_big && !r.literal_sync())) {
        return out;  // the session ends the connection here
      } else {
        out += r.tag() + "|" + r.error();
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  if (run(input, cut) != run(input, input.size())) std::abort();
  return 0;
}
