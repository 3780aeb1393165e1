// pop3d/identity.h - pop3d's two identity changes (the design is in
// pop3d/main.cc's opening comment).
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
// XXX: step 1 is a temporary identity, which lib/privs does not offer (it
// does the permanent drops, and pop3d's step 2 uses it); like local's
// EffectiveIdentity it lives with the one program that needs it.
#pragma once

#include <sys/types.h>

#include <string>

#include "lib/base/result.h"
#include "lib/privs/privs.h"

namespace posthorn::pop3d {

// Errc::permission when mail_owner is uid/gid 0; Errc::io when a step fails.
Result<void> serve_as_mail_owner(const privs::Identity& mail_owner);

// True when step 1 happened (so step 2 must).
bool holding_root();

// Errc::permission for uid or gid 0 (a root mailbox is never served) or when
// root cannot be regained; Errc::io when a step fails.
Result<void> become_owner(const privs::Identity& owner);

}  // namespace posthorn::pop3d
