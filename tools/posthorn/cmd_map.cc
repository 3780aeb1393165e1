// posthorn map - build, query and edit lookup tables (Postfix's postmap and
// postalias in one command).
//
//   posthorn map [-c DIR] [-f] build [type:]FILE          FILE -> FILE.db / FILE.lmdb
//   posthorn map [-c DIR] [-f] build-aliases [type:]FILE  aliases(5) FILE -> FILE.db
//   posthorn map [-c DIR] [-f] query [type:]FILE KEY ...  print the value(s)
//   posthorn map [-c DIR] [-f] query [type:]FILE -        keys from stdin (postmap -q -)
//   posthorn map [-c DIR] [-f] delete [type:]FILE KEY     remove a key
//
// Without a type, default_database_type from main.cf decides. -f keeps keys'
// case (postmap -f). Exit status: 0 done or found, 1 not found (query: no
// key found; delete: the key was not there), sysexits(3) codes for errors.
#include <sysexits.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lib/base/options.h"
#include "lib/base/strings.h"
#include "lib/config/config.h"
#include "lib/maps/builder.h"
#include "lib/maps/table.h"
#include "tools/posthorn/command.h"

namespace posthorn::tools {

namespace {

constexpr const char* kName = "map";

int exit_code(Errc c) {
  switch (c) {
    case Errc::not_found: return EX_NOINPUT;
    case Errc::parse:
    case Errc::corrupt: return EX_DATAERR;
    case Errc::invalid:
    case Errc::unsupported: return EX_CONFIG;
    case Errc::permission: return EX_NOPERM;
    case Errc::io: return EX_IOERR;
    default: return EX_SOFTWARE;
  }
}

int fail(const Error& e) {
  std::fprintf(stderr, "posthorn %s: error: %s\n", kName, e.detail.c_str());
  return exit_code(e.code);
}

// The table type used when a name carries none: default_database_type of
// main.cf in the configuration directory. Without a main.cf there (postmap
// run on a plain file) the registry's default holds: hash, or lmdb in a
// build without Berkeley DB. A main.cf with errors is an error, as a
// misconfigured system must not silently build the wrong kind of table.
Result<std::string> default_database_type(const Context& ctx) {
  auto cfg = config::Config::load(ctx.config_dir);
  if (cfg) return cfg->get("default_database_type");
  if (cfg.error().code == Errc::not_found) return config::Config().get("default_database_type");
  return std::move(cfg).error();
}

// "type:name" stays; a bare FILE gets the default type. A prefix holding a
// '/' is part of a path ("./a:b"), not a type.
Result<std::string> full_spec(const Context& ctx, const std::string& arg) {
  std::size_t colon = arg.find(':');
  if (colon != std::string::npos && colon > 0 && arg.find('/') > colon) return arg;
  auto type = default_database_type(ctx);
  if (!type) return std::move(type).error();
  return *type + ":" + arg;
}

// Keys from standard input, one a line, for `query FILE -` (postmap -q -).
std::vector<std::string> keys_from_stdin() {
  std::vector<std::string> keys;
  std::string line;
  int c;
  while ((c = std::getchar()) != EOF) {
    if (c != '\n') {
      line += static_cast<char>(c);
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) keys.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) keys.push_back(std::move(line));
  return keys;
}

int build(const std::string& spec, maps::SourceFormat format, const maps::OpenOptions& opts) {
  auto report = maps::build_from_source(spec, format, opts);
  if (!report) return fail(report.error());
  for (const maps::Diagnostic& w : report->warnings)
    std::fprintf(stderr, "posthorn %s: warning: %s\n", kName, w.str().c_str());
  return 0;
}

// One key on the command line: the value alone, as postmap -q. Several, or
// keys from standard input: "key<TAB>value" for each key found.
int query(const std::string& spec, const std::vector<std::string>& keys, bool bare,
          const maps::OpenOptions& opts) {
  auto table = maps::open_table(spec, opts);
  if (!table) return fail(table.error());
  for (const maps::Diagnostic& w : (*table)->warnings())
    std::fprintf(stderr, "posthorn %s: warning: %s\n", kName, w.str().c_str());
  bool any = false;
  for (const std::string& key : keys) {
    auto value = (*table)->lookup(key);
    if (!value) return fail(value.error());
    if (!*value) continue;
    any = true;
    if (bare) {
      std::printf("%s\n", (*value)->c_str());
    } else {
      std::printf("%s\t%s\n", key.c_str(), (*value)->c_str());
    }
  }
  return any ? 0 : 1;
}

int remove(const std::string& spec, const std::string& key, const maps::OpenOptions& opts) {
  auto gone = maps::delete_key(spec, key, opts);
  if (!gone) return fail(gone.error());
  return *gone ? 0 : 1;
}

int run(Context& ctx, const std::vector<std::string>& args) {
  auto parsed = parse_options({args.begin() + 1, args.end()}, "c:f");
  if (!parsed.error.empty()) return usage_error(kName, parsed.error);
  if (parsed.has('c')) ctx.config_dir = parsed.value('c');
  const auto& ops = parsed.operands;
  if (ops.size() < 2) return usage_error(kName, "expected a verb and a table");
  maps::OpenOptions opts;
  opts.case_sensitive = parsed.has('f');
  const std::string& verb = ops[0];
  auto full = full_spec(ctx, ops[1]);
  if (!full) {  // only main.cf can fail here: a configuration error
    fail(full.error());
    return EX_CONFIG;
  }
  const std::string& spec = *full;
  if (verb == "build" || verb == "build-aliases") {
    if (ops.size() != 2) return usage_error(kName, verb + " takes one table");
    return build(spec, verb == "build" ? maps::SourceFormat::map : maps::SourceFormat::aliases,
                 opts);
  }
  if (verb == "query") {
    if (ops.size() < 3) return usage_error(kName, "query needs at least one key");
    if (ops.size() == 3 && ops[2] == "-") return query(spec, keys_from_stdin(), false, opts);
    return query(spec, {ops.begin() + 2, ops.end()}, ops.size() == 3, opts);
  }
  if (verb == "delete") {
    if (ops.size() != 3) return usage_error(kName, "delete takes one key");
    return remove(spec, ops[2], opts);
  }
  return usage_error(kName, "unknown verb \"" + printable(verb) + "\"");
}

const Registration reg{kName, run,
                       "map [-c DIR] [-f] build|build-aliases [type:]FILE | "
                       "query [type:]FILE KEY...|- | delete [type:]FILE KEY"};

}  // namespace
}  // namespace posthorn::tools
