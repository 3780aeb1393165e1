// lib/privs/login_identity.h - the two identity changes of an access agent
// (pop3d, imapd) that serves one login per process; the design is in
// pop3d/main.cc's and imapd/main.cc's opening comments.
//
// 1. serve_as_mail_owner(): started as root, before a byte from the network
//    is read: no supplementary groups, real and effective gid and uid the
//    mail owner's, the saved uid left at 0, so that step 2 can still happen
//    and nothing else runs with root's rights meanwhile.
// 2. become_owner(): after a successful login, for good: back to root
//    through the saved uid for just long enough to call privs::drop(), which
//    sets the groups, gid and uid to the mailbox owner's and checks that
//    root cannot be regained.
// Not started as root (instance mode): both do nothing.
//
// Step 1 is a temporary identity (the saved uid stays 0), unlike drop() in
// privs.h, which step 2 uses to make the change final.
#pragma once

#include <sys/types.h>

#include <string>

#include "lib/base/result.h"
#include "lib/privs/privs.h"

namespace posthorn::privs {

// Errc::permission when mail_owner is uid/gid 0; Errc::io when a step fails.
Result<void> serve_as_mail_owner(const Identity& mail_owner);

// True when step 1 happened (so step 2 must).
bool holding_root();

// Errc::permission for uid or gid 0 (a root mailbox is never served) or when
// root cannot be regained; Errc::io when a step fails.
Result<void> become_owner(const Identity& owner);

}  // namespace posthorn::privs
