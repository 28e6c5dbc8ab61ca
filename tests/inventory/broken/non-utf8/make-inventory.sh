#!/bin/sh
# Writes an inventory into the directory $1; its content cannot be committed as is.
set -eu
# The cluster name holds a Latin-1 e-acute (byte 0xE9), not UTF-8.
{
    printf 'cluster:\n  name: caf\351\n'
    cat <<'EOF'
  networking:
    node_cidr: 192.168.1.0/24
    gateway: 192.168.1.1
    pod_cidr: 10.244.0.0/16
    service_cidr: 10.96.0.0/12
  services: [kubernetes]
nodes:
  - name: master-01
    ip: 192.168.1.10
    roles: [master]
EOF
} > "$1/cluster.yaml"
