# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables used by the scripts that source this
# The checks of a running cluster, from inside its machines: what a user of the cluster looks at first.
# The main job (scripts/demo.sh) and the whole-cluster scenarios (test-nspawn-cluster.sh) run the same
# ones. Sourced after lib-nspawn.sh (nspawn_exec, nspawn_netexec, $work). A caller:
#   checks_init CB INVENTORY [DIR]   the plan of INVENTORY; the nodes, the first master; the checks'
#                               outputs into DIR (default $work/checks)
#   checks_run                  every check whose service the inventory runs, each reported through the
#                               caller's checks_report KEY TITLE RC OUTFILE (KEY - : printed only)
# The checks, by key (DEMO_JSON's names; the issue's):
#   kubernetes-nodes-ready   every kubelet node of the inventory Ready
#   pods-on-every-node       a pod (the pause image the machine image carries: no registry) Running on every
#                            kubelet node, tolerating its taints
#   pod-to-pod-across-nodes  from one pod's network namespace, a pod on every other node answers (flannel)
#   cluster-dns              from a pod, kubernetes.default.svc.DOMAIN resolves to the API's ClusterIP
#   ceph-health-ok           HEALTH_OK, every OSD of the inventory up and in
#   kafka-round-trip         a topic with the inventory's replication factor, written through one broker and
#                            read through another
#   mqtt-tls-round-trip      over TLS with the generated users: one publishes, another receives, as their ACLs
#                            allow; a publish an ACL denies never arrives
#   node-names-resolve       every node's name and hostname (in the zone; a dotted one as written) through each
#                            CoreDNS
# and "-": etcd, every master a started, voting member. Each check may be run again on the same cluster (a
# reboot, a reinstalled node): its objects are made anew or reused, its messages are new. kubectl runs on the
# first master with the admin kubeconfig `clusterboot kubeconfig` writes there.

checks_init() { # CB INVENTORY [DIR]
    checks_plan=$("$1" plan --inventory "$2" --output json) || return 1
    checks_dir=${3:-$work/checks}
    mkdir -p "$checks_dir"
    mapfile -t checks_nodes < <(checks_plan_get '"\n".join(n["name"] for n in d["nodes"])')
    checks_first=$(checks_plan_get '[n["name"] for n in d["nodes"] if "master" in n["roles"]][0]')
    # The kubelet nodes of the inventory.
    mapfile -t checks_kubelets < <(checks_plan_get '"\n".join(n["node"] for n in d.get("kubernetes", {}).get("masters", []) + d.get("kubernetes", {}).get("workers", []))')
}
checks_plan_get() { python3 -c "import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$checks_plan" "$1"; }
checks_node_with() { # ROLE: the first node with ROLE
    checks_plan_get "next((n['name'] for n in d['nodes'] if '$1' in n['roles']), '')" | grep .
}
checks_ip_of() { checks_plan_get "[n['ip'] for n in d['nodes'] if n['name'] == '$1'][0]"; }
# checks_retry SECONDS COMMAND...: COMMAND until it succeeds or SECONDS pass; its last output either way, and
# how many attempts it took when more than one.
checks_retry() {
    local start until out rc n=0
    start=$(date +%s)
    until=$((start + $1))
    shift
    while :; do
        out=$("$@" 2>&1)
        rc=$?
        n=$((n + 1))
        [ "$rc" = 0 ] || [ "$(date +%s)" -ge "$until" ] && break
        sleep 5
    done
    printf '%s\n' "$out"
    [ "$n" = 1 ] || echo "($n attempts in $(($(date +%s) - start)) s)"
    return "$rc"
}
# checks_one KEY TITLE COMMAND...: runs COMMAND, its output to a file, and reports.
checks_one() {
    local key=$1 title=$2 out=$checks_dir/$1.out rc
    shift 2
    [ "$key" != - ] || out=$checks_dir/etcd.out
    "$@" >"$out" 2>&1
    rc=$?
    checks_report "$key" "$title" "$rc" "$out"
}

# ---- the checks ----
check_etcd() { # every master a started, voting member
    local p=/etc/kubernetes/pki/etcd want args
    want=$(checks_plan_get 'sum("master" in n["roles"] for n in d["nodes"])')
    args=(--endpoints=https://127.0.0.1:2379 --cacert=$p/ca.crt --cert=$p/healthcheck-client.crt --key=$p/healthcheck-client.key)
    nspawn_exec "$checks_first" etcdctl "${args[@]}" -w table member list || return 1
    [ "$(nspawn_exec "$checks_first" etcdctl "${args[@]}" member list | grep -c ', started, .*, false$')" = "$want" ]
}
checks_ceph_health() { # NODE
    local want
    want=$(checks_plan_get 'len(d["ceph"]["osds"])')
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
# check_ceph NODE: HEALTH_OK and every OSD up and in, within 4 minutes: placement groups peer first. After a
# whole-cluster power cut (scenario 6), the one PG stayed "peering" for good in three full runs: an OSD back
# with its old PID had its old address, and the monitors ignored its boot (units/ceph-osd@.service says
# more; fixed there). A report shows only the first 20 lines or so of a failure, so what each PG that is
# not active waits for comes right after the summary: its peering state from its primary, the primary's
# log, the OSDs' up_from and up_thru; then whether `ceph pg repeer` (what an operator would try first) gets
# it active within 30 s; ceph -s and health detail last.
check_ceph() {
    checks_retry 240 checks_ceph_health "$1" || {
        checks_ceph_stuck "$1"
        checks_ceph_repeer "$1"
        nspawn_exec "$1" timeout 20 ceph -s --connect-timeout 10
        nspawn_exec "$1" timeout 20 ceph health detail --connect-timeout 10
        checks_ceph_slow_ops "$1"
        return 1
    }
}
# checks_ceph_inactive NODE: the ids of the PGs that are not active
checks_ceph_inactive() {
    nspawn_exec "$1" timeout 20 ceph pg ls -f json --connect-timeout 10 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in d.get("pg_stats", d if isinstance(d, list) else []):
    if "active" not in p["state"]:
        print(p["pgid"])'
}
# checks_ceph_repeer NODE: each PG that is not active asked to peer again; whether that got HEALTH_OK within
# 30 s. A diagnosis only: the check has failed already.
checks_ceph_repeer() {
    local pg t0
    t0=$(date +%s)
    for pg in $(checks_ceph_inactive "$1"); do
        nspawn_exec "$1" timeout 20 ceph pg repeer "$pg" --connect-timeout 10 || continue
        while ! checks_ceph_health "$1" >/dev/null 2>&1 && [ $(($(date +%s) - t0)) -lt 30 ]; do sleep 2; done
        echo "after ceph pg repeer $pg: $(checks_ceph_health "$1" 2>&1 | head -n 1) ($(($(date +%s) - t0)) s)"
    done
}
# checks_ceph_stuck NODE: per PG that is not active its state, up and acting sets, the peering states its
# primary is in with what each one waits for, and the primary's log; then a line per OSD (up_from, up_thru,
# down_at).
checks_ceph_stuck() {
    local pg
    for pg in $(checks_ceph_inactive "$1"); do
        nspawn_exec "$1" timeout 30 ceph pg "$pg" query --connect-timeout 10 | python3 -c '
import json, sys
q = json.load(sys.stdin)
print("pg %s: %s, up %s, acting %s, epoch %s" % (sys.argv[1], q.get("state"), q.get("up"), q.get("acting"), q.get("epoch")))
for r in q.get("recovery_state", []):
    extra = {k: v for k, v in r.items() if k not in ("name", "enter_time", "probing_osds")}
    print("  %s since %s %s" % (r.get("name"), r.get("enter_time"), json.dumps(extra)[:300] if extra else ""))' "$pg" ||
            echo "pg $pg: no answer to ceph pg query (its primary OSD does not answer)"
        checks_ceph_primary_log "$1" "$pg"
    done
    nspawn_exec "$1" timeout 20 ceph osd dump --connect-timeout 10 | grep '^osd\.' | cut -c1-160
}
# checks_ceph_slow_ops NODE: for each daemon with slow ops (SLOW_OPS), the ops it holds, from its admin socket
# on the machine that runs it (a monitor's name is its node's; an OSD's host is its CRUSH host): which op,
# since when, and the last event it reached.
checks_ceph_slow_ops() {
    local d host
    for d in $(nspawn_exec "$1" timeout 20 ceph health detail -f json --connect-timeout 10 | python3 -c '
import json, re, sys
c = json.load(sys.stdin).get("checks", {}).get("SLOW_OPS")
if c:
    print(" ".join(sorted(set(re.findall(r"\b(?:mon|osd|mds|mgr)\.[A-Za-z0-9_-]+", c["summary"]["message"])))))'); do
        case $d in
        osd.*) host=$(nspawn_exec "$1" timeout 20 ceph osd find "${d#osd.}" -f json --connect-timeout 10 |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["crush_location"]["host"])' 2>/dev/null) ;;
        *) host=${d#*.} ;;
        esac
        echo "$d on $host, its ops in flight:"
        nspawn_exec "$host" timeout 20 ceph daemon "$d" ops 2>&1 | python3 -c '
import json, sys
try:
    ops = json.load(sys.stdin).get("ops", [])
except ValueError:
    print("  (no answer from its admin socket)"); sys.exit(0)
for o in ops[:6]:
    ev = o.get("type_data", {}).get("events") or o.get("type_data", {}).get("flag_point", "")
    last = ev[-1].get("event", "") if isinstance(ev, list) and ev else ev
    print("  %s, %.0f s, %s" % (o.get("description", "")[:120], o.get("age", 0), last))'
    done
}
# checks_ceph_primary_log NODE PG: the last lines of the PG's primary OSD's log about it, and its peering
# and heartbeat troubles, from the machine that runs it (its CRUSH host).
checks_ceph_primary_log() {
    local osd host
    osd=$(nspawn_exec "$1" timeout 20 ceph pg map "$2" -f json --connect-timeout 10 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["acting_primary"])' 2>/dev/null)
    [ -n "$osd" ] || return 0
    host=$(nspawn_exec "$1" timeout 20 ceph osd find "$osd" -f json --connect-timeout 10 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["crush_location"]["host"])' 2>/dev/null)
    [ -n "$host" ] || return 0
    echo "osd.$osd on $host, its log:"
    nspawn_exec "$host" sh -c "grep -E 'wrongly marked|heartbeat_check|no reply|WaitUpThru|peering|$2' \
        /var/log/ceph/ceph-osd.$osd.log | tail -n 6 | cut -c1-220"
}
check_dns() { # every node's name (and hostname) in the zone, from another machine, through each CoreDNS
    local zone port srv asker name want got bad=0 host q
    zone=$(checks_plan_get 'd["dns"]["zone"]')
    port=$(checks_plan_get 'd["dns"]["port"]')
    for srv in $(checks_plan_get '" ".join(s["node"] for s in d["dns"]["servers"])'); do
        asker=$(printf '%s\n' "${checks_nodes[@]}" | grep -vx "$srv" | head -n 1)
        asker=${asker:-$srv}
        for name in "${checks_nodes[@]}"; do
            want=$(checks_ip_of "$name")
            host=$(checks_plan_get "[n.get('hostname') or n['name'] for n in d['nodes'] if n['name'] == '$name'][0]")
            # NAME.ZONE and the hostname's first label in the zone; a dotted hostname also as written
            # (docs/inventory.md, "Hostnames").
            for q in $(printf '%s\n' "$name.$zone" "${host%%.*}.$zone" "$([[ $host == *.* ]] && echo "$host")" | grep . | sort -u); do
                got=$(nspawn_netexec "$asker" dig @"$(checks_ip_of "$srv")" -p "$port" +time=3 +tries=2 +short "$q" A)
                [ "$got" = "$want" ] || { echo "dig @$srv $q from $asker: '$got', want $want"; bad=1; }
            done
        done
        echo "CoreDNS on $srv, asked from $asker: each of ${#checks_nodes[@]} nodes' names in $zone has its inventory address"
    done
    return $bad
}
# checks_mqtt_pick: from the inventory's users and ACLs (mosquitto's topic filters, + and #), "WRITER READER
# TOPIC": a topic WRITER may publish to and READER may read, two users where the ACLs allow; then, where some
# user may not publish to a topic READER reads, "DENIED TOPIC2" (that publish must never arrive).
checks_mqtt_pick() {
    python3 - "$checks_plan" <<'PY'
import json, sys
users = json.loads(sys.argv[1])["mqtt"]["users"]
def match(f, topic):
    f, t = f.split("/"), topic.split("/")
    for i, x in enumerate(f):
        if x == "#":
            return True
        if i >= len(t) or x not in ("+", t[i]):
            return False
    return len(f) == len(t)
def filters(u, *kinds):
    return [a.split(" ", 1)[1] for a in u["acl"] if a.split(" ", 1)[0] in kinds]
def may(u, kind, topic):
    return any(match(f, topic) for f in filters(u, kind, "readwrite")) and \
        not any(match(f, topic) for f in filters(u, "deny"))
def topic_in(f):
    return "/".join({"+": "check", "#": "clusterboot-check"}.get(x, x) for x in f.split("/"))
pairs = sorted(((w["name"] == r["name"], w["name"], r["name"], t)
                for w in users for t in map(topic_in, filters(w, "write", "readwrite")) if not t.startswith("$")
                for r in users if may(w, "write", t) and may(r, "read", t)), key=lambda p: p[0])
if not pairs:
    sys.exit("no user may publish to a topic that a user may read: nothing to round-trip")
_, w, r, t = pairs[0]
reader = next(u for u in users if u["name"] == r)
denied = [(u["name"], t2) for t2 in map(topic_in, filters(reader, "read", "readwrite")) if t2 != t and not t2.startswith("$")
          and may(reader, "read", t2) for u in users if not may(u, "write", t2)]
print(w, r, t, *(denied[0] if denied else ()))
PY
}
checks_mqtt_pw() { # USER: the password of USER in $checks_mqtt_creds (the cluster's "user:password" lines)
    [ -n "$1" ] && awk -F: -v u="$1" '$1 == u { print substr($0, length($1) + 2); exit }' <<<"$checks_mqtt_creds" | grep .
}
check_mqtt() { # NODE: over TLS, a user publishes and another receives as their ACLs allow; a publish they deny is dropped
    local tls msg no pick w r topic dn dtopic u
    pick=$(checks_mqtt_pick) || return 1
    read -r w r topic dn dtopic <<<"$pick"
    checks_mqtt_creds=$(nspawn_exec "$checks_first" cat /etc/cluster-config/secrets/mqtt/credentials 2>/dev/null)
    for u in "$w" "$r" ${dn:+"$dn"}; do
        checks_mqtt_pw "$u" >/dev/null ||
            { echo "no user $u in $checks_first's /etc/cluster-config/secrets/mqtt/credentials"; return 1; }
    done
    tls=$(checks_plan_get 'd["mqtt"]["tls_port"]')
    msg="hello over TLS $(date +%s.%N)" no="denied $(date +%s.%N)"
    # The subscriber takes the first message that arrives on either topic: the denied publish goes 2 s before
    # the allowed one, so it would be the one received if the broker let it through.
    # shellcheck disable=SC2016 # expanded by the shell inside the machine
    nspawn_exec "$1" sh -c '
        ip=$1 tls=$2 ca=/etc/mosquitto/certs/ca.crt
        mosquitto_sub -h "$ip" -p "$tls" --cafile $ca -u "$3" -P "$4" -t "$5" ${9:+-t "$9"} -C 1 -W 30 >/tmp/cb-check-sub.out 2>&1 &
        sub=$!
        sleep 2
        if [ -n "$8" ]; then
            mosquitto_pub -h "$ip" -p "$tls" --cafile $ca -u "$8" -P "${10}" -t "$9" -m "${11}" -q 1 || exit 1
            sleep 2
        fi
        mosquitto_pub -h "$ip" -p "$tls" --cafile $ca -u "$6" -P "$7" -t "$5" -m "${12}" -q 1 || exit 1
        wait $sub
        cat /tmp/cb-check-sub.out' sh "$(checks_ip_of "$1")" "$tls" "$r" "$(checks_mqtt_pw "$r")" "$topic" "$w" \
        "$(checks_mqtt_pw "$w")" "${dn:-}" "${dtopic:-}" "$(checks_mqtt_pw "${dn:-}")" "$no" "$msg" >"$checks_dir/mqtt.sub"
    cat "$checks_dir/mqtt.sub"
    echo "($w published to $topic and $r received it, on TLS port $tls of $1, the server checked against the cluster's CA)"
    [ -z "${dn:-}" ] || echo "($dn published to $dtopic first, which its ACL denies: $r must not have received that)"
    grep -qxF "$msg" "$checks_dir/mqtt.sub"
}
# The JVM's container support reads the cgroup paths of /proc/self/cgroup, which are the host's for a process
# nsenter put into the machine: it prints a NullPointerException. Off for the checks' own Kafka tools.
checks_kafka_env=(env KAFKA_OPTS=-XX:-UseContainerSupport)
checks_kafka_topic() { # NODE BOOTSTRAP TOPIC RF: TOPIC made with RF replicas, and described so
    local k=("${checks_kafka_env[@]}")
    nspawn_exec "$1" "${k[@]}" /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$2" --create --if-not-exists --topic "$3" \
        --partitions 1 --replication-factor "$4" 2>&1 | grep -v '^\['
    nspawn_exec "$1" "${k[@]}" /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$2" --describe --topic "$3" 2>/dev/null |
        grep -E "ReplicationFactor: ?$4\b" || { echo "topic $3 has no replication factor $4"; return 1; }
}
check_kafka() { # NODE: a topic with the inventory's replication factor, written through one broker, read through another
    local rf from to topic msg
    rf=$(checks_plan_get 'd["kafka"]["default_replication_factor"]')
    from=$(checks_plan_get 'd["kafka"]["brokers"][0]["endpoint"]')
    to=$(checks_plan_get 'd["kafka"]["brokers"][-1]["endpoint"]')
    topic=clusterboot-check-$(date +%s) # new on every run
    local k=("${checks_kafka_env[@]}")
    nspawn_exec "$1" "${k[@]}" /opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server "$from" describe --status 2>/dev/null |
        grep -E 'LeaderId|CurrentVoters'
    # Brokers that just booted with the others (a whole cluster rebooted) may not all be registered yet:
    # "Timed out waiting for a node assignment". The topic is made (--if-not-exists) until it is, within 2 min.
    checks_retry 120 checks_kafka_topic "$1" "$from" "$topic" "$rf" || return 1
    echo "written through $from, read through $to:"
    # A partition whose replicas are not all in sync yet refuses acks=all: a new message until it takes one.
    : >"$checks_dir/kafka-sent"
    checks_retry 120 checks_kafka_round_trip "$1" "$from" "$to" "$topic"
}
checks_kafka_round_trip() { # NODE FROM TO TOPIC: a new message written through FROM, read through TO
    local k=("${checks_kafka_env[@]}") msg sent
    msg="hello from the checks $(date +%s.%N)"
    # The topic holds at most one message per attempt (a refused one is not there): read that many.
    echo "$msg" >>"$checks_dir/kafka-sent"
    sent=$(wc -l <"$checks_dir/kafka-sent")
    # shellcheck disable=SC2016 # expanded by the shell inside the machine
    nspawn_exec "$1" "${k[@]}" sh -c 'echo "$3" | /opt/kafka/bin/kafka-console-producer.sh --bootstrap-server "$1" \
        --topic "$2" --producer-property acks=all' sh "$2" "$4" "$msg" >"$checks_dir/kafka-produce.log" 2>&1 ||
        { tail -n 5 "$checks_dir/kafka-produce.log"; return 1; }
    # The partition's replicas and which are in sync, for the output either way.
    nspawn_exec "$1" "${k[@]}" /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$2" --describe --topic "$4" 2>/dev/null |
        grep -E 'Partition: '
    nspawn_exec "$1" "${k[@]}" timeout 60 /opt/kafka/bin/kafka-console-consumer.sh --bootstrap-server "$3" \
        --topic "$4" --from-beginning --max-messages "$sent" --timeout-ms 45000 2>"$checks_dir/kafka-consume.log" |
        grep -xF "$msg" ||
        { grep -v '^\[' "$checks_dir/kafka-produce.log" | tail -n 5; tail -n 5 "$checks_dir/kafka-consume.log"; return 1; }
}

# Kubernetes, from the first master, with the admin kubeconfig `clusterboot kubeconfig` signs there.
checks_kubectl() { nspawn_exec "$checks_first" kubectl --kubeconfig /root/.kube/config "$@"; }
checks_nodes_ready() {
    local want=${#checks_kubelets[@]}
    checks_kubectl get nodes -o wide || return 1
    [ "$(checks_kubectl get nodes --no-headers | awk '$2 == "Ready"' | wc -l)" = "$want" ] ||
        { echo "not $want nodes Ready"; return 1; }
}
check_k8s_nodes() { # every kubelet node of the inventory registered and Ready (a rebooted one within 2 minutes)
    checks_retry 120 checks_nodes_ready
}
# checks_pod_netns NODE IP: the network namespace of the pod with IP on NODE (containerd's cni-... namespaces).
checks_pod_netns() {
    # shellcheck disable=SC2016 # expanded inside the machine
    nspawn_exec "$1" sh -c 'for ns in $(ip netns list | cut -d" " -f1); do
        ip -n "$ns" -4 -o addr show 2>/dev/null | grep -q " $1/" && { echo "$ns"; exit 0; }; done; exit 1' sh "$2"
}
check_k8s_pods() { # a pod on every kubelet node, tolerating its taints (the pause image the machine image carries)
    local n sandbox
    # The pod sandbox image the rendered containerd config names, which the image carries (no registry).
    sandbox=$(nspawn_exec "$checks_first" sed -n 's/^ *sandbox_image = "\(.*\)"$/\1/p' /etc/containerd/config.toml)
    [ -n "$sandbox" ] || { echo "no sandbox_image in $checks_first's /etc/containerd/config.toml"; return 1; }
    for n in "${checks_kubelets[@]}"; do
        checks_kubectl apply -f - >/dev/null <<EOF || return 1
apiVersion: v1
kind: Pod
metadata: {name: check-$n, namespace: default, labels: {app: clusterboot-check}}
spec:
  nodeName: $n
  tolerations: [{operator: Exists}]
  containers: [{name: pause, image: "$sandbox", imagePullPolicy: Never}]
EOF
    done
    checks_kubectl wait --for=condition=Ready --timeout=180s pod -l app=clusterboot-check >/dev/null
    checks_kubectl get pods -l app=clusterboot-check -o wide
    [ "$(checks_kubectl get pods -l app=clusterboot-check --no-headers | awk '$3 == "Running"' | wc -l)" = "${#checks_kubelets[@]}" ] ||
        { echo "not a Running pod on each of the ${#checks_kubelets[@]} nodes"; return 1; }
}
checks_pod_ip() { checks_kubectl get pod "check-$1" -o jsonpath='{.status.podIP}'; }
checks_pods_answer() { # NODE: from its pod, the pod on every other node answers
    local a=$1 ipa ns n ip bad=0 asked=0
    ipa=$(checks_pod_ip "$a")
    ns=$(checks_pod_netns "$a" "$ipa") || { echo "no network namespace with $ipa on $a"; return 1; }
    for n in "${checks_kubelets[@]}"; do
        [ "$n" != "$a" ] || continue
        asked=$((asked + 1))
        ip=$(checks_pod_ip "$n")
        if nspawn_exec "$a" ip netns exec "$ns" busybox ping -c 2 -W 2 "$ip" >/dev/null 2>&1; then
            echo "check-$a ($ipa on $a) -> check-$n ($ip on $n): answers"
        else
            echo "check-$a ($ipa on $a) -> check-$n ($ip on $n): no answer"
            bad=1
        fi
    done
    [ "$asked" -gt 0 ] || { echo "no other kubelet node to reach"; return 1; }
    return $bad
}
check_pod_to_pod() { # NODE (routes of a node that just came up may take a moment: within a minute)
    checks_retry 60 checks_pods_answer "$1"
}
check_cluster_dns() { # NODE: from its pod, the API's Service name resolves to its ClusterIP through kube-dns
    local a=$1 ns dns api name
    ns=$(checks_pod_netns "$a" "$(checks_pod_ip "$a")") || { echo "no pod network namespace on $a"; return 1; }
    dns=$(checks_plan_get 'd["kubernetes"]["cluster_dns_ip"]')
    api=$(checks_plan_get 'd["kubernetes"]["api_service_ip"]')
    name=kubernetes.default.svc.$(checks_plan_get 'd["networking"]["cluster_domain"]')
    echo "from pod check-$a: nslookup $name $dns"
    checks_retry 60 nspawn_exec "$a" ip netns exec "$ns" busybox nslookup "$name" "$dns" >"$checks_dir/k8s-dns.txt"
    cat "$checks_dir/k8s-dns.txt"
    grep -q "Address: $api\$\|Address 1: $api\$" "$checks_dir/k8s-dns.txt"
}

# checks_run: each check whose service the inventory runs (and whose program the first master's image has,
# for Kubernetes: an image built without it says so apart).
checks_run() {
    local name a
    checks_one - "etcd: every master is a started, voting member (on $checks_first)" check_etcd
    if [ ${#checks_kubelets[@]} -gt 0 ] && nspawn_exec "$checks_first" test -x /usr/local/bin/kube-apiserver; then
        nspawn_exec "$checks_first" mkdir -p /root/.kube
        nspawn_exec "$checks_first" clusterboot kubeconfig --output /root/.kube/config >/dev/null 2>"$checks_dir/kubeconfig.log"
        checks_one kubernetes-nodes-ready "every node Ready (kubectl get nodes, with clusterboot kubeconfig's)" check_k8s_nodes
        checks_one pods-on-every-node "a pod Running on every node, tolerating its taints" check_k8s_pods
        a=$(checks_plan_get '(d["kubernetes"]["workers"] or d["kubernetes"]["masters"])[0]["node"]')
        checks_one pod-to-pod-across-nodes "from the pod on $a, the pod on every other node answers (flannel)" \
            check_pod_to_pod "$a"
        checks_one cluster-dns "from a pod, the API's Service name resolves to its ClusterIP (kube-dns)" check_cluster_dns "$a"
    fi
    if name=$(checks_node_with ceph-mon); then
        checks_one ceph-health-ok "HEALTH_OK, every OSD of the inventory up and in (ceph -s on $name)" check_ceph "$name"
    fi
    if name=$(checks_node_with kafka-broker); then
        checks_one kafka-round-trip "a topic with the inventory's replication factor, written through one broker, read through another" \
            check_kafka "$name"
    fi
    if name=$(checks_node_with mqtt-broker) && [ "$(checks_plan_get 'd["mqtt"]["tls_port"]')" != 0 ]; then
        checks_one mqtt-tls-round-trip "publish and subscribe over TLS as the generated users and their ACLs allow (on $name)" \
            check_mqtt "$name"
    elif [ -n "$name" ]; then
        note "mqtt-tls-round-trip left out: the inventory turns the brokers' TLS off (mqtt.tls_port: 0)"
    fi
    if checks_node_with dns-server >/dev/null; then
        checks_one node-names-resolve "every node's name in the zone through each CoreDNS, from another machine" check_dns
    fi
}
