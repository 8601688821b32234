#!/usr/bin/env bash
# Makes sure the system tools ctdbctl's daemon and tests use are present. As root on Debian it
# installs the missing ones from Debian's packages; otherwise it says exactly what is missing.
# Usage: scripts/system-deps.sh [--check]   (--check: report only, never install)
set -u
declare -A PROGRAM_PACKAGE=(
  [nats-server]=nats-server
  [ip]=iproute2
  [ss]=iproute2
  [iptables]=iptables
  [nft]=nftables
  [arping]=arping
  [tcpdump]=tcpdump
  [socat]=socat
  [ipvsadm]=ipvsadm
  [git]=git
  [na6]=ipv6toolkit
)
# CTDB's own helpers, used by interoperability tests and benchmarks.
CTDB_HELPER=/usr/libexec/ctdb/ctdb_mutex_fcntl_helper

missing_packages=()
for program in "${!PROGRAM_PACKAGE[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$program" ] && ! [ -x "/sbin/$program" ]; then
    missing_packages+=("${PROGRAM_PACKAGE[$program]}")
  fi
done
[ -x "$CTDB_HELPER" ] || missing_packages+=(ctdb)
mapfile -t missing_packages < <(printf '%s\n' "${missing_packages[@]}" | sort -u | sed '/^$/d')

if [ ${#missing_packages[@]} -eq 0 ]; then
  echo "system-deps: all system tools present"
  exit 0
fi
if [ "${1:-}" != "--check" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing_packages[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null \
    || { echo "system-deps: apt-get install ${missing_packages[*]} failed" >&2; exit 1; }
  exit 0
fi
echo "system-deps: missing Debian packages: ${missing_packages[*]}" >&2
echo "system-deps: install them with: sudo apt-get install ${missing_packages[*]}" >&2
exit 1
