# Shared by the pki-e2e tests (sourced, not run): TAP output, a cleanup that stops what a test started,
# and network namespaces that the test makes itself. Every name a test creates carries "cbt<PID>" so
# that two runs never collide and nothing outside the test is touched.
# Secrets are never printed: command output shown on failure goes through redact().
set -u

n=0
failed=0
pids=()       # processes to stop, in reverse order of start
netns=()      # network namespaces to delete
tag="cbt$$"   # prefix of every namespace this run makes
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-pki-e2e.XXXXXX")
t_start=$(date +%s)

cleanup() {
        local i p ns
        for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
                p=${pids[i]}
                kill -TERM "$p" 2>/dev/null || continue
                for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        for ns in "${netns[@]}"; do
                ip netns del "$ns" 2>/dev/null
        done
        if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Keys, passwords and cephx secrets never reach the log.
redact() {
        sed -E -e '/-----BEGIN [A-Z ]*PRIVATE KEY-----/,/-----END [A-Z ]*PRIVATE KEY-----/d' \
                -e 's/(key *= *)[A-Za-z0-9+\/]{20,}={0,2}/\1<redacted>/g' \
                -e 's/(^| )(-P|--pw) +[^ ]+/\1\2 <redacted>/g'
}

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { # NAME [LOGFILE...]
        local name=$1 f
        shift
        n=$((n + 1)); failed=$((failed + 1))
        echo "not ok $n - $name"
        for f; do
                [ -f "$f" ] || continue
                echo "# --- $(basename "$f") (last 30 lines)"
                tail -n 30 "$f" | redact | sed 's/^/#   /'
        done
        return 0
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# check NAME LOG COMMAND...: one test point, passing when COMMAND exits 0; COMMAND's output goes to LOG.
check() {
        local name=$1 log=$2
        shift 2
        if "$@" >"$log" 2>&1; then ok "$name"; else not_ok "$name" "$log"; fi
}
# refuse NAME LOG COMMAND...: passing when COMMAND fails.
refuse() {
        local name=$1 log=$2
        shift 2
        if "$@" >"$log" 2>&1; then not_ok "$name (it succeeded)" "$log"; else ok "$name"; fi
}
note() { echo "# $*"; }
elapsed() { echo $(($(date +%s) - t_start)); }
# Bundles whose secrets no log may hold: every "$work"/bundle*/ the test made, and these.
secret_bundles=()
lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# no_secret_point: one point, when the test made a bundle: none of its secrets (tests/scripts/no-secret-in.sh)
# in any log or output it collected under $work (*.log, *.out, *.err: the programs' and the commands').
no_secret_point() {
        local b bundles=() logs=() bad=0
        for b in "$work"/bundle*/; do [ -f "$b/join-secret" ] && bundles+=("${b%/}"); done
        for b in "${secret_bundles[@]}"; do
                # A bundle the test named but that is not there (yet): nothing to look for, which is no proof.
                [ -f "$b/join-secret" ] || { not_ok "the bundle $b, whose secrets no log may hold, is there"; continue; }
                bundles+=("$b")
        done
        mapfile -t logs < <(find "$work" -type f \( -name '*.log' -o -name '*.out' -o -name '*.err' \) 2>/dev/null)
        [ ${#bundles[@]} -gt 0 ] && [ ${#logs[@]} -gt 0 ] || return 0
        for b in "${bundles[@]}"; do
                "$lib_dir/../scripts/no-secret-in.sh" "$b" "${logs[@]}" || bad=1
        done >"$work/no-secret.txt" 2>&1
        if [ "$bad" = 0 ]; then
                ok "no secret of the test's bundle in any of the ${#logs[@]} logs it collected"
        else
                not_ok "a secret of the test's bundle in a log it collected" "$work/no-secret.txt"
        fi
}
finish() {
        no_secret_point
        note "took $(elapsed) s"
        echo "1..$n"
        [ "$failed" = 0 ]
        exit $?
}
# skip_all REASON: the whole test cannot run here.
skip_all() {
        skip "$1"
        echo "1..$n"
        exit 0
}
have() {
        local p
        for p; do command -v "$p" >/dev/null 2>&1 || return 1; done
}
# need PROGRAM...: skip the whole test unless each is on PATH, we are root, and namespaces work.
need() {
        local p
        for p; do have "$p" || skip_all "$p not installed"; done
        [ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
        ip netns add "${tag}probe" 2>/dev/null || skip_all "cannot create a network namespace here"
        ip netns del "${tag}probe"
}

# ns_add NAME: a network namespace with lo up; deleted by cleanup.
ns_add() {
        ip netns add "$1" || return 1
        netns+=("$1")
        ip -n "$1" link set lo up
}

# ns_lan BRIDGE_NS NODE_NS IP/PREFIX IFNAME: the node namespace gets eth0 with the address, its peer
# IFNAME is a port of br0 inside BRIDGE_NS (which ns_bridge made). Nothing is added to the root namespace.
ns_bridge() {
        ns_add "$1" || return 1
        ip -n "$1" link add br0 type bridge && ip -n "$1" link set br0 up
}
ns_lan() {
        local brns=$1 ns=$2 addr=$3 port=$4
        ip -n "$brns" link add "$port" type veth peer name eth0 netns "$ns" &&
                ip -n "$brns" link set "$port" master br0 &&
                ip -n "$brns" link set "$port" up &&
                ip -n "$ns" addr add "$addr" dev eth0 &&
                ip -n "$ns" link set eth0 up
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (every 0.5 s), at most SECONDS; an exit status of 2
# from COMMAND means it will never succeed (a daemon died, an error other than "not yet").
wait_for() {
        local deadline=$(($(date +%s) + $1)) rc
        shift
        while :; do
                "$@" >/dev/null 2>&1
                rc=$?
                [ "$rc" = 0 ] && return 0
                [ "$rc" = 2 ] && return 1
                [ "$(date +%s)" -ge "$deadline" ] && return 1
                sleep 0.5
        done
}

# wait_tcp NS HOST PORT SECONDS [PID]: until something accepts on HOST:PORT inside NS; fails early when
# PID has exited.
wait_tcp() {
        local ns=$1 host=$2 port=$3 deadline=$(($(date +%s) + $4)) pid=${5:-}
        while :; do
                [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
                ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && return 0
                [ "$(date +%s)" -ge "$deadline" ] && return 1
                sleep 0.2
        done
}

# etcd_env ROOT: etcd's environment as units/etcd.service gives it (EnvironmentFile= etcd.env, etcd-initial.env,
# then etcd-join.env when bootstrap wrote one, overriding), with ETCD_DATA_DIR and ETCD_*_FILE moved under ROOT.
# Prints NAME=VALUE lines.
etcd_env() {
        local r=$1 f line k v
        local -A vars=()
        for f in "$r/etc/cluster-config/environment/etcd.env" "$r/etc/cluster-config/environment/etcd-initial.env" \
                "$r/etc/cluster-config/environment/etcd-join.env"; do
                [ -f "$f" ] || continue
                while IFS= read -r line; do
                        [[ $line =~ ^([A-Z0-9_]+)=(.*)$ ]] || continue
                        k=${BASH_REMATCH[1]} v=${BASH_REMATCH[2]}
                        [[ $v =~ ^\"(.*)\"$ ]] && v=${BASH_REMATCH[1]}
                        case $k in ETCD_DATA_DIR | ETCD_*_FILE) v=$r$v ;; esac
                        vars[$k]=$v
                done <"$f"
        done
        for k in "${!vars[@]}"; do printf '%s=%s\n' "$k" "${vars[$k]}"; done
}

# start_etcd NODE [ETCD_INITIAL_CLUSTER]: etcd from the rendered etcd.env of $work/root-NODE, inside the
# namespace ${ns[NODE]}, the initial cluster replaced by the given one; its PID in ${etcd_pid[NODE]}
# (both arrays declared by the test), its log in $work/etcd-NODE.log.
start_etcd() {
        local m=$1 vars=() i
        mapfile -t vars < <(etcd_env "$work/root-$m")
        if [ -n "${2:-}" ]; then
                for i in "${!vars[@]}"; do
                        [[ ${vars[i]} == ETCD_INITIAL_CLUSTER=* ]] && vars[i]="ETCD_INITIAL_CLUSTER=$2"
                done
        fi
        ip netns exec "${ns[$m]}" env -i PATH="$PATH" "${vars[@]}" etcd >>"$work/etcd-$m.log" 2>&1 &
        etcd_pid[$m]=$!
        pids+=("$!")
}
# etcd_ctl NODE ENDPOINTS ARGS...: etcdctl inside ${ns[NODE]} with the apiserver-etcd-client certificate of
# $work/root-NODE, only to read what etcd itself says.
etcd_ctl() {
        local m=$1 eps=$2 p=$work/root-$1/etc/kubernetes/pki
        shift 2
        ETCDCTL_API=3 ip netns exec "${ns[$m]}" etcdctl --dial-timeout=3s --command-timeout=10s --endpoints="$eps" \
                --cacert="$p/etcd/ca.crt" --cert="$p/apiserver-etcd-client.crt" --key="$p/apiserver-etcd-client.key" "$@"
}
# etcd_healthy NODE ENDPOINTS: for wait_for: etcdctl says healthy; 2 (never) once NODE's etcd has exited.
etcd_healthy() {
        kill -0 "${etcd_pid[$1]}" 2>/dev/null || return 2
        etcd_ctl "$1" "$2" endpoint health
}
# stop_etcd NODE: TERM, KILL after 5 s; the PID leaves the cleanup list once reaped.
stop_etcd() {
        local p=${etcd_pid[$1]} keep=() q
        kill -TERM "$p" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
        for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
        pids=("${keep[@]}")
}
