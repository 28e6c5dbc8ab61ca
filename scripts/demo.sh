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
#   DEMO_TIMEOUT=600 scripts/demo.sh         how long to wait for the cluster (seconds, default 420)
#   DEMO_JSON=FILE scripts/demo.sh           also write the timeline as JSON (bench/ready uses it)
#
# Needs root (containers, network namespaces). The image's Debian base is made once by debootstrap (a few
# minutes) into /var/cache/clusterboot-test/image and reused; the machines' trees go to a temporary folder
# under ${TMPDIR:-/var/tmp}
# and are removed at the end (KEEP_WORK=1 keeps them). The image carries the components of
# image/components.lock its roles run, which `clusterboot binaries fetch` makes once into
# /var/cache/clusterboot-test/deps: CoreDNS (Go module proxy, ~2-6 min the first time) and Kafka (Maven
# Central, ~1 min); with CLUSTERBOOT_HEAVY=1 also Kubernetes, flannel and the pause image (~25 min).
# Nothing outside the containers and their bridge is addressed.
set -uo pipefail
cd "$(dirname "$0")/.."
inventory=${INVENTORY:-examples/homelab}
timeout=${DEMO_TIMEOUT:-420}
json_out=${DEMO_JSON:-}

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
declare -A pid=() nsif=() nsroot=() nsdevs=()
nsnets=()
trap nspawn_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nspawn_preflight "$cb" debootstrap dig
nspawn_workdir cb-demo
image=$work/image
echo
echo "== clusterboot binaries fetch, secrets init, image build --format tree   (one image for every machine;"
echo "   its Debian base and its components are made once, minutes, then cached in $cache_dir)"
nspawn_image_build "$image" "$inventory" ||
    { not_ok "image build" "$work/components.log" "$work/image-build.log"; exit 1; }
sed -n '/^\[/p' "$work/image-build.log" | sed 's/^/  /'
if [ -n "$components_without" ]; then
    echo "  without $components_without: not fetched (CLUSTERBOOT_HEAVY=1 scripts/demo.sh fetches them, ~25 min"
    echo "  the first time); their stages are skipped on the machines"
fi
nspawn_probe "$image"
nspawn_bridge

# The nodes, their MACs and roles, from the plan.
mapfile -t nodes < <("$cb" plan --inventory "$inventory" --output json | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    print(n["name"], (n.get("mac_addresses") or ["02:00:00:00:00:01"])[0], ",".join(n["roles"]))')
declare -A mac=() roles=() root=()
i=0
for line in "${nodes[@]}"; do
    read -r name m r <<<"$line"
    mac[$name]=$m roles[$name]=$r root[$name]=$work/roots/$name
    nspawn_new_root "$image" "${root[$name]}" "$name" || { not_ok "a copy of the image for $name"; exit 1; }
done
nspawn_osd_devices "$inventory"
names=("${!mac[@]}")
mapfile -t names < <(printf '%s\n' "${names[@]}" | sort)

echo
echo "== booting ${#names[@]} machines at once from that image"
t0=$(date +%s.%N)
for name in "${names[@]}"; do
    i=$((i + 1))
    # Named eth0 in the machine, as the example's node files say (interface: eth0).
    nspawn_boot "${root[$name]}" "$name" "${mac[$name]}" "$i" "$work/console/$name.log" eth0 ||
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
echo "== from inside $first: etcd's members"
p=/etc/kubernetes/pki/etcd
nspawn_exec "$first" etcdctl --endpoints=https://127.0.0.1:2379 --cacert=$p/ca.crt --cert=$p/healthcheck-client.crt \
    --key=$p/healthcheck-client.key -w table member list 2>&1 | sed 's/^/  /'
for name in "${names[@]}"; do
    [[ ${roles[$name]} == *ceph-mon* ]] || continue
    echo
    echo "== from inside $name: ceph -s"
    nspawn_exec "$name" timeout 20 ceph -s --connect-timeout 10 2>&1 | sed 's/^/  /'
    break
done
# CoreDNS, where the dns stage ran, asked from another machine for a node's name in the cluster's zone.
read -r dns_zone dns_port < <("$cb" plan --inventory "$inventory" --output json | python3 -c '
import json, sys
d = json.load(sys.stdin)["dns"]
print(d["zone"], d["port"])')
for name in "${names[@]}"; do
    [[ ${roles[$name]} == *dns-server* ]] && [ -f "${root[$name]}/var/lib/cluster-state/steps/dns" ] || continue
    asker='' asked=''
    for other in "${names[@]}"; do [ "$other" != "$name" ] && { asker=$other; break; }; done
    for other in "${names[@]}"; do [ "$other" != "$name" ] && [ "$other" != "$asker" ] && asked=$other; done
    [ -n "$asker" ] || break
    asked=${asked:-$name}
    addr=$(nspawn_exec "$name" ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
    echo
    echo "== from $asker's network: dig @$addr -p $dns_port $asked.$dns_zone   (CoreDNS on $name)"
    nspawn_netexec "$asker" dig @"$addr" -p "$dns_port" +time=3 +tries=2 +noall +answer "$asked.$dns_zone" A 2>&1 |
        sed 's/^/  /'
    break
done
for name in "${names[@]}"; do
    [[ ${roles[$name]} == *mqtt-broker* ]] || continue
    echo
    echo "== from inside $name: systemctl is-active mosquitto.service"
    nspawn_exec "$name" systemctl is-active mosquitto.service 2>&1 | sed 's/^/  /'
    break
done

if [ -n "$json_out" ]; then
    printf '%s\n' "${events[@]}" | python3 -c '
import json, sys
t0, ready, ok = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
ev = [l.split() for l in sys.stdin if l.strip()]
json.dump({"ready": ok, "seconds": round(ready - t0, 3),
           "events": [{"node": n, "stage": s, "t": round(float(w) - t0, 3)} for n, s, w in ev]},
          open(sys.argv[4], "w"), indent=2)' "$t0" "$t_ready" "$all_ready" "$json_out"
fi
echo
echo "stopping the machines"
[ "$all_ready" = 1 ]
