// imapd/cmd_list.cc - LIST and LSUB (RFC 3501 6.3.8, 6.3.9) with the
// CHILDREN attributes (RFC 3348) and the special-use ones (RFC 6154).
//
// The reference name and the pattern are joined as they are ("" and "%",
// "Archive." and "%"); the result is matched against every folder and
// every parent of a folder. A parent that is no folder itself (Maildir++
// keeps ".a.b" without ".a") is listed \Noselect, so that "%" still shows
// the way down to it.
#include <map>

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

}  // namespace

void Session::cmd_list(Command& c) {
  if (c.args.size() != 2 || !c.args[0].is_astring() || !c.args[1].is_astring())
    return bad(c.tag, "LIST needs a reference and a mailbox pattern");
  const std::string& ref = c.args[0].text;
  const std::string& pattern = c.args[1].text;
  if (pattern.empty()) {
    // RFC 3501 6.3.8: the hierarchy delimiter and the root of the reference.
    untagged(cat("* LIST (\\Noselect) \"", kSeparator, "\" \"\""));
    return finish(c.tag, "OK", "LIST completed");
  }
  auto names = store_->list();
  if (!names) return store_error(c.tag, names.error(), "LIST");
  std::string full = ref + pattern;
  for (const auto& [name, node] : tree(*names)) {
    if (!list_match(full, name)) continue;
    std::string attrs = node.exists ? "" : "\\Noselect ";
    attrs += node.children ? "\\HasChildren" : "\\HasNoChildren";
    if (std::string_view su = special_use_of(s_.special_use, name); node.exists && !su.empty())
      attrs += cat(" ", su);
    untagged(cat("* LIST (", attrs, ") \"", kSeparator, "\" ", mailbox_astring(name)));
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
        if (s.size() > name.size() && s.compare(0, name.size(), name) == 0 &&
            s[name.size()] == kSeparator && list_match(full, s))
          shown_below = true;
      if (shown_below) continue;
    }
    untagged(cat("* LSUB (", node.exists ? "" : "\\Noselect", ") \"", kSeparator, "\" ",
                 mailbox_astring(name)));
  }
  finish(c.tag, "OK", "LSUB completed");
}

}  // namespace posthorn::imapd
