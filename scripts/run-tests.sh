#!/usr/bin/env bash
# Installs, fetches or builds the test dependencies, builds with AddressSanitizer and
# UndefinedBehaviorSanitizer, runs every test, runs the fuzzer for a bounded time, and ends with one line
# "N passed, N failed, N skipped" (N counts TAP test points; a whole test that skips counts once). Above
# it, each skip is named with its reason.
#   FUZZ_SECONDS=0 scripts/run-tests.sh           skips the libFuzzer run
#   CLUSTERBOOT_HEAVY=0 scripts/run-tests.sh      without Kubernetes and flannel (not built: ~10-20 min less
#                                                 the first time); their tiers and points are skipped
#   CLUSTERBOOT_REQUIRE_ALL=1 scripts/run-tests.sh  a skip is a failure, but for those the user turned off
#                                                 (CLUSTERBOOT_HEAVY=0, FUZZ_SECONDS=0): what
#                                                 .ci/run sets, so that a missing install step cannot hide
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${FUZZ_SECONDS:-60}
# Every component, Kubernetes included: the tiers that boot it (kubernetes, e2e/main-job) run by default.
export CLUSTERBOOT_HEAVY=${CLUSTERBOOT_HEAVY:-1}
t_start=$SECONDS

scripts/setup-deps.sh --tests || exit 1

# Results besides meson's, one per line: "ok NAME", "not ok NAME", "skip NAME: REASON", "optskip NAME: REASON"
# (optskip: skipped because the user opted out, never a failure).
extra=$(mktemp)
trap 'rm -f "$extra"' EXIT

# The optimizer finds warnings (maybe-uninitialized) that -O0 does not: the release build must compile too.
# It is also the clusterboot that tests/image puts into the images it boots: the binary that builds an
# image is the one its machines run, and those have no sanitizer runtimes.
if [ ! -d build-release ]; then
    meson setup build-release --buildtype=release >/dev/null || exit 1
fi
if ninja -C build-release >/dev/null; then
    echo "ok - release build (-O3, -Werror) compiles"
    echo "ok release build" >>"$extra"
    export CLUSTERBOOT_IMAGE_BINARY=$PWD/build-release/clusterboot
else
    ninja -C build-release | tail -20
    echo "not ok - release build (-O3, -Werror) compiles"
    echo "not ok release build" >>"$extra"
fi

# The components the tiers run (image/components.lock), fetched by `clusterboot binaries fetch` -- the
# release build's, made above -- before the tiers that use them, with a line each, outside meson's per-test
# timeouts. The tiers fetch the same way (a no-op once there), so none depends on the order the tests run in.
components=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}
echo "components (cache: $components; a first run fetches or builds them):"
dep() { # NAME WHAT
    local t0=$SECONDS log
    log=$(mktemp)
    echo "  $1: $2 ..."
    if [ -x "${CLUSTERBOOT_IMAGE_BINARY:-}" ] &&
        "$CLUSTERBOOT_IMAGE_BINARY" binaries fetch "$1" --components "$components" >"$log" 2>&1; then
        echo "  $(grep -E "^$1 " "$log" | tail -n 1) ($((SECONDS - t0)) s)"
    else
        echo "  $1: FAILED after $((SECONDS - t0)) s; the tiers that need it will say so:"
        tail -n 15 "$log" | sed 's/^/    /'
    fi
    rm -f "$log"
}
dep coredns "CoreDNS from the Go module proxy (~2-6 min the first time)"
dep kafka "Kafka from Maven Central (~1-2 min the first time)"
dep pause "the pause image, built from Kubernetes' pause.c (seconds)"
if [ "$CLUSTERBOOT_HEAVY" = 1 ]; then
    dep kubernetes "Kubernetes from the Go module proxy (~8-20 min the first time)"
    dep flannel "flannel from the Go module proxy (~2 min the first time)"
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

if [ ! -d build-test ]; then
    meson setup build-test -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-test || exit 1
meson test -C build-test --print-errorlogs
meson_rc=$?


# fuzz NAME TARGET SECONDS SEED_DIR...: one libFuzzer target of build-fuzz for a bounded time, from its seeds
# (the files of each folder but README.md); a point "ok NAME" or "not ok NAME".
fuzz() {
    local name=$1 target=build-fuzz/$2 seconds=$3 corpus seeds d
    shift 3
    corpus=$(mktemp -d)
    seeds=$(mktemp -d)
    for d in "$@"; do find "$d" -type f ! -name README.md -exec cp {} "$seeds" \; ; done
    echo "$name: libFuzzer for ${seconds}s"
    if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/ \
            "$corpus" "$seeds" 2>"build-fuzz/$name.log"; then
        echo "ok $name" >>"$extra"
        grep -E '^Done [0-9]+ runs' "build-fuzz/$name.log" || true
    else
        echo "not ok $name" >>"$extra"
        tail -60 "build-fuzz/$name.log"
        echo "$name: a crash input is in build-fuzz/; add it to the target's seeds (tests/fuzz/regressions/ for the inventory)"
    fi
    rm -rf "$corpus" "$seeds"
}

# Every parser of outside input under libFuzzer: the inventory for $FUZZ_SECONDS; the join request, etcd's
# answers and Kubernetes' (kubeconfigs, Nodes) for half as long each, the Ceph tools' answers (small: three
# fields of JSON) for a quarter (their seeds are replayed in every build).
fuzz_names="fuzz-inventory fuzz-join-request fuzz-etcd-answer fuzz-kube-answer fuzz-ceph-answer"
if [ "$fuzz_seconds" -le 0 ]; then
    for f in $fuzz_names; do echo "optskip $f: the libFuzzer run (FUZZ_SECONDS=0)" >>"$extra"; done
elif ! command -v clang >/dev/null; then
    echo "fuzz: clang not found, libFuzzer runs skipped"
    for f in $fuzz_names; do
        echo "skip $f: clang not found (scripts/setup-deps.sh --tests installs it)" >>"$extra"
    done
else
    if [ ! -d build-fuzz ]; then
        # -O2: 1.7x the executions of -O0 in the same time (fuzz-inventory: 1,526/s against 892/s).
        CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
            --buildtype=debugoptimized >/dev/null
    fi
    if ninja -C build-fuzz tests/fuzz/fuzz-inventory tests/fuzz/fuzz-inventory-corpus tests/join/fuzz-join-request \
            tests/cluster/fuzz-etcd-answer tests/cluster/fuzz-kube-answer tests/cluster/fuzz-ceph-answer >build-fuzz.log 2>&1; then
        fuzz fuzz-inventory tests/fuzz/fuzz-inventory "$fuzz_seconds" build-fuzz/tests/fuzz/fuzz-inventory-corpus \
            tests/fuzz/regressions
        fuzz fuzz-join-request tests/join/fuzz-join-request $(((fuzz_seconds + 1) / 2)) tests/join/corpus
        fuzz fuzz-etcd-answer tests/cluster/fuzz-etcd-answer $(((fuzz_seconds + 1) / 2)) tests/cluster/answers
        fuzz fuzz-kube-answer tests/cluster/fuzz-kube-answer $(((fuzz_seconds + 1) / 2)) tests/cluster/kube-answers
        fuzz fuzz-ceph-answer tests/cluster/fuzz-ceph-answer $(((fuzz_seconds + 3) / 4)) tests/cluster/ceph-answers
    else
        grep -E 'error' build-fuzz.log | head -20
        echo "not ok - fuzz: the libFuzzer build failed"
        for f in $fuzz_names; do echo "not ok $f (the libFuzzer build failed)" >>"$extra"; done
    fi
    rm -f build-fuzz.log
fi

echo "took $(((SECONDS - t_start) / 60)) min $(((SECONDS - t_start) % 60)) s"
python3 scripts/count-results.py build-test/meson-logs/testlog.json "$extra" "$meson_rc"
