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
#   DEMO_JSON=FILE scripts/demo.sh           also write the timeline and the checks as JSON (bench/ready uses it)
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
nspawn_components || { not_ok "clusterboot binaries fetch" "$work/components.log"; exit 1; }
components_fetched=1
if [[ ,$components_without, != *,kubernetes,* ]]; then
    # kube-proxy in a container may not set the host's global nf_conntrack_max: conntrack-max-per-core 0
    # leaves it alone (as kind does), through the inventory's extra_args, in a copy of the inventory.
    cp -a "$inventory" "$work/inventory" || exit 1
    k8s_yaml=$work/inventory/services/kubernetes.yaml
    if grep -q '^  extra_args:$' "$k8s_yaml"; then
        sed -i '/^  extra_args:$/a\    kube-proxy: { conntrack-max-per-core: "0" }' "$k8s_yaml"
    else
        printf '  extra_args:\n    kube-proxy: { conntrack-max-per-core: "0" }\n' >>"$k8s_yaml"
    fi
    inventory=$work/inventory
    echo "  (kube-proxy: conntrack-max-per-core \"0\" in a copy of the inventory: a container may not set the host's nf_conntrack_max)"
fi
nspawn_image_build "$image" "$inventory" ||
    { not_ok "image build" "$work/components.log" "$work/image-build.log"; exit 1; }
sed -n '/^\[/p' "$work/image-build.log" | sed 's/^/  /'
if [ -n "$components_without" ]; then
    echo "  without $components_without: not fetched (CLUSTERBOOT_HEAVY=0); their stages are skipped on the machines"
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
# ---- checks: what a user of the cluster looks at first, each a line "ok" or "FAILED" with what was seen;
# the demo fails when one fails, and DEMO_JSON lists them. Each asks the machines themselves.
checks=()
checks_failed=0
plan_json=$("$cb" plan --inventory "$inventory" --output json)
plan_get() { python3 -c "import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$plan_json" "$1"; }
demo_check() { # NAME COMMAND...: COMMAND's output below the line
    local name=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" = 0 ]; then echo "  ok      $name"; else echo "  FAILED  $name"; checks_failed=$((checks_failed + 1)); fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/          | /'
    checks+=("$rc $name")
}
on_node_with() { # ROLE: the first node with ROLE
    local name
    for name in "${names[@]}"; do [[ ,${roles[$name]}, == *,$1,* ]] && { echo "$name"; return 0; }; done
    return 1
}

check_etcd() { # every master a started, voting member
    local p=/etc/kubernetes/pki/etcd want
    want=$(plan_get 'sum("master" in n["roles"] for n in d["nodes"])')
    nspawn_exec "$first" etcdctl --endpoints=https://127.0.0.1:2379 --cacert=$p/ca.crt --cert=$p/healthcheck-client.crt \
        --key=$p/healthcheck-client.key -w table member list || return 1
    [ "$(nspawn_exec "$first" etcdctl --endpoints=https://127.0.0.1:2379 --cacert=$p/ca.crt \
        --cert=$p/healthcheck-client.crt --key=$p/healthcheck-client.key member list | grep -c ', started, .*, false$')" = "$want" ]
}
check_ceph() { # NODE: the monitors in quorum, every OSD of the inventory up and in
    local want
    want=$(plan_get 'len(d["ceph"]["osds"])')
    nspawn_exec "$1" timeout 20 ceph -s --connect-timeout 10 || return 1
    nspawn_exec "$1" timeout 20 ceph osd stat -f json --connect-timeout 10 | python3 -c '
import json, sys
s, want = json.load(sys.stdin), int(sys.argv[1])
print("%d of %d OSDs up, %d in" % (s["num_up_osds"], want, s["num_in_osds"]))
sys.exit(0 if s["num_up_osds"] == want and s["num_in_osds"] == want else 1)' "$want"
}
check_dns() { # NODE: a node's name in the cluster's zone, asked from another machine
    local asker='' asked='' other addr want got
    for other in "${names[@]}"; do [ "$other" != "$1" ] && { asker=$other; break; }; done
    for other in "${names[@]}"; do [ "$other" != "$1" ] && [ "$other" != "$asker" ] && asked=$other; done
    asked=${asked:-$1} asker=${asker:-$1}
    addr=$(plan_get "[n['ip'] for n in d['nodes'] if n['name'] == '$1'][0]")
    want=$(plan_get "[n['ip'] for n in d['nodes'] if n['name'] == '$asked'][0]")
    echo "from $asker's network: dig @$addr -p $(plan_get 'd["dns"]["port"]') $asked.$(plan_get 'd["dns"]["zone"]')"
    got=$(nspawn_netexec "$asker" dig @"$addr" -p "$(plan_get 'd["dns"]["port"]')" +time=3 +tries=2 +short \
        "$asked.$(plan_get 'd["dns"]["zone"]')" A)
    echo "$got"
    [ "$got" = "$want" ]
}
check_mqtt() { # NODE
    nspawn_exec "$1" systemctl is-active mosquitto.service
}
check_kafka() { # NODE: the KRaft quorum has every broker as a voter; a message produced is consumed
    local bootstrap voters topic=clusterboot-demo
    bootstrap=$(plan_get '",".join(b["endpoint"] for b in d["kafka"]["brokers"])')
    voters=$(plan_get '",".join(str(b["node_id"]) for b in d["kafka"]["brokers"])')
    nspawn_exec "$1" /opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server "$bootstrap" describe --status \
        >"$work/kafka-quorum.txt" 2>&1
    grep -E 'ClusterId|LeaderId|CurrentVoters' "$work/kafka-quorum.txt"
    grep -q "CurrentVoters:.*\[$voters\]" "$work/kafka-quorum.txt" || return 1
    echo "produced on $1 to $bootstrap, topic $topic: hello from the demo"
    nspawn_exec "$1" sh -c "echo 'hello from the demo' | /opt/kafka/bin/kafka-console-producer.sh \
        --bootstrap-server $bootstrap --topic $topic --producer-property acks=all" >"$work/kafka-produce.log" 2>&1 ||
        { tail -n 5 "$work/kafka-produce.log"; return 1; }
    nspawn_exec "$1" timeout 60 /opt/kafka/bin/kafka-console-consumer.sh --bootstrap-server "$bootstrap" \
        --topic "$topic" --from-beginning --max-messages 1 --timeout-ms 45000 2>"$work/kafka-consume.log" |
        grep -x "hello from the demo" || { tail -n 5 "$work/kafka-consume.log"; return 1; }
}
# Kubernetes, asked from the first master with its admin.conf.
kubectl_on() { # NODE ARGS...
    local m=$1
    shift
    nspawn_exec "$m" kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"
}
check_k8s_nodes() { # MASTER: every kubelet node of the inventory registered and Ready
    local want
    want=$(plan_get 'len(d["kubernetes"]["masters"]) + len(d["kubernetes"]["workers"])')
    kubectl_on "$1" get nodes -o wide || return 1
    [ "$(kubectl_on "$1" get nodes --no-headers | awk '$2 == "Ready"' | wc -l)" = "$want" ]
}
# pod_netns NODE IP: the network namespace of the pod with IP on NODE (containerd's cni-... namespaces).
pod_netns() {
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec "$1" sh -c 'for ns in $(ip netns list | cut -d" " -f1); do
        ip -n "$ns" -4 -o addr show 2>/dev/null | grep -q " $1/" && { echo "$ns"; exit 0; }; done; exit 1' sh "$2"
}
check_k8s_pods() { # MASTER NODE_A NODE_B: a pod on each; from A's network namespace, B's pod answers and the
                   # cluster DNS resolves the API's Service
    local m=$1 a=$2 b=$3 ipa ipb ns n dns api sandbox
    # The pod sandbox image the rendered containerd config names, which the image carries (no registry).
    sandbox=$(sed -n 's/^ *sandbox_image = "\(.*\)"$/\1/p' "${root[$a]}/etc/containerd/config.toml")
    for n in "$a" "$b"; do
        kubectl_on "$m" apply -f - <<EOF || return 1
apiVersion: v1
kind: Pod
metadata: {name: demo-$n, namespace: default}
spec:
  nodeName: $n
  containers: [{name: pause, image: "$sandbox", imagePullPolicy: Never}]
EOF
    done
    kubectl_on "$m" wait --for=condition=Ready --timeout=120s pod "demo-$a" "demo-$b" || { kubectl_on "$m" get pods -o wide; return 1; }
    kubectl_on "$m" get pods -o wide
    ipa=$(kubectl_on "$m" get pod "demo-$a" -o jsonpath='{.status.podIP}')
    ipb=$(kubectl_on "$m" get pod "demo-$b" -o jsonpath='{.status.podIP}')
    ns=$(pod_netns "$a" "$ipa") || { echo "no network namespace with $ipa on $a"; return 1; }
    echo "from pod demo-$a ($ipa, $a) to pod demo-$b ($ipb, $b):"
    nspawn_exec "$a" ip netns exec "$ns" busybox ping -c 3 -W 2 "$ipb" || return 1
    dns=$(plan_get 'd["kubernetes"]["cluster_dns_ip"]')
    api=$(plan_get 'd["kubernetes"]["api_service_ip"]')
    echo "from pod demo-$a: nslookup kubernetes.default.svc.$(plan_get 'd["networking"]["cluster_domain"]') $dns"
    nspawn_exec "$a" ip netns exec "$ns" busybox nslookup \
        "kubernetes.default.svc.$(plan_get 'd["networking"]["cluster_domain"]')" "$dns" | tee "$work/k8s-dns.txt"
    grep -q "Address: $api\$\|Address 1: $api\$" "$work/k8s-dns.txt"
}

echo
echo "== checks, from inside the machines"
demo_check "etcd: every master is a started, voting member (on $first)" check_etcd
if name=$(on_node_with ceph-mon); then
    demo_check "ceph: monitors in quorum, every OSD of the inventory up and in (on $name)" check_ceph "$name"
fi
if name=$(on_node_with dns-server); then
    demo_check "dns: CoreDNS on $name answers a node's name with its inventory address" check_dns "$name"
fi
if name=$(on_node_with mqtt-broker); then
    demo_check "mqtt: mosquitto runs on $name" check_mqtt "$name"
fi
if name=$(on_node_with kafka-broker); then
    demo_check "kafka: every broker is a KRaft voter; a message produced on $name is consumed" check_kafka "$name"
fi
if [ -x "${root[$first]}/usr/local/bin/kube-apiserver" ]; then
    demo_check "kubernetes: every node Ready (kubectl get nodes on $first)" check_k8s_nodes "$first"
    mapfile -t k8s_workers < <(plan_get '"\n".join(w["node"] for w in d["kubernetes"]["workers"])')
    if [ "${#k8s_workers[@]}" -ge 2 ]; then
        demo_check "kubernetes: a pod on ${k8s_workers[0]} reaches a pod on ${k8s_workers[1]} (flannel) and resolves the API's Service (cluster DNS)" \
            check_k8s_pods "$first" "${k8s_workers[0]}" "${k8s_workers[1]}"
    fi
fi
[ -z "$components_without" ] ||
    echo "  not checked: $components_without (left out of the image, not fetched: CLUSTERBOOT_HEAVY=0)"

if [ -n "$json_out" ]; then
    printf '%s\n' "${events[@]}" | python3 -c '
import json, sys
t0, ready, ok = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
ev = [l.split() for l in sys.stdin if l.strip()]
checks = [l.rstrip("\n").split(" ", 1) for l in open(sys.argv[5]) if l.strip()]
json.dump({"ready": ok, "seconds": round(ready - t0, 3),
           "events": [{"node": n, "stage": s, "t": round(float(w) - t0, 3)} for n, s, w in ev],
           "checks": [{"name": name, "ok": rc == "0"} for rc, name in checks]},
          open(sys.argv[4], "w"), indent=2)' "$t0" "$t_ready" "$all_ready" "$json_out" <(printf '%s\n' "${checks[@]}")
fi
echo
echo "stopping the machines"
[ "$all_ready" = 1 ] && [ "$checks_failed" = 0 ]
