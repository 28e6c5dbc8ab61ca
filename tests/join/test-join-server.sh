#!/usr/bin/env bash
# `clusterboot serve` for examples/homelab's master-01 on 127.0.0.1 (through the testing-only
# $CLUSTERBOOT_JOIN_LISTEN, as the master's own IP is not on this machine), driven by join-tool and curl:
# a valid join, a wrong secret, a replay, a body over the limit, a worker asking for the CA bundle, the
# rate limit, and a second server with another bundle whose proof the client must refuse. Only 127.0.0.1
# is addressed; the servers are stopped by the trap. Secrets are never printed.
#
# Usage: test-join-server.sh CLUSTERBOOT JOIN_TOOL EXAMPLES_DIR
set -u
cb=$(realpath "$1")
tool=$(realpath "$2")
inv=$(realpath "$3")/homelab
# shellcheck source=lib-join.sh
. "$(dirname "$0")/lib-join.sh" join

# POSTs a file to the join endpoint; prints the HTTP status.
post() {
        curl -s --cacert "$work/bundle/kubernetes/ca.crt" -o "$work/answer" -w '%{http_code}' \
                -H 'Content-Type: application/json' --data-binary "@$1" "$url/v1/join"
}

"$cb" secrets init --inventory "$inv" --out "$work/bundle" >/dev/null || exit 1
"$cb" secrets init --inventory "$inv" --out "$work/bundle2" >/dev/null || exit 1
secret=$(cat "$work/bundle/join-secret")
ca=$work/bundle/kubernetes/ca.crt

port=$((20000 + RANDOM % 20000))
port2=$((port + 1))
url=https://127.0.0.1:$port
check "the server starts and listens" start_server "$port" "$work/bundle" "$work/server.log"

# A valid join of worker-01 with the CA the image carries.
mkdir -p "$work/w1" "$work/w1b" "$work/bad" "$work/rate"
check "worker-01 joins" quiet "$tool" join "$url" "$secret" worker-01 "$work/w1" --ca "$ca" kubelet
check "openssl verifies its kubelet certificate" quiet openssl verify -CAfile "$ca" "$work/w1/kubelet.crt"
sans=$(openssl x509 -in "$work/w1/kubelet.crt" -noout -ext subjectAltName 2>/dev/null | tail -n +2)
echo "# kubelet SANs: $sans"
only_own() {
        local san
        grep -q "DNS:worker-01" <<<"$sans" && grep -q "IP Address:192.168.1.11" <<<"$sans" || return 1
        for san in $(tr -d ' ' <<<"$sans" | tr ',' ' '); do
                case $san in DNS:worker-01 | DNS:worker-01.*| IPAddress:192.168.1.11) ;; *) return 1 ;; esac
        done
}
check "its SANs are worker-01's and no other" only_own
check "the key stayed with the node and matches" \
        test "$(openssl x509 -in "$work/w1/kubelet.crt" -noout -pubkey)" = "$(openssl pkey -in "$work/w1/kubelet.key" -pubout)"

# Without the CA: discovery through cluster-info, trusted by its proof (and a pinned hash).
hash=sha256:$(openssl x509 -in "$ca" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex | sed 's/.*= //')
check "worker-01 joins by discovery and the CA hash" quiet "$tool" join "$url" "$secret" worker-01 "$work/w1b" --ca-hash "$hash" kubelet
check "a wrong CA hash is refused" test "$("$tool" join "$url" "$secret" worker-01 "$work/bad" \
        --ca-hash sha256:0000000000000000000000000000000000000000000000000000000000000000 kubelet)" = "untrusted server"

# Refusals.
out=$("$tool" join "$url" wrong-secret worker-01 "$work/bad" --ca "$ca" kubelet)
check "a wrong join secret is 401 bad mac" test "$out" = "refused 401: bad mac"
check "nothing was issued for it" test ! -e "$work/bad/kubelet.crt"
out=$("$tool" join "$url" "$secret" worker-01 "$work/bad" --ca "$ca" --ca-bundle)
check "a worker asking for the CA bundle is 403" test "$out" = "refused 403: not entitled to the CA bundle: not a master"
out=$("$tool" join "$url" "$secret" worker-01 "$work/bad" --ca "$ca" apiserver)
check "a worker asking for the API server's certificate is 403" test "${out%%:*}" = "refused 403"

"$tool" build "$secret" worker-01 kubelet >"$work/request.json"
check "a request is accepted once" test "$(post "$work/request.json")" = 200
check "the same request again is 401" test "$(post "$work/request.json")" = 401
check "with the reason replayed" grep -q '"error":"replayed"' "$work/answer"
head -c 70000 /dev/zero | tr '\0' a >"$work/big.json"
check "a body over 64 KiB is 413" test "$(post "$work/big.json")" = 413
check "the 413 says why" grep -q '"error":"request too large"' "$work/answer"
head -c 2000000 /dev/zero | tr '\0' a >"$work/huge.json"
check "a body of 2 MB is 413 too" test "$(post "$work/huge.json")" = 413
printf '{"node":"worker-01"' >"$work/broken.json"
check "malformed JSON is 400 with a reason" test "$(post "$work/broken.json")" = 400
check "the 400 says why" grep -q '"error":"not a JSON object"' "$work/answer"

# The rate limit: a burst from 127.0.0.1 gets 429s.
codes=$(for _ in $(seq 1 40); do
        curl -s --cacert "$ca" -o /dev/null -w '%{http_code}\n' "$url/v1/cluster-info?nonce=bad" &
done; wait)
check "a burst over the rate limit gets 429" grep -q 429 <<<"$codes"
# The limit (JOIN_RATE_PER_SEC 5, JOIN_RATE_BURST 20 a source) refills in 4 s: the points below send about
# 30 requests from 127.0.0.1, faster than 5 a second on an idle machine, so they wait for it again below.
sleep 4
check "the server still serves a valid join afterwards" quiet "$tool" join "$url" "$secret" worker-02 "$work/rate" --ca "$ca" kubelet
check "worker-02 (ceph-osd) got the bootstrap-osd keyring" \
        grep -q "material /etc/ceph/ceph.bootstrap-osd.keyring" <("$tool" join "$url" "$secret" worker-02 "$work/rate" --ca "$ca")
check "worker-01 did not" \
        bash -c "! '$tool' join '$url' '$secret' worker-01 '$work/rate' --ca '$ca' | grep -q ceph"
check "master-01 gets the CA bundle" \
        grep -q "the CA bundle" <("$tool" join "$url" "$secret" master-01 "$work/rate" --ca "$ca" --ca-bundle)

# Renewal (POST /v1/renew): by a client certificate of the cluster's CA for the node, as the kubelet's is
# (CN=system:node:NAME, O=system:nodes, clientAuth); made here with the openssl CLI.
client_cert() { # NAME SUBJECT EKU BUNDLE: $work/NAME.pem, the certificate and its key
        "$(dirname "$0")/../scripts/client-cert.sh" "$4" "$2" "$3" "$work/$1"
}
mkdir -p "$work/renewed"
client_cert w1 "/O=system:nodes/CN=system:node:worker-01" clientAuth "$work/bundle"
client_cert w1-server "/O=system:nodes/CN=system:node:worker-01" serverAuth "$work/bundle"
client_cert w1-other "/O=system:nodes/CN=system:node:worker-01" clientAuth "$work/bundle2"
client_cert w1-noorg "/CN=system:node:worker-01" clientAuth "$work/bundle"
check "worker-01 renews its kubelet certificate by its client certificate, without the join secret" \
        quiet "$tool" join "$url" - worker-01 "$work/renewed" --ca "$ca" --cert "$work/w1.pem" kubelet
check "... a certificate for worker-01 from the cluster's CA" \
        bash -c "openssl verify -CAfile '$ca' '$work/renewed/kubelet.crt' >/dev/null &&
                 openssl x509 -noout -subject -in '$work/renewed/kubelet.crt' | grep -q 'CN = system:node:worker-01'"
renew_refused() { # WANT CERT NODE: the renewal's answer is WANT ("refused CODE: REASON")
        local out
        out=$("$tool" join "$url" - "$3" "$work/bad" --ca "$ca" --cert "$work/$2.pem" kubelet)
        [ "$out" = "$1" ] || { echo "# got: $out"; return 1; }
}
check "worker-01's certificate cannot renew worker-02's: 403" \
        renew_refused "refused 403: the client certificate is not this node's" w1 worker-02
check "a server certificate cannot renew: 401" \
        renew_refused "refused 401: client certificate not for client authentication" w1-server worker-01
check "another cluster's certificate cannot renew: 401" \
        renew_refused "refused 401: client certificate not from this cluster's CA, or not valid now" w1-other worker-01
check "a certificate outside O=system:nodes cannot renew: 403" \
        renew_refused "refused 403: the client certificate is not this node's" w1-noorg worker-01
check "without a client certificate: 401" test "$(curl -s --cacert "$ca" -o "$work/answer" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary '{"node":"worker-01","csrs":{}}' "$url/v1/renew")" = 401
check "... saying so" grep -q '"error":"no client certificate"' "$work/answer"
check "the log says how worker-01 renewed" grep -q "node worker-01: renewed certificates \[kubelet\] (by its client certificate)" "$work/server.log"

# The stored inventory (POST /v1/inventory), by the same client certificate. This server runs without a
# master's etcd client certificate, so an authorized node gets 503; the answer with an etcd behind it is
# tested in the whole-cluster test (scenario 1).
inventory_ask() { # CERT BODY: "CODE ERROR"
        curl -s --cacert "$ca" ${1:+--cert "$work/$1.crt" --key "$work/$1.key"} -o "$work/inv-answer" -w '%{http_code}' \
                -H 'Content-Type: application/json' --data-binary "$2" "$url/v1/inventory"
        echo " $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error", ""))' "$work/inv-answer" 2>/dev/null)"
}
check "/v1/inventory for worker-01 by its certificate, no etcd behind the service: 503" \
        test "$(inventory_ask w1 '{"node":"worker-01"}')" = "503 this join service reads no etcd"
check "/v1/inventory: worker-01's certificate for worker-02: 403" \
        test "$(inventory_ask w1 '{"node":"worker-02"}')" = "403 the client certificate is not this node's"
check "/v1/inventory without a client certificate: 401" \
        test "$(inventory_ask "" '{"node":"worker-01"}')" = "401 no client certificate"
check "/v1/inventory with another request: 400" \
        test "$(inventory_ask w1 '{"node":"worker-01","csrs":{}}')" = '400 the request must be {"node": NAME}'
check "the service said at its start that it reads no etcd" grep -q "no etcd client certificate" "$work/server.log"

# A server that does not know the join secret (another bundle): the client refuses it.
check "a second server with another bundle starts" start_server "$port2" "$work/bundle2" "$work/server2.log"
out=$("$tool" join "https://127.0.0.1:$port2" "$secret" worker-01 "$work/bad" kubelet)
check "the client refuses a server whose proof is wrong" test "$out" = "untrusted server"
out=$("$tool" join "https://127.0.0.1:$port2" "$secret" worker-01 "$work/bad" --ca "$ca" kubelet)
check "and one whose certificate is not from the cluster's CA (TLS verification fails: untrusted, not unreachable)" test "$out" = "untrusted server"

# What a master holds (POST /v1/cluster-state), which the first master asks before it makes a cluster.
sleep 4 # the rate limit full again (above)
out=$("$tool" state "$url" "$secret" master-01)
check "/v1/cluster-state from master-01: this master holds no cluster yet, and its bundle's CA ($out)" \
        eval '[[ "$out" == "node master-01 etcd false ca sha256:"* ]]'
check "... from a worker: refused (only a master asks)" test "$("$tool" state "$url" "$secret" worker-01)" = refused
check "... with another join secret: refused" test "$("$tool" state "$url" "$(openssl rand -hex 32)" master-01)" = refused
mkdir -p "$work/root-$port/var/lib/cluster-state" && echo bootstrapped >"$work/root-$port/var/lib/cluster-state/bootstrap-state"
check "... once the master bootstrapped: it holds a cluster" eval '[[ "$("$tool" state "$url" "$secret" master-01)" == "node master-01 etcd true ca sha256:"* ]]'

# A master without the bundle yet (the join policy): the image's join secret only. It answers
# /v1/cluster-state with a certificate of its own making, 503 to the rest, and stops with 75 once the
# bundle is there (systemd starts it again with it).
cand=$work/candidate
port3=$((port + 2))
mkdir -p "$cand/etc/cluster-config/join" && (umask 077 && printf '%s\n' "$secret" >"$cand/etc/cluster-config/join/join-secret")
CLUSTERBOOT_JOIN_LISTEN=127.0.0.1:$port3 "$cb" serve --inventory "$inv" --node master-01 --root "$cand" 2>"$work/candidate.log" &
cand_pid=$!
for _ in $(seq 1 100); do grep -q "join: serving" "$work/candidate.log" 2>/dev/null && break; sleep 0.1; done
check "a master without the bundle serves as a candidate (the log says so)" \
        grep -q "no secrets bundle on this master yet: answering /v1/cluster-state only" "$work/candidate.log"
check "... /v1/cluster-state: no cluster, no CA" test "$("$tool" state "https://127.0.0.1:$port3" "$secret" master-01)" = "node master-01 etcd false ca -"
mkdir -p "$work/cand-out"
out=$("$tool" join "https://127.0.0.1:$port3" "$secret" worker-01 "$work/cand-out" kubelet)
check "... a join: busy as a master that does not serve yet ($out), never a certificate from its own CA" \
        eval '[[ "$out" == failed* ]] && [ ! -e "$work/cand-out/kubelet.crt" ]'
check "... cluster-info: 503" test "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port3/v1/cluster-info?nonce=0123456789abcdef0123456789abcdef")" = 503
mkdir -p "$cand/etc/cluster-config/secrets/kubernetes" && cp "$ca" "$cand/etc/cluster-config/secrets/kubernetes/ca.crt"
for _ in $(seq 1 50); do kill -0 "$cand_pid" 2>/dev/null || break; sleep 0.2; done
wait "$cand_pid"
rc=$?
check "... once the bundle is there it stops with 75 (exit $rc)" test "$rc" = 75

check "the log has decisions" grep -q "node worker-01: issued certificates \[kubelet\]" "$work/server.log"
check "the log has the refusals with reasons" grep -q "refused (401): replayed" "$work/server.log"
check "no secret of either bundle in the servers' logs" eval \
        '"$(dirname "$0")/../scripts/no-secret-in.sh" "$work/bundle" "$work"/*.log >&2 &&
         "$(dirname "$0")/../scripts/no-secret-in.sh" "$work/bundle2" "$work"/*.log >&2'

stop_servers || sed 's/^/# /' "$work/server.log" | grep -v "join: client" | tail -20

echo "1..$n"
exit $failed
