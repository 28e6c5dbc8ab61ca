#!/usr/bin/env bash
# Installs, builds with AddressSanitizer and UndefinedBehaviorSanitizer, runs every test, runs the fuzzer
# for a bounded time, and ends with one line "N passed, N failed" (N counts TAP test points).
#   FUZZ_SECONDS=0 scripts/run-tests.sh   skips the libFuzzer run
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${FUZZ_SECONDS:-60}

scripts/setup-deps.sh --tests || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

if [ ! -d build-test ]; then
    meson setup build-test -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-test || exit 1
meson test -C build-test --print-errorlogs
meson_rc=$?

# The optimizer finds warnings (maybe-uninitialized) that -O0 does not: the release build must compile too.
extra_passed=0
extra_failed=0
if [ ! -d build-release ]; then
    meson setup build-release --buildtype=release >/dev/null || exit 1
fi
if ninja -C build-release >/dev/null; then
    echo "ok - release build (-O3, -Werror) compiles"
    extra_passed=$((extra_passed + 1))
else
    ninja -C build-release | tail -20
    echo "not ok - release build (-O3, -Werror) compiles"
    extra_failed=$((extra_failed + 1))
fi

fuzz_passed=0
fuzz_failed=0
if [ "$fuzz_seconds" -gt 0 ]; then
    if command -v clang >/dev/null; then
        if [ ! -d build-fuzz ]; then
            CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
        fi
        if ninja -C build-fuzz tests/fuzz/fuzz-inventory tests/fuzz/fuzz-inventory-corpus >/dev/null; then
            corpus=$(mktemp -d)
            echo "fuzz-inventory: libFuzzer for ${fuzz_seconds}s"
            # libFuzzer reads every file of a seed folder: give it the regressions without their README.
            seeds=$(mktemp -d)
            find tests/fuzz/regressions -type f ! -name README.md -exec cp {} "$seeds" \;
            if build-fuzz/tests/fuzz/fuzz-inventory -max_total_time="$fuzz_seconds" -timeout=10 \
                    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/ "$corpus" \
                    build-fuzz/tests/fuzz/fuzz-inventory-corpus "$seeds" 2>build-fuzz/fuzz.log; then
                fuzz_passed=1
                grep -E '^Done [0-9]+ runs' build-fuzz/fuzz.log || true
            else
                fuzz_failed=1
                tail -60 build-fuzz/fuzz.log
                echo "fuzz-inventory: a crash input is in build-fuzz/; copy it to tests/fuzz/regressions/"
            fi
            rm -rf "$corpus" "$seeds"
        else
            ninja -C build-fuzz tests/fuzz/fuzz-inventory | grep -E 'error' | head -20
            echo "not ok - fuzz-inventory: the libFuzzer build failed"
            fuzz_failed=1
        fi
    else
        echo "fuzz-inventory: clang not found, libFuzzer run skipped"
    fi
fi

python3 - "$((fuzz_passed + extra_passed))" "$((fuzz_failed + extra_failed))" "$meson_rc" <<'PY'
import json, re, sys
passed, failed = int(sys.argv[1]), int(sys.argv[2])
meson_rc = int(sys.argv[3])
with open("build-test/meson-logs/testlog.json") as f:
    for line in f:
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+", out, re.M))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        if ok + bad == 0:  # not a TAP test, or it died before its first line
            ok, bad = (1, 0) if t["result"] == "OK" else (0, 1)
        elif t["result"] not in ("OK", "SKIP") and bad == 0:
            bad = 1  # all points passed but the program failed (a sanitizer report at exit, a crash)
        passed += ok
        failed += bad
if meson_rc != 0 and failed == 0:
    failed = 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
