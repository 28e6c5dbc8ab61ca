#!/usr/bin/env bash
# The join services of two masters share what they decide through the cluster's etcd (src/cluster/
# join-record.c), against real etcd 3.4: a join request answered by master-01 is refused as replayed by
# master-02 and by master-01 after a restart; two machines whose MACs end alike ask two masters for one
# auto_register name at the same moment, and one of them gets it; an address is never given twice; a machine
# at a new address lets the old one go; with etcd down, a master answers joins alone (refusing what it
# answered itself) but registers no machine.
#
# examples/ha with auto_register on; its TLS material comes from `clusterboot secrets init` and `pki node`.
# The network: a namespace holding a bridge, master-01 and master-02 (10.20.0.11-12/24) and three machines
# (10.20.0.50-52/24) in namespaces of their own. Nothing is added to the root namespace and no other address
# is contacted. Secrets are never printed.
#
# Usage: test-join-shared.sh CLUSTERBOOT JOIN_TOOL EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT JOIN_TOOL EXAMPLES_DIR}")
tool=$(realpath "${2:?usage: $0 CLUSTERBOOT JOIN_TOOL EXAMPLES_DIR}")
examples=$(realpath "${3:?usage: $0 CLUSTERBOOT JOIN_TOOL EXAMPLES_DIR}")
# shellcheck source=../pki-e2e/lib.sh
. "$(dirname "$0")/../pki-e2e/lib.sh"

need ip etcd etcdctl openssl curl python3
export ETCDCTL_API=3

masters=(master-01 master-02)
declare -A ip=([master-01]=10.20.0.11 [master-02]=10.20.0.12 [a]=10.20.0.50 [b]=10.20.0.51 [c]=10.20.0.52)
declare -A ns=() etcd_pid=() serve_pid=()
inv=$work/inv
bundle=$work/bundle
brns=${tag}br

# --- what clusterboot makes -----------------------------------------------------------------------
cp -r "$examples/ha" "$inv"
sed -i 's/^  name: ha$/  name: ha\n  auto_register:\n    enabled: true/' "$inv/cluster.yaml"
check "examples/ha with auto_register on: valid" "$work/validate.log" "$cb" validate --inventory "$inv"
check "secrets init" "$work/secrets.log" "$cb" secrets init --inventory "$inv" --out "$bundle"
for m in "${masters[@]}"; do
        check "$m: pki node and render" "$work/root-$m.log" eval \
                '"$cb" pki node --inventory "$inv" --node "$m" --secrets "$bundle" --root "$work/root-$m" &&
                 "$cb" render --inventory "$inv" --node "$m" --root "$work/root-$m"'
done
[ "$failed" = 0 ] || finish
secret=$(cat "$bundle/join-secret")
ca=$bundle/kubernetes/ca.crt

# --- the network ----------------------------------------------------------------------------------
net() {
        local i=0 who
        ns_bridge "$brns" || return 1
        for who in master-01 master-02 a b c; do
                i=$((i + 1))
                ns[$who]=${tag}n$i
                ns_add "${ns[$who]}" && ns_lan "$brns" "${ns[$who]}" "${ip[$who]}/24" "v$i" || return 1
        done
}
if net 2>"$work/net.log"; then
        ok "two masters and three machines on one bridge (10.20.0.0/24)"
else
        not_ok "network namespaces" "$work/net.log"
        finish
fi

# --- etcd on master-01, a join service on each master -----------------------------------------------
start_etcd master-01
if wait_for 30 etcd_healthy master-01 "https://${ip[master-01]}:2379"; then ok "etcd runs on master-01"; else not_ok "etcd runs on master-01" "$work/etcd-master-01.log"; finish; fi
ctl() { etcd_ctl master-01 "https://${ip[master-01]}:2379" "$@"; } # only to read what the services wrote

# serve MASTER: its join service (on its address and 127.0.0.1, port 9443); master-02's reaches etcd on
# master-01 (its own etcd is not running: skipped as unreachable).
serve() {
        local m=$1
        ip netns exec "${ns[$m]}" "$cb" serve -v --inventory "$inv" --node "$m" --secrets "$bundle" \
                --root "$work/root-$m" >>"$work/serve-$m.log" 2>&1 &
        serve_pid[$m]=$!
        pids+=("$!")
        for _ in $(seq 1 100); do
                [ "$(grep -c "join: serving" "$work/serve-$m.log" 2>/dev/null)" -ge "${2:-1}" ] && return 0
                kill -0 "${serve_pid[$m]}" 2>/dev/null || return 1
                sleep 0.1
        done
        return 1
}
for m in "${masters[@]}"; do
        if serve "$m"; then ok "$m's join service starts"; else not_ok "$m's join service starts" "$work/serve-$m.log"; finish; fi
done
url() { echo "https://${ip[$1]}:9443"; }

# post MASTER FILE: the body POSTed to /v1/join from MASTER's own namespace (127.0.0.1, as the node itself
# would be refused nothing for its address); prints "STATUS ERROR".
post() {
        ip netns exec "${ns[$1]}" curl -s --cacert "$ca" -o "$work/answer" -w '%{http_code}' \
                -H 'Content-Type: application/json' --data-binary "@$2" "https://127.0.0.1:9443/v1/join"
        # Only the refusal's reason is kept: an answer holds the node's role material.
        echo " $(sed -n 's/^{"error":"\(.*\)"}$/\1/p' "$work/answer")"
        rm -f "$work/answer"
}

# --- a request answered once, by all masters ------------------------------------------------------
"$tool" build "$secret" worker-01 kubelet >"$work/request.json"
nonce=$(sed -n 's/.*"nonce": *"\([0-9a-f]*\)".*/\1/p' "$work/request.json")
out=$(post master-01 "$work/request.json")
check "master-01 answers worker-01's join request ($out)" /dev/null test "$out" = "200 "
out=$(post master-02 "$work/request.json")
check "the same request to master-02: 401, replayed ($out)" /dev/null \
        test "$out" = "401 replayed (answered by a master before)"
lease=$(ctl get "/clusterboot/join/nonce/$nonce" -w json 2>"$work/lease.err" |
        python3 -c 'import json,sys; kv=json.load(sys.stdin)["kvs"][0]; print(kv.get("lease", 0))' 2>>"$work/lease.err")
ttl=$(ctl lease timetolive "$(printf '%x' "${lease:-0}")" 2>>"$work/lease.err" | sed -n 's/.*remaining(\([0-9]*\)s).*/\1/p')
check "etcd holds the nonce, bound to a lease that outlives the accepted window (${ttl:-?} s left)" "$work/check.log" \
        eval 'cat "$work/lease.err"; test "${ttl:-0}" -gt 600 -a "${ttl:-0}" -le 660' 
stop_serve() { # MASTER: SIGTERM, its status; the PID leaves the cleanup list
        local p=${serve_pid[$1]} rc keep=() q
        kill -TERM "$p" && wait "$p"
        rc=$?
        for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
        pids=("${keep[@]}")
        return "$rc"
}
stop_serve master-01
check "master-01's join service stops on SIGTERM with status 0" /dev/null test $? = 0
serve master-01 2 || { not_ok "master-01's join service starts again" "$work/serve-master-01.log"; finish; }
out=$(post master-01 "$work/request.json")
check "... and after its restart refuses the request it answered ($out)" /dev/null \
        test "$out" = "401 replayed (answered by a master before)"

# --- auto_register: one name, one address ---------------------------------------------------------
# register MACHINE MASTER MAC: join-tool from MACHINE's namespace as the machine MAC names; its output in
# $work/reg-MACHINE-MAC.out.
register() {
        local name=node-$(echo "$3" | tr -d : | tail -c 7)
        mkdir -p "$work/out-$1"
        ip netns exec "${ns[$1]}" "$tool" join "$(url "$2")" "$secret" "$name" "$work/out-$1" --ca "$ca" --hwaddr "$3" \
                kubelet >"$work/reg-$1-$3.out" 2>&1
}
# says FILE TEXT: FILE has TEXT (printed when not, for the point's log).
says() { grep -qF -- "$2" "$1" || { cat "$1"; return 1; }; }
out_of() { grep -h -v '^material' "$work/reg-$1-$2.out"; }
register a master-01 52:54:00:aa:bb:cc &
pa=$!
register b master-02 02:00:00:aa:bb:cc &
wait "$pa" $!
a=$(out_of a 52:54:00:aa:bb:cc | tr '\n' ' ')
b=$(out_of b 02:00:00:aa:bb:cc | tr '\n' ' ')
note "a: $a"
note "b: $b"
one_name() {
        case "$a|$b" in
        *"registered as node-aabbcc at 10.20.0.50"*"|refused 409: auto_register: the name node-aabbcc is registered to MAC 52:54:00:aa:bb:cc (node-aabbcc at 10.20.0.50)"*) ;;
        "refused 409: auto_register: the name node-aabbcc is registered to MAC 02:00:00:aa:bb:cc (node-aabbcc at 10.20.0.51)"*"|"*"registered as node-aabbcc at 10.20.0.51"*) ;;
        *) return 1 ;;
        esac
}
check "two machines whose MACs end alike ask two masters for node-aabbcc at once: one gets it, the other 409" \
        /dev/null one_name
if [[ $a == *"registered as"* ]]; then winner=a mac=52:54:00:aa:bb:cc other=b; else winner=b mac=02:00:00:aa:bb:cc other=a; fi
record() { ctl get --print-value-only "$1" 2>>"$work/ctl.err"; }
check "etcd's records of node-aabbcc name $winner's MAC and address, under both keys" "$work/ctl.err" eval \
        '[[ "$(record /clusterboot/registry/name/node-aabbcc)" == *"\"ip\":\"${ip[$winner]}\",\"mac\":\"$mac\",\"name\":\"node-aabbcc\""* ]] &&
         [ "$(record /clusterboot/registry/name/node-aabbcc)" = "$(record "/clusterboot/registry/address/${ip[$winner]}")" ] &&
         [ -z "$(record "/clusterboot/registry/address/${ip[$other]}")" ]'
register "$winner" master-02 "$mac"
check "the same machine asking again (another master) is answered with the same name and address" "$work/check.log" \
        says "$work/reg-$winner-$mac.out" "registered as node-aabbcc at ${ip[$winner]}"
register "$winner" master-01 52:54:00:dd:ee:ff
check "another machine from node-aabbcc's address: 409, the address is node-aabbcc's" "$work/check.log" \
        says "$work/reg-$winner-52:54:00:dd:ee:ff.out" \
        "refused 409: auto_register: the address ${ip[$winner]} is registered to MAC $mac (node-aabbcc at ${ip[$winner]})"
register c master-02 "$mac"
check "node-aabbcc from a new address (10.20.0.52): registered there" "$work/check.log" \
        says "$work/reg-c-$mac.out" "registered as node-aabbcc at 10.20.0.52"
check "... and its old address is free again in etcd" "$work/ctl.err" eval \
        '[ -z "$(record "/clusterboot/registry/address/${ip[$winner]}")" ] &&
         [[ "$(record /clusterboot/registry/address/10.20.0.52)" == *"\"mac\":\"$mac\""* ]]'
register "$winner" master-01 52:54:00:dd:ee:ff
check "... so another machine may take it (node-ddeeff at ${ip[$winner]})" "$work/check.log" \
        says "$work/reg-$winner-52:54:00:dd:ee:ff.out" "registered as node-ddeeff at ${ip[$winner]}"

# --- without etcd: each master alone refuses replays, and no machine is registered ------------------
# (A master that lost its peers must still hand the bundle to a reinstalled one, or quorum never returns.)
stop_etcd master-01
"$tool" build "$secret" worker-02 kubelet >"$work/request2.json"
out=$(post master-02 "$work/request2.json")
check "etcd down: master-02 answers worker-02's join alone ($out)" /dev/null test "$out" = "200 "
check "... and says for how long it decides alone" /dev/null grep -q \
        "join: the request's nonce: no member of the cluster's etcd answers (.*): for 10 s this master alone refuses replayed requests" \
        "$work/serve-master-02.log"
out=$(post master-02 "$work/request2.json")
check "... the same request again: refused by master-02's own memory ($out)" /dev/null test "$out" = "401 replayed"
register a master-02 52:54:00:12:34:56
check "... a machine to register: 503, no name is given without etcd" "$work/check.log" \
        says "$work/reg-a-52:54:00:12:34:56.out" \
        "refused 503: auto_register: the masters' shared records (etcd) do not answer: ask again later"

check "the log says who was refused and why" /dev/null \
        grep -q "node worker-01: refused (401): replayed (answered by a master before)" "$work/serve-master-02.log"
rc=0
for m in "${masters[@]}"; do stop_serve "$m" || rc=$?; done
check "the join services stop on SIGTERM with status 0" /dev/null test "$rc" = 0
finish
