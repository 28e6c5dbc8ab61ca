#!/usr/bin/env bash
# The secrets that secret-formats.c makes, read by the real programs:
#   - ceph-authtool lists a generated keyring (entity, caps, key) and prints its key;
#   - a mosquitto broker with a generated password file lets the user in with the right password only;
#   - a line that mosquitto_passwd wrote is accepted by mosquitto_password_verify().
# Usage: test-secret-formats-real.sh HELPER  (HELPER is test-secret-formats, which prints the material)
# A missing program is a skipped check. Every process started here is stopped by the EXIT trap; only
# 127.0.0.1 is ever addressed.
set -u

helper=${1:?usage: $0 HELPER}
n=0
failed=0
pids=()
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-secret-formats.XXXXXX")

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
have() {
        local p
        for p; do command -v "$p" >/dev/null 2>&1 || return 1; done
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

# --- Ceph ---
ceph_tests=("ceph-authtool -l lists the generated keyring as it would write it"
            "ceph-authtool -p prints the generated key"
            "ceph-authtool reads a cap with quotes back")
if ! have ceph-authtool; then
        for t in "${ceph_tests[@]}"; do skip "ceph-authtool not installed ($t)"; done
else
        c=$work/ceph
        mkdir -p "$c"
        key=$("$helper" cephx-key 2>"$c/helper.log")
        if [[ ! $key =~ ^AQ[A-Za-z0-9+/]{36}==$ ]]; then
                not_ok "a cephx key from the helper (got '$key')" "$c/helper.log"
        fi
        "$helper" keyring client.admin "$key" mon 'allow *' osd 'allow *' mds 'allow *' mgr 'allow *' \
                >"$c/keyring" 2>"$c/helper.log"
        ceph-authtool -l "$c/keyring" >"$c/list" 2>"$c/list.log"
        # ceph-authtool prints the keyring as it writes one: the generated text must be exactly that.
        if cmp -s "$c/keyring" "$c/list" && grep -qxF $'\t'"key = $key" "$c/list" &&
                grep -qxF $'\tcaps mon = "allow *"' "$c/list" && grep -qxF '[client.admin]' "$c/list"; then
                ok "${ceph_tests[0]}"
        else
                { echo "generated:"; cat "$c/keyring"; echo "ceph-authtool -l:"; cat "$c/list" "$c/list.log"; } \
                        >"$c/diff.log"
                not_ok "${ceph_tests[0]}" "$c/diff.log"
        fi

        printed=$(ceph-authtool "$c/keyring" -n client.admin -p 2>"$c/print.log")
        if [[ $printed == "$key" ]]; then ok "${ceph_tests[1]}"
        else not_ok "${ceph_tests[1]} (got '$printed', expected '$key')" "$c/print.log"; fi

        "$helper" keyring client.rbd "$key" osd 'profile rbd pool="my pool"' mon 'profile rbd' \
                >"$c/quoted" 2>"$c/helper.log"
        ceph-authtool -l "$c/quoted" >"$c/quoted.list" 2>&1
        if cmp -s "$c/quoted" "$c/quoted.list"; then ok "${ceph_tests[2]}"
        else
                { echo "generated:"; cat "$c/quoted"; echo "ceph-authtool -l:"; cat "$c/quoted.list"; } >"$c/diff.log"
                not_ok "${ceph_tests[2]}" "$c/diff.log"
        fi
fi

# --- Mosquitto ---
mqtt_tests=("mosquitto starts with a generated password file"
            "mosquitto_pub with the generated password is accepted"
            "mosquitto_pub with a wrong password is refused")
if ! have mosquitto mosquitto_pub; then
        for t in "${mqtt_tests[@]}"; do skip "mosquitto or mosquitto-clients not installed ($t)"; done
else
        m=$work/mosquitto
        mkdir -p "$m"
        user=sensor-01
        password=pw-$RANDOM$RANDOM
        "$helper" mosquitto-line "$user" "$password" >"$m/passwd" 2>"$m/helper.log"
        chmod 600 "$m/passwd"
        port=$(free_port)
        # Run as root, mosquitto would switch to the user "mosquitto", which cannot read the temporary
        # directory: "user" keeps the current user.
        cat >"$m/mosquitto.conf" <<-EOF
	listener $port 127.0.0.1
	allow_anonymous false
	password_file $m/passwd
	persistence false
	user $(id -un)
	EOF
        mosquitto -c "$m/mosquitto.conf" >"$m/mosquitto.log" 2>&1 &
        mpid=$!
        pids+=("$mpid")
        if wait_port "$port" "$mpid"; then
                ok "${mqtt_tests[0]}"
                if mosquitto_pub -h 127.0.0.1 -p "$port" -u "$user" -P "$password" -t t -m hello >"$m/pub.log" 2>&1
                then ok "${mqtt_tests[1]}"
                else cat "$m/mosquitto.log" >>"$m/pub.log"; not_ok "${mqtt_tests[1]}" "$m/pub.log"; fi
                if mosquitto_pub -h 127.0.0.1 -p "$port" -u "$user" -P "wrong-$password" -t t -m hello \
                        >"$m/wrong.log" 2>&1
                then not_ok "${mqtt_tests[2]}" "$m/wrong.log"
                else ok "${mqtt_tests[2]}"; fi
        else
                not_ok "${mqtt_tests[0]}" "$m/mosquitto.log"
                for t in "${mqtt_tests[@]:1}"; do not_ok "$t (no broker)"; done
        fi
fi

# --- mosquitto_passwd's line, checked by mosquitto_password_verify() ---
if ! have mosquitto_passwd; then
        skip "mosquitto_passwd not installed (its line verifies with the right password)"
        skip "mosquitto_passwd not installed (its line refuses a wrong password)"
else
        p=$work/passwd
        mosquitto_passwd -c -b "$p" admin 'S3cret pass:word' >"$work/passwd.log" 2>&1
        line=$(head -n 1 "$p" 2>/dev/null)
        echo "# mosquitto_passwd wrote: ${line%%\$*}\$..."
        out=$("$helper" mosquitto-verify "$line" 'S3cret pass:word' 2>&1)
        if [[ $? == 0 && $out == match ]]; then ok "mosquitto_passwd's line verifies with the right password"
        else echo "$out" >>"$work/passwd.log"; not_ok "mosquitto_passwd's line verifies with the right password" \
                "$work/passwd.log"; fi
        out=$("$helper" mosquitto-verify "$line" 'S3cret pass:wore' 2>&1)
        if [[ $? == 1 && $out == "no match" ]]; then ok "mosquitto_passwd's line refuses a wrong password"
        else not_ok "mosquitto_passwd's line refuses a wrong password (got '$out')"; fi
fi

echo "1..$n"
[[ $failed == 0 ]]
