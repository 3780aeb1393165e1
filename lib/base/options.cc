// lib/base/options.cc - see options.h.
#include "lib/base/options.h"

namespace posthorn {

bool ParsedArgs::has(char c) const {
  for (const auto& o : opts)
    if (o.first == c) return true;
  return false;
}

std::string ParsedArgs::value(char c, std::string def) const {
  for (auto it = opts.rbegin(); it != opts.rend(); ++it)
    if (it->first == c) return it->second;
  return def;
}

ParsedArgs parse_options(const std::vector<std::string>& args, std::string_view spec,
                         bool permute) {
  ParsedArgs r;
  bool only_operands = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_operands || a.size() < 2 || a[0] != '-') {
      r.operands.push_back(a);
      if (!permute) only_operands = true;
      continue;
    }
    if (a == "--") {
      only_operands = true;
      continue;
    }
    for (std::size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      std::size_t p = spec.find(c);
      if (c == ':' || p == std::string_view::npos) {
        r.error = std::string("unknown option -") + c;
        return r;
      }
      bool takes_value = p + 1 < spec.size() && spec[p + 1] == ':';
      if (!takes_value) {
        r.opts.emplace_back(c, std::string());
        continue;
      }
      if (j + 1 < a.size()) {
        r.opts.emplace_back(c, a.substr(j + 1));
      } else if (i + 1 < args.size()) {
        r.opts.emplace_back(c, args[++i]);
      } else {
        r.error = std::string("option -") + c + " needs a value";
        return r;
      }
      break;
    }
  }
  return r;
}

}  // namespace posthorn
