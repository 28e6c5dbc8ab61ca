#!/usr/bin/env bash
# bench/pki/seeds-once.sh -- one timed run of the seeds' scripts (called by bench/pki/run).
#
# Usage: seeds-once.sh MODE SCRIPTS CFGROOT OUT NODE...
#   MODE     ns: each node's generate-node-certs.sh runs verbatim in its own mount
#               namespace (unshare -m) with overlays on /etc, /var/lib and /tmp whose upper
#               layers are OUT/nodes/NODE/{etc,var/lib,tmp} -- the script writes its real
#               absolute paths, the host is untouched;
#            rewrite: SCRIPTS/rewrite/generate-node-certs.sh, where only the prefixes
#               /etc/kubernetes/pki, /var/lib/kubelet/pki and /tmp/ were redirected under
#               $SEED_ROOT=OUT/nodes/NODE (no root needed).
#   SCRIPTS  the extracted seed scripts (extract-seed-scripts.sh)
#   CFGROOT  CFGROOT/NODE is that node's /etc/cluster-config (inventory, node-identity,
#            current-node.yaml), passed as CONFIG_DIR -- the script's own knob
#   OUT      must not exist or be empty: OUT/build/certs gets generate-build-certs.sh's
#            output, OUT/nodes/NODE/ each node's files
# What a node finds in /etc/kubernetes/pki before its script runs is what the image
# carries: a copy of the build script's certs/kubernetes/pki (the seeds' ISO builder
# step). The scripts' stdout is discarded; their stderr is kept.
set -euo pipefail
mode=$1 scripts=$2 cfgroot=$3 out=$4; shift 4
certs=$out/build/certs

bash "$scripts/generate-build-certs.sh" "$certs" >/dev/null

for node; do
    r=$out/nodes/$node
    mkdir -p "$r/etc" "$r/var/lib" "$r/tmp"
    case $mode in
    ns)
        mkdir -p "$r/.work/etc" "$r/.work/varlib" "$r/.work/tmp"
        CONFIG_DIR=$cfgroot/$node unshare -m -- bash -c '
            set -e
            r=$1 certs=$2 script=$3
            mount -t overlay overlay -o "lowerdir=/etc,upperdir=$r/etc,workdir=$r/.work/etc" /etc
            mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$r/var/lib,workdir=$r/.work/varlib" /var/lib
            mount -t overlay overlay -o "lowerdir=/tmp,upperdir=$r/tmp,workdir=$r/.work/tmp" /tmp
            mkdir -p /etc/kubernetes/pki
            cp -a "$certs/kubernetes/pki/." /etc/kubernetes/pki/
            exec bash "$script"' ns-node "$r" "$certs" "$scripts/generate-node-certs.sh" >/dev/null
        ;;
    rewrite)
        mkdir -p "$r/etc/kubernetes/pki"
        cp -a "$certs/kubernetes/pki/." "$r/etc/kubernetes/pki/"
        SEED_ROOT=$r CONFIG_DIR=$cfgroot/$node \
            bash "$scripts/rewrite/generate-node-certs.sh" >/dev/null
        ;;
    *) echo "seeds-once.sh: unknown mode $mode" >&2; exit 2 ;;
    esac
done
