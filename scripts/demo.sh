#!/usr/bin/env bash
# The main job on the bundled example: install, build, then validate and plan examples/homelab.
#   INVENTORY=examples/ha scripts/demo.sh   for the three-master example
set -euo pipefail
cd "$(dirname "$0")/.."
inventory=${INVENTORY:-examples/homelab}

scripts/setup-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

echo "== clusterboot validate --inventory $inventory"
build/clusterboot validate --inventory "$inventory"
echo
echo "== clusterboot plan --inventory $inventory"
build/clusterboot plan --inventory "$inventory"
