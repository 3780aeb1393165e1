// local/local_expand.h - the $name expansion local applies to forward_path
// (and luser_relay), with the recipient's attributes: Postfix's
// local_expand().
//
// Names: user (the account name), home, shell, recipient (the whole
// address), extension, domain, local (the whole local part), and
// recipient_delimiter (the delimiter the address used). A name with no value
// for this recipient (no extension, no home) is *undefined*.
//
// Forms: $name, ${name}, $(name): the value; ${name?text}: text when name has
// a value; ${name:text}: text when it has none; $$: a dollar sign. Text inside
// the conditional forms is expanded too.
//
// Guarantees (Postfix's, so forward_path behaves the same):
//   - a template that refers plainly to an undefined name expands to nothing
//     at all (nullopt): the path is skipped. That is how the default
//     "$home/.forward${recipient_delimiter}${extension}" applies only to
//     addresses with an extension;
//   - substituted values pass through the expansion filter: each byte not in
//     `filter` becomes '_', so an address cannot smuggle "/../" or shell
//     syntax into a path. The template's own text is kept as written.
// Errors: Errc::parse for a malformed template ("${home", "$"); names that
// are not in the list above are undefined, not errors.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/result.h"

namespace posthorn::local {

// Postfix's default forward_expansion_filter and command_expansion_filter.
inline constexpr std::string_view kDefaultExpansionFilter =
    "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

// Attribute name -> value; a missing or nullopt entry is undefined.
using Attributes = std::map<std::string, std::optional<std::string>, std::less<>>;

// Replaces bytes not in `filter` with '_'.
std::string filter_value(std::string_view value, std::string_view filter);

Result<std::optional<std::string>> local_expand(std::string_view templ, const Attributes& attrs,
                                                std::string_view filter);

// forward_path: every entry expanded; entries that refer to an undefined name
// and entries that do not expand (a syntax error, logged by the caller from
// `errors`) are left out.
std::vector<std::string> forward_paths(const std::vector<std::string>& entries,
                                       const Attributes& attrs, std::string_view filter,
                                       std::vector<std::string>* errors = nullptr);

}  // namespace posthorn::local
