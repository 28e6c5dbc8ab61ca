#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# First boot under a real systemd: an image tree made with `clusterboot install` from examples/homelab,
# with the hostname of storage-01 (roles worker, ceph-mon, ceph-osd), booted with systemd-nspawn. The
# container has no NIC but lo (--private-network), so detect finds the node by its hostname, and
# cluster-detect.service runs `clusterboot firstboot` with no --root: activate enables the role targets
# LIVE, through systemd's D-Bus API, in the middle of the boot.
#
# A oneshot unit the test adds to the image (cb-e2e-report.service, ordered after cluster-detect.service
# and every role target) writes what systemctl says into /var/lib/cb-e2e/ and powers the container off;
# the host reads that in the tree afterwards. No bus, machined or machinectl is needed on the host.
#
# Boots of the same tree:
#   1  the first boot: identity, rendered files, targets and Ceph instances enabled and active
#   2  the second boot: cluster-detect succeeds again and changes nothing
#   3  a boot where the system bus comes up late (dbus.socket held back 3 s, as on a machine whose
#      sysinit.target takes that long): cluster-detect runs before it, and must still succeed
# and then: the image's join secret is in nothing the boots printed or left.
#
# The Debian rootfs is made once by debootstrap into a cache outside the repository and copied per run:
#   CLUSTERBOOT_TEST_CACHE   cache folder (default /var/cache/clusterboot-test); the cache is kept
#   CLUSTERBOOT_TEST_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   TMPDIR                   where the per-run copy goes (default /var/tmp; about 250 MB)
# Needs root, debootstrap and systemd-nspawn (Debian: debootstrap systemd-container); every test point
# is skipped where they are missing or nspawn cannot run.
#
# Usage: test-nspawn-firstboot.sh CLUSTERBOOT [EXAMPLES_DIR]
set -u

cb=${1:?usage: $0 CLUSTERBOOT [EXAMPLES_DIR]}
examples=${2:-$(cd "$(dirname "$0")/../../examples" && pwd)}
cb=$(readlink -f "$cb")

node=storage-01
suite=bookworm
include=systemd,systemd-sysv,dbus,libyaml-0-2,libjansson4,libssl3,libsystemd0,libcurl4,libevent-2.1-7,libevent-openssl-2.1-7,iproute2
cache_dir=${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}
cache=$cache_dir/$suite-minbase
mirror=${CLUSTERBOOT_TEST_MIRROR:-http://deb.debian.org/debian}
boot_timeout=90

# What examples/homelab says about storage-01: its role targets, the targets of the roles it lacks, and
# its Ceph instances as WANTED_BY:UNIT (ceph-mon@NAME and ceph-mgr@NAME under ceph-mon.target). No
# ceph-osd@ID yet: Ceph numbers an OSD when the stage ceph-osd makes it, which links it then.
want_targets="kubernetes-worker.target ceph-mon.target ceph-osd.target"
other_targets="kubernetes-master.target kafka.target mqtt.target dns.target"
want_instances="ceph-mon.target:ceph-mon@$node.service ceph-mon.target:ceph-mgr@$node.service"
instances=$(for i in $want_instances; do printf '%s ' "${i#*:}"; done)

plan=23
n=0
failed=0
t_start=$(date +%s)
work=
nspawn_pid=

echo "1..$plan"

ok() { n=$((n + 1)); echo "ok $n - $1"; }
note() { echo "# $*"; }
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
            echo "# --- ${f#"$work"/} (last 30 lines)"
            tail -n 30 "$f" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/#   /'
        done
    } | tee /dev/stderr
    return 0
}
# check NAME COMMAND... [-- FILE...]: one point, passing when COMMAND exits 0; on failure its output and
# the FILEs are shown.
check() {
    local name=$1 out
    shift
    local cmd=() files=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
    [ $# -gt 0 ] && shift && files=("$@")
    if out=$("${cmd[@]}" 2>&1); then
        ok "$name"
    else
        not_ok "$name" "${files[@]}"
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
    fi
    return 0
}
skip_rest() {
    while [ "$n" -lt "$plan" ]; do
        n=$((n + 1))
        echo "ok $n # SKIP $1"
    done
    exit 0
}

stop_container() {
    [ -n "$nspawn_pid" ] || return 0
    # SIGTERM makes nspawn ask the container's systemd to power off; SIGKILL if it does not in time.
    kill -TERM "$nspawn_pid" 2>/dev/null
    for _ in $(seq 1 150); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
        # The container's init first (PID 1 of its namespace: the kernel ends every process there), or they
        # outlive nspawn.
        local c p
        for c in $(pgrep -P "$nspawn_pid"); do
            for p in "$c" $(pgrep -P "$c"); do
                [ "$(awk '$1 == "NSpid:" { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ] && kill -KILL "$p" 2>/dev/null
            done
        done
        kill -KILL "$nspawn_pid" 2>/dev/null
    fi
    wait "$nspawn_pid" 2>/dev/null
    nspawn_pid=
}
cleanup() {
    stop_container
    [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- can it run here? ----
[ "$(id -u)" = 0 ] || skip_rest "needs root (debootstrap, systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip_rest "systemd-nspawn is not installed (Debian: systemd-container)"
[ -x "$cb" ] || { not_ok "clusterboot binary $cb exists"; skip_rest "no clusterboot binary"; }
[ -f "$examples/homelab/cluster.yaml" ] || { not_ok "examples/homelab in $examples"; skip_rest "no inventory"; }

# ---- the rootfs cache, made once ----
stamp="debootstrap --variant=minbase --include=$include $suite"
mkdir -p "$cache_dir" || skip_rest "cannot create $cache_dir"
exec 9>"$cache_dir/.lock"
flock 9 # two runs at once build the cache once
if [ -f "$cache/.clusterboot-test" ] && [ "$(cat "$cache/.clusterboot-test")" = "$stamp" ]; then
    note "rootfs: reusing $cache"
    ok "Debian $suite minbase rootfs cached in $cache"
else
    command -v debootstrap >/dev/null || skip_rest "debootstrap is not installed and there is no $cache"
    note "rootfs: building $cache with $stamp ($mirror)"
    t0=$(date +%s)
    rm -rf "$cache" "$cache.tmp"
    if debootstrap --variant=minbase --include="$include" "$suite" "$cache.tmp" "$mirror" \
            >"$cache_dir/debootstrap.log" 2>&1; then
        echo "$stamp" >"$cache.tmp/.clusterboot-test"
        mv "$cache.tmp" "$cache"
        note "rootfs: debootstrap took $(($(date +%s) - t0)) s"
        ok "Debian $suite minbase rootfs made in $cache"
    else
        tail -n 5 "$cache_dir/debootstrap.log" | sed 's/^/#   /'
        rm -rf "$cache.tmp"
        skip_rest "debootstrap failed after $(($(date +%s) - t0)) s (mirror unreachable?), see its log in $cache_dir"
    fi
fi
flock -u 9

# ---- the image tree ----
work=$(mktemp -d "${TMPDIR:-/var/tmp}/cb-e2e-nspawn.XXXXXX")
root=$work/rootfs
machine=cbe2e-$$
t0=$(date +%s)
cp -a "$cache" "$root" || skip_rest "cannot copy $cache"
rm -f "$root/.clusterboot-test"
note "rootfs: copied in $(($(date +%s) - t0)) s"

# Can nspawn run a container here at all (privileges, a seccomp or cgroup setup that forbids it)?
if ! systemd-nspawn -q --register=no --keep-unit --private-network --link-journal=no -D "$root" \
        /bin/true >"$work/probe.log" 2>&1; then
    tail -n 5 "$work/probe.log" | sed 's/^/#   /'
    skip_rest "systemd-nspawn cannot run a container here"
fi

make_image() {
    "$cb" install --root "$root" --inventory "$examples/homelab" >"$work/install.log" 2>&1 || return 1
    # Identity by hostname: the container's only NIC is lo. Mode 0644 as render writes it: debootstrap
    # copies the host's /etc/hostname with its mode, and render would report a 0755 one as updated.
    printf '%s\n' "$node" >"$root/etc/hostname" && chmod 0644 "$root/etc/hostname" || return 1

    # An ASan/UBSan build (scripts/run-tests.sh) needs the sanitizer runtimes, which the image lacks.
    local lib
    for lib in $(ldd "$cb" | awk '$3 ~ /^\// && $1 ~ /^lib(a|ub|l|t)san/ { print $3 }'); do
        [ -e "$root$lib" ] || cp -L "$lib" "$root$lib" || return 1
    done

    # Nothing of the image is masked or neutralised: every unit clusterboot enables may start. The image has
    # none of the programs behind the targets (no containerd, kubelet, ceph-mon, ...): their units are skipped
    # by ConditionFileIsExecutable=, not failed, and a target is active anyway.
    mkdir -p "$root/usr/local/sbin" "$root/etc/systemd/system/multi-user.target.wants"
    cat >"$root/etc/systemd/system/cb-e2e-report.service" <<EOF
[Unit]
Description=clusterboot e2e test: report what this boot did, then power off
After=cluster-detect.service $want_targets $other_targets

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cb-e2e-report
ExecStartPost=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
    cat >"$root/usr/local/sbin/cb-e2e-report" <<EOF
#!/bin/sh
# Written by tests/e2e/test-nspawn-firstboot.sh: the state after cluster-detect.service, for the host.
d=/var/lib/cb-e2e
mkdir -p \$d
{
    systemctl show cluster-detect.service -p Result -p ExecMainCode -p ExecMainStatus -p ActiveState
    for u in $want_targets $other_targets $instances; do
        echo "unit \$u \$(systemctl is-enabled \$u 2>&1) \$(systemctl is-active \$u 2>&1)"
    done
} >\$d/state.tmp 2>&1
systemctl show containerd.service -p ConditionResult -p ActiveState -p NRestarts >\$d/containerd 2>&1
systemctl list-units --failed --all --no-legend --plain >\$d/failed 2>&1
/usr/bin/clusterboot status >\$d/status 2>&1
journalctl --sync
journalctl -b -o cat -u cluster-detect.service --no-pager >\$d/detect.log 2>&1
# From boot 2 on (the host creates the flag), one more run while the system is up: it must change
# nothing. Not on boot 1, where it would make the links the host checks that cluster-detect made.
if [ -e /etc/cb-e2e-rerun ]; then
    /usr/bin/clusterboot firstboot >\$d/rerun.log 2>&1
    echo "rerun_exit=\$?" >>\$d/state.tmp
fi
mv \$d/state.tmp \$d/state
EOF
    chmod 0755 "$root/usr/local/sbin/cb-e2e-report"
    ln -sf /etc/systemd/system/cb-e2e-report.service \
        "$root/etc/systemd/system/multi-user.target.wants/cb-e2e-report.service"
}
if make_image; then
    ok "clusterboot install into the image, hostname $node"
else
    not_ok "clusterboot install into the image, hostname $node" "$work/install.log"
    skip_rest "no image"
fi

# boot N: boots the tree until cb-e2e-report.service powers it off; its results go to $work/bootN/.
boot() {
    local i=$1 out=$work/boot$1 t0 rc
    mkdir -p "$out"
    rm -rf "$root/var/lib/cb-e2e"
    t0=$(date +%s)
    systemd-nspawn --boot --register=no --keep-unit --private-network --link-journal=no \
        --console=read-only -D "$root" --machine="$machine" >"$out/console.log" 2>&1 &
    nspawn_pid=$!
    local deadline=$((t0 + boot_timeout))
    while kill -0 "$nspawn_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
        note "boot $i: still running after $boot_timeout s, stopping it"
        stop_container
        rc=124
    else
        wait "$nspawn_pid"
        rc=$?
        nspawn_pid=
    fi
    note "boot $i: $(($(date +%s) - t0)) s (systemd-nspawn exit $rc)"
    cp "$root"/var/lib/cb-e2e/* "$out/" 2>/dev/null
    [ "$rc" = 0 ] && [ -f "$out/state" ]
}

# state_is BOOT LINE...: each LINE is in that boot's state file.
state_is() {
    local f=$work/boot$1/state l
    shift
    for l; do grep -qxF -- "$l" "$f" || { echo "expected '$l'"; return 1; }; done
}
# units_are BOOT ENABLED ACTIVE UNIT...
units_are() {
    local b=$1 e=$2 a=$3 u
    shift 3
    for u; do state_is "$b" "unit $u $e $a" || { grep "^unit $u " "$work/boot$b/state"; return 1; }; done
}
# units_enabled BOOT UNIT...: enabled, whatever their state (the Ceph services start and fail).
units_enabled() {
    local b=$1 u
    shift
    for u; do grep -q "^unit $u enabled " "$work/boot$b/state" || { echo "$u is not enabled"; return 1; }; done
}
units_not_enabled() {
    local b=$1 u
    shift
    for u; do grep -q "^unit $u disabled " "$work/boot$b/state" || { echo "$u is not disabled"; return 1; }; done
}
detect_ok() { # BOOT: cluster-detect.service finished successfully and found the node by its hostname
    state_is "$1" Result=success ExecMainStatus=0 ActiveState=active &&
        grep -q "^This machine is $node: hostname $node" "$work/boot$1/detect.log"
}
no_changes() { # FILE: the output of a firstboot that changed nothing
    grep -Eq "^$node: [0-9]+ files?: 0 created, 0 updated, [0-9]+ unchanged(, 0 removed)?$" "$1" &&
        grep -qx "$node: 0 units changed" "$1" &&
        ! grep -Eq '^  (created|updated|enabled|disabled|removed) ' "$1"
}
# The links under ROOT/etc/systemd/system/*.wants to units clusterboot installed (but the test's own).
links_of() {
    (cd "$1/etc/systemd/system" && find . -path './*.wants/*' -type l -printf '%P -> %l\n') |
        grep -v '^multi-user.target.wants/cb-e2e-report.service ' | grep ' -> /etc/systemd/system/' | sort
}
check_links() {
    local i w u
    for i in $want_instances; do
        w=${i%%:*} u=${i#*:}
        [ "$(readlink "$root/etc/systemd/system/$w.wants/$u")" = "/etc/systemd/system/${u%%@*}@.service" ] ||
            { echo "no link $w.wants/$u"; return 1; }
    done
    for u in $want_targets; do
        [ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/$u")" = "/etc/systemd/system/$u" ] ||
            { echo "no link multi-user.target.wants/$u"; return 1; }
    done
    for u in $other_targets; do
        [ ! -e "$root/etc/systemd/system/multi-user.target.wants/$u" ] || { echo "link to $u"; return 1; }
    done
    ! ls "$root/etc/systemd/system/ceph-osd.target.wants/" 2>/dev/null | grep . || { echo "an OSD instance"; return 1; }
}
# An offline activation of the same node in a scratch tree makes exactly the links systemd made live.
same_as_offline() {
    local s=$work/offline
    mkdir -p "$s/etc" && printf '%s\n' "$node" >"$s/etc/hostname" &&
        "$cb" install --root "$s" --inventory "$examples/homelab" >/dev/null &&
        "$cb" firstboot --root "$s" >"$work/offline.log" 2>&1 || { cat "$work/offline.log"; return 1; }
    diff <(links_of "$s") <(links_of "$root")
}
rendered_files() {
    local f
    for f in /etc/systemd/network/10-clusterboot.network /etc/cluster-config/environment/ceph.env \
            /etc/cluster-config/environment/kubelet.env /etc/ceph/ceph.conf /etc/containerd/config.toml \
            /var/lib/kubelet/config.yaml /etc/hosts /etc/cluster-config/current-node.yaml; do
        [ -s "$root$f" ] || { echo "missing $f"; return 1; }
    done
    [ "$(cat "$root/etc/cluster-config/node-identity")" = "$node" ] || { echo "node-identity is wrong"; return 1; }
    grep -qx 'Address=192.168.1.14/24' "$root/etc/systemd/network/10-clusterboot.network" ||
        { echo "10-clusterboot.network lacks $node's address"; return 1; }
}

# ---- boot 1 ----
b1=$work/boot1
if boot 1; then ok "boot 1: the container boots and powers off, cb-e2e-report.service ran"
else not_ok "boot 1: the container boots and powers off, cb-e2e-report.service ran" "$b1/console.log"; fi
check "boot 1: cluster-detect.service succeeded (Result=success, exit 0), $node found by hostname" \
    detect_ok 1 -- "$b1/detect.log" "$b1/state"
check "boot 1: firstboot activated the targets (enabled ceph-mon.target)" \
    grep -qx "  enabled ceph-mon.target" "$b1/detect.log" -- "$b1/detect.log"
check "boot 1: role targets enabled and active: $want_targets" \
    units_are 1 enabled active $want_targets -- "$b1/state"
check "boot 1: targets of the roles $node lacks are not enabled: $other_targets" \
    units_not_enabled 1 $other_targets -- "$b1/state"
check "boot 1: Ceph instances enabled: $instances" units_enabled 1 $instances -- "$b1/state"
check "boot 1: systemd made the links in /etc/systemd/system/*.wants (targets and instances; no OSD before Ceph numbers one)" check_links
check "boot 1: the live links are those of an offline 'firstboot --root' of $node" same_as_offline
# The image lacks every program of storage-01's services: nothing is started, so nothing fails or restarts.
check "boot 1: containerd.service, wanted by kubernetes-worker.target, is skipped by its condition (the image has no containerd), not failed" \
    eval 'grep -qx ConditionResult=no "$b1/containerd" && grep -qx ActiveState=inactive "$b1/containerd" &&
          grep -qx NRestarts=0 "$b1/containerd"' -- "$b1/containerd"
check "boot 1: no unit of $node's roles failed (systemctl --failed)" \
    eval '! grep -E "^(containerd|kubelet|kube-proxy|ceph-mon@|ceph-mgr@|ceph-osd@)" "$b1/failed"' -- "$b1/failed"
check "boot 1: clusterboot status says each service is not in this image, naming its program" \
    eval 'grep -Eq "^  containerd.service +not in this image \(no /usr/bin/containerd\)$" "$b1/status" &&
          grep -Eq "^  kubelet.service +not in this image \(no /usr/local/bin/kubelet\)$" "$b1/status" &&
          grep -Eq "^  ceph-mon@$node.service +not in this image \(no /usr/bin/ceph-mon\)$" "$b1/status"' -- "$b1/status"
check "boot 1: rendered files exist (network, env files, ceph.conf, kubelet, node-identity = $node)" \
    rendered_files

# ---- boot 2 ----
touch "$root/etc/cb-e2e-rerun"
b2=$work/boot2
if boot 2; then ok "boot 2: the container boots and powers off, cb-e2e-report.service ran"
else not_ok "boot 2: the container boots and powers off, cb-e2e-report.service ran" "$b2/console.log"; fi
check "boot 2: cluster-detect.service succeeded again (Result=success, exit 0)" \
    detect_ok 2 -- "$b2/detect.log" "$b2/state"
check "boot 2: firstboot reported 0 created, 0 updated, 0 units changed" \
    no_changes "$b2/detect.log" -- "$b2/detect.log"
check "boot 2: role targets still enabled and active, the others not enabled" \
    eval 'units_are 2 enabled active $want_targets && units_not_enabled 2 $other_targets' -- "$b2/state"
check "boot 2: 'clusterboot firstboot' re-run on the running system exits 0 and changes nothing" \
    eval 'state_is 2 rerun_exit=0 && no_changes "$b2/rerun.log"' -- "$b2/rerun.log"

# ---- boot 3: the system bus comes up 3 s late ----
# dbus.socket is ordered after sysinit.target, which on a real machine can take seconds; cluster-detect
# is not (it runs before network-pre.target). Hold dbus.socket back to make that order certain.
mkdir -p "$root/etc/systemd/system/dbus.socket.d"
cat >"$root/etc/systemd/system/cb-e2e-late-bus.service" <<'EOF'
[Unit]
Description=clusterboot e2e test: hold the system bus back
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/bin/sleep 3
EOF
printf '[Unit]\nWants=cb-e2e-late-bus.service\nAfter=cb-e2e-late-bus.service\n' \
    >"$root/etc/systemd/system/dbus.socket.d/cb-e2e-late.conf"
b3=$work/boot3
if boot 3; then ok "boot 3 (system bus 3 s late): the container boots and powers off"
else not_ok "boot 3 (system bus 3 s late): the container boots and powers off" "$b3/console.log"; fi
check "boot 3 (system bus 3 s late): cluster-detect.service succeeded" \
    detect_ok 3 -- "$b3/detect.log" "$b3/state"
check "boot 3 (system bus 3 s late): role targets enabled and active" \
    units_are 3 enabled active $want_targets -- "$b3/state"

# The image's one secret, the join secret `install` made: in nothing the boots printed or left (consoles,
# reports, the logs read back) nor in install's output (tests/scripts/no-secret-in.sh).
check "no secret of the image (its join secret) in the consoles, the reports or install's output" \
    "$(dirname "$0")/../scripts/no-secret-in.sh" "$root/etc/cluster-config/join" "$work/boot1" "$work/boot2" \
    "$work/boot3" "$work/install.log"

note "took $(($(date +%s) - t_start)) s"
[ "$n" = "$plan" ] || echo "# BUG in the test: $n points, planned $plan"
[ "$failed" = 0 ]
