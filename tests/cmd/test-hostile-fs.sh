#!/usr/bin/env bash
# Broken file systems under a node's root get a precise error and lose nothing (#15 item 4): each command
# runs in a mount namespace of its own (unshare -m) over a copy of an image of examples/homelab.
#   - `pki node` with /etc/kubernetes full (a 16 KiB tmpfs): exit 1, the file and "No space left on device";
#     what was there before is untouched, no temporary file is left; with room again, it completes.
#   - `bootstrap --stage certificates` (the bundle in the image) with /var/lib/kubelet full: the same, in
#     the stage's message.
#   - `firstboot` with /etc read-only: exit 1, "Read-only file system", not a byte of the tree changed.
#   - nothing they printed holds a secret of the bundle.
# Usage: test-hostile-fs.sh CLUSTERBOOT EXAMPLES_DIR   (root: mounts)
set -u
cb=$(realpath "$1")
inv=$(realpath "$2")/homelab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
    shift
    for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f" | tail -n 20; done
}
check() { # NAME COMMAND... [-- FILE...]
    local name=$1 files=() args=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift && files=("$@")
    if "${args[@]}"; then ok "$name"; else not_ok "$name" "${files[@]}"; fi
}
[ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null || { echo "1..0 # SKIP needs root and mount namespaces"; exit 0; }

tree_sum() { (cd "$1" && find . -type f -exec sha256sum {} + | sort); }
no_temporaries() { ! find "$1" -name '.#*' -o -name '*.tmp' -o -name '*~' | grep -q .; }

"$cb" secrets init --inventory "$inv" --out "$tmp/bundle" >"$tmp/secrets.log" 2>&1 || { cat "$tmp/secrets.log"; exit 1; }
"$cb" install --root "$tmp/img" --inventory "$inv" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
"$cb" install --root "$tmp/img-embedded" --inventory "$inv" --secrets "$tmp/bundle" --secret-policy embedded \
    >"$tmp/install-e.log" 2>&1 || { cat "$tmp/install-e.log"; exit 1; }
for d in img img-embedded; do echo "mosquitto:x:998:" >>"$tmp/$d/etc/group"; done

# ---- pki node, /etc/kubernetes full ----
r=$tmp/full
cp -a "$tmp/img" "$r"
mkdir -p "$r/etc/kubernetes"
echo "kept" >"$tmp/before.txt"
full_run() { # ROOT DIR LOG COMMAND...: COMMAND with DIR (under ROOT) a full 16 KiB tmpfs holding before.txt
    local root=$1 dir=$2 log=$3
    shift 3
    mkdir -p "$root$dir"
    unshare -m bash -c '
        log=$0 d=$1$2
        mount -t tmpfs -o size=16k tmpfs "$d" && cp "$3" "$d/before.txt" || exit 99
        dd if=/dev/zero of="$d/fill" bs=4k count=16 2>/dev/null
        shift 3
        "$@"
        rc=$?
        ls -A "$d" >"$log.ls" 2>&1
        find "$d" -name ".#*" >"$log.tmps"
        cat "$d/before.txt" >"$log.kept"
        exit $rc
    ' "$log" "$root" "$dir" "$tmp/before.txt" "$@" >"$log" 2>&1
}
full_run "$r" /etc/kubernetes "$tmp/pki-full.log" "$cb" pki node --inventory "$inv" --node worker-01 --secrets "$tmp/bundle" --root "$r"
rc=$?
check "pki node into a full /etc/kubernetes: exit 1, names the file and ENOSPC" \
    eval '[ "$rc" = 1 ] && grep -q "cannot write /etc/kubernetes/.*: No space left on device" "$tmp/pki-full.log"' -- "$tmp/pki-full.log"
check "... what was there is untouched, no temporary file left there" \
    eval 'grep -qx kept "$tmp/pki-full.log.kept" && ! grep -q . "$tmp/pki-full.log.tmps"' -- "$tmp/pki-full.log.ls"
"$cb" pki node --inventory "$inv" --node worker-01 --secrets "$tmp/bundle" --root "$r" >"$tmp/pki-room.log" 2>&1
check "... with room again, it completes; pki check passes" \
    eval '"$cb" pki check --inventory "$inv" --node worker-01 --root "$r" >"$tmp/pki-check.log" 2>&1' \
    -- "$tmp/pki-room.log" "$tmp/pki-check.log"

# ---- bootstrap, the bundle in the image, /var/lib/kubelet full ----
r=$tmp/full-boot
cp -a "$tmp/img-embedded" "$r"
full_run "$r" /var/lib/kubelet "$tmp/boot-full.log" "$cb" bootstrap --inventory "$inv" --node worker-01 --root "$r" \
    --stage certificates --retry-timeout 0
rc=$?
check "bootstrap --stage certificates into a full /var/lib/kubelet: exit 1, names the file and ENOSPC" \
    eval '[ "$rc" = 1 ] && grep -q "error: cannot write /var/lib/kubelet/.*: No space left on device$" "$tmp/boot-full.log"' \
    -- "$tmp/boot-full.log"
check "... what was there is untouched, no temporary file left there" \
    eval 'grep -qx kept "$tmp/boot-full.log.kept" && ! grep -q . "$tmp/boot-full.log.tmps"' -- "$tmp/boot-full.log.ls"
check "... with room again, the stage completes" \
    eval '"$cb" bootstrap --inventory "$inv" --node worker-01 --root "$r" --stage certificates --retry-timeout 0 \
        >"$tmp/boot-room.log" 2>&1' -- "$tmp/boot-room.log"

# ---- firstboot, /etc read-only ----
r=$tmp/ro
cp -a "$tmp/img" "$r"
mkdir -p "$r/proc" "$r/sys/class/net/eth0/device"
echo "clusterboot.node=worker-01" >"$r/proc/cmdline"
echo 02:00:00:00:00:01 >"$r/sys/class/net/eth0/address"
tree_sum "$r" >"$tmp/ro.before"
unshare -m bash -c 'mount --bind "$1/etc" "$1/etc" && mount -o remount,bind,ro "$1/etc" && shift && "$@"' \
    _ "$r" "$cb" firstboot --root "$r" >"$tmp/ro.log" 2>&1
rc=$?
check "firstboot with /etc read-only: exit 1, names the file and EROFS" \
    eval '[ "$rc" = 1 ] && grep -q "error: cannot write /etc/.*: Read-only file system" "$tmp/ro.log"' -- "$tmp/ro.log"
tree_sum "$r" >"$tmp/ro.after"
check "... not a byte of the tree changed" diff "$tmp/ro.before" "$tmp/ro.after"

# What every command printed (its errors included) holds no secret of the bundle (tests/scripts/no-secret-in.sh).
"$(dirname "$0")/../scripts/no-secret-in.sh" "$tmp/bundle" "$tmp"/*.log >"$tmp/no-secret.out" 2>&1
rc=$?
check "no secret of the bundle in anything the commands printed" eval '[ "$rc" = 0 ]' -- "$tmp/no-secret.out"
sed 's/^/#   /' "$tmp/no-secret.out"

echo "1..$n"
exit $((fail > 0))
