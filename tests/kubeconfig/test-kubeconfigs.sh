#!/usr/bin/env bash
# The kubeconfigs `clusterboot pki node` writes (admin, controller-manager, scheduler, kubelet), read by
# client-go's own loader: kubeconfig-check (Go, k8s.io/client-go v0.29.1) does what `kubectl config view
# --raw` and then a client do: load, validate, build a rest.Config and its TLS config (which parses the CA,
# the client certificate and key and checks that the key is the certificate's), then verifies the client
# certificate against the embedded CA for client authentication. When a real kubectl is on this machine
# it reads every file too; otherwise those points are skipped.
#
# Usage: test-kubeconfigs.sh CLUSTERBOOT [CHECKER_SOURCE_DIR] [EXAMPLES_DIR]
# The checker binary is built outside the repository, in
#   ${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}/go-bin/kubeconfig-check-<hash of its sources>
# and Go's modules go to Go's own module cache, built with the Go of image/components/go.sh. No Go toolchain, or no
# module proxy: skipped.
# Output: TAP. Key material is never printed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
cb=${1:?usage: test-kubeconfigs.sh CLUSTERBOOT [CHECKER_SOURCE_DIR] [EXAMPLES_DIR]}
src=${2:-$here/kubeconfig-check}
examples=${3:-$here/../../examples}
inventory=$examples/homelab
api=https://192.168.1.10:6443 # master-01, the first (and only) master of examples/homelab
relay=https://127.0.0.1:7445   # a worker's: clusterboot-api-proxy.service, relaying to every master's
server_of() { if [[ $1 == worker-* ]]; then echo "$relay"; else echo "$api"; fi; } # NODE: its kubeconfigs' server

n=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-kubeconfig.XXXXXX")
trap 'rm -rf "$work"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { # check DESCRIPTION CONDITION...
        local d=$1
        shift
        if "$@"; then ok "$d"; else not_ok "$d"; fi
}
diag() { sed 's/^/# /'; }
finish() {
        echo "1..$n"
        echo "# $((n - failed)) passed, $failed failed"
        [ "$failed" -eq 0 ]
        exit
}
skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}

# ---- the checker -------------------------------------------------------------------------------------------

# The pinned Go of image/components.lock (image/components/go.sh fetches it once), unless GO= names another.
go=${GO:-$("$here/../../image/components/go.sh" 2>"$work/go.log")} && [ -x "$go" ] ||
        { diag <"$work/go.log"; skip_all "no Go toolchain: image/components/go.sh could not fetch it"; }
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"
if [ -z "$("$go" env GOMODCACHE 2>/dev/null)" ]; then # no HOME: keep Go's caches in ours
        export GOPATH=${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}/gopath
        export GOCACHE=$GOPATH/build-cache
fi

cache=${CLUSTERBOOT_TEST_CACHE:-/var/cache/clusterboot-test}
if ! mkdir -p "$cache/go-bin" 2>/dev/null || [ ! -w "$cache/go-bin" ]; then
        cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/clusterboot-test
        mkdir -p "$cache/go-bin" || skip_all "no writable cache for the checker"
fi
hash=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)
checker=$cache/go-bin/kubeconfig-check-$hash

if [ -x "$checker" ]; then
        ok "kubeconfig-check cached: $checker"
else
        # Modules first: a failure here is the module proxy (or Go too old for client-go), not our code.
        if ! (cd "$src" && "$go" mod download) >"$work/download.log" 2>&1; then
                diag <"$work/download.log"
                skip "kubeconfig-check: modules not downloadable (module proxy unreachable?)"
                finish
        fi
        t0=$(date +%s.%N)
        if (cd "$src" && "$go" build -trimpath -o "$checker.tmp.$$" .) >"$work/build.log" 2>&1 &&
                mv -f "$checker.tmp.$$" "$checker"; then
                t1=$(date +%s.%N)
                ok "kubeconfig-check built"
                printf '# kubeconfig-check built in %.1f s, %s bytes, with %s: %s\n' "$(awk "BEGIN { print $t1 - $t0 }")" \
                        "$(stat -c %s "$checker")" "$("$go" env GOVERSION)" "$checker"
        else
                rm -f "$checker.tmp.$$"
                diag <"$work/build.log"
                not_ok "kubeconfig-check built"
                finish
        fi
fi

# ---- the kubeconfigs ---------------------------------------------------------------------------------------

run() { # run DESCRIPTION COMMAND...: a test point on the exit status; output only on failure
        local d=$1
        shift
        if "$@" >"$work/out" 2>&1; then ok "$d"; else diag <"$work/out"; not_ok "$d"; fi
}

run "secrets init" "$cb" secrets init --inventory "$inventory" --out "$work/bundle"
for node in master-01 worker-01; do
        # worker-01 is also the MQTT broker: its node has the mosquitto package's group, which pki node gives
        # the broker's key to.
        mkdir -p "$work/$node/etc"
        grep '^mosquitto:' /etc/group >"$work/$node/etc/group" 2>/dev/null || echo "mosquitto:x:$(id -g):" >"$work/$node/etc/group"
        run "pki node $node" "$cb" pki node --inventory "$inventory" --node "$node" --secrets "$work/bundle" \
                --root "$work/$node"
done

# Every kubeconfig a node got, and nothing more: a worker holds no control-plane credentials.
(cd "$work/master-01/etc/kubernetes" 2>/dev/null && ls -- *.conf) >"$work/m.list" 2>/dev/null
(cd "$work/worker-01/etc/kubernetes" 2>/dev/null && ls -- *.conf) >"$work/w.list" 2>/dev/null
# master-01 is examples/homelab's dns server: its CoreDNS reads the cluster's Services as system:coredns.
check "master-01 has admin, controller-manager, coredns, kube-proxy, kubelet and scheduler kubeconfigs" \
        test "$(tr '\n' ' ' <"$work/m.list")" = "admin.conf controller-manager.conf coredns.conf kube-proxy.conf kubelet.conf scheduler.conf "
check "worker-01 has only bootstrap-kubelet.conf (its kubelet asks for its certificate) and kube-proxy.conf" \
        test "$(tr '\n' ' ' <"$work/w.list")" = "bootstrap-kubelet.conf kube-proxy.conf "

# name: file, expected CN, expected O ("" for none)
expect=(
        "master-01/admin.conf|kubernetes-admin|system:masters"
        "master-01/controller-manager.conf|system:kube-controller-manager|"
        "master-01/scheduler.conf|system:kube-scheduler|"
        "master-01/kubelet.conf|system:node:master-01|system:nodes"
        "master-01/kube-proxy.conf|system:kube-proxy|"
        "master-01/coredns.conf|system:coredns|"
        "worker-01/kube-proxy.conf|system:kube-proxy|"
)

# A field of the checker's report line: field LINE NAME
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

for e in "${expect[@]}"; do
        IFS='|' read -r name cn o <<<"$e"
        f=$work/${name%%/*}/etc/kubernetes/${name#*/}
        if ! "$checker" "$f" >"$work/check.out" 2>&1; then
                diag <"$work/check.out"
                not_ok "$name: loads, validates, TLS config builds, client certificate verifies against the CA"
                continue
        fi
        line=$(cat "$work/check.out")
        echo "# ${line/$work\//}"
        ok "$name: loads, validates, TLS config builds, client certificate verifies against the CA"
        want=$(server_of "${name%%/*}")
        check "$name: server is $want (got $(field "$line" server))" test "$(field "$line" server)" = "$want"
        check "$name: client certificate CN is $cn (got $(field "$line" cn))" test "$(field "$line" cn)" = "$cn"
        check "$name: client certificate O is '$o' (got '$(field "$line" o)')" test "$(field "$line" o)" = "$o"
        check "$name: the embedded CA verifies the client certificate for client auth" \
                test "$(field "$line" verify)" = ok
done

# `clusterboot kubeconfig`: the operator's admin kubeconfig, signed on a master, as client-go reads it.
op=$work/operator/admin.conf
mkdir -p "$work/operator"
run "clusterboot kubeconfig --output FILE (on master-01)" "$cb" kubeconfig --inventory "$inventory" --node master-01 \
        --secrets "$work/bundle" --output "$op"
if "$checker" "$op" >"$work/check.out" 2>&1; then
        line=$(cat "$work/check.out")
        echo "# ${line/$work\//}"
        ok "operator kubeconfig: loads, validates, TLS config builds, client certificate verifies against the CA"
        check "operator kubeconfig: server is $api" test "$(field "$line" server)" = "$api"
        check "operator kubeconfig: user clusterboot-admin in group system:masters (got $(field "$line" cn), $(field "$line" o))" \
                test "$(field "$line" cn)/$(field "$line" o)" = clusterboot-admin/system:masters
        check "operator kubeconfig: the embedded CA verifies it for client auth" test "$(field "$line" verify)" = ok
        check "operator kubeconfig: mode 0600" test "$(stat -c %a "$op")" = 600
else
        diag <"$work/check.out"
        not_ok "operator kubeconfig: loads, validates, TLS config builds, client certificate verifies against the CA"
fi
if "$cb" kubeconfig --inventory "$inventory" --node worker-01 --secrets "$work/bundle" --output "$work/w.conf" \
        >"$work/out" 2>&1; then
        not_ok "clusterboot kubeconfig on a worker is refused"
else
        check "clusterboot kubeconfig on a worker is refused, saying why, and writes nothing" \
                eval 'grep -q "worker-01 is not a master" "$work/out" && [ ! -e "$work/w.conf" ]'
fi

# The bootstrap kubeconfig: the relay to the masters' API servers, the cluster's CA, the bundle's token.
f=$work/worker-01/etc/kubernetes/bootstrap-kubelet.conf
if "$checker" "$f" >"$work/check.out" 2>&1; then
        line=$(cat "$work/check.out")
        echo "# ${line/$work\//}"
        ok "worker-01/bootstrap-kubelet.conf: loads, validates, TLS config builds with the embedded CA"
        check "worker-01/bootstrap-kubelet.conf: server is $relay" test "$(field "$line" server)" = "$relay"
        check "worker-01/bootstrap-kubelet.conf: the bundle's bootstrap token (id $(field "$line" token-id))" \
                test "$(field "$line" token-id)" = "$(cut -d. -f1 "$work/bundle/bootstrap-token")"
        check "worker-01/bootstrap-kubelet.conf: mode 0600" test "$(stat -c %a "$f")" = 600
else
        diag <"$work/check.out"
        not_ok "worker-01/bootstrap-kubelet.conf: loads, validates, TLS config builds with the embedded CA"
fi

# ---- must fail ---------------------------------------------------------------------------------------------

m=$work/master-01/etc/kubernetes
# The admin kubeconfig with the scheduler's key: the key is not the certificate's.
other_key=$(sed -n 's/^ *client-key-data: *//p' "$m/scheduler.conf")
sed "s|^\( *client-key-data:\).*|\1 $other_key|" "$m/admin.conf" >"$work/tampered-key.conf"
if cmp -s "$m/admin.conf" "$work/tampered-key.conf" || [ -z "$other_key" ]; then
        not_ok "tampered kubeconfig (another file's client-key-data) made"
elif "$checker" "$work/tampered-key.conf" >"$work/t.out" 2>&1; then
        not_ok "tampered kubeconfig (another file's client-key-data) is rejected"
else
        sed "s|$work/||" "$work/t.out" | diag
        check "tampered kubeconfig (another file's client-key-data) is rejected: key does not match" \
                grep -q 'private key does not match public key' "$work/t.out"
fi

# The admin kubeconfig with the etcd CA in place of the Kubernetes CA: the client certificate must not verify.
etcd_ca=$(base64 -w0 <"$work/bundle/etcd/ca.crt")
sed "s|^\( *certificate-authority-data:\).*|\1 $etcd_ca|" "$m/admin.conf" >"$work/tampered-ca.conf"
if "$checker" "$work/tampered-ca.conf" >"$work/t.out" 2>&1; then
        not_ok "kubeconfig with another CA (etcd's) is rejected"
else
        sed "s|$work/||" "$work/t.out" | diag
        check "kubeconfig with another CA (etcd's) is rejected: certificate does not verify" \
                grep -q 'does not verify against the embedded CA' "$work/t.out"
fi

# ---- a real kubectl, where one is installed ----------------------------------------------------------------

kubectl=${KUBECTL:-$(command -v kubectl 2>/dev/null)}
if [ -n "$kubectl" ] && "$kubectl" version --client >"$work/kv" 2>&1; then
        echo "# kubectl: $kubectl, $(head -1 "$work/kv")"
        for e in "${expect[@]}"; do
                IFS='|' read -r name cn o <<<"$e"
                f=$work/${name%%/*}/etc/kubernetes/${name#*/}
                got=$(HOME=$work KUBECONFIG=$f "$kubectl" config view --raw --minify \
                        -o 'jsonpath={.contexts[0].context.user} {.clusters[0].cluster.server}' 2>"$work/kerr")
                diag <"$work/kerr"
                check "kubectl config view --raw reads $name (got: $got)" test "$got" = "$cn $(server_of "${name%%/*}")"
        done
else
        skip "kubectl config view: no kubectl here"
fi

finish
