#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for look unreachable
# The etcd client library (src/cluster/etcd-client.c) against real etcd 3.4, through etcd-member-tool,
# which makes one library call per run: every membership step of SPEC's bootstrap rule is done by it, not
# by etcdctl (etcdctl only reads, to check what the tool says). master-01 starts a one-member cluster;
# master-02 and master-03 are each added as a learner, started with the ETCD_INITIAL_CLUSTER the add's
# answer gives, and promoted once caught up; master-03 is then reinstalled (stopped, removed, data wiped,
# added and started again). Endpoints that cannot answer are skipped; none answering is exit 75 (-EAGAIN).
# Then `clusterboot apply` in the masters' namespaces against these three etcds: what it refuses, what it
# stores (versions, history, compare-and-swap on the key), and `clusterboot sync` of master-02's tree from it;
# last, master-03 taken out of the inventory: sync on master-01 removes its etcd member and its Ceph monitor (the
# three masters' real ceph-mon, their stores made by stage ceph-mon), each once every other is healthy.
#
# TLS material, etcd.env and the network come from what clusterboot makes for examples/ha, as in
# tests/pki-e2e/test-etcd-cluster.sh, whose lib.sh this sources: a namespace holding a bridge and one
# namespace per master (10.20.0.11-13/24); 10.20.0.99 on the bridge is nobody. Nothing is added to the
# root namespace and no other address is contacted.
#
# Usage: test-etcd-membership.sh CLUSTERBOOT ETCD_MEMBER_TOOL EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT ETCD_MEMBER_TOOL EXAMPLES_DIR}")
tool=$(realpath "${2:?usage: $0 CLUSTERBOOT ETCD_MEMBER_TOOL EXAMPLES_DIR}")
inv=$(realpath "${3:?usage: $0 CLUSTERBOOT ETCD_MEMBER_TOOL EXAMPLES_DIR}")/ha
# shellcheck source=../pki-e2e/lib.sh
. "$(dirname "$0")/../pki-e2e/lib.sh"

need ip etcd etcdctl openssl python3 ceph-mon ceph monmaptool
export ETCDCTL_API=3

masters=(master-01 master-02 master-03)
declare -A ip=([master-01]=10.20.0.11 [master-02]=10.20.0.12 [master-03]=10.20.0.13)
declare -A ns=() etcd_pid=() member_id=()
nobody=10.20.0.99
bundle=$work/bundle
brns=${tag}br

# --- what clusterboot makes -----------------------------------------------------------------------
check "secrets init for examples/ha" "$work/secrets.log" "$cb" secrets init --inventory "$inv" --out "$bundle"
for m in "${masters[@]}"; do
        root=$work/root-$m
        make_root() {
                "$cb" pki node --inventory "$inv" --node "$m" --secrets "$bundle" --root "$root" &&
                        "$cb" render --inventory "$inv" --node "$m" --root "$root" &&
                        [ -f "$root/etc/cluster-config/environment/etcd.env" ] &&
                        [ -f "$root/etc/kubernetes/pki/apiserver-etcd-client.key" ]
        }
        check "$m: pki node and render" "$work/root-$m.log" make_root
done
[ "$failed" = 0 ] || finish

env_get() { # ROOT KEY
        etcd_env "$1" | sed -n "s/^$2=//p"
}

# --- the network --------------------------------------------------------------------------------
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

# --- helpers ------------------------------------------------------------------------------------
pki() { echo "$work/root-$1/etc/kubernetes/pki"; }
ep() { echo "https://${ip[$1]}:2379"; }
peer() { echo "https://${ip[$1]}:2380"; }

# mt NODE ENDPOINTS ARGS...: etcd-member-tool inside NODE's namespace with NODE's apiserver-etcd-client
# certificate; MT_TIMEOUT (ms) bounds each attempt.
mt() {
        local m=$1 eps=$2
        shift 2
        ip netns exec "${ns[$m]}" "$tool" --timeout-ms "${MT_TIMEOUT:-3000}" --endpoints "$eps" \
                --ca "$(pki "$m")/etcd/ca.crt" --cert "$(pki "$m")/apiserver-etcd-client.crt" \
                --key "$(pki "$m")/apiserver-etcd-client.key" "$@"
}
# For wait_for: the tool's 75 (-EAGAIN) is "not yet", any other failure is final.
retry75() {
        "$@"
        case $? in
        0) return 0 ;;
        75) return 1 ;;
        *) return 2 ;;
        esac
}
# expect_exit STATUS NAME LOG COMMAND...: one test point, passing when COMMAND exits with STATUS.
expect_exit() {
        local want=$1 name=$2 log=$3 rc
        shift 3
        "$@" >"$log" 2>&1
        rc=$?
        if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name (exit $rc, want $want)" "$log"; fi
}
# expect_exit_after75 SECONDS STATUS NAME LOG COMMAND...: the same once COMMAND stops exiting with 75 (a
# member change right after a promotion is refused as "unhealthy cluster" for a few seconds).
expect_exit_after75() {
        local deadline=$(($(date +%s) + $1)) want=$2 name=$3 log=$4 rc
        shift 4
        while :; do
                "$@" >"$log" 2>&1
                rc=$?
                if [ "$rc" != 75 ] || [ "$(date +%s)" -ge "$deadline" ]; then break; fi
                sleep 0.5
        done
        if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name (exit $rc, want $want)" "$log"; fi
}
# ctl NODE ENDPOINTS ARGS...: etcdctl, only to read what etcd itself says.
ctl() { etcd_ctl "$@"; }

# The lines the tool prints for a list: "cluster ID" and "member ID NAME voter|learner PEERS CLIENTS".
list_to() { # FILE NODE ENDPOINTS
        local out=$1 m=$2 eps=$3
        mt "$m" "$eps" list >"$out" 2>&1
}
members_summary() { # FILE: "NAME:ROLE ..." sorted
        awk '$1 == "member" { print $3 ":" $4 }' "$1" | sort | paste -sd' '
}
cluster_id_of() { awk '$1 == "cluster" { print $2 }' "$1"; }
id_of() { awk -v n="$2" '$1 == "member" && $3 == n { print $2 }' "$1"; } # FILE NAME

# What etcdctl says: "cluster_id id:name:role ..." with ids in decimal, sorted.
ctl_summary() { # NODE ENDPOINTS
        ctl "$1" "$2" member list -w json | python3 -c '
import json, sys
j = json.load(sys.stdin)
ms = ["%d:%s:%s" % (m["ID"], m.get("name") or "-", "learner" if m.get("isLearner") else "voter") for m in j["members"]]
print(j["header"]["cluster_id"], " ".join(sorted(ms)))'
}
tool_summary() { # FILE: the same from the tool's list
        echo "$(cluster_id_of "$1") $(awk '$1 == "member" { print $2 ":" $3 ":" $4 }' "$1" | sort | paste -sd' ')"
}

# --- master-01 alone ----------------------------------------------------------------------------
t0=$(date +%s)
start_etcd master-01
health() { kill -0 "${etcd_pid[$1]}" 2>/dev/null || return 2; retry75 mt "$1" "$(ep "$1")" health; }
if wait_for 30 health master-01; then
        ok "master-01: etcd starts alone (state new); the tool's GET /health over TLS says healthy"
else
        not_ok "master-01: etcd starts alone and is healthy" "$work/etcd-master-01.log"
        finish
fi

list_to "$work/list-1.out" master-01 "$(ep master-01)"
cid=$(cluster_id_of "$work/list-1.out")
if [ "$(members_summary "$work/list-1.out")" = "master-01:voter" ] && [[ $cid =~ ^[1-9][0-9]*$ ]]; then
        ok "list: one voting member master-01, cluster id $cid"
else
        not_ok "list: one member and a cluster id" "$work/list-1.out"
fi
want=$(ctl_summary master-01 "$(ep master-01)" 2>"$work/ctl-1.err")
got=$(tool_summary "$work/list-1.out")
if [ "$got" = "$want" ]; then
        ok "... the same cluster id and member id as etcdctl says ($got)"
else
        not_ok "... tool says '$got', etcdctl '$want'" "$work/ctl-1.err"
fi
note "master-01 up and listed in $(($(date +%s) - t0)) s"

# --- master-02 and master-03 join as learners and are promoted --------------------------------
members_so_far=$(ep master-01)
want_ic=$(peer master-01)
want_ic="master-01=$want_ic"
for m in master-02 master-03; do
        t0=$(date +%s)
        want_ic+=",$m=$(peer "$m")"
        # etcd refuses a member change ("unhealthy cluster", 75) until every voter has been connected
        # for a while, so right after a promotion this is retried.
        add() { retry75 mt master-01 "$members_so_far" add "$m" "$(peer "$m")" >"$work/add-$m.out" 2>&1; }
        if ! wait_for 30 add; then
                not_ok "$m: add as a learner" "$work/add-$m.out"
                finish
        fi
        id=$(sed -n 's/^id //p' "$work/add-$m.out")
        ic=$(sed -n 's/^ETCD_INITIAL_CLUSTER=//p' "$work/add-$m.out")
        member_id[$m]=$id
        rendered=$(env_get "$work/root-$m" ETCD_INITIAL_CLUSTER)
        if [[ $id =~ ^[1-9][0-9]*$ ]] && [ "$ic" = "$want_ic" ] && [ "$ic" = "$rendered" ] &&
                grep -q "^member $id - learner $(peer "$m") -$" "$work/add-$m.out"; then
                ok "$m: added as a learner (id $id, no name yet); ETCD_INITIAL_CLUSTER from the answer equals the rendered one"
        else
                not_ok "$m: add (id '$id', initial cluster '$ic', rendered '$rendered')" "$work/add-$m.out"
        fi

        expect_exit 75 "$m: promote before it runs is refused with 75 (not in sync with the leader)" \
                "$work/promote-early-$m.out" mt master-01 "$members_so_far" promote "$id"

        # Started with the tool's initial cluster (state existing): it joins and publishes its name.
        start_etcd "$m" "$ic"
        started() {
                kill -0 "${etcd_pid[$m]}" 2>/dev/null || return 2
                mt master-01 "$members_so_far" list >"$work/list-$m.out" 2>&1 || return 1
                grep -q "^member $id $m learner " "$work/list-$m.out"
        }
        if wait_for 60 started; then
                ok "$m: etcd starts with that ETCD_INITIAL_CLUSTER and joins as learner $m"
        else
                not_ok "$m: etcd starts with the tool's ETCD_INITIAL_CLUSTER" "$work/etcd-$m.log" "$work/list-$m.out"
                finish
        fi

        # A learner serves no member API ("rpc not supported for learner"): skipped for the next one.
        expect_exit 0 "$m: list with the learner's endpoint first: skipped, the next answers" \
                "$work/list-skip-$m.out" mt master-01 "$(ep "$m"),$members_so_far" list
        expect_exit 75 "$m: list with only the learner's endpoint: 75" \
                "$work/list-learner-$m.out" mt "$m" "$(ep "$m")" list
        mt "$m" "$(ep "$m")" health >"$work/health-learner-$m.out" 2>&1
        note "$m: /health of the learner: exit $?"

        tries=0
        promote() {
                tries=$((tries + 1))
                retry75 mt master-01 "$members_so_far" promote "$id" >"$work/promote-$m.out" 2>&1
        }
        if wait_for 60 promote; then
                ok "$m: promoted to a voting member once caught up (attempt $tries of the retry loop)"
        else
                not_ok "$m: promote within 60 s ($tries attempts)" "$work/promote-$m.out" "$work/etcd-$m.log"
                finish
        fi
        expect_exit 6 "$m: promoting it again: 6 (-EALREADY, a voter)" \
                "$work/promote-again-$m.out" mt master-01 "$members_so_far" promote "$id"
        members_so_far+=",$(ep "$m")"
        note "$m joined in $(($(date +%s) - t0)) s"
done

all_eps=$members_so_far
list_to "$work/list-3.out" master-02 "$all_eps"
s=$(members_summary "$work/list-3.out")
if [ "$s" = "master-01:voter master-02:voter master-03:voter" ] && [ "$(cluster_id_of "$work/list-3.out")" = "$cid" ] &&
        [ "$(grep -c '^member .* https://10\.20\.0\.1[123]:2379$' "$work/list-3.out")" = 3 ]; then
        ok "list: three started voting members master-01..03 in cluster $cid"
else
        not_ok "list: three voting members (got '$s')" "$work/list-3.out"
fi
want=$(ctl_summary master-03 "$all_eps" 2>"$work/ctl-3.err")
got=$(tool_summary "$work/list-3.out")
if [ "$got" = "$want" ]; then ok "... as etcdctl says"; else not_ok "... tool says '$got', etcdctl '$want'" "$work/ctl-3.err"; fi
for m in "${masters[@]}"; do
        expect_exit 0 "health of $m" "$work/health-$m.out" mt "$m" "$(ep "$m")" health
done
expect_exit_after75 30 4 "adding master-03's peer URL again: 4 (-EEXIST)" "$work/add-dup.out" \
        mt master-01 "$all_eps" add master-03 "$(peer master-03)"

# --- master-03 is reinstalled: removed, wiped, added and started again ----------------------------
t0=$(date +%s)
stop_etcd master-03
old=${member_id[master-03]}
two_eps="$(ep master-01),$(ep master-02)"
remove() { retry75 mt master-01 "$two_eps" remove "$old" >"$work/remove.out" 2>&1; }
if wait_for 30 remove; then
        list_to "$work/list-removed.out" master-01 "$two_eps"
        s=$(members_summary "$work/list-removed.out")
        if [ "$s" = "master-01:voter master-02:voter" ]; then
                ok "master-03 stopped and removed (id $old): two members left"
        else
                not_ok "after remove: '$s'" "$work/list-removed.out"
        fi
else
        not_ok "remove master-03" "$work/remove.out"
        finish
fi
expect_exit 3 "removing it again: 3 (-ENOENT)" "$work/remove-again.out" mt master-01 "$two_eps" remove "$old"
expect_exit 3 "promoting the removed id: 3 (-ENOENT)" "$work/promote-removed.out" mt master-01 "$two_eps" promote "$old"

rm -rf "$work/root-master-03/var/lib/etcd"
add3() { retry75 mt master-01 "$two_eps" add master-03 "$(peer master-03)" >"$work/readd.out" 2>&1; }
if wait_for 30 add3; then
        id=$(sed -n 's/^id //p' "$work/readd.out")
        ic=$(sed -n 's/^ETCD_INITIAL_CLUSTER=//p' "$work/readd.out")
        if [[ $id =~ ^[1-9][0-9]*$ ]] && [ "$id" != "$old" ] && [ "$ic" = "$want_ic" ]; then
                ok "master-03 added again: a new id $id, the same ETCD_INITIAL_CLUSTER"
        else
                not_ok "master-03 added again (id '$id', old $old, initial cluster '$ic')" "$work/readd.out"
        fi
else
        not_ok "master-03 added again" "$work/readd.out"
        finish
fi
start_etcd master-03 "$ic"
tries=0
promote3() {
        kill -0 "${etcd_pid[master-03]}" 2>/dev/null || return 2
        tries=$((tries + 1))
        retry75 mt master-01 "$two_eps" promote "$id" >"$work/repromote.out" 2>&1
}
if wait_for 60 promote3; then
        ok "master-03 with a wiped data dir rejoins and is promoted (attempt $tries)"
else
        not_ok "master-03 rejoins" "$work/repromote.out" "$work/etcd-master-03.log"
        finish
fi
list_to "$work/list-rejoined.out" master-03 "$all_eps"
if [ "$(members_summary "$work/list-rejoined.out")" = "master-01:voter master-02:voter master-03:voter" ] &&
        [ "$(id_of "$work/list-rejoined.out" master-03)" = "$id" ]; then
        ok "list: three voting members again, master-03 with its new id"
else
        not_ok "list after the rejoin" "$work/list-rejoined.out"
fi
read_back() {
        ctl master-01 "$(ep master-01)" put /clusterboot/membership "ok-$$" &&
                [ "$(ctl master-03 "$(ep master-03)" get --print-value-only /clusterboot/membership)" = "ok-$$" ]
}
check "a write through master-01 is read back from the rejoined master-03" "$work/rw.log" read_back
note "master-03 reinstalled in $(($(date +%s) - t0)) s"

# --- endpoints that do not answer -----------------------------------------------------------------
t0=$(date +%s%N)
MT_TIMEOUT=1000 expect_exit 0 "an unreachable endpoint first ($nobody) is skipped" "$work/skip.out" \
        mt master-01 "https://$nobody:2379,$(ep master-01)" list
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$(members_summary "$work/skip.out")" = "master-01:voter master-02:voter master-03:voter" ] && [ "$ms" -lt 5000 ]; then
        ok "... the next one answered the whole list, in $ms ms (1000 ms per attempt)"
else
        not_ok "... list through the second endpoint ($ms ms)" "$work/skip.out"
fi
MT_TIMEOUT=1000 expect_exit 75 "no endpoint answers (nobody, a closed port): 75" "$work/none.out" \
        mt master-01 "https://$nobody:2379,https://${ip[master-01]}:2390" list
MT_TIMEOUT=1000 expect_exit 75 "... promote too: 75" "$work/none-promote.out" \
        mt master-01 "https://$nobody:2379,https://${ip[master-01]}:2390" promote "$id"
MT_TIMEOUT=1000 expect_exit 75 "... health of a closed port: 75" "$work/none-health.out" \
        mt master-01 "https://${ip[master-01]}:2390" health

# --- TLS that must fail ---------------------------------------------------------------------------
other=$work/other-ca
mkdir -p "$other"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=etcd-ca \
        -keyout "$other/ca.key" -out "$other/ca.crt" >"$other/log" 2>&1 &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=kube-apiserver-etcd-client \
                -keyout "$other/client.key" -out "$other/client.csr" >>"$other/log" 2>&1 &&
        printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$other/ext" &&
        openssl x509 -req -in "$other/client.csr" -CA "$other/ca.crt" -CAkey "$other/ca.key" -CAcreateserial \
                -days 2 -extfile "$other/ext" -out "$other/client.crt" >>"$other/log" 2>&1; then
        p=$(pki master-01)
        raw() { ip netns exec "${ns[master-01]}" "$tool" --timeout-ms 3000 --endpoints "$(ep master-01)" "$@"; }
        expect_exit 5 "a server whose CA we do not trust: 5 (-EACCES)" "$work/tls-server.out" \
                raw --ca "$other/ca.crt" --cert "$p/apiserver-etcd-client.crt" --key "$p/apiserver-etcd-client.key" list
        expect_exit 5 "a client certificate of another CA, refused by etcd: 5 (-EACCES)" "$work/tls-client.out" \
                raw --ca "$p/etcd/ca.crt" --cert "$other/client.crt" --key "$other/client.key" list
        expect_exit 7 "a key file that is not there: 7 (-ENOKEY)" "$work/tls-nokey.out" \
                raw --ca "$p/etcd/ca.crt" --cert "$p/apiserver-etcd-client.crt" --key "$other/missing.key" list
else
        not_ok "openssl makes another CA" "$other/log"
fi

# --- the key-value calls apply stands on: a read, and a compare-and-swap that two writers cannot both win --
expect_exit 3 "get of a key that does not exist: 3 (-ENOENT)" "$work/kv-none.out" mt master-01 "$(ep master-01)" get /cb-test/k
expect_exit 0 "put-if KEY 0 (it does not exist yet): written" "$work/kv-put1.out" mt master-01 "$(ep master-01)" put-if /cb-test/k 0 one
read -r rev version value < <(mt master-02 "$(ep master-02)" get /cb-test/k 2>"$work/kv-get1.err")
if [ "$version" = 1 ] && [ "$value" = one ] && [ "${rev:-0}" -gt 0 ]; then ok "... read back through master-02: version 1, 'one', revision $rev"; else
        not_ok "... read back through master-02: '$rev' '$version' '$value'" "$work/kv-get1.err"; fi
expect_exit 8 "a second put-if KEY 0 (a writer that read before the first): refused, 8 (-ESTALE)" "$work/kv-put2.out" \
        mt master-03 "$(ep master-03)" put-if /cb-test/k 0 two
expect_exit 0 "put-if KEY at its revision: written" "$work/kv-put3.out" mt master-03 "$(ep master-03)" put-if /cb-test/k "$rev" three
expect_exit 8 "put-if KEY at the revision before: refused" "$work/kv-put4.out" mt master-01 "$(ep master-01)" put-if /cb-test/k "$rev" four
[ "$(mt master-01 "$(ep master-01)" get /cb-test/k 2>/dev/null | cut -d' ' -f2-)" = "2 three" ] &&
        ok "... the key holds the one write that won (version 2, 'three')" || not_ok "... the key holds the write that won"
# A prefix read in pages (the auto_register registry's: etcd_get_prefix), here 10 keys a page: 25 keys under
# /cb-test/page/ in key order, nothing of the key next to the prefix, and a limit that is too small refused.
for i in $(seq -w 0 24); do ctl master-01 "$(ep master-01)" put "/cb-test/page/k$i" "v$i" >/dev/null 2>&1; done
ctl master-01 "$(ep master-01)" put /cb-test/pagf outside >/dev/null 2>&1
paged() {
        mt master-01 "$(ep master-01)" prefix /cb-test/page/ 10 0 >"$work/paged.out" &&
                [ "$(wc -l <"$work/paged.out")" = 25 ] && [ "$(head -n 1 "$work/paged.out")" = "/cb-test/page/k00 v00" ] &&
                [ "$(tail -n 1 "$work/paged.out")" = "/cb-test/page/k24 v24" ] && sort -c "$work/paged.out" &&
                ! grep -q outside "$work/paged.out"
}
check "a prefix read 10 keys a page: all 25 keys under the prefix, in order, none beyond it" "$work/paged.log" paged
expect_exit 8 "... with at most 20 wanted: refused (more than the limit)" "$work/paged-limit.out" \
        mt master-01 "$(ep master-01)" prefix /cb-test/page/ 10 20

# --- apply: a new inventory, judged against the running one and stored in etcd ---------------------
# Each master was installed with examples/ha (ROOT/etc/cluster-config). apply runs in a master's namespace
# against the three etcds, with that master's healthcheck client certificate.
for m in "${masters[@]}"; do
        mkdir -p "$work/root-$m/etc/cluster-config" && cp -r "$inv"/. "$work/root-$m/etc/cluster-config/"
done
new=$work/inv-new
cp -r "$inv" "$new"
printf '  - name: worker-04\n    ip: 10.20.0.24\n    roles: [worker]\n' >>"$new/cluster.yaml"
sed -i 's/zone: zone-1/zone: zone-9/' "$new/nodes/worker-01.yaml"
apply() { # NODE ARGS...
        local m=$1
        shift
        ip netns exec "${ns[$m]}" "$cb" apply --root "$work/root-$m" "$@"
}
stored() { # what etcd holds: "VERSION NODES..." of the current key, or "none"
        ctl master-02 "$(ep master-02)" get /clusterboot/inventory --print-value-only | python3 -c '
import json, sys
t = sys.stdin.read()
if not t.strip():
    print("none"); sys.exit()
d = json.loads(t)
names = sorted(l.split(":", 1)[1].strip() for l in d["files"]["cluster.yaml"].splitlines() if l.strip().startswith("- name:"))
print(d["version"], " ".join(names))'
}
expect_exit 0 "apply of the installed inventory: nothing to store" "$work/apply-same.out" apply master-01 --inventory "$inv"
grep -q "the cluster runs this inventory (as installed, version 0): nothing to store" "$work/apply-same.out" &&
        [ "$(stored)" = none ] && ok "... said so, and etcd holds no inventory" || not_ok "... said so" "$work/apply-same.out"
expect_exit 0 "apply --dry-run of a worker added and a label changed" "$work/apply-dry.out" \
        apply master-01 --inventory "$new" --dry-run
grep -q "nodes added: worker-04" "$work/apply-dry.out" && grep -q "node worker-01: labels" "$work/apply-dry.out" &&
        grep -q "dry run: nothing stored (it would be version 1)" "$work/apply-dry.out" && [ "$(stored)" = none ] &&
        ok "... lists both, stores nothing" || not_ok "... lists both, stores nothing" "$work/apply-dry.out"
expect_exit 0 "apply stores it" "$work/apply-1.out" apply master-01 --inventory "$new"
got=$(stored)
want="1 master-01 master-02 master-03 worker-01 worker-02 worker-03 worker-04"
history=$(ctl master-01 "$(ep master-01)" get /clusterboot/inventory-history/00000001 --print-value-only |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])' 2>&1)
grep -q "stored in etcd as version 1" "$work/apply-1.out" && [ "$got" = "$want" ] && [ "$history" = 1 ] &&
        ok "... as version 1 in /clusterboot/inventory (read through master-02) and in the history" ||
        not_ok "... as version 1 (etcd holds '$got', history '$history')" "$work/apply-1.out"
rev_before=$(ctl master-01 "$(ep master-01)" get /clusterboot/inventory -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')
expect_exit 0 "apply of the same again: nothing to store" "$work/apply-again.out" apply master-01 --inventory "$new"
rev_after=$(ctl master-01 "$(ep master-01)" get /clusterboot/inventory -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["mod_revision"])')
grep -q "the cluster runs this inventory (version 1): nothing to store" "$work/apply-again.out" &&
        [ -n "$rev_before" ] && [ "$rev_before" = "$rev_after" ] && ok "... and etcd's key is not written ($rev_after)" ||
        not_ok "... and etcd's key is not written ($rev_before, $rev_after)" "$work/apply-again.out"
bad=$work/inv-bad
cp -r "$new" "$bad"
sed -i 's|node_cidr: 10.20.0.0/24|node_cidr: 10.20.0.0/23|' "$bad/cluster.yaml"
expect_exit 1 "apply of a changed node_cidr is refused" "$work/apply-bad.out" apply master-01 --inventory "$bad"
grep -q "cluster.networking.node_cidr cannot change in place (10.20.0.0/24 to 10.20.0.0/23)" "$work/apply-bad.out" &&
        grep -q "nothing was stored" "$work/apply-bad.out" && [ "$(stored)" = "$want" ] &&
        ok "... with the reason; etcd still holds version 1" || not_ok "... with the reason" "$work/apply-bad.out"
broken=$work/inv-broken
cp -r "$new" "$broken"
sed -i 's/roles: \[worker\]$/roles: [wroker]/' "$broken/cluster.yaml"
expect_exit 1 "apply of an invalid inventory is refused" "$work/apply-broken.out" apply master-01 --inventory "$broken"
grep -q "not a valid inventory; nothing was stored" "$work/apply-broken.out" && grep -q "wroker" "$work/apply-broken.out" &&
        [ "$(stored)" = "$want" ] && ok "... with the validation's errors; etcd still holds version 1" ||
        not_ok "... with the validation's errors" "$work/apply-broken.out"
# master-03 was installed with examples/ha (no worker-04): it compares with etcd's version 1, not with that.
expect_exit 0 "apply on master-03 of the installed inventory: worker-04 removed, as version 2" "$work/apply-2.out" \
        apply master-03 --inventory "$inv"
grep -q "changes against the running inventory (version 1)" "$work/apply-2.out" &&
        grep -q "nodes removed: worker-04" "$work/apply-2.out" && [ "$(stored)" = "2 master-01 master-02 master-03 worker-01 worker-02 worker-03" ] &&
        ok "... compared with etcd's version 1, stored version 2" || not_ok "... compared with version 1, stored 2" "$work/apply-2.out"
apply master-02 --inventory "$new" --dry-run --output json >"$work/apply-json.out" 2>"$work/apply-json.err"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] and d["running_version"] == 2 and d["version"] == 2 and d["stored"] is False, d
assert d["changes"] == {"added": ["worker-04"], "removed": [], "changed": [{"node": "worker-01", "what": ["labels"]}], "settings": []}, d["changes"]' \
        "$work/apply-json.out" 2>>"$work/apply-json.err" && ok "apply --dry-run --output json: the versions and the changes" ||
        not_ok "apply --dry-run --output json" "$work/apply-json.out" "$work/apply-json.err"
# sync: master-02 takes version 3 (worker-04 again) from etcd into its tree: the inventory, /etc/hosts.
expect_exit 0 "apply on master-01: worker-04 back, as version 3" "$work/apply-3.out" apply master-01 --inventory "$new"
sync2() { ip netns exec "${ns[master-02]}" "$cb" sync --root "$work/root-master-02" --node master-02; }
expect_exit 0 "sync on master-02 (under --root) takes version 3 from etcd" "$work/sync-1.out" sync2
r2=$work/root-master-02
grep -q "inventory version 3 from etcd (https://10.20.0.12:2379)" "$work/sync-1.out" &&
        grep -q "worker-04" "$r2/etc/cluster-config/cluster.yaml" && grep -q "zone-9" "$r2/etc/cluster-config/nodes/worker-01.yaml" &&
        grep -q "^10.20.0.24[[:space:]].*worker-04" "$r2/etc/hosts" && [ "$(cat "$r2/var/lib/cluster-state/inventory-version")" = 3 ] &&
        grep -q "under --root: nothing is restarted" "$work/sync-1.out" &&
        ok "... its inventory, /etc/hosts (worker-04) and the recorded version are version 3's" ||
        not_ok "... its inventory, /etc/hosts and the recorded version are version 3's" "$work/sync-1.out" "$r2/etc/hosts"
expect_exit 0 "sync again" "$work/sync-2.out" sync2
grep -q "master-02: [0-9]* files: 0 created, 0 updated" "$work/sync-2.out" && ! grep -q "updated /etc" "$work/sync-2.out" &&
        ok "... writes nothing" || not_ok "... writes nothing" "$work/sync-2.out"
lost=$work/root-lost
mkdir -p "$lost/etc" && cp -r "$work/root-master-01/etc/kubernetes" "$lost/etc/" && cp -r "$inv" "$lost/etc/cluster-config"
sed -i 's/ip: 10.20.0.1\([123]\)$/ip: 10.20.0.9\1/' "$lost/etc/cluster-config/cluster.yaml"
expect_exit 75 "apply when no master's etcd answers: 75, nothing stored" "$work/apply-lost.out" \
        ip netns exec "${ns[master-01]}" "$cb" apply --root "$lost" --inventory "$new"
grep -q "no etcd of the masters (https://10.20.0.91:2379, ...) answers" "$work/apply-lost.out" &&
        ok "... and says which etcds it asked" || not_ok "... and says which etcds it asked" "$work/apply-lost.out"

alive=0
for m in "${masters[@]}"; do kill -0 "${etcd_pid[$m]}" 2>/dev/null && alive=$((alive + 1)); done
if [ "$alive" = 3 ]; then ok "all three etcd processes still run"; else not_ok "only $alive etcd processes run"; fi

# --- the masters' Ceph monitors, as stage ceph-mon makes their stores and ceph-mon@.service runs them ---------
export CEPH_ARGS="--log-file=$work/ceph-client.log --admin-socket=$work/ceph-client.\$pid.asok"
declare -A mon_pid=()
start_mon() { # NODE
        local m=$1 r=$work/root-$1 run=$work/mon-run-$1
        mkdir -p "$run"
        ip netns exec "${ns[$m]}" ceph-mon -f -i "$m" --mon-data "$r/var/lib/ceph/mon/ceph-$m" -c "$r/etc/ceph/ceph.conf" \
                --run-dir "$run" --admin-socket "$run/mon.asok" --pid-file "$run/mon.pid" --log-file "$work/mon-$m.log" \
                --mon-cluster-log-file "$work/mon-cluster-$m.log" >"$work/mon-$m.out" 2>&1 &
        mon_pid[$m]=$!
        pids+=("${mon_pid[$m]}")
}
stop_mon() { kill "${mon_pid[$1]}" 2>/dev/null; wait "${mon_pid[$1]}" 2>/dev/null; }
ceph1() { # ARGS...: the ceph CLI as client.admin in master-01's namespace
        ip netns exec "${ns[master-01]}" timeout 30 ceph -c "$work/root-master-01/etc/ceph/ceph.conf" \
                -k "$work/root-master-01/etc/ceph/ceph.client.admin.keyring" -n client.admin --connect-timeout 10 "$@"
}
quorum() { # "NAME NAME ...": the monitors in the quorum, by name
        ceph1 quorum_status --format json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["quorum_names"])))'
}
monmap() { # "NAME NAME ...": the monitors of the monmap
        ceph1 mon dump --format json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(sorted(m["name"] for m in json.load(sys.stdin)["mons"])))'
}
mons_made=0
for m in "${masters[@]}"; do
        ip netns exec "${ns[$m]}" "$cb" bootstrap --inventory "$inv" --node "$m" --root "$work/root-$m" --stage ceph-mon \
                --retry-timeout 0 >"$work/stage-mon-$m.log" 2>&1
        grep -q "made the store of mon.$m" "$work/stage-mon-$m.log" && mons_made=$((mons_made + 1))
        start_mon "$m"
done
full_quorum() { [ "$(quorum)" = "master-01 master-02 master-03" ]; }
if [ "$mons_made" = 3 ] && wait_for 90 full_quorum; then
        ok "stage ceph-mon made the three masters' stores; their ceph-mon run in one quorum"
else
        not_ok "the three masters' ceph-mon in one quorum (stores made: $mons_made; quorum: $(quorum))" \
                "$work/stage-mon-master-01.log" "$work/mon-master-01.log"
fi

# --- a master taken out of the inventory leaves etcd and the monmap: apply, then sync on another master -------
shrunk=$work/inv-shrunk
cp -r "$inv" "$shrunk"
python3 - "$shrunk/cluster.yaml" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = lines.index("  - name: master-03")
del lines[i:i + 4]
open(sys.argv[1], "w").write("\n".join(lines))
PY
expect_exit 0 "apply of the inventory without master-03 (one master of three): version 4" "$work/apply-4.out" \
        apply master-01 --inventory "$shrunk"
# Each run's output is also kept in sync1-all.out: expect_exit_after75 keeps only the last run's.
sync1() {
        ip netns exec "${ns[master-01]}" "$cb" sync --root "$work/root-master-01" --node master-01 >"$work/sync1.last" 2>&1
        local rc=$?
        tee -a "$work/sync1-all.out" <"$work/sync1.last"
        return $rc
}
members() { mt master-01 "$(ep master-01)" list 2>/dev/null | awk '$1 == "member" { print $3 }' | sort | paste -sd' '; }
stop_etcd master-02
stop_mon master-02
expect_exit 75 "sync on master-01 while master-02's etcd and monitor are down: 75" "$work/sync-down.out" sync1
grep -q "etcd member master-03 is no master of version 4; not removed while member master-02 is not healthy" "$work/sync-down.out" &&
        [ "$(members)" = "master-01 master-02 master-03" ] && ok "... master-03's member is kept, and it says why" ||
        not_ok "... master-03's member is kept (members: $(members))" "$work/sync-down.out"
grep -q "Ceph monitor master-03 is no ceph-mon of version 4; not removed while monitor master-02 is out of the quorum or does not answer" \
        "$work/sync-down.out" && [ "$(monmap)" = "master-01 master-02 master-03" ] &&
        ok "... master-03's monitor is kept in the monmap, and it says why" ||
        not_ok "... master-03's monitor is kept in the monmap (monmap: $(monmap))" "$work/sync-down.out"
start_etcd master-02
start_mon master-02
wait_for 30 health master-02 || not_ok "master-02's etcd is back" "$work/etcd-master-02.log"
# etcd refuses a member change until its peers have been connected for a few seconds: 75 until then.
expect_exit_after75 60 0 "sync on master-01 with every member healthy" "$work/sync-remove.out" sync1
# Each in the run that found every other member (monitor) healthy: maybe not the same run, so in any run's output.
grep -q "removed etcd member master-03 ([0-9a-f]*): no master of version 4" "$work/sync1-all.out" &&
        [ "$(members)" = "master-01 master-02" ] && ok "... removes master-03's member; master-01 and -02 remain" ||
        not_ok "... removes master-03's member (members: $(members))" "$work/sync1-all.out"
grep -q "removed Ceph monitor master-03 from the monmap: no ceph-mon of version 4" "$work/sync1-all.out" &&
        [ "$(monmap)" = "master-01 master-02" ] && [ "$(quorum)" = "master-01 master-02" ] &&
        ok "... removes master-03's monitor from the monmap; master-01 and -02 keep the quorum" ||
        not_ok "... removes master-03's monitor from the monmap (monmap: $(monmap), quorum: $(quorum))" "$work/sync1-all.out"
expect_exit 0 "sync again" "$work/sync-remove-again.out" sync1
! grep -q "removed etcd member\|removed Ceph monitor" "$work/sync-remove-again.out" && [ "$(members)" = "master-01 master-02" ] &&
        [ "$(monmap)" = "master-01 master-02" ] &&
        ok "... removes nothing more" || not_ok "... removes nothing more" "$work/sync-remove-again.out"

finish
