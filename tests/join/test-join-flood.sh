#!/usr/bin/env bash
# `clusterboot serve` under connection floods (src/cluster/join-guard.c), on 127.0.0.1 through the
# testing-only $CLUSTERBOOT_JOIN_LISTEN; the floods come from other loopback addresses (127.0.0.0/8 is all
# loopback: nothing to set up) through flood.py. Two servers:
#   A, systemd's limits (the unit's LimitNOFILE=): one address holds at most 64 connections; silent ones
#     are gone after 10 s (evhttp's timeout per read); connections that send a request a byte every 4 s
#     (which that timeout never catches) are closed 30 s after their handshake; a node joins meanwhile.
#   B, 200 file descriptors: 240 handshakes sent a byte every 2 s, from 60 addresses, never hold more than
#     136 (200 less 64 kept for the rest); the idle longest go first; the rest are closed 10 s after
#     accept, their handshake not done; a node joins meanwhile; the server lives, logs a few summary lines
#     (not a line per connection, not a busy loop on accept()), and stops on SIGTERM.
# Only loopback is addressed. Takes about 45 s: the deadlines are waited for.
#
# Usage: test-join-flood.sh CLUSTERBOOT JOIN_TOOL EXAMPLES_DIR
set -u
cb=$(realpath "$1")
tool=$(realpath "$2")
inv=$(realpath "$3")/homelab
flood=$(dirname "$(realpath "$0")")/flood.py
# shellcheck source=lib-join.sh
. "$(dirname "$0")/lib-join.sh" flood

# open_at FILE SECONDS: how many connections the flood still had open at that report.
open_at() { python3 -c 'import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["t"] == float(sys.argv[2]): print(d["open"])' "$1" "$2"; }
# join PORT DIR: worker-01 joins; its time in ms on stdout.
join() {
        local start=$EPOCHREALTIME
        "$tool" join "https://127.0.0.1:$1" "$secret" worker-01 "$2" --ca "$work/bundle/kubernetes/ca.crt" kubelet \
                >"$2.log" 2>&1 || return 1
        echo $(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
}

"$cb" secrets init --inventory "$inv" --out "$work/bundle" >/dev/null || exit 1
secret=$(cat "$work/bundle/join-secret")
port=$((20000 + RANDOM % 20000))
portb=$((port + 1))

# ---- A: systemd's limits ----
check "server A starts with the unit's limits: 4096 open, 64 per address" \
        eval 'start_server "$port" "$work/bundle" "$work/a.log" prlimit --nofile=16384:16384 &&
              grep -q "at most 4096 connections open, 64 from one address" "$work/a.log"'
python3 "$flood" --connect "127.0.0.1:$port" --sources 127.0.0.2 --count 100 --mode silent --at 5,16 \
        >"$work/silent.json" 2>"$work/silent.err" &
silent_pid=$!
python3 "$flood" --connect "127.0.0.1:$port" --sources 127.0.3.1 --count 3 --mode request --interval 4 --at 5,42 \
        >"$work/request.json" 2>"$work/request.err" &
request_pid=$!
sleep 5
mkdir -p "$work/ja" "$work/jb"
if ms=$(join "$port" "$work/ja"); then
        check "A: worker-01 joins while one address holds its connections ($ms ms)" true
else
        check "A: worker-01 joins while one address holds its connections" false
        sed 's/^/# /' "$work/ja.log"
fi
wait "$silent_pid"
check "A: 100 silent connections from 127.0.0.2: 64 held, 36 closed at once" test "$(open_at "$work/silent.json" 5)" = 64
check "A: ... none left once 10 s passed without a TLS handshake" test "$(open_at "$work/silent.json" 16)" = 0
wait "$request_pid"
check "A: 3 connections that send a request a byte every 4 s (evhttp's per-read timeout of 10 s never fires): open at 5 s" \
        test "$(open_at "$work/request.json" 5)" = 3
check "A: ... closed once 30 s passed without a whole request" test "$(open_at "$work/request.json" 42)" = 0
check "A: the log says it, in summary lines" eval \
        'grep -q "36 connections refused: their address had 64 open already (the last from 127.0.0.2)" "$work/a.log" &&
         grep -q "3 connections closed: no whole request within 30 s" "$work/a.log"'

# ---- B: 200 file descriptors ----
check "server B with 200 file descriptors: at most 136 open" \
        eval 'start_server "$portb" "$work/bundle" "$work/b.log" prlimit --nofile=200:200 &&
              grep -q "at most 136 connections open" "$work/b.log"'
python3 "$flood" --connect "127.0.0.1:$portb" --sources 127.0.1.1-127.0.1.60 --count 240 --mode handshake --interval 2 \
        --at 4,15 >"$work/hs.json" 2>"$work/hs.err" &
hs_pid=$!
sleep 3
if ms=$(join "$portb" "$work/jb"); then
        check "B: worker-01 joins while 240 slow handshakes come ($ms ms)" true
else
        check "B: worker-01 joins while 240 slow handshakes come" false
        sed 's/^/# /' "$work/jb.log"
fi
wait "$hs_pid"
b_open=$(open_at "$work/hs.json" 4)
check "B: at most 136 of the 240 held ($b_open)" test "${b_open:-999}" -le 136
check "B: ... the idle longest closed at the limit" grep -q "connections closed, idle longest, at the limit of 136 open" "$work/b.log"
check "B: ... none left after the handshake deadline" test "$(open_at "$work/hs.json" 15)" = 0
# The summary comes every 10 s.
for _ in $(seq 1 120); do grep -q "closed: no TLS handshake within 10 s" "$work/b.log" && break; sleep 0.1; done
check "B: ... as the log says" grep -q "connections closed: no TLS handshake within 10 s" "$work/b.log"
check "B: alive, and a few lines logged (no line per connection, no busy loop on accept())" \
        eval 'kill -0 "${pids[-1]}" && test "$(wc -l <"$work/b.log")" -le 12'
sed 's/^/# /' "$work/b.log" | grep -v "join: client"
check "no secret of the bundle in the servers' logs" eval '"$(dirname "$0")/../scripts/no-secret-in.sh" "$work/bundle" "$work"/*.log >&2'

stop_servers

echo "1..$n"
exit $failed
