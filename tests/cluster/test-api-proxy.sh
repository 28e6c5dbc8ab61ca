#!/usr/bin/env bash
# `clusterboot api-proxy` (src/cluster/api-proxy.c), the real binary, in a network namespace of its own
# (loopback only): three upstreams that answer with their name (A, B and C), one port where nothing listens
# and one whose SYNs are dropped (iptables, in this namespace), as a master that is down or gone. Behaviour a
# worker's kubelet would notice: its bytes arrive intact both ways, the masters are taken in turn, a master
# that refuses or does not answer is passed over (and, once found silent, not tried again for a while: the
# dropped SYNs are counted, not timed), no master at all closes the connection, a master that comes back is
# used again, and SIGTERM ends the relay with connections open.
#
# Usage: test-api-proxy.sh CLUSTERBOOT
set -u
cb=$(realpath "$1")
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)) failed=1; echo "not ok $n - $1"; [ -z "${2:-}" ] || sed 's/^/# /' "$2"; }
check() { local t=$1; shift; if "$@" >"$work/out" 2>&1; then ok "$t"; else not_ok "$t" "$work/out"; fi; }
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v iptables >/dev/null ||
        ! unshare -n true 2>/dev/null; then
    echo "1..9"
    for _ in $(seq 9); do n=$((n + 1)); echo "ok $n # SKIP needs root, unshare and iptables (a network namespace)"; done
    exit 0
fi
# The rest runs in a network namespace of its own.
if [ -z "${CB_API_PROXY_NS:-}" ]; then
    CB_API_PROXY_NS=1 exec unshare -n "$0" "$@"
fi
echo "1..9"
ip link set lo up
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# upstream NAME PORT: answers each connection with NAME, a space and the sha256 of what it read (up to a
# newline), then what it read back.
cat >"$work/upstream.py" <<'EOF'
import hashlib, socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
def serve(c):
    with c:
        data = b""
        while not data.endswith(b"\n"):
            d = c.recv(1 << 16)
            if not d:
                break
            data += d
        c.sendall(name.encode() + b" " + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# ask [COUNT [BYTES]]: COUNT connections (default 1) through the proxy, one after the other, each with BYTES
# random bytes and a newline (default 16); prints a line each: "NAME ok" when the answer names an upstream
# and carries the same bytes back, "closed" when the proxy closed the connection without an answer. (One
# process for them all: the test counts what happens within the proxy's rest of 10 s.)
cat >"$work/ask.py" <<'EOF'
import hashlib, os, socket, sys
count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
size = int(sys.argv[2]) if len(sys.argv) > 2 else 16
for _ in range(count):
    data = os.urandom(size).replace(b"\n", b"x") + b"\n"
    c = socket.create_connection(("127.0.0.1", 17445), timeout=20)
    got = b""
    try:
        c.sendall(data)
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            got += d
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    c.close()
    head, _, back = got.partition(b"\n")
    if not got:
        print("closed")
    elif head.split(b" ")[1:] == [hashlib.sha256(data).hexdigest().encode()] and back == data:
        print(head.split(b" ")[0].decode(), "ok")
    else:
        print("garbled", head[:80])
EOF
upstream() { python3 "$work/upstream.py" "$1" "$2" & pids+=($!); upstream_pid[$1]=$!; }
ask() { python3 "$work/ask.py" "$@"; }
declare -A upstream_pid
# Until PORT accepts (an upstream just started).
listening() { for _ in $(seq 50); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# 1. Bad arguments.
"$cb" api-proxy 127.0.0.1:17445 >"$work/usage" 2>&1
rc1=$?
"$cb" api-proxy 127.0.0.1:17445 master-01:6443 >>"$work/usage" 2>&1
rc2=$?
check "bad arguments: one endpoint only, or a name instead of an address: exit 2, saying what is expected" \
    eval '[ $rc1 = 2 ] && [ $rc2 = 2 ] && grep -q "takes the arguments LISTEN UPSTREAM" "$work/usage" &&
        grep -q "each ADDRESS:PORT or \[IPV6\]:PORT" "$work/usage" || { cat "$work/usage"; false; }'

upstream A 17001
upstream B 17002
upstream C 17003
listening 17001 && listening 17002 && listening 17003
# 17009: nothing listens (refused). 17008: SYNs dropped (no answer).
iptables -A INPUT -p tcp --dport 17008 --syn -j DROP
"$cb" api-proxy 127.0.0.1:17445 127.0.0.1:17001 127.0.0.1:17009 127.0.0.1:17002 127.0.0.1:17008 127.0.0.1:17003 \
    >"$work/proxy.log" 2>&1 &
proxy=$!
pids+=("$proxy")
listening 17445

# 2. Intact both ways, 4 MiB (more than the relay holds before it stops reading: its back-pressure).
big=$(ask 1 4194304)
check "4 MiB through the proxy to an upstream and back, intact" eval '[[ $big == [ABC]" ok" ]] || echo "$big"'

# 3-5. In turn, passing over the one that refuses and the one that does not answer; that one is then left
# alone: its dropped SYNs do not grow while the next connections are answered.
ask 6 >"$work/turns"
syns() { iptables -L INPUT -v -x -n | awk '$0 ~ /dpt:17008/ { print $1 }'; }
s1=$(syns)
ask 6 >>"$work/turns"
s2=$(syns)
check "twelve connections: every one answered intact, by A, B and C in turn (each at least three times)" \
    eval 'cat "$work/turns"; [ "$(grep -c " ok$" "$work/turns")" = 12 ] &&
        for u in A B C; do [ "$(grep -c "^$u ok$" "$work/turns")" -ge 3 ] || exit 1; done'
check "the upstream that refuses and the one that does not answer are each logged once, as not answering" \
    eval 'cat "$work/proxy.log"; [ "$(grep -c "127.0.0.1:17009 does not answer (Connection refused)" "$work/proxy.log")" = 1 ] &&
        [ "$(grep -c "127.0.0.1:17008 does not answer (no answer in time)" "$work/proxy.log")" = 1 ]'
check "once found silent, the upstream that drops SYNs is not tried again for the next six connections ($s1 SYNs, then $s2)" \
    eval '[ -n "$s1" ] && [ "$s1" -ge 1 ] && [ "$s1" = "$s2" ]'

# 6. No upstream answers: the connection is closed; one comes back: answered again.
kill "${upstream_pid[A]}" "${upstream_pid[B]}" "${upstream_pid[C]}"
wait "${upstream_pid[A]}" "${upstream_pid[B]}" "${upstream_pid[C]}" 2>/dev/null
none=$(ask)
upstream B 17002
listening 17002
back=$(ask)
check "no upstream answers: the connection is closed (logged); B back: answered by B" \
    eval 'echo "$none / $back"; [ "$none" = closed ] && [ "$back" = "B ok" ] &&
        grep -q "no API server answers" "$work/proxy.log" && grep -q "127.0.0.1:17002 answers again" "$work/proxy.log"'

# 7. SIGTERM with a connection open (waiting for its newline): exit 0, nothing leaked (under ASan).
python3 -c 'import socket, time; c = socket.create_connection(("127.0.0.1", 17445)); c.sendall(b"half"); time.sleep(5)' &
held=$!
sleep 1
kill -TERM "$proxy"
wait "$proxy"
rc=$?
kill "$held" 2>/dev/null
check "SIGTERM with a connection open: exit 0" eval '[ $rc = 0 ] || { echo "rc $rc"; tail -n 20 "$work/proxy.log"; false; }'

# 8. A port taken: the proxy cannot listen, says so, exit 1.
python3 -c 'import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 17445))
s.listen()
time.sleep(10)' &
taken=$!
listening 17445
timeout 10 "$cb" api-proxy 127.0.0.1:17445 127.0.0.1:17002 >"$work/taken" 2>&1
rc=$?
kill "$taken" 2>/dev/null
check "LISTEN taken by another program: exit 1, saying it cannot listen there" \
    eval 'cat "$work/taken"; [ $rc = 1 ] && grep -q "cannot listen on 127.0.0.1:17445" "$work/taken"'

# 9. Out of descriptors (a limit of 9: room for about one relay): accept() or the upstream's socket() fails
# while connections wait; the relay pauses instead of spinning, says so at most twice, does not take the
# upstream for down, answers some of the burst and, after it, the next connection.
(ulimit -n 9 && exec "$cb" api-proxy 127.0.0.1:17445 127.0.0.1:17002) >"$work/emfile.log" 2>&1 &
proxy=$!
pids+=("$proxy")
listening 17445
asks=()
for i in 1 2 3 4; do ask >"$work/emfile-$i" & asks+=($!); done
wait "${asks[@]}"
after=$(ask)
kill -TERM "$proxy"
wait "$proxy"
rc=$?
check "out of descriptors: logged at most twice (no line per try), the upstream not passed over, some of the burst answered, the next connection too, exit 0" \
    eval 'cat "$work/emfile.log" "$work"/emfile-?; echo "after: $after"; [ "$(cat "$work"/emfile-? | grep -c "^B ok$")" -ge 1 ] &&
        [ "$after" = "B ok" ] && [ $rc = 0 ] && [ "$(grep -c "Too many open files" "$work/emfile.log")" -le 2 ] &&
        ! grep -q "does not answer" "$work/emfile.log"'
exit $failed
