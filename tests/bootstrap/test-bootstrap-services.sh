#!/usr/bin/env bash
# The once-before-first-start work of the service stages, with the real programs:
#   ceph-mon  `clusterboot bootstrap --stage ceph-mon` makes the monitor's store with ceph-mon --mkfs from
#             the rendered ceph.conf and keyring (examples/homelab's storage-01); the real ceph-mon then
#             starts on it in a network namespace holding the node's address, `ceph -s` answers, and the
#             stage's health gate says so. A second run changes nothing; a half-made store of a run that
#             died (killed right after the work) is made again.
#   ceph-mgr  the stage makes the manager's keyring (ceph auth get-or-create mgr.storage-01 as client.admin,
#             after a kill -9 right after its work and over a half-written keyring.new); its gate waits
#             until the real ceph-mgr, started on that keyring, is active and `ceph -s` shows it. A second
#             run changes nothing. Skipped when ceph-mgr is not installed.
#   kafka     the stage's decisions on the log directory (under --root it never formats: that needs the
#             live node): not formatted, formatted for this cluster, another cluster's meta.properties
#             (refused, exit 1, with the reason).
#
# Usage: test-bootstrap-services.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/homelab
# shellcheck source=../pki-e2e/lib.sh
. "$(dirname "$0")/../pki-e2e/lib.sh"

need ip ceph-mon ceph timeout

node=storage-01
addr=192.168.1.14
root=$work/root
conf=$root/etc/ceph/ceph.conf
mon=$root/var/lib/ceph/mon/ceph-$node
run=$work/run
mkdir -p "$run"

check "secrets init, pki node and render for $node" "$work/prep.log" bash -c \
        "'$cb' secrets init --inventory '$inv' --out '$work/bundle' &&
         '$cb' pki node --inventory '$inv' --node $node --secrets '$work/bundle' --root '$root' &&
         '$cb' render --inventory '$inv' --node $node --root '$root' --secrets '$work/bundle'"

mns=${tag}mon
peer=${tag}peer
if { ns_add "$mns" && ns_add "$peer" && ip -n "$mns" link add eth0 type veth peer name eth0 netns "$peer" &&
        ip -n "$mns" addr add "$addr/24" dev eth0 && ip -n "$mns" link set eth0 up &&
        ip -n "$peer" link set eth0 up; } 2>"$work/net.log"; then
        ok "namespace $mns holds $addr/24"
else
        not_ok "network namespace" "$work/net.log"
        finish
fi

# stage NAME [ARGS]: in the monitor's namespace; output in stage-NAME.log; exit status returned.
stage() {
        local s=$1
        shift
        ip netns exec "$mns" "$cb" bootstrap --inventory "$inv" --node "$node" --root "$root" --stage "$s" "$@" \
                >"$work/stage-$s.log" 2>&1
}

# --- a crash right after the work: the next run starts again from nothing half made ---
(CLUSTERBOOT_TEST_KILL_AT=ceph-mon:after-run stage ceph-mon --retry-timeout 0) 2>/dev/null # bash reports the kill
rc=$?
if [ "$rc" = 137 ] && [ -d "$mon" ]; then ok "killed (SIGKILL) right after ceph-mon --mkfs: the store is in place"; else
        not_ok "killed (SIGKILL) right after ceph-mon --mkfs (exit $rc)" "$work/stage-ceph-mon.log"
fi
rm -rf "$mon" && mkdir -p "$mon.mkfs" && echo half >"$mon.mkfs/store.db"
stage ceph-mon --retry-timeout 0
# Not running yet: the gate says so (exit 75), but the store was made.
if grep -q "made the store of mon.$node" "$work/stage-ceph-mon.log" && [ -f "$mon/keyring" ] && [ ! -e "$mon.mkfs" ]; then
        ok "a half-made store of a run that died is made again (ceph-mon --mkfs)"
else
        not_ok "a half-made store of a run that died is made again" "$work/stage-ceph-mon.log"
fi
grep -q "ceph-mon is not healthy yet (port 3300" "$work/stage-ceph-mon.log" &&
        ok "... before the monitor runs, its gate says so, naming the service and port" ||
        not_ok "... before the monitor runs, its gate says so" "$work/stage-ceph-mon.log"

daemon=(--run-dir "$run" --admin-socket "$run/mon.asok" --pid-file "$run/mon.pid" --log-file "$work/mon.log"
        --mon-cluster-log-file "$work/cluster.log")
export CEPH_ARGS="--log-file=$work/client.log --admin-socket=$run/client.\$pid.asok"
ip netns exec "$mns" ceph-mon -f -i "$node" --mon-data "$mon" -c "$conf" "${daemon[@]}" >"$work/mon.out" 2>&1 &
mon_pid=$!
pids+=("$mon_pid")
status() {
        kill -0 "$mon_pid" 2>/dev/null || return 2
        ip netns exec "$mns" timeout 20 ceph -c "$conf" -k "$root/etc/ceph/ceph.client.admin.keyring" \
                -n client.admin --connect-timeout 10 -s >"$work/status.out" 2>&1
}
if wait_for 60 status; then ok "the real ceph-mon runs on the store the stage made: ceph -s answers"; else
        not_ok "ceph -s answers" "$work/mon.log" "$work/mon.out" "$work/status.out"
fi
grep -q "$(sed -n 's/^fsid *= *//p' "$conf")" "$work/status.out" &&
        ok "... with the rendered fsid" || not_ok "... with the rendered fsid" "$work/status.out"
stamp=$(stat -c %Y "$mon/keyring")
check "the stage again: the store exists, the gate passes (ceph-mon is healthy)" "$work/again.log" bash -c \
        "ip netns exec '$mns' '$cb' bootstrap --inventory '$inv' --node $node --root '$root' --stage ceph-mon \
                --retry-timeout 10 >'$work/again.out' 2>&1; cat '$work/again.out'; grep -q 'ceph-mon is healthy' '$work/again.out'"
check "... nothing was made again" "$work/same.log" test "$stamp" = "$(stat -c %Y "$mon/keyring")"

# --- ceph-mgr: the manager's keyring, then the real ceph-mgr on it ---
mgr=$root/var/lib/ceph/mgr/ceph-$node
admin() {
        ip netns exec "$mns" timeout 20 ceph -c "$conf" -k "$root/etc/ceph/ceph.client.admin.keyring" \
                -n client.admin --connect-timeout 10 "$@"
}
if have ceph-mgr; then
        # A run that died while writing the keyring left keyring.new; this one is killed right after its work.
        mkdir -p "$mgr" && echo half >"$mgr/keyring.new"
        (CLUSTERBOOT_TEST_KILL_AT=ceph-mgr:after-run stage ceph-mgr --retry-timeout 30) 2>/dev/null # bash reports the kill
        rc=$?
        admin auth get-key "mgr.$node" >"$work/mgr-key.out" 2>"$work/mgr-key.err"
        if [ "$rc" = 137 ] && [ "$(stat -c %a "$mgr/keyring" 2>/dev/null)" = 600 ] && [ ! -e "$mgr/keyring.new" ] &&
                grep -qx "\[mgr.$node\]" "$mgr/keyring" && [ -s "$work/mgr-key.out" ] &&
                [ "$(sed -n 's/^[[:space:]]*key = //p' "$mgr/keyring")" = "$(cat "$work/mgr-key.out")" ]; then
                ok "stage ceph-mgr (killed right after its work): keyring of mgr.$node in place, 0600, the key the monitors have"
        else
                not_ok "stage ceph-mgr: the keyring of mgr.$node (exit $rc)" "$work/stage-ceph-mgr.log" "$work/mgr-key.err"
        fi
        # Both runs of the stage below find it made.
        mgr_sum=$(sha256sum <"$mgr/keyring") mgr_stamp=$(stat -c %y "$mgr/keyring")
        admin auth get "mgr.$node" >"$work/mgr-caps.out" 2>&1
        grep -q 'caps mon = "allow profile mgr"' "$work/mgr-caps.out" && grep -q 'caps osd = "allow \*"' "$work/mgr-caps.out" &&
                grep -q 'caps mds = "allow \*"' "$work/mgr-caps.out" &&
                ok "... mgr.$node has Ceph's caps for a manager: mon 'allow profile mgr', osd and mds 'allow *'" ||
                not_ok "... the caps of mgr.$node" "$work/mgr-caps.out"
        stage ceph-mgr --retry-timeout 0
        rc=$?
        if [ "$rc" = 75 ] && grep -q "the keyring of mgr.$node exists" "$work/stage-ceph-mgr.log" &&
                grep -q "ceph-mgr is not healthy yet (no active mgr yet, waiting for mgr.$node)" "$work/stage-ceph-mgr.log"; then
                ok "... before the manager runs, its gate says so (exit 75), naming ceph-mgr and mgr.$node"
        else
                not_ok "... before the manager runs, its gate says so (exit $rc)" "$work/stage-ceph-mgr.log"
        fi
        t0=$(date +%s)
        ip netns exec "$mns" ceph-mgr -f -i "$node" --mgr-data "$mgr" -c "$conf" --keyring "$mgr/keyring" \
                --run-dir "$run" --admin-socket "$run/mgr.asok" --pid-file "$run/mgr.pid" --log-file "$work/mgr.log" \
                >"$work/mgr.out" 2>&1 &
        mgr_pid=$!
        pids+=("$mgr_pid")
        mgr_active() {
                kill -0 "$mgr_pid" 2>/dev/null || return 2
                # "(active, starting, since ...)" first: not yet.
                admin -s >"$work/status.out" 2>&1 && grep -q "mgr: $node(active, since" "$work/status.out"
        }
        if wait_for 120 mgr_active; then
                ok "the real ceph-mgr runs on that keyring: ceph -s says mgr: $node(active, since ...)"
                note "ceph-mgr active $(($(date +%s) - t0)) s after its start"
        else
                not_ok "ceph -s: mgr: $node(active" "$work/status.out" "$work/mgr.log" "$work/mgr.out"
        fi
        stage ceph-mgr --retry-timeout 30
        rc=$?
        if [ "$rc" = 0 ] && grep -q "the keyring of mgr.$node exists" "$work/stage-ceph-mgr.log" &&
                grep -q "ceph-mgr is healthy (mgr.$node is active)" "$work/stage-ceph-mgr.log"; then
                ok "the stage again: the keyring exists, the gate passes (mgr.$node is active)"
        else
                not_ok "the stage again: the gate passes (exit $rc)" "$work/stage-ceph-mgr.log"
        fi
        [ "$mgr_sum" = "$(sha256sum <"$mgr/keyring")" ] && [ "$mgr_stamp" = "$(stat -c %y "$mgr/keyring")" ] &&
                ok "... the two runs made nothing again: the keyring has the same content and mtime" ||
                not_ok "... nothing was made again: the keyring changed"
else
        for _ in 1 2 3 4 5 6; do skip "ceph-mgr is not installed"; done
fi

# --- ceph-osd: the node's devices (here: sparse files standing in for /dev/sdb and /dev/sdc under the
# root) made OSDs with the ids Ceph gives, recorded on the node, then run by the real ceph-osd ---
osd_record=$root/var/lib/cluster-state/ceph-osd/osds.json
wants=$root/etc/systemd/system/ceph-osd.target.wants
# recorded DEVICE: the id the node's record holds for DEVICE ("none" before Ceph answered, "" without one).
recorded() {
        python3 -c 'import json, sys
for o in json.load(open(sys.argv[1]))["osds"]:
    if o["device"] == sys.argv[2]:
        print(o.get("id", "none"))' "$osd_record" "$1" 2>/dev/null
}
if have ceph-osd; then
        mkdir -p "$root/dev" && truncate -s 4G "$root/dev/sdb" "$root/dev/sdc"
        # A disk that holds something else (here: an ext4 on /dev/sdc): refused, untouched, and no OSD made.
        mkfs.ext4 -q -F -L data "$root/dev/sdc"
        sdc_sum=$(sha256sum <"$root/dev/sdc")
        stage ceph-osd --retry-timeout 0
        rc=$?
        if [ "$rc" = 1 ] && grep -q "the OSD device /dev/sdc holds ext4, which Ceph did not make: it is never wiped; if what it holds may go, wipe it (wipefs -a /dev/sdc)" \
                "$work/stage-ceph-osd.log" && [ "$(sha256sum <"$root/dev/sdc")" = "$sdc_sum" ] && [ ! -e "$osd_record" ]; then
                ok "an OSD device holding an ext4: refused (exit 1) with the reason and the way out; the disk untouched, no OSD made"
        else
                not_ok "an OSD device holding an ext4: refused, untouched, no OSD made (exit $rc)" "$work/stage-ceph-osd.log"
        fi
        wipefs -q -a "$root/dev/sdc"
        # Killed when Ceph has answered osd.0's id and the node has not recorded it yet: the next run asks
        # again with the same uuid and key, and Ceph answers the same id (no second OSD in its map).
        (CLUSTERBOOT_TEST_KILL_AT=ceph-osd:after-osd-new stage ceph-osd --retry-timeout 30) 2>/dev/null # bash reports the kill
        rc=$?
        if [ "$rc" = 137 ] && [ "$(recorded /dev/sdb)" = none ] && admin osd ls >"$work/osd-ls.out" 2>"$work/osd-ls.err" &&
                [ "$(tr '\n' ' ' <"$work/osd-ls.out")" = "0 " ]; then
                ok "killed (SIGKILL) right after ceph osd new answered: Ceph has osd.0, the node's record has /dev/sdb's uuid and no id yet"
        else
                not_ok "killed right after ceph osd new (exit $rc, /dev/sdb: $(recorded /dev/sdb))" "$work/stage-ceph-osd.log" "$work/osd-ls.out"
        fi
        (CLUSTERBOOT_TEST_KILL_AT=ceph-osd:after-run stage ceph-osd --retry-timeout 30) 2>/dev/null
        stage ceph-osd --retry-timeout 0
        rc=$?
        admin osd ls >"$work/osd-ls.out" 2>"$work/osd-ls.err"
        if grep -q "osd.0 on /dev/sdb, osd.1 on /dev/sdc made (BlueStore)" "$work/stage-ceph-osd.log" &&
                [ -f "$root/var/lib/ceph/osd/ceph-0/ready" ] && [ -f "$root/var/lib/ceph/osd/ceph-1/ready" ] &&
                [ "$(tr '\n' ' ' <"$work/osd-ls.out")" = "0 1 " ]; then
                ok "stage ceph-osd (after those kills): osd.0 and osd.1 made, as Ceph numbered them; Ceph's map holds those two only"
        else
                not_ok "stage ceph-osd: osd.0 and osd.1 made" "$work/stage-ceph-osd.log" "$work/osd-ls.out"
        fi
        [ "$(recorded /dev/sdb)/$(recorded /dev/sdc)" = 0/1 ] && [ "$(stat -c %a "$osd_record")" = 644 ] &&
                [ "$(find "${osd_record%/*}" -name '*.key' -perm 0600 | wc -l)" = 2 ] &&
                [ -L "$wants/ceph-osd@0.service" ] && [ -L "$wants/ceph-osd@1.service" ] &&
                ok "... recorded on the node (/dev/sdb osd.0, /dev/sdc osd.1; each key 0600), each wanted by ceph-osd.target" ||
                not_ok "... recorded and wanted ($(recorded /dev/sdb)/$(recorded /dev/sdc))" "$osd_record"
        if [ "$rc" = 75 ] && grep -q "ceph-osd is not healthy yet (osd.0 does not answer on /run/ceph/ceph-osd.0.asok" \
                "$work/stage-ceph-osd.log"; then
                ok "... before the OSDs run, its gate says so (exit 75)"
        else
                not_ok "... before the OSDs run, its gate says so (exit $rc)" "$work/stage-ceph-osd.log"
        fi
        # The admin sockets where the units' daemons have them (the gate asks there).
        mkdir -p /run/ceph
        start_osd() {
                ip netns exec "$mns" ceph-osd -f -i "$1" --osd-data "$root/var/lib/ceph/osd/ceph-$1" -c "$conf" \
                        --keyring "$root/var/lib/ceph/osd/ceph-$1/keyring" --run-dir "$run" \
                        --admin-socket "/run/ceph/ceph-osd.$1.asok" --pid-file "$run/osd.$1.pid" \
                        --log-file "$work/osd.$1.log" >"$work/osd.$1.out" 2>&1 &
                pids+=("$!")
                osd_pid[$1]=$!
        }
        declare -A osd_pid=()
        start_osd 0
        start_osd 1
        osds_up() {
                admin osd stat >"$work/osd-stat.out" 2>&1 && grep -q "$1 osds: $2 up.*$3 in" "$work/osd-stat.out"
        }
        if wait_for 120 osds_up 2 2 2; then ok "ceph osd stat: 2 osds: 2 up, 2 in"; else
                not_ok "the two OSDs up and in" "$work/osd-stat.out" "$work/osd.0.log" "$work/osd.0.out"
        fi
        stage ceph-osd --retry-timeout 30
        grep -q "osd.0 on /dev/sdb, osd.1 on /dev/sdc made" "$work/stage-ceph-osd.log" && osds_up 2 2 2 &&
                grep -q "ceph-osd is healthy (osd.0, osd.1 active)" "$work/stage-ceph-osd.log" &&
                ok "... the stage again: nothing made again, still 2 osds, the gate passes (osd.0, osd.1 active)" ||
                not_ok "... the stage again" "$work/stage-ceph-osd.log" "$work/osd-stat.out"
        # The OSDs' space is what the manager reports (ceph -s says 0 B without one).
        if [ -n "${mgr_pid:-}" ]; then
                usage() {
                        admin -s >"$work/status.out" 2>&1 && grep -Eq "usage: .* / 8(\.0)? GiB avail" "$work/status.out"
                }
                wait_for 60 usage && ok "ceph -s with the manager: the two OSDs' 8 GiB reported" ||
                        not_ok "ceph -s with the manager: the OSDs' space" "$work/status.out"
        else
                skip "ceph-mgr is not installed"
        fi

        # /dev/sdb taken out of the node file and /dev/sdd added: osd.1 stays osd.1 on /dev/sdc (numbered by
        # the inventory's order, /dev/sdc would have become osd.0), /dev/sdd gets the id Ceph gives, and
        # osd.0 is no longer wanted (the disk and Ceph's map keep it until an operator purges it).
        inv2=$work/inv-disk-removed
        cp -r "$inv" "$inv2"
        sed -i 's|osd_devices: \[/dev/sdb, /dev/sdc\]|osd_devices: [/dev/sdc, /dev/sdd]|' "$inv2/nodes/$node.yaml"
        truncate -s 4G "$root/dev/sdd"
        ip netns exec "$mns" "$cb" bootstrap --inventory "$inv2" --node "$node" --root "$root" --stage ceph-osd \
                --retry-timeout 0 >"$work/stage-ceph-osd.log" 2>&1
        rc=$?
        admin osd ls >"$work/osd-ls.out" 2>"$work/osd-ls.err"
        if [ "$rc" = 75 ] && grep -q "osd.1 on /dev/sdc, osd.2 on /dev/sdd made (BlueStore); not in the node file any more, so not started: osd.0 (/dev/sdb)" \
                "$work/stage-ceph-osd.log" && [ "$(recorded /dev/sdc)/$(recorded /dev/sdd)" = 1/2 ] &&
                [ "$(tr '\n' ' ' <"$work/osd-ls.out")" = "0 1 2 " ]; then
                ok "a disk removed and one added: osd.1 keeps its id on /dev/sdc, /dev/sdd is osd.2 (Ceph's next id), osd.0 is not started"
        else
                not_ok "a disk removed and one added (exit $rc)" "$work/stage-ceph-osd.log" "$work/osd-ls.out" "$osd_record"
        fi
        [ ! -e "$wants/ceph-osd@0.service" ] && [ -L "$wants/ceph-osd@1.service" ] && [ -L "$wants/ceph-osd@2.service" ] &&
                ok "... ceph-osd.target wants ceph-osd@1 and @2, no longer @0" ||
                not_ok "... the OSD units wanted" <(ls -l "$wants")
        kill "${osd_pid[0]}" 2>/dev/null
        start_osd 2
        stage_inv2() {
                ip netns exec "$mns" "$cb" bootstrap --inventory "$inv2" --node "$node" --root "$root" --stage ceph-osd \
                        --retry-timeout 0 >"$work/stage-ceph-osd.log" 2>&1
        }
        if wait_for 120 stage_inv2 && grep -q "ceph-osd is healthy (osd.1, osd.2 active)" "$work/stage-ceph-osd.log" &&
                wait_for 60 osds_up 3 2 3; then
                ok "... with osd.0 stopped and osd.2 started: the gate passes (osd.1, osd.2 active); Ceph: 3 osds, 2 up"
        else
                not_ok "... the gate after the change" "$work/stage-ceph-osd.log" "$work/osd-stat.out"
        fi
        # osd.0 purged, as operations.md says once its data moved: Ceph gives its id to the next new OSD
        # (/dev/sde here), and the node forgets the gone OSD's record of that id.
        admin osd purge 0 --yes-i-really-mean-it >"$work/purge.out" 2>&1
        sed -i 's|osd_devices: \[/dev/sdc, /dev/sdd\]|osd_devices: [/dev/sdc, /dev/sdd, /dev/sde]|' "$inv2/nodes/$node.yaml"
        truncate -s 4G "$root/dev/sde"
        stage_inv2
        rc=$?
        admin osd ls >"$work/osd-ls.out" 2>"$work/osd-ls.err"
        if [ "$rc" = 75 ] && grep -q "osd.1 on /dev/sdc, osd.2 on /dev/sdd, osd.0 on /dev/sde made (BlueStore)$" "$work/stage-ceph-osd.log" &&
                [ "$(recorded /dev/sde)/$(recorded /dev/sdb)" = 0/ ] && [ "$(tr '\n' ' ' <"$work/osd-ls.out")" = "0 1 2 " ] &&
                "$cb" status --inventory "$inv2" --node "$node" --root "$root" >"$work/status-osd.out" 2>&1; then
                ok "osd.0 purged, /dev/sde added: Ceph gives it id 0 again, and the node's record of the purged osd.0 (/dev/sdb) is forgotten"
        else
                not_ok "osd.0 purged, /dev/sde added (exit $rc)" "$work/purge.out" "$work/stage-ceph-osd.log" "$work/osd-ls.out" "$osd_record"
        fi
else
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do skip "ceph-osd is not installed"; done
fi

# --- kafka ---
k=kafka-01
kroot=$work/kafka
ns_add "${tag}k" # no address: the gate's connection to the broker never leaves it
kstage() {
        ip netns exec "${tag}k" "$cb" bootstrap --inventory "$inv" --node "$k" --root "$kroot" --stage kafka --retry-timeout 0 \
                >"$work/kafka.log" 2>&1
}
"$cb" render --inventory "$inv" --node "$k" --root "$kroot" >/dev/null 2>&1
id=$(sed -n 's/^KAFKA_CLUSTER_ID="\(.*\)"$/\1/p' "$kroot/etc/cluster-config/environment/kafka.env")
meta=$kroot/var/lib/kafka/data/meta.properties
kstage
if [ $? = 75 ] && grep -q "not formatted; kafka-storage format runs on the live node only" "$work/kafka.log"; then
        ok "kafka, not formatted, under --root: says it formats on the live node only, and its gate waits"
else
        not_ok "kafka, not formatted, under --root" "$work/kafka.log"
fi
mkdir -p "${meta%/*}" && printf 'version=1\nnode.id=1\ncluster.id=%s\n' "$id" >"$meta"
kstage
grep -q "is formatted for this cluster ($id)" "$work/kafka.log" && ok "kafka: formatted for this cluster is recognised" ||
        not_ok "kafka: formatted for this cluster is recognised" "$work/kafka.log"
printf 'version=1\nnode.id=1\ncluster.id=AnotherClusterId000000\n' >"$meta"
kstage
rc=$?
if [ "$rc" = 1 ] && grep -q "holds another cluster's metadata (cluster.id AnotherClusterId000000, not $id)" \
        "$work/kafka.log"; then
        ok "kafka: another cluster's meta.properties is refused (exit 1), never formatted again"
else
        not_ok "kafka: another cluster's meta.properties is refused (exit $rc)" "$work/kafka.log"
fi
finish
