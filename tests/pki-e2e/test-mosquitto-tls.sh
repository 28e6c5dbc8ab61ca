#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# Mosquitto on examples/homelab's broker worker-01 (192.168.1.11), with exactly what clusterboot makes: the
# rendered mosquitto.conf and acl, and the passwd file and certs/ that `clusterboot pki node` wrote.
# Clients take their users and passwords from the bundle's mqtt/credentials and verify the broker
# against certs/ca.crt.
#
# The broker is started as root, as units/mosquitto.service starts it, so it drops to the mosquitto user
# itself. Its only change: the absolute paths of the config (/etc/mosquitto/, /var/lib/mosquitto/) point
# into the test's root. Network: the broker's namespace holds 192.168.1.11/24 on a veth whose other end
# is a client namespace (192.168.1.200/24, an address no node of the inventory uses). Nothing else is
# contacted.
#
# Usage: test-mosquitto-tls.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/homelab
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need ip mosquitto mosquitto_pub mosquitto_sub openssl
id mosquitto >/dev/null 2>&1 || skip_all "no mosquitto user (the Debian package makes it)"

node=worker-01
addr=192.168.1.11
bundle=$work/bundle
root=$work/root
mq=$root/etc/mosquitto
# The broker drops to the mosquitto user, which must reach the files through the work folder.
chmod 755 "$work"

# The node has Debian's mosquitto package, so its /etc/group has the mosquitto group, which pki node
# gives the password file and the TLS key to.
mkdir -p "$root/etc"
grep '^mosquitto:' /etc/group > "$root/etc/group"

# --- what clusterboot makes -----------------------------------------------------------------------
check "secrets init for examples/homelab" "$work/secrets.log" \
        "$cb" secrets init --inventory "$inv" --out "$bundle"
check "$node: pki node" "$work/pki.log" \
        "$cb" pki node --inventory "$inv" --node "$node" --secrets "$bundle" --root "$root"
check "$node: render" "$work/render.log" "$cb" render --inventory "$inv" --node "$node" --root "$root"
missing=()
for f in "$mq"/{mosquitto.conf,acl,passwd,certs/ca.crt,certs/server.crt,certs/server.key} "$bundle/mqtt/credentials"; do
        [ -f "$f" ] || missing+=("${f#"$work"/}")
done
if [ ${#missing[@]} = 0 ]; then ok "mosquitto.conf, acl, passwd, certs/ and the credentials are there"; else
        not_ok "missing: ${missing[*]}"; finish; fi

check "certs/server.crt verifies against certs/ca.crt for $addr (TLS server use)" "$work/verify.log" \
        openssl verify -CAfile "$mq/certs/ca.crt" -purpose sslserver -verify_ip "$addr" "$mq/certs/server.crt"

# The users of services/mqtt.yaml, each with a password in the bundle.
pass() { sed -n "s/^$1://p" "$bundle/mqtt/credentials"; }
if [ -n "$(pass admin)" ] && [ -n "$(pass sensors)" ]; then
        ok "mqtt/credentials has a password for admin and for sensors"
else
        not_ok "mqtt/credentials lacks admin or sensors"
        finish
fi

# --- the network --------------------------------------------------------------------------------
bns=${tag}mq
cns=${tag}cl
if { ns_add "$bns" && ns_add "$cns" &&
        ip -n "$bns" link add eth0 type veth peer name eth0 netns "$cns" &&
        ip -n "$bns" addr add "$addr/24" dev eth0 && ip -n "$bns" link set eth0 up &&
        ip -n "$cns" addr add 192.168.1.200/24 dev eth0 && ip -n "$cns" link set eth0 up; } 2>"$work/net.log"; then
        ok "broker namespace holds $addr/24, client namespace 192.168.1.200/24"
else
        not_ok "network namespaces" "$work/net.log"
        finish
fi

# --- the broker ---------------------------------------------------------------------------------
conf=$work/mosquitto.conf
sed -e "s#/etc/mosquitto/#$root/etc/mosquitto/#g" -e "s#/var/lib/mosquitto/#$root/var/lib/mosquitto/#g" \
        "$mq/mosquitto.conf" >"$conf"
# What the package provides on a node: /var/lib/mosquitto owned by its user.
install -d -o mosquitto -g mosquitto "$root/var/lib/mosquitto"

broker_pid=
start_broker() { # LOG
        ip netns exec "$bns" mosquitto -c "$conf" >"$1" 2>&1 &
        broker_pid=$!
        pids+=("$!")
        wait_tcp "$bns" "$addr" 8883 10 "$broker_pid" && sleep 0.3 && kill -0 "$broker_pid" 2>/dev/null
}
stop_broker() {
        kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
}

if start_broker "$work/broker.log"; then
        ok "mosquitto starts as root with the rendered config and the files of pki node"
else
        # mosquitto 2.0 opens the password file and the TLS key only after dropping to its user; files
        # that only root may read stop it. Find out which, then go on with the workaround so that the rest
        # is tested: the file given to the mosquitto group (root:mosquitto 0640), NOT what pki node wrote.
        stop_broker
        not_ok "mosquitto starts as root with the rendered config and the files of pki node (it drops to the \
mosquitto user first; passwd is $(stat -c '%a %U:%G' "$mq/passwd"), certs/server.key $(stat -c '%a %U:%G' \
"$mq/certs/server.key"))" "$work/broker.log"
        started=
        for f in passwd certs/server.key; do
                note "workaround: $f made root:mosquitto 0640, so that the rest is tested"
                chgrp mosquitto "$mq/$f" && chmod 0640 "$mq/$f"
                log=$work/broker-${f//\//-}.log
                if start_broker "$log"; then
                        started=1
                        break
                fi
                stop_broker
                note "... still fails:"
                grep -E "Error" "$log" | head -n 3 | redact | sed 's/^/#   /'
        done
        if [ -n "$started" ]; then
                ok "... with the workaround, mosquitto starts"
        else
                not_ok "... even with the workaround, mosquitto does not start" "$log"
                finish
        fi
fi

# --- clients ------------------------------------------------------------------------------------
tls=(-h "$addr" -p 8883 --cafile "$mq/certs/ca.crt")
cl() { ip netns exec "$cns" "$@"; }

# pubsub NAME SUB_USER SUB_TOPIC PUB_USER PUB_TOPIC: SUB_USER receives what PUB_USER publishes.
pubsub() {
        local name=$1 su=$2 st=$3 pu=$4 pt=$5 msg="e2e-$$-$RANDOM" log=$work/pubsub-$RANDOM.log
        cl mosquitto_sub "${tls[@]}" -u "$su" -P "$(pass "$su")" -t "$st" -C 1 -W 10 >"$log.out" 2>"$log" &
        local sub=$!
        # Publish (retrying) until the subscriber has its message or gives up.
        local i
        for i in $(seq 1 20); do
                sleep 0.3
                kill -0 "$sub" 2>/dev/null || break
                cl mosquitto_pub "${tls[@]}" -u "$pu" -P "$(pass "$pu")" -t "$pt" -m "$msg" >>"$log" 2>&1 || break
        done
        wait "$sub"
        if [ "$(cat "$log.out")" = "$msg" ]; then ok "$name"; else not_ok "$name" "$log" "$work/broker.log"; fi
}
pubsub "TLS, server verified by ca.crt: sensors publishes sensors/temp, admin (sub sensors/#) gets it" \
        admin 'sensors/#' sensors sensors/temp
pubsub "TLS: admin publishes commands/reboot, sensors (sub commands/#, ACL read) gets it" \
        sensors 'commands/#' admin commands/reboot

# The ACL holds: sensors may not write commands/ (mosquitto drops the message silently).
acl_log=$work/acl.log
cl mosquitto_sub "${tls[@]}" -u admin -P "$(pass admin)" -t 'commands/#' -C 1 -W 3 >"$acl_log.out" 2>"$acl_log" &
sub=$!
sleep 0.5
cl mosquitto_pub "${tls[@]}" -u sensors -P "$(pass sensors)" -t commands/reboot -m denied-$$ >>"$acl_log" 2>&1
wait "$sub"
if ! grep -q "denied-$$" "$acl_log.out"; then ok "ACL: a message sensors publishes to commands/ is not delivered"; else
        not_ok "ACL: sensors could publish to commands/" "$acl_log"; fi

refuse "a wrong password is refused" "$work/wrongpw.log" \
        cl mosquitto_pub "${tls[@]}" -u admin -P "not-the-password-$$" -t sensors/x -m x
if grep -qiE "not authori[sz]ed|refused" "$work/wrongpw.log"; then ok "... with 'not authorised'"; else
        not_ok "... without saying 'not authorised'" "$work/wrongpw.log"; fi
refuse "an unknown user is refused" "$work/nouser.log" \
        cl mosquitto_pub "${tls[@]}" -u nobody-$$ -P x -t sensors/x -m x
refuse "an anonymous client is refused" "$work/anon.log" \
        cl mosquitto_pub "${tls[@]}" -t sensors/x -m x

# A client that trusts another CA (a fresh self-signed one) does not complete the handshake.
other=$work/other-ca
mkdir -p "$other"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=kubernetes \
        -keyout "$other/ca.key" -out "$other/ca.crt" >"$other/log" 2>&1; then
        refuse "mosquitto_pub trusting only another CA fails (the server is not trusted)" "$work/othca.log" \
                cl mosquitto_pub -h "$addr" -p 8883 --cafile "$other/ca.crt" -u admin -P "$(pass admin)" -t sensors/x -m x
        cl openssl s_client -connect "$addr:8883" -CAfile "$other/ca.crt" -verify_return_error -brief \
                </dev/null >"$work/s_client-other.log" 2>&1
        if grep -qiE "verify error|certificate verify failed|unable to get local issuer" "$work/s_client-other.log"; then
                ok "... openssl s_client with that CA: the handshake fails on verification"
        else
                not_ok "... openssl s_client with another CA did not fail verification" "$work/s_client-other.log"
        fi
        cl openssl s_client -connect "$addr:8883" -CAfile "$mq/certs/ca.crt" -verify_return_error -verify_ip "$addr" \
                -brief </dev/null >"$work/s_client.log" 2>&1
        if grep -q "Verification: OK" "$work/s_client.log"; then
                ok "openssl s_client with certs/ca.crt verifies the broker for $addr"
        else
                not_ok "openssl s_client with certs/ca.crt does not verify the broker" "$work/s_client.log"
        fi
else
        not_ok "openssl makes another CA" "$other/log"
fi

if kill -0 "$broker_pid" 2>/dev/null; then ok "the broker still runs"; else not_ok "the broker died" "$work/broker.log"; fi
finish
