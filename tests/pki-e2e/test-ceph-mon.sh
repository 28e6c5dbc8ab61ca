#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# A Ceph monitor for examples/homelab's storage-01 (192.168.1.14) from what clusterboot makes: the keyrings
# of `clusterboot pki node` read by ceph-authtool, a monmap with the rendered fsid and mon_host, the store
# made by `ceph-mon --mkfs` with the rendered ceph.conf and ceph.mon.keyring, and then the running
# monitor answering `ceph -s` as client.admin with ceph.client.admin.keyring, and the bootstrap keys.
#
# Network: the monitor's namespace holds 192.168.1.14/24 on a veth whose other end is a client namespace
# (192.168.1.200/24, an address no node of the inventory uses). The monitor's store, logs, sockets and
# pid file all go to the test's folder; nothing else is contacted or written.
#
# Usage: test-ceph-mon.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/homelab
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need ip ceph-authtool monmaptool ceph-mon ceph timeout

node=storage-01
addr=192.168.1.14
bundle=$work/bundle
root=$work/root
etc=$root/etc/ceph
conf=$etc/ceph.conf
d=$work/ceph
mkdir -p "$d/run" "$d/mon"

# --- what clusterboot makes -----------------------------------------------------------------------
check "secrets init for examples/homelab" "$work/secrets.log" \
        "$cb" secrets init --inventory "$inv" --out "$bundle"
check "$node: pki node" "$work/pki.log" \
        "$cb" pki node --inventory "$inv" --node "$node" --secrets "$bundle" --root "$root"
check "$node: render" "$work/render.log" "$cb" render --inventory "$inv" --node "$node" --root "$root"
[ -f "$conf" ] || { not_ok "$conf is missing"; finish; }

fsid=$(sed -n 's/^fsid *= *//p' "$conf")
mon_host=$(sed -n 's/^mon_host *= *//p' "$conf")
if [[ $fsid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] && [[ $mon_host == *"$addr"* ]]; then
        ok "ceph.conf: fsid $fsid, mon_host $mon_host"
else
        not_ok "ceph.conf: fsid '$fsid' or mon_host '$mon_host' is not right" "$conf"
        finish
fi
if [ "$fsid" != "$(cat "$bundle/ceph/fsid" 2>/dev/null)" ]; then
        note "render without --secrets derives the fsid ($fsid); the bundle's ceph/fsid is $(cat "$bundle/ceph/fsid")"
fi

# --- the keyrings -------------------------------------------------------------------------------
# keyring FILE ENTITY... : ceph-authtool lists exactly these entities, each with the caps expected of it.
declare -A caps=(
        [mon.]='mon=allow *'
        [client.admin]='mds=allow * mgr=allow * mon=allow * osd=allow *'
        [client.bootstrap-osd]='mgr=allow r mon=profile bootstrap-osd'
        [client.bootstrap-mds]='mgr=allow r mon=profile bootstrap-mds'
)
# ceph-authtool -l, reduced to "ENTITY|cap=value cap=value" lines (the key is checked apart, never printed).
authtool_list() {
        ceph-authtool -l "$1" | awk '
                /^\[/ { if (e != "") print e "|" c; e = substr($0, 2, length($0) - 2); c = ""; next }
                /^[ \t]*caps / { sub(/^[ \t]*caps /, ""); split($0, kv, / = /); v = kv[2]; gsub(/"/, "", v);
                                 c = c (c == "" ? "" : " ") kv[1] "=" v }
                END { if (e != "") print e "|" c }'
}
keyring() {
        local f=$etc/$1 e want="" got
        shift
        for e; do want+="$e|${caps[$e]}"$'\n'; done
        got=$(authtool_list "$f" 2>"$work/authtool.err")
        if [ "$got"$'\n' = "$want" ]; then
                ok "ceph-authtool -l $(basename "$f"): $* with their caps"
        else
                not_ok "ceph-authtool -l $(basename "$f"): got '${got//$'\n'/; }', want '${want//$'\n'/; }'" "$work/authtool.err"
        fi
        # Every key is a valid cephx key (ceph-authtool prints it) and the same as in the bundle.
        for e; do
                local k b
                k=$(ceph-authtool -p -n "$e" "$f" 2>/dev/null)
                b=$(ceph-authtool -p -n "$e" "$bundle/ceph/$(basename "$f")" 2>/dev/null)
                if [ -z "$k" ] || [ "$k" != "$b" ]; then
                        not_ok "... $e's key is unreadable or not the bundle's"
                        return
                fi
        done
        local mode
        mode=$(stat -c %a "$f")
        if [ "$mode" = 600 ]; then ok "... $(basename "$f") is 0600, keys as in the bundle"; else
                not_ok "... $(basename "$f") is $mode, not 0600"; fi
}
keyring ceph.mon.keyring mon. client.admin client.bootstrap-mds client.bootstrap-osd
keyring ceph.client.admin.keyring client.admin
keyring ceph.bootstrap-osd.keyring client.bootstrap-osd
keyring ceph.bootstrap-mds.keyring client.bootstrap-mds
admin_a=$(ceph-authtool -p -n client.admin "$etc/ceph.mon.keyring" 2>/dev/null)
admin_b=$(ceph-authtool -p -n client.admin "$etc/ceph.client.admin.keyring" 2>/dev/null)
if [ -n "$admin_a" ] && [ "$admin_a" = "$admin_b" ]; then
        ok "client.admin has the same key in ceph.mon.keyring and ceph.client.admin.keyring"
else
        not_ok "client.admin's key differs between ceph.mon.keyring and ceph.client.admin.keyring"
fi

# --- the network --------------------------------------------------------------------------------
mns=${tag}mon
cns=${tag}cl
if { ns_add "$mns" && ns_add "$cns" &&
        ip -n "$mns" link add eth0 type veth peer name eth0 netns "$cns" &&
        ip -n "$mns" addr add "$addr/24" dev eth0 && ip -n "$mns" link set eth0 up &&
        ip -n "$cns" addr add 192.168.1.200/24 dev eth0 && ip -n "$cns" link set eth0 up; } 2>"$work/net.log"; then
        ok "monitor namespace holds $addr/24, client namespace 192.168.1.200/24"
else
        not_ok "network namespaces" "$work/net.log"
        finish
fi

# --- the monitor --------------------------------------------------------------------------------
# Everything a daemon or client would put under /var/run/ceph or /var/log/ceph goes to $d instead.
daemon_paths=(--run-dir "$d/run" --admin-socket "$d/run/mon.asok" --pid-file "$d/run/mon.pid"
        --log-file "$d/mon.log" --mon-cluster-log-file "$d/cluster.log")
export CEPH_ARGS="--log-file=$d/client.log --admin-socket=$d/run/client.\$pid.asok"

check "monmaptool --create --addv $node <rendered mon_host> --fsid <rendered fsid>" "$work/monmap.log" \
        monmaptool --create --addv "$node" "$mon_host" --fsid "$fsid" "$d/monmap"
check "ceph-mon --mkfs with the rendered ceph.conf and ceph.mon.keyring" "$work/mkfs.log" \
        ip netns exec "$mns" ceph-mon --mkfs -i "$node" --mon-data "$d/mon" --monmap "$d/monmap" \
        --keyring "$etc/ceph.mon.keyring" -c "$conf" "${daemon_paths[@]}"

ip netns exec "$mns" ceph-mon -f -i "$node" --mon-data "$d/mon" -c "$conf" "${daemon_paths[@]}" \
        >"$d/mon.out" 2>&1 &
mon_pid=$!
pids+=("$mon_pid")

# client ENTITY KEYRING ARGS...: the ceph CLI from the client namespace.
client() {
        local e=$1 k=$2
        shift 2
        ip netns exec "$cns" timeout 25 ceph -c "$conf" -k "$k" -n "$e" --connect-timeout 15 "$@"
}
status() {
        kill -0 "$mon_pid" 2>/dev/null || return 2
        client client.admin "$etc/ceph.client.admin.keyring" -s >"$work/status.out" 2>"$work/status.err" &&
                grep -q "HEALTH_" "$work/status.out" || return 1
}
t0=$(date +%s)
if wait_for 60 status; then
        ok "ceph -s as client.admin answers within $(($(date +%s) - t0)) s: $(grep -o 'HEALTH_[A-Z]*' "$work/status.out")"
else
        not_ok "ceph -s as client.admin does not answer within 60 s" "$work/status.err" "$d/mon.out" "$d/mon.log"
        finish
fi
if grep -q "id: *$fsid" "$work/status.out"; then ok "... and reports the rendered fsid"; else
        not_ok "... with another fsid than $fsid" "$work/status.out"; fi
if grep -q "quorum $node" "$work/status.out"; then ok "... with $node in quorum"; else
        not_ok "... without $node in quorum" "$work/status.out"; fi

# The monitor keeps client.admin with the caps of the keyring (its key is not kept in the test's output).
client client.admin "$etc/ceph.client.admin.keyring" auth get client.admin 2>"$work/auth-admin.err" | redact >"$work/auth-admin.out"
got=$(sed -n 's/^[ \t]*caps \([a-z]*\) = "\(.*\)"$/\1=\2/p' "$work/auth-admin.out" | sort | paste -sd' ')
if [ "$got" = "${caps[client.admin]}" ]; then ok "the monitor has client.admin with caps $got"; else
        not_ok "the monitor has client.admin with caps '$got'" "$work/auth-admin.err"; fi

# What OSD and MDS nodes will do with their bootstrap keyring: the monitor must know these keys. The
# monitor knows only what --mkfs imported from ceph.mon.keyring (and makes bootstrap keys of its own).
for e in bootstrap-osd bootstrap-mds; do
        if client "client.$e" "$etc/ceph.$e.keyring" mon getmap -o "$d/got-monmap" >"$work/$e.out" 2>&1; then
                ok "client.$e authenticates with ceph.$e.keyring (mon getmap)"
        else
                not_ok "client.$e with ceph.$e.keyring is refused by the monitor (ceph.mon.keyring, which --mkfs \
imports, holds only $(authtool_list "$etc/ceph.mon.keyring" | cut -d'|' -f1 | paste -sd' '))" "$work/$e.out"
        fi
done

# A client.admin key that is not the cluster's is refused.
ceph-authtool --create-keyring "$d/wrong.keyring" --gen-key -n client.admin >/dev/null 2>&1
refuse "client.admin with a key of its own making is refused" "$work/wrongkey.log" \
        client client.admin "$d/wrong.keyring" -s

if kill -0 "$mon_pid" 2>/dev/null; then ok "the monitor still runs"; else not_ok "the monitor died" "$d/mon.out"; fi
finish
