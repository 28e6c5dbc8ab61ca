#!/bin/sh
# Writes an inventory into the directory $1; its content cannot be committed as is.
set -eu
# cluster.yaml starts with a UTF-8 byte order mark, as some editors write it; YAML allows it.
{
    printf '\357\273\277'
    cat <<'EOF'
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
} > "$1/cluster.yaml"
