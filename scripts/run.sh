#!/usr/bin/env bash
# run.sh BUILD [start|stop] - `make run` and `make stop`: a Posthorn instance
# on loopback whose configuration, spool, log and mailboxes are one folder.
#
# start (make run):
#   1. when the folder has no main.cf: `posthorn init FOLDER` (ports PORT_BASE
#      to PORT_BASE+6, default 2525..2531, domain example.test, one user
#      demo@example.test with a new password, a self-signed certificate);
#   2. `posthorn -c FOLDER start`, unless it is running already;
#   3. prints how to send a test mail (swaks, Python's smtplib) and how to read
#      it (the Maildir, Python's poplib and imaplib), with the real ports and
#      the demo user's password, and which programs are not built yet.
# stop (make stop): `posthorn -c FOLDER stop`; says so when it is not running.
#
# The folder is run/ at the top of the tree, or $RUN_DIR. Exit status: 0, or
# 1 when the instance cannot be made or started (the reason is printed).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
action=${2:-start}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${RUN_DIR:-$top/run}
posthorn=$build/bin/posthorn

conf() { "$posthorn" conf -c "$dir" "$@"; }

# The port of the first inet service of `program` in master.cf, with
# (with_o=1) or without (0) -o overrides: posthorn conf -M prints one line each.
port_of() {
  conf -M | awk -v prog="$1" -v with_o="$2" \
    '$2 == "inet" && $8 == prog && ((NF > 8) == (with_o == 1)) {
       n = split($1, a, ":"); print a[n]; exit }'
}

stop() {
  if [ ! -f "$dir/main.cf" ]; then
    echo "make stop: there is no instance in $dir"
    return 0
  fi
  if ! "$posthorn" -c "$dir" status >/dev/null 2>&1; then
    echo "make stop: the instance in $dir is not running"
    return 0
  fi
  "$posthorn" -c "$dir" stop
  echo "make stop: stopped the instance in $dir"
}

start() {
  if [ ! -f "$dir/main.cf" ]; then
    "$posthorn" init "$dir" ${PORT_BASE:+--port-base "$PORT_BASE"}
    echo
  fi
  if "$posthorn" -c "$dir" status >/dev/null 2>&1; then
    echo "make run: the instance in $dir is already running"
  elif ! "$posthorn" -c "$dir" start; then
    echo "make run: the instance in $dir did not start; the end of its log:" >&2
    tail -n 20 "$dir/maillog" >&2 2>/dev/null || true
    return 1
  fi
  instructions
}

instructions() {
  local domain listen host tls_host ctx_pop ctx_imap smtp pop3s imaps password login missing p
  domain=$(conf -h -x mydomain)
  listen=$(conf -h -x inet_interfaces)
  login="demo@$domain"
  case $listen in
    all|loopback-only|127.0.0.1) host=127.0.0.1 ;;
    *) host=$listen ;;
  esac
  # The certificate names localhost: on loopback it can be verified.
  case $host in
    127.0.0.1|::1)
      tls_host=localhost
      ctx_pop="context=ssl.create_default_context(cafile=\"$dir/cert.pem\")"
      ctx_imap="ssl_context=ssl.create_default_context(cafile=\"$dir/cert.pem\")" ;;
    *)
      tls_host=$host
      ctx_pop="context=ssl._create_unverified_context()"
      ctx_imap="ssl_context=ssl._create_unverified_context()" ;;
  esac
  smtp=$(port_of smtpd 0)
  pop3s=$(port_of pop3d 1)
  imaps=$(port_of imapd 1)
  password=$(grep -v '^#' "$dir/demo-password" 2>/dev/null | head -n 1 || true)
  missing=
  for p in smtpd qmgr local pop3d imapd auth; do
    [ -x "$build/bin/$p" ] || missing="$missing $p"
  done
  cat <<TEXT
Posthorn runs in $dir (master pid $(cat "$dir/data/master.lock")).
Its log is $dir/maillog; \`make stop\` stops it.

Send a test mail to $login (SMTP on port $smtp):
  swaks --server $host --port $smtp --from you@example.org --to $login
  python3 -c 'import smtplib; smtplib.SMTP("$host", $smtp).sendmail("you@example.org", ["$login"], "Subject: test\\n\\nhello\\n")'

Read it ($login, password ${password:-see $dir/demo-password}):
  ls $dir/mail/$domain/demo/new/
  python3 -c 'import poplib, ssl; p = poplib.POP3_SSL("$tls_host", $pop3s, $ctx_pop); p.user("$login"); p.pass_("$password"); print(p.stat())'
  python3 -c 'import imaplib, ssl; m = imaplib.IMAP4_SSL("$tls_host", $imaps, $ctx_imap); m.login("$login", "$password"); print(m.select("INBOX"))'
TEXT
  if [ -n "$missing" ]; then
    cat <<TEXT

Not built yet:$missing.
master throttles their services (the log says so) and runs the rest. Without
qmgr and local an accepted mail waits in the queue, $dir/spool/incoming/;
without pop3d, imapd and auth the POP3 and IMAP lines get no answer.
TEXT
  fi
}

case $action in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 BUILD [start|stop]" >&2; exit 64 ;;
esac
