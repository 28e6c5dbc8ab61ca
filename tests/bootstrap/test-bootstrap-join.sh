#!/usr/bin/env bash
# The "join" secret policy end to end, for examples/ha: ONE image made by `clusterboot install` (no bundle:
# only a join secret), copied for each of the six machines, each in its own network namespace on a bridge
# (tests/pki-e2e/lib.sh). The first master makes the cluster's bundle at its stage "secrets", signs its own
# certificates and serves joins (`clusterboot serve`, the program clusterboot-join.service runs); the
# second master gets the bundle from it; workers send CSRs and get certificates only (their keys never
# leave them). Also: waiting before any master serves (exit 75), a wrong join secret (refused, nothing
# written), a pinned CA that is not the cluster's (refused), re-runs that change nothing, and a machine that
# is not in the inventory (cluster.auto_register, enabled in the test's copy of examples/ha): the join
# service names it after its MAC and records the address it came from.
#
# Usage: test-bootstrap-join.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
examples=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
# shellcheck source=../pki-e2e/lib.sh
. "$(dirname "$0")/../pki-e2e/lib.sh"
# examples/ha, with auto_register on (workers named node-XXXXXX).
inv=$work/inv
cp -r "$examples/ha" "$inv"
sed -i 's/^  bootstrap:$/  auto_register:\n    enabled: true\n    role: worker\n    hostname_prefix: node-\n  bootstrap:/' "$inv/cluster.yaml"

need ip openssl faketime iptables etcd etcdctl

nodes=(master-01 master-02 master-03 worker-01 worker-02 worker-03)
declare -A ip=([master-01]=10.20.0.11 [master-02]=10.20.0.12 [master-03]=10.20.0.13
        [worker-01]=10.20.0.21 [worker-02]=10.20.0.22 [worker-03]=10.20.0.23)
declare -A ns=()
img=$work/image
brns=${tag}br
root() { echo "$work/root-$1"; }

# --- one image ---
check "install (join policy, the default) makes an image with a join secret only" "$work/install.log" \
        "$cb" install --root "$img" --inventory "$inv"
secret_file=$img/etc/cluster-config/join/join-secret
check "... the join secret is 0600, 64 hex digits; no bundle in the image" "$work/img.log" bash -c \
        "test \"\$(stat -c %a '$secret_file')\" = 600 && grep -qE '^[0-9a-f]{64}$' '$secret_file' &&
         test ! -e '$img/etc/cluster-config/secrets'"
before=$(sha256sum "$secret_file")
"$cb" install --root "$img" --inventory "$inv" >"$work/install2.log" 2>&1
check "installing again keeps the join secret" "$work/install2.log" test "$before" = "$(sha256sum "$secret_file")"
for m in "${nodes[@]}"; do
        cp -a "$img" "$(root "$m")"
        # The MQTT password file is root:mosquitto: the group the package would have made.
        mkdir -p "$(root "$m")/etc" && echo "mosquitto:x:998:" >>"$(root "$m")/etc/group"
        "$cb" render --inventory "$inv" --node "$m" --root "$(root "$m")" >"$work/render-$m.log" 2>&1 ||
                not_ok "$m: render" "$work/render-$m.log"
done

if ns_bridge "$brns" 2>"$work/net.log"; then
        i=0
        for m in "${nodes[@]}"; do
                i=$((i + 1))
                ns[$m]=${tag}n$i
                { ns_add "${ns[$m]}" && ns_lan "$brns" "${ns[$m]}" "${ip[$m]}/24" "v$i"; } 2>>"$work/net.log" ||
                        { not_ok "network namespace for $m" "$work/net.log"; finish; }
        done
        ok "six namespaces on one bridge carry the inventory's addresses"
else
        not_ok "bridge namespace" "$work/net.log"
        finish
fi

# bootstrap NODE STAGE [ARGS]: in the node's namespace, on its copy of the image; output in NODE-STAGE.log.
bootstrap() {
        local m=$1 stage=$2
        shift 2
        ip netns exec "${ns[$m]}" "$cb" bootstrap --inventory "$inv" --node "$m" --root "$(root "$m")" \
                --stage "$stage" "$@" >"$work/$m-$stage.log" 2>&1
}
# expect NAME RC PATTERN NODE STAGE [ARGS]: the stage exits RC and its output matches PATTERN.
expect() {
        local name=$1 want=$2 pattern=$3 m=$4 stage=$5 rc
        shift 5
        bootstrap "$m" "$stage" "$@"
        rc=$?
        if [ "$rc" = "$want" ] && grep -qE "$pattern" "$work/$m-$stage.log"; then ok "$name"; else
                not_ok "$name (exit $rc, wanted $want and /$pattern/)" "$work/$m-$stage.log"
        fi
}

# --- before any master serves ---
expect "worker-01 before any master serves: exit 75, waiting" 75 "join service answers yet" \
        worker-01 certificates --retry-timeout 0
check "... and nothing was written" "$work/none.log" test ! -e "$(root worker-01)/etc/kubernetes/bootstrap-kubelet.conf"
expect "master-02 before the first master serves: exit 75" 75 "join service answers yet" \
        master-02 secrets --retry-timeout 0

# --- no second cluster: the first master makes the cluster only when a majority of the masters says none
# exists. Alone, it waits; master-02's join service, without a bundle (a candidate), says "no cluster" ---
expect "master-01 with no other master's join service: exit 75, no bundle made" 75 \
        "a new cluster is made only when a majority of the 3 masters says none exists: 1 more must answer" \
        master-01 secrets --retry-timeout 0
check "... nothing was written" "$work/nob1.log" test ! -e "$(root master-01)/etc/cluster-config/secrets"
ip netns exec "${ns[master-02]}" "$cb" serve --inventory "$inv" --node master-02 --root "$(root master-02)" \
        >"$work/serve-02.log" 2>&1 &
serve02_pid=$!
pids+=("$serve02_pid")
if wait_tcp "${ns[master-02]}" 10.20.0.12 9443 20 "$serve02_pid" &&
        grep -q "no secrets bundle on this master yet: answering /v1/cluster-state only" "$work/serve-02.log"; then
        ok "master-02's join service without a bundle: answers /v1/cluster-state only"
else
        not_ok "master-02's join service without a bundle: answers /v1/cluster-state only" "$work/serve-02.log"
fi

# --- the first master ---
# A bundle half written in place (a run of an earlier version that died after its join secret): completed.
mkdir -p "$(root master-01)/etc/cluster-config/secrets"
cp "$secret_file" "$(root master-01)/etc/cluster-config/secrets/join-secret"
expect "master-01 (first master, master-02 says no cluster) makes the cluster's bundle" 0 \
        "first master, no other master answers: made the cluster's secrets bundle" master-01 secrets --retry-timeout 2
b1=$(root master-01)/etc/cluster-config/secrets
# Every log this test collects (each stage's output, each join service's): no secret of this bundle (finish).
secret_bundles+=("$b1")
check "... made in secrets.new and renamed into place: no secrets.new left" "$work/staging1.log" \
        test ! -e "$(root master-01)/etc/cluster-config/secrets.new"
check "... around the image's join secret; folder 0700, keys and secrets 0600" "$work/b1.log" bash -c \
        "cmp -s <(tr -d '\n' <'$b1/join-secret') <(tr -d '\n' <'$secret_file') &&
         test \"\$(stat -c %a '$b1')\" = 700 &&
         test -z \"\$(find '$b1' -type f \\( -name '*.key' -o -name '*keyring' -o -name join-secret \\) ! -perm 600)\""
expect "master-01 signs its certificates from it" 0 "PKI files in place" master-01 certificates
check "... pki check passes on master-01" "$work/check-m1.log" \
        "$cb" pki check --inventory "$inv" --node master-01 --root "$(root master-01)"
expect "master-01 secrets again: the bundle is there, nothing made" 0 "the secrets bundle is on this node" \
        master-01 secrets

# The cluster's etcd on master-01, as its stage etcd-member starts it (from the rendered etcd.env): the join
# service keeps the nonces it answered and the machines it registered there.
declare -A etcd_pid=()
"$cb" render --inventory "$inv" --node master-01 --root "$(root master-01)" >"$work/render-m1.log" 2>&1 &&
        start_etcd master-01 || { not_ok "master-01's etcd starts" "$work/render-m1.log"; finish; }
wait_for 30 etcd_healthy master-01 https://10.20.0.11:2379 || { not_ok "master-01's etcd starts and is healthy" "$work/etcd-master-01.log"; finish; }

ip netns exec "${ns[master-01]}" "$cb" serve --inventory "$inv" --node master-01 --root "$(root master-01)" \
        >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
if wait_tcp "${ns[master-01]}" 10.20.0.11 9443 20 "$serve_pid"; then ok "master-01 serves joins on 10.20.0.11:9443"; else
        not_ok "master-01 serves joins on 10.20.0.11:9443" "$work/serve.log"
        finish
fi
expect "master-01's gate join-service: cluster-info answers with a valid proof" 0 \
        "join service .* is healthy .*valid proof" master-01 join-service --retry-timeout 5

# --- another master ---
# What a run that died while writing the received bundle left: overwritten, and the bundle renamed into place.
mkdir -p "$(root master-02)/etc/cluster-config/secrets.new/kubernetes"
echo "half a certificate" >"$(root master-02)/etc/cluster-config/secrets.new/kubernetes/ca.crt"
expect "master-02 receives the secrets bundle from master-01" 0 \
        "received the secrets bundle from https://10.20.0.11:9443" master-02 secrets --retry-timeout 10
check "... the same bundle, byte for byte; no secrets.new left" "$work/b2.log" bash -c \
        "diff -r '$b1' '$(root master-02)/etc/cluster-config/secrets' &&
         test ! -e '$(root master-02)/etc/cluster-config/secrets.new'"
for _ in $(seq 1 50); do kill -0 "$serve02_pid" 2>/dev/null || break; sleep 0.2; done
wait "$serve02_pid" 2>/dev/null
rc=$?
if [ "$rc" = 75 ] && grep -q "stopping, to serve with the cluster's bundle" "$work/serve-02.log"; then
        ok "... master-02's candidate join service stops with 75 once the bundle is there (systemd starts it again with it)"
else
        not_ok "... master-02's candidate join service stops with 75 once the bundle is there (exit $rc)" "$work/serve-02.log"
fi
expect "master-02 signs its certificates from it" 0 "PKI files in place" master-02 certificates
check "... its etcd peer certificate verifies against master-01's etcd CA" "$work/v2.log" \
        openssl verify -CAfile "$b1/etcd/ca.crt" "$(root master-02)/etc/kubernetes/pki/etcd/peer.crt"

# --- workers: CSRs only ---
expect "worker-01 gets its certificates through the join service" 0 \
        "PKI files issued through the join service of https://10.20.0.11:9443 \(keys made here\)" \
        worker-01 certificates --retry-timeout 10
w1=$(root worker-01)
check "... pki check passes on worker-01 (keys match, chains verify, names present, modes)" "$work/check-w1.log" \
        "$cb" pki check --inventory "$inv" --node worker-01 --root "$w1"
check "... no CA key, no bundle on the worker" "$work/nokeys.log" bash -c \
        "test ! -e '$w1/etc/cluster-config/secrets' && test ! -e '$w1/etc/kubernetes/pki/ca.key' &&
         ! grep -rlq 'BEGIN' '$w1/etc/kubernetes/pki/etcd' 2>/dev/null"
check "... its MQTT password file is root:mosquitto 0640, its bootstrap-osd keyring 0600" "$work/modes.log" bash -c \
        "test \"\$(stat -c %a:%g '$w1/etc/mosquitto/passwd')\" = 640:998 &&
         test \"\$(stat -c %a '$w1/etc/ceph/ceph.bootstrap-osd.keyring')\" = 600"
check "... its kubelet gets the cluster's bootstrap token (bootstrap-kubelet.conf), no client certificate" \
        "$work/kubelet.log" bash -c \
        "grep -q \"token: .*\$(cat '$b1/bootstrap-token')\" '$w1/etc/kubernetes/bootstrap-kubelet.conf' &&
         ! grep -q client-key-data '$w1/etc/kubernetes/bootstrap-kubelet.conf' &&
         test ! -e '$w1/etc/kubernetes/kubelet.conf'"
mtimes() { find "$w1/etc" "$w1/var/lib" -type f -printf '%p %T@\n' | sort; }
mtimes >"$work/mtimes-before"
expect "worker-01 again: has its certificates, asks for nothing" 0 "has its certificates from the join service" \
        worker-01 certificates
mtimes >"$work/mtimes-after"
check "... no file rewritten" "$work/same.log" diff "$work/mtimes-before" "$work/mtimes-after"
# A certificate it got is gone (or expired: both are pki check errors): it asks again with the join secret, at
# the next run of the stage, with no manual step.
rm "$w1/var/lib/kubelet/pki/kubelet.crt"
expect "worker-01 whose certificates are no longer usable asks for them again" 0 \
        "PKI files issued through the join service of https://10.20.0.11:9443 \(keys made here\), again" \
        worker-01 certificates --retry-timeout 10
check "... and pki check passes again" "$work/check-w1b.log" "$cb" pki check --inventory "$inv" --node worker-01 --root "$w1"
expect "worker-01's last stage: joined" 0 "joined the cluster" worker-01 joined
check "... status says joined" "$work/status-w1.log" bash -c \
        "'$cb' status --inventory '$inv' --node worker-01 --root '$w1' | grep -q joined"

# --- refusals ---
w2=$(root worker-02)
openssl rand -hex 32 >"$w2/etc/cluster-config/join/join-secret"
# A server that does not prove the secret, or serves another CA, is not this cluster's: the node waits (75)
# for one that is, as for an etcd of another cluster at a master's address.
expect "worker-02 with another join secret: no server proves it knows it, waits (exit 75)" 75 \
        "did not prove that it knows this node's join secret: either this image's join secret is not the cluster's" \
        worker-02 certificates --retry-timeout 0
check "... and nothing was written" "$work/none2.log" test ! -e "$w2/etc/kubernetes/bootstrap-kubelet.conf"
cp "$b1/kubernetes/ca.crt" "$w2/etc/cluster-config/join/ca.crt"
expect "... with the CA pinned (TLS verified, the request sent): refused with HTTP 401" 1 \
        "refused this node \(HTTP 401: bad mac\); is this image's join secret the cluster's" worker-02 certificates
grep -q "node worker-02: refused" "$work/serve.log" && ok "... the service logged the refusal" ||
        not_ok "... the service logged the refusal" "$work/serve.log"
check "... and no secret reached its log" "$work/leak.log" bash -c \
        "! grep -qF \"\$(cat '$secret_file')\" '$work/serve.log' && ! grep -q 'PRIVATE KEY' '$work/serve.log'"
cp "$secret_file" "$w2/etc/cluster-config/join/join-secret"
expect "worker-02 with the right secret: served after the refusal" 0 "issued through the join service" \
        worker-02 certificates --retry-timeout 10

w3=$(root worker-03)
"$cb" secrets init --inventory "$inv" --out "$work/other" >/dev/null 2>&1
cp "$work/other/kubernetes/ca.crt" "$w3/etc/cluster-config/join/ca.crt"
expect "worker-03 pinning another CA: TLS refused, nothing sent, waits (exit 75)" 75 "did not prove .* or serves another CA" \
        worker-03 certificates --retry-timeout 0
cp "$b1/kubernetes/ca.crt" "$w3/etc/cluster-config/join/ca.crt"
expect "worker-03 pinning the cluster's CA: joins, TLS verified by it" 0 "issued through the join service" \
        worker-03 certificates --retry-timeout 10

# A machine without a battery-backed clock: worker-02 reinstalled (a fresh copy of the image) boots ten
# years behind (libfaketime), and again an hour ahead with the cluster's CA pinned. The join service's
# certificate is not valid yet by its clock, or its request is stale: it learns the service's time from
# cluster-info (the proof vouches for it), asks again at that time, and says so. Under --root the clock is
# left alone.
skewed() { # LABEL FAKETIME [PIN]: worker-02 on a fresh root with its clock moved by FAKETIME
        local r=$work/root-clock-$1
        cp -a "$img" "$r"
        echo "mosquitto:x:998:" >>"$r/etc/group"
        [ -z "${3:-}" ] || cp "$b1/kubernetes/ca.crt" "$r/etc/cluster-config/join/ca.crt"
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 ip netns exec "${ns[worker-02]}" \
                faketime -f "$2" "$cb" bootstrap --inventory "$inv" --node worker-02 --root "$r" --stage certificates \
                --retry-timeout 10 >"$work/clock-$1.log" 2>&1
}
if skewed behind -3650d && grep -q "this node's clock is [0-9]* s behind the join service's (https://10.20.0.1[13]:9443): served at the service's time; the clock is not set under --root" "$work/clock-behind.log" &&
        "$cb" pki check --inventory "$inv" --node worker-02 --root "$work/root-clock-behind" >"$work/clock-check.log" 2>&1; then
        ok "worker-02 ten years behind: served at the join service's time, says its clock is wrong; pki check passes"
else
        not_ok "worker-02 ten years behind: served at the join service's time, says its clock is wrong; pki check passes" \
                "$work/clock-behind.log"
fi
if skewed ahead +1h pin && grep -q "this node's clock is 3[56][0-9][0-9] s ahead of the join service's" "$work/clock-ahead.log"; then
        ok "worker-02 an hour ahead, the CA pinned (the service answers 'stale'): served at the service's time"
else
        not_ok "worker-02 an hour ahead, the CA pinned (the service answers 'stale'): served at the service's time" \
                "$work/clock-ahead.log"
fi

# A partition that heals: worker-03 reinstalled while its packets to master-01's join service are dropped
# (iptables in its own namespace) waits, and joins once they pass again, with no manual step.
if ip netns exec "${ns[worker-03]}" iptables -I OUTPUT -d 10.20.0.11 -p tcp --dport 9443 -j DROP 2>"$work/ipt.log"; then
        p=$work/root-partition
        cp -a "$img" "$p"
        echo "mosquitto:x:998:" >>"$p/etc/group"
        start=$(date +%s)
        { ip netns exec "${ns[worker-03]}" "$cb" bootstrap --inventory "$inv" --node worker-03 --root "$p" \
                --stage certificates --retry-timeout 120 >"$work/partition.log" 2>&1; echo $? >"$work/partition.rc"
          date +%s >"$work/partition.done"; } &
        part_pid=$!
        sleep 12
        healed=$(date +%s)
        ip netns exec "${ns[worker-03]}" iptables -D OUTPUT -d 10.20.0.11 -p tcp --dport 9443 -j DROP
        wait "$part_pid"
        rc=$(cat "$work/partition.rc")
        if [ "$rc" = 0 ] && grep -q "issued through the join service of https://10.20.0.11:9443" "$work/partition.log" &&
                [ "$(cat "$work/partition.done")" -ge "$healed" ]; then
                ok "worker-03 behind a partition for 12 s: waits, then joins once it heals ($(($(cat "$work/partition.done") - start)) s)"
        else
                not_ok "worker-03 behind a partition for 12 s: waits, then joins once it heals (exit $rc)" "$work/partition.log"
        fi
else
        not_ok "worker-03 behind a partition: iptables in its namespace" "$work/ipt.log"
fi

# The join secret is in every image: a machine at worker-03's address that asks as worker-01 (whose role
# material has the MQTT users' passwords) is refused, and gets nothing.
x=$work/root-impostor
cp -a "$img" "$x"
echo "mosquitto:x:998:" >>"$x/etc/group"
ip netns exec "${ns[worker-03]}" "$cb" bootstrap --inventory "$inv" --node worker-01 --root "$x" --stage certificates \
        --retry-timeout 0 >"$work/impostor.log" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "HTTP 403: not from the node's address" "$work/impostor.log" &&
        test ! -e "$x/etc/mosquitto/passwd" && test ! -e "$x/var/lib/kubelet/pki/kubelet.crt"; then
        ok "worker-01's certificates asked from worker-03's address: refused (403), nothing written"
else
        not_ok "worker-01's certificates asked from worker-03's address: refused (403), nothing written (exit $rc)" \
                "$work/impostor.log"
fi
grep -q "client 10.20.0.23 node worker-01: refused (403): not from the node's address" "$work/serve.log" &&
        ok "... the service logged who asked from where" || not_ok "... the service logged who asked from where" "$work/serve.log"

# --- a machine that is not in the inventory ---
u=$work/root-unknown
cp -a "$img" "$u"
echo "mosquitto:x:998:" >>"$u/etc/group"
mkdir -p "$u/sys/class/net/eth0/device"
echo 52:54:00:aa:bb:cc >"$u/sys/class/net/eth0/address"
check "firstboot of an unknown machine: auto-registered as node-aabbcc, network by DHCP only" "$work/u-firstboot.log" \
        bash -c "'$cb' firstboot --root '$u' >'$work/u-fb.out' 2>&1; cat '$work/u-fb.out';
                 grep -q 'network (DHCP): node-aabbcc is auto-registered' '$work/u-fb.out' &&
                 grep -q '^DHCP=ipv4' '$u/etc/systemd/network/10-clusterboot.network' &&
                 grep -q '^MACAddress=52:54:00:aa:bb:cc' '$u/etc/systemd/network/10-clusterboot.network' &&
                 test ! -e '$u/etc/kubernetes/bootstrap-kubelet.conf'"
ns[unknown]=${tag}u
{ ns_add "${ns[unknown]}" && ns_lan "$brns" "${ns[unknown]}" 10.20.0.50/24 vu; } 2>>"$work/net.log" ||
        not_ok "network namespace for the unknown machine" "$work/net.log"
# What DHCP would have given it: 10.20.0.50. The identity comes from its facts (no --node).
ureg() {
        ip netns exec "${ns[unknown]}" "$cb" bootstrap --inventory "$u/etc/cluster-config" --root "$u" \
                --stage register --retry-timeout 10 >"$work/u-register.log" 2>&1
}
if ureg && grep -q "registered by https://10.20.0.11:9443 as node-aabbcc at 10.20.0.50" "$work/u-register.log"; then
        ok "stage register: the join service names it node-aabbcc and records 10.20.0.50"
else
        not_ok "stage register: the join service names it node-aabbcc and records 10.20.0.50" "$work/u-register.log"
fi
check "... its kubelet certificate is for system:node:node-aabbcc with IP SAN 10.20.0.50" "$work/u-cert.log" bash -c \
        "openssl x509 -in '$u/var/lib/kubelet/pki/kubelet.crt' -noout -subject -ext subjectAltName &&
         openssl x509 -in '$u/var/lib/kubelet/pki/kubelet.crt' -noout -subject | grep -q 'node-aabbcc' &&
         openssl x509 -in '$u/var/lib/kubelet/pki/kubelet.crt' -noout -ext subjectAltName | grep -q 'IP Address:10.20.0.50'"
check "... then rendered as a worker (kubelet config, containerd) and its role target enabled" "$work/u-render.log" \
        bash -c "test -s '$u/var/lib/kubelet/config.yaml' && test -s '$u/etc/containerd/config.toml' &&
                 test -L '$u/etc/systemd/system/multi-user.target.wants/kubernetes-worker.target'"
check "... pki check passes for the registered node" "$work/u-check.log" "$cb" pki check --inventory "$u/etc/cluster-config" --root "$u"
grep -q "auto-registered as node-aabbcc" "$work/serve.log" && ok "... the service logged the registration" ||
        not_ok "... the service logged the registration" "$work/serve.log"
registry_record() {
        etcd_ctl master-01 https://10.20.0.11:2379 get --print-value-only /clusterboot/registry/name/node-aabbcc |
                grep '"ip":"10.20.0.50","mac":"52:54:00:aa:bb:cc","name":"node-aabbcc"'
}
check "... and recorded it in the cluster's etcd, where every master's join service looks" "$work/u-etcd.log" registry_record
if ureg && grep -q "registered as node-aabbcc" "$work/u-register.log"; then ok "register again: nothing asked"; else
        not_ok "register again: nothing asked" "$work/u-register.log"; fi

# --- the registry reaches every node (sync): its /etc/hosts, and a dns-server node's zone. A master reads it
# from etcd; any other node from a master's join service, by its kubelet's client certificate (made here as
# the kubelet's TLS bootstrap would have: CN=system:node:NAME, O=system:nodes). ---
kubelet_cert() { # NODE ROOT
        mkdir -p "$2/var/lib/kubelet/pki" &&
                "$(dirname "$0")/../scripts/client-cert.sh" "$b1" "/O=system:nodes/CN=system:node:$1" clientAuth \
                        "$work/kc-$1" && install -m 0600 "$work/kc-$1.pem" "$2/var/lib/kubelet/pki/kubelet-client-current.pem"
}
csync() { # NODE OUT [ARGS]: clusterboot sync in NODE's namespace, its output in OUT and shown
        local m=$1 out=$2 rc
        shift 2
        ip netns exec "${ns[$m]}" "$cb" sync "$@" >"$out" 2>&1
        rc=$?
        cat "$out"
        return $rc
}
known() { # ROOT: node-aabbcc at 10.20.0.50 in its /etc/hosts
        grep -qP '^10\.20\.0\.50\tnode-aabbcc\.ha\.example\.lan node-aabbcc$' "$1/etc/hosts"
}
m1=$(root master-01)
sync_m1() {
        csync master-01 "$work/sync-m1.out" --inventory "$inv" --node master-01 --root "$m1" &&
                grep -q '1 auto-registered machine known to the cluster' "$work/sync-m1.out" && known "$m1" &&
                grep -qP '^10\.20\.0\.50\tnode-aabbcc\.ha\.example\.lan$' "$m1/etc/coredns/hosts.ha.example.lan"
}
check "sync on master-01 takes the registry from etcd: node-aabbcc in its /etc/hosts and its DNS zone" \
        "$work/sync-m1.log" sync_m1
kubelet_cert worker-01 "$w1" >"$work/kc.log" 2>&1 || not_ok "worker-01's kubelet client certificate" "$work/kc.log"
sync_w1() {
        csync worker-01 "$work/sync-w1.out" --inventory "$inv" --node worker-01 --root "$w1" &&
                grep -q 'the join service of https://10.20.0.1[123]:9443' "$work/sync-w1.out" && known "$w1"
}
check "sync on worker-01 takes it from a master's join service: node-aabbcc in its /etc/hosts" "$work/sync-w1.log" sync_w1
grep -q "client 10.20.0.21 node worker-01: inventory version 0, 1 auto-registered machines and join secret version 0 served" "$work/serve.log" &&
        ok "... the join service logged what it served" || not_ok "... the join service logged what it served" "$work/serve.log"
stamp_w1=$(stat -c %y "$w1/etc/hosts")
again_w1() {
        csync worker-01 "$work/sync-w1b.out" --inventory "$inv" --node worker-01 --root "$w1" &&
                [ "$stamp_w1" = "$(stat -c %y "$w1/etc/hosts")" ]
}
check "sync on worker-01 again: /etc/hosts not rewritten" "$work/sync-w1b.log" again_w1
kubelet_cert node-aabbcc "$u" >"$work/kcu.log" 2>&1 || not_ok "node-aabbcc's kubelet client certificate" "$work/kcu.log"
sync_u() {
        csync unknown "$work/sync-u.out" --inventory "$u/etc/cluster-config" --root "$u" && known "$u" &&
                grep -qP '^10\.20\.0\.21\tworker-01' "$u/etc/hosts"
}
check "sync on the registered machine itself (its name from its facts): it and worker-01 in its /etc/hosts" \
        "$work/sync-u.log" sync_u
# Its certificates renew through the join service as an inventory node's do (by its kubelet's client
# certificate): the service takes its name, MAC and address from its record in etcd.
renew_u() {
        local before
        before=$(openssl x509 -in "$u/var/lib/kubelet/pki/kubelet.crt" -noout -serial)
        ip netns exec "${ns[unknown]}" "$cb" pki renew --inventory "$u/etc/cluster-config" --root "$u" &&
                [ "$(openssl x509 -in "$u/var/lib/kubelet/pki/kubelet.crt" -noout -serial)" != "$before" ] &&
                openssl x509 -in "$u/var/lib/kubelet/pki/kubelet.crt" -noout -subject | grep -q 'node-aabbcc' &&
                openssl x509 -in "$u/var/lib/kubelet/pki/kubelet.crt" -noout -ext subjectAltName | grep -q 'IP Address:10.20.0.50' &&
                grep -q "node node-aabbcc: renewed certificates \[" "$work/serve.log"
}
check "pki renew on the registered machine: renewed through the join service (by its record: node-aabbcc, IP 10.20.0.50)" \
        "$work/renew-u.log" renew_u
# A machine gone for good: its records deleted on a master (docs/bootstrap.md), the next sync forgets it.
etcd_ctl master-01 https://10.20.0.11:2379 del /clusterboot/registry/name/node-aabbcc >"$work/del.log" 2>&1 &&
        etcd_ctl master-01 https://10.20.0.11:2379 del /clusterboot/registry/address/10.20.0.50 >>"$work/del.log" 2>&1 ||
        not_ok "delete node-aabbcc's records" "$work/del.log"
forgot() {
        csync worker-01 "$work/sync-w1c.out" --inventory "$inv" --node worker-01 --root "$w1" &&
                ! grep -q node-aabbcc "$w1/etc/hosts" && grep -qP '^10\.20\.0\.22\tworker-02' "$w1/etc/hosts"
}
check "its records deleted, sync on worker-01 drops node-aabbcc from /etc/hosts" "$work/sync-w1c.log" forgot
csync unknown "$work/sync-u2.out" --inventory "$u/etc/cluster-config" --root "$u" >/dev/null
rc=$?
if [ "$rc" = 1 ] && grep -q "auto-registered machine that the masters' registry does not hold any more" "$work/sync-u2.out"; then
        ok "... and on the machine itself, sync says its registration is gone and changes nothing (exit 1)"
else
        not_ok "... and on the machine itself, sync says its registration is gone and changes nothing (exit $rc)" "$work/sync-u2.out"
fi
kcu_sum=$(sha256sum <"$u/var/lib/kubelet/pki/kubelet.crt")
ip netns exec "${ns[unknown]}" "$cb" pki renew --inventory "$u/etc/cluster-config" --root "$u" >"$work/renew-u2.out" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q "unknown node: neither in the inventory nor registered by auto_register" "$work/renew-u2.out" &&
        [ "$kcu_sum" = "$(sha256sum <"$u/var/lib/kubelet/pki/kubelet.crt")" ]; then
        ok "... and a renewal is refused, naming why, its certificates left as they are (exit $rc)"
else
        not_ok "... and a renewal is refused (exit $rc)" "$work/renew-u2.out"
fi

# --- the join secret rotated in the running cluster: `secrets rotate join-secret` on master-01 stores a new
# one in etcd and in its bundle and image file; its join service restarts with it (the test restarts it, as
# clusterboot-join.service would be); images built before can no longer join; sync brings it to every node. ---
cp -a "$b1" "$work/bundle-before-rotation" # its secrets too are looked for in every log (finish)
rotate_m1() {
        local rc
        ip netns exec "${ns[master-01]}" "$cb" secrets rotate join-secret --inventory "$inv" --node master-01 --root "$m1" \
                >"$work/rotate.out" 2>&1
        rc=$?
        cat "$work/rotate.out"
        local stored new
        stored=$(etcd_ctl master-01 https://10.20.0.11:2379 get --print-value-only /clusterboot/join-secret)
        new=$(cat "$b1/join-secret")
        [ "$rc" = 0 ] && grep -q "stored join secret version 1 in the cluster's etcd (it had the bundle's, version 0)" "$work/rotate.out" &&
                [ "$stored" = "{\"version\":1,\"secret\":\"$new\"}" ] && [ "$new" != "$(cat "$secret_file")" ] &&
                cmp -s "$b1/join-secret" "$m1/etc/cluster-config/join/join-secret" &&
                [ "$(stat -c %a "$b1/join-secret"):$(stat -c %a "$m1/etc/cluster-config/join/join-secret")" = 600:600 ]
}
check "secrets rotate join-secret on master-01: version 1 in etcd, in its bundle and its image file (0600)" \
        "$work/rotate.log" rotate_m1
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null
ip netns exec "${ns[master-01]}" "$cb" serve --inventory "$inv" --node master-01 --root "$m1" >>"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
wait_tcp "${ns[master-01]}" 10.20.0.11 9443 20 "$serve_pid" || not_ok "master-01's join service starts again" "$work/serve.log"
old_image=$work/root-old-image
cp -a "$img" "$old_image"
ip netns exec "${ns[worker-02]}" "$cb" bootstrap --inventory "$inv" --node worker-02 --root "$old_image" --stage certificates \
        --retry-timeout 0 >"$work/old-image.out" 2>&1
rc=$?
# Without a pinned CA it cannot tell a server that does not know its secret from one that is not the cluster's:
# it waits (75, systemd retries) and says which it may be; nothing is issued.
if [ "$rc" = 75 ] && grep -q "either this image's join secret is not the cluster's" "$work/old-image.out" &&
        test ! -e "$old_image/var/lib/kubelet/pki/kubelet.crt"; then
        ok "a machine booted from an image built before the rotation is not served: it waits, says why (75)"
else
        not_ok "a machine booted from an image built before the rotation is not served (exit $rc)" "$work/old-image.out"
fi
kubelet_cert worker-02 "$w2" >"$work/kc2.log" 2>&1 || not_ok "worker-02's kubelet client certificate" "$work/kc2.log"
sync_w2() {
        csync worker-02 "$work/sync-w2.out" --inventory "$inv" --node worker-02 --root "$w2" &&
                grep -q "updated /etc/cluster-config/join/join-secret" "$work/sync-w2.out" &&
                cmp -s "$b1/join-secret" "$w2/etc/cluster-config/join/join-secret" &&
                [ "$(stat -c %a "$w2/etc/cluster-config/join/join-secret")" = 600 ]
}
check "sync on worker-02 takes the new join secret from the join service into its image file (0600)" \
        "$work/sync-w2.log" sync_w2
rm "$w2/var/lib/kubelet/pki/kubelet.crt"
expect "... with it, worker-02 is served again by the join secret" 0 "issued through the join service" \
        worker-02 certificates --retry-timeout 10
m2=$(root master-02)
sync_m2() {
        csync master-02 "$work/sync-m2.out" --inventory "$inv" --node master-02 --root "$m2" &&
                cmp -s "$b1/join-secret" "$m2/etc/cluster-config/secrets/join-secret" &&
                cmp -s "$b1/join-secret" "$m2/etc/cluster-config/join/join-secret"
}
check "sync on master-02 takes it from etcd into its bundle and its image file" "$work/sync-m2.log" sync_m2
ip netns exec "${ns[worker-01]}" "$cb" secrets rotate join-secret --inventory "$inv" --node worker-01 --root "$w1" \
        >"$work/rotate-w1.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "node 'worker-01' is no master" "$work/rotate-w1.out" &&
        ok "secrets rotate join-secret on a worker: refused (exit 1)" ||
        not_ok "secrets rotate join-secret on a worker: refused (exit $rc)" "$work/rotate-w1.out"

expect "a stage that is not the node's: says so, exit 0" 0 "not a stage of node 'worker-03'" worker-03 etcd-member
expect "an unknown stage: exit 2 with the list" 2 "the stages are register, secrets, certificates, etcd-member" \
        worker-03 nosuch
finish
