#!/usr/bin/env bash
# Builds the seed corpus of fuzz-inventory from the example inventories: each example becomes one input, its
# files joined by NUL bytes in the order fuzz-inventory.c expects (missing files are empty).
set -eu
examples=$1
out=$2
mkdir -p "$out"
for ex in "$examples"/*/; do
    name=$(basename "$ex")
    nodes=("$ex"nodes/*.yaml)
    {
        cat "$ex/cluster.yaml"; printf '\0'
        cat "${nodes[0]}" 2>/dev/null || true; printf '\0'
        cat "${nodes[1]}" 2>/dev/null || true; printf '\0'
        for s in kubernetes ceph kafka mqtt dns; do
            cat "$ex/services/$s.yaml" 2>/dev/null || true; printf '\0'
        done
    } > "$out/$name"
done
