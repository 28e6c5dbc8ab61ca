#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `clusterboot image build` with the real tools, and its outputs booted under QEMU (TAP).
#   test-image-build.sh CLUSTERBOOT INVENTORY
# CLUSTERBOOT (the build under test, sanitizers and all) runs the refusals of bad input; the images are built
# with $CLUSTERBOOT_IMAGE_BINARY, a build without sanitizers (scripts/run-tests.sh sets build-release's),
# because the binary that builds an image is the one the image carries and its machines run.
#
# What it proves:
# - bad input (an invalid inventory, no --secrets, an --out that cannot be made, an unknown format, a disk
#   that fills up, a tool missing) gets a clear error and leaves no output behind;
# - two builds from the same cache give the same bytes, output by output;
# - a changed byte in a cached package file, in an installed file of the cached base, or in a component of
#   the lock (the pause image), refuses the build and names it; a component the image needs that was not
#   fetched refuses it before any work;
# - the outputs boot under QEMU (-accel tcg: this host's KVM cannot run a stock kernel or OVMF), one VM at
#   a time in a network namespace of the test's own, the NIC on -netdev user,restrict=on (nothing outside
#   the VM is reachable), the serial console parsed: disk.raw under OVMF recognised by its MAC (its root
#   grown to a larger disk, the identity file and journal read back from the disk after an ACPI power-off);
#   disk.raw on NVMe recognised by its DMI serial; cluster.iso from a CD under SeaBIOS by its DMI UUID;
#   netboot's live.img by clusterboot.node=; and a machine that is no node says so;
# - nothing a build printed, nor any console, holds a secret of the bundle.
# The images carry the pause image of the components lock (the inventory runs Kubernetes), fetched here by
# `clusterboot binaries fetch` when the components folder lacks it (seconds), and are built --without
# kubernetes,flannel (their 450 MB and 20 minutes of building prove nothing more about images).
# Environment: CLUSTERBOOT_TEST_CACHE (default /var/cache/clusterboot-test; the Debian base is kept in
# its image/ folder, the components in deps/ or CLUSTERBOOT_DEPS_CACHE), CLUSTERBOOT_TEST_MIRROR, TMPDIR,
# KEEP_WORK=1.
set -u

cb_test=$1
inv=$(realpath "$2")
cb=${CLUSTERBOOT_IMAGE_BINARY:-}
cache=${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}/image
components=${CLUSTERBOOT_DEPS_CACHE:-${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}/deps}
comp_args=(--components "$components" --without kubernetes,flannel)
mirror=${CLUSTERBOOT_TEST_MIRROR:-http://deb.debian.org/debian}
plan=35
n=0
failed=0
work=
ns=cbimg$$
echo "1..$plan"

ok() { n=$((n + 1)); echo "ok $n - $1"; }
# not_ok NAME [FILE...]: a failed point, the last lines of each FILE as diagnostics; on stdout (TAP) and on
# stderr, which is what a CI log shows of a failed test.
not_ok() {
    local name=$1 f
    shift
    n=$((n + 1)); failed=$((failed + 1))
    {
        echo "not ok $n - $name"
        for f; do
            [ -s "$f" ] || continue
            echo "# --- ${f#"$work"/} (last 25 lines)"
            # awk: a console log's last line has no newline, and the next TAP line must start on its own.
            tail -n 25 "$f" | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r//g' -e 's/^/#   /' | awk 1
        done
    } | tee /dev/stderr
    return 0
}
check() { # NAME CONDITION-COMMAND... [-- FILE...]
    local name=$1 cmd=() files=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
    [ $# -gt 0 ] && shift && files=("$@")
    if "${cmd[@]}" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "${files[@]}"; fi
}
skip_rest() {
    while [ "$n" -lt "$plan" ]; do n=$((n + 1)); echo "ok $n # SKIP $1"; done
    exit 0
}
cleanup() {
    [ -n "${qemu_pid:-}" ] && kill "$qemu_pid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    if [ -n "$work" ]; then
        if [ "${KEEP_WORK:-}" = 1 ]; then echo "# kept $work"; else rm -rf "$work"; fi
    fi
}
trap cleanup EXIT

# ---- can it run here? ----
[ "$(id -u)" = 0 ] || skip_rest "needs root (debootstrap, chroot, network namespaces)"
[ -n "$cb" ] || skip_rest "CLUSTERBOOT_IMAGE_BINARY is not set: the images need a clusterboot built without sanitizers (scripts/run-tests.sh sets it)"
[ -x "$cb" ] || { not_ok "CLUSTERBOOT_IMAGE_BINARY $cb is a program"; skip_rest "no binary to build images with"; }
for p in debootstrap sfdisk mkfs.vfat mmd mcopy mkfs.ext4 debugfs e2fsck mksquashfs cpio qemu-system-x86_64 sha256sum python3 unshare; do
    command -v "$p" >/dev/null || skip_rest "$p is not installed (scripts/setup-deps.sh installs it)"
done
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$ovmf_code" ] && [ -f "$ovmf_vars" ] || skip_rest "OVMF is not installed (Debian package ovmf)"
ip netns add "$ns" || skip_rest "cannot make a network namespace here"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/cb-image.XXXXXX") || skip_rest "no work folder"
mkdir -p "$cache"

# ---- bad input: a precise error, nothing left behind ----
"$cb_test" secrets init --inventory "$inv" --out "$work/secrets" >"$work/secrets.log" 2>&1 ||
    { not_ok "secrets bundle for the test inventory" "$work/secrets.log"; skip_rest "no secrets bundle"; }

mkdir -p "$work/bad/nodes"
printf 'cluster:\n  name: bad\n  networking: { node_cidr: 10.0.2.0/24 }\nnodes:\n  - { name: a, ip: 10.9.9.9, roles: [master] }\n' \
    >"$work/bad/cluster.yaml"
"$cb_test" image build --inventory "$work/bad" --secrets "$work/secrets" --out "$work/out-bad" \
    --cache "$cache" >"$work/bad.log" 2>&1
rc=$?
check "an inventory that does not validate: exit 1, FILE:LINE:COL, no output folder" \
    eval '[ $rc = 1 ] && grep -q "cluster.yaml:[0-9]*:[0-9]*: error" "$work/bad.log" && [ ! -e "$work/out-bad" ]' -- "$work/bad.log"

"$cb_test" image build --inventory "$inv" --out "$work/out-nosecrets" >"$work/nosecrets.log" 2>&1
rc=$?
check "no --secrets: exit 2, says every image of a cluster needs the same join secret and how to make it" \
    eval '[ $rc = 2 ] && grep -q "same join secret" "$work/nosecrets.log" && grep -q "secrets init" "$work/nosecrets.log"' -- "$work/nosecrets.log"

touch "$work/a-file"
"$cb_test" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/a-file/out" --cache "$cache" \
    "${comp_args[@]}" >"$work/unwritable.log" 2>&1
rc=$?
check "an --out that cannot be made: exit 1, names it, with a hint" \
    eval '[ $rc = 1 ] && grep -q "cannot make the output folder $work/a-file/out" "$work/unwritable.log" && grep -q "hint:" "$work/unwritable.log"' -- "$work/unwritable.log"

"$cb_test" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/out-fmt" --format disk,dvd \
    >"$work/format.log" 2>&1
rc=$?
check "--format with an output it does not know: exit 2, names it and the outputs there are" \
    eval '[ $rc = 2 ] && grep -q "a list of disk, iso, netboot and tree, not .dvd." "$work/format.log" && [ ! -e "$work/out-fmt" ]' -- "$work/format.log"

mkdir -p "$work/no-components"
"$cb_test" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/out-nocomp" --cache "$cache" \
    --components "$work/no-components" >"$work/nocomp.log" 2>&1
rc=$?
check "components the image needs that were not fetched: exit 1 before any work, naming each and 'binaries fetch'" \
    eval '[ $rc = 1 ] && grep -q "lacks: kubernetes v1.29.1, pause 3.9" "$work/nocomp.log" &&
        grep -q "clusterboot binaries fetch --inventory" "$work/nocomp.log" && [ ! -e "$work/out-nocomp" ]' -- "$work/nocomp.log"

"$cb_test" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/out-without" --without kubelet \
    >"$work/without.log" 2>&1
rc=$?
check "--without a component the lock does not have: exit 2, says so" \
    eval '[ $rc = 2 ] && grep -q "there is no component .kubelet." "$work/without.log" && [ ! -e "$work/out-without" ]' -- "$work/without.log"

"$cb_test" binaries fetch pause --components "$components" >"$work/fetch.log" 2>&1 ||
    { not_ok "clusterboot binaries fetch pause" "$work/fetch.log"; skip_rest "no pause image"; }

# ---- two builds, the same bytes ----
build() { # OUT LOG [ARG...]
    local out=$1 log=$2
    shift 2
    "$cb" image build --inventory "$inv" --secrets "$work/secrets" --out "$out" --cache "$cache" --mirror "$mirror" \
        "${comp_args[@]}" "$@" >"$log" 2>&1
}
t0=$(date +%s)
if build "$work/out1" "$work/build1.log"; then
    ok "image build: disk.raw, cluster.iso, netboot/, manifest.json, SHA256SUMS in $(($(date +%s) - t0)) s (the Debian base cached in $cache)"
else
    not_ok "image build" "$work/build1.log"
    skip_rest "no image"
fi
sed 's/^/#   /' "$work/build1.log"
check "sha256sum -c SHA256SUMS in the output folder: every output listed and intact" \
    eval '(cd "$work/out1" && sha256sum -c --quiet SHA256SUMS) && [ "$(wc -l <"$work/out1/SHA256SUMS")" = 9 ]' -- "$work/out1/SHA256SUMS"
pause_sha=$(sed -n 's/^PAUSE_SHA256_amd64=//p' "$(dirname "$0")/../../image/components.lock")
check "manifest.json: the inventory's digest, the secret policy, every package and component with version and sha256, every output" \
    python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["cluster"] == "imagetest" and m["secret_policy"] == "join" and len(m["inventory_sha256"]) == 64
names = {c["name"]: c for c in m["components"]}
for p in ("etcd-server", "containerd", "linux-image-amd64", "systemd", "busybox"):
    assert len(names[p]["sha256"]) == 64 and names[p]["version"], p
assert "ceph-mon" not in names and "mosquitto" not in names  # only what the roles need
p = names["pause"]  # as the components lock pins it; nothing that --without left out
assert p["version"] == "3.9" and p["sha256"] == sys.argv[2] and p["file"] == "pause-3.9/pause-3.9.oci.tar", p
assert "kubernetes" not in names and "flannel" not in names and "coredns" not in names
assert {o["path"] for o in m["outputs"]} >= {"disk.raw", "cluster.iso", "netboot/live.img", "netboot/rootfs.squashfs"}
' "$work/out1/manifest.json" "$pause_sha" -- "$work/out1/manifest.json"

# cluster.iso is hybrid: El Torito entries for BIOS and UEFI (a CD), an MBR and the FAT image as a GPT partition
# (a USB stick).
xorriso -indev "$work/out1/cluster.iso" -report_el_torito plain >"$work/eltorito.txt" 2>&1
sfdisk -d "$work/out1/cluster.iso" >"$work/iso-parts.txt" 2>&1
check "cluster.iso: El Torito boot entries for BIOS and UEFI, and a GPT with the EFI System partition for a USB stick" \
    eval 'grep -q "El Torito boot img :   1  BIOS" "$work/eltorito.txt" && grep -q "El Torito boot img :   2  UEFI" "$work/eltorito.txt" &&
        grep -q "^label: gpt" "$work/iso-parts.txt" && grep -qi "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B" "$work/iso-parts.txt"' \
    -- "$work/eltorito.txt" "$work/iso-parts.txt"

t0=$(date +%s)
build "$work/out2" "$work/build2.log"
rc=$?
if [ $rc = 0 ] && cmp -s "$work/out1/SHA256SUMS" "$work/out2/SHA256SUMS"; then
    ok "a second build into another folder: every output has the same sha256 ($(($(date +%s) - t0)) s)"
else
    diff "$work/out1/SHA256SUMS" "$work/out2/SHA256SUMS" >"$work/sums.diff" 2>&1
    not_ok "a second build into another folder: every output has the same sha256" "$work/build2.log" "$work/sums.diff"
fi
rm -rf "$work/out2"

# ---- a tampered cache refuses the build ----
key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base"]["cache_key"])' "$work/out1/manifest.json")
mkdir -p "$work/cache-t/base"
cp -a "$cache/base/$key" "$work/cache-t/base/$key"
deb=$(ls "$work/cache-t/base/$key/var/cache/apt/archives/" | grep '^containerd_' | head -n 1)
printf 'X' | dd of="$work/cache-t/base/$key/var/cache/apt/archives/$deb" bs=1 seek=1000 conv=notrunc 2>/dev/null
"$cb" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/out-t" --cache "$work/cache-t" \
    "${comp_args[@]}" >"$work/tampered.log" 2>&1
rc=$?
check "one byte changed in a cached package file: the build fails naming the component, nothing published" \
    eval '[ $rc = 1 ] && grep -q "component containerd .* does not match the signed Debian index" "$work/tampered.log" && [ -z "$(ls -A "$work/out-t")" ]' -- "$work/tampered.log"
cp "$cache/base/$key/var/cache/apt/archives/$deb" "$work/cache-t/base/$key/var/cache/apt/archives/$deb"
printf 'X' | dd of="$work/cache-t/base/$key/usr/bin/containerd" bs=1 seek=1000 conv=notrunc 2>/dev/null
"$cb" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/out-t" --cache "$work/cache-t" \
    "${comp_args[@]}" >"$work/tampered2.log" 2>&1
rc=$?
check "one byte changed in an installed file of the cached base: the build fails (dpkg --verify names it)" \
    eval '[ $rc = 1 ] && grep -q "/usr/bin/containerd" "$work/tampered2.log" && [ -z "$(ls -A "$work/out-t")" ]' -- "$work/tampered2.log"
rm -rf "$work/cache-t"
mkdir -p "$work/components-t"
cp -a "$components/pause-3.9" "$work/components-t/"
printf 'X' | dd of="$work/components-t/pause-3.9/pause-3.9.oci.tar" bs=1 seek=1000 conv=notrunc 2>/dev/null
"$cb" image build --inventory "$inv" --secrets "$work/secrets" --out "$work/out-t" --cache "$cache" \
    --components "$work/components-t" --without kubernetes,flannel >"$work/tampered3.log" 2>&1
rc=$?
check "one byte changed in a fetched component (the pause image): step components fails naming it and both sha256s" \
    eval '[ $rc = 1 ] && grep -q "step components: component pause 3.9 .* is not the locked one: sha256 [0-9a-f]\{64\}, the lock pins $pause_sha" "$work/tampered3.log" &&
        grep -q "binaries fetch pause" "$work/tampered3.log" && [ -z "$(ls -A "$work/out-t")" ]' -- "$work/tampered3.log"
rm -rf "$work/components-t"

# ---- a full disk while writing ----
unshare -m --propagation private bash -c '
    mkdir -p "$1" && mount -t tmpfs -o size=200m tmpfs "$1" || exit 99
    "$2" image build --inventory "$3" --secrets "$4" --out "$1/out" --cache "$5" --format disk \
        --components "$7" --without kubernetes,flannel
    rc=$?
    ls -A "$1/out" >"$6"
    exit $rc' full "$work/small" "$cb" "$inv" "$work/secrets" "$cache" "$work/full.ls" "$components" >"$work/full.log" 2>&1
rc=$?
check "a disk that fills up while writing: exit 1, the step and the tool's words, no output or staging folder left" \
    eval '[ $rc = 1 ] && grep -q "step tree\|step disk\|step initrd" "$work/full.log" && grep -qi "space" "$work/full.log" && [ ! -s "$work/full.ls" ]' -- "$work/full.log"

# ---- a tool missing ----
# mksquashfs hidden in a mount namespace of its own (/dev/null bound over it: not executable), as on a machine
# without squashfs-tools: refused before any work, naming the tool and its package; nothing written.
unshare -m --propagation private bash -c '
    mount --bind /dev/null "$(command -v mksquashfs)" || exit 99
    "$1" image build --inventory "$2" --secrets "$3" --out "$4" --cache "$5" --format netboot \
        --components "$6" --without kubernetes,flannel' notool "$cb" "$inv" "$work/secrets" "$work/out-notool" \
    "$work/cache-notool" "$components" >"$work/notool.log" 2>&1
rc=$?
check "a tool missing (mksquashfs hidden): exit 1 before any work, naming it and its Debian package; nothing written" \
    eval '[ $rc = 1 ] && grep -q "needs tools this machine lacks: mksquashfs (Debian package squashfs-tools)" "$work/notool.log" &&
        [ ! -e "$work/out-notool" ] && [ ! -e "$work/cache-notool" ]' -- "$work/notool.log"

# ---- boots under QEMU, one at a time ----
qemu_pid=
# boot NAME LOG WAIT_FOR_REGEX TIMEOUT QEMU_ARG...: starts QEMU in the namespace, its serial console to LOG,
# and waits until LOG matches (0) or TIMEOUT seconds pass (1). The VM keeps running.
boot() {
    local name=$1 log=$2 want=$3 timeout=$4 i
    shift 4
    ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -nographic -no-reboot \
        -monitor "unix:$work/$name.mon,server,nowait" "$@" >"$log" 2>&1 &
    qemu_pid=$!
    for ((i = 0; i < timeout; i++)); do
        grep -aq -- "$want" "$log" && return 0
        kill -0 "$qemu_pid" 2>/dev/null || return 1
        sleep 1
    done
    return 1
}
# stop NAME [powerdown]: ACPI power-off (the disk's file system clean) or kill; waits for QEMU to end.
stop() {
    local name=$1 i
    if [ "${2:-}" = powerdown ]; then
        python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(0.3); s.sendall(b"system_powerdown\n"); time.sleep(0.5)' \
            "$work/$name.mon" 2>/dev/null
        for ((i = 0; i < 120; i++)); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 1; done
    fi
    kill "$qemu_pid" 2>/dev/null
    wait "$qemu_pid" 2>/dev/null
    qemu_pid=
}
console_line() { # LOG: the identity line, without the console's escapes
    grep -a '^clusterboot: this machine' "$1" | sed -e 's/\r//g' | head -n 1
}
failed_units() { # LOG: units the console reported as failed
    sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | grep -a 'FAILED' || true
}
esp_off=$((1024 * 1024))
root_off=$((esp_off + 256 * 1024 * 1024))

# disk.raw under OVMF, recognised by its MAC, on a disk 2 GiB larger than the image.
cp --sparse=always "$work/out1/disk.raw" "$work/disk-mac.raw" && truncate -s +2G "$work/disk-mac.raw"
cp "$ovmf_vars" "$work/vars-mac.fd"
t0=$(date +%s)
if boot mac "$work/boot-mac.log" 'login:' 240 \
        -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code" -drive "if=pflash,format=raw,file=$work/vars-mac.fd" \
        -drive "file=$work/disk-mac.raw,format=raw,if=virtio" \
        -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:c1:00:01; then
    ok "disk.raw + OVMF (systemd-boot, no menu): a login prompt in $(($(date +%s) - t0)) s"
else
    not_ok "disk.raw + OVMF: a login prompt within 240 s" "$work/boot-mac.log"
fi
sleep 10 # the first units of the role targets
line=$(console_line "$work/boot-mac.log")
check "the console says: '$line'" [ "$line" = "clusterboot: this machine is node-mac (matched by MAC 52:54:00:c1:00:01)" ] -- "$work/boot-mac.log"
fails=$(failed_units "$work/boot-mac.log")
check "no unit failed on the console${fails:+: $fails}" [ -z "$fails" ] -- "$work/boot-mac.log"
# The image has no /etc/hostname; first boot names the machine now, not at the next boot.
check "the login prompt says node-mac (first boot set the running hostname)" grep -aq '^node-mac login:' "$work/boot-mac.log" -- "$work/boot-mac.log"
check "the login banner names the node, its roles and address: 'clusterboot: node node-mac, roles master, address 10.0.2.15'" \
    grep -aq '^clusterboot: node node-mac, roles master, address 10.0.2.15' "$work/boot-mac.log" -- "$work/boot-mac.log"
stop mac powerdown
e2fsck -fy "$work/disk-mac.raw?offset=$root_off" >"$work/fsck-mac.log" 2>&1
identity=$(debugfs -R 'cat /etc/cluster-config/node-identity' "$work/disk-mac.raw?offset=$root_off" 2>/dev/null)
mkdir -p "$work/journal-mac"
debugfs -R "rdump /var/log/journal $work/journal-mac" "$work/disk-mac.raw?offset=$root_off" >/dev/null 2>&1
journalctl -D "$work/journal-mac/journal" -u cluster-detect.service --no-pager >"$work/journal-mac.log" 2>&1
check "after the power-off, read from the disk: node-identity is node-mac and cluster-detect.service finished in the journal" \
    eval '[ "$identity" = node-mac ] && grep -q "Finished cluster-detect.service" "$work/journal-mac.log"' -- "$work/journal-mac.log" "$work/fsck-mac.log"
root_sectors=$(sfdisk -J "$work/disk-mac.raw" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][1]["size"])')
blocks=$(debugfs -R stats "$work/disk-mac.raw?offset=$root_off" 2>/dev/null | awk -F: '/^Block count/ { print $2 + 0 }')
image_sectors=$(sfdisk -J "$work/out1/disk.raw" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][1]["size"])')
check "the root grew to the disk at first boot: partition $image_sectors -> $root_sectors sectors, ext4 $blocks blocks" \
    eval '[ "$root_sectors" -gt $((image_sectors + 3 * 1024 * 1024)) ] && [ $((blocks * 8)) -gt $((image_sectors + 3 * 1024 * 1024)) ]'
rm -f "$work/disk-mac.raw"

# disk.raw on NVMe under OVMF, a MAC no node has: recognised by the DMI serial.
cp --sparse=always "$work/out1/disk.raw" "$work/disk-serial.raw"
cp "$ovmf_vars" "$work/vars-serial.fd"
boot serial "$work/boot-serial.log" '^clusterboot: this machine' 240 \
    -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code" -drive "if=pflash,format=raw,file=$work/vars-serial.fd" \
    -drive "file=$work/disk-serial.raw,format=raw,if=none,id=d0" -device nvme,drive=d0,serial=nvme0 \
    -smbios type=1,serial=CB-IMAGE-TEST-0002 \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:c1:00:99
line=$(console_line "$work/boot-serial.log")
check "disk.raw on NVMe: '$line'" [ "$line" = "clusterboot: this machine is node-serial (matched by DMI serial CB-IMAGE-TEST-0002)" ] -- "$work/boot-serial.log"
stop serial
rm -f "$work/disk-serial.raw"

# cluster.iso from a CD under SeaBIOS (GRUB's El Torito image), a MAC no node has: recognised by the DMI UUID.
boot iso "$work/boot-iso.log" '^clusterboot: this machine' 240 -cdrom "$work/out1/cluster.iso" \
    -smbios type=1,uuid=c1b00000-0000-4000-8000-000000000004 \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:c1:00:96
line=$(console_line "$work/boot-iso.log")
check "cluster.iso on a CD under SeaBIOS: '$line'" \
    [ "$line" = "clusterboot: this machine is node-uuid (matched by DMI UUID c1b00000-0000-4000-8000-000000000004)" ] -- "$work/boot-iso.log"
sleep 2 # the warning follows the identity line
check "a live root without a state disk says at boot that nothing outlives a reboot" \
    grep -aq 'clusterboot: warning: this machine runs a live root' "$work/boot-iso.log" -- "$work/boot-iso.log"
stop iso

# netboot: live.img (initrd and squashfs as one) with QEMU's -kernel/-initrd, the node forced on the command line.
# Its node file names a state disk (a blank virtio disk, serial cbstate0): the first boot formats it, the
# second finds it, with what the first wrote.
cmdline=$(cat "$work/out1/netboot/cmdline.txt")
truncate -s 1G "$work/state.raw"
live_args=(-kernel "$work/out1/netboot/vmlinuz" -initrd "$work/out1/netboot/live.img"
    -append "$cmdline clusterboot.node=node-cmdline"
    -drive "file=$work/state.raw,format=raw,if=none,id=s0" -device virtio-blk-pci,drive=s0,serial=cbstate0
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:c1:00:98)
boot live "$work/boot-live.log" 'login:' 240 "${live_args[@]}"
line=$(console_line "$work/boot-live.log")
check "netboot live.img: '$line'" [ "$line" = "clusterboot: this machine is node-cmdline (matched by kernel command line)" ] -- "$work/boot-live.log"
check "its state disk, blank, is formatted: 'the state of node-cmdline is kept on /dev/disk/by-id/virtio-cbstate0, a blank disk formatted now'" \
    grep -aq '^clusterboot: the state of node-cmdline is kept on /dev/disk/by-id/virtio-cbstate0, a blank disk formatted now' "$work/boot-live.log" -- "$work/boot-live.log"
check "with a state disk, no warning that nothing outlives a reboot" eval '! grep -aq "clusterboot: warning: this machine runs a live root" "$work/boot-live.log"' -- "$work/boot-live.log"
fails=$(failed_units "$work/boot-live.log")
check "netboot: no unit failed on the console${fails:+: $fails}" [ -z "$fails" ] -- "$work/boot-live.log"
stop live powerdown
created=$(debugfs -R 'cat /clusterboot-state.json' "$work/state.raw" 2>/dev/null | python3 -c 'import json,sys; m=json.load(sys.stdin); assert m["cluster"] == "imagetest" and m["node"] == "node-cmdline"; print(m["created"])' 2>/dev/null)
check "after the power-off, the state disk holds the node's state: the marker ($created), the bootstrap's state directory and the kubelet's" \
    eval '[ -n "$created" ] && debugfs -R "ls /var/lib/cluster-state" "$work/state.raw" 2>/dev/null | grep -q rendered-files && debugfs -R "stat /var/lib/kubelet" "$work/state.raw" 2>/dev/null | grep -q "Type: directory"'
boot live2 "$work/boot-live2.log" 'login:' 240 "${live_args[@]}"
check "the next boot finds it: 'kept on /dev/disk/by-id/virtio-cbstate0 (made $created)'" \
    grep -aq "^clusterboot: the state of node-cmdline is kept on /dev/disk/by-id/virtio-cbstate0 (made $created)" "$work/boot-live2.log" -- "$work/boot-live2.log"
fails=$(failed_units "$work/boot-live2.log")
check "the second boot: no unit failed on the console${fails:+: $fails}" [ -z "$fails" ] -- "$work/boot-live2.log"
stop live2
rm -f "$work/state.raw"

# A machine that is no node: its MAC, serial and hostname match nothing.
boot unknown "$work/boot-unknown.log" '^clusterboot: this machine' 240 -kernel "$work/out1/netboot/vmlinuz" \
    -initrd "$work/out1/netboot/live.img" -append "$cmdline" \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:c1:00:97
line=$(console_line "$work/boot-unknown.log")
check "an unknown machine: '$line'" eval '[[ "$line" == "clusterboot: this machine is not in the inventory (MACs: eth0=52:54:00:c1:00:97;"* ]]' -- "$work/boot-unknown.log"
stop unknown

# Nothing a build printed, nor any machine's console, holds a secret of the bundle (tests/scripts/no-secret-in.sh).
# The images carry its join secret by design: only what was printed is looked at.
"$(dirname "$0")/../scripts/no-secret-in.sh" "$work/secrets" "$work"/*.log >"$work/no-secret.out" 2>&1
rc=$?
check "no secret of the bundle in what the builds printed or any machine's console" [ "$rc" = 0 ] -- "$work/no-secret.out"
sed 's/^/#   /' "$work/no-secret.out"

[ "$n" = "$plan" ] || echo "# BUG in the test: $n points, planned $plan"
[ "$failed" = 0 ] && [ "$n" = "$plan" ]
