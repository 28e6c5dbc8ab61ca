#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# shellcheck source-path=SCRIPTDIR
# The Kubernetes control plane of examples/homelab's master-01, started from what clusterboot makes: the
# real etcd, kube-apiserver, kube-controller-manager and kube-scheduler (Kubernetes of
# tests/deps/versions.lock, built by tests/deps/kubernetes.sh) run with the command lines of their units
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

# Everything below runs in a private mount namespace and UTS namespace, which die with the test (and take
# the bind mounts with them). Without the privilege, `need` below says why this is skipped.
if [ -z "${CBT_K8S_NAMESPACED:-}" ] && unshare -m -u --propagation private true 2>/dev/null; then
        exec unshare -m -u --propagation private -- env CBT_K8S_NAMESPACED=1 bash "$0" "$@"
fi

cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/homelab
units=$(realpath "$here/../../units")
node=master-01
node_ip=192.168.1.10
# shellcheck source=../pki-e2e/lib.sh
. "$here/../pki-e2e/lib.sh"

# A prerequisite that cannot be had skips the whole test before any test point: TAP's "1..0 # SKIP".
skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}
need ip etcd etcdctl curl unshare mount findmnt flock
[ -n "${CBT_K8S_NAMESPACED:-}" ] || skip_all "cannot make a mount namespace (unshare -m -u)"

# --- the Kubernetes binaries --------------------------------------------------------------------------
# shellcheck source=/dev/null
. "$here/../deps/versions.lock"
built=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/kubernetes-$KUBERNETES_VERSION/bin
have_all=1
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do [ -x "$built/$c" ] || have_all=""; done
if [ "${CLUSTERBOOT_HEAVY:-}" != 1 ] && [ -z "$have_all" ]; then
        skip_all "Kubernetes $KUBERNETES_VERSION is not built: run tests/deps/kubernetes.sh first, or set CLUSTERBOOT_HEAVY=1 (builds it, long)"
fi
if ! bin=$("$here/../deps/kubernetes.sh" 2>"$work/deps.log" | tail -n 1) || [ ! -x "$bin/kube-apiserver" ]; then
        not_ok "tests/deps/kubernetes.sh builds Kubernetes $KUBERNETES_VERSION" "$work/deps.log"
        finish
fi
ok "Kubernetes $KUBERNETES_VERSION binaries ($bin)"
kubectl=$bin/kubectl

# --- what clusterboot makes -----------------------------------------------------------------------
root=$work/root
bundle=$work/bundle
check "secrets init for examples/homelab" "$work/secrets.log" "$cb" secrets init --inventory "$inv" --out "$bundle"
check "$node: pki node" "$work/pki.log" \
        "$cb" pki node --inventory "$inv" --node "$node" --secrets "$bundle" --root "$root"
check "$node: render" "$work/render.log" "$cb" render --inventory "$inv" --node "$node" --root "$root"
[ "$failed" = 0 ] || finish

# --- the rendered files at their real paths -------------------------------------------------------
mounts=() # made by this test, detached (last first) before lib.sh's cleanup removes the scratch dirs
umount_all() {
        local i
        for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
}
trap 'umount_all; cleanup' EXIT
mnt() { # mount's arguments; the last one is the mount point
        mount "$@" && mounts+=("${*: -1}")
}
# mount_at SRC DIR: SRC is seen at DIR (an absolute path). A DIR that does not exist is made inside an
# overlay of its parent, whose upper layer is scratch: the real file system is never written. Mounts that
# the overlay would hide (below the parent) are carried over onto it.
mount_at() {
        local src=$1 dst=$2 parent keep sub i=0
        parent=$(dirname "$dst")
        if [ ! -e "$dst" ] && [ -n "${overlaid[$parent]:-}" ]; then
                mkdir "$dst" || return 1
        elif [ ! -e "$dst" ]; then
                [ -d "$parent" ] || mkdir_over "$parent" || return 1
                keep=$work/overlay/keep$(tr / _ <<<"$parent")
                mkdir -p "$keep" "$work/overlay/upper$(tr / _ <<<"$parent")" "$work/overlay/work$(tr / _ <<<"$parent")"
                local subs=()
                mapfile -t subs < <(findmnt -rn -o TARGET | awk -v p="$parent/" 'index($0, p) == 1' | sort)
                for sub in "${subs[@]}"; do
                        i=$((i + 1))
                        if [ -d "$sub" ]; then mkdir -p "$keep/$i"; else : >"$keep/$i"; fi
                        mnt --bind "$sub" "$keep/$i" || return 1
                done
                mnt -t overlay overlay -o "lowerdir=$parent,upperdir=$work/overlay/upper$(tr / _ <<<"$parent"),workdir=$work/overlay/work$(tr / _ <<<"$parent")" "$parent" ||
                        return 1
                i=0
                for sub in "${subs[@]}"; do
                        i=$((i + 1))
                        mnt --bind "$keep/$i" "$sub" || return 1
                done
                overlaid[$parent]=1
                mkdir "$dst" || return 1
        fi
        mnt --bind "$src" "$dst"
}
declare -A overlaid=()
mkdir_over() { # DIR: an empty directory at DIR, through mount_at of a scratch one
        mkdir -p "$work/empty$(tr / _ <<<"$1")" && mount_at "$work/empty$(tr / _ <<<"$1")" "$1"
}
mkdir -p "$work/etcd-data" && chmod 0700 "$work/etcd-data"
if { mount_at "$root/etc/kubernetes" /etc/kubernetes &&
        mount_at "$root/etc/cluster-config" /etc/cluster-config &&
        mount_at "$work/etcd-data" /var/lib/etcd &&
        hostname "$(cat "$root/etc/hostname")"; } >"$work/mount.log" 2>&1; then
        ok "the rendered /etc/kubernetes and /etc/cluster-config are at their paths; hostname $(hostname)"
else
        not_ok "bind-mount the rendered files at their paths" "$work/mount.log"
        finish
fi

# unit_exec UNIT: the command line systemd runs for UNIT's ExecStart=, one word a line, with the variables
# of its EnvironmentFile=s (the rendered ones, at their real paths) put in as systemd does: "$VAR" alone
# is split at whitespace into words, "${VAR}" is one word.
unit_exec() {
        local unit=$1 line f optional k v exec="" word words=() parts=()
        local -A env=()
        while IFS= read -r line; do
                case $line in
                EnvironmentFile=*)
                        f=${line#EnvironmentFile=} optional=""
                        [[ $f == -* ]] && f=${f#-} optional=1
                        if [ ! -f "$f" ]; then
                                [ -n "$optional" ] && continue
                                echo "$unit: EnvironmentFile=$f does not exist" >&2
                                return 1
                        fi
                        while IFS= read -r line; do
                                [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
                                k=${BASH_REMATCH[1]} v=${BASH_REMATCH[2]}
                                [[ $v =~ ^\"(.*)\"$ ]] && v=${BASH_REMATCH[1]}
                                [[ $v =~ ^\'(.*)\'$ ]] && v=${BASH_REMATCH[1]}
                                env[$k]=$v
                        done <"$f"
                        ;;
                ExecStart=*) exec=${line#ExecStart=} ;;
                esac
        done <"$unit"
        [ -n "$exec" ] || { echo "$unit: no ExecStart=" >&2; return 1; }
        read -ra words <<<"$exec"
        words[0]=${words[0]#[-+@!:]}
        for word in "${words[@]}"; do
                if [[ $word =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
                        read -ra parts <<<"${env[${BASH_REMATCH[1]}]:-}"
                        [ "${#parts[@]}" = 0 ] || printf '%s\n' "${parts[@]}"
                elif [[ $word =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ ]]; then
                        printf '%s\n' "${env[${BASH_REMATCH[1]}]:-}"
                else
                        printf '%s\n' "$word"
                fi
        done
}

# "${protect[@]}" WRITABLE COMMAND...: COMMAND in a mount namespace of its own with what its unit's sandbox leaves
# it: every mount read-only but the API file systems (ProtectSystem=strict) and WRITABLE (the unit's
# StateDirectory=, or ""), and an empty /tmp (PrivateTmp=yes). A daemon that needs to write elsewhere fails
# here as it would under systemd.
cat >"$work/protect" <<'EOF_PROTECT'
w=$1
shift
findmnt -rn -o TARGET,FSTYPE,OPTIONS | while read -r m type opts; do
        case $m in /dev | /dev/* | /proc | /proc/* | /sys | /sys/*) continue ;; esac
        case $type in nsfs) continue ;; esac
        case ,$opts, in *,ro,*) continue ;; esac
        [ -n "$w" ] && [ "$m" = "$w" ] && continue
        mount -o remount,bind,ro "$m" || { echo "protect: cannot make $m read-only" >&2; exit 1; }
done || exit 1
mount -t tmpfs -o mode=1777,size=64m tmpfs /tmp || exit 1
exec "$@"
EOF_PROTECT
protect=(unshare -m --propagation private -- bash "$work/protect")

# --- the network --------------------------------------------------------------------------------
ns=${tag}m1
brns=${tag}br
if { ns_bridge "$brns" && ns_add "$ns" && ns_lan "$brns" "$ns" "$node_ip/24" v1; } 2>"$work/net.log"; then
        ok "$node's namespace carries $node_ip/24 on a bridge"
else
        not_ok "network namespaces" "$work/net.log"
        finish
fi

# --- etcd, from the rendered etcd.env (etcd takes no arguments: units/etcd.service) -----------------
pki=/etc/kubernetes/pki
ctl() {
        ip netns exec "$ns" etcdctl --dial-timeout=3s --command-timeout=10s --endpoints="https://$node_ip:2379" \
                --cacert="$pki/etcd/ca.crt" --cert="$pki/etcd/healthcheck-client.crt" --key="$pki/etcd/healthcheck-client.key" "$@"
}
mapfile -t etcd_vars < <(etcd_env "")
ip netns exec "$ns" env -i PATH="$PATH" "${etcd_vars[@]}" "${protect[@]}" /var/lib/etcd etcd >"$work/etcd.log" 2>&1 &
etcd_pid=$!
pids+=("$etcd_pid")
etcd_healthy() {
        kill -0 "$etcd_pid" 2>/dev/null || return 2
        ctl endpoint health
}
if wait_for 60 etcd_healthy; then
        ok "etcd starts from the rendered etcd.env and is healthy over TLS"
else
        not_ok "etcd starts from the rendered etcd.env" "$work/etcd.log"
        finish
fi

# --- the control plane --------------------------------------------------------------------------
declare -A pid=()
# start NAME: NAME's unit's command line, with the built binary for /usr/local/bin/NAME.
start() {
        local name=$1 argv=()
        if ! mapfile -t argv < <(unit_exec "$units/$name.service" 2>"$work/$name.unit.log") || [ "${#argv[@]}" = 0 ]; then
                not_ok "$name: the command line of units/$name.service" "$work/$name.unit.log"
                return 1
        fi
        if [ "${argv[0]}" != "/usr/local/bin/$name" ]; then
                not_ok "$name: units/$name.service runs '${argv[0]}', not /usr/local/bin/$name"
                return 1
        fi
        printf '%s\n' "${argv[@]:1}" >"$work/$name.args"
        ip netns exec "$ns" "${protect[@]}" "" "$bin/$name" "${argv[@]:1}" >"$work/$name.log" 2>&1 &
        pid[$name]=$!
        pids+=("$!")
        note "$name: started with the $((${#argv[@]} - 1)) arguments of its unit and rendered environment file"
}
kc() { # kubectl with the rendered admin.conf, inside master-01's namespace
        ip netns exec "$ns" env HOME="$work/home" "$kubectl" --kubeconfig /etc/kubernetes/admin.conf \
                --cache-dir "$work/kube-cache" --request-timeout=10s "$@"
}
alive() { # NAME: exit 2 (give up) when it has exited
        kill -0 "${pid[$1]}" 2>/dev/null || return 2
}
# refused NAME: the flags or files that the binary refused, from its log, shown on failure
refused() {
        grep -E -m 5 "unknown flag|invalid argument|Error: |error: |failed to|unable to load|no such file" "$work/$1.log" |
                redact | sed 's/^/# refused? /'
}

readyz() {
        alive kube-apiserver || return 2
        [ "$(kc get --raw /readyz 2>/dev/null)" = ok ]
}
if start kube-apiserver && wait_for 240 readyz; then
        ok "kube-apiserver: \`kubectl --kubeconfig admin.conf get --raw /readyz\` says ok"
else
        [ -n "${pid[kube-apiserver]:-}" ] && { refused kube-apiserver; kc get --raw '/readyz?verbose' >"$work/readyz.log" 2>&1; }
        not_ok "kube-apiserver ready for admin.conf" "$work/readyz.log" "$work/kube-apiserver.log"
        finish
fi
check "admin.conf's user may do anything (kubectl auth can-i '*' '*')" "$work/can-i.log" kc auth can-i '*' '*'
get_ns() {
        local names
        names=$(kc get ns -o 'jsonpath={.items[*].metadata.name}') || return 1
        echo "$names"
        [[ " $names " == *" default "* && " $names " == *" kube-system "* ]]
}
# The API server makes kube-system and default in its post-start hooks, which /readyz waits for.
check "kubectl get ns lists default and kube-system" "$work/ns.log" get_ns

# healthz NAME PORT: the component's own secure port (a self-signed serving certificate: -k) says ok.
healthz() {
        alive "$1" || return 2
        [ "$(ip netns exec "$ns" curl -sk --max-time 5 "https://127.0.0.1:$2/healthz")" = ok ]
}
# lease NAME: NAME won its leader election (--leader-elect=true), through the API with its kubeconfig.
lease() {
        alive "$1" || return 2
        kc -n kube-system get lease "$1" -o 'jsonpath={.spec.holderIdentity}' | grep -q "^$node"
}
for c in kube-controller-manager:10257 kube-scheduler:10259; do
        name=${c%:*} port=${c#*:}
        if ! start "$name"; then
                continue
        fi
        if wait_for 120 healthz "$name" "$port"; then
                ok "$name: https://127.0.0.1:$port/healthz says ok"
        else
                refused "$name"
                not_ok "$name: /healthz on $port" "$work/$name.log"
                continue
        fi
        if wait_for 120 lease "$name"; then
                ok "$name: holds its leader lease in kube-system ($(kc -n kube-system get lease "$name" -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null))"
        else
                refused "$name"
                not_ok "$name: leader lease" "$work/$name.log"
        fi
done

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

# --- kubelet TLS bootstrapping: `clusterboot bootstrap --stage kube-bootstrap` -------------------------------
# The stage reads the bundle where a master has it (/etc/cluster-config/secrets under --root).
mkdir -p "$root/etc/cluster-config" && cp -a "$bundle" "$root/etc/cluster-config/secrets"
kube_bootstrap() {
        ip netns exec "$ns" "$cb" bootstrap --inventory "$inv" --node "$node" --root "$root" --stage kube-bootstrap \
                --retry-timeout 30 >"$work/kube-bootstrap.log" 2>&1
}
if kube_bootstrap && grep -q "(4 of 4 objects created now)" "$work/kube-bootstrap.log"; then
        ok "stage kube-bootstrap: the bootstrap token secret and three RBAC bindings created"
else
        not_ok "stage kube-bootstrap: the bootstrap token secret and three RBAC bindings created" "$work/kube-bootstrap.log"
fi
token=$(cat "$bundle/bootstrap-token")
token_id=${token%%.*}
check "... kubectl sees secret kube-system/bootstrap-token-$token_id and the bindings" "$work/rbac.log" bash -c \
        "$(declare -f kc); kubectl='$kubectl' ns='$ns' work='$work'
         kc -n kube-system get secret bootstrap-token-$token_id -o jsonpath='{.type}' | grep -qx bootstrap.kubernetes.io/token &&
         kc get clusterrolebinding kubeadm:kubelet-bootstrap kubeadm:node-autoapprove-bootstrap \
                kubeadm:node-autoapprove-certificate-rotation"
if kube_bootstrap && grep -q "(0 of 4 objects created now)" "$work/kube-bootstrap.log"; then
        ok "... again: everything there, nothing created"
else
        not_ok "... again: everything there, nothing created" "$work/kube-bootstrap.log"
fi
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
