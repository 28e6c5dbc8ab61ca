#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The rendered files, read by the real programs (TAP):
#   test-real-programs.sh EXAMPLES_DIR CLUSTERBOOT RENDER_ROOT
# The homelab example is rendered into a temporary root, with `clusterboot render` when the binary has
# that command, else with the test helper render-root (the same renderers and writer). Then:
#   - mosquitto runs with the rendered mosquitto.conf and ACL; users from the inventory publish and
#     subscribe, and a wrong password, an anonymous client and a write the ACL forbids are refused;
#   - ceph-conf reads the rendered ceph.conf, and ceph-mon --mkfs builds a monitor store from it.
# Kafka (kafka-storage format, a broker in KRaft mode) and CoreDNS (a server answering the zone) are not
# tested here: they are not Debian packages, and a later issue brings them and their tests.
# Nothing is installed here: a missing program is a skipped check (scripts/setup-deps.sh installs them).
# Every process started here is stopped by the EXIT trap; only 127.0.0.1 is ever addressed.
set -u

examples=${1:?usage: $0 EXAMPLES_DIR CLUSTERBOOT RENDER_ROOT}
clusterboot=${2:?}
render_root=${3:?}
inventory=$examples/homelab

n=0
failed=0
pids=()
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-real-programs.XXXXXX")

cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
        done
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
        n=$((n + 1)); failed=$((failed + 1))
        echo "not ok $n - $1"
        [[ -n ${2:-} && -f $2 ]] && sed 's/^/# /' "$2" | tail -n 40
        return 0
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() { # check DESCRIPTION LOG COMMAND...: ok when the command succeeds
        local desc=$1 log=$2
        shift 2
        if "$@" >"$log" 2>&1; then ok "$desc"; else not_ok "$desc" "$log"; fi
}
have() {
        local p
        for p; do command -v "$p" >/dev/null 2>&1 || return 1; done
}

# render NODE ROOT [INVENTORY]: the node's files under ROOT; the homelab example unless told.
render() {
        local node=$1 root=$2 inv=${3:-$inventory}
        if "$clusterboot" help render >/dev/null 2>&1; then
                "$clusterboot" render --inventory "$inv" --root "$root" --node "$node"
        else
                "$render_root" "$inv" "$node" "$root"
        fi
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
        local p tries
        for tries in $(seq 1 50); do
                p=$((20000 + RANDOM % 40000))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                        echo "$p"
                        return 0
                fi
        done
        return 1
}

wait_port() { # wait_port PORT PID: until something accepts on 127.0.0.1:PORT, at most 10 s
        local i
        for i in $(seq 1 100); do
                kill -0 "$2" 2>/dev/null || return 1
                (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

if "$clusterboot" help render >/dev/null 2>&1; then
        echo "# rendering with: $clusterboot render"
else
        echo "# rendering with: $render_root (clusterboot has no render command)"
fi

# --- Mosquitto (worker-01 is the homelab's MQTT broker) ---
mqtt_root=$work/mqtt-root
check "render worker-01 (mqtt-broker)" "$work/render-mqtt.log" render worker-01 "$mqtt_root"

if ! have mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd openssl; then
        for t in "mosquitto starts with the rendered config" "round trip as an inventory user" \
                 "round trip over the TLS listener" "wrong password refused" "anonymous client refused" \
                 "ACL: a write the inventory does not grant is dropped"; do
                skip "mosquitto, mosquitto-clients or openssl not installed ($t)"
        done
elif [[ ! -f $mqtt_root/etc/mosquitto/mosquitto.conf || ! -f $mqtt_root/etc/mosquitto/acl ]]; then
        not_ok "mosquitto.conf and acl rendered for worker-01"
else
        m=$work/mosquitto
        mkdir -p "$m/data" "$mqtt_root/etc/mosquitto/certs"
        port=$(free_port) && tls_port=$(free_port)
        # The secrets and PKI stages make these on a node; here the test does, for its own users: the
        # password file with mosquitto_passwd and a self-signed certificate (its own CA) for 127.0.0.1.
        pw_admin=admin-$RANDOM$RANDOM
        pw_sensors=sensors-$RANDOM$RANDOM
        mosquitto_passwd -b -c "$mqtt_root/etc/mosquitto/passwd" admin "$pw_admin" >"$m/passwd.log" 2>&1
        mosquitto_passwd -b "$mqtt_root/etc/mosquitto/passwd" sensors "$pw_sensors" >>"$m/passwd.log" 2>&1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
                -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
                -keyout "$mqtt_root/etc/mosquitto/certs/server.key" \
                -out "$mqtt_root/etc/mosquitto/certs/server.crt" >"$m/openssl.log" 2>&1
        cp "$mqtt_root/etc/mosquitto/certs/server.crt" "$mqtt_root/etc/mosquitto/certs/ca.crt"
        chmod 600 "$mqtt_root/etc/mosquitto/passwd"

        # The rendered config listens on every address at 1883 and 8883 and reads /etc/mosquitto. A test
        # may use only 127.0.0.1, free high ports and its own files: so the two listener lines get a free
        # port and 127.0.0.1, and the paths point into the temporary root. Everything else (no anonymous
        # users, the password file, the ACL, one setting for all listeners, the TLS files) is as rendered.
        # Run as root, mosquitto would switch to the user "mosquitto", which cannot read the temporary
        # directory: "user" keeps the current user.
        awk -v p="$port" -v t="$tls_port" -v root="$mqtt_root" -v data="$m/data/" '
                /^listener / { print "listener " (++l == 1 ? p : t) " 127.0.0.1"; next }
                /^persistence_location / { print "persistence_location " data; next }
                { gsub("/etc/mosquitto/", root "/etc/mosquitto/"); print }
        ' "$mqtt_root/etc/mosquitto/mosquitto.conf" >"$m/mosquitto.conf"
        echo "user $(id -un)" >>"$m/mosquitto.conf"

        mosquitto -c "$m/mosquitto.conf" >"$m/mosquitto.log" 2>&1 &
        mpid=$!
        pids+=("$mpid")
        if wait_port "$port" "$mpid" && wait_port "$tls_port" "$mpid"; then
                ok "mosquitto starts with the rendered config"

                # Retained messages make the round trips independent of when the subscriber connects.
                msg="hello-$RANDOM"
                mosquitto_pub -h 127.0.0.1 -p "$port" -u sensors -P "$pw_sensors" -t sensors/t1 -r -m "$msg" \
                        >"$m/pub.log" 2>&1
                got=$(mosquitto_sub -h 127.0.0.1 -p "$port" -u admin -P "$pw_admin" -t sensors/t1 -C 1 -W 5 \
                        2>"$m/sub.log")
                if [[ $got == "$msg" ]]; then ok "round trip as an inventory user"
                else not_ok "round trip as an inventory user (got '$got')" "$m/mosquitto.log"; fi

                msg="tls-$RANDOM"
                mosquitto_pub -h 127.0.0.1 -p "$tls_port" --cafile "$mqtt_root/etc/mosquitto/certs/ca.crt" \
                        -u admin -P "$pw_admin" -t commands/c1 -r -m "$msg" >"$m/pub-tls.log" 2>&1
                got=$(mosquitto_sub -h 127.0.0.1 -p "$port" -u sensors -P "$pw_sensors" -t commands/c1 -C 1 -W 5 \
                        2>"$m/sub-tls.log")
                if [[ $got == "$msg" ]]; then ok "round trip over the TLS listener"
                else not_ok "round trip over the TLS listener (got '$got')" "$m/pub-tls.log"; fi

                if mosquitto_pub -h 127.0.0.1 -p "$port" -u admin -P "wrong-$pw_admin" -t x -m x \
                        >"$m/wrong.log" 2>&1; then
                        not_ok "wrong password refused" "$m/wrong.log"
                else ok "wrong password refused"; fi

                if mosquitto_pub -h 127.0.0.1 -p "$port" -t x -m x >"$m/anon.log" 2>&1; then
                        not_ok "anonymous client refused" "$m/anon.log"
                else ok "anonymous client refused"; fi

                # sensors may read commands/# but not write there: the broker drops the message.
                mosquitto_pub -h 127.0.0.1 -p "$port" -u sensors -P "$pw_sensors" -t commands/c2 -r -m forbidden \
                        >"$m/acl.log" 2>&1
                got=$(mosquitto_sub -h 127.0.0.1 -p "$port" -u admin -P "$pw_admin" -t commands/c2 -C 1 -W 2 \
                        2>>"$m/acl.log")
                if [[ -z $got ]]; then ok "ACL: a write the inventory does not grant is dropped"
                else not_ok "ACL: a write the inventory does not grant is dropped (got '$got')" "$m/acl.log"; fi
        else
                not_ok "mosquitto starts with the rendered config" "$m/mosquitto.log"
                for t in "round trip as an inventory user" "round trip over the TLS listener" \
                         "wrong password refused" "anonymous client refused" \
                         "ACL: a write the inventory does not grant is dropped"; do
                        skip "mosquitto did not start ($t)"
                done
        fi
        kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
fi

# --- Ceph (storage-01 is the homelab's monitor) ---
ceph_root=$work/ceph-root
check "render storage-01 (ceph-mon, ceph-osd)" "$work/render-ceph.log" render storage-01 "$ceph_root"
conf=$ceph_root/etc/ceph/ceph.conf

if ! have ceph-conf; then
        skip "ceph-conf (ceph-common) not installed (ceph-conf reads the rendered ceph.conf)"
elif [[ ! -f $conf ]]; then
        not_ok "ceph.conf rendered for storage-01"
else
        c=$work/ceph
        mkdir -p "$c"
        fsid=$(ceph-conf -c "$conf" --lookup fsid 2>"$c/conf.log")
        mon_host=$(ceph-conf -c "$conf" --lookup mon_host 2>>"$c/conf.log")
        members=$(ceph-conf -c "$conf" --lookup mon_initial_members 2>>"$c/conf.log")
        # extra_config from services/ceph.yaml, spelled with spaces there: Ceph reads it as its option.
        pool_delete=$(ceph-conf -c "$conf" --lookup mon_allow_pool_delete 2>>"$c/conf.log")
        if [[ $fsid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ &&
                $mon_host == "[v2:192.168.1.14:3300,v1:192.168.1.14:6789]" && $members == storage-01 &&
                $pool_delete == false ]]; then
                ok "ceph-conf reads the rendered ceph.conf"
        else
                echo "# fsid='$fsid' mon_host='$mon_host' mon_initial_members='$members' pool_delete='$pool_delete'"
                not_ok "ceph-conf reads the rendered ceph.conf" "$c/conf.log"
        fi
fi

# A value with characters that ceph.conf's parser reads specially must come back as written.
esc=$work/ceph-escape
esc_test="ceph-conf reads back an extra_config value with comment characters, a backslash and a quote"
mkdir -p "$esc/inventory/nodes" "$esc/inventory/services"
cat >"$esc/inventory/cluster.yaml" <<'EOF2'
cluster:
  name: esc
  networking: { node_cidr: 10.0.0.0/24, pod_cidr: 10.244.0.0/16, service_cidr: 10.96.0.0/12 }
  services: [ceph]
nodes:
  - { name: s, ip: 10.0.0.10, roles: [ceph-mon, ceph-osd] }
EOF2
echo 'node: { name: s, ceph: { osd_devices: [/dev/vdb] } }' >"$esc/inventory/nodes/s.yaml"
cat >"$esc/inventory/services/ceph.yaml" <<'EOF2'
ceph:
  osd_pool_default_size: 1
  osd_pool_default_min_size: 1
  extra_config:
    global:
      log file: '/var/log/ceph/a#b;c\d"e.log'
EOF2
if ! have ceph-conf; then
        skip "ceph-conf (ceph-common) not installed ($esc_test)"
elif render s "$esc/root" "$esc/inventory" >"$esc/render.log" 2>&1 &&
        got=$(ceph-conf -c "$esc/root/etc/ceph/ceph.conf" --lookup log_file 2>>"$esc/render.log") &&
        [[ $got == '/var/log/ceph/a#b;c\d"e.log' ]]; then
        ok "$esc_test"
else
        echo "# got: '${got:-}'"
        not_ok "$esc_test" "$esc/render.log"
fi

mkfs_tests=("ceph-mon --mkfs with a monmap from the rendered fsid and monitor"
            "ceph-mon --mkfs builds the same monitor map from ceph.conf alone")
if ! have ceph-authtool monmaptool ceph-mon ceph-conf; then
        for t in "${mkfs_tests[@]}"; do skip "ceph-mon or ceph-common not installed ($t)"; done
elif ! unshare -n true 2>/dev/null; then
        for t in "${mkfs_tests[@]}"; do skip "cannot create a network namespace (unshare -n) ($t)"; done
elif [[ ! -f $conf ]]; then
        not_ok "ceph.conf rendered for storage-01"
else
        c=$work/ceph
        mkdir -p "$c"
        fsid=$(ceph-conf -c "$conf" --lookup fsid 2>/dev/null)
        mon=$(ceph-conf -c "$conf" --lookup mon_initial_members 2>/dev/null)
        addrs=$(ceph-conf -c "$conf" --lookup mon_host 2>/dev/null)
        ip=192.168.1.14 # storage-01 in examples/homelab
        # What the first monitor's bootstrap does (seed BOOTSTRAP.md, Phase 5), in a temporary directory.
        # ceph-mon picks its own address from public_network, so it runs in a network namespace of its
        # own where the node's address is on the loopback interface, as it would be on the node's NIC.
        # --mkfs writes the store and exits: no daemon is left, and nothing is sent anywhere.
        in_netns() {
                unshare -n sh -c 'ip link set lo up && ip addr add "$0"/32 dev lo && exec "$@"' "$ip" "$@"
        }
        mon_opts=(-c "$conf" --log-file "$c/ceph-mon.log" --admin-socket "$c/mon.asok" --pid-file "$c/mon.pid")
        # mkfs DIR [--monmap FILE]: a monitor store, then the monitor map it holds, printed.
        mkfs() {
                local dir=$1
                shift
                in_netns ceph-mon --mkfs -i "$mon" --mon-data "$dir/mon-data" --keyring "$c/mon.keyring" \
                        "$@" "${mon_opts[@]}" &&
                        in_netns ceph-mon -i "$mon" --mon-data "$dir/mon-data" --extract-monmap "$dir/stored" \
                                "${mon_opts[@]}" &&
                        monmaptool --print "$dir/stored" >"$dir/stored.txt"
        }
        # The store must hold the rendered fsid and the monitor at the rendered addresses.
        stored_ok() {
                grep -qx "fsid $fsid" "$1/stored.txt" &&
                        grep -qx "0: \[v2:$ip:3300/0,v1:$ip:6789/0\] mon.$mon" "$1/stored.txt" &&
                        [[ $(grep -c ' mon\.' "$1/stored.txt") -eq 1 ]]
        }

        mkdir -p "$c/with-monmap" "$c/from-conf"
        if ceph-authtool --create-keyring "$c/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >"$c/keyring.log" 2>&1 &&
                monmaptool --create --fsid "$fsid" --addv "$mon" "$addrs" "$c/monmap" >"$c/monmap.log" 2>&1 &&
                mkfs "$c/with-monmap" --monmap "$c/monmap" >"$c/with-monmap.log" 2>&1 &&
                stored_ok "$c/with-monmap"
        then ok "${mkfs_tests[0]}"
        else
                cat "$c/keyring.log" "$c/monmap.log" "$c/with-monmap/stored.txt" >>"$c/with-monmap.log" 2>/dev/null
                not_ok "${mkfs_tests[0]}" "$c/with-monmap.log"
        fi

        # Without --monmap, ceph-mon builds the initial map from fsid, mon_host and mon_initial_members.
        if mkfs "$c/from-conf" >"$c/from-conf.log" 2>&1 && stored_ok "$c/from-conf"
        then ok "${mkfs_tests[1]}"
        else
                cat "$c/from-conf/stored.txt" >>"$c/from-conf.log" 2>/dev/null
                not_ok "${mkfs_tests[1]}" "$c/from-conf.log"
        fi
fi

echo "1..$n"
[[ $failed -eq 0 ]]
