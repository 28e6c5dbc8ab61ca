#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for, check and exit_hooks look unreachable
# shellcheck source-path=SCRIPTDIR
# A worker joins: examples/homelab's worker-01 runs containerd and a kubelet from what clusterboot makes,
# through its relay to the masters' API servers (clusterboot-api-proxy on 127.0.0.1:7445, as its unit runs it)
# against master-01's control plane (lib.sh's control_plane, as in test-control-plane.sh), and a user sees
# it: `kubectl get node worker-01` is Ready, its client certificate came from TLS bootstrapping with the
# bootstrap token, the controller manager gave it a podCIDR, containerd wrote the bridge CNI config from the
# rendered template, and a pod runs on it with an address from that podCIDR.
#
# The inventory is examples/homelab with `kubernetes.cgroup_driver: cgroupfs`: a test host has no systemd
# as PID 1 to hand cgroups to (the kubelet and runc would need its D-Bus API) and must not make units on
# the machine.
#
# worker-01 is a network namespace with its inventory address on a veth into master-01's bridge, and a
# mount namespace (its own, below the test's) where its rendered root is at the real paths
# (/etc/kubernetes, /etc/cluster-config, /etc/containerd, /var/lib/kubelet), and scratch directories are
# at the paths containerd and the kubelet write (/var/lib/containerd, /run/containerd, /etc/cni/net.d,
# /var/lib/cni, /var/log/pods, /var/log/containers, /run/netns, the kubelet's FlexVolume directory).
# containerd (Debian's /usr/bin/containerd) and the kubelet run with the command lines of their units.
#
# What a kubelet changes outside its namespaces is put back at exit: the sysctls it sets at start
# (vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops, kernel.keys.*) and the
# kubepods cgroups it makes, with every process in them. A machine whose root lacks CAP_SYS_RESOURCE
# (containers, some sandboxes) cannot lower an oom_score_adj, which runc must do for a pod sandbox (-998);
# there runc is wrapped (in worker-01's mount namespace only) to leave a negative oomScoreAdj at 0.
#
# Usage: test-worker.sh CLUSTERBOOT EXAMPLES_DIR
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
k8s_need ip etcd etcdctl curl unshare mount findmnt flock nsenter containerd ctr runc jq openssl sysctl
# The rendered containerd config names Debian's plugin directory (containernetworking-plugins); the
# CRI plugin brings up a pod's lo with its loopback plugin, the rendered template the rest.
for p in bridge host-local portmap loopback; do
        [ -x "/usr/lib/cni/$p" ] || skip_all "no CNI plugin /usr/lib/cni/$p (Debian's containernetworking-plugins)"
done
# Cgroups are the machine's: another kubelet's would be taken for ours and removed at exit.
for d in /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods; do
        [ -e "$d" ] && skip_all "$d exists: another kubelet runs here (or a killed run left it: remove it)"
done
k8s_binaries kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy

# The pod sandbox image, as an OCI tarball. CONTAINERD_ADDRESS: pause.sh must not import it into a
# containerd of the machine.
if ! pause_tar=$(CONTAINERD_ADDRESS=$work/none.sock "$here/../../image/components/pause.sh" 2>"$work/pause.log" | tail -n 1) ||
        [ ! -f "$pause_tar" ]; then
        not_ok "image/components/pause.sh builds the pause image" "$work/pause.log"
        finish
fi

# --- the inventory: examples/homelab on cgroupfs ---------------------------------------------------
# kube-proxy in a network namespace other than the machine's may not set nf_conntrack_max (a global
# limit): conntrack-max-per-core 0 leaves it alone, as kind does, through the inventory's extra_args.
cp -a "$examples/homelab" "$work/inventory" &&
        sed -i -e '/^kubernetes:$/a\  cgroup_driver: cgroupfs' \
                -e '/^  extra_args:$/a\    kube-proxy: { conntrack-max-per-core: "0" }' "$work/inventory/services/kubernetes.yaml"
inv=$work/inventory
control_plane

# The bootstrap token and the RBAC that lets its kubelets ask for certificates, as a master makes them.
mkdir -p "$root/etc/cluster-config" && cp -a "$bundle" "$root/etc/cluster-config/secrets"
check "$node: stage kube-bootstrap (bootstrap token secret, RBAC for joining kubelets)" "$work/kube-bootstrap.log" \
        ip netns exec "$ns" "$cb" bootstrap --inventory "$inv" --node "$node" --root "$root" --stage kube-bootstrap \
        --retry-timeout 30
token=$(cat "$bundle/bootstrap-token")
token_id=${token%%.*}

# --- what clusterboot makes for worker-01 --------------------------------------------------------------
w=worker-01
w_ip=$(sed -nE 's/^  ip: *"?([0-9.]+)"?.*/\1/p' "$inv/nodes/$w.yaml")
wroot=$work/worker-root # worker-01's rendered root
wwork=$work/worker      # its scratch state, at the paths its daemons write
mkdir -p "$wroot/etc" "$wwork"
# worker-01 is an mqtt-broker: pki node writes the broker's key for group mosquitto, which Debian's
# package makes on a real node.
echo "mosquitto:x:998:" >"$wroot/etc/group"
check "$w: pki node" "$work/w-pki.log" "$cb" pki node --inventory "$inv" --node "$w" --secrets "$bundle" --root "$wroot"
check "$w: render" "$work/w-render.log" "$cb" render --inventory "$inv" --node "$w" --root "$wroot"
[ "$failed" = 0 ] || finish

# kubeconfig_get FILE JSONPATH
kubeconfig_get() {
        "$kubectl" --kubeconfig "$1" config view --raw -o "jsonpath=$2"
}
bootstrap_kubeconfig() {
        local f=$wroot/etc/kubernetes/bootstrap-kubelet.conf server
        [ -f "$f" ] || { echo "no /etc/kubernetes/bootstrap-kubelet.conf"; return 1; }
        [ ! -e "$wroot/etc/kubernetes/kubelet.conf" ] || { echo "/etc/kubernetes/kubelet.conf made already"; return 1; }
        server=$(kubeconfig_get "$f" '{.clusters[0].cluster.server}')
        [ "$server" = "https://127.0.0.1:7445" ] || { echo "server '$server'"; return 1; }
        [ "$(kubeconfig_get "$f" '{.users[0].user.token}')" = "$token" ] || { echo "not the bundle's bootstrap token"; return 1; }
}
check "$w: pki node gives bootstrap-kubelet.conf (the bundle's bootstrap token, server https://127.0.0.1:7445: the relay to the masters), no kubelet.conf" \
        "$work/w-bootstrap-conf.log" bootstrap_kubeconfig
tmpl=$(sed -nE 's/^\s*conf_template = "(.*)"/\1/p' "$wroot/etc/containerd/config.toml")
sandbox=$(sed -nE 's/^\s*sandbox_image = "(.*)"/\1/p' "$wroot/etc/containerd/config.toml")
cgroupfs() {
        grep -x 'cgroupDriver: cgroupfs' "$wroot/var/lib/kubelet/config.yaml" &&
                grep -E '^\s*SystemdCgroup = false$' "$wroot/etc/containerd/config.toml" &&
                [ -n "$tmpl" ] && [ -f "$wroot$tmpl" ] && [ -n "$sandbox" ]
}
check "$w: render for cgroupfs (kubelet cgroupDriver, containerd SystemdCgroup = false), CNI template ${tmpl:-(none)}" \
        "$work/w-cgroupfs.log" cgroupfs
[ "$failed" = 0 ] || finish

# --- worker-01's network namespace, on master-01's bridge ----------------------------------------------
w_ns=${tag}w1
# The default route the rendered network gives a node (the inventory's gateway): a Service's address is
# routed by it before kube-proxy's rules rewrite it to an endpoint on the LAN, so the gateway itself is
# never sent anything.
gw=$(sed -nE 's/^ *gateway: *"?([0-9.]+)"?.*/\1/p' "$inv/cluster.yaml")
if { ns_add "$w_ns" && ns_lan "$brns" "$w_ns" "$w_ip/24" v2 && ip -n "$w_ns" route add default via "$gw"; } 2>"$work/w-net.log" &&
        wait_tcp "$w_ns" "$node_ip" 6443 10 2>>"$work/w-net.log"; then
        ok "$w's namespace carries $w_ip/24 on the bridge and reaches the API server at $node_ip:6443"
else
        not_ok "$w's network namespace" "$work/w-net.log"
        finish
fi

# --- worker-01's mount namespace ------------------------------------------------------------------
# A process that holds it (and worker-01's UTS namespace); the daemons enter it with nsenter.
syspath=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin # systemd's PATH for services
runc_real=$(realpath "$(PATH=$syspath command -v runc)")
: >"$wwork/mounts"
for m in "$wroot/etc/kubernetes:/etc/kubernetes" "$wroot/etc/cluster-config:/etc/cluster-config" \
        "$wroot/etc/containerd:/etc/containerd" "$wroot/var/lib/kubelet:/var/lib/kubelet" \
        "$wwork/cni-net.d:/etc/cni/net.d" "$wwork/cni:/var/lib/cni" "$wwork/containerd:/var/lib/containerd" \
        "$wwork/run-containerd:/run/containerd" "$wwork/netns:/run/netns" "$wwork/pods:/var/log/pods" \
        "$wwork/containers:/var/log/containers" "$wwork/flexvolume:/usr/libexec/kubernetes" \
        "$wroot/etc/kube-flannel:/etc/kube-flannel" "$wroot/run/flannel:/run/flannel"; do
        mkdir -p "${m%%:*}" && echo "$m" >>"$wwork/mounts"
done
# Without CAP_SYS_RESOURCE, runc for a pod sandbox (oomScoreAdj -998) fails with "can't get final
# child's PID from pipe: EOF" (nsexec: "failed to update /proc/self/oom_score_adj: Permission denied").
if (((0x$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24) & 1)); then
        wrap_runc=""
else
        wrap_runc=1
        : >"$wwork/runc.real"
        cat >"$wwork/runc" <<EOF
#!/bin/sh
# runc of the pod's containers, on a machine whose root may not lower an oom_score_adj (no CAP_SYS_RESOURCE)
prev=""
for a; do
        if { [ "\$prev" = --bundle ] || [ "\$prev" = -b ]; } && grep -q '"oomScoreAdj":-' "\$a/config.json"; then
                sed -i 's/"oomScoreAdj":-[0-9]*/"oomScoreAdj":0/' "\$a/config.json" && echo "\$a" >>$wwork/runc-clamped.log
        fi
        prev=\$a
done
exec $wwork/runc.real "\$@"
EOF
        chmod 0755 "$wwork/runc"
fi
{
        declare -f mnt mount_at mkdir_over
        echo "declare -A overlaid=(); mounts=(); work=$wwork"
        cat <<EOF
while IFS=: read -r src dst; do mount_at "\$src" "\$dst" || exit 1; done <"$wwork/mounts"
if [ -n "$wrap_runc" ]; then
        mount --bind "$runc_real" "$wwork/runc.real" && mount --bind "$wwork/runc" "$runc_real" || exit 1
fi
hostname "\$(cat "$wroot/etc/hostname")" && echo ready >"$wwork/ready" && exec sleep infinity
EOF
} >"$wwork/ns.sh"

holder=""
# Stop what worker-01 runs and put back what its kubelet changed on the machine.
tunables=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
        kernel.keys.root_maxbytes kernel.keys.maxkeys kernel.keys.maxbytes)
declare -A tunable=()
for k in "${tunables[@]}"; do tunable[$k]=$(sysctl -n "$k" 2>/dev/null); done
stop_pid() { # PID: TERM, then KILL after 5 s
        kill -TERM "$1" 2>/dev/null || return 0
        for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
}
kubepods() { ls -d /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods 2>/dev/null; }
worker_stop() {
        local p mnt_ns d k now
        [ -n "${pid[kube-proxy]:-}" ] && stop_pid "${pid[kube-proxy]}"
        [ -n "${pid[kubelet]:-}" ] && stop_pid "${pid[kubelet]}"
        [ -n "${pid[clusterboot-api-proxy]:-}" ] && stop_pid "${pid[clusterboot-api-proxy]}"
        # The pods' processes (containers outlive the kubelet and containerd), then containerd, then what
        # is left in worker-01's mount namespace (the shims) and the holder.
        for d in $(kubepods); do find "$d" -name cgroup.procs -exec cat {} +; done | sort -u | xargs -r kill -KILL 2>/dev/null
        [ -n "${pid[containerd]:-}" ] && stop_pid "${pid[containerd]}"
        if [ -n "$holder" ] && mnt_ns=$(readlink "/proc/$holder/ns/mnt"); then
                { # (bash's "Killed" notice for the holder, a job of this shell, is not news)
                        for p in /proc/[0-9]*; do
                                [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mnt_ns" ] && kill -KILL "${p#/proc/}"
                        done
                        wait "$holder"
                } 2>/dev/null
        fi
        for _ in $(seq 1 50); do
                for d in $(kubepods); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
                [ -z "$(kubepods)" ] && break
                sleep 0.1
        done
        [ -z "$(kubepods)" ] || echo "# could not remove the kubelet's cgroups: $(kubepods | tr '\n' ' ')"
        for k in "${tunables[@]}"; do
                now=$(sysctl -n "$k" 2>/dev/null)
                [ -n "${tunable[$k]}" ] && [ "$now" != "${tunable[$k]}" ] && sysctl -q -w "$k=${tunable[$k]}"
        done
}
exit_hooks+=(worker_stop)
nsenter --net="/run/netns/$w_ns" -- unshare -m -u --propagation private -- bash "$wwork/ns.sh" >"$work/w-ns.log" 2>&1 &
holder=$!
holder_ready() {
        kill -0 "$holder" 2>/dev/null || return 2
        [ -f "$wwork/ready" ]
}
if wait_for 20 holder_ready; then
        ok "$w's mount namespace: its rendered root and scratch state at the real paths; hostname $(nsenter -t "$holder" -u hostname)${wrap_runc:+ (runc wrapped: no CAP_SYS_RESOURCE)}"
else
        not_ok "$w's mount namespace" "$work/w-ns.log"
        finish
fi
w_exec() { # COMMAND...: in worker-01's namespaces, with systemd's environment for a service
        nsenter -t "$holder" -m -n -u -- env -i PATH="$syspath" "$@"
}
# w_start NAME BINARY: NAME's unit's command line (its ExecStart= binary replaced by BINARY when given),
# in worker-01's namespaces; unit_exec runs there too, to read the rendered EnvironmentFile=.
w_start() {
        local name=$1 binary=${2:-} argv=()
        if ! mapfile -t argv < <(w_exec bash -c "$(declare -f unit_exec); unit_exec $units/$name.service" 2>"$work/$name.unit.log") ||
                [ "${#argv[@]}" = 0 ]; then
                not_ok "$name: the command line of units/$name.service" "$work/$name.unit.log"
                return 1
        fi
        printf '%s\n' "${argv[@]}" >"$work/$name.args"
        # Not through w_exec: $! must be the daemon (nsenter and env exec it), not a subshell. w_env: the
        # variables of the unit's EnvironmentFile= that the program reads itself (systemd exports them all).
        nsenter -t "$holder" -m -n -u -- env -i PATH="$syspath" "${w_env[@]}" "${binary:-${argv[0]}}" "${argv[@]:1}" \
                >"$work/$name.log" 2>&1 &
        pid[$name]=$!
        note "$name: started as '${argv[*]}'"
}
w_env=()
# On a failure, what the daemons said last.
logs=("$work/kubelet.log" "$work/containerd.log")

# --- containerd -----------------------------------------------------------------------------------
cri_up() {
        alive containerd || return 2
        [ "$(w_exec ctr plugins ls | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { print $NF }')" = ok ]
}
if w_start containerd && wait_for 60 cri_up; then
        ok "containerd runs with the rendered /etc/containerd/config.toml; its CRI plugin is up"
else
        not_ok "containerd and its CRI plugin" "$work/containerd.log"
        finish
fi
imported() {
        w_exec ctr -n k8s.io images import --all-platforms "$pause_tar" &&
                w_exec ctr -n k8s.io images ls -q "name==$sandbox" | grep -qx "$sandbox"
}
check "the pause image imported into containerd's k8s.io namespace as the rendered sandbox_image $sandbox" \
        "$work/import.log" imported

# --- the relay to the masters' API servers, where worker-01's kubeconfigs point ----------------------------
# Its unit's command line, with this build's clusterboot; through it, master-01's API server answers /readyz
# with a certificate that names 127.0.0.1 (curl checks it against the cluster's CA).
logs+=("$work/clusterboot-api-proxy.log")
relay_up() {
        alive clusterboot-api-proxy || return 2
        [ "$(w_exec curl -sS --max-time 5 --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:7445/readyz)" = ok ]
}
if w_start clusterboot-api-proxy "$cb" && wait_for 30 relay_up; then
        ok "clusterboot-api-proxy: 127.0.0.1:7445 in $w's namespace relays to $node's API server (/readyz: ok; its certificate names 127.0.0.1)"
else
        w_exec curl -sS --max-time 5 --cacert /etc/kubernetes/pki/ca.crt https://127.0.0.1:7445/readyz >>"$work/clusterboot-api-proxy.log" 2>&1
        not_ok "clusterboot-api-proxy relays to the API server" "$work/clusterboot-api-proxy.log"
        finish
fi

# --- the kubelet ----------------------------------------------------------------------------------
t_kubelet=$(date +%s%N)
if ! w_start kubelet "$bin/kubelet"; then
        finish
fi
ms_since() { echo "$((($(date +%s%N) - $1) / 1000000)) ms"; }
registered() {
        alive kubelet || return 2
        kc get node "$w"
}
ready() {
        alive kubelet || return 2
        [ "$(kc get node "$w" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
if wait_for 120 registered; then
        ok "\`kubectl get node $w\` (admin.conf of $node): registered after $(ms_since "$t_kubelet")"
else
        refused kubelet
        not_ok "$w is not registered" "${logs[@]}"
        finish
fi
if wait_for 180 ready; then
        ok "$w is Ready after $(ms_since "$t_kubelet")"
else
        kc get node "$w" -o yaml >"$work/node.log" 2>&1
        not_ok "$w is not Ready" "$work/node.log" "${logs[@]}"
fi

# TLS bootstrapping: a CSR from the bootstrap token's user, approved and issued; the kubelet's client
# certificate is that CSR's, and the kubeconfig it wrote uses it.
csr=""
bootstrap_csr() {
        csr=$(kc get csr -o json | jq -r --arg u "system:bootstrap:$token_id" '.items[] |
                select(.spec.username == $u and .spec.signerName == "kubernetes.io/kube-apiserver-client-kubelet") |
                select(any(.status.conditions[]?; .type == "Approved" and .status == "True")) |
                select(.status.certificate != null) | .metadata.name' | head -n 1)
        [ -n "$csr" ]
}
if wait_for 30 bootstrap_csr; then
        ok "CSR $csr from system:bootstrap:$token_id (signer kube-apiserver-client-kubelet) approved and issued"
else
        kc get csr -o wide >"$work/csr.log" 2>&1
        not_ok "no approved and issued CSR from system:bootstrap:$token_id" "$work/csr.log" "${logs[@]}"
fi
client_cert() {
        local subject
        w_exec openssl x509 -in /var/lib/kubelet/pki/kubelet-client-current.pem >"$work/kubelet-client.crt" || return 1
        subject=$(openssl x509 -in "$work/kubelet-client.crt" -noout -subject -nameopt RFC2253)
        echo "$subject"
        [ "$subject" = "subject=CN=system:node:$w,O=system:nodes" ] || return 1
        openssl verify -CAfile "$root/etc/kubernetes/pki/ca.crt" "$work/kubelet-client.crt" || return 1
        [ -n "$csr" ] && kc get csr "$csr" -o 'jsonpath={.status.certificate}' | base64 -d | openssl x509 |
                cmp - "$work/kubelet-client.crt"
}
check "/var/lib/kubelet/pki/kubelet-client-current.pem: system:node:$w, signed by the cluster CA, the CSR's certificate" \
        "$work/client-cert.log" client_cert
kubelet_conf() {
        local f=$wroot/etc/kubernetes/kubelet.conf
        [ -f "$f" ] &&
                [ "$(kubeconfig_get "$f" '{.users[0].user.client-certificate}')" = /var/lib/kubelet/pki/kubelet-client-current.pem ] &&
                [ "$(kubeconfig_get "$f" '{.clusters[0].cluster.server}')" = "https://127.0.0.1:7445" ]
}
check "the kubelet wrote /etc/kubernetes/kubelet.conf (server https://127.0.0.1:7445, client certificate kubelet-client-current.pem)" \
        "$work/kubelet-conf.log" kubelet_conf
# The kubelet stage's gate, from worker-01's network: /healthz, then its Node read with the kubelet's own
# kubelet.conf (the certificate TLS bootstrapping got it).
kubelet_gate() {
        nsenter -t "$holder" -n -- "$cb" bootstrap --inventory "$inv" --node "$w" --root "$wroot" --stage kubelet \
                --retry-timeout 30 && grep -q "kubelet is healthy (Node $w registered, Ready: True)" "$work/kubelet-gate.log"
}
check "clusterboot bootstrap --stage kubelet on $w: its gate finds the Node registered and Ready" \
        "$work/kubelet-gate.log" kubelet_gate

# --- the pod network --------------------------------------------------------------------------------
ip_int() { # A.B.C.D: as a number
        local a b c d
        IFS=. read -r a b c d <<<"$1"
        echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
in_cidr() { # ADDRESS NET/PREFIX
        local net=${2%/*} len=${2#*/} mask
        mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
        [ $(($(ip_int "$1") & mask)) = $(($(ip_int "$net") & mask)) ]
}
cluster_cidr=$(sed -n 's/^--cluster-cidr=//p' "$work/kube-controller-manager.args")
pod_cidr=""
podcidr() {
        pod_cidr=$(kc get node "$w" -o 'jsonpath={.spec.podCIDR}')
        [ -n "$pod_cidr" ]
}
if wait_for 60 podcidr && [ -n "$cluster_cidr" ] && in_cidr "${pod_cidr%/*}" "$cluster_cidr" &&
        [ "${pod_cidr#*/}" -ge "${cluster_cidr#*/}" ]; then
        ok "the controller manager gave $w podCIDR $pod_cidr (in --cluster-cidr=$cluster_cidr)"
else
        not_ok "$w's podCIDR '$pod_cidr' is not in --cluster-cidr '$cluster_cidr'" "$work/kube-controller-manager.log"
fi
conflist=$wwork/cni-net.d/10-containerd-net.conflist
cni_config() {
        local types subnets
        [ -s "$conflist" ] || return 1
        types=$(jq -r '[.plugins[].type] | join(" ")' "$conflist") || return 1
        subnets=$(jq -r '[.. | .subnet? // empty] | unique | join(" ")' "$conflist")
        echo "plugins: $types; subnets: $subnets"
        [[ " $types " == *" bridge "* && " $types " == *" portmap "* ]] &&
                [ "$(jq -r '.plugins[] | select(.type == "bridge") | .ipam.type' "$conflist")" = host-local ] &&
                [ "$subnets" = "$pod_cidr" ] || return 1
        # A template whose only action is {{.PodCIDR}} gives exactly the template with it put in.
        if ! sed 's/{{\.PodCIDR}}//g' "$wroot$tmpl" | grep -q '{{'; then
                sed "s|{{\.PodCIDR}}|$pod_cidr|g" "$wroot$tmpl" | diff - "$conflist"
        fi
}
if wait_for 60 cni_config; then
        ok "containerd wrote /etc/cni/net.d/10-containerd-net.conflist from $tmpl: $(jq -r '[.plugins[].type] | join(", ")' "$conflist"), host-local over $pod_cidr"
else
        cni_config >"$work/cni.log" 2>&1
        not_ok "the bridge CNI config from the rendered template" "$work/cni.log" "$work/containerd.log"
fi

# A pod on worker-01: the sandbox and its container need containerd, runc, the bridge CNI plugin and
# host-local IPAM. The service account "default" comes from the controller manager: until then, retry.
pod="cb-test-pause"
create_pod() {
        kc apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  namespace: default
spec:
  nodeName: $w
  containers:
  - name: pause
    image: $sandbox
    imagePullPolicy: Never
  tolerations:
  - operator: Exists
EOF
}
running() {
        alive kubelet || return 2
        [ "$(kc -n default get pod "$pod" -o 'jsonpath={.status.phase}')" = Running ]
}
t_pod=$(date +%s%N)
if wait_for 60 create_pod && wait_for 120 running; then
        ok "pod $pod (image $sandbox, imagePullPolicy Never) is Running on $w after $(ms_since "$t_pod")"
else
        kc -n default describe pod "$pod" >"$work/pod.log" 2>&1
        not_ok "pod $pod is not Running on $w" "$work/pod.log" "${logs[@]}"
fi
pod_ip=$(kc -n default get pod "$pod" -o 'jsonpath={.status.podIP}' 2>/dev/null)
if [ -n "$pod_ip" ] && [ -n "$pod_cidr" ] && in_cidr "$pod_ip" "$pod_cidr"; then
        ok "the pod's IP $pod_ip is in $w's podCIDR $pod_cidr (bridge CNI, host-local IPAM)"
else
        not_ok "the pod's IP '$pod_ip' is not in $w's podCIDR '$pod_cidr'" "$work/containerd.log"
fi
[ -n "$wrap_runc" ] && [ -f "$wwork/runc-clamped.log" ] &&
        note "runc wrapper: a negative oomScoreAdj left at 0 for $(wc -l <"$wwork/runc-clamped.log") container(s)"

# --- kube-proxy: the Service addresses ----------------------------------------------------------------
# From the unit's command line and the rendered kube-proxy.env, with the kube-proxy.conf pki node made
# (system:kube-proxy). Then the API server's Service address (the first of service_cidr) answers from
# worker-01 through the iptables rules kube-proxy wrote, with the serving certificate verified.
api_svc=$(kc get svc kubernetes -o 'jsonpath={.spec.clusterIP}')
proxy_gate() {
        alive kube-proxy || return 2
        nsenter -t "$holder" -n -- "$cb" bootstrap --inventory "$inv" --node "$w" --root "$wroot" --stage kube-proxy \
                --retry-timeout 0 >"$work/kube-proxy-gate.log" 2>&1 && grep -q "kube-proxy is healthy" "$work/kube-proxy-gate.log"
}
service_answers() {
        alive kube-proxy || return 2
        w_exec curl -sS --max-time 5 --cacert /etc/kubernetes/pki/ca.crt \
                --cert /var/lib/kubelet/pki/kubelet-client-current.pem \
                "https://$api_svc/readyz" | grep -qx ok
}
if w_start kube-proxy "$bin/kube-proxy" && wait_for 60 proxy_gate; then
        ok "kube-proxy runs from the rendered kube-proxy.env; clusterboot bootstrap --stage kube-proxy: its gate passes"
else
        not_ok "kube-proxy and its stage's gate" "$work/kube-proxy-gate.log" "$work/kube-proxy.log"
fi
if wait_for 60 service_answers; then
        ok "the Service kubernetes ($api_svc:443) answers /readyz from $w through kube-proxy's iptables rules"
else
        { w_exec curl -v --max-time 5 --cacert /etc/kubernetes/pki/ca.crt \
                --cert /var/lib/kubelet/pki/kubelet-client-current.pem "https://$api_svc/readyz"
          w_exec iptables-save -t nat; } >"$work/nat.log" 2>&1
        not_ok "the Service kubernetes ($api_svc) from $w" "$work/nat.log" "$work/kube-proxy.log"
fi

# --- the pod network: flanneld (kubernetes.cni: flannel) -----------------------------------------------------
# From image/components/flannel.sh, with the unit's command line and the rendered flanneld.env and net-conf.json, as
# worker-01's kubelet (its kubelet.conf). It takes the podCIDR of worker-01's Node, writes subnet.env, makes
# flannel.1 and tells the other nodes through the Node's annotations. (Pods on two nodes talking: the whole
# cluster's run, not this one-kubelet test.)
flanneld_up() { # (grep's own 2 for a missing file would mean "give up" to wait_for)
        alive flanneld || return 2
        [ -f "$wroot/run/flannel/subnet.env" ] && grep -q '^FLANNEL_SUBNET=' "$wroot/run/flannel/subnet.env"
}
fl_gate() {
        nsenter -t "$holder" -n -- "$cb" bootstrap --inventory "$inv" --node "$w" --root "$wroot" --stage pod-network \
                --retry-timeout 0 >"$work/pod-network-gate.log" 2>&1 && grep -q "flanneld is healthy" "$work/pod-network-gate.log"
}
if ! fl=$("$here/../../image/components/flannel.sh" 2>"$work/flannel-build.log" | tail -n 1) || [ ! -x "$fl" ]; then
        not_ok "image/components/flannel.sh builds flanneld" "$work/flannel-build.log"
else
        mkdir -p "$wroot/run/flannel"
        mapfile -t w_env < <(sed -n 's/^\([A-Z_]*\)="\(.*\)"$/\1=\2/p' "$wroot/etc/cluster-config/environment/flanneld.env")
        w_start flanneld "$fl"
        w_env=()
        if wait_for 60 flanneld_up; then
                sed 's/^/#   /' "$wroot/run/flannel/subnet.env"
                first=${pod_cidr%/*}
                check "flanneld on $w: subnet.env has the Node's podCIDR $pod_cidr (gateway ${first%.*}.1), MTU 1450, it masquerades" \
                        "$work/subnet-check.log" bash -c "grep -qx 'FLANNEL_SUBNET=${first%.*}.1/${pod_cidr#*/}' '$wroot/run/flannel/subnet.env' &&
                                grep -qx FLANNEL_MTU=1450 '$wroot/run/flannel/subnet.env' &&
                                grep -qx FLANNEL_IPMASQ=true '$wroot/run/flannel/subnet.env'"
                check "... flannel.1 (vxlan, MTU 1450) on $w" "$work/flannel-link.log" \
                        bash -c "nsenter -t '$holder' -n ip -d link show flannel.1 | tee /dev/stderr | grep -q 'mtu 1450' &&
                                 nsenter -t '$holder' -n ip -d link show flannel.1 | grep -q vxlan"
                check "... its Node says so to the other nodes (annotation flannel.alpha.coreos.com/public-ip $w_ip)" \
                        "$work/flannel-node.log" bash -c "$(declare -f kc); kubectl='$kubectl' ns='$ns' work='$work'
                                kc get node '$w' -o jsonpath='{.metadata.annotations.flannel\.alpha\.coreos\.com/public-ip}' | grep -qx '$w_ip'"
                if wait_for 30 fl_gate; then
                        ok "clusterboot bootstrap --stage pod-network on $w: its gate finds the node's subnet"
                else
                        not_ok "the stage pod-network's gate on $w" "$work/pod-network-gate.log"
                fi
        else
                not_ok "flanneld on $w writes subnet.env" "$work/flanneld.log"
        fi
fi

# --- cluster DNS: the Service kube-dns, through kube-proxy, to the dns server's CoreDNS -----------------------
# The stage kube-bootstrap made the Service (10.96.0.10) and its EndpointSlice of examples/homelab's dns
# server, master-01; its CoreDNS answers the cluster domain from the API server.
k8s_coredns
dns_svc() {
        alive kube-proxy || return 2
        w_exec dig @10.96.0.10 +time=2 +tries=1 +short kubernetes.default.svc.cluster.local A >"$work/w-dig.log" 2>&1 &&
                grep -qx 10.96.0.1 "$work/w-dig.log"
}
if wait_for 60 dns_svc; then
        ok "from $w, the cluster DNS Service 10.96.0.10 (kube-proxy to $node's CoreDNS): kubernetes.default.svc.cluster.local is 10.96.0.1"
else
        w_exec iptables-save -t nat >"$work/nat-dns.log" 2>&1
        not_ok "the cluster DNS Service 10.96.0.10 from $w" "$work/w-dig.log" "$work/nat-dns.log" "$work/coredns.log"
fi

# Nothing died under the checks.
for c in containerd kubelet kube-proxy flanneld kube-apiserver kube-controller-manager kube-scheduler; do
        if [ -n "${pid[$c]:-}" ] && kill -0 "${pid[$c]}" 2>/dev/null; then
                ok "$c still runs"
        else
                not_ok "$c exited" "$work/$c.log"
        fi
done

finish
