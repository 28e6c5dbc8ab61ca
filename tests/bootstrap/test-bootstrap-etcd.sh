#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for look unreachable
# The bootstrap state machine's etcd stages against real etcd 3.4, for the three masters of examples/ha,
# each in its own network namespace on a bridge (tests/pki-e2e/lib.sh), started out of order, re-run,
# crashed and reinstalled. `clusterboot bootstrap --stage etcd-member` runs before a master's etcd starts,
# `--stage etcd-ready` after; this script plays systemd's part: it starts etcd from the rendered etcd.env
# and, when bootstrap wrote one, etcd-join.env, exactly as units/etcd.service's EnvironmentFile= lines do.
#
# Usage: test-bootstrap-etcd.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/ha
# shellcheck source=../pki-e2e/lib.sh
. "$(dirname "$0")/../pki-e2e/lib.sh"

need ip etcd etcdctl
export ETCDCTL_API=3

masters=(master-01 master-02 master-03)
declare -A ip=([master-01]=10.20.0.11 [master-02]=10.20.0.12 [master-03]=10.20.0.13)
declare -A ns=() etcd_pid=()
bundle=$work/bundle
brns=${tag}br

check "secrets init for examples/ha" "$work/secrets.log" "$cb" secrets init --inventory "$inv" --out "$bundle"
# Each master as the embedded policy makes it: the bundle in its image, its certificates made from it.
for m in "${masters[@]}"; do
        check "$m: the bundle in its tree, pki node and render" "$work/prep-$m.log" bash -c \
                "mkdir -p '$work/root-$m/etc/cluster-config' && cp -a '$bundle' '$work/root-$m/etc/cluster-config/secrets' &&
                 '$cb' pki node --inventory '$inv' --node $m --secrets '$bundle' --root '$work/root-$m' &&
                 '$cb' render --inventory '$inv' --node $m --root '$work/root-$m'"
done
[ "$failed" = 0 ] || finish

if ns_bridge "$brns" 2>"$work/net.log"; then
        i=0
        for m in "${masters[@]}"; do
                i=$((i + 1))
                ns[$m]=${tag}m$i
                { ns_add "${ns[$m]}" && ns_lan "$brns" "${ns[$m]}" "${ip[$m]}/24" "v$i"; } 2>>"$work/net.log" ||
                        { not_ok "network namespace for $m" "$work/net.log"; finish; }
        done
        ok "three namespaces on one bridge carry 10.20.0.11-13/24"
else
        not_ok "bridge namespace" "$work/net.log"
        finish
fi

root() { echo "$work/root-$1"; }
# bootstrap NODE STAGE [ARGS]: clusterboot bootstrap inside the node's namespace; output in bootstrap-NODE.log.
bootstrap() {
        local m=$1 stage=$2
        shift 2
        ip netns exec "${ns[$m]}" "$cb" bootstrap --inventory "$inv" --node "$m" --root "$(root "$m")" \
                --stage "$stage" "$@" >"$work/bootstrap-$m.log" 2>&1
}
start_etcd() { # NODE
        local m=$1 vars=()
        mapfile -t vars < <(etcd_env "$(root "$m")")
        ip netns exec "${ns[$m]}" env -i PATH="$PATH" "${vars[@]}" etcd >>"$work/etcd-$m.log" 2>&1 &
        etcd_pid[$m]=$!
        pids+=("$!")
}
declare -A serve_pid=()
start_serve() { # NODE: its join service (clusterboot-join.service's program), which answers /v1/cluster-state
        local m=$1
        ip netns exec "${ns[$m]}" "$cb" serve --inventory "$inv" --node "$m" --root "$(root "$m")" >>"$work/serve-$m.log" 2>&1 &
        serve_pid[$m]=$!
        pids+=("$!")
        wait_tcp "${ns[$m]}" "${ip[$m]}" 9443 20 "${serve_pid[$m]}"
}
stop_serve() {
        kill "${serve_pid[$1]}" 2>/dev/null
        wait "${serve_pid[$1]}" 2>/dev/null
}
stop_etcd() { # NODE, as kill -9 would
        kill -KILL "${etcd_pid[$1]}" 2>/dev/null
        wait "${etcd_pid[$1]}" 2>/dev/null
}
ctl() { # NODE ARGS...: etcdctl from NODE's namespace against every master
        local m=$1 p
        p=$(root "$m")/etc/kubernetes/pki
        shift
        ip netns exec "${ns[$m]}" etcdctl --dial-timeout=3s --command-timeout=10s \
                --endpoints="https://10.20.0.11:2379,https://10.20.0.12:2379,https://10.20.0.13:2379" \
                --cacert="$p/etcd/ca.crt" --cert="$p/apiserver-etcd-client.crt" --key="$p/apiserver-etcd-client.key" "$@"
}
state_of() { cat "$(root "$1")/var/lib/cluster-state/bootstrap-state" 2>/dev/null; }
voters() { ctl master-01 member list -w json 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin).get("members", [])
print(sum(1 for x in m if not x.get("isLearner") and x.get("name")), len(m))'; }
cluster_ids() { # the distinct cluster ids all three report
        ctl master-01 endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
print(len({e["Status"]["header"]["cluster_id"] for e in json.load(sys.stdin)}))'; }
expect() { # NAME WANT_RC NODE STAGE [ARGS]
        local name=$1 want=$2
        shift 2
        bootstrap "$@"
        local rc=$?
        if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name (exit $rc, want $want)" "$work/bootstrap-$1.log"; fi
}

# 1. Boot order reversed: master-03 comes first and finds no cluster: "not yet" (75), nothing changed.
expect "master-03 first: etcd-member waits for a cluster (exit 75)" 75 master-03 etcd-member --retry-timeout 0
[ ! -e "$(root master-03)/etc/cluster-config/environment/etcd-join.env" ] &&
        ok "... and wrote nothing" || not_ok "... wrote etcd-join.env anyway"

# 2. The first master makes the one-member cluster, once a majority of the masters says that none exists:
# alone, it waits (exit 75) and says how to override; with master-02's join service saying "no cluster"
# (two of three), it makes it.
expect "master-01 with no other master's join service: etcd-member waits (exit 75), makes no cluster" 75 \
        master-01 etcd-member --retry-timeout 0
grep -q "a new cluster is made only when a majority of the 3 masters says none exists: 1 more must answer (master-02: no answer, master-03: no answer); to make a new cluster on purpose, run .touch /var/lib/cluster-state/force-new-cluster." \
        "$work/bootstrap-master-01.log" && [ "$(state_of master-01)" = "" ] &&
        ok "... it says what it waits for and how an operator overrides it" ||
        not_ok "... it says what it waits for and how an operator overrides it" "$work/bootstrap-master-01.log"
start_serve master-02 && ok "master-02's join service runs (no etcd yet: it holds no cluster)" ||
        not_ok "master-02's join service runs" "$work/serve-master-02.log"
expect "master-01: etcd-member (first master, master-02 says no cluster: a one-member cluster)" 0 master-01 etcd-member --retry-timeout 0
start_etcd master-01
expect "master-01: etcd-ready once etcd runs: bootstrapped" 0 master-01 etcd-ready --retry-timeout 30
[ "$(state_of master-01)" = bootstrapped ] && ok "master-01's state file says bootstrapped" ||
        not_ok "master-01's state file says '$(state_of master-01)'"

# 2b. master-02 with another cluster's certificates (another bundle): master-01's etcd refuses TLS with it.
# That is "not yet" (75) with the reason, not a failure: it waits for this cluster's etcd, and writes nothing.
other=$work/root-other
if "$cb" secrets init --inventory "$inv" --out "$work/bundle-other" >"$work/other.log" 2>&1 &&
        "$cb" pki node --inventory "$inv" --node master-02 --secrets "$work/bundle-other" --root "$other" >>"$work/other.log" 2>&1 &&
        "$cb" render --inventory "$inv" --node master-02 --root "$other" >>"$work/other.log" 2>&1; then
        ip netns exec "${ns[master-02]}" "$cb" bootstrap --inventory "$inv" --node master-02 --root "$other" \
                --stage etcd-member --retry-timeout 0 >"$work/bootstrap-other.log" 2>&1
        rc=$?
        if [ "$rc" = 75 ] && grep -q "refuses TLS with this node: its CA is not this cluster's" "$work/bootstrap-other.log" &&
                [ ! -e "$other/etc/cluster-config/environment/etcd-join.env" ]; then
                ok "a master with another cluster's CA: etcd-member waits (exit 75), says why, writes nothing"
        else
                not_ok "a master with another cluster's CA: etcd-member waits (exit $rc, want 75), says why, writes nothing" \
                        "$work/bootstrap-other.log"
        fi
else
        not_ok "a second bundle and master-02's certificates from it" "$work/other.log"
fi

# 3. The others join, one after the other, as learners promoted once caught up.
for m in master-03 master-02; do
        expect "$m: etcd-member adds it as a learner" 0 "$m" etcd-member --retry-timeout 30
        grep -q 'ETCD_INITIAL_CLUSTER_STATE="existing"' "$(root "$m")/etc/cluster-config/environment/etcd-join.env" 2>/dev/null &&
                ok "... etcd-join.env says existing" || not_ok "... no etcd-join.env with state existing"
        start_etcd "$m"
        expect "$m: etcd-ready promotes it: joined" 0 "$m" etcd-ready --retry-timeout 60
        [ "$(state_of "$m")" = joined ] && ok "$m's state file says joined" || not_ok "$m's state file says '$(state_of "$m")'"
done
[ "$(voters)" = "3 3" ] && ok "three voting members, no learner left" || not_ok "members (voting, all): $(voters)"
[ "$(cluster_ids)" = 1 ] && ok "one cluster id on all three" || not_ok "cluster ids: $(cluster_ids)"

# 4. A reboot: every stage again changes nothing.
rerun_ok=1
for m in "${masters[@]}"; do
        for s in etcd-member etcd-ready; do
                bootstrap "$m" "$s" --retry-timeout 0 || rerun_ok=0
        done
done
[ "$rerun_ok" = 1 ] && [ "$(voters)" = "3 3" ] && ok "re-running every stage on every master changes nothing" ||
        not_ok "a re-run failed or changed the members ($(voters))"

# 5. A crash right after `member add`, before anything was recorded: the next run reuses that member.
stop_etcd master-03
"$cb" reset --yes --root "$(root master-03)" >/dev/null
rm -rf "$(root master-03)/var/lib/etcd" "$(root master-03)/etc/cluster-config/environment/etcd-join.env"
ctl master-01 member remove "$(ctl master-01 member list | awk -F', ' '$3 == "master-03" {print $1}')" >/dev/null
expect "master-03 reinstalled: etcd-member" 0 master-03 etcd-member --retry-timeout 30
"$cb" reset --yes --root "$(root master-03)" >/dev/null   # the crash: nothing of that run was kept
rm -f "$(root master-03)/etc/cluster-config/environment/etcd-join.env"
expect "... crashed before etcd started; the next etcd-member" 0 master-03 etcd-member --retry-timeout 30
n_members=$(voters | cut -d' ' -f2)
[ "$n_members" = 3 ] && ok "... reused the member it had added (3 members, not 4)" || not_ok "... members: $(voters)"
start_etcd master-03
expect "... and joins: etcd-ready" 0 master-03 etcd-ready --retry-timeout 60

# 6. A reinstalled master (data wiped, same name) with its old member still in the cluster: replaced.
stop_etcd master-02
"$cb" reset --yes --root "$(root master-02)" >/dev/null
rm -rf "$(root master-02)/var/lib/etcd" "$(root master-02)/etc/cluster-config/environment/etcd-join.env"
expect "master-02 reinstalled: etcd-member replaces its stale member" 0 master-02 etcd-member --retry-timeout 60
start_etcd master-02
expect "... and it joins again" 0 master-02 etcd-ready --retry-timeout 90
[ "$(voters)" = "3 3" ] && ok "still three voting members" || not_ok "members (voting, all): $(voters)"
[ "$(cluster_ids)" = 1 ] && ok "still one cluster id" || not_ok "cluster ids: $(cluster_ids)"

# 7. No second cluster: the first master reinstalled while the others are down. master-02's join service
# (up, its etcd down) says that it holds the cluster: master-01 waits. Without any answer it waits too.
# Once their etcd runs, it joins the cluster they keep: one cluster id, three voters.
id_before=$(ctl master-01 endpoint status -w json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["cluster_id"])')
# The masters shut down (SIGTERM: a kill -9 of all three right after the membership changes of 5 and 6
# left master-02 unaware of master-03's new member at restart, an etcd matter this test is not about).
for m in "${masters[@]}"; do kill -TERM "${etcd_pid[$m]}" 2>/dev/null; done
for m in "${masters[@]}"; do wait "${etcd_pid[$m]}" 2>/dev/null; done
"$cb" reset --yes --root "$(root master-01)" >/dev/null
rm -rf "$(root master-01)/var/lib/etcd" "$(root master-01)/etc/cluster-config/environment/etcd-join.env"
expect "master-01 reinstalled, the others' etcd down: etcd-member waits (exit 75)" 75 master-01 etcd-member --retry-timeout 0
grep -q "a cluster exists (master-02: holds a cluster's etcd data, master-03: no answer): this master joins it, it never makes another" \
        "$work/bootstrap-master-01.log" && [ ! -d "$(root master-01)/var/lib/etcd/member" ] && [ "$(state_of master-01)" = "" ] &&
        ok "... master-02's join service says it holds the cluster: master-01 makes none" ||
        not_ok "... master-02 says it holds the cluster; master-01 makes none" "$work/bootstrap-master-01.log"
stop_serve master-02
expect "... with no master answering at all: still waits (exit 75)" 75 master-01 etcd-member --retry-timeout 0
grep -q "1 more must answer (master-02: no answer, master-03: no answer)" "$work/bootstrap-master-01.log" &&
        ok "... saying that a majority must answer" || not_ok "... saying that a majority must answer" "$work/bootstrap-master-01.log"
start_etcd master-02
start_etcd master-03
expect "once master-02 and master-03 run etcd: master-01 joins their cluster" 0 master-01 etcd-member --retry-timeout 90
start_etcd master-01
expect "... and its etcd joins: etcd-ready" 0 master-01 etcd-ready --retry-timeout 90
id_after=$(ctl master-01 endpoint status -w json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["cluster_id"])')
[ "$(voters)" = "3 3" ] && [ "$(cluster_ids)" = 1 ] && [ -n "$id_before" ] && [ "$id_before" = "$id_after" ] &&
        [ "$(state_of master-01)" = joined ] &&
        ok "the same cluster as before the reinstall (cluster id $id_after), three voters, master-01 joined it" ||
        not_ok "the same cluster: ids $id_before -> $id_after, $(cluster_ids) distinct, members $(voters)"

finish
