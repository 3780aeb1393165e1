// local/maildir.cc - see maildir.h.
#include "local/maildir.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lib/base/strings.h"
#include "lib/mailstore/new_message.h"
#include "local/files.h"

namespace posthorn::local {

namespace {

std::string cannot(const MaildirTarget& t, std::string_view why) {
  if (t.what == "file") return cat("cannot deliver to maildir ", t.dir, ": ", why);
  return cat("cannot update maildir ", t.dir, " for user ", t.who.name, ". ", why);
}

Result<void> make_maildir(const std::filesystem::path& dir) {
  for (const char* sub : {"tmp", "new", "cur"})
    if (auto r = make_dirs(dir / sub, 0700); !r) return r;
  return {};
}

// NewMessage reports errno only as text; quota and file size errors are
// told apart by it.
bool quota(const Error& e) {
  return e.detail.find(std::strerror(EDQUOT)) != std::string::npos ||
         e.detail.find(std::strerror(EFBIG)) != std::string::npos;
}

}  // namespace

Outcome deliver_maildir(const MaildirTarget& t, std::string_view data) {
  if (t.limit > 0 && data.size() > t.limit)
    return Outcome::bounced("5.2.2", cannot(t, cat("mailbox full (size limit ", t.limit, " bytes)")));
  auto id = EffectiveIdentity::become(t.who, true);
  if (!id) return Outcome::deferred("4.3.0", cannot(t, id.error().detail));
  std::filesystem::path dir(t.dir);
  if (!t.dir.empty() && t.dir.back() == '/') dir = dir.parent_path();
  // The common case first: the Maildir exists, and creating the tmp/ file
  // is the only check needed.
  auto open = [&]() -> Result<mailstore::NewMessage> {
    auto m = mailstore::NewMessage::create(dir);
    if (m || m.error().code != Errc::not_found) return m;
    if (auto made = make_maildir(dir); !made) return std::move(made).error();
    return mailstore::NewMessage::create(dir);
  };
  auto msg = open();
  if (!msg) return Outcome::deferred("4.3.0", cannot(t, msg.error().detail));
  if (auto w = msg->write(data); !w) {
    if (quota(w.error())) return Outcome::bounced("5.2.2", cannot(t, w.error().detail));
    return Outcome::deferred("4.3.0", cannot(t, w.error().detail));
  }
  auto name = msg->deliver();
  if (!name) {
    if (quota(name.error())) return Outcome::bounced("5.2.2", cannot(t, name.error().detail));
    return Outcome::deferred("4.3.0", cannot(t, name.error().detail));
  }
  return Outcome::sent(t.what == "file" ? cat("delivered to maildir: ", t.dir) : "delivered to maildir");
}

}  // namespace posthorn::local
