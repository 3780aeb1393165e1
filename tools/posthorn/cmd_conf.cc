// posthorn conf - shows and edits main.cf and master.cf (Postfix's postconf).
//
//   posthorn conf [-c DIR] [-n|-d] [-x] [-h] [name ...]   parameters
//   posthorn conf [-c DIR] -e name=value ...              set in main.cf
//   posthorn conf [-c DIR] -X name ...                    remove from main.cf
//   posthorn conf [-c DIR] -M [service[/type] ...]        master.cf entries
//   posthorn conf [-c DIR] -Me service/type='entry' ...   replace or add one
//   posthorn conf [-c DIR] -MX service/type ...           remove one
//
// As postconf, values are shown as written (`$name` unexpanded) unless -x is
// given. Edits are checked before anything is written: the new file is parsed
// together with the other one, and an edit that adds an error is refused with
// that error; errors the file already had do not block an edit (so a broken
// file can be repaired). The file is then replaced with write_file_durable.
// Exit status: 0; 64 (EX_USAGE) for bad arguments, an unknown name or a bad
// value on the command line; 78 (EX_CONFIG) when a file has errors or cannot
// be read; 74 (EX_IOERR) when a file cannot be written.
#include <sys/stat.h>
#include <sysexits.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "lib/base/file.h"
#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/config/edit.h"
#include "tools/posthorn/command.h"

namespace posthorn::tools {

namespace {

using config::Config;
using config::Diagnostic;

struct Files {
  std::filesystem::path dir;
  std::string main_text;
  std::string master_text;
};

int fail(const std::string& msg, int status) {
  std::fprintf(stderr, "posthorn conf: %s\n", msg.c_str());
  return status;
}

// Reads both files; main.cf must exist, master.cf may be missing.
Result<Files> read_files(const std::filesystem::path& dir) {
  std::error_code ec;
  Files f{std::filesystem::absolute(dir, ec), {}, {}};
  if (ec) f.dir = dir;
  auto m = read_file(dir / "main.cf");
  if (!m) return std::move(m).error();
  f.main_text = std::move(*m);
  if (auto k = read_file(dir / "master.cf")) f.master_text = std::move(*k);
  else if (k.error().code != Errc::not_found) return std::move(k).error();
  return f;
}

config::Parsed parse(const Files& f, const std::string& main_text, const std::string& master_text) {
  config::Sources src;
  src.main_text = main_text;
  src.main_file = (f.dir / "main.cf").string();
  src.master_text = master_text;
  src.master_file = (f.dir / "master.cf").string();
  src.config_dir = f.dir;
  return Config::parse(src);
}

// Errors of `after` that `before` did not have; line numbers are left out
// of the comparison because an edit moves lines.
std::vector<Diagnostic> new_errors(const config::Parsed& before, const config::Parsed& after) {
  std::multiset<std::string> old;
  for (const Diagnostic& d : before.errors) old.insert(d.file + "\n" + d.param + "\n" + d.message);
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : after.errors) {
    auto it = old.find(d.file + "\n" + d.param + "\n" + d.message);
    if (it == old.end()) out.push_back(d);
    else old.erase(it);
  }
  return out;
}

int write_checked(const Files& f, const std::string& main_text, const std::string& master_text,
                  const std::filesystem::path& path, const std::string& text) {
  auto errors = new_errors(parse(f, f.main_text, f.master_text), parse(f, main_text, master_text));
  if (!errors.empty()) {
    for (const Diagnostic& d : errors) fail(d.text(), 0);
    return fail(cat(path.string(), " not changed"), EX_USAGE);
  }
  struct stat st;
  unsigned mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  if (auto w = write_file_durable(path, text, mode); !w) return fail(w.error().detail, EX_IOERR);
  return 0;
}

int edit_main(const Files& f, const ParsedArgs& a, bool remove) {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::string> del;
  for (const std::string& op : a.operands) {
    if (remove) {
      del.push_back(op);
      continue;
    }
    std::size_t eq = op.find('=');
    if (eq == std::string::npos) return fail(cat("-e ", op, ": expected name=value"), EX_USAGE);
    std::string name(trim(std::string_view(op).substr(0, eq)));
    std::string value(trim(std::string_view(op).substr(eq + 1)));
    if (value.find('\n') != std::string::npos) return fail(cat("-e ", name, ": newline in value"), EX_USAGE);
    std::erase_if(set, [&](const auto& p) { return p.first == name; });  // the last one wins
    set.emplace_back(name, value);
  }
  std::string text = config::edit_main_cf(f.main_text, set, del);
  return write_checked(f, text, f.master_text, f.dir / "main.cf", text);
}

int edit_master(const Files& f, const ParsedArgs& a, bool remove) {
  std::string text = f.master_text;
  for (const std::string& op : a.operands) {
    std::size_t eq = op.find('=');
    std::string key = remove ? op : op.substr(0, eq == std::string::npos ? op.size() : eq);
    if (key.find('/') == std::string::npos) return fail(cat(key, ": expected service/type"), EX_USAGE);
    if (remove) {
      std::string next = config::edit_master_cf(text, key, "");
      if (next == text) return fail(cat(key, ": no such master.cf entry"), EX_USAGE);
      text = std::move(next);
      continue;
    }
    if (eq == std::string::npos) return fail(cat("-Me ", op, ": expected service/type=entry"), EX_USAGE);
    std::string entry(trim(std::string_view(op).substr(eq + 1)));
    if (config::master_line_key(entry) != key)
      return fail(cat("-Me ", key, ": the entry must start with \"", key.substr(0, key.find('/')), " ",
                      key.substr(key.find('/') + 1), "\""), EX_USAGE);
    text = config::edit_master_cf(text, key, entry);
  }
  return write_checked(f, f.main_text, text, f.dir / "master.cf", text);
}

int show_master(const Files& f, const ParsedArgs& a) {
  config::Parsed p = parse(f, f.main_text, f.master_text);
  for (const Diagnostic& d : p.errors) fail(d.text(), 0);
  int status = p.errors.empty() ? 0 : EX_CONFIG;
  for (const config::Service& s : p.config.services()) {
    bool wanted = a.operands.empty();
    for (const std::string& op : a.operands) wanted = wanted || op == s.key() || op == s.name;
    if (wanted) std::printf("%s\n", config::format_service(s).c_str());
  }
  for (const std::string& op : a.operands) {
    bool found = false;
    for (const config::Service& s : p.config.services()) found = found || op == s.key() || op == s.name;
    if (!found) status = fail(cat(op, ": no such master.cf entry"), EX_USAGE);
  }
  return status;
}

// The names to print: those asked for, else (-n) those set, else all.
std::vector<std::string> names_to_show(const Config& c, const ParsedArgs& a, int& status) {
  std::vector<std::string> names;
  if (!a.operands.empty()) {
    for (const std::string& n : a.operands) {
      if (c.is_known(n)) names.push_back(n);
      else status = fail(cat(n, ": unknown parameter"), EX_USAGE);
    }
    return names;
  }
  names = c.set_names();
  if (!a.has('n'))
    for (const config::Param& p : config::params()) names.emplace_back(p.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

int show_params(const Files& f, const ParsedArgs& a) {
  config::Parsed p = parse(f, f.main_text, f.master_text);
  for (const Diagnostic& d : p.warnings) std::fprintf(stderr, "posthorn conf: warning: %s\n", d.text().c_str());
  if (!p.errors.empty()) {
    for (const Diagnostic& d : p.errors) fail(d.text(), 0);
    return EX_CONFIG;
  }
  // -d: the view with an empty main.cf (services kept, for service-specific names).
  config::Parsed defaults = parse(f, "", f.master_text);
  const Config& c = p.config;
  int status = 0;
  for (const std::string& n : names_to_show(c, a, status)) {
    if (a.has('n') && c.is_default(n)) continue;
    std::string v;
    // A user-defined name has no default (and is unknown to the defaults view).
    if (a.has('d')) v = !a.has('x') ? c.default_raw(n) : defaults.config.is_known(n) ? defaults.config.get(n) : "";
    else v = a.has('x') ? c.get(n) : c.raw(n);
    if (a.has('h')) std::printf("%s\n", v.c_str());
    else std::printf("%s =%s%s\n", n.c_str(), v.empty() ? "" : " ", v.c_str());
  }
  return status;
}

int run(Context& ctx, const std::vector<std::string>& args) {
  ParsedArgs a = parse_options(std::vector<std::string>(args.begin() + 1, args.end()), "c:ndhxeXM");
  if (!a.error.empty()) return usage_error("conf", a.error);
  int modes = a.has('n') + a.has('d') + a.has('e') + a.has('X');
  if (modes > 1) return usage_error("conf", "use only one of -n, -d, -e, -X");
  if ((a.has('e') || a.has('X')) && a.operands.empty()) return usage_error("conf", "nothing to edit");
  if (a.has('M') && (a.has('n') || a.has('d'))) return usage_error("conf", "-M does not take -n or -d");
  std::filesystem::path dir = a.has('c') ? std::filesystem::path(a.value('c')) : ctx.config_dir;
  auto files = read_files(dir);
  if (!files) return fail(files.error().detail, EX_CONFIG);
  if (a.has('M')) {
    if (a.has('e') || a.has('X')) return edit_master(*files, a, a.has('X'));
    return show_master(*files, a);
  }
  if (a.has('e') || a.has('X')) return edit_main(*files, a, a.has('X'));
  return show_params(*files, a);
}

Registration reg{"conf", run,
                 "conf [-c DIR] [-n|-d] [-x] [-h] [name ...] | -e name=value ... | -X name ... | "
                 "-M [service/type ...] | -Me service/type=entry ... | -MX service/type ..."};

}  // namespace

}  // namespace posthorn::tools
