#!/usr/bin/env bash
# Builds the seed corpus of fuzz-inventory from inventories: the examples and the test corpus. Each becomes
# one input, its files joined by NUL bytes in the order fuzz-inventory.c expects (missing files are empty).
# Usage: make-corpus.sh OUT EXAMPLES_DIR TESTS_INVENTORY_DIR
set -eu
shopt -s nullglob
out=$1
examples=$2
corpus=$3
rm -rf "$out"
mkdir -p "$out"

add() {
    local dir=$1 name=$2
    local nodes=("$dir"/nodes/*.yaml)
    {
        cat "$dir/cluster.yaml" 2>/dev/null || true; printf '\0'
        cat "${nodes[0]:-/dev/null}"; printf '\0'
        cat "${nodes[1]:-/dev/null}"; printf '\0'
        for s in kubernetes ceph kafka mqtt dns; do
            cat "$dir/services/$s.yaml" 2>/dev/null || true; printf '\0'
        done
    } > "$out/$name"
}

for d in "$examples"/*/; do add "$d" "example-$(basename "$d")"; done
for d in "$corpus"/broken/*/inventory/; do add "$d" "broken-$(basename "$(dirname "$d")")"; done
for d in "$corpus"/valid/*/; do add "$d" "valid-$(basename "$d")"; done
