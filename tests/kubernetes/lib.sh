# shellcheck shell=bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# shellcheck source-path=SCRIPTDIR
# Shared by the tests of this directory (sourced, not run, by test-*.sh CLUSTERBOOT EXAMPLES_DIR): the private
# mount and UTS namespace every test runs in, the rendered files at their real paths, a unit's command line,
# and `control_plane`, which starts examples/homelab's master-01 (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) from what clusterboot makes, with its test points.
# Uses pki-e2e/lib.sh for TAP output, cleanup and network namespaces.

# Everything below runs in a private mount namespace and UTS namespace, which die with the test (and take
# the bind mounts with them). Without the privilege, `k8s_need` below says why this is skipped.
if [ -z "${CBT_K8S_NAMESPACED:-}" ] && unshare -m -u --propagation private true 2>/dev/null; then
        exec unshare -m -u --propagation private -- env CBT_K8S_NAMESPACED=1 bash "$0" "$@"
fi

cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
examples=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$examples/homelab # control_plane's inventory; a test may point it at a changed copy first
# shellcheck disable=SC2154 # here: the directory of the test that sources this
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
# k8s_need PROGRAM...: skip unless each is there, we are root, and the namespaces can be made.
k8s_need() {
        need "$@"
        [ -n "${CBT_K8S_NAMESPACED:-}" ] || skip_all "cannot make a mount namespace (unshare -m -u)"
}

# --- the Kubernetes binaries --------------------------------------------------------------------------
# k8s_binaries NAME...: $bin holds them (the first test point), built by image/components/kubernetes.sh; a skip
# when they are not built, unless CLUSTERBOOT_HEAVY=1 (then they are built now).
k8s_binaries() {
        local c have_all=1 built
        # shellcheck source=/dev/null
        . "$here/../../image/components.lock"
        built=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/kubernetes-$KUBERNETES_VERSION/bin
        for c; do [ -x "$built/$c" ] || have_all=""; done
        if [ "${CLUSTERBOOT_HEAVY:-}" != 1 ] && [ -z "$have_all" ]; then
                skip_all "Kubernetes $KUBERNETES_VERSION is not built: run image/components/kubernetes.sh first, or set CLUSTERBOOT_HEAVY=1 (builds it, long)"
        fi
        if ! bin=$("$here/../../image/components/kubernetes.sh" 2>"$work/deps.log" | tail -n 1) || [ ! -x "$bin/kube-apiserver" ]; then
                not_ok "image/components/kubernetes.sh builds Kubernetes $KUBERNETES_VERSION" "$work/deps.log"
                finish
        fi
        ok "Kubernetes $KUBERNETES_VERSION binaries ($bin)"
        kubectl=$bin/kubectl
}

# --- the rendered files at their real paths -------------------------------------------------------
mounts=() # made by this test, detached (last first) before lib.sh's cleanup removes the scratch dirs
exit_hooks=() # functions a test adds, run (last first) at exit before the mounts go
k8s_exit() {
        local i
        for ((i = ${#exit_hooks[@]} - 1; i >= 0; i--)); do "${exit_hooks[i]}"; done
        umount_all
        cleanup
}
trap k8s_exit EXIT
umount_all() {
        local i
        for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
}
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

# --- master-01's control plane ----------------------------------------------------------------------
pki=/etc/kubernetes/pki
ctl() {
        ip netns exec "$ns" etcdctl --dial-timeout=3s --command-timeout=10s --endpoints="https://$node_ip:2379" \
                --cacert="$pki/etcd/ca.crt" --cert="$pki/etcd/healthcheck-client.crt" --key="$pki/etcd/healthcheck-client.key" "$@"
}
etcd_healthy() {
        kill -0 "$etcd_pid" 2>/dev/null || return 2
        ctl endpoint health
}
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
get_ns() {
        local names
        names=$(kc get ns -o 'jsonpath={.items[*].metadata.name}') || return 1
        echo "$names"
        [[ " $names " == *" default "* && " $names " == *" kube-system "* ]]
}
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

# control_plane: master-01 of $inv from what clusterboot makes (secrets init, pki node, render into
# $root, bundle $bundle), its files at their real paths, its network namespace $ns on a bridge in $brns;
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler started and checked. A step that fails
# ends the test (finish) when nothing after it could work.
control_plane() {
        local c name port
        # --- what clusterboot makes ---
        root=$work/root
        bundle=$work/bundle
        check "secrets init for examples/homelab" "$work/secrets.log" "$cb" secrets init --inventory "$inv" --out "$bundle"
        check "$node: pki node" "$work/pki.log" \
                "$cb" pki node --inventory "$inv" --node "$node" --secrets "$bundle" --root "$root"
        check "$node: render" "$work/render.log" "$cb" render --inventory "$inv" --node "$node" --root "$root"
        [ "$failed" = 0 ] || finish

        # --- at their real paths ---
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

        # --- the network ---
        ns=${tag}m1
        brns=${tag}br
        if { ns_bridge "$brns" && ns_add "$ns" && ns_lan "$brns" "$ns" "$node_ip/24" v1; } 2>"$work/net.log"; then
                ok "$node's namespace carries $node_ip/24 on a bridge"
        else
                not_ok "network namespaces" "$work/net.log"
                finish
        fi

        # --- etcd, from the rendered etcd.env (etcd takes no arguments: units/etcd.service) ---
        local etcd_vars=()
        mapfile -t etcd_vars < <(etcd_env "")
        ip netns exec "$ns" env -i PATH="$PATH" "${etcd_vars[@]}" "${protect[@]}" /var/lib/etcd etcd >"$work/etcd.log" 2>&1 &
        etcd_pid=$!
        pids+=("$etcd_pid")
        if wait_for 60 etcd_healthy; then
                ok "etcd starts from the rendered etcd.env and is healthy over TLS"
        else
                not_ok "etcd starts from the rendered etcd.env" "$work/etcd.log"
                finish
        fi

        # --- the control plane ---
        if start kube-apiserver && wait_for 240 readyz; then
                ok "kube-apiserver: \`kubectl --kubeconfig admin.conf get --raw /readyz\` says ok"
        else
                [ -n "${pid[kube-apiserver]:-}" ] && { refused kube-apiserver; kc get --raw '/readyz?verbose' >"$work/readyz.log" 2>&1; }
                not_ok "kube-apiserver ready for admin.conf" "$work/readyz.log" "$work/kube-apiserver.log"
                finish
        fi
        check "admin.conf's user may do anything (kubectl auth can-i '*' '*')" "$work/can-i.log" kc auth can-i '*' '*'
        # The API server makes kube-system and default in its post-start hooks, which /readyz waits for.
        check "kubectl get ns lists default and kube-system" "$work/ns.log" get_ns

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
}

# --- cluster DNS: master-01's CoreDNS (it is examples/homelab's dns server) ---------------------------------
# k8s_coredns: CoreDNS (image/components/coredns.sh) in master-01's namespace on the rendered /etc/coredns, with the
# kubeconfig `pki node` made (/etc/kubernetes/coredns.conf) where systemd puts the unit's credential
# (/run/credentials/coredns.service/kubeconfig, in a /run of its own mount namespace). One test point: it
# answers Kubernetes' cluster domain from the API server. Needs control_plane and the stage kube-bootstrap's
# objects (its RBAC). Sets coredns_pid.
k8s_coredns() {
        local bin
        if ! bin=$("$here/../../image/components/coredns.sh" 2>"$work/coredns-build.log" | tail -n 1) || [ ! -x "$bin" ]; then
                not_ok "image/components/coredns.sh builds CoreDNS" "$work/coredns-build.log"
                return 1
        fi
        if ! mount_at "$root/etc/coredns" /etc/coredns >"$work/mount-coredns.log" 2>&1; then
                not_ok "the rendered /etc/coredns at its path" "$work/mount-coredns.log"
                return 1
        fi
        # shellcheck disable=SC2016 # expanded by the inner bash
        ip netns exec "$ns" unshare -m --propagation private bash -c '
                set -e
                mount -t tmpfs cbt-run /run
                mkdir -p /run/credentials/coredns.service
                cp /etc/kubernetes/coredns.conf /run/credentials/coredns.service/kubeconfig
                exec "$1" -conf /etc/coredns/Corefile' _ "$bin" >"$work/coredns.log" 2>&1 &
        coredns_pid=$!
        pids+=("$coredns_pid")
        if wait_for 60 cluster_dns_answers "$node_ip" "$ns"; then
                ok "CoreDNS on $node: kubernetes.default.svc.cluster.local is 10.96.0.1, from the API server as system:coredns"
        else
                not_ok "CoreDNS on $node answers kubernetes.default.svc.cluster.local" "$work/coredns.log" "$work/dig.log"
                return 1
        fi
}
# cluster_dns_answers SERVER NS: the cluster domain's name of the API Service resolves to its address.
cluster_dns_answers() {
        kill -0 "$coredns_pid" 2>/dev/null || return 2
        ip netns exec "$2" dig @"$1" +time=2 +tries=1 +short kubernetes.default.svc.cluster.local A >"$work/dig.log" 2>&1 &&
                grep -qx 10.96.0.1 "$work/dig.log"
}
