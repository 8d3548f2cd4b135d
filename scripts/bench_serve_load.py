#!/usr/bin/env python3
"""Open-loop load on an HTTP endpoint: RATE requests/s for DURATION s, each on a schedule
(request i is due at start + i/RATE, so a slow answer cannot slow the load down), spread over a
few keep-alive connections the way several Prometheus servers would scrape. Latency is counted
from when a request was due to when its whole answer had arrived. Prints p50/p90/p99/max in ms
and, given the server's pid, its CPU use (user+system from /proc/PID/stat) over the run.
Standard library only."""
import argparse
import os
import socket
import threading
import time


def read_response(sock, buf):
    """Reads one response (head + Content-Length body); returns (status, rest of buffer)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-response")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        rest += chunk
    return status, rest[length:]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/metrics")
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--pid", type=int, help="server pid, for its CPU use")
    args = ap.parse_args()

    request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
               "User-Agent: bench-serve\r\nAccept: text/plain\r\n\r\n").encode()
    total = int(args.rate * args.duration)
    latencies, errors, sizes = [], [], []
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def worker(k):
        sock = socket.create_connection((args.host, args.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        for i in range(k, total, args.connections):
            due = start + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                sock.sendall(request)
                status, buf = read_response(sock, buf)
                done = time.monotonic()
                with lock:
                    latencies.append(done - due)
                    if status != 200:
                        errors.append(status)
            except (OSError, ConnectionError, ValueError) as e:
                with lock:
                    errors.append(str(e))
                sock.close()
                sock = socket.create_connection((args.host, args.port))
                buf = b""
        sock.close()

    cpu0 = cpu_seconds(args.pid) if args.pid else None
    wall0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - wall0
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    print(f"requests: {len(latencies)} of {total} answered, {len(errors)} errors "
          f"({args.rate:g}/s for {args.duration:g} s over {args.connections} connections, {args.path})")
    if latencies:
        print(f"latency ms: p50 {pct(50):.3f}  p90 {pct(90):.3f}  p99 {pct(99):.3f}  "
              f"max {latencies[-1] * 1000:.3f}")
    if cpu0 is not None:
        used = cpu_seconds(args.pid) - cpu0
        print(f"server CPU: {used:.2f} s over {wall:.1f} s = {100 * used / wall:.1f}% of one core")
    if errors:
        print("errors (first 5):", errors[:5])
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
