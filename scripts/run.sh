#!/usr/bin/env bash
# run.sh BUILD - start a Posthorn instance on loopback under run/ (make run).
#
# The instance's configuration, spool and mail store all live under run/.
# It is made by `posthorn init run/` and started with `posthorn -c run start`;
# until `posthorn init` and the mail services (smtpd, pop3d, imapd) are part of
# the build there is nothing to send mail to, and this script says so and fails.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
missing=
for p in smtpd qmgr local pop3d imapd; do [ -x "$build/bin/$p" ] || missing="$missing $p"; done
"$build/bin/posthorn" init --help >/dev/null 2>&1 || missing="$missing 'posthorn init'"
if [ -n "$missing" ]; then
  cat >&2 <<MSG
make run: not part of this build yet:$missing;
without them there is no instance to send mail to and read it from. What works
today is listed in README.md under "What works today"; for example:
  $build/bin/posthorn conf -c $top/conf -n     # the shipped main.cf's non-default settings
  $build/bin/posthorn map build hash:/tmp/t    # build a lookup table from /tmp/t
MSG
  exit 1
fi
[ -d "$top/run" ] || "$build/bin/posthorn" init "$top/run"
exec "$build/bin/posthorn" -c "$top/run" start
