#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The rendered files, handed to the real programs (TAP):
#   1. examples/homelab's master-01 renders into a temporary root with the real writer;
#   2. etcd (Debian's etcd-server/etcd-client) starts from the rendered etcd.env inside a network namespace
#      that carries the node's address, and `etcdctl endpoint health` over TLS says it is healthy;
#   3. containerd accepts the rendered config.toml (`config dump`) with SystemdCgroup = true.
# A program that is not installed, or no right to make a network namespace, is a skipped test point.
#
# Kubernetes' own binaries (kube-apiserver, kubelet, ...) are not available here yet: a later issue builds
# them, and then the control plane's environment files and the kubelet's config.yaml get the same treatment.
# Nothing here stands in for them.
#
# The certificates are a TEST-ONLY CA made with the openssl CLI; the PKI issue (`clusterboot pki`) replaces
# this with the real ones. Only the namespace's own addresses (192.168.1.10 and its loopback) are contacted.
#
# usage: test-real-programs.sh RENDER_ROOT_HELPER EXAMPLES_DIR
set -u

render_root=$1
examples=$2
node_ip=192.168.1.10
tmp=$(mktemp -d)
root=$tmp/root
ns=cbtest-etcd-$$
etcd_pid=

cleanup() {
        if [ -n "$etcd_pid" ]; then
                kill "$etcd_pid" 2>/dev/null
                for _ in $(seq 1 50); do
                        kill -0 "$etcd_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$etcd_pid" 2>/dev/null
                wait "$etcd_pid" 2>/dev/null
        fi
        # Nothing this test started may outlive it in the namespace.
        local pid
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
                kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "1..3"

if "$render_root" "$examples/homelab" master-01 "$root" containerd etcd kubernetes kubelet; then
        echo "ok 1 - homelab master-01 renders into a temporary root"
else
        echo "not ok 1 - homelab master-01 renders into a temporary root"
fi

# --- etcd ---

# The test-only PKI in the kubeadm layout: etcd/ca, etcd/server and etcd/peer for the node's address and
# loopback, and a client certificate for etcdctl (kubeadm's healthcheck-client).
make_pki() {
        local dir=$1 cnf=$tmp/openssl.cnf
        mkdir -p "$dir"
        cat >"$cnf" <<EOF
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:master-01, DNS:localhost, IP:$node_ip, IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
EOF
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
                -subj "/CN=etcd-ca (clusterboot test only)" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null || return 1
        local name ext
        for name in server peer healthcheck-client; do
                ext=server
                [ "$name" = healthcheck-client ] && ext=client
                openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                        -subj "/CN=master-01-$name" -keyout "$dir/$name.key" -out "$tmp/$name.csr" 2>/dev/null || return 1
                openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
                        -days 1 -extfile "$cnf" -extensions "$ext" -out "$dir/$name.crt" 2>/dev/null || return 1
        done
}

etcdctl_ns() {
        ip netns exec "$ns" etcdctl --dial-timeout=2s --command-timeout=3s \
                --cacert "$root/etc/kubernetes/pki/etcd/ca.crt" \
                --cert "$root/etc/kubernetes/pki/etcd/healthcheck-client.crt" \
                --key "$root/etc/kubernetes/pki/etcd/healthcheck-client.key" "$@"
}

# Runs etcd in the namespace with the rendered environment, the node's paths moved under the root. Called
# with & so that it runs in its own process: the exec makes $! etcd's process id.
start_etcd() {
        set -a
        # shellcheck disable=SC1091
        . "$root/etc/cluster-config/environment/etcd.env" || exit 1
        # shellcheck disable=SC1091
        . "$root/etc/cluster-config/environment/etcd-initial.env" || exit 1
        set +a
        for v in $(compgen -v ETCD_); do
                case ${!v} in /*) export "$v=$root${!v}" ;; esac
        done
        exec ip netns exec "$ns" etcd
}

test_etcd() {
        local missing=
        for p in etcd etcdctl openssl ip; do
                command -v "$p" >/dev/null || missing="$missing $p"
        done
        if [ -n "$missing" ]; then
                echo "ok 2 # SKIP not installed:$missing (Debian: etcd-server etcd-client openssl iproute2)"
                return
        fi
        if [ ! -f "$root/etc/cluster-config/environment/etcd.env" ]; then
                echo "not ok 2 - etcd: no rendered etcd.env"
                return
        fi
        if ! ip netns add "$ns" 2>/dev/null; then
                echo "ok 2 # SKIP cannot create a network namespace (needs root)"
                return
        fi
        # The node's address on a veth pair kept wholly inside the namespace; loopback for the second
        # client URL.
        ip -n "$ns" link set lo up
        if ip -n "$ns" link add cb0 type veth peer name cb1 2>/dev/null; then
                ip -n "$ns" link set cb1 up
                ip -n "$ns" addr add "$node_ip/24" dev cb0
                ip -n "$ns" link set cb0 up
        else
                ip -n "$ns" addr add "$node_ip/32" dev lo
        fi

        if ! make_pki "$root/etc/kubernetes/pki/etcd"; then
                echo "not ok 2 - etcd: making the test certificates failed"
                return
        fi
        mkdir -p "$root/var/lib/etcd"
        chmod 700 "$root/var/lib/etcd"

        start_etcd >"$tmp/etcd.log" 2>&1 &
        etcd_pid=$!

        local healthy=false i out
        for i in $(seq 1 40); do
                if out=$(etcdctl_ns --endpoints "https://$node_ip:2379" endpoint health 2>&1) &&
                        [[ $out == *"is healthy"* ]]; then
                        healthy=true
                        break
                fi
                kill -0 "$etcd_pid" 2>/dev/null || break
                sleep 0.5
        done
        local members loopback
        members=$(etcdctl_ns --endpoints "https://$node_ip:2379" member list 2>&1)
        loopback=$(etcdctl_ns --endpoints "https://127.0.0.1:2379" endpoint health 2>&1)

        if $healthy && [[ $members == *"master-01, https://$node_ip:2380, https://$node_ip:2379"* ]] &&
                [[ $loopback == *"is healthy"* ]]; then
                echo "ok 2 - etcd starts from the rendered etcd.env; healthy over TLS on $node_ip and loopback"
        else
                echo "not ok 2 - etcd starts from the rendered etcd.env; healthy over TLS on $node_ip and loopback"
                echo "# health: $out"
                echo "# members: $members"
                echo "# loopback: $loopback"
                sed 's/^/# etcd: /' "$tmp/etcd.log" | tail -30
        fi
}

test_etcd

# --- containerd ---

test_containerd() {
        local config=$root/etc/containerd/config.toml out
        if ! command -v containerd >/dev/null; then
                echo "ok 3 # SKIP containerd not installed (Debian: containerd)"
                return
        fi
        if out=$(containerd --config "$config" config dump 2>&1) &&
                grep -q '^ *SystemdCgroup = true$' <<<"$out" &&
                grep -q '^ *sandbox_image = "registry.k8s.io/pause:3.9"$' <<<"$out" &&
                grep -q '^ *bin_dir = "/usr/lib/cni"$' <<<"$out" &&
                grep -q '^ *conf_dir = "/etc/cni/net.d"$' <<<"$out"; then
                echo "ok 3 - containerd accepts the rendered config.toml, runc with SystemdCgroup = true"
        else
                echo "not ok 3 - containerd accepts the rendered config.toml, runc with SystemdCgroup = true"
                sed 's/^/# /' <<<"$out" | head -40
        fi
}

test_containerd
