#!/usr/bin/env python3
"""Probes of glassgpt serve that curl cannot make: raw sockets, pipelining,
slow clients. Every probe is bounded in count and time, talks only to the
loopback addresses it is given, prints one line and exits 0 when the server
behaved, 1 when it did not.

usage: server_probe.py PORT keepalive
       server_probe.py PORT pipeline
       server_probe.py PORT duplicate-length
       server_probe.py PORT slow N SECONDS [spread]
                                             (N slow clients from 127.0.0.2, or
                                              with spread each from an address
                                              of its own in 127.0.1.0/16;
                                              normal requests from 127.0.0.1)
       server_probe.py PORT deadline SECONDS (one client that sends a byte a
                                              second: how long until closed)
"""
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def connect(source=None, timeout=5.0):
    s = socket.socket()
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect((HOST, PORT))
    return s


def read_response(s, buf=b""):
    """Reads one response (headers and a Content-Length body); returns
    (status, headers, body, rest) or None when the connection ends first."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return status, headers, rest[:n], rest[n:]


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


def keepalive():
    s = connect()
    got = []
    for path in ["/", "/api/models", "/style.css"]:
        try:
            s.sendall(get(path))
            r = read_response(s)
        except OSError:
            r = None
        got.append(r[0] if r else None)
    ok = got == [200, 200, 200]
    print(f"three requests on one connection: {got}")
    return ok


def pipeline():
    s = connect()
    s.sendall(get("/") + get("/api/models") + get("/style.css"))
    got, rest = [], b""
    for _ in range(3):
        r = read_response(s, rest)
        if not r:
            break
        got.append(r[0])
        rest = r[3]
    print(f"three pipelined requests: {got}")
    return got == [200, 200, 200]


def duplicate_length():
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello")
    r = read_response(s)
    print(f"two Content-Length headers: {r[0] if r else 'closed'}")
    return r is not None and 400 <= r[0] < 500


def slow(n, seconds, spread=False):
    """n clients from 127.0.0.2 (or each from its own address) each send a
    header a byte a second; meanwhile normal clients from 127.0.0.1 make
    requests. All normal ones must be served."""
    stop = time.time() + seconds
    slow_socks = []
    for i in range(n):
        source = f"127.0.{1 + i // 250}.{1 + i % 250}" if spread else "127.0.0.2"
        try:
            s = connect(source, timeout=2.0)
            s.setblocking(False)
            slow_socks.append(s)
        except OSError:
            pass  # refused: the per-address limit at work

    def trickle():
        header = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 1000
        i = 0
        while time.time() < stop:
            for s in slow_socks:
                try:
                    s.send(header[i % len(header):i % len(header) + 1])
                except OSError:
                    pass
            i += 1
            time.sleep(1.0)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    time.sleep(1.0)
    served = tried = 0
    while time.time() < stop - 0.5 and tried < 40:
        tried += 1
        try:
            s = connect(timeout=3.0)
            s.sendall(get("/api/models"))
            r = read_response(s)
            served += r is not None and r[0] == 200
            s.close()
        except OSError:
            pass
        time.sleep(0.05)
    t.join()
    for s in slow_socks:
        s.close()
    print(f"{n} slow clients{' from as many addresses' if spread else ''}: "
          f"{served} of {tried} normal requests served")
    return served == tried and tried > 0


def deadline(seconds):
    s = connect("127.0.0.3", timeout=1.5)
    t0 = time.time()
    header = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 1000
    i = 0
    while time.time() - t0 < seconds:
        try:
            s.send(header[i:i + 1])
            i += 1
            if s.recv(1024) == b"":
                break
        except socket.timeout:
            continue  # still open
        except OSError:
            break
    took = time.time() - t0
    print(f"a client sending a byte a second was closed after {took:.1f} s")
    return took < seconds


PORT = int(sys.argv[1])
probe = sys.argv[2]
if probe == "keepalive":
    ok = keepalive()
elif probe == "pipeline":
    ok = pipeline()
elif probe == "duplicate-length":
    ok = duplicate_length()
elif probe == "slow":
    ok = slow(int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:] == ["spread"])
elif probe == "deadline":
    ok = deadline(float(sys.argv[3]))
else:
    sys.exit(f"unknown probe {probe}")
sys.exit(0 if ok else 1)
