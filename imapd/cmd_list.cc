// imapd/cmd_list.cc - LIST and LSUB (RFC 3501 6.3.8, 6.3.9) with the
// CHILDREN attributes (RFC 3348), the special-use ones (RFC 6154), and
// LIST-EXTENDED (RFC 5258: selection options SUBSCRIBED, REMOTE,
// RECURSIVEMATCH, SPECIAL-USE; several patterns; RETURN (SUBSCRIBED
// CHILDREN SPECIAL-USE STATUS (...)), the last being LIST-STATUS, RFC 5819).
//
// The reference name and each pattern are joined as they are ("" and "%",
// "Archive." and "%"); the result is matched against every folder and
// every parent of a folder. A parent that is no folder itself (Maildir++
// keeps ".a.b" without ".a") is listed \Noselect, so that "%" still shows
// the way down to it. Children and special-use attributes are always sent.
#include <map>
#include <set>

#include "imapd/format.h"
#include "imapd/mailbox_name.h"
#include "imapd/session.h"
#include "lib/base/strings.h"

namespace posthorn::imapd {
namespace {

struct Node {
  bool exists = false;    // a folder (LIST) or a subscribed name (LSUB)
  bool children = false;  // some name below it
};

// Every name and every parent of a name, with what the listing needs.
std::map<std::string, Node> tree(const std::vector<std::string>& names) {
  std::map<std::string, Node> out;
  for (const auto& n : names) {
    out[n].exists = true;
    for (std::size_t dot = n.find(kSeparator); dot != std::string::npos;
         dot = n.find(kSeparator, dot + 1))
      out[n.substr(0, dot)].children = true;
  }
  return out;
}

bool below(std::string_view child, std::string_view parent) {
  return child.size() > parent.size() && child.compare(0, parent.size(), parent) == 0 &&
         child[parent.size()] == kSeparator;
}

struct ListRequest {
  bool extended = false;
  bool subscribed = false;      // selection SUBSCRIBED
  bool recursive = false;       // selection RECURSIVEMATCH
  bool special_only = false;    // selection SPECIAL-USE
  bool ret_subscribed = false;  // RETURN (SUBSCRIBED)
  std::optional<std::vector<Session::StatusItem>> ret_status;
  std::string ref;
  std::vector<std::string> patterns;

  bool matches(std::string_view name) const {
    for (const auto& p : patterns)
      if (list_match(ref + p, name)) return true;
    return false;
  }
};

// Errors are texts for BAD.
std::optional<std::string> parse_list(const std::vector<Value>& args, ListRequest& r) {
  std::size_t i = 0;
  if (args.size() >= 3 && args[0].is_list()) {
    r.extended = true;
    for (const Value& o : args[0].items) {
      if (o.is("SUBSCRIBED")) r.subscribed = true;
      else if (o.is("RECURSIVEMATCH")) r.recursive = true;
      else if (o.is("SPECIAL-USE")) r.special_only = true;
      else if (!o.is("REMOTE")) return "Unknown LIST selection option";
    }
    if (r.recursive && !r.subscribed) return "RECURSIVEMATCH needs another selection option";
    i = 1;
  }
  if (i + 2 > args.size() || !args[i].is_astring()) return "LIST needs a reference and a pattern";
  r.ref = args[i++].text;
  if (args[i].is_list()) {
    r.extended = true;
    for (const Value& p : args[i].items) {
      if (!p.is_astring()) return "Invalid pattern";
      r.patterns.push_back(p.text);
    }
    if (r.patterns.empty()) return "Empty pattern list";
  } else if (args[i].is_astring()) {
    r.patterns.push_back(args[i].text);
  } else {
    return "Invalid pattern";
  }
  ++i;
  if (i < args.size()) {
    if (i + 2 != args.size() || !args[i].is("RETURN") || !args[i + 1].is_list())
      return "Invalid LIST return options";
    r.extended = true;
    const auto& opts = args[i + 1].items;
    for (std::size_t k = 0; k < opts.size(); ++k) {
      if (opts[k].is("SUBSCRIBED")) {
        r.ret_subscribed = true;
      } else if (opts[k].is("STATUS")) {
        if (k + 1 >= opts.size()) return "STATUS needs items";
        r.ret_status = Session::status_items(opts[++k]);
        if (!r.ret_status) return "Unknown STATUS item";
      } else if (!opts[k].is("CHILDREN") && !opts[k].is("SPECIAL-USE")) {
        return "Unknown LIST return option";
      }
    }
  }
  return std::nullopt;
}

}  // namespace

void Session::cmd_list(Command& c) {
  ListRequest r;
  if (auto err = parse_list(c.args, r)) return bad(c.tag, *err);
  if (!r.extended && r.patterns[0].empty()) {
    // RFC 3501 6.3.8: the hierarchy delimiter and the root of the reference.
    untagged(cat("* LIST (\\Noselect) \"", kSeparator, "\" \"\""));
    return finish(c.tag, "OK", "LIST completed");
  }
  auto folders = store_->list();
  if (!folders) return store_error(c.tag, folders.error(), "LIST");
  std::set<std::string> subs;
  if (r.subscribed || r.ret_subscribed) {
    auto s = store_->subscriptions();
    if (!s) return store_error(c.tag, s.error(), "LIST");
    subs.insert(s->begin(), s->end());
  }
  const std::map<std::string, Node> real = tree(*folders);
  // The candidates: the folder tree, or the subscribed names (and, with
  // RECURSIVEMATCH, their parents).
  std::map<std::string, Node> names = r.subscribed ? tree({subs.begin(), subs.end()}) : real;
  for (const auto& [name, node] : names) {
    if (!r.matches(name)) continue;
    auto it = real.find(name);
    const bool exists = it != real.end() && it->second.exists;
    const bool selected = r.subscribed ? subs.count(name) > 0 : node.exists;
    bool childinfo = false;
    if (r.recursive) {
      for (const auto& s : subs)
        if (below(s, name)) childinfo = true;
    }
    if (!selected && !childinfo) {
      // A parent that only leads to selected names: shown when "%" hides them.
      if (r.subscribed) continue;
    }
    std::string_view su = special_use_of(s_.special_use, name);
    if (r.special_only && (su.empty() || !exists)) continue;
    std::string attrs;
    auto add = [&](std::string_view a) { attrs += cat(attrs.empty() ? "" : " ", a); };
    if (!exists) add(r.subscribed && selected ? "\\NonExistent" : "\\Noselect");
    bool has_children = it != real.end() && it->second.children;
    add(has_children ? "\\HasChildren" : "\\HasNoChildren");
    if ((r.subscribed || r.ret_subscribed) && subs.count(name)) add("\\Subscribed");
    if (exists && !su.empty()) add(su);
    std::string line = cat("* LIST (", attrs, ") \"", kSeparator, "\" ", mailbox_out(name));
    if (childinfo) line += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    untagged(line);
    if (r.ret_status && exists) {
      if (auto st = status_line(name, *r.ret_status)) untagged(*st);
    }
  }
  finish(c.tag, "OK", "LIST completed");
}

// A parent that is not subscribed itself is listed \Noselect only when the
// pattern matches it but not the subscribed names below it ("%" hiding them).
void Session::cmd_lsub(Command& c) {
  if (c.args.size() != 2 || !c.args[0].is_astring() || !c.args[1].is_astring())
    return bad(c.tag, "LSUB needs a reference and a mailbox pattern");
  auto subs = store_->subscriptions();
  if (!subs) return store_error(c.tag, subs.error(), "LSUB");
  std::string full = c.args[0].text + c.args[1].text;
  auto nodes = tree(*subs);
  for (const auto& [name, node] : nodes) {
    if (!list_match(full, name)) continue;
    if (!node.exists) {
      bool shown_below = false;
      for (const auto& s : *subs)
        if (below(s, name) && list_match(full, s)) shown_below = true;
      if (shown_below) continue;
    }
    untagged(cat("* LSUB (", node.exists ? "" : "\\Noselect", ") \"", kSeparator, "\" ",
                 mailbox_out(name)));
  }
  finish(c.tag, "OK", "LSUB completed");
}

}  // namespace posthorn::imapd
