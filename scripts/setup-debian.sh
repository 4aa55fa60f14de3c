#!/usr/bin/env bash
# Install Debian 12 packages listed in scripts/debian-packages.txt, by section:
#   scripts/setup-debian.sh                 every section
#   scripts/setup-debian.sh build           the library and its programs only
#   scripts/setup-debian.sh build test ...  several sections
# Sections: build test bench mpich valgrind fuzz slurm coverage. Idempotent, and quick
# when everything is there. Needs root or sudo only when something is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list=$here/debian-packages.txt
mapfile -t known < <(sed -n 's/^\[\([a-z0-9-]*\)\].*/\1/p' "$list")
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=("${known[@]}")
for s in "${sections[@]}"; do
  printf '%s\n' "${known[@]}" | grep -qx -- "$s" ||
    { echo "setup: no section '$s' in $list (sections: ${known[*]})" >&2; exit 2; }
done
mapfile -t wanted < <(awk -v want=" ${sections[*]} " '
    /^\[/ { sec = $0; gsub(/[][]/, "", sec); sub(/[[:space:]].*/, "", sec); next }
    /^[[:space:]]*(#|$)/ { next }
    index(want, " " sec " ") { print $1 }' "$list" | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: the ${#wanted[@]} Debian packages of [${sections[*]}] are installed"
  exit 0
fi
echo "setup: installing ${#missing[@]} Debian packages for [${sections[*]}]: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# Package scripts would start daemons (munge, slurm) through init.d: forbid it,
# the Slurm test starts its own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  own_policy=1
fi
trap '[ $own_policy -eq 1 ] && $SUDO rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
t0=$SECONDS
echo "setup: apt-get update"
$SUDO apt-get update -qq
# One line per package as it is set up, so that a long install shows progress.
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" |
     { grep --line-buffered -E '^(Setting up|E:)' || true; } | sed -u 's/^/setup: /'; then
  echo "setup: apt-get install failed" >&2
  exit 1
fi
echo "setup: done in $((SECONDS - t0)) s"
