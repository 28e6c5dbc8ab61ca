# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables used by the scripts that source this
# The harness of the systemd-nspawn tests (test-nspawn-etcd-cluster.sh, test-nspawn-cluster.sh): TAP
# points, the cached Debian rootfs, the image made from it, a bridge in a network namespace of the test's
# own, machines booted from copies of the image with the inventory's MACs, and the clean-up of all of it.
# Sourced, not run. A test calls, in this order:
#   nspawn_init PLAN                   the plan line; names with a per-run tag; the clean-up trap
#   nspawn_preflight CB [PROGRAM...]   skips the whole test where it cannot run (not root, no nspawn ...)
#   nspawn_cache NAME INCLUDE WHAT     the rootfs cache $cache_dir/NAME (one point), made once
#   nspawn_workdir PREFIX              $work, and the launch wrapper in it
#   nspawn_image IMAGE INVENTORY [INSTALL_ARG...]   the rootfs plus `clusterboot install` (no point)
#   nspawn_image_build IMAGE INVENTORY [ARG...]     or the tree of `clusterboot image build --format tree`
#   nspawn_components                  fetches the components an image carries (`clusterboot binaries fetch`)
#   nspawn_probe IMAGE                 skips the whole test where nspawn cannot run a container
#   nspawn_bridge                      br0 in the namespace $brns (one point)
#   nspawn_new_root IMAGE ROOT NAME    a machine's copy of the image
#   nspawn_host_inventory INV DIR      a copy of INV with what machines sharing this host need (Kubernetes)
#   nspawn_node_storage INVENTORY      the OSD devices of the node files, as files nspawn_boot binds; a file
#                                      system of its own for each Ceph monitor's store
#   nspawn_boot ROOT NAME MAC INDEX LOG [IFNAME], nspawn_stop [NAME...], nspawn_power_cut [NAME...],
#   nspawn_exec NAME COMMAND...,
#   nspawn_netexec NAME COMMAND... (the host's COMMAND in NAME's network namespace)
#
# Why the containers are set up the way they are:
# - Identity: the containers' NICs are veths, and detect by design takes MACs only from physical NICs (those
#   with a /sys/class/net/IF/device link; SPEC "Identity": "MAC (any physical NIC)"), so a container cannot
#   be recognised by its MAC. Each copy of the image therefore gets the node's name in /etc/hostname (the
#   last selector; a MAC match would still win). The MAC still matters: the rendered 10-clusterboot.network
#   matches the NIC by it, and that is how each container gets the inventory's address.
# - The network: a bridge in a network namespace of the test's own; per boot and machine a veth pair whose
#   one end (a port of that bridge) stays in that namespace and whose other end carries the node's MAC and
#   is moved into the container by `systemd-nspawn --network-interface=`. Nothing gets an address on the
#   host; only the inventory's addresses are ever contacted, and only from inside the containers.
# - Each container runs in a cgroup of its own (several `--keep-unit` containers in one cgroup would share
#   nspawn's "payload" subtree) and sees /sys read-only in nspawn's mount namespace, so that nspawn does not
#   wait for udev to initialise the veth (on a host without udevd it never would).
# - An ASan/UBSan build of clusterboot needs the sanitizer runtimes, which the image lacks: they are copied in.
#
# Environment:
#   CLUSTERBOOT_TEST_CACHE   cache folder (default /var/cache/clusterboot-test); the cache is kept
#   CLUSTERBOOT_TEST_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   CLUSTERBOOT_DEPS_CACHE   the components folder (default $CLUSTERBOOT_TEST_CACHE/deps)
#   CLUSTERBOOT_HEAVY=1      also fetch Kubernetes and flannel (~25 min the first time)
#   TMPDIR                   where the per-run copies go (default /var/tmp)
#   KEEP_WORK=1              keep the work folder (roots, reports) for a post-mortem

suite=bookworm
# What every image needs: systemd, clusterboot's libraries, iproute2 (the reports' `ip`).
nspawn_base_include=systemd,systemd-sysv,dbus,libyaml-0-2,libjansson4,libssl3,libsystemd0,libcurl4,libevent-2.1-7,libevent-openssl-2.1-7,iproute2
# The cluster's image (test-nspawn-cluster.sh, scripts/demo.sh) is `clusterboot image build`'s: which
# packages the roles need is decided there (src/image/image-plan.c), not here.
cache_dir=${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}
components_dir=${CLUSTERBOOT_DEPS_CACHE:-$cache_dir/deps}
mirror=${CLUSTERBOOT_TEST_MIRROR:-http://deb.debian.org/debian}

# ---- TAP ----
nspawn_init() { # PLAN
    plan=$1
    n=0
    failed=0
    t_start=$(date +%s)
    tag=cbe$$     # every name this run makes on the host carries it
    brns=${tag}br # the bridge's network namespace
    work=
    cgroups=()
    boots=0
    declare -gA pid=()    # machine -> systemd-nspawn's PID, while it runs
    declare -gA nsif=()   # machine -> its veth's name (inside the container, while it runs)
    declare -gA nsroot=() # machine -> the root it runs (or last ran) from
    declare -gA nsdevs=() # machine -> the block devices its node file names (nspawn_node_storage)
    declare -gA nsfs=()   # machine -> folders that get a file system of their own (nspawn_node_storage)
    nsmounts=()           # the host's mounts of those file systems (nspawn_unmount)
    nsnets=()             # network namespaces nspawn_boot made for containers (with IFNAME)
    echo "1..$plan"
    trap nspawn_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
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
            tail -n 30 "$f" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^/#   /' | awk 1 # the next TAP line on its own
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
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
    else
        not_ok "$name" "${files[@]}"
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /' | tee /dev/stderr
    fi
    return 0
}
skip_points() { # COUNT REASON
    local i
    for ((i = 0; i < $1; i++)); do n=$((n + 1)); echo "ok $n # SKIP $2"; done
}
skip_rest() {
    while [ "$n" -lt "$plan" ]; do
        n=$((n + 1))
        echo "ok $n # SKIP $1"
    done
    exit 0
}
elapsed() { echo $(($(date +%s) - t_start)); }
# nspawn_finish: the closing lines; the exit status of the test.
nspawn_finish() {
    note "took $(elapsed) s after the cache"
    [ "$n" = "$plan" ] || echo "# BUG in the test: $n points, planned $plan"
    [ "$failed" = 0 ] && [ "$n" = "$plan" ]
}

# ---- can it run here? ----
nspawn_preflight() { # CB [PROGRAM...]
    local cb=$1 p
    shift
    [ "$(id -u)" = 0 ] || skip_rest "needs root (debootstrap, systemd-nspawn, network namespaces)"
    for p in systemd-nspawn unshare nsenter ip python3 systemctl journalctl flock "$@"; do
        command -v "$p" >/dev/null || skip_rest "$p is not installed"
    done
    [ -x "$cb" ] || { not_ok "clusterboot binary $cb exists"; skip_rest "no clusterboot binary"; }
    ip netns add "${tag}probe" 2>/dev/null || skip_rest "cannot create a network namespace here"
    ip netns del "${tag}probe"
}

# ---- the rootfs cache, made once ----
# nspawn_cache NAME INCLUDE WHAT: $cache_dir/NAME holds `debootstrap --variant=minbase --include=INCLUDE`,
# made unless a stamp says it is there; sets $cache. One point ("Debian bookworm minbase rootfs WHAT ...").
nspawn_cache() {
    local name=$1 include=$2 what=$3 stamp t0
    cache=$cache_dir/$name
    stamp="debootstrap --variant=minbase --include=$include $suite"
    mkdir -p "$cache_dir" || skip_rest "cannot create $cache_dir"
    exec 9>"$cache_dir/.lock"
    flock 9 # two runs at once build the cache once
    if [ -f "$cache/.clusterboot-test" ] && [ "$(cat "$cache/.clusterboot-test")" = "$stamp" ]; then
        note "rootfs: reusing $cache"
        ok "Debian $suite minbase rootfs $what cached in $cache"
    else
        command -v debootstrap >/dev/null || skip_rest "debootstrap is not installed and there is no $cache"
        note "rootfs: building $cache with $stamp ($mirror)"
        t0=$(date +%s)
        rm -rf "$cache" "$cache.tmp"
        if debootstrap --variant=minbase --include="$include" "$suite" "$cache.tmp" "$mirror" \
                >"$cache.debootstrap.log" 2>&1; then
            echo "$stamp" >"$cache.tmp/.clusterboot-test"
            mv "$cache.tmp" "$cache"
            note "rootfs: debootstrap took $(($(date +%s) - t0)) s"
            ok "Debian $suite minbase rootfs $what made in $cache"
        else
            tail -n 5 "$cache.debootstrap.log" | sed 's/^/#   /'
            rm -rf "$cache.tmp"
            skip_rest "debootstrap failed after $(($(date +%s) - t0)) s (mirror unreachable?), see $cache.debootstrap.log"
        fi
    fi
    flock -u 9
    exec 9>&-
    t_start=$(date +%s) # the time budget counts from here
}

# ---- the work folder and the launch wrapper ----
nspawn_workdir() { # PREFIX
    work=$(mktemp -d "${TMPDIR:-/var/tmp}/$1.XXXXXX") || skip_rest "cannot make a work folder in ${TMPDIR:-/var/tmp}"
    # launch NAME COMMAND...: COMMAND (systemd-nspawn) in a cgroup of its own and with /sys read-only in a
    # mount namespace of its own; the same PID all along (exec). Under systemd, a delegated scope; otherwise
    # a child of the current cgroup in every hierarchy (the controllers' too: a container's kubelet makes its
    # kubepods below its own cgroup, not at the host's root where two machines' would collide; a new cpuset
    # cgroup takes no task until it has CPUs and memory nodes). /proc/self/cgroup is read once: each move
    # changes it.
    cat >"$work/launch" <<'EOF'
#!/bin/bash
name=$1
shift
ro_sys=(unshare -m --propagation private bash -c 'mount -o remount,bind,ro /sys && exec "$@"' launch)
if [ -d /run/systemd/system ]; then
    exec systemd-run --scope --quiet --collect -p Delegate=yes --unit="$name" -- "${ro_sys[@]}" "$@"
fi
mapfile -t lines </proc/self/cgroup
for line in "${lines[@]}"; do
    IFS=: read -r _ ctrl path <<<"$line"
    case $ctrl in
    "") mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts) ;;
    *) mnt=$(awk -v c="$ctrl" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/mounts) ;;
    esac
    [ -n "$mnt" ] || continue
    d=$mnt${path%/}/$name
    mkdir -p "$d" && echo "$d" >>"$CB_E2E_CGROUPS" || exit 97
    if [ -f "$d/cpuset.cpus" ] && [ -z "$(cat "$d/cpuset.cpus")" ]; then
        cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus" && cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems" || exit 97
    fi
    echo $$ >"$d/cgroup.procs" || exit 97
done
exec "${ro_sys[@]}" "$@"
EOF
    chmod 0755 "$work/launch"
    export CB_E2E_CGROUPS=$work/cgroups.list
}

# ---- the image ----
# nspawn_image IMAGE INVENTORY [INSTALL_ARG...]: the cached rootfs copied to IMAGE, `clusterboot install`
# (with INSTALL_ARGs: the secret policy) of INVENTORY, etcd where units/etcd.service runs it,
# systemd-networkd with wait-online, a persistent journal, the sanitizer runtimes of an ASan/UBSan build.
# Logs in $work/install.log; returns 1 on failure.
nspawn_image() {
    local image=$1 inv=$2 t0
    shift 2
    t0=$(date +%s)
    rm -f "$image.linked" # a new image: its roots are linked anew (nspawn_new_root)
    cp -a "$cache" "$image" || return 1
    rm -f "$image/.clusterboot-test"
    note "image: copied the rootfs in $(($(date +%s) - t0)) s"

    "$cb" install --root "$image" --inventory "$inv" "$@" >>"$work/install.log" 2>&1 || return 1
    if [ -x "$image/usr/bin/etcd" ]; then
        # units/etcd.service runs /usr/local/bin/etcd; Debian's etcd-server has /usr/bin/etcd (3.4).
        ln -sfn /usr/bin/etcd "$image/usr/local/bin/etcd" || return 1
    fi
    # Debian's packages enabled their own etcd.service, mosquitto.service ... in multi-user.target;
    # `clusterboot install` disabled them (the role targets start them, on the nodes with the role).
    local u
    for u in etcd mosquitto; do
        if [ -e "$image/etc/systemd/system/multi-user.target.wants/$u.service" ]; then
            echo "$u.service is still enabled in multi-user.target" >>"$work/install.log"
            return 1
        fi
    done
    # nvme-cli (ceph-mgr's dependencies bring it) connects NVMe-oF targets at boot: no nvme-fabrics module
    # in a container, so a failed unit on every machine that says nothing about clusterboot.
    if [ -e "$image/lib/systemd/system/nvmf-autoconnect.service" ]; then
        systemctl --root="$image" mask nvmf-autoconnect.service >>"$work/install.log" 2>&1 || return 1
    fi
    # systemd-networkd applies the rendered 10-clusterboot.network; wait-online makes network-online.target.
    systemctl --root="$image" enable systemd-networkd.service >>"$work/install.log" 2>&1 || return 1
    [ -L "$image/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service" ] || return 1
    # A persistent journal, read by journalctl -D on the host when a report is missing.
    mkdir -p "$image/var/log/journal" || return 1
    nspawn_image_extras "$image"
}

# nspawn_components: the components of image/components.lock into $components_dir, by `clusterboot binaries
# fetch` (a no-op for those there): CoreDNS, Kafka and the pause image always (minutes the first time),
# Kubernetes and flannel with CLUSTERBOOT_HEAVY=1 (Kubernetes: about 20 minutes the first time). Sets
# components_without to those not there and right (`binaries verify`), which image build leaves out
# (--without): their stages are then skipped in the machines, and the tests say so; so are those a test
# names in nspawn_leave_out (a list, as --without takes it). Logs in $work/components.log; returns 1 when a
# fetch fails.
components_without=
nspawn_leave_out=
nspawn_components() {
    local want=(coredns kafka pause) c without=()
    [ "${CLUSTERBOOT_HEAVY:-}" = 1 ] && want+=(kubernetes flannel)
    # With nspawn_components_show set (the demo), the recipes' progress is shown as it comes: a first
    # Kubernetes build takes many minutes.
    "$cb" binaries fetch "${want[@]}" --components "$components_dir" 2>&1 | tee -a "$work/components.log" |
        if [ -n "${nspawn_components_show:-}" ]; then sed -u 's/^/    /'; else cat >/dev/null; fi
    [ "${PIPESTATUS[0]}" = 0 ] || return 1
    for c in kubernetes flannel pause coredns kafka; do
        if [[ ,$nspawn_leave_out, == *,$c,* ]] ||
            ! "$cb" binaries verify "$c" --components "$components_dir" >>"$work/components.log" 2>&1; then
            without+=("$c")
        fi
    done
    components_without=$(IFS=,; echo "${without[*]}")
}

# nspawn_image_build IMAGE INVENTORY [IMAGE_BUILD_ARG...]: the machines' tree as the product makes it,
# `clusterboot image build --format tree` (the tree disk.raw and netboot/ are made of; its Debian base, with
# the packages the inventory's roles need, cached in $cache_dir/image; the components of nspawn_components),
# moved to IMAGE, and what only the tests add (nspawn_image_extras). The image carries the join secret of a
# bundle made here (image build needs one: every image of a cluster carries the same). Logs in
# $work/image-build.log; returns 1 on failure.
nspawn_image_build() {
    local image=$1 inv=$2 t0
    shift 2
    t0=$(date +%s)
    rm -f "$image.linked" # a new image: its roots are linked anew (nspawn_new_root)
    if [ -z "${components_fetched:-}" ]; then
        nspawn_components || return 1
        components_fetched=1
    fi
    [ -z "$components_without" ] || set -- --without "$components_without" "$@"
    # One bundle per test: each image of the test's cluster carries the same join secret.
    if [ ! -d "$work/secrets" ]; then
        "$cb" secrets init --inventory "$inv" --out "$work/secrets" >>"$work/image-build.log" 2>&1 || return 1
    fi
    rm -rf "$work/image-out"
    "$cb" image build --format tree --inventory "$inv" --secrets "$work/secrets" --out "$work/image-out" \
        --cache "$cache_dir/image" --components "$components_dir" --mirror "$mirror" "$@" \
        >>"$work/image-build.log" 2>&1 || return 1
    mv "$work/image-out/rootfs" "$image" || return 1
    note "image: clusterboot image build --format tree in $(($(date +%s) - t0)) s$([ -n "$components_without" ] &&
        echo "; without $components_without")"
    nspawn_image_extras "$image"
}

# nspawn_image_extras IMAGE: what the tests add to an image: folders for their report unit, the sanitizer
# runtimes of an ASan/UBSan build of clusterboot (and what its leak check needs), and the check that the image
# has every library it links.
nspawn_image_extras() {
    local image=$1 lib missing
    mkdir -p "$image/var/lib/cb-e2e" "$image/usr/local/sbin" || return 1

    for lib in $(ldd "$cb" | awk '$3 ~ /^\// && $1 ~ /^lib(a|ub|l|t)san/ { print $3 }'); do
        [ -e "$image$lib" ] || cp -L "$lib" "$image$lib" || return 1
    done
    # LeakSanitizer stops the threads with ptrace at exit, which the system call filters of
    # clusterboot-renew.service and clusterboot-join.service (whose candidate exits with 75 once the bundle
    # is there) deny: "LeakSanitizer has encountered a fatal error", exit 1. Allowed for a sanitized build
    # only.
    if ldd "$cb" | grep -q libasan; then
        for u in clusterboot-renew clusterboot-join; do
            mkdir -p "$image/etc/systemd/system/$u.service.d" || return 1
            printf '[Service]\nSystemCallFilter=@debug\n' >"$image/etc/systemd/system/$u.service.d/50-sanitizer.conf" ||
                return 1
        done
    fi
    # Every library the binary links is in the image (a new dependency needs its package in the include list).
    missing=$(chroot "$image" /usr/bin/ldd /usr/bin/clusterboot 2>&1 | grep 'not found')
    [ -z "$missing" ] || { echo "the image lacks: $missing (add its package to the include list)" >>"$work/install.log"; return 1; }
    nspawn_kube_extras "$image"
}

# ---- machines that run a kubelet ----
# A kubelet with containerd and runc runs in an nspawn machine on this host (cgroup v1, no systemd as PID 1)
# once each of these is seen to (measured one by one; docs/testing.md):
# - launch gives each machine a cgroup of its own in every hierarchy;
# - nspawn mounts the v1 controllers read-only in the container, and no option changes that: the machine's
#   PID 1 is /usr/local/sbin/cb-e2e-init, which remounts them read-write and execs systemd (nspawn without
#   --boot, stopped with SIGRTMIN+3 as systemd wants);
#   it also makes /proc/sys/net writable: the machine's own network namespace, where kube-proxy sets the
#   conntrack timeouts (nf_conntrack_max is global: the demo's inventory sets kube-proxy's
#   conntrack-max-per-core to 0, as kind does);
# - /dev/kmsg, which the kubelet's OOM watcher opens, bound read-only, with CAP_SYSLOG (dmesg_restrict here);
# - the keyring system calls (runc joins a session keyring), which nspawn's filter refuses;
# - the sysctls the kubelet insists on and a container cannot write (vm.overcommit_memory=1, kernel.panic=10,
#   kernel.panic_on_oops=1), set on the host before the first such machine boots and put back at clean-up;
#   and the host's inotify limits raised (1024 instances, 524288 watches per user, as kind advises): the
#   machines' systemds, kubelets, containerds and API servers all count against the host's root, and at
#   Debian's 128 instances a kubelet of the sixth machine died with "inotify_init: too many open files";
# - runc wrapped: root here lacks CAP_SYS_RESOURCE, so the negative oomScoreAdj of a pod sandbox is left at 0
#   (the same wrapper as tests/kubernetes/test-worker.sh's). A real machine needs none of this.
declare -A nspawn_sysctl_saved=()
nspawn_kube_extras() { # IMAGE
    local image=$1
    [ -x "$image/usr/local/bin/kubelet" ] || return 0
    cat >"$image/usr/local/sbin/cb-e2e-init" <<'INIT' || return 1
#!/bin/sh
# PID 1 of a test machine that runs a kubelet (tests/e2e/lib-nspawn.sh): nspawn mounts the cgroup v1
# controllers read-only, and the kubelet and runc make cgroups in them; and /proc/sys read-only, where
# kube-proxy sets the conntrack timeouts of the machine's own network namespace (/proc/sys/net).
for m in /sys/fs/cgroup/*; do
    [ -L "$m" ] && continue
    mountpoint -q "$m" && mount -o remount,bind,rw "$m"
done
mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net
exec /lib/systemd/systemd "$@"
INIT
    chmod 0755 "$image/usr/local/sbin/cb-e2e-init" || return 1
    if [ ! -e "$image/usr/sbin/runc.real" ]; then
        mv "$image/usr/sbin/runc" "$image/usr/sbin/runc.real" || return 1
        cat >"$image/usr/sbin/runc" <<'RUNC' || return 1
#!/bin/sh
# runc on a test machine whose root may not lower an oom_score_adj (no CAP_SYS_RESOURCE on this host): a
# negative oomScoreAdj in the bundle's config.json is left at 0 (tests/e2e/lib-nspawn.sh).
prev=
for a in "$@"; do
    if [ "$prev" = --bundle ] || [ "$prev" = -b ]; then
        [ -f "$a/config.json" ] && sed -i 's/"oomScoreAdj":-[0-9]*/"oomScoreAdj":0/' "$a/config.json"
    fi
    prev=$a
done
exec /usr/sbin/runc.real "$@"
RUNC
        chmod 0755 "$image/usr/sbin/runc" || return 1
    fi
}
nspawn_kube_sysctls() {
    local kv k
    for kv in vm.overcommit_memory=1 kernel.panic=10 kernel.panic_on_oops=1 \
        fs.inotify.max_user_instances=1024 fs.inotify.max_user_watches=524288; do
        k=${kv%%=*}
        [ -n "${nspawn_sysctl_saved[$k]:-}" ] || nspawn_sysctl_saved[$k]=$(sysctl -n "$k") || return 1
        # The inotify limits only ever raised: a host may have set them higher.
        [[ $k != fs.inotify.* ]] || [ "${nspawn_sysctl_saved[$k]}" -lt "${kv#*=}" ] || continue
        sysctl -qw "$kv" || return 1
    done
}
nspawn_kube_sysctls_restore() {
    local k
    for k in "${!nspawn_sysctl_saved[@]}"; do sysctl -qw "$k=${nspawn_sysctl_saved[$k]}"; done
    nspawn_sysctl_saved=()
}

# nspawn_probe IMAGE: can nspawn run a container here at all (privileges, a seccomp or cgroup setup that
# forbids it)? Skips the rest of the test if not.
nspawn_probe() {
    if ! "$work/launch" "${tag}probe" systemd-nspawn -q --register=no --keep-unit --private-network \
            --link-journal=no -D "$1" /bin/true >"$work/probe.log" 2>&1; then
        tail -n 5 "$work/probe.log" | sed 's/^/#   /'
        nspawn_remove_cgroups
        skip_rest "systemd-nspawn cannot run a container here"
    fi
    nspawn_remove_cgroups
}

# ---- the network: br0 in a namespace of its own ----
nspawn_bridge() {
    if ip netns add "$brns" && ip -n "$brns" link set lo up && ip -n "$brns" link add br0 type bridge &&
            ip -n "$brns" link set br0 up; then
        ok "bridge br0 in network namespace $brns (no address on the host)"
    else
        not_ok "bridge br0 in network namespace $brns"
        skip_rest "no bridge"
    fi
}

# ---- machines ----
# nspawn_host_inventory INVENTORY DIR: a copy of INVENTORY in DIR (made anew) with what machines that share
# this host need, when the image carries Kubernetes (nspawn_components: call it first), set through the
# inventory's extra_args: kube-proxy in a container may not set the host's global nf_conntrack_max
# (conntrack-max-per-core 0 leaves it alone, as kind does); and the kubelets see the host's file system,
# whose statfs counts blocks no one may use (252 GiB, about 92 usable here): their default eviction
# thresholds (nodefs 10%, imagefs 15% free) would evict every pod of a machine with room to spare.
nspawn_host_inventory() {
    local src=$1 dst=$2 k8s
    rm -rf "$dst" && cp -a "$src" "$dst" || return 1
    [[ ,$components_without, != *,kubernetes,* ]] || return 0
    k8s=$dst/services/kubernetes.yaml
    [ -f "$k8s" ] || return 0
    grep -q '^  extra_args:$' "$k8s" || printf '  extra_args:\n' >>"$k8s"
    sed -i -e '/^  extra_args:$/a\    kube-proxy: { conntrack-max-per-core: "0" }' \
        -e '/^  extra_args:$/a\    kubelet: { eviction-hard: "memory.available<100Mi,nodefs.available<1%,imagefs.available<1%" }' \
        "$k8s"
}
# nspawn_node_storage INVENTORY: from the plan, each node's Ceph OSD devices into nsdevs (nspawn_boot gives
# the machine a 4 GiB sparse file at each), and each Ceph monitor's store folder into nsfs: on the host's
# file system, which the machines share, a monitor warns about that disk (MON_DISK_LOW below 30% free) and
# the cluster is never HEALTH_OK for a reason no real machine has.
nspawn_node_storage() {
    local what node dev
    while read -r what node dev; do
        case $what in
        osd) nsdevs[$node]="${nsdevs[$node]:-} $dev" ;;
        mon) nsfs[$node]=/var/lib/ceph/mon ;;
        esac
    done < <("$cb" plan --inventory "$1" --output json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for o in d.get("ceph", {}).get("osds", []):
    print("osd", o["node"], o["device"])
for n in d["nodes"]:
    if "ceph-mon" in n["roles"]:
        print("mon", n["name"])')
}
# nspawn_unmount DIR: unmounts the machines' file systems (nsfs) under DIR, before it is removed.
nspawn_unmount() {
    local m keep=()
    for m in "${nsmounts[@]}"; do
        if [[ $m == "$1"/* ]]; then umount "$m" 2>/dev/null || umount -l "$m"; else keep+=("$m"); fi
    done
    nsmounts=("${keep[@]}")
}
# nspawn_new_root IMAGE ROOT NAME: a copy of the image; the node's name in /etc/hostname (see the top), and
# a machine id of its own as any installed machine has. /usr, 2.0 of the image's 2.1 GB, is hard-linked, not
# copied (six roots: 154 s copied, 13 s linked): programs and libraries, which a running system replaces by
# rename if at all, never writes in place. A machine that did would change every root made from IMAGE: each new root
# first checks that no file of IMAGE/usr changed since IMAGE's first root (IMAGE.linked), and fails naming it.
nspawn_new_root() {
    local image=$1 r=$2 name=$3 changed
    nspawn_unmount "$r.fs"
    rm -rf "$r" "$r.disks" "$r.fs" # a new machine, new disks
    if [ -e "$image.linked" ]; then
        changed=$(find "$image/usr" -newer "$image.linked" ! -type d -print -quit)
        [ -z "$changed" ] || { echo "$changed was written in place, after roots were linked to $image/usr" >&2; return 1; }
    else
        touch "$image.linked" || return 1
    fi
    mkdir -p "$r" && chmod --reference="$image" "$r" &&
        find "$image" -mindepth 1 -maxdepth 1 ! -name usr -exec cp -a -t "$r" {} + &&
        cp -a --link "$image/usr" "$r/usr" || return 1
    printf '%s\n' "$name" >"$r/etc/hostname" && chmod 0644 "$r/etc/hostname" || return 1
    tr -d '-' </proc/sys/kernel/random/uuid >"$r/etc/machine-id"
}
# nspawn_boot ROOT NAME MAC INDEX LOG [IFNAME]: a fresh veth pair ($tag<INDEX> carrying MAC, into the
# container, and p<INDEX>, a port of br0; the previous pair went with the container's namespace), then the
# container, in the background, its console to LOG. With IFNAME the container's end is named so (a node file
# may match its NIC by name as well as by MAC: examples/homelab's "interface: eth0"): the container then runs
# in a network namespace of its own, $tag-n<INDEX>, made here, where the veth can take that name.
nspawn_boot() {
    local r=$1 m=$2 mac=$3 i=$4 log=$5 ifname=${6:-} host_if=$tag$4 net
    ip link del "$host_if" 2>/dev/null
    ip -n "$brns" link del "p$i" 2>/dev/null
    ip link add "$host_if" address "$mac" type veth peer name "p$i" netns "$brns" &&
        ip -n "$brns" link set "p$i" master br0 && ip -n "$brns" link set "p$i" up || return 1
    net=(--network-interface="$host_if")
    if [ -n "$ifname" ]; then
        ip netns del "$tag-n$i" 2>/dev/null
        ip netns add "$tag-n$i" && ip link set "$host_if" netns "$tag-n$i" &&
            ip -n "$tag-n$i" link set "$host_if" name "$ifname" && ip -n "$tag-n$i" link set lo up || return 1
        nsnets+=("$tag-n$i")
        # nspawn grants CAP_NET_ADMIN (which systemd-networkd needs) for its own private networks only.
        net=(--network-namespace-path="/run/netns/$tag-n$i" --capability=CAP_NET_ADMIN)
    fi
    # The node's disks: a sparse file per device, next to the root (a reboot of the root finds its data),
    # bound at the device's path. BlueStore takes a file as its block device as it takes a disk.
    local binds=() dev file
    for dev in ${nsdevs[$m]:-}; do
        file=$r.disks/${dev#/dev/}
        mkdir -p "${file%/*}" && { [ -e "$file" ] || truncate -s 4G "$file"; } || return 1
        binds+=(--bind="$file:$dev")
    done
    # Folders with a file system of their own (nsfs): a tmpfs mounted on the host next to the root, kept
    # across the machine's reboots as a disk would be (a new root, a new one).
    for dev in ${nsfs[$m]:-}; do
        file=$r.fs/${dev//\//-}
        if ! mountpoint -q "$file"; then
            mkdir -p "$file" && mount -t tmpfs -o mode=0755,size=2g "cb-$m" "$file" || return 1
            nsmounts+=("$file")
        fi
        binds+=(--bind="$file:$dev")
    done
    mkdir -p "${log%/*}"
    # systemd as init (--boot), or, on a machine that runs a kubelet, cb-e2e-init before it (above).
    local init=(--boot) pid1=()
    if [ -x "$r/usr/local/sbin/cb-e2e-init" ]; then
        nspawn_kube_sysctls || return 1
        init=(--kill-signal=SIGRTMIN+3 --bind-ro=/dev/kmsg --capability=CAP_SYSLOG --system-call-filter=@keyring)
        pid1=(/usr/local/sbin/cb-e2e-init)
    fi
    boots=$((boots + 1))
    # --resolv-conf=off: the machine keeps the /etc/resolv.conf its configuration renders (a real one gets
    # nothing from a host; nspawn would copy or bind the host's in where it sees no private network).
    "$work/launch" "$tag-$boots-$m" systemd-nspawn "${init[@]}" --register=no --keep-unit --link-journal=no \
        --resolv-conf=off --console=read-only -D "$r" --machine="$tag-$m" "${net[@]}" "${binds[@]}" "${pid1[@]}" >"$log" 2>&1 &
    pid[$m]=$!
    nsif[$m]=$host_if
    nsroot[$m]=$r
}
nspawn_running() { [ -n "${pid[$1]:-}" ] && kill -0 "${pid[$1]}" 2>/dev/null; } # NAME
# nspawn_stop [NAME...]: SIGTERM makes nspawn power its container off; SIGKILL for what is left after 30 s.
# Without NAMEs, every running machine.
# shellcheck disable=SC2120 # the tests stop all machines; NAMEs are for a test that stops some
nspawn_stop() {
    local m l alive ms=("$@")
    [ ${#ms[@]} -gt 0 ] || ms=("${!pid[@]}")
    for m in "${ms[@]}"; do [ -n "${pid[$m]:-}" ] && kill -TERM "${pid[$m]}" 2>/dev/null; done
    for _ in $(seq 1 300); do
        alive=0
        for m in "${ms[@]}"; do nspawn_running "$m" && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for m in "${ms[@]}"; do
        [ -n "${pid[$m]:-}" ] || continue
        if kill -0 "${pid[$m]}" 2>/dev/null; then
            # The container's init first: that ends every process of its PID namespace, as a power cut
            # would. Killing only systemd-nspawn left them running on the machine's root; the next boot
            # of that root met them (Kafka: "Failed to acquire lock on file .lock in /var/lib/kafka/data").
            note "$m: no poweroff within 30 s, killing its init and systemd-nspawn"
            l=$(nspawn_leader "$m") && kill -KILL "$l" 2>/dev/null
            kill -KILL "${pid[$m]}" 2>/dev/null
        fi
        wait "${pid[$m]}" 2>/dev/null
        unset "pid[$m]"
        ip link del "${nsif[$m]}" 2>/dev/null # back on the host if the container's namespace went first
    done
    nspawn_remove_cgroups
}
# nspawn_power_cut [NAME...]: the machines end at once, as in a power cut: each container's init is killed
# (SIGKILL; the kernel then kills every process of its PID namespace), no unit is stopped, no shutdown runs.
# What the processes wrote stays in the host's page cache: unlike a real power loss, no write that was not
# yet on the disk is lost. Without NAMEs, every running machine.
# shellcheck disable=SC2120 # the tests cut all machines or some
nspawn_power_cut() {
    local m l leaders=() ms=("$@")
    [ ${#ms[@]} -gt 0 ] || ms=("${!pid[@]}")
    for m in "${ms[@]}"; do l=$(nspawn_leader "$m") && leaders+=("$l"); done
    [ ${#leaders[@]} -eq 0 ] || kill -KILL "${leaders[@]}" 2>/dev/null
    nspawn_stop "${ms[@]}" # systemd-nspawn ends with its container: what is left of it
}
# The cgroup folders the launcher made, for the containers that are gone (a folder still in use stays listed).
nspawn_remove_cgroups() {
    local d keep=()
    [ -n "${CB_E2E_CGROUPS:-}" ] && [ -f "$CB_E2E_CGROUPS" ] && mapfile -t -O "${#cgroups[@]}" cgroups <"$CB_E2E_CGROUPS" &&
        : >"$CB_E2E_CGROUPS"
    for d in "${cgroups[@]}"; do
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$d" ] && keep+=("$d")
    done
    cgroups=("${keep[@]}")
}
# nspawn_leader NAME: the host PID of the container's init (PID 1 in its PID namespace).
nspawn_leader() {
    local p c
    nspawn_running "$1" || return 1
    for c in $(pgrep -P "${pid[$1]}"); do
        for p in "$c" $(pgrep -P "$c"); do
            [ "$(awk '$1 == "NSpid:" { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ] && { echo "$p"; return 0; }
        done
    done
    return 1
}
# nspawn_exec NAME COMMAND...: COMMAND inside the running container (all its namespaces, its root), as
# `machinectl shell` would where containers are registered.
nspawn_exec() {
    local m=$1 l
    shift
    l=$(nspawn_leader "$m") || { echo "$m is not running" >&2; return 125; }
    nsenter --target "$l" --mount --uts --ipc --net --pid --root --wd -- \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# nspawn_netexec NAME COMMAND...: the host's COMMAND in machine NAME's network namespace only: a test's
# tool (dig) that the image, which carries what the inventory needs, has no reason to carry.
nspawn_netexec() {
    local m=$1 l
    shift
    l=$(nspawn_leader "$m") || { echo "$m is not running" >&2; return 125; }
    nsenter --target "$l" --net -- "$@"
}
# nspawn_wait_file SECONDS RELPATH: until each running machine's root has RELPATH, or SECONDS passed;
# prints the machines still missing it.
nspawn_wait_file() {
    local deadline=$(($(date +%s) + $1)) rel=$2 m missing
    while :; do
        missing=
        for m in "${!pid[@]}"; do
            [ -e "${nsroot[$m]}/$rel" ] && continue
            nspawn_running "$m" && missing="$missing $m"
        done
        [ -z "$missing" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && { echo "$missing"; return 1; }
        sleep 1
    done
}
# nspawn_journal ROOT OUT UNIT...: the units' journals of the last boot, read from the root's persistent journal.
nspawn_journal() {
    local r=$1 o=$2 u args=()
    shift 2
    for u; do args+=(-u "$u"); done
    journalctl -D "$r/var/log/journal" -b -o short-monotonic --no-pager "${args[@]}" >"$o" 2>&1
}

nspawn_cleanup() {
    if declare -F nspawn_cleanup_hook >/dev/null; then nspawn_cleanup_hook; fi
    # shellcheck disable=SC2119
    nspawn_stop
    local i
    for i in "${nsif[@]}"; do ip link del "$i" 2>/dev/null; done
    for i in "${nsnets[@]}"; do ip netns del "$i" 2>/dev/null; done
    ip netns del "$brns" 2>/dev/null
    nspawn_kube_sysctls_restore
    if [ -n "$work" ]; then
        nspawn_unmount "$work"
        if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
    fi
}
