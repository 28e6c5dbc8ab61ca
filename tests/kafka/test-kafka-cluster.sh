#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# A three-broker Kafka cluster in KRaft combined mode (every broker is also a controller) from what
# clusterboot renders for examples/ha's kafka-broker nodes worker-01..03: each broker runs the real
# kafka.Kafka of image/components/kafka.sh (Maven Central's jars, KAFKA_VERSION of image/components.lock) on
# its rendered /etc/kafka/server.properties, unchanged, after the one storage format step a node does
# (kafka-storage.sh format -t CLUSTER_ID, with the id of the rendered kafka.env). The test asserts that
# the controllers elect a leader, that a topic with three replicas is created, and that a message
# produced on one broker is consumed on another; then that the format step refuses a node holding
# another cluster's meta.properties, and what --ignore-formatted does there.
#
# Paths: the rendered log.dirs is absolute (/var/lib/kafka/data). Each broker and each format runs in a
# mount namespace of its own where that path is the scratch root's var/lib/kafka/data (a bind mount; an
# overlay over the nearest existing parent makes the mount point when the host has none), so the file
# is used as rendered and nothing is written outside the work folder.
#
# Network: a namespace holding only a bridge, and one namespace per broker whose eth0 (a veth into that
# bridge) carries the node's address (10.20.0.21-23/24). Nothing is added to the root namespace; no
# address outside these namespaces is contacted.
#
# Usage: test-kafka-cluster.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/ha
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../pki-e2e/lib.sh
. "$here/../pki-e2e/lib.sh"

# A test that cannot run here says so with a plan of none.
skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}

need ip unshare java timeout flock python3

# --- Kafka ----------------------------------------------------------------------------------------
t0=$(date +%s)
# kafka.sh bounds its own download (KAFKA_FETCH_TIMEOUT, 420 s by default).
lib=$("$here/../../image/components/kafka.sh" 2>"$work/deps.log" | tail -n 1)
rc=${PIPESTATUS[0]}
sed 's/^/# /' "$work/deps.log"
case $rc in
0) [ -f "$lib/kafka_2.13-$(sed -n 's/^KAFKA_VERSION=//p' "$here/../../image/components.lock").jar" ] ||
        { not_ok "image/components/kafka.sh printed '$lib', which holds no broker jar"; finish; } ;;
1 | 2) skip_all "Kafka could not be fetched: $(grep -E '^kafka: ' "$work/deps.log" | tail -n 1 | cut -c8-)" ;;
*) not_ok "image/components/kafka.sh failed ($rc)" "$work/deps.log"; finish ;;
esac
note "Kafka's jars ready in $(($(date +%s) - t0)) s"

# Heap as small as KAFKA_HEAP_OPTS allows three brokers on this machine; the rest as kafka-run-class.sh.
cat >"$work/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
cat >"$work/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
EOF
broker_jvm=(-Xmx256m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
        -Djava.awt.headless=true "-Dlog4j.configuration=file:$work/log4j.properties" -cp "$lib/*")
# The tools are short-lived: the first JIT tier and one GC thread start them fastest on two cores.
tool_jvm=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true
        "-Dlog4j.configuration=file:$work/tools-log4j.properties" -cp "$lib/*")

brokers=(worker-01 worker-02 worker-03)
declare -A ip=([worker-01]=10.20.0.21 [worker-02]=10.20.0.22 [worker-03]=10.20.0.23)
declare -A node_id=([worker-01]=1 [worker-02]=2 [worker-03]=3)
declare -A ns=() kafka_pid=()
bundle=$work/bundle
brns=${tag}br
topic=clusterboot-e2e

props() { echo "$work/root-$1/etc/kafka/server.properties"; }
# prop FILE KEY: the value of KEY in a .properties file (the last one, as java.util.Properties reads it).
prop() { sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1; }
env_get() { sed -nE "s/^$2=\"?([^\"]*)\"?$/\1/p" "$1/etc/cluster-config/environment/kafka.env"; }

# --- what clusterboot makes -----------------------------------------------------------------------
check "secrets init for examples/ha" "$work/secrets.log" "$cb" secrets init --inventory "$inv" --out "$bundle"
cluster_id=$(cat "$bundle/kafka/cluster-id" 2>/dev/null)
for m in "${brokers[@]}"; do
        root=$work/root-$m
        check "$m: render" "$work/render-$m.log" \
                "$cb" render --inventory "$inv" --node "$m" --secrets "$bundle" --root "$root"
        for f in etc/kafka/server.properties etc/cluster-config/environment/kafka.env; do
                [ -f "$root/$f" ] || { not_ok "$m: $f is missing" "$work/render-$m.log"; finish; }
        done
done

# One cluster id, the bundle's, in every broker's kafka.env; each broker's own node id and address.
voters="1@10.20.0.21:9093,2@10.20.0.22:9093,3@10.20.0.23:9093"
for m in "${brokers[@]}"; do
        root=$work/root-$m p=$(props "$m")
        id=$(env_get "$root" KAFKA_CLUSTER_ID) nid=$(env_get "$root" KAFKA_NODE_ID)
        if [ -n "$cluster_id" ] && [ "$id" = "$cluster_id" ] && [ "$nid" = "${node_id[$m]}" ] &&
                [ "$(prop "$p" node.id)" = "${node_id[$m]}" ] &&
                [ "$(prop "$p" process.roles)" = broker,controller ] &&
                [ "$(prop "$p" controller.quorum.voters)" = "$voters" ] &&
                [ "$(prop "$p" listeners)" = "PLAINTEXT://${ip[$m]}:9092,CONTROLLER://${ip[$m]}:9093" ]; then
                ok "$m: kafka.env has the bundle's cluster id and node id ${node_id[$m]}; server.properties: combined mode, voters 1..3, listeners on ${ip[$m]}"
        else
                not_ok "$m: kafka.env cluster id '$id' (bundle '$cluster_id'), node id '$nid' (want ${node_id[$m]})" "$(props "$m")"
        fi
done
# kafka-storage's -t takes an id that begins with '-' for an option ("argument --cluster-id/-t: expected
# one argument"); Kafka's own random-uuid never makes one.
if [[ $cluster_id =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]]; then
        ok "the cluster id is 22 characters of URL-safe base64 and does not begin with '-'"
else
        not_ok "the cluster id '$cluster_id' is not 22 characters of URL-safe base64 not beginning with '-'"
fi
[ "$failed" = 0 ] || finish
log_dirs=$(prop "$(props worker-01)" log.dirs)
note "rendered log.dirs=$log_dirs, cluster id $cluster_id"

# --- the mount namespace of a node ------------------------------------------------------------------
# in_root ROOT LOG_DIRS CMD...: CMD in a mount namespace of its own where each directory of LOG_DIRS
# (absolute, comma-separated) is ROOT's one. Where the host has no such directory, an overlay over its
# nearest existing parent (upper layer in ROOT/.overlay) makes the mount point; the host sees nothing.
# shellcheck disable=SC2016 # expanded by the inner sh
in_root_sh='
root=$1 dirs=$2
shift 2
IFS=,
for d in $dirs; do
        case $d in /*) ;; *) echo "log dir $d is not absolute" >&2; exit 1 ;; esac
        mkdir -p "$root$d" || exit 1
        if [ ! -d "$d" ]; then
                a=$d
                while [ ! -d "$a" ]; do a=$(dirname "$a"); done
                o=$root/.overlay$a
                mkdir -p "$o/upper" "$o/work" &&
                        mount -t overlay overlay -o "lowerdir=$a,upperdir=$o/upper,workdir=$o/work" "$a" &&
                        mkdir -p "$d" || exit 1
        fi
        mount --bind "$root$d" "$d" || exit 1
done
unset IFS
exec "$@"'
in_root() { # ROOT LOG_DIRS CMD...
        unshare -m --propagation private sh -c "$in_root_sh" in-root "$@"
}
# tool NODE SECONDS CLASS ARGS...: a Kafka tool in NODE's network namespace, at most SECONDS.
tool() {
        local m=$1 secs=$2
        shift 2
        ip netns exec "${ns[$m]}" timeout -k 5 "$secs" java "${tool_jvm[@]}" "$@"
}
storage() { # ROOT ARGS... (kafka-storage.sh)
        local root=$1
        shift
        in_root "$root" "$(prop "$root/etc/kafka/server.properties" log.dirs)" \
                timeout -k 5 120 java "${tool_jvm[@]}" kafka.tools.StorageTool "$@"
}
# meta ROOT KEY: KEY of meta.properties in ROOT's first log dir.
meta() {
        local d
        d=$(prop "$1/etc/kafka/server.properties" log.dirs)
        prop "$1${d%%,*}/meta.properties" "$2"
}

# --- format: once per node, with the cluster's id ---------------------------------------------------
for m in "${brokers[@]}"; do
        root=$work/root-$m
        if [ -n "$(meta "$root" cluster.id)" ]; then
                not_ok "$m: log dir formatted before the format step"
                continue
        fi
        if storage "$root" format -t "$(env_get "$root" KAFKA_CLUSTER_ID)" -c "$(props "$m")" >"$work/format-$m.log" 2>&1 &&
                [ "$(meta "$root" cluster.id)" = "$cluster_id" ] && [ "$(meta "$root" node.id)" = "${node_id[$m]}" ]; then
                ok "$m: kafka-storage format -t ID -c server.properties writes meta.properties (cluster.id, node.id=${node_id[$m]})"
        else
                not_ok "$m: kafka-storage format (meta.properties: cluster.id '$(meta "$root" cluster.id)', node.id '$(meta "$root" node.id)')" \
                        "$work/format-$m.log"
        fi
done
[ "$failed" = 0 ] || finish

# --- the network --------------------------------------------------------------------------------
if ns_bridge "$brns" 2>"$work/net.log"; then
        i=0
        for m in "${brokers[@]}"; do
                i=$((i + 1))
                ns[$m]=${tag}k$i
                { ns_add "${ns[$m]}" && ns_lan "$brns" "${ns[$m]}" "${ip[$m]}/24" "v$i"; } 2>>"$work/net.log" ||
                        { not_ok "network namespace for $m" "$work/net.log"; finish; }
        done
        ok "three namespaces on one bridge carry 10.20.0.21-23/24"
else
        not_ok "bridge namespace" "$work/net.log"
        finish
fi

# --- the brokers ----------------------------------------------------------------------------------
# One simple command in the background: each program in it execs the next, so $! is the JVM's pid, which
# cleanup stops (a function or subshell in the background would leave the JVM behind).
start_broker() { # NODE
        local m=$1
        ip netns exec "${ns[$m]}" unshare -m --propagation private sh -c "$in_root_sh" in-root \
                "$work/root-$m" "$(prop "$(props "$m")" log.dirs)" \
                java "${broker_jvm[@]}" kafka.Kafka "$(props "$m")" >"$work/kafka-$m.log" 2>&1 &
        kafka_pid[$m]=$!
        pids+=("$!")
}
# KafkaRaftServer logs this once the broker has caught up with the metadata and serves clients.
started() { # NODE
        kill -0 "${kafka_pid[$1]}" 2>/dev/null || return 2
        grep -q "Kafka Server started" "$work/kafka-$1.log"
}
t_up=$(date +%s)
for m in "${brokers[@]}"; do start_broker "$m"; done
sleep 1
for m in "${brokers[@]}"; do
        comm=$(cat "/proc/${kafka_pid[$m]}/comm" 2>/dev/null)
        [ "$comm" = java ] || note "$m: pid ${kafka_pid[$m]} is '$comm', not the JVM yet"
done
for m in "${brokers[@]}"; do
        if wait_for 120 started "$m"; then
                ok "$m: kafka.Kafka runs on the rendered server.properties (started after $(($(date +%s) - t_up)) s)"
        else
                not_ok "$m: kafka.Kafka did not start within 120 s" "$work/kafka-$m.log"
        fi
done
[ "$failed" = 0 ] || finish
bootstrap="10.20.0.21:9092,10.20.0.22:9092,10.20.0.23:9092"

# --- the quorum -----------------------------------------------------------------------------------
# kafka-metadata-quorum.sh describe --status, asked of each broker: one leader among voters 1,2,3, and
# the cluster id every node was formatted with.
for m in "${brokers[@]}"; do
        quorum() {
                tool "$m" 60 org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "${ip[$m]}:9092" \
                        describe --status >"$work/quorum-$m.out" 2>"$work/quorum-$m.err" || return 1
                [ "$(sed -nE 's/^LeaderId:[[:space:]]+//p' "$work/quorum-$m.out")" -ge 1 ] 2>/dev/null
        }
        if wait_for 60 quorum; then
                out=$work/quorum-$m.out
                leader=$(sed -nE 's/^LeaderId:[[:space:]]+//p' "$out")
                cv=$(sed -nE 's/^CurrentVoters:[[:space:]]+//p' "$out")
                cid=$(sed -nE 's/^ClusterId:[[:space:]]+//p' "$out")
                if [[ $leader =~ ^[123]$ ]] && [ "$cv" = "[1,2,3]" ] && [ "$cid" = "$cluster_id" ]; then
                        ok "$m: metadata quorum: leader $leader, voters $cv, cluster id $cid"
                else
                        not_ok "$m: metadata quorum: leader '$leader', voters '$cv' (want [1,2,3]), cluster id '$cid'" "$out"
                fi
        else
                not_ok "$m: kafka-metadata-quorum describe --status" "$work/quorum-$m.out" "$work/quorum-$m.err"
        fi
done
# Every voter has replicated the metadata log (describe --replication lists the three, none lagging far).
replication() {
        tool worker-02 60 org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$bootstrap" \
                describe --replication >"$work/replication.out" 2>"$work/replication.err" || return 1
        python3 - "$work/replication.out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0].isdigit()]
voters = {r[0]: r for r in rows if r[-1] in ("Leader", "Follower")}
sys.exit(0 if sorted(voters) == ["1", "2", "3"] and all(int(r[2]) < 100 for r in voters.values()) else 1)
PY
}
if wait_for 60 replication; then
        ok "metadata replication: voters 1, 2, 3, one leader and two followers, each caught up"
        sed 's/^/#   /' "$work/replication.out"
else
        not_ok "metadata replication of the three voters" "$work/replication.out" "$work/replication.err"
fi

# --- a topic, a message ---------------------------------------------------------------------------
check "kafka-topics --create $topic --replication-factor 3 --partitions 3" "$work/topic-create.log" \
        tool worker-01 90 kafka.admin.TopicCommand --bootstrap-server "${ip[worker-01]}:9092" \
        --create --topic "$topic" --replication-factor 3 --partitions 3
# All partitions have three replicas, all in sync.
in_sync() { # TOPIC
        tool worker-03 60 kafka.admin.TopicCommand --bootstrap-server "${ip[worker-03]}:9092" \
                --describe --topic "$1" >"$work/describe-$1.out" 2>"$work/describe-$1.err" || return 1
        python3 - "$work/describe-$1.out" <<'PY'
import re, sys
parts = [dict(re.findall(r"(\w+): (\S+)", l)) for l in open(sys.argv[1]) if "Partition:" in l]
ok = parts and all(len(p["Replicas"].split(",")) == 3 and set(p["Isr"].split(",")) == set(p["Replicas"].split(","))
                   for p in parts)
sys.exit(0 if ok else 1)
PY
}
if wait_for 60 in_sync "$topic"; then
        ok "$topic: every partition has 3 replicas on brokers 1,2,3, all in sync"
        grep 'Partition:' "$work/describe-$topic.out" | tr -s '\t ' ' ' | sed 's/^/#   /'
else
        not_ok "$topic: 3 replicas in sync" "$work/describe-$topic.out" "$work/describe-$topic.err"
fi

# The rendered defaults (num.partitions, default.replication.factor) apply to a topic created without them.
check "kafka-topics --create $topic-defaults (no partitions or replication factor given)" "$work/topic-defaults.log" \
        tool worker-02 90 kafka.admin.TopicCommand --bootstrap-server "${ip[worker-02]}:9092" \
        --create --topic "$topic-defaults"
if wait_for 60 in_sync "$topic-defaults" &&
        grep -qE "PartitionCount: 3[[:space:]]+ReplicationFactor: 3" "$work/describe-$topic-defaults.out"; then
        ok "$topic-defaults: PartitionCount 3, ReplicationFactor 3 (the rendered num.partitions, default.replication.factor)"
else
        not_ok "$topic-defaults: PartitionCount 3, ReplicationFactor 3" "$work/describe-$topic-defaults.out"
fi

msg="hello from clusterboot $tag $(date +%s)"
produce() {
        echo "$msg" | tool worker-01 90 kafka.tools.ConsoleProducer --bootstrap-server "${ip[worker-01]}:9092" \
                --topic "$topic" --producer-property acks=all
}
check "a message produced through worker-01 (acks=all)" "$work/produce.log" produce
consume() {
        tool worker-03 90 kafka.tools.ConsoleConsumer --bootstrap-server "${ip[worker-03]}:9092" \
                --topic "$topic" --from-beginning --max-messages 1 --timeout-ms 60000 \
                >"$work/consume.out" 2>"$work/consume.err"
        [ "$(cat "$work/consume.out")" = "$msg" ]
}
if consume; then
        ok "... is consumed back through worker-03"
else
        not_ok "... consumed through worker-03: '$(head -c 200 "$work/consume.out")', want '$msg'" "$work/consume.err"
fi

# --- format refused ---------------------------------------------------------------------------------
# A node that holds another cluster's meta.properties (rendered and formatted from a bundle whose Kafka
# cluster id was rotated) is not formatted again for this cluster.
other=$work/bundle-other
froot=$work/root-foreign
if "$cb" secrets init --inventory "$inv" --out "$other" --rotate kafka-cluster-id >"$work/other.log" 2>&1 &&
        other_id=$(cat "$other/kafka/cluster-id") && [ -n "$other_id" ] && [ "$other_id" != "$cluster_id" ] &&
        "$cb" render --inventory "$inv" --node worker-01 --secrets "$other" --root "$froot" >>"$work/other.log" 2>&1 &&
        storage "$froot" format -t "$other_id" -c "$froot/etc/kafka/server.properties" >>"$work/other.log" 2>&1 &&
        [ "$(meta "$froot" cluster.id)" = "$other_id" ]; then
        ok "another cluster (rotated kafka-cluster-id $other_id): worker-01 formatted for it"
        storage "$froot" format -t "$cluster_id" -c "$(props worker-01)" >"$work/refuse.log" 2>&1
        rc=$?
        if [ "$rc" != 0 ] && grep -q "already formatted" "$work/refuse.log" && [ "$(meta "$froot" cluster.id)" = "$other_id" ]; then
                ok "format -t $cluster_id on it is refused (exit $rc: $(grep -m1 -o 'Log directory.*formatted' "$work/refuse.log")); meta.properties keeps $other_id"
        else
                not_ok "format with this cluster's id over another's (exit $rc, cluster.id now '$(meta "$froot" cluster.id)')" "$work/refuse.log"
        fi
        # What --ignore-formatted does there: exit 0, nothing written, the other id kept. So it makes the
        # format step idempotent, but it is no cluster id check: a stage must compare meta.properties's
        # cluster.id (kafka-storage info) with kafka.env's KAFKA_CLUSTER_ID itself.
        storage "$froot" format -t "$cluster_id" -c "$(props worker-01)" --ignore-formatted >"$work/ignore.log" 2>&1
        rc=$?
        if [ "$rc" = 0 ] && [ "$(meta "$froot" cluster.id)" = "$other_id" ]; then
                ok "... with --ignore-formatted: exit 0, nothing written ($(head -n 1 "$work/ignore.log")), cluster.id still $other_id"
        else
                not_ok "... with --ignore-formatted: exit $rc, cluster.id '$(meta "$froot" cluster.id)'" "$work/ignore.log"
        fi
        if storage "$froot" info -c "$(props worker-01)" >"$work/info.log" 2>&1; rc=$?; grep -q "cluster.id=$other_id" "$work/info.log"; then
                ok "... kafka-storage info shows the foreign cluster.id=$other_id (exit $rc), what a stage can compare with kafka.env"
        else
                not_ok "... kafka-storage info shows the foreign cluster id (exit $rc)" "$work/info.log"
        fi
else
        not_ok "another cluster's bundle, render and format for worker-01" "$work/other.log"
fi
# The same node formatted again with its own cluster's id: refused too, nothing rewritten.
before=$(md5sum <"$work/root-worker-03${log_dirs%%,*}/meta.properties")
storage "$work/root-worker-03" format -t "$cluster_id" -c "$(props worker-03)" >"$work/reformat.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q "already formatted" "$work/reformat.log"; then
        ok "worker-03 (running): format -t $cluster_id again is refused (exit $rc, already formatted)"
else
        not_ok "worker-03 (running): format -t $cluster_id again (exit $rc)" "$work/reformat.log"
fi
if [ "$(md5sum <"$work/root-worker-03${log_dirs%%,*}/meta.properties")" = "$before" ]; then
        ok "... its meta.properties is unchanged"
else
        not_ok "... its meta.properties changed"
fi

# Every broker still runs, and none logged an error.
alive=0
for m in "${brokers[@]}"; do kill -0 "${kafka_pid[$m]}" 2>/dev/null && alive=$((alive + 1)); done
if [ "$alive" = 3 ]; then ok "all three brokers still run"; else not_ok "only $alive brokers run"; fi
for m in "${brokers[@]}"; do
        errors=$(grep -cE '\] (ERROR|FATAL) ' "$work/kafka-$m.log")
        if [ "$errors" = 0 ]; then ok "$m: no ERROR in the broker log"; else
                grep -E '\] (ERROR|FATAL) ' "$work/kafka-$m.log" | head -n 5 >"$work/errors-$m.log"
                not_ok "$m: $errors ERROR lines in the broker log" "$work/errors-$m.log"
        fi
done

finish
