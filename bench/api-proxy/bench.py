#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/api-proxy: what the relay to the API servers costs, against the same work done directly.

One upstream on 127.0.0.1 (a thread per connection: it reads a request of a given size, answers with a
response of a given size) and one load generator, in this process; `clusterboot api-proxy` in front of it.
Phases, each done directly and through the relay, in the same run:
  - connections: N connections one after another, each a 1 KiB request and a 1 KiB answer (a client that
    reconnects: the relay's accept, connect and two socket set-ups per connection);
  - exchanges: N request/answer round trips of 1 KiB on one connection (a watch or an HTTP/2 stream:
    the per-message cost);
  - bulk: 256 MiB from the upstream to the client on one connection (a large LIST).
Reported as ratios relay/direct (time, so 1.00 means free), with the relay's CPU time and peak RSS.
Usage: bench.py CLUSTERBOOT [--json FILE]
"""
import json, os, socket, statistics, subprocess, sys, threading, time

CB = sys.argv[1]
JSON_OUT = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
N_CONN = int(os.environ.get("PROXY_BENCH_CONNECTIONS", "2000"))
N_EXCH = int(os.environ.get("PROXY_BENCH_EXCHANGES", "20000"))
BULK = int(os.environ.get("PROXY_BENCH_BULK_MIB", "256")) << 20
RUNS = int(os.environ.get("PROXY_BENCH_RUNS", "3"))
MSG = 1024


def recv_exact(c, n):
    got = bytearray()
    while len(got) < n:
        d = c.recv(min(1 << 20, n - len(got)))
        if not d:
            raise EOFError
        got += d
    return got


def upstream(sock):
    def serve(c):
        with c:
            try:
                while True:
                    head = recv_exact(c, 13)  # b"E" or b"B" and 12 digits: bytes to answer
                    kind, size = head[:1], int(head[1:])
                    if kind == b"E":
                        recv_exact(c, MSG)
                        c.sendall(b"a" * size)
                    else:
                        chunk = b"b" * (1 << 20)
                        left = size
                        while left:
                            c.sendall(chunk[: min(left, len(chunk))])
                            left -= min(left, len(chunk))
            except (EOFError, ConnectionError):
                pass
    while True:
        try:
            c, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def connections(port):
    lat = []
    t0 = time.perf_counter()
    for _ in range(N_CONN):
        s = time.perf_counter()
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"E%012d" % MSG + b"q" * MSG)
        recv_exact(c, MSG)
        c.close()
        lat.append(time.perf_counter() - s)
    return time.perf_counter() - t0, lat


def exchanges(port):
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    for _ in range(N_EXCH):
        c.sendall(b"E%012d" % MSG + b"q" * MSG)
        recv_exact(c, MSG)
    t = time.perf_counter() - t0
    c.close()
    return t


def bulk(port):
    c = socket.create_connection(("127.0.0.1", port))
    t0 = time.perf_counter()
    c.sendall(b"B%012d" % BULK)
    recv_exact(c, BULK)
    t = time.perf_counter() - t0
    c.close()
    return t


def proc_cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    up = socket.socket()
    up.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    up.bind(("127.0.0.1", 0))
    up.listen(512)
    up_port = up.getsockname()[1]
    threading.Thread(target=upstream, args=(up,), daemon=True).start()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    relay_port = probe.getsockname()[1]
    probe.close()
    relay = subprocess.Popen([CB, "api-proxy", f"127.0.0.1:{relay_port}", f"127.0.0.1:{up_port}"],
                             stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", relay_port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print(f"bench/api-proxy: {os.cpu_count()} CPUs, load {open('/proc/loadavg').read().split()[0]}; "
          f"{N_CONN} connections, {N_EXCH} exchanges of 1 KiB, {BULK >> 20} MiB bulk; median of {RUNS} runs")
    results = {"connections": [], "exchanges": [], "bulk": [], "p50": [], "p99": []}
    cpu = {}
    for r in range(RUNS):
        for name, fn in (("connections", connections), ("exchanges", exchanges), ("bulk", bulk)):
            d = fn(up_port)
            c0 = proc_cpu(relay.pid)
            p = fn(relay_port)
            cpu.setdefault(name, []).append(proc_cpu(relay.pid) - c0)
            if name == "connections":
                (td, ld), (tp, lp) = d, p
                results["connections"].append(tp / td)
                q = lambda l, f: sorted(l)[int(f * (len(l) - 1))]
                results["p50"].append(q(lp, .5) / q(ld, .5))
                results["p99"].append(q(lp, .99) / q(ld, .99))
                d, p = td, tp
            else:
                results[name].append(p / d)
            print(f"  run {r + 1} {name:11s}: direct {d:7.3f} s, relay {p:7.3f} s, ratio {p / d:5.2f}")
    hwm = proc_hwm(relay.pid)
    relay.terminate()
    relay.wait()
    med = {k: statistics.median(v) for k, v in results.items()}
    per_conn_us = statistics.median(cpu["connections"]) / N_CONN * 1e6
    per_exch_us = statistics.median(cpu["exchanges"]) / N_EXCH * 1e6
    mib_s_cpu = (BULK >> 20) / max(statistics.median(cpu["bulk"]), 1e-9)
    print(f"relay/direct, medians: connections {med['connections']:.2f}x (latency p50 {med['p50']:.2f}x, "
          f"p99 {med['p99']:.2f}x), exchanges {med['exchanges']:.2f}x, bulk {med['bulk']:.2f}x")
    print(f"the relay's CPU: {per_conn_us:.0f} us per connection, {per_exch_us:.1f} us per 1 KiB exchange, "
          f"{mib_s_cpu:.0f} MiB per CPU second in bulk; peak RSS {hwm:.1f} MiB")
    if JSON_OUT:
        json.dump({"ratios": med, "cpu_us_per_connection": per_conn_us, "cpu_us_per_exchange": per_exch_us,
                   "bulk_mib_per_cpu_second": mib_s_cpu, "peak_rss_mib": hwm, "runs": results},
                  open(JSON_OUT, "w"), indent=2)


main()
