#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# shellcheck source-path=SCRIPTDIR
# The Kubernetes control plane of examples/homelab's master-01, started from what clusterboot makes: the
# real etcd, kube-apiserver, kube-controller-manager and kube-scheduler (Kubernetes of
# image/components.lock, built by image/components/kubernetes.sh) run with the command lines of their units
# (units/*.service: ExecStart= with $VARS from the rendered EnvironmentFile=), reading the rendered files
# at their absolute paths, unchanged: the test runs in its own mount namespace where the scratch root's
# /etc/kubernetes and /etc/cluster-config (and a scratch /var/lib/etcd) are bind-mounted over the real
# paths, and its own UTS namespace named master-01. Then: the API server is ready for the rendered
# admin.conf, the controller manager and the scheduler are healthy and hold their leases, and the
# controllers did their first work (a namespace's service account and root CA).
#
# Network: a namespace holding only a bridge, and master-01's namespace whose eth0 (a veth into that bridge)
# carries 192.168.1.10/24. Nothing is added to the root namespace; no address outside them is contacted.
#
# Heavy: the Kubernetes binaries take long to build (see tests/kubernetes/README.md), so unless they are
# already built this skips; CLUSTERBOOT_HEAVY=1 builds them first.
#
# Usage: test-control-plane.sh CLUSTERBOOT EXAMPLES_DIR
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
k8s_need ip etcd etcdctl curl unshare mount findmnt flock
k8s_binaries kube-apiserver kube-controller-manager kube-scheduler kubectl
control_plane

# The controllers work with their own credentials (--use-service-account-credentials) and sa.key: the
# service account controller makes "default" in every namespace, the token controller and the root CA
# publisher give it what pods need.
sa_default() {
        alive kube-controller-manager || return 2
        kc -n default get serviceaccount default
}
if wait_for 120 sa_default; then
        ok "kube-controller-manager made the default service account of namespace default"
else
        not_ok "no default service account in namespace default" "$work/kube-controller-manager.log"
fi
root_ca() {
        alive kube-controller-manager || return 2
        kc -n default get configmap kube-root-ca.crt -o 'jsonpath={.data.ca\.crt}' >"$work/root-ca.crt" &&
                cmp -s "$work/root-ca.crt" /etc/kubernetes/pki/ca.crt
}
if wait_for 120 root_ca; then
        ok "kube-controller-manager published the rendered ca.crt as kube-root-ca.crt (--root-ca-file)"
else
        not_ok "configmap kube-root-ca.crt in namespace default is not the rendered ca.crt" "$work/kube-controller-manager.log"
fi
# A token for a service account, signed with the rendered sa.key and accepted by the API server.
sa_token() {
        local token
        token=$(kc -n default create token default --duration=10m) || return 1
        ip netns exec "$ns" curl -s --max-time 5 --cacert /etc/kubernetes/pki/ca.crt -H "Authorization: Bearer $token" \
                "https://$node_ip:6443/apis/authentication.k8s.io/v1/selfsubjectreviews" -X POST \
                -H 'Content-Type: application/json' \
                -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' |
                grep -q '"username": *"system:serviceaccount:default:default"'
}
check "a service account token (signed with sa.key) authenticates over TLS checked against ca.crt" \
        "$work/sa-token.log" sa_token

# The operator's way in: `clusterboot kubeconfig` on the master, used from outside the master (this host, in
# the master's network namespace only for the route), is cluster-admin.
operator_admin() {
        "$cb" kubeconfig --inventory "$inv" --node "$node" --secrets "$bundle" --output "$work/operator.conf" &&
                ip netns exec "$ns" env HOME="$work/home" "$kubectl" --kubeconfig "$work/operator.conf" \
                        --cache-dir "$work/kube-cache" --request-timeout=10s auth can-i '*' '*' --all-namespaces |
                grep -qx yes
}
check "clusterboot kubeconfig --output FILE: kubectl with it may do anything (auth can-i '*' '*')" \
        "$work/operator.log" operator_admin

# --- kubelet TLS bootstrapping: `clusterboot bootstrap --stage kube-bootstrap` -------------------------------
# The stage reads the bundle where a master has it (/etc/cluster-config/secrets under --root).
mkdir -p "$root/etc/cluster-config" && cp -a "$bundle" "$root/etc/cluster-config/secrets"
kube_bootstrap() {
        ip netns exec "$ns" "$cb" bootstrap --inventory "$inv" --node "$node" --root "$root" --stage kube-bootstrap \
                --retry-timeout 30 >"$work/kube-bootstrap.log" 2>&1
}
# examples/homelab's objects: the token's Secret, three bindings, and (master-01 is its dns server) CoreDNS's
# ClusterRole and binding, the Service kube-dns and its EndpointSlice (tests/render/kubernetes/objects).
if kube_bootstrap && grep -q "(8 of 8 objects created now)" "$work/kube-bootstrap.log"; then
        ok "stage kube-bootstrap: the bootstrap token secret, three RBAC bindings and the cluster DNS objects created"
else
        not_ok "stage kube-bootstrap: the bootstrap token secret, three RBAC bindings and the cluster DNS objects created" \
                "$work/kube-bootstrap.log"
fi
token=$(cat "$bundle/bootstrap-token")
token_id=${token%%.*}
check "... kubectl sees secret kube-system/bootstrap-token-$token_id and the bindings" "$work/rbac.log" bash -c \
        "$(declare -f kc); kubectl='$kubectl' ns='$ns' work='$work'
         kc -n kube-system get secret bootstrap-token-$token_id -o jsonpath='{.type}' | grep -qx bootstrap.kubernetes.io/token &&
         kc get clusterrolebinding kubeadm:kubelet-bootstrap kubeadm:node-autoapprove-bootstrap \
                kubeadm:node-autoapprove-certificate-rotation"
if kube_bootstrap && grep -q "(0 of 8 objects created now)" "$work/kube-bootstrap.log"; then
        ok "... again: everything there, nothing created"
else
        not_ok "... again: everything there, nothing created" "$work/kube-bootstrap.log"
fi
check "... the Service kube-system/kube-dns at 10.96.0.10, its EndpointSlice naming $node ($node_ip)" "$work/kube-dns.log" \
        bash -c "$(declare -f kc); kubectl='$kubectl' ns='$ns' work='$work'
                 kc -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}' | grep -qx 10.96.0.10 &&
                 kc -n kube-system get endpointslice -l kubernetes.io/service-name=kube-dns \
                        -o jsonpath='{.items[*].endpoints[*].addresses[*]}' | grep -qx '$node_ip'"
# An object changed behind clusterboot's back is set back by the next run (server-side apply).
kc -n kube-system patch service kube-dns --type merge -p '{"metadata":{"labels":{"k8s-app":"other"}}}' >"$work/drift.log" 2>&1
check "... a label changed by hand on kube-dns is set back by the next run" "$work/drift.log" \
        bash -c "$(declare -f kc kube_bootstrap); kubectl='$kubectl' ns='$ns' work='$work' cb='$cb' inv='$inv' node='$node' root='$root'
                 kube_bootstrap && kc -n kube-system get service kube-dns -o jsonpath='{.metadata.labels.k8s-app}' | grep -qx kube-dns"
k8s_coredns
check "... kube-dns.kube-system.svc.cluster.local is 10.96.0.10" "$work/dig-kube-dns.log" \
        bash -c "ip netns exec '$ns' dig @'$node_ip' +short kube-dns.kube-system.svc.cluster.local A | grep -qx 10.96.0.10"
api() { # PATH [CURL ARGS]: the API with the bootstrap token, as a joining kubelet has it
        local path=$1
        shift
        ip netns exec "$ns" curl -s --max-time 10 --cacert /etc/kubernetes/pki/ca.crt -H "Authorization: Bearer $token" \
                -H 'Content-Type: application/json' "https://$node_ip:6443$path" "$@"
}
check "the bootstrap token authenticates as system:bootstrap:$token_id in the bootstrappers' group" "$work/review.log" \
        bash -c "$(declare -f api); ns='$ns' token='$token' node_ip='$node_ip'
                 api /apis/authentication.k8s.io/v1/selfsubjectreviews -X POST \
                        -d '{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}' |
                 tee /dev/stderr | tr -d ' \n' | grep -q '\"username\":\"system:bootstrap:$token_id\".*system:bootstrappers:kubeadm:default-node-token'"
# What a kubelet does with it: a CSR for system:node:NAME, which the controller manager approves and signs.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/kubelet-boot.key" \
        -subj "/O=system:nodes/CN=system:node:worker-01" -out "$work/kubelet-boot.csr" 2>/dev/null
csr_b64=$(base64 -w0 <"$work/kubelet-boot.csr")
api /apis/certificates.k8s.io/v1/certificatesigningrequests -X POST -d "{\"apiVersion\":\"certificates.k8s.io/v1\",
\"kind\":\"CertificateSigningRequest\",\"metadata\":{\"name\":\"cb-test-worker-01\"},\"spec\":{\"request\":\"$csr_b64\",
\"signerName\":\"kubernetes.io/kube-apiserver-client-kubelet\",\"usages\":[\"digital signature\",\"client auth\"]}}" \
        >"$work/csr-post.log" 2>&1
issued() {
        alive kube-controller-manager || return 2
        kc get csr cb-test-worker-01 -o 'jsonpath={.status.certificate}' | base64 -d >"$work/kubelet-boot.crt" 2>/dev/null &&
                openssl verify -CAfile /etc/kubernetes/pki/ca.crt "$work/kubelet-boot.crt" >/dev/null 2>&1
}
if wait_for 60 issued; then
        ok "a kubelet-style CSR sent with the bootstrap token is approved automatically and signed by the cluster CA"
else
        kc get csr -o wide >"$work/csr.log" 2>&1
        not_ok "the kubelet CSR was not approved and signed" "$work/csr-post.log" "$work/csr.log" "$work/kube-controller-manager.log"
fi

# --- kubeadm's mark-control-plane: `clusterboot bootstrap --stage mark-control-plane` ------------------------
# No kubelet runs on master-01 in this test (tests/kubernetes/test-worker.sh runs one on worker-01): its Node is
# made through the real API server as that kubelet registers it, with the taint of --register-with-taints.
mark() {
        ip netns exec "$ns" "$cb" bootstrap --inventory "$inv" --node "$node" --root "$root" --stage mark-control-plane \
                --retry-timeout "$1" >"$work/mark.log" 2>&1
}
mark 3
rc=$?
cp "$work/mark.log" "$work/mark-early.log"
check "stage mark-control-plane before the Node exists: exit 75, 'not registered yet'" "$work/mark-check.log" \
        bash -c "cat '$work/mark-early.log'; [ $rc = 75 ] && grep -q 'Node $node is not registered yet' '$work/mark-early.log'"
printf '%s' "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$node\",\"labels\":
{\"kubernetes.io/hostname\":\"$node\"}},\"spec\":{\"taints\":[{\"key\":\"gpu\",\"value\":\"a\",\"effect\":\"NoExecute\"},
{\"key\":\"node-role.kubernetes.io/control-plane\",\"effect\":\"NoSchedule\"}]}}" >"$work/node.json"
node_marked() { # the label, the control-plane taint once, the other taint kept
        kc get node "$node" -o jsonpath='{.metadata.labels}{"\n"}{range .spec.taints[*]}{.key}={.value}:{.effect}{"\n"}{end}' \
                >"$work/node-marks.log" &&
                grep -q '"node-role.kubernetes.io/control-plane":""' "$work/node-marks.log" &&
                [ "$(grep -c '^node-role.kubernetes.io/control-plane=:NoSchedule$' "$work/node-marks.log")" = 1 ] &&
                grep -qx 'gpu=a:NoExecute' "$work/node-marks.log"
}
if kc create -f "$work/node.json" >"$work/node-create.log" 2>&1 && mark 30 && node_marked; then
        ok "stage mark-control-plane: Node $node labelled node-role.kubernetes.io/control-plane, its taints kept"
else
        not_ok "stage mark-control-plane: Node $node labelled node-role.kubernetes.io/control-plane, its taints kept" \
                "$work/node-create.log" "$work/mark.log" "$work/node-marks.log"
fi
check "... again: marked already, nothing sent" "$work/mark-check.log" \
        bash -c "$(declare -f mark); ns='$ns' cb='$cb' inv='$inv' node='$node' root='$root' work='$work'
                 mark 30; rc=\$?; cat '$work/mark.log'
                 [ \$rc = 0 ] && grep -q 'is marked as a control-plane node already' '$work/mark.log'"

# Nothing died under the checks.
for c in kube-apiserver kube-controller-manager kube-scheduler; do
        if [ -n "${pid[$c]:-}" ] && kill -0 "${pid[$c]}" 2>/dev/null; then
                ok "$c still runs"
        else
                not_ok "$c exited" "$work/$c.log"
        fi
done
if kill -0 "$etcd_pid" 2>/dev/null; then ok "etcd still runs"; else not_ok "etcd exited" "$work/etcd.log"; fi

finish
