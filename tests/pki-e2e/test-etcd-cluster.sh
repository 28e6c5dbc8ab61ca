#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# A three-member etcd cluster from what clusterboot makes for examples/ha, started the way SPEC's
# bootstrap rule says: master-01 alone (state new), then master-02 and master-03 each added with
# `etcdctl member add --learner`, started from its rendered etcd.env (state existing), and promoted once it
# has caught up. Every connection is mutual TLS with the certificates `clusterboot pki node` wrote.
#
# Network: a namespace holding only a bridge, and one namespace per master whose eth0 (a veth into that
# bridge) carries the master's address (10.20.0.11-13/24). Nothing is added to the root namespace; no
# address outside these namespaces is contacted.
#
# Usage: test-etcd-cluster.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/ha
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need ip etcd etcdctl openssl python3
export ETCDCTL_API=3

masters=(master-01 master-02 master-03)
declare -A ip=([master-01]=10.20.0.11 [master-02]=10.20.0.12 [master-03]=10.20.0.13)
declare -A ns=() etcd_pid=() member_id=()
bundle=$work/bundle
brns=${tag}br

# --- what clusterboot makes -----------------------------------------------------------------------
check "secrets init for examples/ha" "$work/secrets.log" \
        "$cb" secrets init --inventory "$inv" --out "$bundle"
for m in "${masters[@]}"; do
        root=$work/root-$m
        check "$m: pki node" "$work/pki-$m.log" \
                "$cb" pki node --inventory "$inv" --node "$m" --secrets "$bundle" --root "$root"
        check "$m: render" "$work/render-$m.log" "$cb" render --inventory "$inv" --node "$m" --root "$root"
        for f in etc/cluster-config/environment/etcd.env etc/kubernetes/pki/etcd/{ca,server,peer,healthcheck-client}.crt \
                etc/kubernetes/pki/apiserver-etcd-client.crt; do
                [ -f "$root/$f" ] || { not_ok "$m: $f is missing"; finish; }
        done
done
[ "$failed" = 0 ] || finish

env_get() { # ROOT KEY
        etcd_env "$1" | sed -n "s/^$2=//p"
}

# The rendered bootstrap inputs are what SPEC's rule asks for.
want_ic=""
for m in "${masters[@]}"; do
        root=$work/root-$m
        want_ic+="${want_ic:+,}$m=https://${ip[$m]}:2380"
        state=$(env_get "$root" ETCD_INITIAL_CLUSTER_STATE)
        ic=$(env_get "$root" ETCD_INITIAL_CLUSTER)
        want_state=existing
        [ "$m" = master-01 ] && want_state=new
        if [ "$state" = "$want_state" ] && [ "$ic" = "$want_ic" ]; then
                ok "$m: etcd.env has state $want_state and initial cluster of masters 1..k"
        else
                not_ok "$m: etcd.env has state '$state' (want $want_state), initial cluster '$ic' (want '$want_ic')"
        fi
done

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

# --- etcd ---------------------------------------------------------------------------------------
pki() { echo "$work/root-$1/etc/kubernetes/pki"; }
# ctl NODE CLIENT ENDPOINTS ARGS...: etcdctl inside NODE's namespace with NODE's client certificate CLIENT
# (apiserver-etcd-client or etcd/healthcheck-client) and NODE's copy of the etcd CA.
ctl() {
        local m=$1 client=$2 eps=$3
        shift 3
        ip netns exec "${ns[$m]}" etcdctl --dial-timeout=3s --command-timeout=10s --endpoints="$eps" \
                --cacert="$(pki "$m")/etcd/ca.crt" --cert="$(pki "$m")/$client.crt" --key="$(pki "$m")/$client.key" "$@"
}
ep() { echo "https://${ip[$1]}:2379"; }
all_eps="$(ep master-01),$(ep master-02),$(ep master-03)"

start_etcd() { # NODE
        local m=$1 root=$work/root-$1 vars=()
        mapfile -t vars < <(etcd_env "$root")
        ip netns exec "${ns[$m]}" env -i PATH="$PATH" "${vars[@]}" etcd >"$work/etcd-$m.log" 2>&1 &
        etcd_pid[$m]=$!
        pids+=("$!")
}
# The etcd client port of NODE answers a TLS health query from NODE's own namespace.
healthy() { # NODE
        kill -0 "${etcd_pid[$1]}" 2>/dev/null || return 2
        ctl "$1" etcd/healthcheck-client "$(ep "$1")" endpoint health || return 1
}
# A learner serves no linearizable read (what `endpoint health` does in etcd 3.4), but answers status.
serving() { # NODE
        kill -0 "${etcd_pid[$1]}" 2>/dev/null || return 2
        ctl "$1" etcd/healthcheck-client "$(ep "$1")" endpoint status || return 1
}

start_etcd master-01
if wait_for 30 healthy master-01; then
        ok "master-01: etcd starts alone (state new) and is healthy over TLS"
else
        not_ok "master-01: etcd starts alone and is healthy" "$work/etcd-master-01.log"
        finish
fi

members_so_far=$(ep master-01)
for m in master-02 master-03; do
        # member add, against the members running now, as a learner.
        # etcd refuses a member change ("unhealthy cluster") until every voter has been connected for a
        # few seconds, so right after a promotion this is retried.
        add() {
                ctl master-01 apiserver-etcd-client "$members_so_far" member add "$m" --learner \
                        --peer-urls="https://${ip[$m]}:2380" >"$work/add-$m.log" 2>&1 && return 0
                grep -q "unhealthy cluster" "$work/add-$m.log" && return 1
                return 2
        }
        if wait_for 30 add; then
                # etcdctl prints the id with %16x: a short one is padded with spaces.
                id=$(sed -nE 's/^Member +([0-9a-f]+) added.*/\1/p' "$work/add-$m.log")
                member_id[$m]=$id
                # What etcd says the new member must start with agrees with the rendered file (as a set).
                said=$(sed -nE 's/^ETCD_INITIAL_CLUSTER="(.*)"$/\1/p' "$work/add-$m.log" | tr , '\n' | sort | paste -sd,)
                rendered=$(env_get "$work/root-$m" ETCD_INITIAL_CLUSTER | tr , '\n' | sort | paste -sd,)
                if [ -n "$id" ] && [ "$said" = "$rendered" ]; then
                        ok "$m: member add --learner; etcd's ETCD_INITIAL_CLUSTER equals the rendered one"
                else
                        not_ok "$m: member add (id '$id'; etcd says '$said', rendered '$rendered')" "$work/add-$m.log"
                fi
        else
                not_ok "$m: member add --learner" "$work/add-$m.log"
                finish
        fi

        start_etcd "$m"
        if wait_for 60 serving "$m"; then
                ok "$m: etcd starts from its rendered env (state existing) and serves TLS as a learner"
        else
                not_ok "$m: etcd starts from its rendered env" "$work/etcd-$m.log"
                finish
        fi

        # A learner is promoted once it is in sync with the leader; etcd refuses before that.
        promote() { ctl master-01 apiserver-etcd-client "$members_so_far" member promote "${member_id[$m]}" || return 1; }
        if wait_for 60 promote; then
                ok "$m: caught up and promoted to a voting member"
        else
                promote >"$work/promote-$m.log" 2>&1
                not_ok "$m: promote" "$work/promote-$m.log" "$work/etcd-$m.log"
                finish
        fi
        members_so_far+=",$(ep "$m")"
done

# --- the cluster --------------------------------------------------------------------------------
for m in "${masters[@]}"; do
        check "health of all three from $m with healthcheck-client" "$work/health-$m.log" \
                ctl "$m" etcd/healthcheck-client "$all_eps" endpoint health
done
check "health of all three with apiserver-etcd-client" "$work/health-api.log" \
        ctl master-02 apiserver-etcd-client "$all_eps" endpoint health

ctl master-01 apiserver-etcd-client "$all_eps" member list -w json >"$work/members.json" 2>"$work/members.err"
# Three members, each started (it has a name), none a learner, with the names of the inventory.
summary=$(python3 - "$work/members.json" <<'PY' 2>&1
import json, sys
ms = json.load(open(sys.argv[1]))["members"]
print(" ".join(sorted(f"{m.get('name','')}:{'learner' if m.get('isLearner') else 'voter'}:"
                      f"{'started' if m.get('clientURLs') else 'unstarted'}" for m in ms)))
PY
)
want="master-01:voter:started master-02:voter:started master-03:voter:started"
if [ "$summary" = "$want" ]; then
        ok "member list: three started voting members master-01..03"
else
        not_ok "member list: '$summary', want '$want'" "$work/members.err"
fi

ctl master-03 etcd/healthcheck-client "$all_eps" endpoint status -w json >"$work/status.json" 2>"$work/status.err"
ids=$(python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
print(len(st), " ".join(sorted({str(s["Status"]["header"]["cluster_id"]) for s in st})))' "$work/status.json" 2>&1)
if [[ $ids =~ ^3\ [0-9]+$ ]]; then
        ok "endpoint status: three endpoints, one cluster id ($(cut -d' ' -f2 <<<"$ids"))"
else
        not_ok "endpoint status: one cluster id from all three (got '$ids')" "$work/status.err"
fi

read_back() {
        ctl master-01 apiserver-etcd-client "$(ep master-01)" put /clusterboot/e2e "ok-$$" &&
                [ "$(ctl master-03 apiserver-etcd-client "$(ep master-03)" get --print-value-only /clusterboot/e2e)" = "ok-$$" ]
}
check "a write through master-01 is read back from master-03" "$work/rw.log" read_back

# --- what must be refused -----------------------------------------------------------------------
# A client certificate from another CA (with the same subject as the real one).
other=$work/other-ca
mkdir -p "$other"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=etcd-ca \
        -keyout "$other/ca.key" -out "$other/ca.crt" >"$other/log" 2>&1 &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=kube-apiserver-etcd-client \
                -keyout "$other/client.key" -out "$other/client.csr" >>"$other/log" 2>&1 &&
        printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$other/ext" &&
        openssl x509 -req -in "$other/client.csr" -CA "$other/ca.crt" -CAkey "$other/ca.key" -CAcreateserial \
                -days 2 -extfile "$other/ext" -out "$other/client.crt" >>"$other/log" 2>&1; then
        # etcd's own log says why it closed each connection.
        why() { # PATTERN
                grep -c "rejected connection.*$1" "$work/etcd-master-01.log" 2>/dev/null || true
        }
        before=$(why "certificate signed by unknown authority")
        refuse "a client certificate signed by another CA is refused" "$work/refuse-other.log" \
                ip netns exec "${ns[master-01]}" etcdctl --dial-timeout=3s --command-timeout=5s \
                --endpoints="$(ep master-01)" --cacert="$(pki master-01)/etcd/ca.crt" \
                --cert="$other/client.crt" --key="$other/client.key" get /clusterboot/e2e
        if [ "$(why "certificate signed by unknown authority")" -gt "$before" ]; then
                ok "... etcd logged: failed to verify client certificate: signed by unknown authority"
        else
                not_ok "... etcd logged no 'unknown authority' rejection" "$work/etcd-master-01.log"
        fi
        before=$(why "client didn't provide a certificate")
        refuse "a client without a certificate is refused" "$work/refuse-none.log" \
                ip netns exec "${ns[master-01]}" etcdctl --dial-timeout=3s --command-timeout=5s \
                --endpoints="$(ep master-01)" --cacert="$(pki master-01)/etcd/ca.crt" get /clusterboot/e2e
        if [ "$(why "client didn't provide a certificate")" -gt "$before" ]; then
                ok "... etcd logged: client didn't provide a certificate"
        else
                not_ok "... etcd logged no 'didn't provide a certificate' rejection" "$work/etcd-master-01.log"
        fi
        before=$(why "bad certificate")
        refuse "a client that trusts only another CA does not accept the server" "$work/refuse-server.log" \
                ip netns exec "${ns[master-01]}" etcdctl --dial-timeout=3s --command-timeout=5s \
                --endpoints="$(ep master-01)" --cacert="$other/ca.crt" \
                --cert="$(pki master-01)/apiserver-etcd-client.crt" --key="$(pki master-01)/apiserver-etcd-client.key" \
                get /clusterboot/e2e
        if [ "$(why "bad certificate")" -gt "$before" ]; then
                ok "... the client aborted the handshake (etcd logged: remote error: tls: bad certificate)"
        else
                not_ok "... etcd logged no client-side 'bad certificate' abort" "$work/etcd-master-01.log"
        fi
else
        not_ok "openssl makes another CA" "$other/log"
fi

# Every etcd is still running (none crashed under the checks).
alive=0
for m in "${masters[@]}"; do kill -0 "${etcd_pid[$m]}" 2>/dev/null && alive=$((alive + 1)); done
if [ "$alive" = 3 ]; then ok "all three etcd processes still run"; else not_ok "only $alive etcd processes run"; fi

finish
