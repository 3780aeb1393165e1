// local/content.cc - see content.h.
#include "local/content.h"

#include "lib/address/address.h"
#include "lib/base/strings.h"

namespace posthorn::local {

namespace {

// Appends `text` with CRLF turned into LF; `from_quote` puts '>' before each
// line that starts with "From ". `at_line_start` carries across calls, so
// headers and body render as one stream.
void append_lines(std::string& out, std::string_view text, bool from_quote, bool& at_line_start) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (at_line_start && from_quote && text.substr(i, 5) == "From ") out += '>';
    std::size_t nl = text.find('\n', i);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::size_t stop = end;
    // CR LF -> LF; a CR that ends the text without LF is kept (bare CR).
    if (nl != std::string_view::npos && stop > i && text[stop - 1] == '\r') --stop;
    out.append(text.substr(i, stop - i));
    if (nl == std::string_view::npos) {
      at_line_start = false;
      return;
    }
    out += '\n';
    at_line_start = true;
    i = nl + 1;
  }
}

}  // namespace

std::string from_line(std::string_view sender, std::time_t when) {
  std::tm tm{};
  ::localtime_r(&when, &tm);
  char buf[64];
  // asctime's fixed form: "Www Mmm dd hh:mm:ss yyyy" (day space-padded).
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return cat("From ", sender.empty() ? std::string("MAILER-DAEMON") : header_address(sender), "  ",
             buf, "\n");
}

std::string header_address(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return address::quote_local(address);
  return cat(address::quote_local(address.substr(0, at)), address.substr(at));
}

std::string render(Style style, const Envelope& env, std::string_view headers,
                   std::string_view body, std::time_t when) {
  std::string out;
  out.reserve(headers.size() + body.size() + 256);
  if (style != Style::maildir) out += from_line(env.sender, when);
  out += cat("Return-Path: <", env.sender.empty() ? std::string() : header_address(env.sender), ">\n");
  if (env.original_to) out += cat("X-Original-To: ", header_address(*env.original_to), "\n");
  if (env.delivered_to) out += cat("Delivered-To: ", header_address(*env.delivered_to), "\n");
  const bool quote = style == Style::mbox;
  bool at_line_start = true;
  append_lines(out, headers, quote, at_line_start);
  append_lines(out, body, quote, at_line_start);
  if (!at_line_start) out += '\n';
  if (style == Style::mbox) out += '\n';
  return out;
}

std::string delivered_to_line(std::string_view headers, std::string_view address) {
  std::size_t nl = headers.find('\n');
  bool crlf = nl != std::string_view::npos && nl > 0 && headers[nl - 1] == '\r';
  if (nl == std::string_view::npos) crlf = true;  // no header section: SMTP's CRLF
  return cat("Delivered-To: ", header_address(address), crlf ? "\r\n" : "\n");
}

std::vector<std::string> delivered_to_values(std::string_view headers) {
  std::vector<std::string> out;
  std::string current;  // the unfolded value of the field being read, if it is Delivered-To
  bool in_field = false;
  auto flush = [&] {
    if (in_field) {
      std::string_view v = trim(current);
      if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
      out.emplace_back(trim(v));
    }
    in_field = false;
    current.clear();
  };
  std::size_t i = 0;
  while (i < headers.size()) {
    std::size_t nl = headers.find('\n', i);
    std::size_t end = nl == std::string_view::npos ? headers.size() : nl;
    std::string_view line = headers.substr(i, end - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    i = nl == std::string_view::npos ? headers.size() : nl + 1;
    if (line.empty()) break;  // end of the header section
    if (line[0] == ' ' || line[0] == '\t') {
      if (in_field) current += cat(" ", trim(line));
      continue;
    }
    flush();
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "Delivered-To")) {
      in_field = true;
      current = std::string(line.substr(colon + 1));
    }
  }
  flush();
  return out;
}

bool is_loop(const std::vector<std::string>& values, std::string_view address) {
  const std::string want = header_address(address);
  for (const std::string& v : values)
    if (iequals(v, want) || iequals(v, address)) return true;
  return false;
}

}  // namespace posthorn::local
