#!/usr/bin/env bash
# bench/pki/clusterboot-once.sh -- one timed run of clusterboot (called by bench/pki/run).
#
# Usage: clusterboot-once.sh BIN INVENTORY OUT NODE...
# Makes the secrets bundle OUT/B (secrets init), then every node's certificates, keys and
# kubeconfigs under OUT/R_NODE (pki node). OUT must not exist or be empty.
set -euo pipefail
bin=$1 inv=$2 out=$3; shift 3

"$bin" secrets init --inventory "$inv" --out "$out/B" >/dev/null
for node; do
    # Each node's tree has the groups its packages make (mosquitto's, for the broker's key).
    mkdir -p "$out/R_$node/etc"
    echo "mosquitto:x:$(id -g):" > "$out/R_$node/etc/group"
    "$bin" pki node --inventory "$inv" --node "$node" --secrets "$out/B" --root "$out/R_$node" >/dev/null
done
