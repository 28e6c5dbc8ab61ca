#!/usr/bin/env bash
# tests/scripts/no-secret-in.sh, the secret point of the shell tiers, on a made-up bundle: what it looks
# for (the join secret, the bootstrap token, cephx keys, MQTT passwords, a private key's first line), that a
# hit names file and line but never shows the secret (one file given, as several), and that a folder with no
# secret in it is a usage error, not a pass.
# Usage: test-no-secret-in.sh NO_SECRET_IN
set -u
script=$(realpath "${1:?usage: test-no-secret-in.sh NO_SECRET_IN}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
point() { # NAME WANT_RC PATTERN [--not PATTERN] -- ARG...
    local name=$1 want=$2 pattern=$3 unwanted= out rc
    shift 3
    [ "$1" = --not ] && { unwanted=$2; shift 2; }
    shift
    out=$("$script" "$@" 2>&1)
    rc=$?
    n=$((n + 1))
    if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out" && { [ -z "$unwanted" ] || ! grep -qF -- "$unwanted" <<<"$out"; }; then
        echo "ok $n - $name"
    else
        fail=$((fail + 1))
        echo "not ok $n - $name (exit $rc, expected $want and /$pattern/)"
        sed 's/^/# /' <<<"$out"
    fi
}

b=$tmp/bundle
mkdir -p "$b/ceph" "$b/mqtt" "$b/kubernetes" "$tmp/logs" "$tmp/empty"
join=3f1c0a9e5b7d2c4e6f8a0b1c2d3e4f5a69788796a5b4c3d2e1f0a9b8c7d6e5f4
echo "$join" >"$b/join-secret"
echo "abcdef.0123456789abcdef" >"$b/bootstrap-token"
printf '[client.admin]\n\tkey = AQBcY0RnAAAAABAAx0m7cPZg9m1Z1J3m0Qy1Qw==\n' >"$b/ceph/admin.keyring"
printf 'sensor-1:Zq8vN2pL4xR7tK9w\n' >"$b/mqtt/credentials"
printf -- '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7Vq3r1k2\n-----END PRIVATE KEY-----\n' \
    >"$b/kubernetes/ca.key"
printf 'started\nnothing to see\n' >"$tmp/logs/clean.log"

point "clean logs: exit 0, how many secrets in how many files" 0 "^none of 5 secrets in 1 files$" -- \
    "$b" "$tmp/logs"
printf 'a line\njoining with %s now\n' "$join" >"$tmp/one.log"
point "the join secret in one file given alone: exit 1, FILE:LINE and which secret, never the secret" 1 \
    "one.log:2: the join secret" --not "$join" -- "$b" "$tmp/one.log"
printf 'key=AQBcY0RnAAAAABAAx0m7cPZg9m1Z1J3m0Qy1Qw==\n' >"$tmp/logs/ceph.log"
printf 'pw Zq8vN2pL4xR7tK9w\n' >"$tmp/logs/mqtt.log"
printf 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7Vq3r1k2\n' >"$tmp/logs/key.log"
printf 'token abcdef.0123456789abcdef\n' >"$tmp/logs/token.log"
out=$("$script" "$b" "$tmp/logs" 2>&1)
n=$((n + 1))
if grep -q "ceph.log:1: the cephx key of admin.keyring" <<<"$out" && grep -q "mqtt.log:1: the MQTT password of sensor-1" <<<"$out" &&
    grep -q "key.log:1: the private key kubernetes/ca.key" <<<"$out" && grep -q "token.log:1: the bootstrap token" <<<"$out" &&
    grep -q "^4 lines hold secrets" <<<"$out"; then
    echo "ok $n - a cephx key, an MQTT password, a private key's first line and the bootstrap token, each named"
else
    fail=$((fail + 1)); echo "not ok $n - a cephx key, an MQTT password, a private key's first line and the bootstrap token, each named"
    sed 's/^/# /' <<<"$out"
fi
point "a folder that holds no secret (a wrong path) is a usage error, not a pass" 2 "holds no secret to look for" -- \
    "$tmp/empty" "$tmp/logs/clean.log"

echo "1..$n"
[ "$fail" = 0 ]
