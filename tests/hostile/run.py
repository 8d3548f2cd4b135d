#!/usr/bin/env python3
"""The hostile-input suite: dlrig run against broken trees, files and arguments.

Each case builds its input in a scratch directory (a copy of a real capture with one thing
broken, a project file, an argument), runs the real binary under a deadline and asserts:
no signal, no timeout, peak RSS under a bound, an exit code from the documented set, and for
--json output a valid document in which every unknown carries a reason. Some cases also assert
what must (not) be said.

    python3 tests/hostile/run.py --binary build/dlrig [-k NAME] [-j N] [-v]

Exit 0 when every case passes; the summary line counts cases and failures.
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE.parent.parent
CAPTURE = SOURCE.parent / "shared" / "captures" / "h100-ubuntu2404-torch211"
GPU_SYSFS = "sys/bus/pci/devices/0000:00:06.0"
TORCH_LIB = "opt/torch/.venv/lib/python3.12/site-packages/torch/lib"

DOCTOR_CODES = {0, 1, 2}  # healthy, warnings, errors: anything else is a crash or a usage error
USAGE = {64}


class Case:
    """One hostile input: `build(dir)` makes it and returns the argv tail (after the binary)."""

    def __init__(self, name, build, codes, *, env=None, timeout_s=30, rss_mb=512,
                 json_out=False, must=(), must_not=(), after=None, stdin=None):
        self.name, self.build, self.codes = name, build, set(codes)
        self.env, self.timeout_s, self.rss_mb = env or {}, timeout_s, rss_mb
        self.json_out, self.must, self.must_not = json_out, must, must_not
        self.after, self.stdin = after, stdin


# ---------------------------------------------------------------------------------------------
# Tree builders: a copy of the capture, then one thing broken.

def tree(d):
    root = pathlib.Path(d) / "root"
    shutil.copytree(CAPTURE, root, symlinks=True)
    return root


def replace(path, make):
    """Removes whatever is at `path` (file, link, dir) and lets `make(path)` put the new thing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    make(path)


def fifo(path):
    os.mkfifo(path)


def chardev(major, minor):
    return lambda path: os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(major, minor))


def text(content):
    data = content if isinstance(content, bytes) else content.encode()
    return lambda path: path.write_bytes(data)


def link(target):
    return lambda path: os.symlink(target, path)


def zeros(size):
    def make(path):
        with open(path, "wb") as f:
            f.truncate(size)
    return make


def random_bytes(size, seed=7):
    def make(path):
        x, out = seed, bytearray()
        while len(out) < size:  # xorshift: the same bytes every run
            x ^= (x << 13) & 0xFFFFFFFF; x ^= x >> 17; x ^= (x << 5) & 0xFFFFFFFF
            out += x.to_bytes(4, "little")
        path.write_bytes(bytes(out[:size]))
    return make


def doctor_tree(*edits, extra=()):
    """A doctor --root --json case over the capture with `edits` = [(relpath, make), ...]."""
    def build(d):
        root = tree(d)
        for rel, make in edits:
            replace(root / rel, make)
        return ["doctor", "--root", str(root), "--json", *extra]
    return build


def plan_tree(*edits):
    def build(d):
        root = tree(d)
        for rel, make in edits:
            replace(root / rel, make)
        return ["plan", "torch", "--root", str(root), "--offline"]
    return build


def empty_tree(d):
    root = pathlib.Path(d) / "empty"
    root.mkdir()
    return ["doctor", "--root", str(root), "--json"]


def deep_tree(d):
    root = tree(d)
    p = root / "opt/torch/.venv/lib/python3.12/site-packages"
    for i in range(200):
        p = p / "d"
    p.mkdir(parents=True)
    return ["doctor", "--root", str(root), "--json"]


def wide_tree(d):
    root = tree(d)
    site = root / "opt/torch/.venv/lib/python3.12/site-packages"
    for i in range(20000):
        (site / f"pkg{i}-1.0.dist-info").mkdir()
    return ["doctor", "--root", str(root), "--json"]


def many_links_tree(d):
    """A chain of 200 real links and 200 flattened ones: deeper than any hop budget."""
    root = tree(d)
    etc = root / "etc"
    for i in range(200):
        os.symlink(f"chain{i + 1}", etc / f"chain{i}")
        (etc / f"flat{i}").write_text(f"flat{i + 1}")
    replace(etc / "os-release", link("chain0"))
    replace(etc / "lsb-release", text("flat0"))
    return ["doctor", "--root", str(root), "--json"]


# ---------------------------------------------------------------------------------------------
# Project files for `check`.

def check_file(name, make, extra=()):
    def build(d):
        path = pathlib.Path(d) / name
        make(path)
        return ["check", str(path), "--gpu", "RTX 3090", "--driver", "535.183.01", *extra]
    return build


def long_run_line(kb):
    pkgs = " ".join(f"package{i}==1.0" for i in range(kb * 1024 // 16))
    return text(f"FROM ubuntu:22.04\nRUN pip install {pkgs}\n")


def yaml_bomb():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    lines.append("dependencies: [*j]")
    return text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# Writers: outputs that must not follow links or replace devices.

def capture_to(target_kind):
    def build(d):
        d = pathlib.Path(d)
        out = d / "node.tar.gz"
        if target_kind == "planted-tmp-link":
            victim = d / "victim"
            victim.write_text("keep me")
            os.symlink(victim, d / "node.tar.gz.tmp")
        elif target_kind == "symlink":
            victim = d / "victim"
            victim.write_text("keep me")
            os.symlink(victim, out)
        elif target_kind == "fifo":
            os.mkfifo(out)
        elif target_kind == "dir":
            out.mkdir()
        elif target_kind == "device":  # our own /dev/full, so a failure harms nothing else
            os.mknod(out, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        return ["capture", "--no-dlopen", "-o", str(out)]
    return build


def victim_intact(d, proc):
    victim = pathlib.Path(d) / "victim"
    if victim.exists() and victim.read_bytes() != b"keep me":
        return "the file behind a planted link was overwritten"
    return None


def device_intact(d, proc):
    out = pathlib.Path(d) / "node.tar.gz"
    return None if stat.S_ISCHR(os.lstat(out).st_mode) else "the device node was replaced"


def plan_output(kind):
    def build(d):
        d = pathlib.Path(d)
        out = d / "out"
        out.mkdir()
        victim = d / "victim"
        victim.write_text("keep me")
        if kind == "symlink":
            os.symlink(victim, out / "setup.sh")
        elif kind == "fifo":
            os.mkfifo(out / "requirements.txt")
        return ["plan", "torch", "--gpu", "RTX 3090", "--driver", "550.54.15", "--offline",
                "--force", "-o", str(out)]
    return build


def history_db(kind):
    def build(d):
        d = pathlib.Path(d)
        db = d / "history.db"
        if kind == "garbage":
            random_bytes(8192)(db)
        elif kind == "fifo":
            os.mkfifo(db)
        elif kind == "dir":
            db.mkdir()
        elif kind == "truncated":
            db.write_bytes(b"SQLite format 3\0" + b"\0" * 84)
        return ["history", "--db", str(db), "--since", "1h", "--json"]
    return build


def kb_dir(name, make):
    def build(d):
        kb = pathlib.Path(d) / "kb"
        kb.mkdir()
        make(kb / name)
        return ["--kb", str(kb), "kb"]
    return build


def args(*argv):
    return lambda d: list(argv)


# ---------------------------------------------------------------------------------------------
# The cases.

NOT_HEALTHY = ("no problems found",)

CASES = [
    # Root: links, flattened links, loops.
    Case("root.cpuinfo-names-itself", doctor_tree(("proc/cpuinfo", text("cpuinfo/x"))), DOCTOR_CODES, json_out=True),
    Case("root.flattened-cycle", doctor_tree(("etc/os-release", text("lsb-release")), ("etc/lsb-release", text("os-release"))), DOCTOR_CODES, json_out=True),
    Case("root.symlink-to-itself", doctor_tree(("etc/os-release", link("os-release"))), DOCTOR_CODES, json_out=True),
    Case("root.symlink-loop-in-sys", doctor_tree(("sys/bus/pci/devices", link("../../bus/pci/devices"))), DOCTOR_CODES, json_out=True),
    Case("root.link-escapes-root", doctor_tree(("etc/os-release", link("../../../../../../etc/shadow"))), DOCTOR_CODES, json_out=True, must_not=("root:",)),
    Case("root.absolute-link-escapes", doctor_tree(("etc/os-release", link("/etc/shadow"))), DOCTOR_CODES, json_out=True, must_not=("root:",)),
    Case("root.link-chains-400", many_links_tree, DOCTOR_CODES, json_out=True),
    Case("root.deep-directories", deep_tree, DOCTOR_CODES, json_out=True),
    Case("root.twenty-thousand-dist-infos", wide_tree, DOCTOR_CODES, json_out=True, timeout_s=60),
    Case("root.empty-tree", empty_tree, {1, 2}, json_out=True, must_not=NOT_HEALTHY),
    # Things that are not regular files where files are read.
    Case("fifo.dpkg-status", doctor_tree(("var/lib/dpkg/status", fifo)), DOCTOR_CODES, json_out=True),
    Case("fifo.dmesg", doctor_tree(("dmesg-nvidia.txt", fifo)), DOCTOR_CODES, json_out=True),
    Case("fifo.libtorch-cuda", doctor_tree((f"{TORCH_LIB}/libtorch_cuda.so", fifo)), DOCTOR_CODES, json_out=True),
    Case("fifo.os-release", doctor_tree(("etc/os-release", fifo)), DOCTOR_CODES, json_out=True),
    Case("fifo.driver-version", doctor_tree(("proc/driver/nvidia/version", fifo)), DOCTOR_CODES, json_out=True),
    Case("fifo.ld-so-conf", doctor_tree(("etc/ld.so.conf", fifo)), DOCTOR_CODES, json_out=True),
    Case("chardev.zero-as-meminfo", doctor_tree(("proc/meminfo", chardev(1, 5))), DOCTOR_CODES, json_out=True),
    Case("chardev.zero-as-libcudart", doctor_tree((f"{TORCH_LIB}/libtorch_cuda.so", chardev(1, 5))), DOCTOR_CODES, json_out=True),
    Case("dir.os-release-is-a-directory", doctor_tree(("etc/os-release", lambda p: p.mkdir())), DOCTOR_CODES, json_out=True),
    Case("dir.cpuinfo-is-a-directory", doctor_tree(("proc/cpuinfo", lambda p: p.mkdir())), DOCTOR_CODES, json_out=True),
    # Sizes and contents.
    Case("size.sparse-1g-cpuinfo", doctor_tree(("proc/cpuinfo", zeros(1 << 30))), DOCTOR_CODES, json_out=True),
    Case("size.sparse-1g-dpkg-status", doctor_tree(("var/lib/dpkg/status", zeros(1 << 30))), DOCTOR_CODES, json_out=True),
    Case("elf.zero-filled-libtorch-cuda", doctor_tree((f"{TORCH_LIB}/libtorch_cuda.so", zeros(10 << 20))), DOCTOR_CODES, json_out=True, must_not=("which the loader cannot find",)),
    Case("elf.random-libtorch-cuda", doctor_tree((f"{TORCH_LIB}/libtorch_cuda.so", random_bytes(1 << 20))), DOCTOR_CODES, json_out=True),
    Case("elf.truncated-header", doctor_tree((f"{TORCH_LIB}/libtorch_cuda.so", text(b"\x7fELF\x02\x01\x01" + b"\0" * 20))), DOCTOR_CODES, json_out=True),
    Case("text.os-release-latin1", doctor_tree(("etc/os-release", text(b'NAME="Ubunt\xfc"\nVERSION_ID="24.04"\nID=ubuntu\n'))), DOCTOR_CODES, json_out=True),
    Case("text.os-release-nul-bytes", doctor_tree(("etc/os-release", text(b"ID=ub\0untu\nVERSION_ID=\0\n"))), DOCTOR_CODES, json_out=True),
    Case("text.driver-version-garbage", doctor_tree(("proc/driver/nvidia/version", random_bytes(300))), DOCTOR_CODES, json_out=True),
    Case("text.cpuinfo-garbage", doctor_tree(("proc/cpuinfo", random_bytes(4096))), DOCTOR_CODES, json_out=True),
    Case("text.dpkg-status-garbage", doctor_tree(("var/lib/dpkg/status", random_bytes(65536))), DOCTOR_CODES, json_out=True),
    Case("text.library-name-latin1", doctor_tree((f"{TORCH_LIB}/libcudart\xff.so.13".encode("latin-1").decode("utf-8", "surrogateescape"), text(""))), DOCTOR_CODES, json_out=True),
    Case("text.dist-info-metadata-binary", doctor_tree(("opt/torch/.venv/lib/python3.12/site-packages/torch-2.11.0+cu130.dist-info/METADATA", random_bytes(8192))), DOCTOR_CODES, json_out=True),
    Case("json.daemon-json-garbage", doctor_tree(("etc/docker/daemon.json", text('{"runtimes": {"nvidia": [[[[')),), DOCTOR_CODES, json_out=True),
    Case("toml.container-config-brackets", doctor_tree(("etc/nvidia-container-runtime/config.toml", text("[[[\n"))), DOCTOR_CODES, json_out=True),
    Case("json.conda-meta-garbage", doctor_tree(("opt/conda/conda-meta/pytorch-2.0.1-py3.10_cuda11.8_cudnn8.7.0_0.json", text('{"name": "pytorch", "version": ')), ("opt/conda/conda-meta/history", text(""))), DOCTOR_CODES, json_out=True),
    Case("pci.vendor-file-garbage", doctor_tree((f"{GPU_SYSFS}/vendor", random_bytes(64))), DOCTOR_CODES, json_out=True),
    Case("pci.class-file-fifo", doctor_tree((f"{GPU_SYSFS}/class", fifo)), DOCTOR_CODES, json_out=True),
    Case("pci.device-dir-dangling-link", doctor_tree((GPU_SYSFS, link("../../../devices/nowhere"))), DOCTOR_CODES, json_out=True, must_not=("no nvidia gpu on the pci bus",)),
    Case("pci.numa-node-zero-device", doctor_tree((f"{GPU_SYSFS}/numa_node", chardev(1, 5))), DOCTOR_CODES, json_out=True),
    # The shell's environment.
    Case("env.ld-library-path-latin1", args("doctor", "--json", "--no-dlopen"), DOCTOR_CODES, json_out=True, env={"LD_LIBRARY_PATH": "/opt/\udcff/lib"}),
    Case("env.path-latin1", args("doctor", "--json", "--no-dlopen"), DOCTOR_CODES, json_out=True, env={"PATH": "/usr/bin:/opt/caf\udce9/bin:/bin"}),
    Case("env.cuda-home-missing", args("doctor", "--json", "--no-dlopen"), DOCTOR_CODES, json_out=True, env={"CUDA_HOME": "/nonexistent/cuda"}),
    Case("env.visible-devices-garbage", args("doctor", "--json", "--no-dlopen"), DOCTOR_CODES, json_out=True, env={"CUDA_VISIBLE_DEVICES": "GPU-\udcff,,-1,99999999999999999999"}),
    Case("env.huge-path", args("doctor", "--json", "--no-dlopen"), DOCTOR_CODES, json_out=True, env={"PATH": ":".join(["/nonexistent"] * 8000) + ":/usr/bin:/bin"}),
    # plan: bad requests are usage errors; hostile trees give an answer or a clear refusal.
    Case("plan.unknown-gpu", args("plan", "torch", "--gpu", "RTX 9999", "--driver", "550.54.15", "--offline"), USAGE),
    Case("plan.malformed-driver", args("plan", "torch", "--gpu", "RTX 3090", "--driver", "5x5.abc", "--offline"), USAGE),
    Case("plan.malformed-pin", args("plan", "torch==two", "--gpu", "RTX 3090", "--driver", "550.54.15", "--offline"), USAGE),
    Case("plan.unknown-framework", args("plan", "torchh", "--gpu", "RTX 3090", "--driver", "550.54.15", "--offline"), USAGE),
    Case("plan.impossible", args("plan", "torch==2.11", "--gpu", "RTX 3090", "--driver", "418.87", "--offline"), {2}),
    Case("plan.root-cpuinfo-names-itself", plan_tree(("proc/cpuinfo", text("cpuinfo/x"))), {0, 1, 2}),
    Case("plan.root-fifo-os-release", plan_tree(("etc/os-release", fifo)), {0, 1, 2}),
    Case("plan.output-symlink", plan_output("symlink"), {0, 64, 70, 73, 2}, after=victim_intact),
    Case("plan.output-fifo", plan_output("fifo"), {0, 64, 70, 73, 2}),
    # check: hostile project files.
    Case("check.dockerfile-260k-run-line", check_file("Dockerfile", long_run_line(260)), {0, 1, 2}, rss_mb=256, timeout_s=60),
    Case("check.yaml-billion-laughs", check_file("environment.yml", yaml_bomb()), {0, 1, 2, 64}, rss_mb=256),
    Case("check.yaml-deep-nesting", check_file("environment.yml", text("dependencies: " + "[" * 100000)), {0, 1, 2, 64}),
    Case("check.requirements-binary", check_file("requirements.txt", random_bytes(65536)), {0, 1, 2, 64}),
    Case("check.requirements-latin1", check_file("requirements.txt", text(b"torch==2.1.0 # caf\xe9\nnumpy\xff\n")), {0, 1, 2, 64}),
    Case("check.requirements-fifo", check_file("requirements.txt", fifo), USAGE),
    Case("check.requirements-dir", check_file("requirements.txt", lambda p: p.mkdir()), USAGE),
    Case("check.missing-file", args("check", "/nonexistent/requirements.txt", "--gpu", "RTX 3090", "--driver", "535.183.01"), USAGE),
    Case("check.pyproject-garbage", check_file("pyproject.toml", text("[[[\n[project\ndependencies = [")), {0, 1, 2, 64}),
    Case("check.compose-garbage", check_file("docker-compose.yml", text("services:\n  a: [\n")), {0, 1, 2, 64}),
    Case("check.requirements-include-loop", check_file("requirements.txt", text("-r requirements.txt\ntorch\n")), {0, 1, 2, 64}),
    # capture: never write through a planted link or over a device.
    Case("capture.planted-tmp-link", capture_to("planted-tmp-link"), {0, 1, 2, 64, 73}, after=victim_intact),
    Case("capture.output-is-symlink", capture_to("symlink"), {64, 73, 1, 2}, after=victim_intact),
    Case("capture.output-is-fifo", capture_to("fifo"), {64, 73, 1, 2}),
    Case("capture.output-is-dir", capture_to("dir"), {64, 73, 1, 2}),
    Case("capture.output-is-device", capture_to("device"), {64, 73, 1, 2}, after=device_intact),
    # history: databases that are not databases.
    Case("history.db-garbage", history_db("garbage"), {1, 2, 64, 74}),
    Case("history.db-fifo", history_db("fifo"), {1, 2, 64, 74}),
    Case("history.db-dir", history_db("dir"), {1, 2, 64, 74}),
    Case("history.db-truncated", history_db("truncated"), {1, 2, 64, 74}),
    Case("history.bad-since", args("history", "--db", "/nonexistent/h.db", "--since", "yesterday-ish"), USAGE),
    # kb: a user's broken tables are the user's error.
    Case("kb.bad-toml", kb_dir("pytorch.toml", text("[[release]\nversion = ")), USAGE),
    Case("kb.binary-toml", kb_dir("gpus.toml", random_bytes(4096)), USAGE),
    Case("kb.fifo-table", kb_dir("xid.toml", fifo), USAGE),
    Case("kb.missing-dir", args("--kb", "/nonexistent/kb", "kb"), USAGE),
    # Arguments.
    Case("args.unknown-command", args("doctorr"), USAGE),
    Case("args.unknown-flag", args("doctor", "--frobnicate"), USAGE),
    Case("args.huge-argument", args("explain", "x" * 100000), {1, 2, 64}),
    Case("args.explain-latin1", args("explain", "nouveau-\udcff"), {1, 2, 64}),
]


# ---------------------------------------------------------------------------------------------
# serve: hostile clients, then a normal scrape must still work.

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_case(binary, attack):
    """Starts serve on loopback without a GPU, runs `attack(port)`, then scrapes /metrics."""
    port = free_port()
    env = dict(os.environ, DLRIG_NVML_LIBRARY="/nonexistent/libnvidia-ml.so.1")
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--interval", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        held = attack(port)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        for h in held:
            h.close()
        if proc.poll() is not None:
            return f"serve exited with {proc.returncode}"
        if not reply.startswith(b"HTTP/1.1 200"):
            return f"scrape after the attack failed: {reply[:80]!r}"
        return None
    except OSError as e:
        return f"scrape after the attack failed: {e}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            return "serve did not stop on SIGTERM"


def send_and_hold(payloads):
    def attack(port):
        held = []
        for p in payloads:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            try:
                s.sendall(p)
            except OSError:
                pass
            held.append(s)
        time.sleep(0.3)
        return held
    return attack


SERVE_CASES = {
    "serve.binary-junk": send_and_hold([bytes(range(256)) * 64]),
    "serve.huge-request-line": send_and_hold([b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n"]),
    "serve.huge-header": send_and_hold([b"GET /metrics HTTP/1.1\r\nX: " + b"b" * (1 << 20) + b"\r\n\r\n"]),
    "serve.many-headers": send_and_hold([b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 100000 + b"\r\n"]),
    "serve.path-traversal": send_and_hold([b"GET /../../../../etc/shadow HTTP/1.1\r\n\r\n"]),
    "serve.content-length-lie": send_and_hold([b"POST /metrics HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nx"]),
    "serve.latin1-path": send_and_hold([b"GET /m\xe9trics HTTP/1.1\r\n\r\n"]),
    "serve.64-idle": send_and_hold([b""] * 64),
    "serve.200-slowloris": send_and_hold([b"GET /metrics HTTP/1.1\r\nX-a: "] * 200),
}


# ---------------------------------------------------------------------------------------------
# Running.

def unknowns_without_reason(doc, path="$"):
    bad = []
    if isinstance(doc, dict):
        if "unavailable" in doc and not str(doc.get("reason", "")).strip():
            bad.append(path)
        for k, v in doc.items():
            bad += unknowns_without_reason(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            bad += unknowns_without_reason(v, f"{path}[{i}]")
    return bad


def run_case(binary, case, keep):
    d = tempfile.mkdtemp(prefix="dlrig-hostile-")
    try:
        argv = case.build(d)
        env = dict(os.environ, NO_COLOR="1", HOME=d, XDG_DATA_HOME=d)
        for k, v in case.env.items():
            env[k] = v
        env_bytes = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
        start = time.time()
        proc = subprocess.Popen([binary, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=env_bytes, cwd=d,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=case.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return [f"timed out after {case.timeout_s} s"], time.time() - start, 0
        # ru_maxrss of the children reaped so far; one case per process keeps it per case.
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        problems = []
        if proc.returncode < 0:
            problems.append(f"killed by signal {-proc.returncode}")
        elif proc.returncode not in case.codes:
            problems.append(f"exit {proc.returncode}, expected one of {sorted(case.codes)}: "
                            f"{err.decode(errors='replace').strip()[-300:]}")
        if rss_mb > case.rss_mb:
            problems.append(f"peak RSS {rss_mb:.0f} MB over {case.rss_mb} MB")
        if case.json_out and proc.returncode in DOCTOR_CODES:
            try:
                doc = json.loads(out)
                missing = unknowns_without_reason(doc)
                if missing:
                    problems.append(f"unknowns without a reason: {missing[:5]}")
            except ValueError as e:
                problems.append(f"--json output is not JSON ({e}); {len(out)} bytes")
        said = (out + err).decode(errors="replace").lower()
        problems += [f"says {m!r}" for m in case.must_not if m.lower() in said]
        problems += [f"does not say {m!r}" for m in case.must if m.lower() not in said]
        if case.after:
            note = case.after(d, proc)
            if note:
                problems.append(note)
        return problems, time.time() - start, rss_mb
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def run_isolated(binary, case, keep):
    """Runs one case in a forked child so RUSAGE_CHILDREN measures that case alone."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            result = run_case(binary, case, keep)
        except Exception as e:  # a broken builder is a failed case, not a broken suite
            result = ([f"case could not be built: {str(e)[:200]}"], 0.0, 0.0)
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(SOURCE / "build" / "dlrig"))
    ap.add_argument("-k", dest="pattern", default="", help="only cases whose name contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep each case's scratch directory")
    opts = ap.parse_args()
    binary = os.path.abspath(opts.binary)
    if not CAPTURE.is_dir():  # as the C++ tests that read it: skipped, saying why
        print(f"hostile: skipped: the capture {CAPTURE} is missing", file=sys.stderr)
        return 77
    cases = [c for c in CASES if opts.pattern in c.name]
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as pool:
        futures = {pool.submit(run_isolated, binary, c, opts.keep): c for c in cases}
        for fut in concurrent.futures.as_completed(futures):
            case = futures[fut]
            problems, seconds, rss_mb = fut.result()
            failures += bool(problems)
            if problems or opts.verbose:
                state = "FAIL" if problems else "ok"
                print(f"{state:4} {case.name} ({seconds:.1f} s, {rss_mb:.0f} MB)"
                      + "".join(f"\n       {p}" for p in problems))
    serve_names = [n for n in SERVE_CASES if opts.pattern in n]
    for name in serve_names:
        problem = serve_case(binary, SERVE_CASES[name])
        failures += bool(problem)
        if problem or opts.verbose:
            print(f"{'FAIL' if problem else 'ok':4} {name}" + (f"\n       {problem}" if problem else ""))
    total = len(cases) + len(serve_names)
    print(f"hostile: {total} cases, {total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
