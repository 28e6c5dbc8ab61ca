#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hold many connections to a TLS server the way a flood does, and say how many it keeps.

Each connection comes from one of the source addresses (127.0.0.0/8 is all loopback on Linux: no set-up)
and, by mode:
  silent     connects and sends nothing;
  handshake  sends a real TLS ClientHello one byte per --interval (a slow handshake);
  request    does the TLS handshake, then sends an HTTP request one byte per --interval (a slow request).
At each --at second (from the start), one JSON line: {"t": SECONDS, "open": N, "closed": N, "refused": N}
(refused: the connect itself failed). Standard library only; used by tests/join and bench/join.
"""
import argparse
import errno
import ipaddress
import json
import socket
import ssl
import sys
import time


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def sources(spec, count):
    first, _, last = spec.partition("-")
    a = ipaddress.ip_address(first)
    b = ipaddress.ip_address(last) if last else a
    addrs = [str(ipaddress.ip_address(int(a) + i)) for i in range(int(b) - int(a) + 1)]
    return [addrs[i % len(addrs)] for i in range(count)]


class Conn:
    def __init__(self, sock, payload):
        self.sock, self.payload, self.sent, self.open = sock, payload, 0, True

    def alive(self):
        """False once the server closed it (end of stream or reset)."""
        if not self.open:
            return False
        try:
            data = self.sock.recv(4096)
            if data == b"":
                self.open = False
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except (ConnectionError, OSError, ssl.SSLError):
            self.open = False
        return self.open

    def trickle(self):
        if self.open and self.sent < len(self.payload):
            try:
                self.sock.send(self.payload[self.sent:self.sent + 1])
                self.sent += 1
            except (ConnectionError, OSError, ssl.SSLError):
                self.open = False


def open_one(args, src, hello, ctx):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    s.connect((args.host, args.port))
    if args.mode == "request":
        s = ctx.wrap_socket(s)
        body = b"POST /v1/join HTTP/1.1\r\nHost: flood\r\nContent-Type: application/json\r\n"
        c = Conn(s, body)
    else:
        c = Conn(s, hello if args.mode == "handshake" else b"")
    s.setblocking(False)
    return c


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connect", required=True, help="HOST:PORT")
    p.add_argument("--sources", default="127.0.0.2", help="ADDR or FIRST-LAST")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--mode", choices=["silent", "handshake", "request"], default="silent")
    p.add_argument("--interval", type=float, default=4.0)
    p.add_argument("--at", default="3", help="comma-separated seconds to report at; the last ends the run")
    args = p.parse_args()
    args.host, _, port = args.connect.rpartition(":")
    args.port = int(port)
    at = [float(x) for x in args.at.split(",")]

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    hello = client_hello()
    start = time.monotonic()
    conns, refused = [], 0
    for src in sources(args.sources, args.count):
        try:
            conns.append(open_one(args, src, hello, ctx))
        except (OSError, ssl.SSLError) as e:
            if isinstance(e, OSError) and e.errno == errno.EADDRNOTAVAIL:
                raise
            refused += 1
    next_trickle = time.monotonic()
    for t in at:
        while time.monotonic() - start < t:
            if time.monotonic() >= next_trickle:
                for c in conns:
                    c.trickle()
                next_trickle += args.interval
            time.sleep(0.05)
        n_open = sum(1 for c in conns if c.alive())
        print(json.dumps({"t": t, "open": n_open, "closed": len(conns) - n_open, "refused": refused}), flush=True)
    for c in conns:
        c.sock.close()


if __name__ == "__main__":
    sys.exit(main())
