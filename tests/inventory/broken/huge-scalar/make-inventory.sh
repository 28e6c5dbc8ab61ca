#!/bin/sh
# Writes an inventory into the directory $1; its content cannot be committed as is.
set -eu
# A node's hardware.serial of 1 MiB.
cat > "$1/cluster.yaml" <<'EOF'
cluster:
  name: lab
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
mkdir -p "$1/nodes"
{
    printf 'node:\n  name: master-01\n  hardware:\n    serial: "'
    head -c 1048576 /dev/zero | tr '\0' 7
    printf '"\n'
} > "$1/nodes/master-01.yaml"
