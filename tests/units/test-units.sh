#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the systemd units in units/ and prints TAP:
#
#   - `systemd-analyze verify` accepts every unit, with no message at all;
#   - the checks above are not vacuous: units broken on purpose (made here, in the temporary root) fail;
#   - the ordering and dependency facts a user notices: containerd before kubelet, etcd before
#     kube-apiserver before the controller manager and the scheduler, cluster-detect before every role
#     target, each role target wanting exactly the units of SPEC's role table, each service reading its
#     rendered environment file;
#   - `systemctl --root enable` of every role target makes the links that `clusterboot activate` has to
#     make (printed as comments), and with every role enabled the boot transaction has no ordering cycle;
#   - the users the units name are created by sysusers.d/, and each sandboxed service keeps a low
#     `systemd-analyze security` exposure.
#
# The units are installed into a temporary root next to a copy of this host's systemd units (for
# sysinit.target, network-online.target, ...). The programs they start do not exist on a build machine,
# so the root gets a stub executable at every Exec*= path: systemd-analyze checks that each command is
# an executable file, and the stubs exist only for that check. Nothing is ever started.
#
# Usage: test-units.sh UNITS_DIR
set -u
shopt -s nullglob

units=$(realpath "${1:?usage: test-units.sh UNITS_DIR}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
unitdir=$root/usr/lib/systemd/system     # where the units are installed on a node
admindir=$root/etc/systemd/system        # where `systemctl enable` puts its links

# An inherited SYSTEMD_LOG_LEVEL=debug would make every verify "fail" with chatter.
export SYSTEMD_LOG_LEVEL=info SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION COMMAND...: one TAP point, ok when COMMAND succeeds
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
diag() { sed 's/^/# /'; }

host_units=
for d in /usr/lib/systemd/system /lib/systemd/system; do
    [ -f "$d/sysinit.target" ] && { host_units=$d; break; }
done
if ! command -v systemd-analyze > /dev/null || ! command -v systemctl > /dev/null || [ -z "$host_units" ]; then
    echo "1..0 # SKIP needs systemd-analyze, systemctl and the host's systemd units"
    exit 0
fi
echo "# $(systemctl --version | head -n 1)"

unit_files=("$units"/*.service "$units"/*.target "$units"/*.timer)
if [ ${#unit_files[@]} = 0 ]; then
    echo "Bail out! no units in $units"
    exit 1
fi

# ---- unit file reading -------------------------------------------------------------------------------

# get FILE SECTION KEY: the words of every KEY= in [SECTION], in order; an empty assignment resets the
# list, as in systemd.
get() {
    awk -v sec="[$2]" -v key="$3" '
        /^[ \t]*[#;]/ { next }
        /^[ \t]*\[/ { cur = $0; sub(/[ \t]+$/, "", cur); next }
        cur != sec { next }
        {
            i = index($0, "=")
            if (i == 0) next
            k = substr($0, 1, i - 1); v = substr($0, i + 1)
            gsub(/^[ \t]+|[ \t]+$/, "", k)
            if (k != key) next
            if (v ~ /^[ \t]*$/) out = ""; else out = out " " v
        }
        END { n = split(out, w, /[ \t]+/); s = ""
              for (j = 1; j <= n; j++) if (w[j] != "") s = s (s == "" ? "" : " ") w[j]
              print s }' "$1"
}
has() { # has "WORDS" WORD
    case " $1 " in *" $2 "*) return 0 ;; esac
    return 1
}
sorted() { tr ' ' '\n' <<< "$*" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }
# A unit name as systemd-analyze loads it: a template needs an instance.
instance() { sed 's/@\./@test./' <<< "$1"; }

# units/meson.build installs the units and builds them into the binary for `clusterboot install`; a unit
# missing from its lists would pass every check here and never reach a node.
if [ -f "$units/meson.build" ]; then
    unlisted=
    for f in "${unit_files[@]}" "$units"/sysusers.d/*.conf; do
        rel=${f#"$units"/}
        grep -qF "'$rel'" "$units/meson.build" || unlisted+=" $rel"
    done
    check "every unit and sysusers.d file is listed in units/meson.build${unlisted:+ (not:$unlisted)}" \
        [ -z "$unlisted" ]
fi

# ---- the temporary root --------------------------------------------------------------------------------

mkdir -p "$unitdir" "$admindir"
cp -a "$host_units/." "$unitdir/"
cp "${unit_files[@]}" "$unitdir/"

stub() { # stub PATH: an executable that does nothing, only for systemd-analyze's existence check
    mkdir -p "$root$(dirname "$1")"
    [ -e "$root$1" ] || printf '#!/bin/sh\nexit 0\n' > "$root$1"
    chmod 0755 "$root$1"
}
relative=()
for f in "${unit_files[@]}"; do
    # First word of every Exec*= command, past the special prefixes (-@:+!).
    while read -r cmd; do
        case $cmd in
            /*) stub "$cmd" ;;
            *) relative+=("$(basename "$f"): $cmd") ;;
        esac
    done < <(awk '/^Exec[A-Za-z]*=/ { v = substr($0, index($0, "=") + 1); sub(/^[-@:+!]+/, "", v)
                                    split(v, w, /[ \t]+/); if (w[1] != "") print w[1] }' "$f")
done
if [ ${#relative[@]} = 0 ]; then
    ok "every Exec*= command is an absolute path"
else
    not_ok "every Exec*= command is an absolute path"
    printf '%s\n' "${relative[@]}" | diag
fi

# ---- systemd-analyze verify ---------------------------------------------------------------------------

# verify UNIT [OWN-FILE]: systemd-analyze's own exit status is not enough. It exits 0 after "Unknown
# key", "Failed to parse ..., ignoring" and "Found ordering cycle": systemd would load such a unit and
# silently drop the setting (a misspelt hardening option) or a job at boot. Any message is a failure.
# systemd-analyze loads every unit in the root, so it repeats the parse warnings of all of them each
# time: with OWN-FILE (a file of units/), the messages that name another file of units/ are left to that
# file's own point. Messages about the host's units are never left out.
verify_out=
verify() {
    verify_out=$(systemd-analyze verify --root="$root" --man=no --generators=no "$1" 2>&1)
    local rc=$?
    if [ -n "${2:-}" ]; then
        verify_out=$(awk -v own="$2" -v dir="$unitdir/" -v ours="$our_names" '
            BEGIN { n = split(ours, w, " "); for (i = 1; i <= n; i++) mine[w[i]] = 1 }
            {
                who = ""
                if (index($0, dir) == 1) { who = substr($0, length(dir) + 1); sub(/:.*/, "", who) }
                else if (match($0, /^[^ :]+\.(service|target|timer):/)) who = substr($0, 1, RLENGTH - 1)
                sub(/@[^.]*\./, "@.", who)          # an instance is reported by its template
                if (who in mine && who != own) next
                print
            }' <<< "$verify_out")
    fi
    [ "$rc" = 0 ] && [ -z "$verify_out" ]
}

our_names=$(for f in "${unit_files[@]}"; do basename "$f"; done | tr '\n' ' ')
for f in "${unit_files[@]}"; do
    u=$(basename "$f")
    if verify "$(instance "$u")" "$u"; then
        ok "systemd-analyze verify $u"
    else
        not_ok "systemd-analyze verify $u"
        printf '%s\n' "$verify_out" | diag
    fi
done

# The same check on units broken on purpose, so that a systemd-analyze that stops complaining (or a
# mistake here) cannot turn the points above into passes. Written into the temporary root only.
canary() { # canary DESCRIPTION UNIT-TEXT...: each text becomes zz-canary-N.service; verify the first
    local desc=$1 i=0
    shift
    for text in "$@"; do
        printf '%b' "$text" > "$unitdir/zz-canary-$i.service"
        i=$((i + 1))
    done
    # It must fail for the canary's own sake, not for a warning about some other unit.
    if verify zz-canary-0.service || ! grep -q 'zz-canary-' <<< "$verify_out"; then
        not_ok "verify rejects $desc"
        printf '%s\n' "$verify_out" | diag
    else
        ok "verify rejects $desc"
        printf '%s\n' "$verify_out" | diag
    fi
    rm -f "$unitdir"/zz-canary-*.service
}
canary "an unknown key (misspelt ProtectSystem=)" \
    '[Service]\nExecStart=/usr/bin/clusterboot status\nProtectSytem=strict\n'
canary "an invalid value (Restart=sometimes)" \
    '[Service]\nExecStart=/usr/bin/clusterboot status\nRestart=sometimes\n'
canary "a missing executable" \
    '[Service]\nExecStart=/usr/bin/clusterboot-no-such-program\n'
canary "an ordering cycle" \
    '[Unit]\nWants=zz-canary-1.service\nAfter=zz-canary-1.service\n[Service]\nExecStart=/usr/bin/clusterboot status\n' \
    '[Unit]\nAfter=zz-canary-0.service\n[Service]\nExecStart=/usr/bin/clusterboot status\n'

# ---- ordering and dependencies ------------------------------------------------------------------------

file_of() { echo "$units/$1"; }
exists() { [ -f "$(file_of "$1")" ]; }
# before A B: A is ordered before B, said by either side.
before() {
    exists "$1" && exists "$2" || return 1
    has "$(get "$(file_of "$1")" Unit Before)" "$2" || has "$(get "$(file_of "$2")" Unit After)" "$1"
}

check "containerd.service is ordered before kubelet.service" before containerd.service kubelet.service
check "etcd.service is ordered before kube-apiserver.service" before etcd.service kube-apiserver.service
check "kube-apiserver.service is ordered before kube-controller-manager.service" \
    before kube-apiserver.service kube-controller-manager.service
check "kube-apiserver.service is ordered before kube-scheduler.service" \
    before kube-apiserver.service kube-scheduler.service
check "flanneld.service is ordered after kubelet.service (it needs the kubelet's Node and kubeconfig)" \
    before kubelet.service flanneld.service
check "ceph-mgr@ is ordered after the same node's ceph-mon@" \
    has "$(get "$(file_of ceph-mgr@.service)" Unit After)" "ceph-mon@%i.service"

# SPEC "Roles": the units of each role. Every node that runs the kubelet runs containerd too.
# The Ceph roles' units are template instances (node name, OSD id); they cannot be named in the target,
# so their templates install into it instead.
declare -A role_wants=(
    # clusterboot-join.service: from boot on, it tells the first master whether this master holds a cluster.
    [kubernetes-master.target]="clusterboot-join.service containerd.service etcd.service kube-apiserver.service kube-controller-manager.service kube-scheduler.service kubelet.service kube-proxy.service flanneld.service"
    [kubernetes-worker.target]="containerd.service kubelet.service kube-proxy.service flanneld.service"
    [kafka.target]="kafka.service"
    [ceph-mon.target]=""
    [ceph-osd.target]=""
    [mqtt.target]="mosquitto.service"
    [dns.target]="coredns.service"
)
declare -A role_templates=(
    [ceph-mon.target]="ceph-mgr@.service ceph-mon@.service"
    [ceph-osd.target]="ceph-osd@.service"
)
role_targets=(kubernetes-master.target kubernetes-worker.target kafka.target ceph-mon.target ceph-osd.target
              mqtt.target dns.target)

for t in "${role_targets[@]}"; do
    if ! exists "$t"; then
        not_ok "$t exists"
        continue
    fi
    want=$(sorted "${role_wants[$t]}")
    got=$(sorted "$(get "$(file_of "$t")" Unit Wants) $(get "$(file_of "$t")" Unit Requires)")
    if [ "$want" = "$got" ]; then
        ok "$t wants exactly: ${want:-(nothing; template instances install into it)}"
    else
        not_ok "$t wants exactly: ${want:-(nothing)}"
        echo "# it wants: ${got:-(nothing)}"
    fi
    missing=
    for u in $got; do exists "$u" || missing+=" $u"; done
    check "every unit $t wants is in units/${missing:+ (missing:$missing)}" [ -z "$missing" ]

    templates=
    for f in "$units"/*@.service; do
        has "$(get "$f" Install WantedBy) $(get "$f" Install RequiredBy)" "$t" && templates+=" $(basename "$f")"
    done
    want=$(sorted "${role_templates[$t]:-}")
    templates=$(sorted "$templates")
    check "templates installed into $t: ${want:-none}${templates:+ (found: $templates)}" [ "$want" = "$templates" ]

    check "$t is WantedBy=multi-user.target" has "$(get "$(file_of "$t")" Install WantedBy)" multi-user.target
    check "cluster-detect.service is ordered before $t" before cluster-detect.service "$t"
done

# Every service of a role runs after cluster-detect (which writes its configuration) and, since all of
# them but containerd talk to other nodes, after the network is up; After= alone would not pull
# network-online.target into the boot.
for f in "${unit_files[@]}"; do
    u=$(basename "$f")
    # clusterboot-renew and -sync run on a timer, long after boot, and are not part of a role.
    case $u in cluster-*.service | clusterboot-renew.service | clusterboot-sync.service | *.target | *.timer) continue ;; esac
    check "$u is ordered after cluster-detect.service" before cluster-detect.service "$u"
    [ "$u" = containerd.service ] && continue
    check "$u waits for network-online.target (Wants= and After=)" \
        eval 'has "$(get "$f" Unit Wants)" network-online.target && has "$(get "$f" Unit After)" network-online.target'
done

# The rendered environment files (SPEC "On the node"). Required, not "-"-prefixed: a service started
# without its file would run on built-in defaults; etcd would found a fresh one-member cluster.
declare -A env_file=(
    [etcd.service]=etcd [kube-apiserver.service]=kube-apiserver
    [kube-controller-manager.service]=kube-controller-manager [kube-scheduler.service]=kube-scheduler
    [kubelet.service]=kubelet [kube-proxy.service]=kube-proxy [kafka.service]=kafka [flanneld.service]=flanneld
    [ceph-mon@.service]=ceph [ceph-mgr@.service]=ceph [ceph-osd@.service]=ceph
)
declare -A args_var=(
    [kube-apiserver.service]=KUBE_APISERVER_ARGS [kube-controller-manager.service]=KUBE_CONTROLLER_MANAGER_ARGS
    [kube-scheduler.service]=KUBE_SCHEDULER_ARGS [kubelet.service]=KUBELET_ARGS [kube-proxy.service]=KUBE_PROXY_ARGS
)
for u in $(sorted "${!env_file[@]}"); do
    path=/etc/cluster-config/environment/${env_file[$u]}.env
    check "$u has EnvironmentFile=$path" \
        eval 'exists "$u" && has "$(get "$(file_of "$u")" Service EnvironmentFile)" "$path"'
    if [ -n "${args_var[$u]:-}" ]; then
        # Unbraced, so that systemd splits the value into arguments.
        check "$u passes \$${args_var[$u]} to the program" \
            eval 'has "$(get "$(file_of "$u")" Service ExecStart)" "\$${args_var[$u]}"'
    fi
done

# A unit whose program the image lacks (an image without Kafka, say) must be skipped, not started and
# failed: systemd tests ConditionFileIsExecutable= before it starts anything, and `clusterboot status`
# reads the same line to say "not in this image".
for f in "$units"/*.service; do
    u=$(basename "$f")
    prog=$(get "$f" Service ExecStart | awk '{ print $1 }')
    case $prog in /usr/bin/clusterboot) continue ;; esac
    check "$u is skipped where the image lacks $prog (ConditionFileIsExecutable=$prog)" \
        eval 'has "$(get "$f" Unit ConditionFileIsExecutable)" "$prog"'
done

f=$(file_of cluster-detect.service)
check "cluster-detect.service runs /usr/bin/clusterboot firstboot once (oneshot, RemainAfterExit)" \
    eval '[ "$(get "$f" Service Type)" = oneshot ] && [ "$(get "$f" Service RemainAfterExit)" = yes ] &&
          [ "$(get "$f" Service ExecStart)" = "/usr/bin/clusterboot firstboot" ]'
check "cluster-detect.service runs before the network is configured" \
    eval '[ "$(get "$f" Unit DefaultDependencies)" = no ] && has "$(get "$f" Unit After)" local-fs.target &&
          has "$(get "$f" Unit Before)" systemd-networkd.service &&
          has "$(get "$f" Unit Before)" network-pre.target && has "$(get "$f" Unit Wants)" network-pre.target'
check "cluster-detect.service has written the login banner when the first getty starts (getty-pre.target)" \
    eval 'has "$(get "$f" Unit Before)" getty-pre.target && has "$(get "$f" Unit Wants)" getty-pre.target'
f=$(file_of cluster-bootstrap.service)
check "cluster-bootstrap.service runs /usr/bin/clusterboot bootstrap after cluster-detect and the network" \
    eval '[ "$(get "$f" Service Type)" = oneshot ] &&
          [ "$(get "$f" Service ExecStart)" = "/usr/bin/clusterboot bootstrap" ] &&
          before cluster-detect.service cluster-bootstrap.service &&
          has "$(get "$f" Unit Wants)" network-online.target && has "$(get "$f" Unit After)" network-online.target'
# Exit 75 (EX_TEMPFAIL) means "retry later": it must restart the unit and never count as success (a
# successful oneshot with RemainAfterExit=yes stays "active" and is not run again).
check "cluster-bootstrap.service retries on exit 75" \
    eval '[ "$(get "$f" Service Restart)" = on-failure ] && ! has "$(get "$f" Service SuccessExitStatus)" 75 &&
          ! has "$(get "$f" Service RestartPreventExitStatus)" 75 && [ -n "$(get "$f" Service RestartSec)" ]'

check "cluster-bootstrap.service starts clusterboot-sync.service (without waiting for it) once the node is in" \
    eval 'has "$(get "$(file_of cluster-bootstrap.service)" Service ExecStartPost)" "-/usr/bin/systemctl start --no-block clusterboot-sync.service"'

# Certificates renew themselves: a timer, an hour after boot and then daily, runs `pki node --restart` on a node
# that holds the bundle, once it is in the cluster.
f=$(file_of clusterboot-renew.service)
check "clusterboot-renew.service runs /usr/bin/clusterboot pki node --restart after bootstrap, on a node with the bundle or a kubelet client certificate" \
    eval '[ "$(get "$f" Service Type)" = oneshot ] &&
          [ "$(get "$f" Service ExecStart)" = "/usr/bin/clusterboot pki node --restart" ] &&
          has "$(get "$f" Unit After)" cluster-bootstrap.service &&
          grep -qx "ConditionPathExists=|/etc/cluster-config/secrets/kubernetes/ca.crt" "$f" &&
          grep -qx "ConditionPathExists=|/var/lib/kubelet/pki/kubelet-client-current.pem" "$f" &&
          grep -qx "ConditionPathExists=/var/lib/cluster-state/cluster-joined" "$f"'
f=$(file_of clusterboot-renew.timer)
check "clusterboot-renew.timer is WantedBy=timers.target and fires after boot and daily" \
    eval 'has "$(get "$f" Install WantedBy)" timers.target && [ -n "$(get "$f" Timer OnBootSec)" ] &&
          [ "$(get "$f" Timer OnUnitActiveSec)" = 1d ]'

# The inventory apply stores reaches every node: a timer runs `sync` on a node that has joined and can read it
# (a master's etcd client certificate, or the kubelet's client certificate for the join service).
f=$(file_of clusterboot-sync.service)
check "clusterboot-sync.service runs /usr/bin/clusterboot sync after bootstrap, on a master or a node with a kubelet client certificate" \
    eval '[ "$(get "$f" Service Type)" = oneshot ] && [ "$(get "$f" Service ExecStart)" = "/usr/bin/clusterboot sync" ] &&
          has "$(get "$f" Unit After)" cluster-bootstrap.service &&
          grep -qx "ConditionPathExists=|/etc/kubernetes/pki/etcd/healthcheck-client.crt" "$f" &&
          grep -qx "ConditionPathExists=|/var/lib/kubelet/pki/kubelet-client-current.pem" "$f" &&
          grep -qx "ConditionPathExists=/var/lib/cluster-state/cluster-joined" "$f"'
check "clusterboot-sync.service tries again in 30 s on exit 75 (no master answers yet), without a start limit" \
    eval '[ "$(get "$f" Service Restart)" = on-failure ] && [ "$(get "$f" Service RestartPreventExitStatus)" = "1 2" ] &&
          [ "$(get "$f" Service RestartSec)" = 30s ] &&
          [ "$(get "$f" Unit StartLimitIntervalSec)" = 0 ]'
f=$(file_of clusterboot-sync.timer)
check "clusterboot-sync.timer is WantedBy=timers.target and fires after boot and every ten minutes" \
    eval 'has "$(get "$f" Install WantedBy)" timers.target && [ -n "$(get "$f" Timer OnBootSec)" ] &&
          [ "$(get "$f" Timer OnUnitActiveSec)" = 10min ]'

# ---- systemctl --root enable: what `clusterboot activate` has to reproduce -------------------------------

links() { find "$admindir" -type l -printf '%P -> %l\n' | sort; }
enable() { # enable DESCRIPTION EXPECTED-LINK UNIT...
    local desc=$1 expect=$2 before_links out rc
    shift 2
    before_links=$(links)
    out=$(systemctl --root="$root" enable "$@" 2>&1)
    rc=$?
    local created
    created=$(comm -13 <(printf '%s\n' "$before_links") <(links) | sed '/^$/d')
    if [ "$rc" = 0 ] && grep -qxF "$expect" <<< "$created"; then
        ok "$desc"
    else
        not_ok "$desc"
        printf '%s\n' "$out" | diag
    fi
    [ -z "$created" ] || sed 's/^/link: /' <<< "$created" | diag
}
for t in "${role_targets[@]}"; do
    enable "systemctl --root enable $t" "multi-user.target.wants/$t -> /usr/lib/systemd/system/$t" "$t"
done
for u in cluster-detect.service cluster-bootstrap.service; do
    enable "systemctl --root enable $u" "multi-user.target.wants/$u -> /usr/lib/systemd/system/$u" "$u"
done
enable "systemctl --root enable clusterboot-renew.timer" \
    "timers.target.wants/clusterboot-renew.timer -> /usr/lib/systemd/system/clusterboot-renew.timer" clusterboot-renew.timer
enable "systemctl --root enable clusterboot-sync.timer" \
    "timers.target.wants/clusterboot-sync.timer -> /usr/lib/systemd/system/clusterboot-sync.timer" clusterboot-sync.timer
enable "systemctl --root enable ceph-mon@node-a.service" \
    "ceph-mon.target.wants/ceph-mon@node-a.service -> /usr/lib/systemd/system/ceph-mon@.service" \
    ceph-mon@node-a.service
enable "systemctl --root enable ceph-mgr@node-a.service" \
    "ceph-mon.target.wants/ceph-mgr@node-a.service -> /usr/lib/systemd/system/ceph-mgr@.service" \
    ceph-mgr@node-a.service
enable "systemctl --root enable ceph-osd@0.service ceph-osd@1.service" \
    "ceph-osd.target.wants/ceph-osd@1.service -> /usr/lib/systemd/system/ceph-osd@.service" \
    ceph-osd@0.service ceph-osd@1.service

# activate runs on every boot: enabling again must change nothing.
before_links=$(links)
out=$(systemctl --root="$root" enable "${role_targets[@]}" cluster-detect.service 2>&1)
rc=$?
check "enabling again is a no-op" eval '[ "$rc" = 0 ] && [ "$before_links" = "$(links)" ]'
[ "$rc" = 0 ] || printf '%s\n' "$out" | diag

# With every role, and both clusterboot services, enabled, the boot transaction (multi-user.target) must
# load without a message: an ordering cycle between cluster-detect, the network and the services only
# shows up here.
if verify multi-user.target; then
    ok "boot transaction with every role enabled: no ordering cycle, no warning"
else
    not_ok "boot transaction with every role enabled: no ordering cycle, no warning"
    printf '%s\n' "$verify_out" | diag
fi

# ---- users ------------------------------------------------------------------------------------------------

# Users a unit runs as (User=/Group=, not DynamicUser=) must come from sysusers.d/; ceph and mosquitto
# start as root and switch to their package's user themselves.
sysusers=("$units"/sysusers.d/*.conf)
if [ ${#sysusers[@]} = 0 ]; then
    not_ok "systemd-sysusers --root creates the users of sysusers.d/"
elif out=$(systemd-sysusers --root="$root" "${sysusers[@]}" 2>&1); then
    ok "systemd-sysusers --root creates the users of sysusers.d/"
else
    not_ok "systemd-sysusers --root creates the users of sysusers.d/"
    printf '%s\n' "$out" | diag
fi
for f in "${unit_files[@]}"; do
    [ "$(get "$f" Service DynamicUser)" = yes ] && continue
    for key in User Group; do
        name=$(get "$f" Service $key)
        [ -z "$name" ] || [ "$name" = root ] && continue
        db=$([ $key = User ] && echo passwd || echo group)
        check "$key=$name of $(basename "$f") is created by sysusers.d/" \
            grep -q "^$name:" "$root/etc/$db"
    done
done

# ---- sandboxing -------------------------------------------------------------------------------------------

# Exempt: containerd and the kubelet create containers, kube-proxy and flanneld rewrite the node's iptables
# and routes (see the comments in their units), and the two
# cluster-* services and clusterboot-sync write configuration everywhere and call systemctl. Every other service has a
# ceiling just above its score today, so that a dropped hardening line shows up here (removing four of
# kube-scheduler's raises it from 2.2 to 4.9, still "OK" to systemd). Lower a ceiling when a unit gets
# tighter; raising one needs a reason in the unit.
declare -A ceiling=(
    [etcd.service]=2.5 [kube-apiserver.service]=2.5 [kube-controller-manager.service]=2.5
    [kube-scheduler.service]=2.5 [coredns.service]=2.5 [mosquitto.service]=3.0 [kafka.service]=3.5
    [ceph-mon@.service]=4.5 [ceph-mgr@.service]=4.5 [ceph-osd@.service]=5.0 [clusterboot-renew.service]=2.5
)
for f in "$units"/*.service; do
    u=$(basename "$f")
    out=$(systemd-analyze security --offline=yes --root="$root" --no-pager "$(instance "$u")" 2>&1)
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<< "$out" | tail -n 1)
    case $u in
        containerd.service | kubelet.service | kube-proxy.service | flanneld.service | cluster-*.service | clusterboot-sync.service)
            echo "# exposure $u: ${score:-?} (not sandboxed on purpose)"
            continue ;;
    esac
    max=${ceiling[$u]:-5.0}
    if [ -n "$score" ] && awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
        ok "$u exposure $score <= $max (systemd-analyze security)"
    else
        not_ok "$u exposure ${score:-?} <= $max (systemd-analyze security)"
        [ -n "$score" ] || printf '%s\n' "$out" | tail -n 5 | diag
    fi
done

echo "1..$n"
[ "$fail" = 0 ]
