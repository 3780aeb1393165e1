// lib/service/spool_owners.cc - see spool_owners.h.
#include "lib/service/spool_owners.h"

#include <unistd.h>

#include "lib/base/strings.h"
#include "lib/privs/privs.h"

namespace posthorn::service {

Result<queue::SpoolOwners> spool_owners(const config::Config& cfg) {
  if (!privs::is_root()) return queue::SpoolOwners{::getuid(), ::getgid(), ::getgid()};
  auto owner = privs::mail_owner_identity(cfg.get("mail_owner"));
  if (!owner) return make_error(owner.error().code, cat("mail_owner: ", owner.error().detail));
  auto group = privs::lookup_group(cfg.get("setgid_group"));
  if (!group) return make_error(group.error().code, cat("setgid_group: ", group.error().detail));
  return queue::SpoolOwners{owner->uid, owner->gid, *group};
}

}  // namespace posthorn::service
