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
if [[ ,$components_without, != *,kubernetes,* ]]; then
    # Two things the machines' shared host imposes, set through the inventory's extra_args in a copy of the
    # inventory: kube-proxy in a container may not set the host's global nf_conntrack_max
    # (conntrack-max-per-core 0 leaves it alone, as kind does); and the kubelets see the host's file system,
    # whose statfs counts blocks no one may use (252 GiB, about 92 usable here): its default eviction
    # thresholds (nodefs 10%, imagefs 15% free) would evict every pod of a machine with room to spare.
    cp -a "$inventory" "$work/inventory" || exit 1
    k8s_yaml=$work/inventory/services/kubernetes.yaml
    grep -q '^  extra_args:$' "$k8s_yaml" || printf '  extra_args:\n' >>"$k8s_yaml"
    sed -i -e '/^  extra_args:$/a\    kube-proxy: { conntrack-max-per-core: "0" }' \
        -e '/^  extra_args:$/a\    kubelet: { eviction-hard: "memory.available<100Mi,nodefs.available<1%,imagefs.available<1%" }' \
        "$k8s_yaml"
    inventory=$work/inventory
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
# A Ceph monitor's store gets a file system of its own (a tmpfs: the demo does not reboot): on the host's,
# which the machines share, the monitor warns about that disk (MON_DISK_LOW below 30% free) and the
# cluster is never HEALTH_OK for a reason no real machine has.
declare -A nstmpfs=()
for name in "${!roles[@]}"; do [[ ,${roles[$name]}, == *,ceph-mon,* ]] && nstmpfs[$name]=/var/lib/ceph/mon; done
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
# ---- checks: what a user of the cluster looks at first, each a line, ✔ or ✘ with what was seen (the
# reason, when it fails); the demo fails when one fails. DEMO_JSON gets {"checks": {NAME: true|false}}
# with these names; a check whose service the inventory does not run is left out:
#   kubernetes-nodes-ready   every kubelet node of the inventory Ready
#   pods-on-every-node       a pod (the pause image the machine image carries) Running on every kubelet
#                            node, tolerating its taints
#   pod-to-pod-across-nodes  from one pod's network namespace, a pod on another node answers (flannel)
#   cluster-dns              from a pod, kubernetes.default.svc.DOMAIN resolves to the API's ClusterIP
#   ceph-health-ok           HEALTH_OK, every OSD of the inventory up and in
#   kafka-round-trip         a topic with the inventory's replication factor, written through one broker and
#                            read through another
#   mqtt-tls-round-trip      publish and subscribe over TLS with the generated admin user
#   node-names-resolve       every node's name (and hostname) in the zone, through each CoreDNS
# and, printed only, etcd: every master a started, voting member.
# Each asks the machines themselves; kubectl runs on the first master with the kubeconfig that
# `clusterboot kubeconfig` writes there.
checks=()
checks_failed=0
plan_json=$("$cb" plan --inventory "$inventory" --output json)
plan_get() { python3 -c "import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$plan_json" "$1"; }
demo_check() { # KEY TITLE COMMAND...: COMMAND's output below the line; KEY - for a check not in DEMO_JSON
    local key=$1 title=$2 out rc mark=✔
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    [ "$rc" = 0 ] || { mark=✘; checks_failed=$((checks_failed + 1)); }
    if [ "$key" = - ]; then echo "  $mark $title"; else echo "  $mark $key: $title"; checks+=("$rc $key"); fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/      | /'
}
on_node_with() { # ROLE: the first node with ROLE
    local name
    for name in "${names[@]}"; do [[ ,${roles[$name]}, == *,$1,* ]] && { echo "$name"; return 0; }; done
    return 1
}
ip_of() { plan_get "[n['ip'] for n in d['nodes'] if n['name'] == '$1'][0]"; }
# retry SECONDS COMMAND...: COMMAND until it succeeds or SECONDS pass; its last output either way.
retry() {
    local until=$(($(date +%s) + $1)) out rc
    shift
    while :; do
        out=$("$@" 2>&1)
        rc=$?
        [ "$rc" = 0 ] || [ "$(date +%s)" -ge "$until" ] && break
        sleep 5
    done
    printf '%s\n' "$out"
    return "$rc"
}

check_etcd() { # every master a started, voting member
    local p=/etc/kubernetes/pki/etcd want
    want=$(plan_get 'sum("master" in n["roles"] for n in d["nodes"])')
    nspawn_exec "$first" etcdctl --endpoints=https://127.0.0.1:2379 --cacert=$p/ca.crt --cert=$p/healthcheck-client.crt \
        --key=$p/healthcheck-client.key -w table member list || return 1
    [ "$(nspawn_exec "$first" etcdctl --endpoints=https://127.0.0.1:2379 --cacert=$p/ca.crt \
        --cert=$p/healthcheck-client.crt --key=$p/healthcheck-client.key member list | grep -c ', started, .*, false$')" = "$want" ]
}
ceph_health_ok() { # NODE
    local want
    want=$(plan_get 'len(d["ceph"]["osds"])')
    nspawn_exec "$1" timeout 20 ceph -s -f json --connect-timeout 10 | python3 -c '
import json, sys
s, want = json.load(sys.stdin), int(sys.argv[1])
o = s["osdmap"].get("osdmap", s["osdmap"])
h = s["health"]
print("%s; %d of %d OSDs up, %d in" % (h["status"], o["num_up_osds"], want, o["num_in_osds"]))
for name, c in h.get("checks", {}).items():
    print("  %s: %s" % (name, c["summary"]["message"]))
sys.exit(0 if h["status"] == "HEALTH_OK" and o["num_up_osds"] == want and o["num_in_osds"] == want else 1)' "$want"
}
check_ceph() { # NODE: HEALTH_OK and every OSD up and in, within 2 minutes (placement groups peer first)
    retry 120 ceph_health_ok "$1" || { nspawn_exec "$1" timeout 20 ceph -s --connect-timeout 10; return 1; }
}
check_dns() { # every node's name (and hostname) in the zone, from another machine, through each CoreDNS
    local zone port srv asker name want got bad=0 host
    zone=$(plan_get 'd["dns"]["zone"]')
    port=$(plan_get 'd["dns"]["port"]')
    for srv in $(plan_get '" ".join(s["node"] for s in d["dns"]["servers"])'); do
        asker=$(printf '%s\n' "${names[@]}" | grep -vx "$srv" | head -n 1)
        asker=${asker:-$srv}
        for name in "${names[@]}"; do
            want=$(ip_of "$name")
            host=$(plan_get "[n.get('hostname') or n['name'] for n in d['nodes'] if n['name'] == '$name'][0]")
            for q in $(printf '%s\n' "$name" "$host" | sort -u); do
                got=$(nspawn_netexec "$asker" dig @"$(ip_of "$srv")" -p "$port" +time=3 +tries=2 +short "$q.$zone" A)
                [ "$got" = "$want" ] || { echo "dig @$srv $q.$zone from $asker: '$got', want $want"; bad=1; }
            done
        done
        echo "CoreDNS on $srv, asked from $asker: each of ${#names[@]} nodes' names in $zone has its inventory address"
    done
    return $bad
}
check_mqtt() { # NODE: subscribe, and publish over TLS, with the admin user of the generated credentials
    local pw port tls
    pw=$(awk -F: '$1 == "admin" { print substr($0, length($1) + 2); exit }' \
        "${root[$first]}/etc/cluster-config/secrets/mqtt/credentials" 2>/dev/null)
    [ -n "$pw" ] || { echo "no admin user in $first's /etc/cluster-config/secrets/mqtt/credentials"; return 1; }
    port=$(plan_get 'd["mqtt"]["port"]')
    tls=$(plan_get 'd["mqtt"]["tls_port"]')
    # shellcheck disable=SC2016 # expanded by the shell inside the machine
    nspawn_exec "$1" sh -c '
        mosquitto_sub -h "$1" -p "$3" --cafile /etc/mosquitto/certs/ca.crt -u admin -P "$4" -t clusterboot/demo \
            -C 1 -W 30 >/tmp/demo-sub.out 2>&1 &
        sub=$!
        sleep 2
        mosquitto_pub -h "$1" -p "$3" --cafile /etc/mosquitto/certs/ca.crt -u admin -P "$4" -t clusterboot/demo \
            -m "hello over TLS" -q 1 || exit 1
        wait $sub
        cat /tmp/demo-sub.out' sh "$(ip_of "$1")" "$port" "$tls" "$pw" | tee "$work/mqtt.out"
    echo "(published and subscribed as admin on port $tls, the server checked against the cluster's CA)"
    grep -qx 'hello over TLS' "$work/mqtt.out"
}
check_kafka() { # a topic with the inventory's replication factor, written through one broker, read through another
    local rf from to topic=clusterboot-demo
    rf=$(plan_get 'd["kafka"]["default_replication_factor"]')
    from=$(plan_get 'd["kafka"]["brokers"][0]["endpoint"]')
    to=$(plan_get 'd["kafka"]["brokers"][-1]["endpoint"]')
    nspawn_exec "$1" /opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server "$from" describe --status 2>/dev/null |
        grep -E 'LeaderId|CurrentVoters'
    nspawn_exec "$1" /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$from" --create --if-not-exists --topic "$topic" \
        --partitions 1 --replication-factor "$rf" 2>&1 | grep -v '^\[' || true
    nspawn_exec "$1" /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$from" --describe --topic "$topic" 2>/dev/null |
        grep -E "ReplicationFactor: ?$rf\b" || { echo "topic $topic has no replication factor $rf"; return 1; }
    echo "written through $from, read through $to:"
    nspawn_exec "$1" sh -c "echo 'hello from the demo' | /opt/kafka/bin/kafka-console-producer.sh \
        --bootstrap-server $from --topic $topic --producer-property acks=all" >"$work/kafka-produce.log" 2>&1 ||
        { tail -n 5 "$work/kafka-produce.log"; return 1; }
    nspawn_exec "$1" timeout 60 /opt/kafka/bin/kafka-console-consumer.sh --bootstrap-server "$to" \
        --topic "$topic" --from-beginning --max-messages 1 --timeout-ms 45000 2>"$work/kafka-consume.log" |
        grep -x "hello from the demo" || { tail -n 5 "$work/kafka-consume.log"; return 1; }
}

# Kubernetes, from the first master, with the admin kubeconfig `clusterboot kubeconfig` signs there.
kubectl_on() { nspawn_exec "$first" kubectl --kubeconfig /root/.kube/config "$@"; }
check_k8s_nodes() { # every kubelet node of the inventory registered and Ready
    local want
    want=$(plan_get 'len(d["kubernetes"]["masters"]) + len(d["kubernetes"]["workers"])')
    kubectl_on get nodes -o wide || return 1
    [ "$(kubectl_on get nodes --no-headers | awk '$2 == "Ready"' | wc -l)" = "$want" ] ||
        { echo "not $want nodes Ready"; return 1; }
}
# pod_netns NODE IP: the network namespace of the pod with IP on NODE (containerd's cni-... namespaces).
pod_netns() {
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec "$1" sh -c 'for ns in $(ip netns list | cut -d" " -f1); do
        ip -n "$ns" -4 -o addr show 2>/dev/null | grep -q " $1/" && { echo "$ns"; exit 0; }; done; exit 1' sh "$2"
}
# The kubelet nodes of the inventory (each check runs in a subshell: set here, not in one).
mapfile -t k8s_nodes < <(plan_get '"\n".join(n["node"] for n in d.get("kubernetes", {}).get("masters", []) + d.get("kubernetes", {}).get("workers", []))')
check_k8s_pods() { # a pod on every kubelet node, tolerating its taints (the pause image the machine image carries)
    local n sandbox
    # The pod sandbox image the rendered containerd config names, which the image carries (no registry).
    sandbox=$(sed -n 's/^ *sandbox_image = "\(.*\)"$/\1/p' "${root[$first]}/etc/containerd/config.toml")
    for n in "${k8s_nodes[@]}"; do
        kubectl_on apply -f - >/dev/null <<EOF || return 1
apiVersion: v1
kind: Pod
metadata: {name: demo-$n, namespace: default, labels: {app: clusterboot-demo}}
spec:
  nodeName: $n
  tolerations: [{operator: Exists}]
  containers: [{name: pause, image: "$sandbox", imagePullPolicy: Never}]
EOF
    done
    kubectl_on wait --for=condition=Ready --timeout=180s pod -l app=clusterboot-demo >/dev/null
    kubectl_on get pods -l app=clusterboot-demo -o wide
    [ "$(kubectl_on get pods -l app=clusterboot-demo --no-headers | awk '$3 == "Running"' | wc -l)" = "${#k8s_nodes[@]}" ] ||
        { echo "not a Running pod on each of the ${#k8s_nodes[@]} nodes"; return 1; }
}
pod_ip() { kubectl_on get pod "demo-$1" -o jsonpath='{.status.podIP}'; }
check_pod_to_pod() { # from the pod on the first worker, the pod on every other node answers
    local a=$1 ipa ns n ip bad=0 asked=0
    ipa=$(pod_ip "$a")
    ns=$(pod_netns "$a" "$ipa") || { echo "no network namespace with $ipa on $a"; return 1; }
    for n in "${k8s_nodes[@]}"; do
        [ "$n" != "$a" ] || continue
        asked=$((asked + 1))
        ip=$(pod_ip "$n")
        if nspawn_exec "$a" ip netns exec "$ns" busybox ping -c 2 -W 2 "$ip" >/dev/null 2>&1; then
            echo "demo-$a ($ipa on $a) -> demo-$n ($ip on $n): answers"
        else
            echo "demo-$a ($ipa on $a) -> demo-$n ($ip on $n): no answer"
            bad=1
        fi
    done
    [ "$asked" -gt 0 ] || { echo "no other kubelet node to reach"; return 1; }
    return $bad
}
check_cluster_dns() { # from a pod, the API's Service name resolves to its ClusterIP through kube-dns
    local a=$1 ns dns api name
    ns=$(pod_netns "$a" "$(pod_ip "$a")") || return 1
    dns=$(plan_get 'd["kubernetes"]["cluster_dns_ip"]')
    api=$(plan_get 'd["kubernetes"]["api_service_ip"]')
    name=kubernetes.default.svc.$(plan_get 'd["networking"]["cluster_domain"]')
    echo "from pod demo-$a: nslookup $name $dns"
    nspawn_exec "$a" ip netns exec "$ns" busybox nslookup "$name" "$dns" | tee "$work/k8s-dns.txt"
    grep -q "Address: $api\$\|Address 1: $api\$" "$work/k8s-dns.txt"
}

echo
echo "== checks, from inside the machines"
demo_check - "etcd: every master is a started, voting member (on $first)" check_etcd
if [ -x "${root[$first]}/usr/local/bin/kube-apiserver" ]; then
    nspawn_exec "$first" mkdir -p /root/.kube
    nspawn_exec "$first" clusterboot kubeconfig --output /root/.kube/config >/dev/null 2>"$work/kubeconfig.log" ||
        sed 's/^/  /' "$work/kubeconfig.log"
    demo_check kubernetes-nodes-ready "every node Ready (kubectl get nodes, with clusterboot kubeconfig's)" check_k8s_nodes
    demo_check pods-on-every-node "a pod Running on every node, tolerating its taints" check_k8s_pods
    a=$(plan_get '(d["kubernetes"]["workers"] or d["kubernetes"]["masters"])[0]["node"]')
    demo_check pod-to-pod-across-nodes "from the pod on $a, the pod on every other node answers (flannel)" \
        check_pod_to_pod "$a"
    demo_check cluster-dns "from a pod, the API's Service name resolves to its ClusterIP (kube-dns)" check_cluster_dns "$a"
fi
if name=$(on_node_with ceph-mon); then
    demo_check ceph-health-ok "HEALTH_OK, every OSD of the inventory up and in (ceph -s on $name)" check_ceph "$name"
fi
if name=$(on_node_with kafka-broker); then
    demo_check kafka-round-trip "a topic with the inventory's replication factor, written through one broker, read through another" \
        check_kafka "$name"
fi
if name=$(on_node_with mqtt-broker); then
    demo_check mqtt-tls-round-trip "publish and subscribe over TLS as the generated admin user (on $name)" check_mqtt "$name"
fi
if on_node_with dns-server >/dev/null; then
    demo_check node-names-resolve "every node's name in the zone through each CoreDNS, from another machine" check_dns
fi
[ -z "$components_without" ] ||
    echo "  not checked: $components_without (left out of the image, not fetched: CLUSTERBOOT_HEAVY=0)"

if [ -n "$json_out" ]; then
    printf '%s\n' "${events[@]}" | python3 -c '
import json, sys
t0, ready, ok = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
ev = [l.split() for l in sys.stdin if l.strip()]
checks = [l.split() for l in open(sys.argv[5]) if l.strip()]
json.dump({"ready": ok, "seconds": round(ready - t0, 3),
           "events": [{"node": n, "stage": s, "t": round(float(w) - t0, 3)} for n, s, w in ev],
           "checks": {key: rc == "0" for rc, key in checks}},
          open(sys.argv[4], "w"), indent=2)' "$t0" "$t_ready" "$all_ready" "$json_out" <(printf '%s\n' "${checks[@]}")
fi
echo
echo "stopping the machines"
[ "$all_ready" = 1 ] && [ "$checks_failed" = 0 ]
