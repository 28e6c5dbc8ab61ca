#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2317,SC2015,SC2119 # functions called through check look unreachable; A && B || C is meant
# The whole cluster under a real systemd, with the default "join" secret policy: ONE image made by
# `clusterboot image build --format tree` (the tree disk.raw and netboot/ are made of; the image carries the
# join secret alone), copied once
# per machine, every machine a systemd-nspawn container on one bridge, nothing done by hand inside them.
# In each container:
#   cluster-detect.service     clusterboot firstboot: detect, render, activate
#   cluster-bootstrap.service  clusterboot bootstrap: secrets (masters: master-01 makes the bundle, the
#                              others get it from its join service), certificates (masters: from the bundle;
#                              workers: keys made here, CSRs to a master's join service), etcd-member,
#                              etcd-ready, join-service, the Kubernetes stages (control plane on the masters,
#                              kubelet, flannel and kube-proxy everywhere), the services' stages (mqtt on
#                              worker-01, ceph-mon and ceph-mgr on the masters, ceph-osd and kafka on the
#                              workers, dns on master-01 and -02; a stage whose program the image lacks is
#                              skipped), joined
#
# Scenarios (examples/ha: three masters, three workers; "small": master-01, worker-01 and worker-02 of it):
#   1  the six nodes of examples/ha booted at once: master-01 bootstrapped, all others joined, three
#      voting etcd members with https peer URLs and one cluster id; the workers got their certificates
#      through the join service and hold no bundle and no CA key; each node's step markers. After the checks:
#      certificate renewal (clusterboot-renew.service, as its timer starts it): `status` clean on every node;
#      on master-03 (bundle) nothing due, then after `pki renew` etcd, the API server and its clients restart
#      one at a time and serve the new certificates; on worker-01 (no bundle) the same through a master's
#      join service by the kubelet's client certificate. Then day two: `apply` on master-01 of the inventory
#      with a worker added and labels changed, clusterboot-sync.service on every node (/etc/hosts, CoreDNS,
#      only the kubelet whose labels changed restarts, its Node labelled), and back to the image's inventory
#   7  (on the running cluster of 1) Mosquitto on worker-01 refuses a wrong password and an anonymous
#      client; `ceph -s` with the admin keyring on master-01 sees the three monitors in quorum, one active
#      manager and the other two masters' as standbys; the KRaft quorum has the three brokers as voters
#   4  the roots of 1 booted again: nothing changes (member ids, certificate files' hashes and mtimes, steps);
#      it ends by a power cut (every machine killed at once, no shutdown)
#   6  after that power cut, master-02 reinstalled (a fresh copy of the image, same name), booted with the
#      other five of 1 in a random order: it gets the bundle, its old etcd member is replaced, three voters;
#      the other five redo nothing. Then master-01 is gone for good (its power cut): etcd on the other two
#      commits, master-02's API server serves, a join is answered by another master's join service, and every
#      worker's kubelet keeps the API through its relay (clusterboot-api-proxy) to the other two. Then master-01
#      is taken out of the inventory (`apply` on master-02, clusterboot-sync.service on the other five): etcd's
#      members and the monmap shrink to master-02 and -03, and neither etcd nor a monitor restarts on the way
#   2  "small" (one master, two workers; validated): two power cuts of all three during assembly, each at a
#      random second, then a boot in a random order: the same outcome, and what was made before a cut (the
#      bundle, the CAs, etcd's cluster id) is what the cluster has at the end
#   3  the six booted in reverse order (workers first), master-01 CB_E2E_LATE s (default 60) after the
#      others: they wait (retries, exit 75), then join
#   5  the six, with `kill -9` at stage boundaries (CLUSTERBOOT_TEST_KILL_AT through a wrapper, below) on
#      masters and workers, Kubernetes, Ceph OSD and Kafka stages included: systemd restarts
#      cluster-bootstrap.service and the cluster converges
# Every scenario ends with the main job's checks of the running cluster (tests/e2e/lib-checks.sh, by the
# names of scripts/demo.sh's DEMO_JSON), each a point: every kubelet node Ready, a pod on every node, pod to
# pod across nodes, cluster DNS from a pod, Ceph HEALTH_OK with every OSD up and in, a Kafka round trip with
# the inventory's replication factor, MQTT over TLS, every node's name through each CoreDNS. After a reboot
# (4) and a reinstall (6) the same checks pass again: the pods of 1 run again, new messages go through.
# A process of cluster-bootstrap.service, etcd.service, clusterboot-join.service or clusterboot-sync.service
# (its timer runs it at boot) that fails with anything but exit 75 ("not yet", retried by systemd) fails the
# scenario: waiting is the stages' job, a failure is a bug even when a retry papers over it (in 5, only the injected kills may fail). A failed
# start of mosquitto.service, ceph-mon@NODE.service, ceph-mgr@NODE.service or coredns.service is a point of
# its own: the role targets enabled at first boot start them at boot, and under the join policy their files
# (passwd, certificates, the monitor's store, the manager's keyring) only come with cluster-bootstrap's stages.
#
# Fault injection (5): the product reads CLUSTERBOOT_TEST_KILL_AT from its environment only, and systemd
# would pass a drop-in's Environment= to every restart, killing it forever. So the roots of 5 get a
# drop-in that runs /usr/local/sbin/cb-e2e-bootstrap instead of `clusterboot bootstrap`: it takes the first
# line of /var/lib/cb-e2e/kill-at (removing it from the file, synced, before clusterboot starts), exports
# it as CLUSTERBOOT_TEST_KILL_AT, logs it, and execs `clusterboot bootstrap` (same PID, so systemd sees the
# SIGKILL). One kill point per attempt; an empty file means no more kills.
#
# Observation: cb-e2e-report.service in each container waits (bounded by /etc/cb-e2e.conf's settle, in
# seconds since its boot) until cluster-bootstrap.service is active (and, on a master, etcd lists all
# masters as started voting members), then writes `systemctl show`, the etcd member list and endpoint
# status and the units' journals to /var/lib/cb-e2e/out. The host reads files (state, step markers,
# certificates, bundle) from the roots after the containers are powered off, and runs the checks of 7
# inside the containers with nsenter. The harness (cache, image, bridge, boot, stop) is lib-nspawn.sh.
#
# The image's Debian base (the packages examples/ha's roles need, as image build picks them) is made once by
# debootstrap into $CLUSTERBOOT_TEST_CACHE/image (see lib-nspawn.sh for the other variables). The checks'
# dig is the host's, run in a machine's network namespace. The image carries the components of the lock
# that `clusterboot binaries fetch` put into the test cache (nspawn_components): CoreDNS, Kafka and the pause
# image always; Kubernetes and flannel with CLUSTERBOOT_HEAVY=1 (the test command's default), else they are
# left out, their stages skipped and the Kubernetes checks' points skipped, named. The machines boot a copy of
# examples/ha with what machines sharing one host need (nspawn_host_inventory).
# Also:
#   CB_E2E_LATE     seconds master-01 boots late in scenario 3 (default 60)
#   CB_E2E_SETTLE   how long a report waits for its node, from the last boot of a scenario (default 300)
#   CB_E2E_ONLY     scenarios to run, e.g. "1 7 4" (default all; the others' points are skipped)
#   CB_E2E_SEED     the seed of the random choices (the power cuts' moments, the boot orders); each run
#                   prints its own
# Needs root, systemd-nspawn, unshare, nsenter, ip, python3, openssl, and debootstrap while there is no
# cache; skipped where they are missing or nspawn cannot run a container.
#
# Usage: test-nspawn-cluster.sh CLUSTERBOOT [EXAMPLES_DIR]
set -u

cb=${1:?usage: $0 CLUSTERBOOT [EXAMPLES_DIR]}
examples=${2:-$(cd "$(dirname "$0")/../../examples" && pwd)}
cb=$(readlink -f "$cb")
ha=$examples/ha
no_secret_in=$(cd "$(dirname "$0")/../scripts" && pwd)/no-secret-in.sh
# shellcheck source=tests/e2e/lib-nspawn.sh
. "$(dirname "$0")/lib-nspawn.sh"

late=${CB_E2E_LATE:-60}
settle=${CB_E2E_SETTLE:-300}
declare -A settle_more=() # scenario -> seconds its reports may wait beyond settle (5: the restarts after its kills)
only=" ${CB_E2E_ONLY:-1 2 3 4 5 6 7} "
wanted() { [[ $only == *" $1 "* ]]; } # SCENARIO
# The random choices (the power cuts' moments, boot orders) come from one seed; CB_E2E_SEED repeats a run's.
seed=${CB_E2E_SEED:-$(($(date +%s) % 32768))}
RANDOM=$seed
shuffle() { # WORD...: the words in a random order, into the array shuffled (not a subshell: one sequence)
    local i j t
    shuffled=("$@")
    for ((i = ${#shuffled[@]} - 1; i > 0; i--)); do
        j=$((RANDOM % (i + 1))) t=${shuffled[i]}
        shuffled[i]=${shuffled[j]} shuffled[j]=$t
    done
}
pick() { picked=$(($1 + RANDOM % ($2 - $1 + 1))); } # LOW HIGH: a random whole number into picked

all=(master-01 master-02 master-03 worker-01 worker-02 worker-03)
declare -A ip=([master-01]=10.20.0.11 [master-02]=10.20.0.12 [master-03]=10.20.0.13
    [worker-01]=10.20.0.21 [worker-02]=10.20.0.22 [worker-03]=10.20.0.23)
declare -A mac=([master-01]=52:54:00:20:00:11 [master-02]=52:54:00:20:00:12 [master-03]=52:54:00:20:00:13
    [worker-01]=52:54:00:20:00:21 [worker-02]=52:54:00:20:00:22 [worker-03]=52:54:00:20:00:23)
declare -A num=([master-01]=1 [master-02]=2 [master-03]=3 [worker-01]=4 [worker-02]=5 [worker-03]=6)
# Roles that decide the stages: the masters are ceph-mon nodes, worker-01 the MQTT broker, master-01 and
# master-02 the DNS servers (examples/ha).
is_master() { [[ $1 == master-* ]]; }
is_dns_server() { [[ " $dns_servers " == *" $1 "* ]]; }
is_kafka_broker() { [[ $1 == worker-* ]]; } # the three workers: KRaft brokers and controllers
# scenario -> its nodes, its roots (4 and 6 boot the roots of 1 again), its image
declare -A nodes_of=([s1]="${all[*]}" [s4]="${all[*]}" [s6]="${all[*]}"
    [s2]="master-01 worker-01 worker-02" [s3]="${all[*]}" [s5]="${all[*]}")
declare -A rootset=([s1]=r1 [s4]=r1 [s6]=r1 [s2]=r2 [s3]=r3 [s5]=r5)
declare -A image_of=([s1]=ha [s4]=ha [s6]=ha [s2]=small [s3]=ha [s5]=ha)

nspawn_init 126
note "random choices from seed $seed (CB_E2E_SEED=$seed repeats them)"
nspawn_preflight "$cb" openssl sha256sum debootstrap dig
[ -f "$ha/cluster.yaml" ] || { not_ok "examples/ha in $examples"; skip_rest "no inventory"; }
nspawn_workdir cb-e2e-cluster
# shellcheck source=tests/e2e/lib-checks.sh
. "$(dirname "$0")/lib-checks.sh"
# The DNS servers of examples/ha, from plan (the dns stage's nodes).
dns_servers=$("$cb" plan --inventory "$ha" --output json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(x["node"] for x in json.load(sys.stdin)["dns"]["servers"]))')
# Kafka's port and its voters' node ids, from plan.
read -r kafka_port kafka_voters < <("$cb" plan --inventory "$ha" --output json 2>/dev/null | python3 -c '
import json, sys
k = json.load(sys.stdin)["kafka"]
print(k["port"], ",".join(sorted(str(b["node_id"]) for b in k["brokers"])))')

# ---- the inventories and images ----
# examples/ha as the machines of this host boot it (nspawn_host_inventory); the components first, which
# decide what that copy needs.
make_ha_inventory() {
    if [ -z "${components_fetched:-}" ]; then
        nspawn_components || return 1
        components_fetched=1
    fi
    nspawn_host_inventory "$ha" "$work/inv-ha"
}
# The small inventory: examples/ha less master-02, master-03 and worker-03; two OSD hosts and two brokers,
# so the pool size and the replication factor come down to 2.
make_small_inventory() {
    local d=$work/inv-small
    cp -a "$work/inv-ha" "$d" && rm -f "$d/nodes/worker-03.yaml" || return 1
    python3 - "$d/cluster.yaml" <<'EOF' || return 1
import re, sys
p = sys.argv[1]
out, skip = [], False
for line in open(p):
    m = re.match(r"  - name: (\S+)", line)
    if m:
        skip = m.group(1) in ("master-02", "master-03", "worker-03")
    elif not line.startswith("    "):
        skip = False
    if not skip:
        out.append(line)
text = "".join(out).replace("cluster:\n  name: ha\n", "cluster:\n  name: ha-small\n")
open(p, "w").write("# examples/ha less master-02, master-03 and worker-03 (tests/e2e/test-nspawn-cluster.sh)\n" + text)
EOF
    printf 'ceph:\n  osd_pool_default_size: 2\n  osd_pool_default_min_size: 1\n' >"$d/services/ceph.yaml"
    printf 'kafka:\n  default_replication_factor: 2\n' >"$d/services/kafka.yaml"
    "$cb" validate --inventory "$d" >"$work/validate-small.log" 2>&1 || return 1
    [ "$(grep -c '^  - name:' "$d/cluster.yaml")" = 3 ] || { echo "not three nodes" >>"$work/validate-small.log"; return 1; }
}

# The report unit and its script, in an image.
add_report() {
    local image=$1
    cat >"$image/etc/systemd/system/cb-e2e-report.service" <<'EOF'
[Unit]
Description=clusterboot e2e test: report how this node assembled, for the host
After=cluster-detect.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cb-e2e-report
TimeoutStartSec=20min

[Install]
WantedBy=multi-user.target
EOF
    cat >"$image/usr/local/sbin/cb-e2e-report" <<'EOF'
#!/bin/sh
# Written by tests/e2e/test-nspawn-cluster.sh: once this node is settled (cluster-bootstrap.service active;
# on a master, etcd lists every master as a started voting member), or at most $settle seconds after boot,
# what the host asserts on goes to $d/out.
d=/var/lib/cb-e2e
out=$d/out.tmp
rm -rf "$out" "$d/out"
mkdir -p "$out"
. /etc/cb-e2e.conf # settle, role, masters, addr (the node's inventory address)
name=$(cat /etc/cluster-config/node-identity 2>/dev/null)
pki=/etc/kubernetes/pki/etcd
ctl() {
    etcdctl --endpoints="https://$addr:2379" --cacert=$pki/ca.crt --cert=$pki/healthcheck-client.crt \
        --key=$pki/healthcheck-client.key --dial-timeout=3s --command-timeout=10s "$@"
}
# Seconds since this container's PID 1 started (/proc/uptime is the host's).
since_boot() {
    awk -v hz="$(getconf CLK_TCK)" -v st="$(cut -d' ' -f22 /proc/1/stat)" '{ printf "%d", $1 - st / hz }' /proc/uptime
}
settled() {
    # Its address on a NIC (not the first global address: flannel's and the pod bridge's come first).
    ip -4 -o addr show | grep -qF " $addr/" && [ "$(systemctl is-active cluster-bootstrap.service)" = active ] || return 1
    [ "$role" = master ] || return 0
    [ "$(systemctl is-active etcd.service)" = active ] || return 1
    m=$(ctl member list -w json 2>/dev/null) || return 1
    [ "$(printf '%s' "$m" | grep -o '"name":"[^"]' | wc -l)" = "$masters" ] && ! printf '%s' "$m" | grep -q '"isLearner":true' &&
        # A member that must be gone first (scenario 6: the reinstalled master's old one, decimal).
        { [ ! -s /etc/cb-e2e-stale ] || ! printf '%s' "$m" | grep -q "\"ID\":$(cat /etc/cb-e2e-stale)[,}]"; }
}
while :; do
    settled && break
    up=$(since_boot)
    if [ "$up" -ge "$settle" ]; then
        echo "not settled $up s after boot: cluster-bootstrap.service $(systemctl is-active cluster-bootstrap.service)" >"$out/timeout"
        break
    fi
    sleep 2
done
echo "booted $(since_boot)" >"$out/when"
for u in cluster-detect cluster-bootstrap etcd clusterboot-join clusterboot-sync mosquitto "ceph-mon@$name" "ceph-mgr@$name" \
    coredns kafka kube-apiserver kubelet flanneld; do
    systemctl show "$u.service" -p ActiveState -p SubState -p Result -p NRestarts -p ExecMainCode \
        -p ExecMainStatus >"$out/${u%@*}.show" 2>&1
    journalctl -b -o short-monotonic --no-pager -u "$u.service" >"$out/${u%@*}.log" 2>&1
done
journalctl -b -o short-monotonic --no-pager -u systemd-networkd.service >"$out/systemd-networkd.log" 2>&1
systemctl --failed --no-legend --plain >"$out/failed-units" 2>&1
ip -br addr >"$out/addr" 2>&1
ip -br link >>"$out/addr" 2>&1
if [ "$role" = master ]; then
    ctl member list -w json >"$out/members.json" 2>"$out/members.err"
    ctl endpoint status -w json >"$out/status.json" 2>"$out/status.err"
fi
mv "$out" "$d/out"
EOF
    chmod 0755 "$image/usr/local/sbin/cb-e2e-report"
    ln -sf /etc/systemd/system/cb-e2e-report.service \
        "$image/etc/systemd/system/multi-user.target.wants/cb-e2e-report.service"
}

# make_image NAME INVENTORY: $work/image-NAME, the tree of `clusterboot image build --format tree` with the
# join policy (the default), with the report unit.
make_image() {
    local image=$work/image-$1 inv=$2
    nspawn_image_build "$image" "$inv" || return 1
    # The join policy: the join secret, and no bundle, in the image.
    [ -s "$image/etc/cluster-config/join/join-secret" ] ||
        { echo "no join secret in the image" >>"$work/image-build.log"; return 1; }
    [ ! -e "$image/etc/cluster-config/secrets" ] ||
        { echo "a secrets bundle in a join-policy image" >>"$work/image-build.log"; return 1; }
    grep -q '"secret_policy": "join"' "$work/image-out/manifest.json" || return 1
    add_report "$image"
}
if make_ha_inventory && make_image ha "$work/inv-ha"; then
    ok "image: clusterboot image build --format tree (examples/ha, the join policy: the join secret only; components: $(
        python3 -c 'import json, sys; print(", ".join(c["name"] + " " + c["version"] for c in json.load(open(sys.argv[1]))["components"] if not c["source"].startswith("debian")) or "none")' \
            "$work/image-out/manifest.json")), the report unit"
else
    not_ok "image: clusterboot image build --format tree (examples/ha, the join policy: the join secret only), the report unit" \
        "$work/components.log" "$work/image-build.log"
    skip_rest "no image"
fi
if make_small_inventory && make_image small "$work/inv-small"; then
    ok "the small inventory (master-01, worker-01, worker-02 of examples/ha) validates; its image"
    small_ok=1
else
    not_ok "the small inventory (master-01, worker-01, worker-02 of examples/ha) validates; its image" \
        "$work/validate-small.log" "$work/image-build.log"
    small_ok=
fi
nspawn_probe "$work/image-ha"
nspawn_bridge
nspawn_node_storage "$work/inv-ha"
# The programs the image has decide which stages run (a stage whose program is missing is skipped).
has_prog() { [ -x "$work/image-ha$1" ]; }

# ---- machines and scenarios ----
root_of() { echo "$work/roots-${rootset[$1]}/$2"; } # SCENARIO MACHINE
rep() { echo "$work/$1/report-$2"; }               # SCENARIO MACHINE
nodes() { echo "${nodes_of[$1]}"; }                # SCENARIO
masters_in() { local m; for m in ${nodes_of[$1]}; do is_master "$m" && echo "$m"; done; } # SCENARIO
workers_in() { local m; for m in ${nodes_of[$1]}; do is_master "$m" || echo "$m"; done; } # SCENARIO

new_roots() { # SCENARIO [MACHINE...]: fresh copies of the scenario's image (all its nodes by default)
    local s=$1 m t0 ms
    shift
    ms=("$@")
    [ ${#ms[@]} -gt 0 ] || read -ra ms <<<"${nodes_of[$s]}"
    t0=$(date +%s)
    for m in "${ms[@]}"; do nspawn_new_root "$work/image-${image_of[$s]}" "$(root_of "$s" "$m")" "$m" || return 1; done
    note "$s: ${#ms[@]} copies of the image in $(($(date +%s) - t0)) s"
}
boot() { # SCENARIO MACHINE SETTLE [CONSOLE-LOG]
    local s=$1 m=$2 r
    r=$(root_of "$s" "$m")
    rm -rf "$r/var/lib/cb-e2e/out" "$r/var/lib/cb-e2e/out.tmp"
    printf 'settle=%s\nrole=%s\nmasters=%s\naddr=%s\n' "$3" "$(is_master "$m" && echo master || echo worker)" \
        "$(masters_in "$s" | wc -l)" "${ip[$m]}" >"$r/etc/cb-e2e.conf"
    nspawn_boot "$r" "$m" "${mac[$m]}" "${num[$m]}" "${4:-$work/$s/logs/$m.console}" || return 1
    echo "$m $(date +%s)" >>"$work/$s/logs/boot-times"
}
# pki_files ROOT: the node's PKI and secret files, a line each: sha256, mtime, path.
pki_files() {
    (cd "$1" && { find etc/kubernetes var/lib/kubelet/pki etc/mosquitto etc/ceph etc/cluster-config/secrets \
        etc/cluster-config/join -type f 2>/dev/null; find var/lib/ceph/mgr -type f -name keyring 2>/dev/null; } |
        LC_ALL=C sort | while read -r f; do
        printf '%s %s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$(stat -c %Y "$f")" "$f"
    done)
}
declare -A ends_by_power_cut=([s4]=1) # scenarios whose machines go by a power cut, not a shutdown
# Scenarios whose late checks change the nodes' files on purpose (6: master-01 taken out of the inventory
# rewrites ceph.conf): their list of PKI and secret files is taken before those checks, as their boot left it.
declare -A files_before_late=([s6]=1)
# collect SCENARIO: powers every container off (or cuts their power: ends_by_power_cut); the reports (or,
# without one, the journal), the state folder and a list of the node's PKI and secret files (sha256, mtime,
# path) into $work/SCENARIO/report-NODE.
collect() {
    local s=$1 m r o
    if [ -n "${ends_by_power_cut[$s]:-}" ]; then
        note "$s: ends by a power cut: every machine killed at once, no shutdown"
        nspawn_power_cut
    else
        nspawn_stop
    fi
    for m in $(nodes "$s"); do
        r=$(root_of "$s" "$m") o=$(rep "$s" "$m")
        rm -rf "$o"
        if [ -d "$r/var/lib/cb-e2e/out" ]; then
            cp -a "$r/var/lib/cb-e2e/out" "$o"
        else
            mkdir -p "$o"
            nspawn_journal "$r" "$o/journal-from-host.log" cluster-detect.service cluster-bootstrap.service \
                etcd.service clusterboot-join.service mosquitto.service "ceph-mon@$m.service" "ceph-mgr@$m.service" \
                coredns.service cb-e2e-report.service
        fi
        cp "$work/$s/logs/$m.console" "$o/console.log" 2>/dev/null
        # The Ceph daemons log to files, not the journal: their last lines, for what a check saw.
        for f in "$r"/var/log/ceph/ceph-mon.*.log "$r"/var/log/ceph/ceph-osd.*.log "$r"/var/log/ceph/ceph-mgr.*.log; do
            [ -f "$f" ] && tail -n 3000 "$f" >"$o/daemon-$(basename "$f")"
        done
        cp -a "$r/var/lib/cluster-state" "$o/state" 2>/dev/null
        cp "$r/etc/cluster-config/node-identity" "$o/node-identity" 2>/dev/null
        if [ -f "$work/$s/files-before-late-$m" ]; then
            mv "$work/$s/files-before-late-$m" "$o/files"
        else
            pki_files "$r" >"$o/files"
        fi
        # Any CA key anywhere on the node (a worker must have none).
        (cd "$r" && find . -xdev -type f -name '*ca.key' | LC_ALL=C sort) >"$o/ca-keys"
    done
}
# run_scenario SCENARIO LATE_NODE LATE [NODE...]: boots the NODEs in that order (default: the scenario's),
# and LATE_NODE (or "-") LATE seconds after them; waits for the reports; runs live_checks_SCENARIO if it
# exists and the cluster's checks (cluster_checks) while the containers run; collects.
run_scenario() {
    local s=$1 late_node=$2 delay=$3 t0 m rc=0 missing order settle=$((settle + ${settle_more[$1]:-0}))
    shift 3
    order=("$@")
    [ ${#order[@]} -gt 0 ] || read -ra order <<<"${nodes_of[$s]}"
    t0=$(date +%s)
    mkdir -p "$work/$s/logs"
    for m in "${order[@]}"; do
        [ "$m" = "$late_node" ] && continue
        boot "$s" "$m" $((settle + delay)) || rc=1
    done
    if [ "$late_node" != - ]; then
        sleep "$delay"
        boot "$s" "$late_node" "$settle" || rc=1
    fi
    [ "$rc" = 0 ] || note "$s: could not set up a veth pair"
    missing=$(nspawn_wait_file $((settle + 60)) var/lib/cb-e2e/out) || { note "$s: no report from$missing"; rc=1; }
    note "$s: reports after $(($(date +%s) - t0)) s"
    if declare -F "live_checks_$s" >/dev/null; then "live_checks_$s"; fi
    cluster_checks "$s"
    if [ -n "${files_before_late[$s]:-}" ]; then
        for m in $(nodes "$s"); do pki_files "$(root_of "$s" "$m")" >"$work/$s/files-before-late-$m"; done
    fi
    if declare -F "late_checks_$s" >/dev/null; then "late_checks_$s"; fi
    note "$s: checks done after $(($(date +%s) - t0)) s"
    collect "$s"
    note "$s: done after $(($(date +%s) - t0)) s"
    return $rc
}

# ---- the cluster's checks (lib-checks.sh: the main job's), on a scenario's running machines ----
check_keys=(kubernetes-nodes-ready pods-on-every-node pod-to-pod-across-nodes cluster-dns ceph-health-ok
    kafka-round-trip mqtt-tls-round-trip node-names-resolve)
checks_report() { # KEY TITLE RC OUTFILE: kept for cluster_points
    printf '%s\t%s\t%s\n' "$1" "$3" "$2" >>"$checks_dir/results"
}
cluster_checks() { # SCENARIO: into $work/SCENARIO/checks
    checks_init "$cb" "$work/inv-${image_of[$1]}" "$work/$1/checks" && checks_run
}
cluster_points() { # SCENARIO LABEL: a point per check of check_keys (8)
    local s=$1 l=$2 key line rc title
    for key in "${check_keys[@]}"; do
        line=$(awk -F'\t' -v k="$key" '$1 == k' "$work/$s/checks/results" 2>/dev/null | tail -n 1)
        if [ -n "$line" ]; then
            IFS=$'\t' read -r _ rc title <<<"$line"
            if [ "$rc" = 0 ]; then ok "$l: $key: $title"; else not_ok "$l: $key: $title" "$work/$s/checks/$key.out"; fi
        elif [[ $key == kubernetes-* || $key == pod* || $key == cluster-dns ]] &&
                [[ ,$components_without, == *,kubernetes,* ]]; then
            skip_points 1 "$l: $key: Kubernetes is not in the image (CLUSTERBOOT_HEAVY=0)"
        else
            not_ok "$l: $key: the check did not run (see the scenario's notes)"
        fi
    done
}

# ---- assertions on one scenario's reports ----
all_reported() { # SCENARIO
    local m bad=0
    for m in $(nodes "$1"); do
        if [ ! -f "$(rep "$1" "$m")/when" ]; then
            echo "$m: no report"; bad=1
        elif [ -f "$(rep "$1" "$m")/timeout" ]; then
            echo "$m: $(cat "$(rep "$1" "$m")/timeout")"; bad=1
            grep -h '^\[\|error\|warning' "$(rep "$1" "$m")/cluster-bootstrap.log" 2>/dev/null | tail -n 3 | sed 's/^/    /'
        fi
    done
    return $bad
}
show_is() { # SCENARIO MACHINE UNIT LINE...: `systemctl show` of UNIT in MACHINE's report has each LINE
    local f l
    f=$(rep "$1" "$2")/$3.show
    shift 3
    for l; do grep -qxF -- "$l" "$f" 2>/dev/null || { echo "$(basename "$(dirname "$f")"): ${f##*/} lacks $l: $(tr '\n' ' ' <"$f" 2>/dev/null)"; return 1; }; done
}
detected() { # SCENARIO: cluster-detect.service succeeded and found the node; its address on the NIC with its MAC
    local m bad=0
    for m in $(nodes "$1"); do
        show_is "$1" "$m" cluster-detect ActiveState=active Result=success || bad=1
        [ "$(cat "$(rep "$1" "$m")/node-identity" 2>/dev/null)" = "$m" ] ||
            { echo "$m: node-identity is '$(cat "$(rep "$1" "$m")/node-identity" 2>/dev/null)'"; bad=1; }
        grep -Eq "^$tag${num[$m]}(@[^ ]*)? +UP +${ip[$m]}/24( |$)" "$(rep "$1" "$m")/addr" 2>/dev/null ||
            { echo "$m: no ${ip[$m]}/24 on $tag${num[$m]}: $(tr '\n' ';' <"$(rep "$1" "$m")/addr" 2>/dev/null)"; bad=1; }
    done
    return $bad
}
states() { # SCENARIO: bootstrap-state: master-01 bootstrapped, every other node joined
    local m bad=0 want got
    for m in $(nodes "$1"); do
        want=joined
        [ "$m" = master-01 ] && want=bootstrapped
        got=$(cat "$(rep "$1" "$m")/state/bootstrap-state" 2>/dev/null)
        [ "$got" = "$want" ] || { echo "$m: bootstrap-state '$got', want $want"; bad=1; }
    done
    return $bad
}
units_active() { # SCENARIO: cluster-bootstrap.service active (exited) everywhere, etcd.service running on masters
    local m bad=0
    for m in $(nodes "$1"); do
        show_is "$1" "$m" cluster-bootstrap ActiveState=active SubState=exited Result=success || bad=1
        if is_master "$m"; then show_is "$1" "$m" etcd ActiveState=active SubState=running Result=success || bad=1; fi
    done
    return $bad
}
# members SCENARIO: from every master, all the scenario's masters as voting members (no learner) with
# https peer URLs on their addresses, the same member ids from each, one cluster id; writes
# "CLUSTER_ID ID,ID,..." to $work/SCENARIO/cluster and "NAME ID" lines to $work/SCENARIO/member-ids.
members() {
    local m args=()
    for m in $(masters_in "$1"); do args+=("$m=${ip[$m]}"); done
    python3 - "$work/$1" "${args[@]}" <<'EOF'
import json, sys
d = sys.argv[1]
masters = dict(a.split("=", 1) for a in sys.argv[2:])
bad, id_sets, cluster_ids, names = [], {}, {}, {}
for m in masters:
    try:
        with open(f"{d}/report-{m}/members.json") as f:
            ml = json.load(f)
    except (OSError, ValueError) as e:
        bad.append(f"{m}: no member list ({e})")
        continue
    mem = ml.get("members", [])
    got = sorted(x.get("name", "") for x in mem)
    if got != sorted(masters):
        bad.append(f"{m}: members {got}")
    for x in mem:
        if x.get("isLearner"):
            bad.append(f"{m}: {x.get('name') or hex(x['ID'])} is a learner")
        if x.get("name") in masters and x.get("peerURLs") != [f"https://{masters[x['name']]}:2380"]:
            bad.append(f"{m}: {x['name']} has peer URLs {x.get('peerURLs')}")
        if x.get("name") in masters and x.get("clientURLs") != [f"https://{masters[x['name']]}:2379"]:
            bad.append(f"{m}: {x['name']} has client URLs {x.get('clientURLs')}")
        names[x["ID"]] = x.get("name", "")
    id_sets[m] = sorted(x["ID"] for x in mem)
    cluster_ids[m] = ml["header"]["cluster_id"]
    try:
        with open(f"{d}/report-{m}/status.json") as f:
            st = json.load(f)
        cluster_ids[m + " (endpoint status)"] = st[0]["Status"]["header"]["cluster_id"]
    except (OSError, ValueError, LookupError) as e:
        bad.append(f"{m}: no endpoint status ({e})")
if len({tuple(v) for v in id_sets.values()}) > 1:
    bad.append(f"different member ids: {id_sets}")
if len(set(cluster_ids.values())) != 1:
    bad.append(f"cluster ids: { {k: hex(v) for k, v in cluster_ids.items()} }")
if bad:
    print("\n".join(bad))
    sys.exit(1)
cid = next(iter(cluster_ids.values()))
ids = next(iter(id_sets.values()))
with open(f"{d}/cluster", "w") as f:
    f.write(f"{cid:x} {','.join(f'{i:x}' for i in ids)}\n")
with open(f"{d}/member-ids", "w") as f:
    for i in ids:
        f.write(f"{names[i]} {i:x}\n")
print(f"cluster {cid:x}, members {', '.join(f'{names[i]} {i:x}' for i in ids)}")
EOF
}
# The secrets bundle: master-01 made it, every other master received it through a join service, all
# masters hold the same one.
bundles() { # SCENARIO
    local m bad=0 b1 b
    b1=$(awk '$3 ~ /^etc\/cluster-config\/secrets\// { print $1, $3 }' "$(rep "$1" master-01)/files" 2>/dev/null)
    [ -n "$b1" ] || { echo "master-01 has no secrets bundle"; bad=1; }
    for m in $(masters_in "$1"); do
        b=$(awk '$3 ~ /^etc\/cluster-config\/secrets\// { print $1, $3 }' "$(rep "$1" "$m")/files" 2>/dev/null)
        [ "$b" = "$b1" ] || { echo "$m: its bundle differs from master-01's:"; diff <(echo "$b1") <(echo "$b") | head -n 5; bad=1; }
        if [ "$m" = master-01 ]; then
            log_has "$1" "$m" cluster-bootstrap "made the cluster's secrets bundle" || bad=1
        else
            log_has "$1" "$m" cluster-bootstrap "received the secrets bundle from https://10\.20\.0\.1[0-9]:9443" || bad=1
        fi
    done
    return $bad
}
# The workers: certificates through a join service (keys made here), no bundle, no CA key, a kubelet
# certificate the cluster's CA (master-01's bundle) signed. LOG: the journal to read (default
# cluster-bootstrap, of the last boot).
workers_joined() { # SCENARIO [LOG]
    local m bad=0 r o ca log=${2:-cluster-bootstrap}
    ca=$(root_of "$1" master-01)/etc/cluster-config/secrets/kubernetes/ca.crt
    for m in $(workers_in "$1"); do
        r=$(root_of "$1" "$m") o=$(rep "$1" "$m")
        log_has "$1" "$m" "$log" "PKI files issued through the join service of https://10\.20\.0\.1[0-9]:9443" || bad=1
        [ ! -e "$r/etc/cluster-config/secrets" ] || { echo "$m: has /etc/cluster-config/secrets"; bad=1; }
        [ ! -s "$o/ca-keys" ] || { echo "$m: CA keys: $(tr '\n' ' ' <"$o/ca-keys")"; bad=1; }
        if ! openssl verify -CAfile "$ca" "$r/var/lib/kubelet/pki/kubelet.crt" >/dev/null 2>&1; then
            echo "$m: /var/lib/kubelet/pki/kubelet.crt does not verify against master-01's CA"
            openssl verify -CAfile "$ca" "$r/var/lib/kubelet/pki/kubelet.crt" 2>&1 | head -n 2 | sed 's/^/    /'
            bad=1
        fi
        cmp -s "$ca" "$r/etc/kubernetes/pki/ca.crt" || { echo "$m: /etc/kubernetes/pki/ca.crt is not the cluster's CA"; bad=1; }
    done
    return $bad
}
# The stages each node must have done (a step marker each): those of its roles whose program the image has.
kube_steps() { # the stages of every kubelet node (all six)
    has_prog /usr/local/bin/kubelet && echo kubelet kube-proxy
    has_prog /usr/local/bin/flanneld && echo pod-network
}
expected_steps() { # SCENARIO MACHINE
    if is_master "$2"; then
        echo secrets certificates etcd-member etcd-ready join-service
        has_prog /usr/local/bin/kube-apiserver && echo kube-apiserver kube-controllers kube-bootstrap mark-control-plane
        kube_steps
        has_prog /usr/bin/ceph-mon && echo ceph-mon
        has_prog /usr/bin/ceph-mgr && echo ceph-mgr
        is_dns_server "$2" && has_prog /usr/local/bin/coredns && echo dns
    else
        echo certificates
        kube_steps
        [ "$2" = worker-01 ] && has_prog /usr/sbin/mosquitto && echo mqtt
        # The OSDs of its node file, on the files nspawn_boot gives it at those devices.
        [ -n "${nsdevs[$2]:-}" ] && has_prog /usr/bin/ceph-osd && echo ceph-osd
        is_kafka_broker "$2" && has_prog /opt/kafka/bin/kafka-server-start.sh && echo kafka
        echo joined
    fi
}
steps() { # SCENARIO
    local m st bad=0 have
    for m in $(nodes "$1"); do
        for st in $(expected_steps "$1" "$m"); do
            [ -s "$(rep "$1" "$m")/state/steps/$st" ] || { echo "$m: no step marker $st"; bad=1; }
        done
        have=$(find "$(rep "$1" "$m")/state/steps" -type f -printf '%f\n' 2>/dev/null | LC_ALL=C sort | tr '\n' ' ')
        echo "$m: $have"
    done
    return $bad
}
log_has() { # SCENARIO MACHINE UNIT ERE: a line of UNIT's journal in MACHINE's report matches
    grep -Eq -- "$4" "$(rep "$1" "$2")/$3.log" 2>/dev/null || { echo "$2: no '$4' in $3's journal"; return 1; }
}
# no_failed_attempts SCENARIO UNITS [ERE]: no process of these units (space-separated, as named in the
# reports: ceph-mon is ceph-mon@NODE, ceph-mgr ceph-mgr@NODE) failed but for exit 75 (and for lines matching ERE: the kills of
# scenario 5).
bootstrap_units="cluster-bootstrap etcd clusterboot-join clusterboot-sync"
service_units="mosquitto ceph-mon ceph-mgr coredns kafka"
no_failed_attempts() {
    local m r bad=0 l u n
    for m in $(nodes "$1"); do
        r=$(rep "$1" "$m")
        for u in $2; do
            l=$(grep -nE "code=(exited, status=[1-9]|killed|dumped)|Failed with result '(timeout|signal|core-dump)" \
                "$r/$u.log" 2>/dev/null | grep -v 'status=75/' | grep -Ev -- "${3:-^$}" | head -n 3)
            [ -n "$l" ] || continue
            bad=1
            # The first failure with the lines before it: what the process said before it exited.
            n=${l%%:*}
            echo "$m $u.service:"
            sed -n "$((n > 12 ? n - 12 : 1)),${n}p" "$r/$u.log" | sed 's/^/  /'
            [ "$(printf '%s\n' "$l" | wc -l)" -lt 2 ] || printf '%s\n' "$l" | tail -n +2 | cut -d: -f2- | sed 's/^/  /'
        done
    done
    return $bad
}
# What systemd saw on the way, for the record: restarts, failed attempts, exits 75.
record() { # SCENARIO
    local m r f t
    # The scenario's bundle (master-01's), for no_secret_anywhere once its roots are gone.
    cp -a "$(root_of "$1" master-01)/etc/cluster-config/secrets" "$work/$1/bundle" 2>/dev/null
    for m in $(nodes "$1"); do
        r=$(rep "$1" "$m")
        f=$(cat "$r/etcd.log" "$r/cluster-bootstrap.log" 2>/dev/null | grep -cE 'code=(exited, status=[1-9]|killed|dumped)')
        t=$(cat "$r/etcd.log" "$r/cluster-bootstrap.log" 2>/dev/null | grep -c 'status=75/')
        note "$1 $m: cluster-bootstrap.service NRestarts $(sed -n 's/^NRestarts=//p' "$r/cluster-bootstrap.show" 2>/dev/null)," \
            "etcd.service NRestarts $(sed -n 's/^NRestarts=//p' "$r/etcd.show" 2>/dev/null)," \
            "$f failed processes ($t of them exit 75); reported $(cut -d' ' -f2 "$r/when" 2>/dev/null) s after its boot;" \
            "failed units: $(awk '{ print $1 }' "$r/failed-units" 2>/dev/null | tr '\n' ' ')"
    done
}
# The points every scenario that forms a cluster has (7, or 6 with "nofail": the kills of 5 are checked apart).
scenario_points() { # SCENARIO LABEL [nofail]
    local s=$1 l=$2 m1
    m1=$(rep "$s" master-01)
    check "$l: cluster-detect.service found each node, networkd gave it its address" detected "$s" \
        -- "$m1/cluster-detect.log"
    check "$l: bootstrap-state: master-01 bootstrapped, every other node joined" states "$s" \
        -- "$(rep "$s" worker-01)/cluster-bootstrap.log" "$m1/cluster-bootstrap.log"
    check "$l: cluster-bootstrap.service active (exited) on every node, etcd.service running on the masters" \
        units_active "$s" -- "$m1/cluster-bootstrap.log" "$(rep "$s" worker-01)/cluster-bootstrap.log"
    check "$l: from every master: all masters voting members with https peer URLs, same ids, one cluster id" \
        members "$s" -- "$m1/members.err" "$m1/status.err"
    check "$l: each node's step markers (its roles' stages, less those whose program the image lacks)" steps "$s"
    if [ "${3-}" != nofail ]; then
        check "$l: no failed attempt of cluster-bootstrap, etcd, clusterboot-join or clusterboot-sync (but exit 75)" \
            no_failed_attempts "$s" "$bootstrap_units"
    fi
    # The role targets (enabled at first boot) start these at boot too; under the join policy a node gets
    # their files (passwd, certificates, keyrings) only in cluster-bootstrap's stages.
    check "$l: no failed start of mosquitto, ceph-mon@NODE, ceph-mgr@NODE, coredns or kafka (started by the role targets before their stage?)" \
        no_failed_attempts "$s" "$service_units" -- "$(rep "$s" worker-01)/mosquitto.log" "$(rep "$s" master-01)/ceph-mon.log" \
        "$(rep "$s" master-01)/ceph-mgr.log" "$(rep "$s" master-01)/coredns.log" "$(rep "$s" worker-01)/kafka.log"
}

# ---- scenario 1 (and 7): examples/ha, six nodes at once ----
mqtt_password() { # the admin user's password in master-01's bundle, read on the host
    awk -F: '$1 == "admin" { print substr($0, length($1) + 2); exit }' \
        "$(root_of s1 master-01)/etc/cluster-config/secrets/mqtt/credentials" 2>/dev/null
}
# Scenario 7, while the containers of 1 run: results to $work/s7/*. (The round trips over MQTT and Kafka and
# the names through CoreDNS are the cluster's checks, which every scenario runs.)
live_checks_s1() {
    local pw w=$work/s7 rc
    mkdir -p "$w"
    wanted 7 || return 0
    pw=$(mqtt_password)
    nspawn_exec worker-01 mosquitto_pub -h 10.20.0.21 -p 1883 -u admin -P "not-$pw" -t cb-e2e/t -m x \
        >"$w/mqtt-bad.out" 2>&1
    echo "rc $?" >>"$w/mqtt-bad.out"
    nspawn_exec worker-01 mosquitto_pub -h 10.20.0.21 -p 1883 -t cb-e2e/t -m x >"$w/mqtt-anon.out" 2>&1
    echo "rc $?" >>"$w/mqtt-anon.out"
    # ceph -s with the admin keyring on master-01: the monitors may take a moment for their quorum (at
    # most 90 s more).
    local deadline=$(($(date +%s) + 90))
    while :; do
        nspawn_exec master-01 timeout 25 ceph --connect-timeout 20 -s -f json >"$w/ceph.json" 2>"$w/ceph.err"
        rc=$?
        python3 -c 'import json, sys; sys.exit(len(json.load(open(sys.argv[1])).get("quorum_names", [])) != 3)' \
            "$w/ceph.json" 2>/dev/null && break
        [ "$(date +%s)" -lt "$deadline" ] || break
        sleep 5
    done
    echo "rc $rc" >>"$w/ceph.err"
    # The managers: each master's ceph-mgr stage waited until its manager was the active one or a standby,
    # so all three are there; `ceph -s` may still say "starting" for a moment (at most 60 s more).
    deadline=$(($(date +%s) + 60))
    while :; do
        nspawn_exec master-01 timeout 25 ceph --connect-timeout 20 -s >"$w/ceph-s.txt" 2>&1
        ceph_mgrs >/dev/null && break
        [ "$(date +%s)" -lt "$deadline" ] || break
        sleep 5
    done
    # Kafka: the KRaft quorum as a client sees it, with the image's own tools (image/kafka/bin).
    if has_prog /opt/kafka/bin/kafka-server-start.sh; then
        nspawn_exec worker-01 timeout 60 /opt/kafka/bin/kafka-metadata-quorum.sh \
            --bootstrap-server "${ip[worker-01]}:$kafka_port" describe --status >"$w/kafka-quorum.out" 2>&1
        echo "rc $?" >>"$w/kafka-quorum.out"
    fi
}
# ceph -s (text) on master-01: "mgr: NAME(active, since ...), standbys: NAME, NAME", the three masters.
ceph_mgrs() {
    local line active standbys
    line=$(grep -E '^ *mgr: ' "$work/s7/ceph-s.txt" 2>/dev/null)
    [[ $line =~ mgr:\ (master-0[1-3])\(active,\ since\ [^\)]+\),\ standbys:\ (.*)$ ]] ||
        { echo "no 'mgr: NAME(active, since ...), standbys: ...' in ceph -s:"; sed 's/^/  /' "$work/s7/ceph-s.txt" 2>/dev/null | tail -n 20; return 1; }
    active=${BASH_REMATCH[1]} standbys=$(tr -d ' ' <<<"${BASH_REMATCH[2]}" | tr ',' '\n' | LC_ALL=C sort | paste -sd, -)
    echo "${line#"${line%%[! ]*}"}"
    [ "$standbys" = "$(printf '%s\n' master-01 master-02 master-03 | grep -vx "$active" | paste -sd, -)" ] ||
        { echo "standbys '$standbys', want the other two masters"; return 1; }
}
kafka_quorum() { # every broker of the inventory is a voter of the KRaft quorum, and there is a leader
    python3 - "$work/s7/kafka-quorum.out" "$kafka_voters" <<'EOF' || { tail -n 15 "$work/s7/kafka-quorum.out"; return 1; }
import re, sys
text, want = open(sys.argv[1]).read(), sys.argv[2]
voters = re.search(r"^CurrentVoters:\s*\[([0-9,]*)\]", text, re.M)
leader = re.search(r"^LeaderId:\s*([0-9]+)", text, re.M)
got = ",".join(sorted(voters.group(1).split(","))) if voters else None
print(f"voters [{got}], leader {leader.group(1) if leader else None}; want voters [{want}]")
sys.exit(not (got == want and leader))
EOF
}
mqtt_refused() {
    local f bad=0
    for f in mqtt-bad mqtt-anon; do
        if grep -qx 'rc 0' "$work/s7/$f.out" || ! grep -qi 'not authori[sz]ed' "$work/s7/$f.out"; then
            echo "$f:"; sed 's/^/  /' "$work/s7/$f.out"; bad=1
        fi
    done
    return $bad
}
ceph_quorum() {
    python3 - "$work/s7/ceph.json" <<'EOF' || { cat "$work/s7/ceph.err" "$work/s7/ceph-s.txt" 2>/dev/null | tail -n 15; return 1; }
import json, sys
try:
    st = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print(f"no JSON from ceph -s ({e})")
    sys.exit(1)
q = sorted(st.get("quorum_names", []))
print(f"fsid {st.get('fsid')}, quorum {q}, health {st.get('health', {}).get('status')}")
sys.exit(q != ["master-01", "master-02", "master-03"])
EOF
}

# Certificates that renew themselves, after the cluster's checks of scenario 1 (so that the restarts cannot
# disturb them): on master-03, which received the bundle, clusterboot-renew.service (what its timer starts)
# with nothing due, then after `pki renew` made every certificate new (as a third of their life left would);
# on worker-01, which has no bundle under the join policy, the same through a master's join service by the
# kubelet's client certificate. Results to $work/s1/renew/.
renew_run() { # MACHINE NAME: start clusterboot-renew.service, its result and its journal of this run into NAME.*
    local w=$work/s1/renew since
    # journalctl --since has whole seconds: the last run's lines of this second are not this run's.
    sleep 1
    since=$(nspawn_exec "$1" date '+%Y-%m-%d %H:%M:%S')
    nspawn_exec "$1" systemctl start clusterboot-renew.service >"$w/$2.start" 2>&1
    echo "rc $?" >>"$w/$2.start"
    nspawn_exec "$1" systemctl show -p Result -p ConditionResult clusterboot-renew.service >>"$w/$2.start"
    nspawn_exec "$1" journalctl -u clusterboot-renew.service --since "$since" -o cat --no-pager >"$w/$2.log" 2>&1
}
units_started() { # MACHINE: "UNIT STATE SINCE-EPOCH" of the units that read PKI files
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec "$1" sh -c 'for u in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet flanneld \
            kube-proxy coredns mosquitto; do
        s=$(systemctl show -p ActiveState --value $u.service)
        t=$(systemctl show -p ActiveEnterTimestamp --value $u.service)
        echo "$u.service $s $(date -d "$t" +%s 2>/dev/null || echo 0)"
    done'
}
# restarted_since FILE-PREFIX AT-FILE WANT...: each unit of WANT is active and became so after the renewal
# (restarted by the service, or, as a controller manager that lost its leader lease when its API server
# restarted, by systemd), and those the service restarted are in WANT's order.
restarted_since() {
    local f=$1 u state since at got
    at=$(cat "$2")
    shift 2
    cat "$f.units"
    for u in "$@"; do
        read -r _ state since < <(grep "^$u " "$f.units")
        [ "$state" = active ] && [ "${since:-0}" -ge "$at" ] || { echo "$u: $state since $since, not after $at"; return 1; }
    done
    got=$(sed -n 's/^  restarted //p' "$f.log" | paste -sd' ')
    [ "$(printf '%s\n' "$@" | grep -xF -f <(tr ' ' '\n' <<<"$got") | paste -sd' ')" = "$got" ] ||
        { echo "restarted in this order: '$got'; want a part of '$*' in its order"; return 1; }
}
late_checks_s1() {
    local w=$work/s1/renew m
    mkdir -p "$w"
    # What status says of each node's certificates (pki check's rule), before anything is renewed.
    for m in "${all[@]}"; do
        nspawn_exec "$m" clusterboot status >"$w/status-$m" 2>&1
        echo "rc $?" >>"$w/status-$m"
    done
    for m in master-03 worker-01; do
        nspawn_exec "$m" systemctl is-active clusterboot-renew.timer >"$w/timer-$m.out" 2>&1
        nspawn_exec "$m" systemctl list-timers --all --no-pager clusterboot-renew.timer >>"$w/timer-$m.out" 2>&1
    done
    renew_run master-03 nothing-due
    nspawn_exec master-03 openssl x509 -noout -serial -in /etc/kubernetes/pki/apiserver.crt >"$w/serial-before" 2>&1
    nspawn_exec master-03 date +%s >"$w/renewed-at"
    nspawn_exec master-03 clusterboot pki renew >"$w/pki-renew.out" 2>&1
    renew_run master-03 after-renew
    units_started master-03 >"$w/after-renew.units"
    renew_run master-03 again
    # What master-03's API server and etcd present now, and what the files say.
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec master-03 sh -c 'openssl x509 -noout -serial -in /etc/kubernetes/pki/apiserver.crt
        echo | openssl s_client -connect "$1:6443" 2>/dev/null | openssl x509 -noout -serial
        openssl x509 -noout -serial -in /etc/kubernetes/pki/etcd/server.crt
        echo | openssl s_client -connect "$1:2379" -cert /etc/kubernetes/pki/etcd/healthcheck-client.crt \
            -key /etc/kubernetes/pki/etcd/healthcheck-client.key 2>/dev/null | openssl x509 -noout -serial' \
        sh "${ip[master-03]}" >"$w/serials" 2>&1
    nspawn_exec master-03 etcdctl --endpoints="https://${ip[master-03]}:2379" --cacert=/etc/kubernetes/pki/etcd/ca.crt \
        --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key \
        endpoint health >"$w/etcd-health" 2>&1
    # worker-01 (the join policy: no bundle) through a master's join service, by its kubelet's client certificate.
    renew_run worker-01 worker-nothing-due
    nspawn_exec worker-01 clusterboot pki renew >"$w/worker-pki-renew.out" 2>&1
    echo "rc $?" >>"$w/worker-pki-renew.out"
    nspawn_exec worker-01 date +%s >"$w/worker-renewed-at"
    renew_run worker-01 worker-after-renew
    units_started worker-01 >"$w/worker-after-renew.units"
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec worker-01 sh -c 'openssl x509 -noout -serial -in /etc/mosquitto/certs/server.crt
        echo | openssl s_client -connect "$1:$2" 2>/dev/null | openssl x509 -noout -serial' \
        sh "${ip[worker-01]}" "$(checks_plan_get 'd["mqtt"]["tls_port"]')" >"$w/worker-serials" 2>&1
    # The node asks the masters from a random one on (join_node_urls): each master's join service's journal.
    for m in master-01 master-02 master-03; do
        nspawn_exec "$m" journalctl -u clusterboot-join.service -o cat --no-pager >"$w/join-$m.log" 2>&1
    done
    sync_s1
}
# Day two, after the renewal: `apply` on master-01 of the inventory with worker-04 added (a worker with no
# machine) and worker-01's labels changed (its zone, and a label example.com/team added) and a taint given
# (example.com/maintenance=yes:PreferNoSchedule, which no pod of the checks minds), then
# clusterboot-sync.service (what its timer starts) on every node; then the inventory as it was, applied and
# synced the same way. Results to $work/s1/sync/.
sync_run() { # MACHINE NAME: start clusterboot-sync.service; its result and its journal of this run into NAME.*
    local w=$work/s1/sync since
    sleep 1 # journalctl --since has whole seconds
    since=$(nspawn_exec "$1" date '+%Y-%m-%d %H:%M:%S')
    nspawn_exec "$1" systemctl start clusterboot-sync.service >"$w/$2.start" 2>&1
    echo "rc $?" >>"$w/$2.start"
    nspawn_exec "$1" systemctl show -p Result -p ConditionResult clusterboot-sync.service >>"$w/$2.start"
    nspawn_exec "$1" journalctl -u clusterboot-sync.service --since "$since" -o cat --no-pager >"$w/$2.log" 2>&1
    nspawn_exec "$1" cat /var/lib/cluster-state/inventory-version >>"$w/$2.start" 2>&1
    nspawn_exec "$1" grep worker-04 /etc/hosts >"$w/$2.hosts" 2>&1
}
sync_round() { # ROUND: every node's sync, then what CoreDNS on master-01 says of worker-04 (after its hosts
    # plugin's 5 s reload)
    local m
    for m in "${all[@]}"; do
        units_started "$m" >"$work/s1/sync/$1-$m.before"
        sync_run "$m" "$1-$m"
        units_started "$m" >"$work/s1/sync/$1-$m.after"
    done
    sleep 6
    checks_kubectl get node worker-01 -o jsonpath='{.metadata.labels.example\.com/team}' >"$work/s1/sync/$1.team" 2>&1
    checks_kubectl get node worker-01 -o jsonpath='{.spec.taints}' >"$work/s1/sync/$1.taints" 2>&1
    nspawn_netexec worker-02 dig @"${ip[master-01]}" +time=3 +tries=2 +short "worker-04.$(checks_plan_get 'd["dns"]["zone"]')" A \
        >"$work/s1/sync/$1.dig" 2>&1
    for m in "${all[@]}"; do sync_run "$m" "$1-again-$m"; done
}
sync_s1() {
    local w=$work/s1/sync m
    mkdir -p "$w"
    # The timers would run the same service at a moment of their own (5 minutes after boot): here each run
    # is the test's. Started again at the end.
    for m in "${all[@]}"; do nspawn_exec "$m" systemctl stop clusterboot-sync.timer >>"$w/timers" 2>&1; done
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec master-01 sh -c 'rm -rf /tmp/inv-new && mkdir /tmp/inv-new && cp -r /etc/cluster-config/cluster.yaml \
            /etc/cluster-config/nodes /etc/cluster-config/services /tmp/inv-new/ &&
        printf "  - name: worker-04\n    ip: 10.20.0.24\n    roles: [worker]\n" >>/tmp/inv-new/cluster.yaml &&
        sed -i -e "s/zone: zone-1/zone: zone-9/" -e "/zone: zone-9/a\\    example.com/team: blue" \
            /tmp/inv-new/nodes/worker-01.yaml &&
        echo "  taints: [\"example.com/maintenance=yes:PreferNoSchedule\"]" >>/tmp/inv-new/nodes/worker-01.yaml' \
        >"$w/apply-1.out" 2>&1
    nspawn_exec master-01 clusterboot apply --inventory /tmp/inv-new >>"$w/apply-1.out" 2>&1
    echo "rc $?" >>"$w/apply-1.out"
    sync_round added
    # Back to the inventory of the image (as version 2): worker-04 goes, the label comes back.
    nspawn_exec master-01 sh -c 'rm -rf /tmp/inv-orig && mkdir /tmp/inv-orig && cp -r /tmp/inv-new/. /tmp/inv-orig/ &&
        sed -i "/name: worker-04/,+2d" /tmp/inv-orig/cluster.yaml &&
        sed -i -e "s/zone: zone-9/zone: zone-1/" -e "/example.com\/team/d" -e "/example.com\/maintenance/d" \
            /tmp/inv-orig/nodes/worker-01.yaml' \
        >"$w/apply-2.out" 2>&1
    nspawn_exec master-01 clusterboot apply --inventory /tmp/inv-orig >>"$w/apply-2.out" 2>&1
    echo "rc $?" >>"$w/apply-2.out"
    sync_round removed
    for m in "${all[@]}"; do nspawn_exec "$m" systemctl start clusterboot-sync.timer >>"$w/timers" 2>&1; done
}
# sync_took ROUND VERSION HOSTS-HAS-WORKER-04 TEAM: every node took the version (success, recorded), its
# /etc/hosts has worker-04 or not, CoreDNS answers for it or not; only worker-01's kubelet restarted (its labels
# are kubelet arguments), every other service kept running; worker-01's sync labelled its Node: the label
# example.com/team is TEAM ("" removed; the kubelet sets no such label itself, unlike the zone it reconciles
# at its restart); a master's sync gave Node worker-01 the taint or took it away (TAINT yes/no: the kubelet
# registered it long before, and may not change its own taints); a second run writes, restarts and patches
# nothing.
sync_took() {
    local r=$1 v=$2 has=$3 team=$4 taint=$5 w=$work/s1/sync m bad=0 u state since before want_patch
    for m in "${all[@]}"; do
        grep -qx 'rc 0' "$w/$r-$m.start" && grep -qx 'Result=success' "$w/$r-$m.start" && grep -qx "$v" "$w/$r-$m.start" ||
            { echo "$m:"; cat "$w/$r-$m.start" "$w/$r-$m.log"; bad=1; continue; }
        if [ "$has" = yes ]; then [ -s "$w/$r-$m.hosts" ]; else [ ! -s "$w/$r-$m.hosts" ]; fi ||
            { echo "$m: /etc/hosts has worker-04: '$(cat "$w/$r-$m.hosts")', want $has"; bad=1; }
        while read -r u state since; do
            before=$(awk -v u="$u" '$1 == u { print $3 }' "$w/$r-$m.before")
            if [ "$m/$u" = worker-01/kubelet.service ]; then
                grep -q "restarted kubelet.service" "$w/$r-$m.log" || { echo "$m: the kubelet did not restart"; bad=1; }
            elif [ "$state" = active ] && [ "$since" != "$before" ]; then
                echo "$m: $u restarted ($before, now $since)"; bad=1
            fi
        done <"$w/$r-$m.after"
        grep -qE "^$m: [0-9]+ files: 0 created, 0 updated" "$w/$r-again-$m.log" && ! grep -q restarted "$w/$r-again-$m.log" &&
            ! grep -q labelled "$w/$r-again-$m.log" && ! grep -q "taints of Node" "$w/$r-again-$m.log" ||
            { echo "$m: a second run:"; cat "$w/$r-again-$m.log"; bad=1; }
    done
    echo "CoreDNS on master-01 for worker-04: '$(cat "$w/$r.dig")'; Node worker-01's example.com/team: '$(cat "$w/$r.team")'"
    if [ "$has" = yes ]; then grep -qx 10.20.0.24 "$w/$r.dig"; else ! grep -q 10.20.0.24 "$w/$r.dig"; fi || bad=1
    grep "labelled Node worker-01" "$w/$r-worker-01.log"
    [ "$(cat "$w/$r.team")" = "$team" ] || { echo "Node worker-01's example.com/team is not '$team'"; bad=1; }
    echo "Node worker-01's taints: '$(cat "$w/$r.taints")'"
    grep -h "taints of Node worker-01" "$w/$r"-master-0?.log
    if [ "$taint" = yes ]; then grep -q '"key":"example.com/maintenance"' "$w/$r.taints"; else ! grep -q 'example.com/maintenance' "$w/$r.taints"; fi ||
        { echo "Node worker-01's taint example.com/maintenance is not as it should be ($taint)"; bad=1; }
    grep -q "taints of Node worker-01: .*example.com/maintenance" "$w/$r"-master-0?.log || [ "$taint" = no ] ||
        { echo "no master's sync gave Node worker-01 its taint"; bad=1; }
    # Only sync takes a label away: the kubelet never does.
    [ -n "$team" ] || grep -q 'labelled Node worker-01: {.*"example.com/team":null' "$w/$r-worker-01.log" ||
        { echo "sync did not remove example.com/team from Node worker-01"; bad=1; }
    return $bad
}
apply_stored() { # FILE VERSION
    cat "$work/s1/sync/$1"
    grep -qx 'rc 0' "$work/s1/sync/$1" && grep -q "stored in etcd as version $2 (/clusterboot/inventory)" "$work/s1/sync/$1"
}
statuses_clean() { # every node's status: its certificates without an error or a warning, exit 0
    local m bad=0
    for m in "${all[@]}"; do
        grep -E '^certificates:' "$work/s1/renew/status-$m" | sed "s/^/$m: /"
        grep -qE '^certificates: +[0-9]+ PKI files, 0 errors, 0 warnings$' "$work/s1/renew/status-$m" &&
            grep -qx 'rc 0' "$work/s1/renew/status-$m" || { tail -n 5 "$work/s1/renew/status-$m"; bad=1; }
    done
    return $bad
}
renew_timers() { # the timer is active on a master and on a worker
    local m bad=0
    for m in master-03 worker-01; do
        head -n 1 "$work/s1/renew/timer-$m.out" | grep -qx active || { echo "$m:"; sed 's/^/  /' "$work/s1/renew/timer-$m.out"; bad=1; }
    done
    return $bad
}
renew_nothing_due() {
    local f=$work/s1/renew/nothing-due
    cat "$f.start" "$f.log"
    grep -qx 'rc 0' "$f.start" && grep -qx 'Result=success' "$f.start" && grep -q 'master-03: [0-9]* PKI files, 0 written' "$f.log" &&
        ! grep -q 'restarted ' "$f.log"
}
# After pki renew: every reader of master-03's files (master and ceph-mon: no CoreDNS, no mosquitto) restarted in
# order, each serving the new certificate; then nothing.
renew_restarts() {
    local w=$work/s1/renew want="etcd.service kube-apiserver.service kube-controller-manager.service kubelet.service kube-scheduler.service flanneld.service kube-proxy.service"
    cat "$w/after-renew.start" "$w/after-renew.log" "$w/serials" "$w/etcd-health"
    # shellcheck disable=SC2086 # a list of words
    restarted_since "$w/after-renew" "$w/renewed-at" $want || return 1
    grep -qx 'rc 0' "$w/after-renew.start" && grep -qx 'Result=success' "$w/after-renew.start" || return 1
    # The API server and etcd present the new certificates (one serial per pair of lines), not the old one.
    [ "$(sed -n 1p "$w/serials")" = "$(sed -n 2p "$w/serials")" ] && [ "$(sed -n 3p "$w/serials")" = "$(sed -n 4p "$w/serials")" ] &&
        [ "$(sed -n 1p "$w/serials")" != "$(cat "$w/serial-before")" ] && grep -q 'is healthy' "$w/etcd-health" ||
        { echo "the served certificates are not the renewed ones"; return 1; }
    echo "--- a second run:"
    cat "$w/again.log"
    grep -qx 'rc 0' "$w/again.start" && ! grep -q 'restarted ' "$w/again.log"
}
renew_worker() { # through the join service, by the kubelet's client certificate: nothing, then after pki renew
    local w=$work/s1/renew
    cat "$w/worker-nothing-due.start" "$w/worker-nothing-due.log"
    grep -qx 'rc 0' "$w/worker-nothing-due.start" && grep -q 'no certificate is due' "$w/worker-nothing-due.log" &&
        ! grep -q 'restarted ' "$w/worker-nothing-due.log" || return 1
    echo "--- after pki renew:"
    cat "$w/worker-pki-renew.out" "$w/worker-after-renew.start" "$w/worker-after-renew.log" "$w/worker-serials"
    grep -qx 'rc 0' "$w/worker-pki-renew.out" && grep -q 'through the join service of https://' "$w/worker-pki-renew.out" ||
        return 1
    restarted_since "$w/worker-after-renew" "$w/worker-renewed-at" kubelet.service kube-proxy.service mosquitto.service ||
        return 1
    grep -qx 'Result=success' "$w/worker-after-renew.start" &&
        [ "$(sed -n 1p "$w/worker-serials")" = "$(sed -n 2p "$w/worker-serials")" ] || return 1
    # The master whose join service renewed it, by the URL it names, logged who asked.
    local url by=""
    url=$(grep -o 'through the join service of https://[0-9.]*' "$w/worker-pki-renew.out" | head -n 1)
    for m in master-01 master-02 master-03; do [ "${url##*//}" = "${ip[$m]}" ] && by=$m; done
    [ -n "$by" ] && grep -q 'node worker-01: renewed certificates \[.*\] (by its client certificate)' "$w/join-$by.log" ||
        { echo "the join service that renewed it (${by:-none named: $url}) did not log the renewal"; return 1; }
}

if wanted 1; then
    s=s1
    if new_roots $s && run_scenario $s - 0 && all_reported $s >/dev/null; then
        ok "scenario 1: the six nodes of examples/ha boot at once from one join-policy image; each reports settled"
    else
        not_ok "scenario 1: the six nodes of examples/ha boot at once from one join-policy image; each reports settled" \
            "$(rep $s master-01)/console.log"
        all_reported $s | sed 's/^/#   /'
    fi
    scenario_points $s "scenario 1"
    check "scenario 1: master-01 made the secrets bundle, master-02/03 received it through a join service; one bundle" \
        bundles $s -- "$(rep $s master-02)/cluster-bootstrap.log"
    check "scenario 1: the workers' certificates came through the join service; no bundle, no CA key on a worker" \
        workers_joined $s -- "$(rep $s worker-02)/cluster-bootstrap.log"
    record $s
    cluster_points $s "scenario 1"
    check "scenario 1: clusterboot status on every node: its certificates as pki check sees them, no error, no warning" \
        statuses_clean
    check "scenario 1: clusterboot-renew.timer is active on master-03 and worker-01 (an hour after boot, then daily)" \
        renew_timers
    check "scenario 1: clusterboot-renew.service on master-03, certificates fresh: nothing issued, nothing restarted" \
        renew_nothing_due
    check "scenario 1: after pki renew on master-03, clusterboot-renew.service restarts etcd, the API server and its clients one at a time; they serve the new certificates; a second run restarts nothing" \
        renew_restarts -- "$(rep $s master-03)/etcd.log"
    check "scenario 1: on worker-01 (the join policy: no bundle) clusterboot-renew.service renews through a master's join service by the kubelet's client certificate: nothing due, then after pki renew the kubelet, kube-proxy and mosquitto restart; mosquitto serves the new certificate" \
        renew_worker -- "$(rep $s worker-01)/mosquitto.log"
    check "scenario 1: apply on master-01 of the inventory with worker-04 added and worker-01's labels changed: stored in etcd as version 1" \
        apply_stored apply-1.out 1
    check "scenario 1: clusterboot-sync.service on every node takes version 1 (masters from etcd, workers from the join service): /etc/hosts and CoreDNS know worker-04, only worker-01's kubelet restarts, its Node gets the new label and (from a master) the new taint, a second run changes nothing" \
        sync_took added 1 yes blue yes
    check "scenario 1: apply of the image's inventory again (worker-04 removed, the label back): version 2" \
        apply_stored apply-2.out 2
    check "scenario 1: sync on every node takes version 2: worker-04 gone from /etc/hosts and CoreDNS, only worker-01's kubelet restarts and its Node loses the label and the taint, a second run changes nothing" \
        sync_took removed 2 no "" no
    if wanted 7; then
        check "scenario 7: mosquitto on worker-01 refuses a wrong password and an anonymous client" mqtt_refused \
            -- "$(rep $s worker-01)/mosquitto.log"
        check "scenario 7: ceph -s with the admin keyring on master-01: master-01..03 in the monitors' quorum" \
            ceph_quorum -- "$(rep $s master-01)/ceph-mon.log" "$(rep $s master-01)/cluster-bootstrap.log"
        check "scenario 7: ceph -s on master-01: one active manager (mgr: NAME(active, since ...)), the other masters standbys" \
            ceph_mgrs -- "$(rep $s master-01)/ceph-mgr.log" "$(rep $s master-02)/ceph-mgr.log"
        if has_prog /opt/kafka/bin/kafka-server-start.sh; then
            check "scenario 7: Kafka (KRaft): worker-01..03 are the quorum's voters, with a leader (kafka-metadata-quorum.sh)" \
                kafka_quorum -- "$(rep $s worker-01)/kafka.log" "$(rep $s worker-01)/cluster-bootstrap.log"
        else
            skip_points 1 "Kafka is not in the image (the components folder lacks it): no kafka stage to ask"
        fi
    else
        skip_points 4 "scenario 7 not asked for (CB_E2E_ONLY)"
    fi
else
    skip_points 31 "scenario 1 not asked for (CB_E2E_ONLY)"
fi

# ---- scenario 4: the roots of 1 booted again ----
# unchanged SCENARIO [BASE [NODE...]]: per node (default: the scenario's), the same PKI and secret files (hash
# and mtime) and step markers as in BASE (default: 1)
unchanged() {
    local s=$1 base=${2:-s1} m bad=0 d ms
    shift 2 2>/dev/null || shift
    ms=("$@")
    [ ${#ms[@]} -gt 0 ] || read -ra ms <<<"$(nodes "$s")"
    for m in "${ms[@]}"; do
        d=$(diff <(cat "$(rep "$base" "$m")/files") <(cat "$(rep "$s" "$m")/files") | grep '^[<>]' | head -n 6)
        [ -z "$d" ] || { echo "$m: files changed:"; printf '%s\n' "$d" | sed 's/^/  /'; bad=1; }
        d=$(diff <(cd "$(rep "$base" "$m")/state" && grep -r . steps bootstrap-state 2>/dev/null | sort) \
            <(cd "$(rep "$s" "$m")/state" && grep -r . steps bootstrap-state 2>/dev/null | sort) | grep '^[<>]' | head -n 6)
        [ -z "$d" ] || { echo "$m: steps or state changed:"; printf '%s\n' "$d" | sed 's/^/  /'; bad=1; }
    done
    return $bad
}
# etcd derives the first member's id and the cluster id from names, peer URLs and the token: a cluster
# made anew would have them again. The ids `member add` gave master-02 and -03 are random: they tell.
same_cluster() { # SCENARIO: the cluster id and member ids are those of 1
    local a b
    a=$(cat "$work/s1/cluster" 2>/dev/null) b=$(cat "$work/$1/cluster" 2>/dev/null)
    [ -n "$a" ] && [ "$a" = "$b" ] || { echo "scenario 1: '$a', now: '$b'"; return 1; }
}
nothing_redone() { # SCENARIO [NODE...]: no member add, no bundle made or fetched, no certificate issued, in this boot
    local s=$1 m bad=0 l ms
    shift
    ms=("$@")
    [ ${#ms[@]} -gt 0 ] || read -ra ms <<<"$(nodes "$s")"
    for m in "${ms[@]}"; do
        l=$(grep -hE "added to the etcd cluster|made the cluster's secrets bundle|received the secrets bundle|issued through the join service" \
            "$(rep "$s" "$m")/cluster-bootstrap.log" "$(rep "$s" "$m")/etcd.log" 2>/dev/null | head -n 2)
        [ -z "$l" ] || { echo "$m:"; printf '%s\n' "$l" | sed 's/^/  /'; bad=1; }
    done
    return $bad
}
if wanted 4 && [ -s "$work/s1/cluster" ]; then
    s=s4
    if run_scenario $s - 0 && all_reported $s >/dev/null; then
        ok "scenario 4 (reboot): the six roots of scenario 1 boot again; each reports settled"
    else
        not_ok "scenario 4 (reboot): the six roots of scenario 1 boot again; each reports settled"
        all_reported $s | sed 's/^/#   /'
    fi
    check "scenario 4 (reboot): bootstrap-state unchanged, cluster-bootstrap.service and etcd.service active" \
        eval "states $s && units_active $s"
    check "scenario 4 (reboot): the same cluster id and member ids as before" eval "members $s >/dev/null && same_cluster $s"
    check "scenario 4 (reboot): every certificate, key and secret file unchanged (hash, mtime); no new or rewritten step" \
        unchanged $s
    check "scenario 4 (reboot): nothing redone: no member add, no bundle made or fetched, no certificate issued" \
        nothing_redone $s
    check "scenario 4 (reboot): no failed attempt of cluster-bootstrap, etcd, clusterboot-join, clusterboot-sync, mosquitto, ceph-mon, ceph-mgr or coredns" \
        no_failed_attempts $s "$bootstrap_units $service_units"
    record $s
    cluster_points $s "scenario 4 (reboot)"
else
    skip_points 14 "scenario 4 (reboot): $(wanted 4 && echo "scenario 1 formed no cluster" || echo "not asked for")"
fi

# ---- scenario 6: master-02 reinstalled, after a power cut of all six; then master-01 gone for good ----
replaced() { # the member ids of 6: master-01's and -03's those of before, master-02's a new one
    local before=$work/s4/member-ids now=$work/s6/member-ids m a b
    [ -s "$before" ] || before=$work/s1/member-ids
    for m in master-01 master-02 master-03; do
        a=$(awk -v m=$m '$1 == m { print $2 }' "$before" 2>/dev/null)
        b=$(awk -v m=$m '$1 == m { print $2 }' "$now" 2>/dev/null)
        if [ "$m" = master-02 ]; then
            [ -n "$b" ] && [ "$a" != "$b" ] || { echo "master-02: member $a before, $b now"; return 1; }
        else
            [ -n "$a" ] && [ "$a" = "$b" ] || { echo "$m: member $a before, $b now"; return 1; }
        fi
    done
    echo "master-02: member $(awk '$1 == "master-02" { print $2 }' "$before") replaced by $(awk '$1 == "master-02" { print $2 }' "$now")"
    [ "$(cut -d' ' -f1 "$before" | sort | tr '\n' ' ')" = "$(cut -d' ' -f1 "$now" | sort | tr '\n' ' ')" ]
}
same_cluster_id() { [ "$(cut -d' ' -f1 "$work/s1/cluster")" = "$(cut -d' ' -f1 "$work/s6/cluster" 2>/dev/null)" ]; }
# A master gone for good, after the cluster's checks of 6: master-01's power cut, and it never comes back. The
# other two keep the cluster: etcd commits on master-02 and -03; master-02's API server (with the admin
# kubeconfig `clusterboot kubeconfig` writes there: its own server) lists the nodes and stores an object; a join
# by the join secret (worker-03 asks for its certificates, into a scratch root: the machine's own files stay as
# they are) is answered by another master's join service. Results to $work/s6/gone/.
late_checks_s6() {
    local w=$work/s6/gone m i
    mkdir -p "$w"
    nspawn_power_cut master-01
    note "s6: master-01's power cut (gone for good)"
    date +%s >"$w/cut-at"
    # etcd elects a new leader if master-01 led: a few seconds.
    for m in master-02 master-03; do
        for i in $(seq 1 15); do
            nspawn_exec "$m" etcdctl --endpoints="https://${ip[$m]}:2379" --cacert=/etc/kubernetes/pki/etcd/ca.crt \
                --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key \
                --command-timeout=5s endpoint health >"$w/etcd-$m" 2>&1 && break
            sleep 2
        done
    done
    has_prog /usr/local/bin/kube-apiserver && {
        # shellcheck disable=SC2016 # expanded inside the machine
        nspawn_exec master-02 sh -c 'mkdir -p /root/.kube && clusterboot kubeconfig --output /root/.kube/config-own &&
            grep "server:" /root/.kube/config-own &&
            kubectl --kubeconfig /root/.kube/config-own --request-timeout=20s get nodes -o name &&
            kubectl --kubeconfig /root/.kube/config-own --request-timeout=20s -n default create configmap "cb-e2e-gone-$1" \
                --from-literal=master-01=gone &&
            kubectl --kubeconfig /root/.kube/config-own --request-timeout=20s -n default get configmap "cb-e2e-gone-$1" \
                -o jsonpath="{.data.master-01}{\"\n\"}"' sh "$seed" >"$w/api" 2>&1
        echo "rc $?" >>"$w/api"
    }
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec worker-03 sh -c 'rm -rf /tmp/cb-join && mkdir -p /tmp/cb-join/etc/cluster-config &&
        cp -r /etc/cluster-config/cluster.yaml /etc/cluster-config/nodes /etc/cluster-config/services \
            /etc/cluster-config/join /tmp/cb-join/etc/cluster-config/ &&
        clusterboot bootstrap --root /tmp/cb-join --node worker-03 --stage certificates &&
        openssl verify -CAfile /etc/kubernetes/pki/ca.crt /tmp/cb-join/var/lib/kubelet/pki/kubelet.crt' >"$w/join" 2>&1
    echo "rc $?" >>"$w/join"
    # The workers' kubelets, through their relays (clusterboot-api-proxy) to the other masters: each renews
    # its Node's lease 45 s or more after the cut (a client-go connection to a dead server is given up after
    # about that long) and its Node is Ready; within 150 s of the cut.
    has_prog /usr/local/bin/kube-apiserver && gone_leases
    removed_s6
}
gone_leases() {
    local w=$work/s6/gone m cut deadline
    cut=$(cat "$w/cut-at")
    deadline=$((cut + 150))
    while :; do
        nspawn_exec master-02 kubectl --kubeconfig /root/.kube/config-own --request-timeout=10s get nodes >"$w/nodes-later" 2>&1
        for m in worker-01 worker-02 worker-03; do
            echo "$m $(nspawn_exec master-02 kubectl --kubeconfig /root/.kube/config-own --request-timeout=10s \
                -n kube-node-lease get lease "$m" -o jsonpath='{.spec.renewTime}' 2>&1)"
        done >"$w/leases"
        workers_renewed "$((cut + 45))" >/dev/null && break
        [ "$(date +%s)" -lt "$deadline" ] || break
        sleep 5
    done
    echo "$(($(date +%s) - cut)) s after the cut" >>"$w/leases"
    for m in worker-01 worker-02 worker-03; do
        nspawn_exec "$m" journalctl -u clusterboot-api-proxy.service -o cat --no-pager >"$w/relay-$m.log" 2>&1
    done
}
# Then master-01 taken out of the inventory for good (docs/operations.md, "Remove a master"): `apply` on
# master-02 of the inventory without it, and clusterboot-sync.service on the other five (each master's again
# until it succeeds: etcd refuses a member change for a few seconds after a peer reconnects, exit 75). etcd's
# members and the monmap shrink to master-02 and -03, and neither their etcd nor their monitors restart on the
# way (master-01's member was still there: restarting one of the two others would have cost the quorum).
# Results to $work/s6/removed/.
five=(master-02 master-03 worker-01 worker-02 worker-03)
quorum_since() { # MACHINE: "UNIT SINCE" of etcd and the node's Ceph monitor
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec "$1" sh -c 'for u in etcd.service ceph-mon@$(hostname).service; do
        echo "$u $(systemctl show -p ActiveState --value $u) $(systemctl show -p ActiveEnterTimestampMonotonic --value $u)"
    done'
}
removed_s6() {
    local w=$work/s6/removed m i
    mkdir -p "$w"
    for m in "${five[@]}"; do nspawn_exec "$m" systemctl stop clusterboot-sync.timer >>"$w/timers" 2>&1; done
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec master-02 sh -c 'rm -rf /tmp/inv-rm && mkdir /tmp/inv-rm && cp -r /etc/cluster-config/cluster.yaml \
            /etc/cluster-config/nodes /etc/cluster-config/services /tmp/inv-rm/ &&
        sed -i "/^  - name: master-01$/,/mac_addresses:/d" /tmp/inv-rm/cluster.yaml && ! grep -q master-01 /tmp/inv-rm/cluster.yaml &&
        clusterboot apply --inventory /tmp/inv-rm' >"$w/apply.out" 2>&1
    echo "rc $?" >>"$w/apply.out"
    for m in master-02 master-03; do quorum_since "$m" >"$w/$m.before"; done
    local rc
    for m in "${five[@]}"; do
        rc=1
        for i in 1 2 3 4 5 6; do
            if nspawn_exec "$m" systemctl start clusterboot-sync.service >"$w/$m.start" 2>&1; then rc=0 && break; fi
            sleep 5
        done
        echo "rc $rc after $i" >>"$w/$m.start"
        nspawn_exec "$m" journalctl -u clusterboot-sync.service -o cat --no-pager | tail -n 60 >"$w/$m.log" 2>&1
    done
    for m in master-02 master-03; do quorum_since "$m" >"$w/$m.after"; done
    nspawn_exec master-02 etcdctl --endpoints="https://${ip[master-02]}:2379" --cacert=/etc/kubernetes/pki/etcd/ca.crt \
        --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key \
        --command-timeout=10s member list >"$w/members" 2>&1
    nspawn_exec master-02 timeout 30 ceph quorum_status --format json --connect-timeout 10 >"$w/quorum.json" 2>"$w/quorum.err"
    for m in "${five[@]}"; do nspawn_exec "$m" systemctl start clusterboot-sync.timer >>"$w/timers" 2>&1; done
}
removed_stored() {
    cat "$work/s6/removed/apply.out"
    grep -qx 'rc 0' "$work/s6/removed/apply.out" && grep -q "stored in etcd as version [0-9]* (/clusterboot/inventory)" "$work/s6/removed/apply.out"
}
removed_members() {
    local w=$work/s6/removed m bad=0
    for m in "${five[@]}"; do
        grep -q '^rc 0 ' "$w/$m.start" || { echo "$m: sync did not succeed:"; cat "$w/$m.start" "$w/$m.log"; bad=1; }
    done
    grep -h "removed etcd member master-01\|removed Ceph monitor master-01" "$w"/master-0?.log
    cat "$w/members"
    [ "$(grep -c ', started, ' "$w/members")" = 2 ] && grep -q ', started, master-02, ' "$w/members" &&
        grep -q ', started, master-03, ' "$w/members" || { echo "etcd's members are not master-02 and -03"; bad=1; }
    python3 -c 'import json, sys
q = json.load(open(sys.argv[1]))
mons = sorted(m["name"] for m in q["monmap"]["mons"])
print("monmap:", " ".join(mons), "quorum:", " ".join(sorted(q["quorum_names"])))
sys.exit(0 if mons == ["master-02", "master-03"] and sorted(q["quorum_names"]) == mons else 1)' "$w/quorum.json" ||
        { cat "$w/quorum.err"; bad=1; }
    return $bad
}
removed_no_restart() {
    local w=$work/s6/removed m
    for m in master-02 master-03; do
        echo "$m before: $(tr '\n' ' ' <"$w/$m.before")"
        echo "$m after:  $(tr '\n' ' ' <"$w/$m.after")"
        [ "$(grep -c ' active ' "$w/$m.after")" = 2 ] && cmp -s "$w/$m.before" "$w/$m.after" || return 1
    done
}
workers_renewed() { # AFTER: each worker's lease renewed after AFTER (epoch seconds), its Node Ready
    local m t bad=0
    for m in worker-01 worker-02 worker-03; do
        t=$(awk -v m="$m" '$1 == m { print $2 }' "$work/s6/gone/leases")
        if ! [ "$(date -d "$t" +%s 2>/dev/null || echo 0)" -gt "$1" ]; then
            echo "$m: lease renewed at '$t', not after $(date -u -d "@$1" +%FT%TZ)"; bad=1
        fi
        grep -qE "^$m +Ready " "$work/s6/gone/nodes-later" || { echo "$m: not Ready"; bad=1; }
    done
    return $bad
}
gone_kubelets() {
    cat "$work/s6/gone/nodes-later" "$work/s6/gone/leases"
    workers_renewed "$(($(cat "$work/s6/gone/cut-at") + 45))" || return 1
    echo "what the relays said:"
    cat "$work/s6/gone"/relay-worker-0?.log | grep -E "does not answer|answers again|no API server" | sort | uniq -c
}
gone_etcd() {
    local m bad=0
    for m in master-02 master-03; do
        sed "s/^/$m: /" "$work/s6/gone/etcd-$m"
        grep -q "https://${ip[$m]}:2379 is healthy: successfully committed proposal" "$work/s6/gone/etcd-$m" || bad=1
    done
    return $bad
}
gone_api() {
    cat "$work/s6/gone/api"
    grep -qx 'rc 0' "$work/s6/gone/api" && grep -q "server: https://${ip[master-02]}:6443" "$work/s6/gone/api" &&
        [ "$(grep -c '^node/' "$work/s6/gone/api")" = 6 ] && grep -qx gone "$work/s6/gone/api"
}
gone_join() {
    cat "$work/s6/gone/join"
    grep -qx 'rc 0' "$work/s6/gone/join" &&
        grep -Eq "issued through the join service of https://10\.20\.0\.1[23]:9443" "$work/s6/gone/join"
}
rejoined() {
    log_has s6 master-02 cluster-bootstrap "received the secrets bundle from https://10\.20\.0\.1[13]:9443" &&
        { log_has s6 master-02 cluster-bootstrap "added to the etcd cluster as learner" >/dev/null ||
            log_has s6 master-02 etcd "added to the etcd cluster as learner"; } &&
        log_has s6 master-02 cluster-bootstrap "promoted to a voting member: joined"
}
if wanted 6 && [ -s "$work/s1/cluster" ]; then
    s=s6
    # master-01's and -03's reports wait until master-02's old member is gone (not only until three are
    # there: until master-02 replaces it, the stale one is a started voter too).
    stale=$(awk '$1 == "master-02" { print $2 }' "$work/s4/member-ids" 2>/dev/null)
    [ -n "$stale" ] || stale=$(awk '$1 == "master-02" { print $2 }' "$work/s1/member-ids" 2>/dev/null)
    for m in master-01 master-03; do
        [ -n "$stale" ] && python3 -c 'import sys; print(int(sys.argv[1], 16))' "$stale" >"$(root_of $s $m)/etc/cb-e2e-stale"
    done
    # After the power cut that ended 4, in a random order.
    shuffle "${all[@]}"
    note "s6: boot order ${shuffled[*]}"
    if new_roots $s master-02 && run_scenario $s - 0 "${shuffled[@]}" && all_reported $s >/dev/null; then
        ok "scenario 6: after a power cut of all six, master-02 reinstalled (a fresh copy of the image) boots with the other five, in a random order; each reports settled"
    else
        not_ok "scenario 6: after a power cut of all six, master-02 reinstalled (a fresh copy of the image) boots with the other five, in a random order; each reports settled" \
            "$(rep $s master-02)/cluster-bootstrap.log" "$(rep $s master-02)/etcd.log"
        all_reported $s | sed 's/^/#   /'
    fi
    check "scenario 6: master-02 got the bundle from a join service, was added as a learner and promoted" rejoined \
        -- "$(rep $s master-02)/cluster-bootstrap.log"
    check "scenario 6: three voting members, one cluster id (the cluster of scenario 1)" \
        eval "members $s && same_cluster_id" -- "$(rep $s master-01)/members.err"
    check "scenario 6: master-02's old member is gone, a new one in its place; master-01/03 kept theirs" replaced
    check "scenario 6: the five the power cut ended kept everything: no member add, no bundle made or fetched, no certificate issued; every PKI and secret file and step marker as in 4" \
        eval "nothing_redone $s master-01 master-03 worker-01 worker-02 worker-03 &&
            unchanged $s s4 master-01 master-03 worker-01 worker-02 worker-03"
    check "scenario 6: bootstrap-state master-01 bootstrapped, every other node joined; step markers" \
        eval "states $s && steps $s >/dev/null"
    check "scenario 6: no failed attempt of cluster-bootstrap, etcd, clusterboot-join, clusterboot-sync, ceph-mon, ceph-mgr or coredns" \
        no_failed_attempts $s "$bootstrap_units $service_units"
    record $s
    cluster_points $s "scenario 6"
    check "scenario 6, master-01 gone for good (its power cut, never booted again): etcd on master-02 and -03 still commits (endpoint health)" \
        gone_etcd
    if has_prog /usr/local/bin/kube-apiserver; then
        check "scenario 6, master-01 gone for good: master-02's API server (clusterboot kubeconfig there: its own server) lists the six nodes and stores a ConfigMap" \
            gone_api
        check "scenario 6, master-01 gone for good: every worker's kubelet, through its relay (clusterboot-api-proxy on 127.0.0.1:7445), renews its Node's lease 45 s or more after the cut, and its Node is Ready" \
            gone_kubelets -- "$work/s6/gone/relay-worker-01.log"
    else
        skip_points 2 "scenario 6, master-01 gone for good: Kubernetes is not in the image (CLUSTERBOOT_HEAVY=0)"
    fi
    check "scenario 6, master-01 gone for good: a join by the join secret (worker-03's certificates, into a scratch root) is answered by master-02's or master-03's join service" \
        gone_join
    check "scenario 6, master-01 then taken out of the inventory: apply on master-02 stores it" removed_stored
    check "scenario 6, master-01 taken out: sync on the other five; etcd's members and the monmap are master-02 and -03, both monitors in quorum" \
        removed_members
    check "scenario 6, master-01 taken out: neither etcd nor the Ceph monitor of master-02 or -03 restarted on the way (the quorum was never at stake)" \
        removed_no_restart
else
    skip_points 22 "scenario 6 (reinstalled master): $(wanted 6 && echo "scenario 1 formed no cluster" || echo "not asked for")"
fi
[ -n "${KEEP_WORK:-}" ] || { nspawn_unmount "$work/roots-r1"; rm -rf "$work/roots-r1"; }
# Without a cluster in scenario 1, each other scenario would only wait for its reports' time limit.
broken=
wanted 1 && [ ! -s "$work/s1/cluster" ] && broken="scenario 1 formed no cluster"

# ---- scenario 2: the small inventory, with power cuts during assembly ----
# power_cuts SCENARIO N: N times, the scenario's machines boot in a random order and all lose their power at
# once at a random second of their assembly (3 to 20 s after the last boot: the small inventory's first boot
# has most of its stages done by 30 s); after each cut, each root's PKI and secret files into
# $work/SCENARIO/cut-K/NODE.files.
power_cuts() {
    local s=$1 k m
    for ((k = 1; k <= $2; k++)); do
        shuffle $(nodes "$s")
        pick 3 20
        for m in "${shuffled[@]}"; do boot "$s" "$m" "$settle" "$work/$s/logs/$m.cut-$k.console" || return 1; done
        sleep "$picked"
        nspawn_power_cut
        note "$s: power cut $k, $picked s after booting ${shuffled[*]}"
        mkdir -p "$work/$s/cut-$k"
        for m in $(nodes "$s"); do
            pki_files "$(root_of "$s" "$m")" >"$work/$s/cut-$k/$m.files"
            note "  $m: $(grep -c . "$work/$s/cut-$k/$m.files") PKI and secret files, steps: $(ls "$(root_of "$s" "$m")/var/lib/cluster-state/steps" 2>/dev/null | tr '\n' ' ')"
        done
    done
}
# What was made before a cut stays: every file of the secrets bundle, and every CA certificate, that a root
# held at a cut is there after the last boot with the same hash and mtime (one CA, one join secret); etcd's
# journal over every boot names one cluster id, the one the masters report at the end (never a second cluster).
kept_through_cuts() { # SCENARIO
    local s=$1 f m bad=0 lost ids want
    for f in "$work/$s"/cut-*/*.files; do
        [ -e "$f" ] || { echo "no cut was made"; return 1; }
        m=$(basename "$f" .files)
        lost=$(awk '$3 ~ /^etc\/cluster-config\/secrets\// || $3 ~ /(^|\/)ca\.crt$/' "$f" | grep -vxF -f "$(rep "$s" "$m")/files")
        [ -z "$lost" ] || { echo "$m: changed or gone since ${f%/*}:"; printf '%s\n' "$lost" | head -n 5 | sed 's/^/  /'; bad=1; }
    done
    want=$(cut -d' ' -f1 "$work/$s/cluster" 2>/dev/null)
    for m in $(masters_in "$s"); do
        ids=$(journalctl -D "$(root_of "$s" "$m")/var/log/journal" -u etcd.service -o cat --no-pager 2>/dev/null |
            grep -oE '(in|to) cluster [0-9a-f]+' | awk '{ print $3 }' | LC_ALL=C sort -u)
        echo "$m: etcd's cluster ids over every boot: $(echo $ids); the cluster's: $want"
        [ -n "$ids" ] && [ "$(grep -c . <<<"$ids")" = 1 ] && [ -n "$want" ] && [ $((16#$ids)) = $((16#$want)) ] || bad=1
    done
    return $bad
}
all_boots_log() { # SCENARIO: cluster-bootstrap's journal over every boot of each root (its reports have the last)
    local m
    for m in $(nodes "$1"); do
        journalctl -D "$(root_of "$1" "$m")/var/log/journal" -u cluster-bootstrap.service -o short-monotonic --no-pager \
            >"$(rep "$1" "$m")/cluster-bootstrap-all-boots.log" 2>&1
    done
}
if wanted 2 && [ -n "$small_ok" ] && [ -z "$broken" ]; then
    s=s2
    if new_roots $s && power_cuts $s 2 && shuffle $(nodes $s) && note "s2: boot order ${shuffled[*]}" &&
            run_scenario $s - 0 "${shuffled[@]}" && all_reported $s >/dev/null; then
        ok "scenario 2: master-01, worker-01, worker-02 (the small inventory), two power cuts of all three during assembly, each at a random second, and a boot in a random order; each reports settled"
    else
        not_ok "scenario 2: master-01, worker-01, worker-02 (the small inventory), two power cuts of all three during assembly, each at a random second, and a boot in a random order; each reports settled" \
            "$(rep $s master-01)/console.log"
        all_reported $s | sed 's/^/#   /'
    fi
    all_boots_log $s
    scenario_points $s "scenario 2"
    check "scenario 2: what the power cuts found made stayed: the bundle's files and every CA certificate as they were; one etcd cluster id over every boot" \
        kept_through_cuts $s -- "$(rep $s master-01)/cluster-bootstrap.log"
    check "scenario 2: the workers' certificates came through the join service (in whichever boot); no bundle, no CA key on a worker" \
        workers_joined $s cluster-bootstrap-all-boots -- "$(rep $s worker-02)/cluster-bootstrap-all-boots.log"
    record $s
    cluster_points $s "scenario 2"
    [ -n "${KEEP_WORK:-}" ] || { nspawn_unmount "$work/roots-r2"; rm -rf "$work/roots-r2"; }
else
    skip_points 18 "scenario 2 (small inventory): $(wanted 2 && echo "${broken:-no small inventory}" || echo "not asked for")"
fi

# ---- scenario 3: reverse order, master-01 late ----
waited() { # the others waited for master-01 (retries within a run, or exit 75 and a restart)
    local m bad=0
    for m in master-02 master-03 worker-01 worker-02 worker-03; do
        log_has s3 "$m" cluster-bootstrap "no master's join service answers yet|no etcd cluster answers yet" >/dev/null &&
            log_has s3 "$m" cluster-bootstrap "retrying in|status=75/" >/dev/null ||
            { echo "$m: no wait in cluster-bootstrap's journal"; bad=1; }
    done
    return $bad
}
if wanted 3 && [ -z "$broken" ]; then
    s=s3
    if new_roots $s && run_scenario $s master-01 "$late" worker-03 worker-02 worker-01 master-03 master-02 &&
            all_reported $s >/dev/null; then
        ok "scenario 3: the six boot in reverse order, master-01 $late s after the others; each reports settled"
    else
        not_ok "scenario 3: the six boot in reverse order, master-01 $late s after the others; each reports settled" \
            "$(rep $s master-02)/console.log"
        all_reported $s | sed 's/^/#   /'
    fi
    check "scenario 3: the other five waited for master-01 (retries or exit 75), then joined" waited
    scenario_points $s "scenario 3"
    check "scenario 3: master-01 made the bundle (nobody else had one), the others received it" bundles $s
    check "scenario 3: the workers' certificates came through the join service; no bundle, no CA key on a worker" \
        workers_joined $s
    record $s
    cluster_points $s "scenario 3"
    [ -n "${KEEP_WORK:-}" ] || { nspawn_unmount "$work/roots-r3"; rm -rf "$work/roots-r3"; }
else
    skip_points 19 "scenario 3 (reverse order, master-01 late): ${broken:-not asked for}"
fi

# ---- scenario 5: kill -9 at stage boundaries ----
# node -> its kill points, one per attempt of cluster-bootstrap.service, in stage order: together every
# boundary (before a stage, after its work, after its gate) of every stage the image runs, on each role --
# the first master (master-01), the other masters, the MQTT broker (worker-01) and the other workers.
declare -A kills=(
    [master-01]="secrets:after-run certificates:after-run etcd-member:after-run etcd-ready:after-run join-service:after-gate ceph-mon:after-run"
    [master-02]="secrets:before certificates:before etcd-member:before etcd-ready:before join-service:before ceph-mon:before"
    [master-03]="secrets:after-run etcd-member:after-run etcd-ready:after-run ceph-mon:after-gate"
    [worker-01]="certificates:after-run mqtt:before mqtt:after-run mqtt:after-gate joined:after-run"
    [worker-02]="certificates:before joined:before"
    [worker-03]="certificates:after-run joined:after-run"
)
# The manager's keyring made but its unit not started (master-03), and nothing of the stage done (master-02);
# CoreDNS started but its gate not seen (master-01). Only where the image runs those stages.
if has_prog /usr/bin/ceph-mgr; then
    kills[master-02]+=" ceph-mgr:before"
    kills[master-03]+=" ceph-mgr:after-run"
fi
if has_prog /usr/local/bin/coredns; then kills[master-01]+=" dns:after-run"; fi
# Kubernetes: each control-plane stage at a boundary on some master (an API server up but not waited for, the
# bootstrap RBAC written but not recorded, the Node marked but not recorded ...), the kubelet, flannel and
# kube-proxy stages on masters and workers; the OSDs made but not started, a log directory formatted but
# Kafka not started.
if has_prog /usr/local/bin/kube-apiserver; then
    kills[master-01]+=" kube-apiserver:after-gate kube-bootstrap:after-run mark-control-plane:after-run"
    kills[master-02]+=" kube-apiserver:before kube-controllers:before kubelet:before kube-proxy:before"
    kills[master-03]+=" kube-controllers:after-gate kube-bootstrap:before kubelet:after-gate"
    kills[worker-01]+=" kubelet:before"
    kills[worker-02]+=" kubelet:after-gate"
    kills[worker-03]+=" kube-proxy:after-gate"
fi
if has_prog /usr/local/bin/flanneld; then
    kills[master-01]+=" pod-network:after-gate"
    kills[worker-02]+=" pod-network:before"
fi
if has_prog /usr/bin/ceph-osd; then
    kills[worker-01]+=" ceph-osd:before"
    kills[worker-02]+=" ceph-osd:after-run"
    kills[worker-03]+=" ceph-osd:after-gate"
fi
if has_prog /opt/kafka/bin/kafka-server-start.sh; then
    kills[worker-01]+=" kafka:after-gate"
    kills[worker-02]+=" kafka:after-run"
    kills[worker-03]+=" kafka:before"
fi
# kill_order POINT...: the points in the order attempts reach them: the stages' order (as `clusterboot
# bootstrap --help` lists them), then before, after-run, after-gate.
stage_order=$("$cb" bootstrap --help | awk '/^Stages, in order/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
kill_order() {
    local p i j
    for p; do
        i=$(grep -nx "${p%%:*}" <<<"$stage_order" | cut -d: -f1)
        case ${p#*:} in before) j=0 ;; after-run) j=1 ;; *) j=2 ;; esac
        echo "${i:-99} $j $p"
    done | sort -n -k1,1 -k2,2 | cut -d' ' -f3
}
arm_kills() { # SCENARIO: the wrapper, its drop-in and the kill points in each root
    local s=$1 m r
    for m in $(nodes "$s"); do
        r=$(root_of "$s" "$m")
        mkdir -p "$r/etc/systemd/system/cluster-bootstrap.service.d" || return 1
        printf '[Service]\nExecStart=\nExecStart=/usr/local/sbin/cb-e2e-bootstrap\n' \
            >"$r/etc/systemd/system/cluster-bootstrap.service.d/cb-e2e-kill.conf"
        cat >"$r/usr/local/sbin/cb-e2e-bootstrap" <<'EOF'
#!/bin/sh
# tests/e2e/test-nspawn-cluster.sh: the first kill point of the list, for this attempt only.
f=/var/lib/cb-e2e/kill-at
if [ -s "$f" ]; then
    at=$(head -n 1 "$f")
    tail -n +2 "$f" >"$f.tmp" && sync "$f.tmp" && mv "$f.tmp" "$f" && sync /var/lib/cb-e2e
    echo "cb-e2e: this attempt dies at $at (CLUSTERBOOT_TEST_KILL_AT)"
    export CLUSTERBOOT_TEST_KILL_AT="$at"
fi
exec /usr/bin/clusterboot bootstrap
EOF
        chmod 0755 "$r/usr/local/sbin/cb-e2e-bootstrap"
        : >"$r/var/lib/cb-e2e/kill-at"
        # shellcheck disable=SC2086 # a list of words
        [ -z "${kills[$m]:-}" ] || kill_order ${kills[$m]} >"$r/var/lib/cb-e2e/kill-at"
    done
}
killed_as_asked() { # every kill point fired (clusterboot said so and systemd saw the SIGKILL), the lists used up
    local m p bad=0 r n_kills
    for m in $(nodes s5); do
        r=$(rep s5 "$m")
        for p in ${kills[$m]:-}; do
            grep -qF "CLUSTERBOOT_TEST_KILL_AT=$p: killing myself" "$r/cluster-bootstrap.log" 2>/dev/null ||
                { echo "$m: no kill at $p"; bad=1; }
        done
        n_kills=$(grep -c 'status=9/KILL' "$r/cluster-bootstrap.log" 2>/dev/null)
        [ "$n_kills" = "$(wc -w <<<"${kills[$m]:-}")" ] ||
            { echo "$m: systemd saw $n_kills SIGKILLs of cluster-bootstrap.service, want $(wc -w <<<"${kills[$m]:-}")"; bad=1; }
        [ ! -s "$(root_of s5 "$m")/var/lib/cb-e2e/kill-at" ] ||
            { echo "$m: kill points left: $(tr '\n' ' ' <"$(root_of s5 "$m")/var/lib/cb-e2e/kill-at")"; bad=1; }
    done
    return $bad
}
if wanted 5 && [ -z "$broken" ]; then
    s=s5
    # Each kill costs cluster-bootstrap.service's RestartSec (15 s) on top of the work: up to eleven on
    # master-01, whose stages the others wait for.
    for m in "${all[@]}"; do
        [ $((15 * $(wc -w <<<"${kills[$m]:-}"))) -le "${settle_more[s5]:-0}" ] ||
            settle_more[s5]=$((15 * $(wc -w <<<"${kills[$m]:-}")))
    done
    if new_roots $s && arm_kills $s && run_scenario $s - 0 && all_reported $s >/dev/null; then
        ok "scenario 5 (kill -9 at stage boundaries): the six boot at once; each reports settled"
    else
        not_ok "scenario 5 (kill -9 at stage boundaries): the six boot at once; each reports settled" \
            "$(rep $s master-03)/cluster-bootstrap.log"
        all_reported $s | sed 's/^/#   /'
    fi
    check "scenario 5: every kill point fired once and systemd restarted cluster-bootstrap.service after it" \
        killed_as_asked -- "$(rep $s master-01)/cluster-bootstrap.log"
    scenario_points $s "scenario 5" nofail
    check "scenario 5: no failed attempt of cluster-bootstrap, etcd, clusterboot-join or clusterboot-sync but the kills and exit 75" \
        no_failed_attempts $s "$bootstrap_units" "status=9/KILL|result 'signal'"
    check "scenario 5: one bundle on the masters; the workers' certificates through the join service" \
        eval "bundles $s && workers_joined $s"
    record $s
    cluster_points $s "scenario 5"
else
    skip_points 18 "scenario 5 (kill -9): ${broken:-not asked for}"
fi

# Every report, journal, console and check output the scenarios collected: no secret of any scenario's bundle
# (tests/scripts/no-secret-in.sh: the join secret, the bootstrap token, cephx keys, MQTT passwords, private
# keys).
no_secret_anywhere() {
    local b bad=0 outputs=()
    # s1 ... s7, not $work/secrets (the test's own bundle).
    for b in "$work"/s[0-9]/*; do
        [ "${b##*/}" = bundle ] || outputs+=("$b")
    done
    for b in "$work"/s[0-9]/bundle; do
        [ -d "$b" ] || continue
        echo "${b#"$work"/}:"
        "$no_secret_in" "$b" "${outputs[@]}" || bad=1
    done
    ls -d "$work"/s[0-9]/bundle >/dev/null 2>&1 || { echo "no scenario recorded its bundle"; bad=1; }
    return $bad
}
check "no secret of any scenario's bundle in what the scenarios collected (reports, journals, consoles, checks)" \
    no_secret_anywhere

nspawn_finish
