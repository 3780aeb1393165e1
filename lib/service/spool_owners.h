// lib/service/spool_owners.h - who owns an instance's spool.
//
// Started as root: mail_owner (never root) and setgid_group, looked up.
// Started as anyone else (instance mode): that user and group own everything,
// so the same layout works without a privilege in sight. master (to create
// the spool) and `posthorn check` (to verify it) must agree, hence one place.
#pragma once

#include "lib/base/result.h"
#include "lib/config/config.h"
#include "lib/queue/spool.h"

namespace posthorn::service {

// Errc::not_found / Errc::permission from the account lookups, with a detail
// naming the parameter.
Result<queue::SpoolOwners> spool_owners(const config::Config& cfg);

}  // namespace posthorn::service
