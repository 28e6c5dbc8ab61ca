#!/usr/bin/env bash
# The state disk (a node file's state.disk) with real disks: loop devices over files, real blkid, mkfs.ext4
# and mounts, `clusterboot firstboot --root` run in a mount namespace of its own per "boot" (its mounts go
# with it, as a reboot takes them). What is on a disk is read afterwards with debugfs, from the file.
# A blank disk is formatted and keeps what first boot writes; the next boot finds it; a rerun in the same
# boot mounts nothing twice; another node's disk, a foreign file system and a missing disk are refused and
# left byte for byte as they were.
# Usage: test-state-disk.sh CLUSTERBOOT EXAMPLES_DIR   (root: losetup, mount)
set -u
bin=$(realpath "$1")
examples=$(realpath "$2")
tmp=$(mktemp -d)
loops=()
cleanup() {
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
n=0
fail=0
plan=16
echo "1..$plan"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
    shift
    for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f" | tail -n 30; done
}
check() { # NAME COMMAND... [-- FILE...]: FILEs shown when it fails
    local name=$1 files=() args=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift && files=("$@")
    if "${args[@]}"; then ok "$name"; else not_ok "$name" "${files[@]}"; fi
}

for t in losetup blkid mkfs.ext4 mkfs.vfat debugfs unshare; do
    command -v "$t" >/dev/null || { echo "Bail out! $t is missing (util-linux, e2fsprogs, dosfstools)"; exit 1; }
done

# disk NAME SIZE_MB: a loop device over a new file (its path in $tmp/NAME.img).
disk() {
    truncate -s "${2}M" "$tmp/$1.img"
    local l
    l=$(losetup -f --show "$tmp/$1.img") || { echo "Bail out! losetup: no loop device"; exit 1; }
    loops+=("$l")
    echo "$l"
}
# machine ROOT NODE DEVICE: the root of a machine that is NODE of examples/homelab, its node file naming
# DEVICE as its state disk, with what the image put in one kept directory (/etc/mosquitto).
machine() {
    local root=$1 node=$2 dev=$3
    mkdir -p "$root/etc/mosquitto/conf.d" "$root/proc" "$root/sys/class/net/eth0/device"
    cp -r "$examples/homelab" "$root/etc/cluster-config"
    printf 'state:\n  disk: %s\n' "$dev" | sed 's/^/  /' >>"$root/etc/cluster-config/nodes/$node.yaml"
    echo "clusterboot.node=$node" >"$root/proc/cmdline"
    echo 02:00:00:00:00:01 >"$root/sys/class/net/eth0/address"
    echo "# from the image" >"$root/etc/mosquitto/conf.d/image.conf"
}
# boot ROOT LOG [SCRIPT]: firstboot in a mount namespace of its own, then SCRIPT in it (with $root): the
# exit status of firstboot, or 100 + SCRIPT's when that fails.
boot() {
    local root=$1 log=$2 script=${3:-true}
    unshare -m --propagation private bash -c '
        "$1" firstboot --root "$2" >"$3" 2>&1
        rc=$?
        root=$2
        eval "$4" || exit $((100 + $?))
        exit $rc' boot "$bin" "$root" "$log" "$script"
}
on_disk() { # IMG PATH: the file at PATH on the ext4 in IMG
    debugfs -R "cat $2" "$1" 2>/dev/null
}

# ---- a blank disk: formatted, marked, and what first boot writes goes onto it ----
dev=$(disk a 64)
r=$tmp/worker-01
machine "$r" worker-01 "$dev"
boot "$r" "$tmp/boot1.log" 'mountpoint -q "$root/var/lib/cluster-state" && mountpoint -q "$root/etc/kubernetes"'
rc=$?
check "a blank disk: firstboot formats it (exit $rc)" eval '[ $rc = 0 ] && grep -q "the state of worker-01 is kept on $dev, a blank disk formatted now" "$tmp/boot1.log"' -- "$tmp/boot1.log"
check "... an ext4 labelled cb-state" eval '[ "$(blkid -p -s TYPE -s LABEL -o value "$dev" | tr "\n" " ")" = "cb-state ext4 " ]'
marker=$(on_disk "$tmp/a.img" /clusterboot-state.json)
check "... marked as worker-01's of cluster homelab" eval 'python3 -c "import json,sys; m=json.loads(sys.argv[1]); assert m[\"cluster\"] == \"homelab\" and m[\"node\"] == \"worker-01\" and m[\"created\"]" "$marker"'
check "... what the image had in a kept directory was copied onto it" eval '[ "$(on_disk "$tmp/a.img" /etc/mosquitto/conf.d/image.conf)" = "# from the image" ]'
check "... what first boot wrote there is on the disk (the rendered-files record, mosquitto.conf)" \
    eval 'on_disk "$tmp/a.img" /var/lib/cluster-state/rendered-files | grep -q /etc/mosquitto/mosquitto.conf && on_disk "$tmp/a.img" /etc/mosquitto/mosquitto.conf | grep -q listener'
check "... and not on the root under it" test ! -e "$r/var/lib/cluster-state/rendered-files"
created=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["created"])' "$marker" 2>/dev/null)

# ---- the next boot: the same disk, found, its content in place ----
boot "$r" "$tmp/boot2.log" 'test -f "$root/var/lib/cluster-state/rendered-files" && grep -q "from the image" "$root/etc/mosquitto/conf.d/image.conf"'
rc=$?
check "the next boot finds it: 'kept on $dev (made $created)', what the last boot wrote in place (exit $rc)" \
    eval '[ $rc = 0 ] && grep -q "the state of worker-01 is kept on $dev (made $created)" "$tmp/boot2.log"' -- "$tmp/boot2.log"

# ---- firstboot again in the same boot (cluster-detect.service restarted): nothing mounted twice ----
boot "$r" "$tmp/boot3.log" '
    before=$(grep -c " $root/" /proc/self/mountinfo)
    "'"$bin"'" firstboot --root "$root" >"$root.rerun.log" 2>&1 || exit 1
    [ "$(grep -c " $root/" /proc/self/mountinfo)" = "$before" ] && [ "$before" = 13 ]'
rc=$?
check "a rerun in the same boot mounts nothing twice (13 mounts: the disk and 12 directories; exit $rc)" [ $rc = 0 ] -- "$tmp/boot3.log" "$r.rerun.log"

# ---- another node's disk: refused, untouched ----
r2=$tmp/worker-02
machine "$r2" worker-02 "$dev"
before=$(sha256sum <"$tmp/a.img")
boot "$r2" "$tmp/other-node.log" '! grep -q " $root/" /proc/self/mountinfo'
rc=$?
check "worker-01's disk named by worker-02: refused (exit $rc), saying whose it is" \
    eval '[ $rc = 1 ] && grep -q "the state disk $dev of worker-02 is refused: it holds the state of another node of this cluster, worker-01 (made $created)" "$tmp/other-node.log"' -- "$tmp/other-node.log"
check "... nothing left mounted, nothing rendered, the disk byte for byte as it was" \
    eval '[ "$(sha256sum <"$tmp/a.img")" = "$before" ] && [ ! -e "$r2/var/lib/cluster-state/rendered-files" ]'
check "... and the hint says how to reuse it on purpose" grep -q "hint: the disk is left as it is: wipe it (wipefs -a)" "$tmp/other-node.log"

# ---- foreign file systems: refused, untouched ----
dev_b=$(disk b 64)
mkfs.ext4 -q -L data "$dev_b"
r3=$tmp/worker-02-b
machine "$r3" worker-02 "$dev_b"
before=$(sha256sum <"$tmp/b.img")
boot "$r3" "$tmp/foreign-ext4.log"
rc=$?
check "an ext4 clusterboot did not make: refused (exit $rc), untouched" \
    eval '[ $rc = 1 ] && grep -q "it holds an ext4 file system without clusterboot.s marker" "$tmp/foreign-ext4.log" && [ "$(sha256sum <"$tmp/b.img")" = "$before" ]' -- "$tmp/foreign-ext4.log"
dev_c=$(disk c 64)
mkfs.vfat "$dev_c" >/dev/null
r4=$tmp/worker-02-c
machine "$r4" worker-02 "$dev_c"
before=$(sha256sum <"$tmp/c.img")
boot "$r4" "$tmp/foreign-vfat.log"
rc=$?
check "a FAT file system: refused (exit $rc), untouched" \
    eval '[ $rc = 1 ] && grep -q "it holds vfat, which clusterboot did not make" "$tmp/foreign-vfat.log" && [ "$(sha256sum <"$tmp/c.img")" = "$before" ]' -- "$tmp/foreign-vfat.log"

# ---- a disk that is not there ----
r5=$tmp/worker-02-none
machine "$r5" worker-02 /dev/disk/by-id/clusterboot-test-no-such-disk
boot "$r5" "$tmp/missing.log"
rc=$?
check "a state disk that does not exist: exit $rc, named, with a hint" \
    eval '[ $rc = 1 ] && grep -q "/dev/disk/by-id/clusterboot-test-no-such-disk does not exist" "$tmp/missing.log" && grep -q "hint: check the node file.s state.disk" "$tmp/missing.log"' -- "$tmp/missing.log"
check "... nothing rendered" test ! -e "$r5/var/lib/cluster-state/rendered-files"

# ---- --dry-run: says what it would do, touches nothing ----
dev_d=$(disk d 64)
r6=$tmp/worker-02-dry
machine "$r6" worker-02 "$dev_d"
"$bin" firstboot --root "$r6" --dry-run >"$tmp/dry.log" 2>&1
rc=$?
check "--dry-run: exit $rc, 'would keep the state of worker-02 on $dev_d', the disk still blank" \
    eval '[ $rc = 0 ] && grep -q "would keep the state of worker-02 on $dev_d" "$tmp/dry.log" && ! blkid -p "$dev_d" >/dev/null' -- "$tmp/dry.log"

[ "$n" = "$plan" ] || echo "# BUG in the test: $n points, planned $plan"
[ "$fail" = 0 ] && [ "$n" = "$plan" ]
