#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job on the bundled example: install what is needed, build, validate and plan the inventory,
# make ONE image of it (`clusterboot image build`: the root tree disk.raw and netboot/ are made of, with the
# default "join" secret policy: the image carries a join secret and nothing else), and boot that tree as
# every machine of the inventory at once -- each a
# systemd-nspawn container with a real systemd, on one bridge, its NIC carrying the node's MAC. Nothing is
# done inside the machines: each detects which node it is, renders its configuration, and runs the
# bootstrap stages of its roles (the first master makes the cluster's secrets, its etcd and its join
# service; the others join through it). One line per node and stage as it happens, then a status table
# and the cluster as the machines see it.
#
#   scripts/demo.sh                          examples/homelab (one master, four other nodes)
#   INVENTORY=examples/ha scripts/demo.sh    three masters, three workers
#   INVENTORY=DIR scripts/demo.sh            any valid inventory, booted as its node files say: each NIC named
#                                            as network.interface (else eth0), its MACs, CIDRs and hostnames
#   DEMO_TIMEOUT=600 scripts/demo.sh         how long to wait for the cluster (seconds, default 420)
#   DEMO_JSON=FILE scripts/demo.sh           also write the timeline and the checks as JSON (bench/ready uses it):
#                                            ready, seconds (to every machine ready), green, green_seconds (to
#                                            every check passed), events (node, stage, t), checks {NAME: bool}
#   CLUSTERBOOT_HEAVY=0 scripts/demo.sh      without Kubernetes and flannel (not fetched: minutes instead of ~25)
#
# Needs root (containers, network namespaces). The image's Debian base is made once by debootstrap (a few
# minutes) into /var/cache/clusterboot-test/image and reused; the machines' trees go to a temporary folder
# under ${TMPDIR:-/var/tmp} and are removed at the end (KEEP_WORK=1 keeps them). The image carries the
# components of image/components.lock its roles run, which `clusterboot binaries fetch` makes once into
# /var/cache/clusterboot-test/deps: Kubernetes (Go module proxy, ~20 min the first time on 2 cores),
# flannel and CoreDNS (~2 min each), the pause image and Kafka (Maven Central; under a minute each).
# Then checks from inside the machines: etcd, Ceph, CoreDNS, Mosquitto, Kafka, and Kubernetes (every node
# Ready, a pod reaching a pod on another node, cluster DNS); the demo fails when one fails.
# Nothing outside the containers and their bridge is addressed.
set -uo pipefail
cd "$(dirname "$0")/.."
inventory=${INVENTORY:-examples/homelab}
timeout=${DEMO_TIMEOUT:-420}
json_out=${DEMO_JSON:-}
# The whole cluster: every component, Kubernetes included (built once from the Go module proxy).
export CLUSTERBOOT_HEAVY=${CLUSTERBOOT_HEAVY:-1}

if [ "$(id -u)" != 0 ]; then
    echo "demo: run this as root (it boots containers and makes network namespaces)" >&2
    exit 2
fi
scripts/setup-deps.sh --tests >/dev/null || exit 1
if [ ! -d build-release ]; then meson setup build-release --buildtype=release >/dev/null || exit 1; fi
ninja -C build-release >/dev/null || exit 1
cb=$PWD/build-release/clusterboot

echo "== clusterboot validate --inventory $inventory"
"$cb" validate --inventory "$inventory" || exit 1
echo
echo "== clusterboot plan --inventory $inventory"
"$cb" plan --inventory "$inventory" || exit 1

# The harness of the tests/e2e tests: rootfs cache, image, bridge, boots. Its TAP helpers are replaced by
# plain messages here.
# shellcheck source=tests/e2e/lib-nspawn.sh
. tests/e2e/lib-nspawn.sh
ok() { echo "  $1"; }
not_ok() { echo "demo: FAILED: $1" >&2; shift; local f; for f; do [ -s "$f" ] && tail -n 20 "$f" | sed 's/^/  | /' >&2; done; }
note() { echo "  $*"; }
skip_rest() { echo "demo: cannot run here: $1" >&2; exit 1; }
n=0 failed=0 plan=0
tag=cbd$$ brns=cbd$$br work= cgroups=() boots=0
declare -A pid=() nsif=() nsroot=() nsdevs=() nsfs=()
nsnets=() nsmounts=()
trap nspawn_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nspawn_preflight "$cb" debootstrap dig
nspawn_workdir cb-demo
image=$work/image
echo
echo "== clusterboot binaries fetch, secrets init, image build --format tree   (one image for every machine;"
echo "   its Debian base and its components are made once, minutes, then cached in $cache_dir)"
# A first run builds the components (Kubernetes from the Go module proxy: about 8 minutes on 2 idle cores,
# 20 when they are busy); say so before, and show the recipes' progress as it comes.
missing=$("$cb" binaries list --components "$components_dir" --output json | python3 -c '
import json, sys
print(" ".join(c["name"] for c in json.load(sys.stdin) if c["state"] != "present"))')
[ "$CLUSTERBOOT_HEAVY" = 1 ] || missing=$(tr ' ' '\n' <<<"$missing" | grep -vx 'kubernetes\|flannel' | paste -sd' ' -)
if [ -n "$missing" ]; then
    echo "  fetching $missing into $components_dir, once (a first Kubernetes build: ~8-20 min; flannel and"
    echo "  CoreDNS ~2 min each; Kafka and the pause image under a minute):"
fi
nspawn_components_show=1
nspawn_components || { not_ok "clusterboot binaries fetch" "$work/components.log"; exit 1; }
components_fetched=1
# The inventory in a copy, with what machines sharing this host need (nspawn_host_inventory says what).
nspawn_host_inventory "$inventory" "$work/inventory" || { not_ok "a copy of $inventory"; exit 1; }
inventory=$work/inventory
if [[ ,$components_without, != *,kubernetes,* ]]; then
    echo "  (in a copy of the inventory, for machines that share this host: kube-proxy's conntrack-max-per-core 0,"
    echo "   and the kubelets' eviction thresholds at 1% of the host's disk)"
fi
nspawn_image_build "$image" "$inventory" ||
    { not_ok "image build" "$work/components.log" "$work/image-build.log"; exit 1; }
sed -n '/^\[/p' "$work/image-build.log" | sed 's/^/  /'
if [ -n "$components_without" ]; then
    echo "  without $components_without: not fetched (CLUSTERBOOT_HEAVY=0); their stages are skipped on the machines"
fi
nspawn_probe "$image"
nspawn_bridge

# The nodes, their MACs, roles and NIC names, from the plan. A node file without `network.interface` gets
# eth0: the name the image's kernel command line (net.ifnames=0) gives a machine's first NIC. A node without
# MACs gets a locally administered one of its own.
mapfile -t nodes < <("$cb" plan --inventory "$inventory" --output json | python3 -c '
import json, sys
for i, n in enumerate(json.load(sys.stdin)["nodes"]):
    print(n["name"], (n.get("mac_addresses") or ["02:00:00:00:%02x:%02x" % (i >> 8, i & 255)])[0],
          ",".join(n["roles"]), n.get("interface", "eth0"))')
declare -A mac=() roles=() root=() ifname=()
i=0
for line in "${nodes[@]}"; do
    read -r name m r nic <<<"$line"
    mac[$name]=$m roles[$name]=$r root[$name]=$work/roots/$name ifname[$name]=$nic
    nspawn_new_root "$image" "${root[$name]}" "$name" || { not_ok "a copy of the image for $name"; exit 1; }
done
# Each OSD device a file; each Ceph monitor's store a file system of its own (nspawn_node_storage says why).
nspawn_node_storage "$inventory"
names=("${!mac[@]}")
mapfile -t names < <(printf '%s\n' "${names[@]}" | sort)

echo
echo "== booting ${#names[@]} machines at once from that image"
t0=$(date +%s.%N)
for name in "${names[@]}"; do
    i=$((i + 1))
    nspawn_boot "${root[$name]}" "$name" "${mac[$name]}" "$i" "$work/console/$name.log" "${ifname[$name]}" ||
        { not_ok "boot $name"; exit 1; }
done

# Progress: the stage markers (/var/lib/cluster-state/steps/NAME hold the Unix time the stage was done) and
# the state file of each machine, read from its tree on the host as they appear.
since() { python3 -c "import sys; print('%5.1f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$1" "$t0"; }
declare -A seen=() state=() ready_at=() done_at=()
events=()
deadline=$(($(date +%s) + timeout))
all_ready=0
while :; do
    fresh=() # "WHEN NODE WHAT" of this round, printed in time order
    for name in "${names[@]}"; do
        d=${root[$name]}/var/lib/cluster-state
        for f in "$d"/steps/*; do
            s=${f##*/}
            [ -f "$f" ] && [[ $s != *.tmp.* ]] || continue # a marker being written atomically
            [ -n "${seen[$name/$s]:-}" ] && continue
            seen[$name/$s]=1
            when=$(stat -c %.3Y "$f")
            fresh+=("$when $name $s")
            events+=("$name $s $when")
        done
        st=$(cat "$d/bootstrap-state" 2>/dev/null)
        if [ -n "$st" ] && [ "$st" != "${state[$name]:-}" ] && [ "$st" != uninitialized ]; then
            state[$name]=$st
            ready_at[$name]=$(stat -c %.3Y "$d/bootstrap-state")
            fresh+=("${ready_at[$name]} $name => $st")
        fi
    done
    if [ ${#fresh[@]} -gt 0 ]; then
        printf '%s\n' "${fresh[@]}" | sort -n | while read -r when name what; do
            printf '  T+%ss  %-12s %s\n' "$(since "$when")" "$name" "$what"
        done
    fi
    all_ready=1
    for name in "${names[@]}"; do
        # Ready: bootstrapped or joined, and cluster-bootstrap.service has run every stage of the node.
        if [ -z "${done_at[$name]:-}" ] && [ -n "${state[$name]:-}" ] &&
                nspawn_exec "$name" systemctl is-active -q cluster-bootstrap.service 2>/dev/null; then
            done_at[$name]=$(date +%s.%N)
            printf '  T+%ss  %-12s every stage done (cluster-bootstrap.service active)\n' "$(since "${done_at[$name]}")" "$name"
        fi
        [ -n "${done_at[$name]:-}" ] || all_ready=0
    done
    [ "$all_ready" = 1 ] && break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.5
done
t_ready=$(date +%s.%N)
echo
if [ "$all_ready" = 1 ]; then
    echo "  every machine is bootstrapped or joined: the cluster assembled in $(since "$t_ready" | tr -d ' ') s"
else
    echo "  not every machine was ready after $timeout s (see the table)"
fi

echo
echo "== status"
printf '  %-12s %-40s %-13s %8s  %s\n' NODE ROLES STATE "READY AT" "STAGES DONE"
for name in "${names[@]}"; do
    d=${root[$name]}/var/lib/cluster-state
    steps=$(find "$d/steps" -type f -printf '%T@ %f\n' 2>/dev/null | sort -n | awk '{ print $2 }' | paste -sd, -)
    at=-
    [ -n "${ready_at[$name]:-}" ] && at="T+$(since "${ready_at[$name]}" | tr -d ' ')s"
    printf '  %-12s %-40s %-13s %8s  %s\n' "$name" "${roles[$name]}" "${state[$name]:-uninitialized}" "$at" "${steps:--}"
done

# The cluster as the machines see it, from inside them.
first=${names[0]}
for name in "${names[@]}"; do [[ ${roles[$name]} == *master* ]] && { first=$name; break; }; done
echo
echo "== from inside $first: clusterboot status"
nspawn_exec "$first" clusterboot status 2>&1 | sed 's/^/  /'
echo
# ---- checks: what a user of the cluster looks at first, each a line, ✔ or ✘ with what was seen (the
# reason, when it fails); the demo fails when one fails. They are the whole-cluster tests' too
# (tests/e2e/lib-checks.sh, which lists them). DEMO_JSON gets {"checks": {NAME: true|false}} with their
# names; a check whose service the inventory does not run is left out.
# shellcheck source=tests/e2e/lib-checks.sh
. tests/e2e/lib-checks.sh
checks=()
checks_failed=0
checks_report() { # KEY TITLE RC OUTFILE: its output below the line; KEY - for a check not in DEMO_JSON
    local mark=✔
    [ "$3" = 0 ] || { mark=✘; checks_failed=$((checks_failed + 1)); }
    if [ "$1" = - ]; then echo "  $mark $2"; else echo "  $mark $1: $2"; checks+=("$3 $1"); fi
    [ ! -s "$4" ] || sed 's/^/      | /' "$4"
}
echo
echo "== checks, from inside the machines"
checks_init "$cb" "$inventory" || exit 1
checks_run
# No secret of the cluster (the bundle its first master holds; tests/scripts/no-secret-in.sh says which are
# looked for) in what the machines printed, their consoles and journals, nor in the checks' outputs.
demo_no_secret() {
    local name bundle=${root[$first]}/etc/cluster-config/secrets
    [ -d "$bundle" ] || { echo "$first holds no secrets bundle (${bundle#"${root[$first]}"}): nothing to look for"; return 1; }
    mkdir -p "$work/journal"
    for name in "${names[@]}"; do
        nspawn_exec "$name" journalctl -o cat --no-pager >"$work/journal/$name.log" 2>&1
    done
    tests/scripts/no-secret-in.sh "$bundle" "$work/console" "$work/journal" "$checks_dir"
}
checks_one no-secret-in-logs "no secret of the cluster in the machines' consoles and journals, nor in these checks' outputs" \
    demo_no_secret
t_checked=$(date +%s.%N)
[ -z "$components_without" ] ||
    echo "  not checked: $components_without (left out of the image, not fetched: CLUSTERBOOT_HEAVY=0)"

if [ -n "$json_out" ]; then
    printf '%s\n' "${events[@]}" | python3 -c '
import json, sys
t0, ready, ok, checked = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1", float(sys.argv[6])
ev = [l.split() for l in sys.stdin if l.strip()]
checks = [l.split() for l in open(sys.argv[5]) if l.strip()]
green = ok and sys.argv[7] == "0" # every check, the printed-only etcd one too
json.dump({"ready": ok, "seconds": round(ready - t0, 3),
           "green": green, "green_seconds": round(checked - t0, 3) if green else None,
           "events": [{"node": n, "stage": s, "t": round(float(w) - t0, 3)} for n, s, w in ev],
           "checks": {key: rc == "0" for rc, key in checks}},
          open(sys.argv[4], "w"), indent=2)' "$t0" "$t_ready" "$all_ready" "$json_out" <(printf '%s\n' "${checks[@]}") \
        "$t_checked" "$checks_failed"
fi
echo
echo "stopping the machines"
[ "$all_ready" = 1 ] && [ "$checks_failed" = 0 ]
