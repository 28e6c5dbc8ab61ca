#!/usr/bin/env bash
# The main job on the bundled example: install, build, validate and plan the inventory, build one image tree
# from it, then boot that same image as every node (a fake machine per node: a root carrying the node's MAC
# in /sys/class/net) and show what each first boot did.
#   INVENTORY=examples/ha scripts/demo.sh   for the three-master example
set -euo pipefail
cd "$(dirname "$0")/.."
inventory=${INVENTORY:-examples/homelab}

scripts/setup-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
cb=build/clusterboot

echo "== clusterboot validate --inventory $inventory"
$cb validate --inventory "$inventory"
echo
echo "== clusterboot plan --inventory $inventory"
$cb plan --inventory "$inventory"

demo=build/demo
rm -rf "$demo"
echo
echo "== clusterboot install --root $demo/image --inventory $inventory   (one image for every machine)"
$cb install --root "$demo/image" --inventory "$inventory" | tail -1

$cb plan --inventory "$inventory" --output json |
    python3 -c 'import json,sys; [print(n["name"], (n["mac_addresses"] or ["02:00:00:00:00:01"])[0]) for n in json.load(sys.stdin)["nodes"]]' |
    while read -r node mac; do
        root=$demo/$node
        cp -a "$demo/image" "$root"
        mkdir -p "$root/sys/class/net/eth0/device" "$root/proc"
        echo "$mac" > "$root/sys/class/net/eth0/address"
        echo
        echo "== first boot of the image on the machine with MAC $mac"
        "$root/usr/bin/clusterboot" firstboot --root "$root" | grep -vE '^  (created|updated) '
    done
echo
echo "Each machine's tree is in $demo/<node>/ (try: find $demo/master-01/etc -newer $demo/image/usr/bin/clusterboot)."
