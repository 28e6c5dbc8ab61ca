#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, as a user runs it: scripts/demo.sh on examples/homelab (one image built by `clusterboot
# image build`, booted as the five machines of the inventory in systemd-nspawn, the cluster assembling
# itself), with its checks from inside the machines turned into TAP points:
#   1     the demo's image was built and every machine became bootstrapped or joined
#   2-8   its checks: etcd, Ceph (every OSD up and in), CoreDNS, Mosquitto, Kafka (KRaft voters, a message
#         produced and consumed), Kubernetes (every node Ready; a pod reaching a pod on another node through
#         flannel, and the API's Service through the cluster DNS)
#   9     the demo exits 0
# The image carries every component of the lock: with CLUSTERBOOT_HEAVY=0 (Kubernetes and flannel not
# fetched) the two Kubernetes points are skipped, named. Needs root, systemd-nspawn, debootstrap (the
# demo's own preflight), and the components, which `clusterboot binaries fetch` makes once (the demo does).
#
# Usage: test-main-job.sh SOURCE_DIR
set -u
src=$1
plan=9
n=0
echo "1..$plan"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { # NAME [FILE]
    n=$((n + 1))
    echo "not ok $n - $1"
    [ -z "${2:-}" ] || [ ! -s "$2" ] || tail -n 40 "$2" | sed -e 's/\r//g' -e 's/^/#   /'
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

t0=$(date +%s)
(cd "$src" && DEMO_JSON="$work/demo.json" scripts/demo.sh) >"$work/demo.log" 2>&1
rc=$?
echo "# scripts/demo.sh: exit $rc after $(($(date +%s) - t0)) s"
grep -E '^  (image: |\[[0-9]+/[0-9]+\] )|assembled|not every machine|^  (ok|FAILED)  |not checked' "$work/demo.log" | sed 's/^/# /'

if [ -s "$work/demo.json" ] && python3 -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["ready"])' "$work/demo.json"; then
    ok "the main job: one image of examples/homelab, five machines booted from it, each bootstrapped or joined in $(
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$work/demo.json") s"
else
    not_ok "the main job: one image of examples/homelab, five machines booted from it, each bootstrapped or joined" "$work/demo.log"
fi

# Its checks, in the order the demo runs them; each a point, found by its name's first word.
want=(etcd ceph dns mqtt kafka "kubernetes: every node" "kubernetes: a pod")
for w in "${want[@]}"; do
    line=$(python3 - "$work/demo.json" "$w" <<'EOF' 2>/dev/null
import json, sys
for c in json.load(open(sys.argv[1])).get("checks", []):
    if c["name"].startswith(sys.argv[2]):
        print(("ok " if c["ok"] else "bad ") + c["name"])
        break
EOF
)
    case $line in
    "ok "*) ok "the main job's check: ${line#ok }" ;;
    "bad "*)
        # The check's own lines from the demo's output, for the diagnostics.
        awk -v name="${line#bad }" 'index($0, "FAILED  " name) { p = 1; print; next } p && /^          \|/ { print; next } p { exit }' \
            "$work/demo.log" >"$work/check.txt"
        not_ok "the main job's check: ${line#bad }" "$work/check.txt"
        ;;
    *)
        if [[ $w == kubernetes* ]] && grep -q 'not checked: .*kubernetes' "$work/demo.log"; then
            skip "the main job's check '$w...': Kubernetes is not in the image (CLUSTERBOOT_HEAVY=0)"
        else
            not_ok "the main job's check '$w...' ran" "$work/demo.log"
        fi
        ;;
    esac
done

if [ "$rc" = 0 ]; then ok "scripts/demo.sh exits 0"; else not_ok "scripts/demo.sh exits 0 (exit $rc)" "$work/demo.log"; fi
