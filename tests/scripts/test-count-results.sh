#!/usr/bin/env bash
# scripts/count-results.py, the closing line of scripts/run-tests.sh, on made-up meson test logs: a skipped
# point is never a pass, a whole skipped test never a failure, CLUSTERBOOT_REQUIRE_ALL=1 turns skips into
# failures but for those the user turned off (CLUSTERBOOT_HEAVY=0, FUZZ_SECONDS=0), and each skip is named
# with its reason.
# Usage: test-count-results.sh COUNT_RESULTS_PY
set -u
count=$(realpath "${1:?usage: test-count-results.sh COUNT_RESULTS_PY}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
expect() { # NAME PATTERN OUTPUT
    n=$((n + 1))
    if grep -qE -- "$2" <<<"$3"; then echo "ok $n - $1"; else
        fail=$((fail + 1)); echo "not ok $n - $1 (no line /$2/)"; sed 's/^/# /' <<<"$3"; fi
}
# test NAME SUITE RESULT TAP...: one line of meson's testlog.json
test_line() {
    local name=$1 suite=$2 result=$3
    shift 3
    # As meson 1.0 writes it: the suite only in the name, "PROJECT:SUITE / NAME".
    python3 -c 'import json, sys; print(json.dumps({"name": "clusterboot:" + sys.argv[2] + " / " + sys.argv[1],
        "result": sys.argv[3], "stdout": "\n".join(sys.argv[4:]) + "\n"}))' "$name" "$suite" "$result" "$@"
}
{
    test_line mixed unit OK "1..4" "ok 1 - a" "ok 2 - b # SKIP no ceph-osd" "ok 3 # skip no ceph-osd" "ok 4 - c"
    test_line broken unit FAIL "1..2" "ok 1 - a" "not ok 2 - b"
    test_line whole e2e SKIP "1..0 # SKIP systemd-nspawn cannot run a container here"
    test_line heavy kubernetes SKIP "1..0 # SKIP Kubernetes v1.29.1 is not built"
    test_line crash unit FAIL "1..1" "ok 1 - a"
    test_line plain cmd OK "no TAP here"
} >"$tmp/log.json"
printf 'ok release build\noptskip fuzz-inventory: the libFuzzer run (FUZZ_SECONDS=0)\n' >"$tmp/extra"

out=$(env -u CLUSTERBOOT_REQUIRE_ALL CLUSTERBOOT_HEAVY=0 python3 "$count" "$tmp/log.json" "$tmp/extra" 0)
rc=$?
# passed: mixed 2, broken 1, crash 1, plain 1, release 1; failed: broken 1, crash 1 (all points passed,
# the program failed); skipped: mixed 2 points, whole 1, heavy 1, fuzz 1.
expect "the closing line counts skipped points and skipped tests apart from passes and failures" \
    '^6 passed, 2 failed, 5 skipped$' "$(tail -n 1 <<<"$out")"
expect "each skip is named with its reason, points counted" '^skipped - clusterboot:unit / mixed \(2 points\): no ceph-osd$' "$out"
expect "a whole skipped test is named with the reason of its plan" \
    '^skipped - clusterboot:e2e / whole: systemd-nspawn cannot run a container here$' "$out"
expect "with CLUSTERBOOT_HEAVY=0 the heavy tier's skip says the user turned it off" \
    '^skipped - clusterboot:kubernetes / heavy: Kubernetes v1.29.1 is not built \[opt-out: CLUSTERBOOT_HEAVY=0\]$' "$out"
n=$((n + 1)); if [ "$rc" = 1 ]; then echo "ok $n - exit 1 when something failed"; else fail=$((fail + 1)); echo "not ok $n - exit 1 when something failed (got $rc)"; fi

out=$(CLUSTERBOOT_REQUIRE_ALL=1 CLUSTERBOOT_HEAVY=0 python3 "$count" "$tmp/log.json" "$tmp/extra" 0)
expect "CLUSTERBOOT_REQUIRE_ALL=1: a skip of a tier this machine must run is a failure; those turned off stay skips" \
    '^6 passed, 5 failed, 2 skipped$' "$(tail -n 1 <<<"$out")"
expect "... and says so, with the reason" \
    '^not ok - clusterboot:e2e / whole skipped, a failure with CLUSTERBOOT_REQUIRE_ALL=1: systemd-nspawn cannot run a container here$' "$out"
out=$(env -u CLUSTERBOOT_HEAVY CLUSTERBOOT_REQUIRE_ALL=1 python3 "$count" "$tmp/log.json" "$tmp/extra" 0)
expect "CLUSTERBOOT_HEAVY unset (on, the default): the heavy tier must run, its skip is a failure" \
    '^6 passed, 6 failed, 1 skipped$' "$(tail -n 1 <<<"$out")"

# A point skipped because Kubernetes was turned off (its reason names CLUSTERBOOT_HEAVY=0) is the user's.
test_line main-job e2e OK "1..2" "ok 1 - a" "ok 2 # SKIP Kubernetes is not in the image (CLUSTERBOOT_HEAVY=0)" >"$tmp/off.json"
: >"$tmp/none0"
out=$(CLUSTERBOOT_REQUIRE_ALL=1 CLUSTERBOOT_HEAVY=0 python3 "$count" "$tmp/off.json" "$tmp/none0" 0)
expect "CLUSTERBOOT_HEAVY=0: a point skipped for it in another suite is the user's, not a failure" \
    '^1 passed, 0 failed, 1 skipped$' "$(tail -n 1 <<<"$out")"

# All green, nothing skipped: exit 0; a meson failure that no point shows still fails the run.
test_line fine unit OK "1..1" "ok 1 - a" >"$tmp/green.json"
: >"$tmp/none"
out=$(python3 "$count" "$tmp/green.json" "$tmp/none" 0)
rc=$?
expect "a green run" '^1 passed, 0 failed, 0 skipped$' "$out"
n=$((n + 1)); if [ "$rc" = 0 ]; then echo "ok $n - ... exits 0"; else fail=$((fail + 1)); echo "not ok $n - ... exits 0 (got $rc)"; fi
out=$(python3 "$count" "$tmp/green.json" "$tmp/none" 1)
expect "meson failed but no point says so: one failure" '^1 passed, 1 failed, 0 skipped$' "$out"

echo "1..$n"
[ "$fail" = 0 ]
