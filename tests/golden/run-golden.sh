#!/usr/bin/env bash
# Golden test of the first-boot pipeline: for every node of every example, make a fake machine (a root with
# /sys/class/net/eth0 carrying the node's first MAC, /proc/cmdline and the inventory in /etc/cluster-config),
# run `clusterboot firstboot --root`, and compare the tree it made with golden/<example>/<node>/:
# contents, symlinks (as links) and modes. Then run it again: nothing may change, not even an mtime.
#
# Usage: run-golden.sh CLUSTERBOOT EXAMPLES_DIR [GOLDEN_DIR]   (UPDATE=1 rewrites the golden trees)
set -u
bin=$(realpath "$1")
examples=$(realpath "$2")
golden=$(realpath "${3:-$(dirname "$0")}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# What the pipeline made (files and links): everything but the fake machine and the inventory we put there.
produced() {
    (cd "$1" && find . \( -path ./sys -o -path ./proc -o -path ./etc/cluster-config/cluster.yaml \
        -o -path ./etc/cluster-config/nodes -o -path ./etc/cluster-config/services \) -prune -o ! -type d -print |
        sort)
}

# Copies what the pipeline made under $1 to $2, links as links.
copy_produced() {
    mkdir -p "$2"
    (cd "$1" && produced . | xargs -r cp -a --parents -t "$2")
}

manifest() {
    (cd "$1" && produced . | while read -r p; do
        if [ -L "$p" ]; then echo "link $p -> $(readlink "$p")"; else echo "$(stat -c %a "$p") $p"; fi
    done)
}

for ex in "$examples"/*/; do
    exname=$(basename "$ex")
    nodes=$("$bin" plan --inventory "$ex" --output json |
        python3 -c 'import json,sys; [print(n["name"], (n["mac_addresses"] or ["-"])[0]) for n in json.load(sys.stdin)["nodes"]]')
    while read -r node mac; do
        name=$exname/$node
        root=$tmp/$exname/$node
        mkdir -p "$root/etc" "$root/proc" "$root/sys/class/net/eth0/device"
        cp -r "$ex" "$root/etc/cluster-config"
        echo "BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet" > "$root/proc/cmdline"
        if [ "$mac" = - ]; then
            echo "clusterboot.node=$node" > "$root/proc/cmdline"
            mac=02:00:00:00:00:01
        fi
        echo "$mac" > "$root/sys/class/net/eth0/address"

        if ! out=$("$bin" firstboot --root "$root" 2>&1); then
            not_ok "$name: firstboot failed"
            printf '%s\n' "$out" | sed 's/^/# /'
            continue
        fi
        manifest "$root" > "$tmp/manifest"

        want=$golden/$exname/$node
        if [ "${UPDATE:-0}" = 1 ]; then
            rm -rf "$want"
            copy_produced "$root" "$want/tree"
            cp "$tmp/manifest" "$want/manifest"
        fi

        copy_produced "$root" "$tmp/actual/$exname/$node"
        if ! diff -r --no-dereference "$want/tree" "$tmp/actual/$exname/$node" > "$tmp/diff" 2>&1; then
            not_ok "$name: rendered tree differs from the golden one"
            head -60 "$tmp/diff" | sed 's/^/# /'
        elif ! diff -u "$want/manifest" "$tmp/manifest" > "$tmp/diff"; then
            not_ok "$name: modes or links differ"
            sed 's/^/# /' "$tmp/diff"
        else
            ok "$name: tree matches"
        fi

        # A reboot: the same run again changes nothing, and leaves every mtime alone.
        before=$(cd "$root" && find . -printf '%T@ %p\n' | sort)
        out=$("$bin" firstboot --root "$root" 2>&1)
        after=$(cd "$root" && find . -printf '%T@ %p\n' | sort)
        if [ "$before" != "$after" ] || ! grep -q ' 0 created, 0 updated' <<< "$out" || ! grep -q ' 0 units changed' <<< "$out"; then
            not_ok "$name: a second run changed something"
            printf '%s\n' "$out" | sed 's/^/# /'
        else
            ok "$name: second run changes nothing"
        fi
    done <<< "$nodes"
done

echo "1..$n"
[ "$fail" = 0 ]
