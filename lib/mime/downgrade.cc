// lib/mime/downgrade.cc - 8BITMIME to 7BIT conversion.
//
// Steps: parse; collect edits (a part's header rewritten, a leaf's body
// replaced), which never overlap because a header edit lies in its part's
// header and body edits only touch leaves; splice the edits in offset order.
#include "lib/mime/downgrade.h"

#include <algorithm>
#include <vector>

#include "lib/base/strings.h"
#include "lib/mime/message.h"
#include "lib/mime/transfer.h"

namespace posthorn::mime {

namespace {

struct Edit {
  Range range;
  std::string text;
};

bool has_8bit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// The header of `p` without its Content-Transfer-Encoding fields, with
// `extra` fields added at its end, and a blank line.
std::string rewrite_header(const Message& m, const Part& p, const std::string& extra,
                           std::string_view eol) {
  std::string out;
  for_each_field(m.header(p), [&](const Field& f) {
    if (iequals(f.name, "content-transfer-encoding")) return true;
    out += f.raw;
    if (f.raw.back() != '\n') out += eol;
    return true;
  });
  return out + extra + std::string(eol);
}

std::string cte(std::string_view value, std::string_view eol) {
  return cat("Content-Transfer-Encoding: ", value, eol);
}

void plan_part(const Message& m, std::size_t idx, std::string_view eol, std::vector<Edit>& edits) {
  const Part& p = m.parts[idx];
  if (p.is_multipart() || p.is_message()) {
    if (p.encoding == "8bit" || p.encoding == "binary") {
      edits.push_back({p.header, rewrite_header(m, p, cte("7bit", eol), eol)});
    }
    return;
  }
  bool identity = p.encoding == "7bit" || p.encoding == "8bit" || p.encoding == "binary";
  if (!identity || !has_8bit(m.body(p))) return;
  std::string extra = cte("quoted-printable", eol);
  if (idx == 0 && !find_field(m.header(p), "mime-version")) {
    extra = cat("MIME-Version: 1.0", eol, extra);
  }
  edits.push_back({p.header, rewrite_header(m, p, extra, eol)});
  edits.push_back({p.body, qp_encode(m.body(p), eol)});
}

}  // namespace

Result<Downgraded> downgrade_8bit(std::string_view message) {
  Downgraded out;
  if (!has_8bit(message)) {
    out.message = std::string(message);
    return out;
  }
  Message m = parse(message);
  std::size_t nl = message.find('\n');
  std::string_view eol = nl != std::string_view::npos && nl > 0 && message[nl - 1] == '\r' ? "\r\n" : "\n";
  std::vector<Edit> edits;
  for (std::size_t i = 0; i < m.parts.size(); ++i) {
    const Part& p = m.parts[i];
    if (p.over_limit || m.parts.size() >= kMaxParts) {
      return make_error(Errc::too_large, "MIME nesting or part count over the limit");
    }
    if (has_8bit(m.header(p))) out.header_8bit = true;
    plan_part(m, i, eol, edits);
  }
  // Stable: a part without header lines has an empty header range at the
  // very offset where its body starts, and the header edit must come first.
  std::stable_sort(edits.begin(), edits.end(),
                   [](const Edit& a, const Edit& b) { return a.range.begin < b.range.begin; });
  std::size_t pos = 0;
  for (const auto& e : edits) {
    // Edits never overlap (headers and leaf bodies are disjoint); if they
    // did, splicing would duplicate or lose content, so refuse instead.
    if (e.range.begin < pos || e.range.end < e.range.begin)
      return make_error(Errc::invalid, "MIME structure with overlapping parts");
    out.message.append(message.substr(pos, e.range.begin - pos));
    out.message += e.text;
    pos = e.range.end;
  }
  out.message.append(message.substr(pos));
  out.changed = !edits.empty();
  return out;
}

}  // namespace posthorn::mime
