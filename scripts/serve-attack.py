#!/usr/bin/env python3
"""`dlrig serve` under a connection attack (issue 14). Starts serve on a free loopback port
with the fault-injection NVML (8 GPUs; no GPU needed), then in three phases (before, during,
after) scrapes /metrics on a schedule, each scrape on a new connection as a Prometheus server
whose keep-alive connection was closed would, and measures every scrape from connect to the
last byte. During the attack a separate process holds IDLE connections that send nothing,
SLOWLORIS connections that send a request head one byte every DRIP seconds, and NONREADING
connections that pipeline requests with a 4 KiB receive buffer and never read; whatever serve
closes is opened again after REOPEN seconds, so the numbers stay held (a non-reading one is
replaced every RENEW seconds: its end cannot be seen without reading). Prints, per phase, the
scrapes, failures, p50/p99/max latency of the scrapes served, serve's CPU use, RSS (VmRSS,
VmHWM) and descriptor count (its connections), and how many connections the attacker opened.
Exit status 0 when the attack phase meets the goals (no failed scrape, p99 <= --goal-p99-ms).

Standard library only. Usage:
  scripts/serve-attack.py [--dlrig build/dlrig] [--fake-nvml .../libnvidia-ml.so.1]
                          [--idle 500] [--slowloris 300] [--nonreading 60] [--attack-s 20]
                          [--attack-from 127.0.0.1]
"""
import argparse
import multiprocessing
import os
import re
import resource
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REQUEST = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
SLOW_HEAD = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
DRIP = b"X-Slow: 1\r\n"


def fake_config(path, gpus=8):
    lines = ["driver_version=580.159.04", "cuda_version=13000", f"device_count={gpus}"]
    for i in range(gpus):
        lines += [f"gpu{i}.name=NVIDIA H100 80GB HBM3", f"gpu{i}.uuid=GPU-attack-000{i}",
                  f"gpu{i}.pci_bus_id=00000000:1{i}:00.0", f"gpu{i}.memory_total=85520809984",
                  f"gpu{i}.memory_used=1048576000", f"gpu{i}.temperature=4{i}",
                  f"gpu{i}.power=7123{i}", f"gpu{i}.power_limit=700000",
                  f"gpu{i}.util_gpu=9{i}", f"gpu{i}.util_mem=3{i}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def proc_status(pid):
    """VmRSS and VmHWM in KiB, the number of open descriptors, CPU seconds used."""
    out = {"rss": 0, "hwm": 0, "fds": 0, "cpu": 0.0}
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out["cpu"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    out["hwm"] = int(line.split()[1])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return out


def scrape(port, timeout, steps=None):
    """One GET /metrics on a new connection; (seconds, None) or (seconds, reason). `steps`, a
    list, gets the seconds to connected and to the first byte of the answer."""
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            connected = time.perf_counter()
            s.settimeout(timeout)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = s.recv(65536)
            first = time.perf_counter()
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        took = time.perf_counter() - start
        if steps is not None:
            steps += [connected - start, first - start]
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            return took, "answer: " + repr(head[:40])
        m = re.search(rb"Content-Length: (\d+)", head)
        if not m or int(m.group(1)) != len(body) or b"dlrig_gpu_info{" not in body:
            return took, "incomplete body"
        return took, None
    except OSError as e:
        return time.perf_counter() - start, type(e).__name__


# ---- the attacker: one process, one poll loop over every connection ----

class Attacker:
    def __init__(self, port, source, idle, slow, nonreading, drip_s, reopen_s, renew_s):
        self.port, self.source, self.drip_s = port, source, drip_s
        self.reopen_s, self.renew_s = reopen_s, renew_s
        self.want = {"idle": idle, "slowloris": slow, "nonreading": nonreading}
        self.socks = {}  # fd -> (kind, socket, bytes of DRIP sent)
        self.poller = select.poll()
        self.opened = {k: 0 for k in self.want}
        self.closed_by_server = {k: 0 for k in self.want}
        self.failed_connects = 0
        self.due = []  # (time, kind): reopen after a pause

    def open(self, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if kind == "nonreading":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.bind((self.source, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            if kind == "slowloris":
                s.send(SLOW_HEAD)
            elif kind == "nonreading":
                try:
                    s.send(REQUEST * 64)  # as much as goes; never read
                except BlockingIOError:
                    pass
        except OSError:
            s.close()
            self.failed_connects += 1
            self.due.append((time.monotonic() + self.reopen_s, kind))
            return
        self.opened[kind] += 1
        self.socks[s.fileno()] = [kind, s, 0, time.monotonic()]
        events = select.POLLRDHUP if kind == "nonreading" else select.POLLRDHUP | select.POLLIN
        self.poller.register(s.fileno(), events)

    def lost(self, fd, by_server=True):
        kind, s = self.socks.pop(fd)[:2]
        self.poller.unregister(fd)
        s.close()
        if by_server:
            self.closed_by_server[kind] += 1
        self.due.append((time.monotonic() + (self.reopen_s if by_server else 0), kind))

    def run(self, seconds, report):
        for kind, n in self.want.items():
            for _ in range(n):
                self.open(kind)
        end = time.monotonic() + seconds
        next_drip = time.monotonic() + self.drip_s
        while time.monotonic() < end:
            for fd, ev in self.poller.poll(100):
                if fd not in self.socks:
                    continue
                kind, s = self.socks[fd][:2]
                if kind != "nonreading" and ev & select.POLLIN and not ev & select.POLLRDHUP:
                    try:  # an idle or slow connection was answered (408/431): read it away
                        if s.recv(65536):
                            continue
                    except BlockingIOError:
                        continue
                    except OSError:
                        pass
                self.lost(fd)
            now = time.monotonic()
            for fd, entry in list(self.socks.items()):
                if entry[0] == "nonreading" and now - entry[3] >= self.renew_s:
                    self.lost(fd, by_server=False)
            if now >= next_drip:
                next_drip = now + self.drip_s
                for fd, entry in list(self.socks.items()):
                    if entry[0] == "slowloris":
                        try:
                            entry[1].send(DRIP[entry[2] % len(DRIP):][:1])
                            entry[2] += 1
                        except OSError:
                            self.lost(fd)
            again = [d for d in self.due if d[0] <= now]
            self.due = [d for d in self.due if d[0] > now]
            for _, kind in again:
                self.open(kind)
        held = {k: sum(1 for e in self.socks.values() if e[0] == k) for k in self.want}
        report.send({"opened": self.opened, "closed_by_server": self.closed_by_server,
                     "held_at_end": held, "failed_connects": self.failed_connects})
        for entry in self.socks.values():
            entry[1].close()


def attack(args, port, seconds, report):
    raise_fd_limit()
    os.nice(10)  # the load generator yields to serve and the scraper, as if on another host
    Attacker(port, args.attack_from, args.idle, args.slowloris, args.nonreading, args.drip_s,
             args.reopen_s, args.renew_s).run(seconds, report)


# ---- the measurement ----

def phase(name, port, pid, seconds, rate, timeout):
    latencies, failures, reasons, status, slowest = [], 0, {}, [], []
    start = time.monotonic()
    next_status = start
    i = 0
    while True:
        due = start + i / rate
        now = time.monotonic()
        if now >= start + seconds:
            break
        if now < due:
            time.sleep(due - now)
        if time.monotonic() >= next_status:
            status.append(proc_status(pid))
            next_status += 0.5
        steps = []
        took, error = scrape(port, timeout, steps)
        if not error:  # latency of the scrapes served; the failed are counted apart
            latencies.append(took * 1000)
            slowest = sorted(slowest + [(took, steps, time.monotonic() - start)])[-3:]
        if error:
            failures += 1
            reasons[error] = reasons.get(error, 0) + 1
        i += 1
    status.append(proc_status(pid))
    elapsed = time.monotonic() - start
    lat = sorted(latencies) or [float("nan")]
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
    return {"phase": name, "scrapes": i, "failed": failures, "reasons": reasons,
            "p50": q[49], "p99": q[98], "max": lat[-1],
            "rss_max": max(s["rss"] for s in status), "rss_end": status[-1]["rss"],
            "hwm": status[-1]["hwm"], "fds_max": max(s["fds"] for s in status),
            "cpu": 100 * (status[-1]["cpu"] - status[0]["cpu"]) / elapsed,
            "slowest": slowest[::-1]}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dlrig", default=os.path.join(root, "build", "dlrig"))
    ap.add_argument("--fake-nvml", help="default: DLRIG's build dir/tests/fakenvml/libnvidia-ml.so.1")
    ap.add_argument("--idle", type=int, default=500)
    ap.add_argument("--slowloris", type=int, default=300)
    ap.add_argument("--nonreading", type=int, default=60)
    ap.add_argument("--drip-s", type=float, default=2.0, help="seconds between slowloris bytes")
    ap.add_argument("--reopen-s", type=float, default=0.5,
                    help="pause before a connection serve closed is opened again")
    ap.add_argument("--renew-s", type=float, default=5.0,
                    help="a non-reading connection is replaced after this many seconds")
    ap.add_argument("--attack-from", default="127.0.0.1",
                    help="source address of the attack (127.0.0.2: another peer than the scraper)")
    ap.add_argument("--before-s", type=float, default=5)
    ap.add_argument("--attack-s", type=float, default=20)
    ap.add_argument("--after-s", type=float, default=5)
    ap.add_argument("--rate", type=float, default=20, help="scrapes per second")
    ap.add_argument("--timeout-s", type=float, default=2, help="a scrape slower than this failed")
    ap.add_argument("--goal-p99-ms", type=float, default=10)
    args = ap.parse_args()
    fake = args.fake_nvml or os.path.join(os.path.dirname(os.path.abspath(args.dlrig)),
                                          "tests", "fakenvml", "libnvidia-ml.so.1")
    for path in (args.dlrig, fake):
        if not os.path.exists(path):
            sys.exit(f"serve-attack: {path} not found (build dlrig and its tests first)")
    limit = raise_fd_limit()
    need = args.idle + args.slowloris + args.nonreading + 64
    if limit < need:
        sys.exit(f"serve-attack: descriptor limit {limit} < {need}; raise `ulimit -Hn`")

    work = tempfile.mkdtemp(prefix="serve-attack-")
    config = os.path.join(work, "fake-nvml.conf")
    fake_config(config)
    port = free_port()
    env = dict(os.environ, DLRIG_NVML_LIBRARY=fake, DLRIG_FAKE_NVML=config)
    log = open(os.path.join(work, "serve.log"), "w+")
    serve = subprocess.Popen([args.dlrig, "serve", "--listen", f"127.0.0.1:{port}"],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            log.seek(0)
            if "listening on" in log.read():
                break
            time.sleep(0.05)
        else:
            sys.exit("serve-attack: serve did not start:\n" + open(log.name).read())
        while scrape(port, 2)[1] is not None and time.monotonic() < deadline:
            time.sleep(0.1)  # the first sample is in
        print(f"dlrig serve pid {serve.pid} on 127.0.0.1:{port} ({args.dlrig}); attack from "
              f"{args.attack_from}: {args.idle} idle, {args.slowloris} slowloris (a byte every "
              f"{args.drip_s:g} s), {args.nonreading} non-reading; scrapes {args.rate:g}/s, each "
              f"on a new connection, failed if not whole within {args.timeout_s:g} s; "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        results = [phase("before", port, serve.pid, args.before_s, args.rate, args.timeout_s)]
        mine, theirs = multiprocessing.Pipe(duplex=False)
        attacker = multiprocessing.Process(
            target=attack, args=(args, port, args.attack_s + 2, theirs))
        attacker.start()
        time.sleep(2)  # every connection opened before the measurement starts
        results.append(phase("attack", port, serve.pid, args.attack_s, args.rate,
                             args.timeout_s))
        stats = mine.recv() if mine.poll(30) else {}
        attacker.join(10)
        time.sleep(1)
        results.append(phase("after", port, serve.pid, args.after_s, args.rate, args.timeout_s))
    finally:
        serve.terminate()
        try:
            serve.wait(10)
        except subprocess.TimeoutExpired:
            serve.kill()
    print(f"{'phase':<7} {'scrapes':>7} {'failed':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'VmRSS max':>10} {'VmRSS end':>10} {'VmHWM':>8} {'fds max':>7} {'CPU':>6}")
    for r in results:
        print(f"{r['phase']:<7} {r['scrapes']:>7} {r['failed']:>6} {r['p50']:>7.2f} "
              f"{r['p99']:>7.2f} {r['max']:>7.1f} {r['rss_max'] / 1024:>8.1f}Mi "
              f"{r['rss_end'] / 1024:>8.1f}Mi {r['hwm'] / 1024:>6.1f}Mi {r['fds_max']:>7} "
              f"{r['cpu']:>5.1f}%")
        if r["reasons"]:
            print(f"        failures: {r['reasons']}")
        print("        slowest: " + ", ".join(
            f"{t * 1000:.1f} ms at {at:.1f} s (connected {c * 1000:.1f}, first byte {f * 1000:.1f})"
            for t, (c, f), at in r["slowest"]))
    if stats:
        opened = sum(stats["opened"].values())
        print(f"attacker: opened {stats['opened']} ({opened / (args.attack_s + 2):.0f}/s), "
              f"seen closed by serve {stats['closed_by_server']}, open on its side at the end "
              f"{stats['held_at_end']}, failed connects {stats['failed_connects']}; serve's "
              f"descriptors (fds max) count what it really held")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    attack_phase = results[1]
    ok = attack_phase["failed"] == 0 and attack_phase["p99"] <= args.goal_p99_ms
    print(f"goal (attack phase: 0 failed, p99 <= {args.goal_p99_ms:g} ms): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
