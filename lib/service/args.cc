// lib/service/args.cc - the command line between master and its children
// (service.h, step 1).
#include <string>

#include "lib/base/strings.h"
#include "lib/service/service.h"
#include "lib/service/status.h"

namespace posthorn::service {

namespace {

constexpr std::string_view kSkeletonSpec = "c:n:t:g:s:o:ujv";

Result<void> take_override(const std::string& text, ServiceArgs& out) {
  auto eq = text.find('=');
  std::string name(trim(std::string_view(text).substr(0, eq)));
  if (eq == std::string::npos || name.empty())
    return make_error(Errc::invalid, cat("-o ", text, ": expected name=value"));
  out.overrides.emplace_back(name, std::string(trim(std::string_view(text).substr(eq + 1))));
  return {};
}

Result<void> take_number(char opt, const std::string& text, unsigned long long max,
                         unsigned long long& out) {
  if (!parse_uint(text, out) || out > max)
    return make_error(Errc::invalid, cat("-", opt, " ", text, ": not a number up to ", max));
  return {};
}

Result<void> take_skeleton_option(char c, const std::string& v, ServiceArgs& out) {
  unsigned long long n = 0;
  switch (c) {
    case 'c': out.config_dir = v; return {};
    case 'n': out.service_name = v; return {};
    case 't': out.type = v; return {};
    case 'u': out.unprivileged = true; return {};
    case 'j': out.chroot = true; return {};
    case 'v': ++out.verbose; return {};
    case 'o': return take_override(v, out);
    case 'g':
      if (auto r = take_number(c, v, ~0ull, n); !r) return r;
      out.generation = n;
      return {};
    case 's':
      if (auto r = take_number(c, v, kMaxListenFds, n); !r) return r;
      out.listen_fds = static_cast<unsigned>(n);
      return {};
    default: return make_error(Errc::invalid, cat("unknown option -", c));
  }
}

}  // namespace

Result<ServiceArgs> parse_args(const std::vector<std::string>& args,
                               std::string_view program_spec) {
  for (char c : program_spec)
    if (c != ':' && kSkeletonSpec.find(c) != std::string_view::npos)
      return make_error(Errc::invalid, cat("program option -", c, " is the skeleton's"));
  ParsedArgs parsed = parse_options(args, cat(kSkeletonSpec, program_spec));
  if (!parsed.error.empty()) return make_error(Errc::invalid, parsed.error);
  ServiceArgs out;
  out.program.operands = parsed.operands;
  for (auto& [c, v] : parsed.opts) {
    if (program_spec.find(c) != std::string_view::npos) {
      out.program.opts.emplace_back(c, v);
      continue;
    }
    if (auto r = take_skeleton_option(c, v, out); !r) return std::move(r).error();
  }
  return out;
}

std::vector<std::string> format_args(const ServiceArgs& a) {
  std::vector<std::string> out{"-c", a.config_dir.string()};
  if (!a.service_name.empty()) out.insert(out.end(), {"-n", a.service_name});
  if (!a.type.empty()) out.insert(out.end(), {"-t", a.type});
  out.insert(out.end(), {"-g", std::to_string(a.generation), "-s", std::to_string(a.listen_fds)});
  if (a.unprivileged) out.push_back("-u");
  if (a.chroot) out.push_back("-j");
  for (int i = 0; i < a.verbose; ++i) out.push_back("-v");
  for (auto& [n, v] : a.overrides) out.insert(out.end(), {"-o", cat(n, "=", v)});
  return out;
}

}  // namespace posthorn::service
