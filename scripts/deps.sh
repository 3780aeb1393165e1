#!/usr/bin/env bash
# deps.sh - install the Debian packages Posthorn's build, tests and `make run` need.
# Idempotent: checks each package and installs only the missing ones.
# Usage: scripts/deps.sh [build|test|run|fuzz|all]   (default: all)
set -euo pipefail

build_pkgs=(make g++ pkg-config libevent-dev libssl-dev libldns-dev libcrypt-dev
            "libdb5.3++-dev" liblmdb-dev)
test_pkgs=(catch2 python3 python3-pytest swaks openssl
           libnet-ssleay-perl  # swaks --tls (test_auth.py)
           s-nail mutt  # mail clients that submit through sendmail (test_sendmail.py)
           pflogsumm    # summarises a test instance's maillog (test_delivery.py)
           fetchmail)   # a POP3 client (test_pop3d.py)
fuzz_pkgs=(clang-14 libfuzzer-14-dev libclang-rt-14-dev)

want=()
case "${1:-all}" in
  build) want=("${build_pkgs[@]}") ;;
  run)   want=("${build_pkgs[@]}" python3 swaks) ;;
  test)  want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  fuzz)  want=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  all)   want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|run|fuzz|all]" >&2; exit 64 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "deps.sh: run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
