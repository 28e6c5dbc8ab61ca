# shellcheck shell=bash
# What the shell tests of `clusterboot serve` share: a work folder, the servers they start (stopped with
# SIGTERM on exit), and TAP points. Before sourcing: $cb (clusterboot) and $inv (an inventory folder);
# $1 of the test names its work folder (cb-NAME.XXXXXX). KEEP_WORK=1 keeps it.
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-$1.XXXXXX")
pids=()
n=0
failed=0

cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill -TERM "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT

check() { # WHAT COMMAND...: a TAP point, ok when COMMAND succeeds
        local what=$1
        shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=1; fi
}

quiet() { "$@" >/dev/null; }

# start_server PORT BUNDLE LOG [WRAPPER...]: `serve -v` of $inv's master-01 on 127.0.0.1:PORT (through the
# testing-only $CLUSTERBOOT_JOIN_LISTEN) with BUNDLE, run under WRAPPER (e.g. prlimit), logging to LOG, with
# its own empty --root (where /v1/cluster-state looks: nothing held); returns once it says it serves.
start_server() {
        local port=$1 bundle=$2 log=$3
        shift 3
        mkdir -p "$work/root-$port"
        CLUSTERBOOT_JOIN_LISTEN=127.0.0.1:$port "$@" "$cb" serve -v --inventory "$inv" --node master-01 \
                --secrets "$bundle" --root "$work/root-$port" 2>"$log" &
        pids+=($!)
        for _ in $(seq 1 100); do
                grep -q "join: serving" "$log" 2>/dev/null && return 0
                kill -0 "${pids[-1]}" 2>/dev/null || return 1
                sleep 0.1
        done
        return 1
}

# stop_servers: SIGTERM to every server started; a TAP point that all stopped with status 0 (under ASan that
# also checks for leaks).
stop_servers() {
        local p rc=0
        for p in "${pids[@]}"; do kill -TERM "$p"; done
        for p in "${pids[@]}"; do wait "$p" || rc=$?; done
        pids=()
        check "the servers stop on SIGTERM with status 0" test "$rc" = 0
        return "$rc"
}
