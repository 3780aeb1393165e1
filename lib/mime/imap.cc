// lib/mime/imap.cc - ENVELOPE and BODYSTRUCTURE strings (RFC 3501 7.4.2).
#include "lib/mime/imap.h"

#include "lib/address/header.h"
#include "lib/base/strings.h"

namespace posthorn::mime {

std::string imap_string(std::string_view s) {
  bool literal = false;
  for (unsigned char c : s) {
    if (c == 0 || c == '\r' || c == '\n' || c >= 0x80) literal = true;
  }
  if (literal) return cat("{", s.size(), "}\r\n", s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string imap_nstring(std::optional<std::string_view> s) {
  return s ? imap_string(*s) : std::string("NIL");
}

namespace {

std::optional<std::string> field(std::string_view header, std::string_view name) {
  auto v = find_field(header, name);
  if (!v) return std::nullopt;
  return unfold(*v);
}

std::string nstr(const std::optional<std::string>& s) {
  return s ? imap_string(*s) : std::string("NIL");
}

std::string name_or_nil(const std::string& s) { return s.empty() ? "NIL" : imap_string(s); }

std::string render_mailbox(const address::NameAddr& a) {
  std::string host = a.mailbox.domain.empty() ? "MISSING_DOMAIN" : a.mailbox.domain;
  std::string local = a.mailbox.local.empty() ? "MISSING_MAILBOX" : a.mailbox.local;
  return cat("(", name_or_nil(a.display_name), " NIL ", imap_string(local), " ",
             imap_string(host), ")");
}

// Splits at commas outside quotes, angle brackets and comments, so that a
// list with one bad address still shows the others.
std::vector<std::string_view> split_list(std::string_view v) {
  std::vector<std::string_view> out;
  int paren = 0;
  bool quoted = false, angle = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
    } else if (c == '\\' && paren > 0) {
      ++i;
    } else if (c == '"' && paren == 0) {
      quoted = true;
    } else if (c == '(') {
      ++paren;
    } else if (c == ')' && paren > 0) {
      --paren;
    } else if (paren == 0 && (c == '<' || c == '>')) {
      angle = c == '<';
    } else if (c == ',' && paren == 0 && !angle) {
      out.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(v.substr(start));
  return out;
}

void render_list(const address::AddressList& list, std::string& out) {
  for (const auto& a : list) {
    if (!a.is_group) {
      out += render_mailbox(a.mailboxes[0]);
      continue;
    }
    out += cat("(NIL NIL ", imap_string(a.group_name), " NIL)");
    for (const auto& m : a.mailboxes) out += render_mailbox(m);
    out += "(NIL NIL NIL NIL)";
  }
}

std::string address_list(const std::optional<std::string>& value) {
  if (!value) return "NIL";
  address::Options opts;
  opts.smtputf8 = true;
  std::string out;
  auto whole = address::parse_address_list(*value, opts);
  if (whole) {
    render_list(*whole, out);
  } else {
    for (std::string_view piece : split_list(*value)) {
      if (trim(piece).empty()) continue;
      auto one = address::parse_address_list(piece, opts);
      if (one) {
        render_list(*one, out);
      } else {
        out += cat("(", imap_string(trim(piece)), " NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")");
      }
    }
  }
  return out.empty() ? "NIL" : cat("(", out, ")");
}

}  // namespace

std::string envelope(const Message& msg, std::size_t idx) {
  std::string_view h = msg.header(msg.parts[idx]);
  auto from = field(h, "from");
  auto sender = field(h, "sender");
  auto reply_to = field(h, "reply-to");
  // RFC 3501 7.4.2: sender and reply-to default to from; an empty field
  // counts as absent for this purpose.
  if (!sender || sender->empty()) sender = from;
  if (!reply_to || reply_to->empty()) reply_to = from;
  return cat("(", nstr(field(h, "date")), " ", nstr(field(h, "subject")), " ",
             address_list(from), " ", address_list(sender), " ", address_list(reply_to), " ",
             address_list(field(h, "to")), " ", address_list(field(h, "cc")), " ",
             address_list(field(h, "bcc")), " ", nstr(field(h, "in-reply-to")), " ",
             nstr(field(h, "message-id")), ")");
}

namespace {

std::string params(const std::vector<Param>& ps) {
  if (ps.empty()) return "NIL";
  std::string out = "(";
  for (const auto& p : ps) {
    if (out.size() > 1) out += ' ';
    out += cat(imap_string(p.name), " ", imap_string(p.value));
  }
  return out + ")";
}

// body-fld-dsp SP body-fld-lang SP body-fld-loc
std::string ext_tail(const Part& p) {
  std::string out;
  if (p.disposition.type.empty()) {
    out = "NIL";
  } else {
    out = cat("(", imap_string(p.disposition.type), " ", params(p.disposition.params), ")");
  }
  if (p.languages.empty()) {
    out += " NIL";
  } else if (p.languages.size() == 1) {
    out += " " + imap_string(p.languages[0]);
  } else {
    out += " (";
    for (std::size_t i = 0; i < p.languages.size(); ++i) {
      out += (i ? " " : "") + imap_string(p.languages[i]);
    }
    out += ")";
  }
  out += " " + (p.has_location ? imap_string(p.location) : std::string("NIL"));
  return out;
}

// body-fields = param id desc enc octets. A text part without parameters
// shows the RFC 2045 5.2 default charset, as Dovecot does.
std::string body_fields(const Part& p) {
  std::string ps = p.content_type.type == "text" && p.content_type.params.empty()
                       ? std::string("(\"charset\" \"us-ascii\")")
                       : params(p.content_type.params);
  return cat(ps, " ",
             p.has_id ? imap_string(p.id) : std::string("NIL"), " ",
             p.has_description ? imap_string(p.description) : std::string("NIL"), " ",
             imap_string(p.encoding), " ", p.wire_size);
}

}  // namespace

// Recursion follows the part tree, whose depth the parser bounds (kMaxDepth).
std::string body_structure(const Message& msg, bool extended, std::size_t idx) {
  const Part& p = msg.parts[idx];
  std::string out = "(";
  if (p.is_multipart()) {
    for (std::size_t c : p.children) out += body_structure(msg, extended, c);
    out += " " + imap_string(p.content_type.subtype);
    if (extended) out += cat(" ", params(p.content_type.params), " ", ext_tail(p));
    return out + ")";
  }
  out += cat(imap_string(p.content_type.type), " ", imap_string(p.content_type.subtype), " ",
             body_fields(p));
  if (p.is_message()) {
    out += cat(" ", envelope(msg, p.children[0]), " ",
               body_structure(msg, extended, p.children[0]), " ", p.lines);
  } else if (p.content_type.type == "text") {
    out += cat(" ", p.lines);
  }
  if (extended) out += cat(" NIL ", ext_tail(p));
  return out + ")";
}

}  // namespace posthorn::mime
