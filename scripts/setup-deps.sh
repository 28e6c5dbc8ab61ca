#!/usr/bin/env bash
# Installs what clusterboot needs to build and test on Debian (12 or later). Run as root; safe to re-run.
set -euo pipefail

packages=(
    build-essential meson ninja-build pkg-config
    libyaml-dev libjansson-dev libssl-dev libsystemd-dev
    clang        # libFuzzer for the fuzz tests
    python3      # the test summary and bench/gen-inventory.py
    time         # /usr/bin/time for bench/
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps: all ${#packages[@]} packages present"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup-deps: missing packages: ${missing[*]}; run this as root (or install them)" >&2
    exit 1
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: done"
