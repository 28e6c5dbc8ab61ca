#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, as a user runs it: scripts/demo.sh (one image built by `clusterboot image build`, booted as
# the machines of the inventory in systemd-nspawn, the cluster assembling itself), with its checks from
# inside the machines turned into TAP points. Twice: on examples/homelab (the bundled example, five
# machines), and through INVENTORY= on tests/e2e/inventories/edge, an inventory of a user's own (three
# machines; other NIC names, CIDRs, hostnames, ports and MQTT users). For each, eleven points:
#   1     the demo's image was built and every machine became bootstrapped or joined
#   2-10  its checks, by their DEMO_JSON names: kubernetes-nodes-ready, pods-on-every-node,
#         pod-to-pod-across-nodes, cluster-dns, ceph-health-ok, kafka-round-trip, mqtt-tls-round-trip,
#         node-names-resolve, no-secret-in-logs (none of the cluster's secrets in the machines' consoles and
#         journals, nor in the checks' outputs)
#   11    the demo exits 0 (its etcd check too)
# The image carries every component of the lock: with CLUSTERBOOT_HEAVY=0 (Kubernetes and flannel not
# fetched) the two Kubernetes points are skipped, named. Needs root, systemd-nspawn, debootstrap (the
# demo's own preflight), and the components, which `clusterboot binaries fetch` makes once (the demo does).
#
# Usage: test-main-job.sh SOURCE_DIR
set -u
src=$1
plan=22
n=0
echo "1..$plan"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { # NAME [FILE]: on stdout (TAP) and on stderr, which is what a CI log shows of a failed test
    n=$((n + 1))
    {
        echo "not ok $n - $1"
        [ -z "${2:-}" ] || [ ! -s "$2" ] || tail -n 40 "$2" | sed -e 's/\r//g' -e 's/^/#   /'
    } | tee /dev/stderr
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
skip_rest() {
    while [ "$n" -lt "$plan" ]; do skip "$1"; done
    exit 0
}

[ "$(id -u)" = 0 ] || skip_rest "needs root (containers, network namespaces)"
command -v systemd-nspawn >/dev/null || skip_rest "systemd-nspawn is not installed (systemd-container)"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/cb-main-job.XXXXXX") || skip_rest "no work folder"
trap 'rm -rf "$work"' EXIT

# main_job INVENTORY WHAT: the demo on INVENTORY (relative to the source folder), its eleven points.
main_job() {
    local inv=$1 what=$2 log=$work/demo-${1##*/}.log json=$work/demo-${1##*/}.json t0 rc key state title
    t0=$(date +%s)
    (cd "$src" && INVENTORY=$inv DEMO_JSON=$json scripts/demo.sh) >"$log" 2>&1
    rc=$?
    echo "# INVENTORY=$inv scripts/demo.sh: exit $rc after $(($(date +%s) - t0)) s"
    grep -E '^  (image: |\[[0-9]+/[0-9]+\] )|assembled|not every machine|^  (✔|✘) |not checked|^      \| none of [0-9]+ secrets' "$log" |
        sed 's/^/# /'

    if [ -s "$json" ] && python3 -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["ready"])' "$json"; then
        ok "the main job: one image of $what, each machine booted from it bootstrapped or joined in $(
            python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$json") s"
    else
        not_ok "the main job: one image of $what, each machine booted from it bootstrapped or joined" "$log"
    fi

    # Its checks, each a point.
    for key in kubernetes-nodes-ready pods-on-every-node pod-to-pod-across-nodes cluster-dns ceph-health-ok \
        kafka-round-trip mqtt-tls-round-trip node-names-resolve no-secret-in-logs; do
        state=$(python3 -c 'import json, sys; c = json.load(open(sys.argv[1])).get("checks", {}); print({True: "ok", False: "bad"}.get(c.get(sys.argv[2]), "none"))' \
            "$json" "$key" 2>/dev/null)
        title=$(grep -m1 -E "^  (✔|✘) $key: " "$log" | sed -E 's/^  (✔|✘) //')
        case $state in
        ok) ok "$inv: the main job's check $title" ;;
        bad)
            # The check's own lines from the demo's output, for the diagnostics.
            awk -v key="$key" 'index($0, "✘ " key ": ") { p = 1; print; next } p && /^      \|/ { print; next } p { exit }' \
                "$log" >"$work/check.txt"
            not_ok "$inv: the main job's check $title" "$work/check.txt"
            ;;
        *)
            if [[ $key != ceph-* && $key != kafka-* && $key != mqtt-* && $key != node-* ]] &&
                grep -q 'not checked: .*kubernetes' "$log"; then
                skip "$inv: the main job's check $key: Kubernetes is not in the image (CLUSTERBOOT_HEAVY=0)"
            else
                not_ok "$inv: the main job's check $key ran" "$log"
            fi
            ;;
        esac
    done

    if [ "$rc" = 0 ]; then ok "$inv: scripts/demo.sh exits 0"; else not_ok "$inv: scripts/demo.sh exits 0 (exit $rc)" "$log"; fi
}

main_job examples/homelab "examples/homelab (five machines)"
main_job tests/e2e/inventories/edge "tests/e2e/inventories/edge, not a bundled example (three machines)"
