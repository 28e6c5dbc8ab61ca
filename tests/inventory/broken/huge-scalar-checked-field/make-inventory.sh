#!/bin/sh
# Writes an inventory into the directory $1; its content cannot be committed as is.
set -eu
# A cluster name of 1 MiB: one error (too long), not a second one about its form.
{
    printf 'cluster:\n  name: '
    head -c 1048576 /dev/zero | tr '\0' a
    printf '\n'
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
