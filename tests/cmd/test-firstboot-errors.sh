#!/usr/bin/env bash
# Bad input to the first-boot commands: a clear error, a non-zero exit, and no partial files left behind.
# Usage: test-firstboot-errors.sh CLUSTERBOOT EXAMPLES_DIR
set -u
bin=$(realpath "$1")
inv=$(realpath "$2")/homelab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
check() { # NAME EXPECTED_RC OUTPUT_PATTERN -- COMMAND...
    local name=$1 want_rc=$2 pattern=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" >>"$tmp/printed.log" # for the secret point at the end
    n=$((n + 1))
    if [ "$rc" = "$want_rc" ] && grep -qE -- "$pattern" <<< "$out"; then
        echo "ok $n - $name"
    else
        fail=$((fail + 1))
        echo "not ok $n - $name (exit $rc, expected $want_rc and /$pattern/)"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
}
assert() { # NAME CONDITION...
    local name=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $name"; else fail=$((fail + 1)); echo "not ok $n - $name"; fi
}

check "render for a node not in the inventory" 1 "node 'nope' is not in the inventory" -- \
    "$bin" render --inventory "$inv" --node nope --root "$tmp/r1"
assert "... wrote nothing" test ! -e "$tmp/r1"

check "render before detect says what to do" 1 "run 'clusterboot detect' first" -- \
    "$bin" render --inventory "$inv" --root "$tmp/r2"

echo "not a directory" > "$tmp/file"
check "an unwritable root is a clear error" 1 "cannot write /etc/.*: Not a directory" -- \
    "$bin" render --inventory "$inv" --node master-01 --root "$tmp/file/root"

# A previous run killed mid-write leaves a temporary file and, at worst, an old file: both are repaired.
mkdir -p "$tmp/r3/etc"
printf '127.0.0.1 local' > "$tmp/r3/etc/hosts"
printf 'half a fi' > "$tmp/r3/etc/hosts.tmp.Ab12Cd"
check "render over a half-written previous render" 0 "updated /etc/hosts" -- \
    "$bin" render --inventory "$inv" --node master-01 --root "$tmp/r3"
assert "... the leftover temporary file is gone" test ! -e "$tmp/r3/etc/hosts.tmp.Ab12Cd"
assert "... /etc/hosts is whole" grep -q "192.168.1.14.*storage-01" "$tmp/r3/etc/hosts"
assert "... and no temporary file is left anywhere" test -z "$(find "$tmp/r3" -name '*.tmp.*')"

check "--dry-run writes nothing" 0 "would be created /etc/hostname" -- \
    "$bin" render --inventory "$inv" --node worker-01 --root "$tmp/r4" --dry-run
assert "... indeed nothing" test ! -e "$tmp/r4"

mkdir -p "$tmp/r5/sys/class/net/eth0/device"
echo 52:54:00:99:99:99 > "$tmp/r5/sys/class/net/eth0/address"
check "detect on an unknown machine says what it saw" 1 "no node matches this machine \(MACs: eth0=52:54:00:99:99:99" -- \
    "$bin" detect --inventory "$inv" --root "$tmp/r5"
assert "... and writes no identity" test ! -e "$tmp/r5/etc/cluster-config/node-identity"
# The decisions, on demand: what the machine showed and the selectors' order.
check "detect --verbose says what the machine shows and in which order the selectors are tried" 1 \
    "debug: this machine shows MACs: eth0=52:54:00:99:99:99; product_uuid -; serial -; hostname -; the selectors, first match wins" -- \
    "$bin" detect --verbose --inventory "$inv" --root "$tmp/r5"
check "... as CLUSTERBOOT_LOG_LEVEL=debug does" 1 "debug: this machine shows MACs: eth0=52:54:00:99:99:99" -- \
    env CLUSTERBOOT_LOG_LEVEL=debug "$bin" detect --inventory "$inv" --root "$tmp/r5"
n=$((n + 1))
if "$bin" detect --inventory "$inv" --root "$tmp/r5" 2>&1 | grep -q "debug:"; then
    fail=$((fail + 1)); echo "not ok $n - ... and without either, no debug message"
else
    echo "ok $n - ... and without either, no debug message"
fi
check "a CLUSTERBOOT_LOG_LEVEL that is no level: a warning naming the levels, and info" 1 \
    "warning: CLUSTERBOOT_LOG_LEVEL=loud is no level \(error, warning, info or debug\): info" -- \
    env CLUSTERBOOT_LOG_LEVEL=loud "$bin" detect --inventory "$inv" --root "$tmp/r5"

check "activate --output json" 0 '"unit": "kubernetes-master.target"' -- \
    "$bin" activate --inventory "$inv" --node master-01 --root "$tmp/r6" --output json

check "network --network-backend networkmanager writes a keyfile" 0 "created /etc/NetworkManager/system-connections/clusterboot.nmconnection" -- \
    "$bin" network --inventory "$inv" --node worker-02 --root "$tmp/r7" --network-backend networkmanager
nm=$tmp/r7/etc/NetworkManager/system-connections/clusterboot.nmconnection
assert "... readable by root only, as NetworkManager requires" test "$(stat -c %a "$nm")" = 600
assert "... with the node's address, prefix and gateway" grep -qx "address1=192.168.1.12/24,192.168.1.1" "$nm"
assert "... and no networkd file" test ! -e "$tmp/r7/etc/systemd/network/10-clusterboot.network"
check "an unknown backend is a usage error" 2 "must be networkd or networkmanager" -- \
    "$bin" network --inventory "$inv" --node worker-02 --root "$tmp/r8" --network-backend ifupdown

# What render made before and no longer makes goes: the other backend's file; the files of lost roles.
check "switching the network backend removes the other backend's file" 0 "removed /etc/NetworkManager/system-connections/clusterboot.nmconnection" -- \
    "$bin" network --inventory "$inv" --node worker-02 --root "$tmp/r7" --network-backend networkd
check "... and back" 0 "removed /etc/systemd/network/10-clusterboot.network" -- \
    "$bin" network --inventory "$inv" --node worker-02 --root "$tmp/r7" --network-backend networkmanager
"$bin" render --inventory "$inv" --node master-01 --root "$tmp/r9" > /dev/null
check "a node that lost the master role loses etcd's configuration" 0 "removed /etc/cluster-config/environment/etcd.env" -- \
    "$bin" render --inventory "$inv" --node worker-01 --root "$tmp/r9"
assert "... and the control plane's" test ! -e "$tmp/r9/etc/cluster-config/environment/kube-apiserver.env"
assert "... but keeps what it still renders" test -e "$tmp/r9/etc/cluster-config/environment/kubelet.env"

# An image tree: install, then boot it (a fake machine with master-01's MAC), then install again.
img=$tmp/image
# What Debian's ceph packages enable: ceph.target on every node, wanting ceph-mon.target (one of ours) and
# ceph-crash.
for l in multi-user.target.wants/ceph.target multi-user.target.wants/ceph-mon.target \
    ceph.target.wants/ceph-mon.target ceph.target.wants/ceph-crash.service; do
    mkdir -p "$img/etc/systemd/system/${l%/*}"
    ln -s "/lib/systemd/system/${l##*/}" "$img/etc/systemd/system/$l"
done
check "install puts the binary, the units and the inventory into a tree" 0 "enabled cluster-detect.service" -- \
    "$bin" install --root "$img" --inventory "$inv"
assert "... and removes what the ceph packages enabled (ceph.target, ceph-mon.target, ceph-crash)" bash -c \
    "cd '$img/etc/systemd/system' && test ! -L multi-user.target.wants/ceph.target &&
     test ! -L multi-user.target.wants/ceph-mon.target && test ! -L ceph.target.wants/ceph-mon.target &&
     test ! -L ceph.target.wants/ceph-crash.service"
check "... the binary runs from the tree" 0 "^clusterboot [0-9]" -- "$img/usr/bin/clusterboot" --version
assert "... cluster-detect.service is enabled" test -L "$img/etc/systemd/system/multi-user.target.wants/cluster-detect.service"
assert "... and the certificate renewal timer" test -L "$img/etc/systemd/system/timers.target.wants/clusterboot-renew.timer"
assert "... and the inventory sync timer" test -L "$img/etc/systemd/system/timers.target.wants/clusterboot-sync.timer"
mkdir -p "$img/sys/class/net/ens3/device"
echo 52:54:00:12:34:10 > "$img/sys/class/net/ens3/address"
check "the installed binary's first boot finds its node in the installed inventory" 0 "This machine is master-01" -- \
    "$img/usr/bin/clusterboot" firstboot --root "$img"
check "installing again changes nothing" 0 "^installed" -- "$bin" install --root "$img" --inventory "$inv"
assert "... the role target its first boot enabled stays" \
    test -L "$img/etc/systemd/system/multi-user.target.wants/kubernetes-master.target"
n=$((n + 1))
if "$bin" install --root "$img" --inventory "$inv" | grep -qE '(created|updated|enabled) '; then
    fail=$((fail + 1)); echo "not ok $n - ... not a single file"
else
    echo "ok $n - ... not a single file"
fi
cp -r "$inv" "$tmp/broken"
sed -i 's/roles: \[master, dns-server\]/roles: [mastr, dns-server]/' "$tmp/broken/cluster.yaml"
cp -r "$inv" "$tmp/smaller"
rm "$tmp/smaller/nodes/worker-02.yaml"
sed -i '/name: worker-02/,+3d' "$tmp/smaller/cluster.yaml"
sed -i 's/osd_pool_default_size: 2/osd_pool_default_size: 1/' "$tmp/smaller/services/ceph.yaml"
check "install of an inventory that lost a node removes that node's file" 0 "removed /etc/cluster-config/nodes/worker-02.yaml" -- \
    "$bin" install --root "$img" --inventory "$tmp/smaller"
# The embedded secret policy: the bundle in the image, and each node makes its certificates at first boot.
"$bin" secrets init --inventory "$inv" --out "$tmp/bundle" >>"$tmp/printed.log" 2>&1
emb=$tmp/image-embedded
check "install --secret-policy embedded puts the bundle into the image" 0 "installed" -- \
    "$bin" install --root "$emb" --inventory "$inv" --secrets "$tmp/bundle" --secret-policy embedded
assert "... in a folder only root can list" test "$(stat -c %a "$emb/etc/cluster-config/secrets")" = 700
assert "... every file 0600" test -z "$(find "$emb/etc/cluster-config/secrets" -type f ! -perm 600)"
mkdir -p "$emb/sys/class/net/eth0/device"
echo 52:54:00:12:34:10 > "$emb/sys/class/net/eth0/address"
check "the image's first boot makes the node's certificates from it" 0 "\[3/4\] pki" -- \
    "$emb/usr/bin/clusterboot" firstboot --root "$emb"
assert "... the API server's certificate is there" test -f "$emb/etc/kubernetes/pki/apiserver.crt"
check "status before bootstrap does not check certificates" 0 "^certificates: +not checked before the node has bootstrapped or joined" -- \
    "$emb/usr/bin/clusterboot" status --root "$emb"
mkdir -p "$emb/var/lib/cluster-state" && echo bootstrapped >"$emb/var/lib/cluster-state/bootstrap-state"
check "status of a bootstrapped node checks its certificates as pki check does" 0 "^certificates: +[0-9]+ PKI files, 0 errors, 0 warnings$" -- \
    "$emb/usr/bin/clusterboot" status --root "$emb"
chmod 0644 "$emb/etc/kubernetes/pki/apiserver.key"
check "... and fails on an error, naming the file" 1 "apiserver.key: error: mode 0644, expected 0600" -- \
    "$emb/usr/bin/clusterboot" status --root "$emb"
chmod 0600 "$emb/etc/kubernetes/pki/apiserver.key"
check "pki node --restart acts on the running system, not on a tree" 2 "cannot be used with --root" -- \
    "$bin" pki node --root "$emb" --restart
# A node of the join policy (no bundle) with its kubelet's client certificate renews through the join
# service; a dry run does not ask it (it would issue certificates).
jp=$tmp/join-policy-node
mkdir -p "$jp/var/lib/kubelet/pki" && echo placeholder >"$jp/var/lib/kubelet/pki/kubelet-client-current.pem"
check "pki node --dry-run on a join-policy node: would ask the join service, asks nothing" 0 \
    "would ask a master's join service for the certificates that are due" -- \
    "$bin" pki node --inventory "$inv" --node worker-01 --root "$jp" --dry-run
check "pki node --restart --dry-run names the services that read the node's files" 0 \
    "would restart etcd.service if it started before its files changed" -- \
    "$bin" pki node --inventory "$inv" --node master-01 --secrets "$tmp/bundle" --restart --dry-run
check "install refuses an incomplete bundle" 1 "is not a whole secrets bundle" -- \
    "$bin" install --root "$tmp/image4" --inventory "$inv" --secrets "$tmp"

# A distribution package enabled its own etcd.service: install takes that back (the targets start it).
img5=$tmp/image5
mkdir -p "$img5/etc/systemd/system/multi-user.target.wants"
ln -s /lib/systemd/system/etcd.service "$img5/etc/systemd/system/multi-user.target.wants/etcd.service"
check "install disables services their packages enabled" 0 "disabled etcd.service" -- \
    "$bin" install --root "$img5" --inventory "$inv"
assert "... the link is gone" test ! -L "$img5/etc/systemd/system/multi-user.target.wants/etcd.service"

# status on an image without a component: its units are "not in this image" (systemd skips them by
# ConditionFileIsExecutable=), found through symlinks within the image as on the machine.
img6=$tmp/image6
"$bin" install --root "$img6" --inventory "$inv" >/dev/null
check "status says a service whose program the image lacks is not in this image" 0 \
    "^  etcd.service +not in this image \(no /usr/local/bin/etcd\)$" -- \
    "$bin" status --inventory "$inv" --node master-01 --root "$img6"
mkdir -p "$img6/usr/bin" "$img6/usr/local/bin"
printf '#!/bin/sh\n' >"$img6/usr/bin/etcd" && chmod 0755 "$img6/usr/bin/etcd"
ln -s /usr/bin/etcd "$img6/usr/local/bin/etcd"
check "... and not once the image has it (an absolute link, followed within the image)" 0 \
    '"unit": "etcd.service", *"state": null, *"in_image": true' -- \
    sh -c '"$1" status --inventory "$2" --node master-01 --root "$3" --output json | tr -d "\n"' _ "$bin" "$inv" "$img6"
# The OSD ids are the ones Ceph gave when the node made each OSD (its record), not the inventory's.
mkdir -p "$img6/var/lib/cluster-state/ceph-osd"
printf '{"osds": [{"device": "/dev/sdc", "uuid": "8c1e1a94-3b3d-4c0e-9d5e-0a4c2b1f7e02", "id": 4}]}\n' \
    >"$img6/var/lib/cluster-state/ceph-osd/osds.json"
check "... a template's instance is looked up in its template (ceph-osd@4, the OSD storage-01 made)" 0 \
    "^  ceph-osd@4.service +not in this image \(no /usr/bin/ceph-osd\)$" -- \
    "$bin" status --inventory "$inv" --node storage-01 --root "$img6"

check "install refuses an invalid inventory" 1 "unknown role 'mastr'" -- \
    "$bin" install --root "$tmp/image2" --inventory "$tmp/broken"
assert "... and writes nothing" test ! -e "$tmp/image2"
check "install without --inventory is a usage error" 2 "needs --inventory" -- "$bin" install --root "$tmp/image3"

# Nothing any command printed (its errors included) holds a secret of the bundle (tests/scripts/no-secret-in.sh).
check "no secret of the bundle in anything the commands printed" 0 "^none of [0-9]+ secrets in 1 files$" -- \
    "$(dirname "$0")/../scripts/no-secret-in.sh" "$tmp/bundle" "$tmp/printed.log"

echo "1..$n"
[ "$fail" = 0 ]
