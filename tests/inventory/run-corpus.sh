#!/usr/bin/env bash
# Runs `clusterboot validate` on every inventory of the corpus and prints TAP.
#
#   broken/NAME/inventory/      an invalid inventory (or broken/NAME/make-inventory.sh DIR, which writes one
#                               into DIR, for content that cannot be committed as is: huge or non-UTF-8)
#   broken/NAME/expected        the exact output (stdout and stderr) of `clusterboot validate --inventory .`
#                               run inside the inventory
#   broken/NAME/exit            the expected exit status, when it is not 1
#   broken/NAME/args            more arguments for validate (e.g. --output json)
#   valid/NAME/                 an inventory that must validate with --strict (no errors, no warnings)
#
# Usage: run-corpus.sh CLUSTERBOOT [CORPUS_DIR]   (UPDATE=1 rewrites the expected files: review the diff)
set -u
shopt -s nullglob
bin=$(realpath "$1")
corpus=$(realpath "${2:-$(dirname "$0")}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

for case in "$corpus"/broken/*/; do
    name=broken/$(basename "$case")
    inv=$tmp/$(basename "$case")
    mkdir -p "$inv"
    if [ -x "$case/make-inventory.sh" ]; then
        "$case/make-inventory.sh" "$inv"
    else
        cp -r "$case/inventory/." "$inv/"
    fi
    want_rc=$(cat "$case/exit" 2>/dev/null || echo 1)
    args=()
    [ -f "$case/args" ] && read -r -a args < "$case/args"
    out=$(cd "$inv" && "$bin" validate --inventory . "${args[@]}" 2>&1)
    rc=$?
    if [ "${UPDATE:-0}" = 1 ]; then
        printf '%s\n' "$out" > "$case/expected"
    fi
    if [ "$rc" != "$want_rc" ]; then
        not_ok "$name: exit status $rc, expected $want_rc"
        printf '%s\n' "$out" | sed 's/^/# /'
    elif ! diff -u "$case/expected" <(printf '%s\n' "$out") > "$tmp/diff"; then
        not_ok "$name: output differs"
        sed 's/^/# /' "$tmp/diff"
    else
        ok "$name"
    fi
done

for case in "$corpus"/valid/*/; do
    name=valid/$(basename "$case")
    out=$("$bin" validate --strict --inventory "$case" 2>&1)
    rc=$?
    if [ "$rc" = 0 ]; then
        ok "$name"
    else
        not_ok "$name: exit status $rc"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
done

echo "1..$n"
[ "$fail" = 0 ]
