#!/usr/bin/env python3
"""PyTorch reference figures for `dlrig bench`, one JSON document on stdout.

Measures, on every visible GPU, what PyTorch reaches with the same method dlrig states:
  gemm.<dtype>.<n>x<n>x<n>  TFLOP/s (TOPS for int8) = 2*n^3 / t, random normal inputs
  memory.copy               GB/s = 2 * bytes / t  (bytes read + bytes written, tensor.copy_)
  pcie.{h2d,d2h}.{pinned,pageable}  GB/s = bytes / t (bytes counted once, as nvbandwidth)
and with two or more GPUs:
  p2p.<a>-<b>.uni           GB/s = bytes / t, GPU a -> GPU b
  p2p.<a>-<b>.bidir         GB/s = (bytes a->b + bytes b->a) / t, both directions at once
Each figure: warm-up, then the median of N samples timed with CUDA events (p2p: host clock
around both devices' synchronisation), each sample long enough to dwarf the event overhead.
GB = 1e9 bytes, as nvbandwidth and nccl-tests count.

Progress goes to stderr. A measurement that fails is recorded under "errors" and the rest go
on, so one unsupported dtype never costs the other figures.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time

# Same GPU numbering as nvidia-smi, NVML and the reference tools; set before CUDA starts.
os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")

SCHEMA = "dlrig.torchref/1"
ALL_DTYPES = ["fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8"]
SECTIONS = ["gemm", "memory", "pcie", "p2p"]
GIB = 1 << 30
MIB = 1 << 20


def log(msg):
    print(f"[torch-ref] {msg}", file=sys.stderr, flush=True)


def summarize(samples):
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


def set_tf32(torch, enabled):
    """TF32 for fp32 matmul on or off; says which switch it used.

    The legacy switch (torch.backends.cuda.matmul.allow_tf32) is the one the comparison was
    specified with; PyTorch >= 2.9 prefers fp32_precision and warns on the legacy one."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.backends.cuda.matmul.allow_tf32 = enabled
        try:
            return f"allow_tf32={torch.backends.cuda.matmul.allow_tf32}"
        except Exception:  # noqa: BLE001 - a build that only reads back through the new API
            return f"allow_tf32={enabled}"


class Plan:
    def __init__(self, quick):
        self.warmup_s = 0.3 if quick else 1.0
        self.sample_s = 0.03 if quick else 0.06
        self.samples = 5 if quick else 15


class Nvml:
    """Clock, power and driver through pynvml (nvidia-ml-py) when it is there; None otherwise."""

    def __init__(self):
        self.nv = None
        try:
            import pynvml as nv
            nv.nvmlInit()
            self.nv = nv
        except Exception as e:  # noqa: BLE001 - any failure just means no NVML figures
            log(f"NVML unavailable ({e}); clocks and power not sampled")

    def handle(self, torch, index):
        if not self.nv:
            return None
        nv = self.nv
        props = torch.cuda.get_device_properties(index)
        uuid = getattr(props, "uuid", None)
        if uuid is not None:
            try:
                return nv.nvmlDeviceGetHandleByUUID("GPU-" + str(uuid))
            except Exception:  # noqa: BLE001
                pass
        try:  # CUDA_DEVICE_ORDER=PCI_BUS_ID above makes the indices agree
            return nv.nvmlDeviceGetHandleByIndex(index)
        except Exception:  # noqa: BLE001
            return None

    def driver(self):
        if not self.nv:
            return None
        try:
            v = self.nv.nvmlSystemGetDriverVersion()
            return v.decode() if isinstance(v, bytes) else v
        except Exception:  # noqa: BLE001
            return None

    def static_info(self, h):
        out = {}
        if not (self.nv and h):
            return out
        nv = self.nv
        for name, fn in [
            ("sm_clock_max_mhz", lambda: nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_SM)),
            ("mem_clock_max_mhz", lambda: nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_MEM)),
            ("power_limit_w", lambda: nv.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0),
            ("bus_width_bits", lambda: nv.nvmlDeviceGetMemoryBusWidth(h)),
            ("pcie_gen_max", lambda: nv.nvmlDeviceGetCurrPcieLinkGeneration(h)),
            ("pcie_width", lambda: nv.nvmlDeviceGetCurrPcieLinkWidth(h)),
        ]:
            try:
                out[name] = fn()
            except Exception:  # noqa: BLE001
                pass
        return out

    def cpu_affinity(self, h):
        """The CPUs NVML calls close to the GPU, for NUMA-local pinned memory (as nvbandwidth)."""
        if not (self.nv and h):
            return None
        try:
            n = os.cpu_count() or 64
            words = self.nv.nvmlDeviceGetCpuAffinity(h, (n + 63) // 64)
            cpus = {w * 64 + b for w, word in enumerate(words) for b in range(64) if word >> b & 1}
            return cpus & os.sched_getaffinity(0) or None
        except Exception:  # noqa: BLE001
            return None


class Sampler:
    """Samples SM clock and power every 50 ms on a thread while a figure is timed."""

    def __init__(self, nvml, handles):
        self.nvml, self.handles = nvml, [h for h in handles if h is not None]
        self.clock, self.power = [], []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.nvml.nv and self.handles:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        nv = self.nvml.nv
        while not self._stop.wait(0.05):
            for h in self.handles:
                try:
                    self.clock.append(nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))
                    self.power.append(nv.nvmlDeviceGetPowerUsage(h) / 1000.0)
                except Exception:  # noqa: BLE001
                    return

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=1)

    def params(self):
        out = {}
        if self.clock:
            out["sm_clock_mhz_median"] = statistics.median(self.clock)
            out["sm_clock_mhz_min"] = min(self.clock)
        if self.power:
            out["power_w_median"] = round(statistics.median(self.power), 1)
        return out


class Bench:
    def __init__(self, torch, args):
        self.torch = torch
        self.args = args
        self.plan = Plan(args.quick)
        self.nvml = Nvml()
        self.results = []
        self.errors = []
        self.handles = {}

    # -- timing ------------------------------------------------------------------------------

    def time_events(self, fn, work, scale, device):
        """Warm-up for plan.warmup_s, calibrate, then plan.samples samples of k calls each.

        Returns one figure per sample: work * k / seconds / scale."""
        torch = self.torch
        with torch.cuda.device(device):
            fn()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            calls = 0
            while time.perf_counter() - t0 < self.plan.warmup_s:
                fn()
                torch.cuda.synchronize()
                calls += 1
            per_call = (time.perf_counter() - t0) / max(calls, 1)
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            # Calibrate k from one event-timed call (the host-timed warm-up includes syncs).
            start.record()
            fn()
            end.record()
            end.synchronize()
            per_call = min(per_call, max(start.elapsed_time(end) / 1e3, 1e-6))
            k = max(1, min(10000, int(self.plan.sample_s / per_call + 0.5)))
            out = []
            for _ in range(self.plan.samples):
                start.record()
                for _ in range(k):
                    fn()
                end.record()
                end.synchronize()
                sec = start.elapsed_time(end) / 1e3
                out.append(work * k / sec / scale)
            return out, k

    def time_host(self, fn, work, scale, devices):
        """As time_events, but by the host clock around a synchronisation of every device."""
        torch = self.torch

        def sync():
            for d in devices:
                torch.cuda.synchronize(d)

        fn()
        sync()
        t0 = time.perf_counter()
        calls = 0
        while time.perf_counter() - t0 < self.plan.warmup_s:
            fn()
            sync()
            calls += 1
        per_call = (time.perf_counter() - t0) / max(calls, 1)
        k = max(1, min(10000, int(max(self.plan.sample_s, 0.05) / per_call + 0.5)))
        out = []
        for _ in range(self.plan.samples):
            sync()
            t = time.perf_counter()
            for _ in range(k):
                fn()
            sync()
            out.append(work * k / (time.perf_counter() - t) / scale)
        return out, k

    def add(self, key, bench, gpu, unit, samples, params, sampler=None):
        r = {"key": key, "bench": bench, "gpu": gpu, "unit": unit}
        r.update(summarize(samples))
        p = dict(params)
        if sampler:
            p.update(sampler.params())
        r["params"] = p
        self.results.append(r)
        log(f"{key} gpu{gpu}: {r['median']:.1f} {unit} (min {r['min']:.1f}, max {r['max']:.1f})")

    def guarded(self, key, gpu, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - record and go on with the next figure
            msg = f"{type(e).__name__}: {e}".splitlines()[0][:400]
            self.errors.append({"key": key, "gpu": gpu, "error": msg})
            log(f"{key} gpu{gpu}: FAILED {msg}")
        finally:
            try:
                self.torch.cuda.empty_cache()
            except Exception:  # noqa: BLE001
                pass

    # -- gemm --------------------------------------------------------------------------------

    def gemm(self, dev, dtype):
        torch = self.torch
        n = self.args.size
        key = f"gemm.{dtype}.{n}x{n}x{n}"
        d = torch.device("cuda", dev)
        flops = 2.0 * n * n * n
        params = {"m": n, "n": n, "k": n, "data": "randn"}
        params["fp32_mode"] = set_tf32(torch, dtype == "tf32")
        torch.manual_seed(1234 + dev)
        variants = []  # (label, fn)
        if dtype in ("fp64", "fp32", "tf32", "fp16", "bf16"):
            t = {"fp64": torch.float64, "fp32": torch.float32, "tf32": torch.float32,
                 "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
            a = torch.randn(n, n, device=d, dtype=t)
            b = torch.randn(n, n, device=d, dtype=t)
            c = torch.empty(n, n, device=d, dtype=t)
            variants.append(("matmul", lambda: torch.matmul(a, b, out=c)))
        elif dtype == "fp8":
            f8 = torch.float8_e4m3fn
            a = torch.randn(n, n, device=d).to(f8)
            bt = torch.randn(n, n, device=d).to(f8)  # row-major (N,K); .t() is column-major (K,N)
            b = bt.t()
            one = torch.tensor(1.0, device=d, dtype=torch.float32)
            params.update({"layout": "TN", "out_dtype": "bf16", "scales": "per-tensor fp32"})
            for fast in (False, True):
                variants.append((
                    f"_scaled_mm use_fast_accum={fast}",
                    lambda fast=fast: torch._scaled_mm(a, b, scale_a=one, scale_b=one,
                                                       out_dtype=torch.bfloat16,
                                                       use_fast_accum=fast)))
        elif dtype == "int8":
            a = torch.randint(-128, 128, (n, n), device=d, dtype=torch.int8)
            bt = torch.randint(-128, 128, (n, n), device=d, dtype=torch.int8)
            variants.append(("_int_mm b column-major", lambda: torch._int_mm(a, bt.t())))
            variants.append(("_int_mm b row-major", lambda: torch._int_mm(a, bt)))
        else:
            raise ValueError(f"unknown dtype {dtype}")

        best = None
        tried = {}
        for label, fn in variants:
            try:
                with Sampler(self.nvml, [self.handles.get(dev)]) as s:
                    samples, k = self.time_events(fn, flops, 1e12, dev)
                med = statistics.median(samples)
                tried[label] = round(med, 1)
                if best is None or med > best[0]:
                    best = (med, label, samples, k, s)
            except Exception as e:  # noqa: BLE001 - one layout may be unsupported
                tried[label] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
        if best is None:
            raise RuntimeError(f"every variant failed: {tried}")
        med, label, samples, k, s = best
        params.update({"method": label, "calls_per_sample": k, "variants": tried})
        unit = "TOPS" if dtype == "int8" else "TFLOP/s"
        self.add(key, "gemm", dev, unit, samples, params, s)

    # -- memory ------------------------------------------------------------------------------

    def memory_copy(self, dev):
        torch = self.torch
        nbytes = self.args.copy_bytes
        d = torch.device("cuda", dev)
        src = torch.randint(0, 256, (nbytes,), device=d, dtype=torch.uint8)
        dst = torch.empty_like(src)
        with Sampler(self.nvml, [self.handles.get(dev)]) as s:
            samples, k = self.time_events(lambda: dst.copy_(src), 2.0 * nbytes, 1e9, dev)
        self.add("memory.copy", "memory", dev, "GB/s", samples,
                 {"bytes": nbytes, "counted": "read+written", "method": "tensor.copy_",
                  "calls_per_sample": k}, s)

    # -- pcie --------------------------------------------------------------------------------

    def pcie(self, dev):
        torch = self.torch
        nbytes = self.args.host_bytes
        d = torch.device("cuda", dev)
        cpus = self.nvml.cpu_affinity(self.handles.get(dev))
        saved = os.sched_getaffinity(0)
        if cpus:
            os.sched_setaffinity(0, cpus)
        try:
            dev_buf = torch.randint(0, 256, (nbytes,), device=d, dtype=torch.uint8)
            for kind in ("pinned", "pageable"):
                def run(kind=kind):
                    host = torch.randint(0, 256, (nbytes,), dtype=torch.uint8)
                    if kind == "pinned":
                        host = host.pin_memory()
                    nb = kind == "pinned"
                    params = {"bytes": nbytes, "counted": "once", "non_blocking": nb,
                              "numa_affinity": bool(cpus)}
                    samples, k = self.time_events(lambda: dev_buf.copy_(host, non_blocking=nb),
                                                  nbytes, 1e9, dev)
                    self.add(f"pcie.h2d.{kind}", "pcie", dev, "GB/s", samples,
                             dict(params, calls_per_sample=k))
                    samples, k = self.time_events(lambda: host.copy_(dev_buf, non_blocking=nb),
                                                  nbytes, 1e9, dev)
                    self.add(f"pcie.d2h.{kind}", "pcie", dev, "GB/s", samples,
                             dict(params, calls_per_sample=k))
                self.guarded(f"pcie.*.{kind}", dev, run)
        finally:
            os.sched_setaffinity(0, saved)

    # -- p2p ---------------------------------------------------------------------------------

    def p2p(self, a, b):
        torch = self.torch
        nbytes = self.args.copy_bytes
        da, db = torch.device("cuda", a), torch.device("cuda", b)
        peer = torch.cuda.can_device_access_peer(a, b)
        src_a = torch.randint(0, 256, (nbytes,), device=da, dtype=torch.uint8)
        dst_b = torch.empty(nbytes, device=db, dtype=torch.uint8)
        params = {"bytes": nbytes, "counted": "once", "peer_access": peer,
                  "method": "tensor.copy_ across devices"}
        with Sampler(self.nvml, [self.handles.get(a), self.handles.get(b)]) as s:
            samples, k = self.time_host(lambda: dst_b.copy_(src_a), nbytes, 1e9, [a, b])
        self.add(f"p2p.{a}-{b}.uni", "p2p", a, "GB/s", samples,
                 dict(params, calls_per_sample=k), s)

        # Both directions at once. torch orders a cross-device copy against the current stream
        # of BOTH devices; giving each direction its own idle stream on the destination keeps
        # the two directions from serialising on each other.
        src_b = torch.randint(0, 256, (nbytes,), device=db, dtype=torch.uint8)
        dst_a = torch.empty(nbytes, device=da, dtype=torch.uint8)
        s_ab, s_ba = torch.cuda.Stream(da), torch.cuda.Stream(db)
        idle_b, idle_a = torch.cuda.Stream(db), torch.cuda.Stream(da)

        def both():
            with torch.cuda.stream(s_ab), torch.cuda.stream(idle_b):
                dst_b.copy_(src_a, non_blocking=True)
            with torch.cuda.stream(s_ba), torch.cuda.stream(idle_a):
                dst_a.copy_(src_b, non_blocking=True)

        with Sampler(self.nvml, [self.handles.get(a), self.handles.get(b)]) as s:
            samples, k = self.time_host(both, 2.0 * nbytes, 1e9, [a, b])
        self.add(f"p2p.{a}-{b}.bidir", "p2p", a, "GB/s", samples,
                 dict(params, counted="both directions summed", calls_per_sample=k), s)

    # -- driver ------------------------------------------------------------------------------

    def devices(self, indices):
        torch = self.torch
        out = []
        for i in indices:
            p = torch.cuda.get_device_properties(i)
            h = self.nvml.handle(torch, i)
            self.handles[i] = h
            info = {"index": i, "name": p.name, "sm_count": p.multi_processor_count,
                    "memory_bytes": p.total_memory,
                    "capability": f"{p.major}.{p.minor}"}
            for attr in ("L2_cache_size", "uuid", "pci_bus_id"):
                v = getattr(p, attr, None)
                if v is not None:
                    info[attr.lower()] = str(v) if attr == "uuid" else v
            info.update(self.nvml.static_info(h))
            out.append(info)
        return out

    def run(self):
        torch = self.torch
        count = torch.cuda.device_count()
        gpus = self.args.gpus if self.args.gpus is not None else list(range(count))
        gpus = [g for g in gpus if 0 <= g < count]
        doc = {
            "schema": SCHEMA,
            "tool": "scripts/bench-torch-ref.py",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "nccl": nccl_version(torch),
            "driver": self.nvml.driver(),
            "cuda_device_order": os.environ.get("CUDA_DEVICE_ORDER"),
            "profile": "quick" if self.args.quick else "default",
            "plan": vars(self.plan),
            "devices": self.devices(gpus),
        }
        doc["results"] = self.results  # the same lists, filled as figures come in
        doc["errors"] = self.errors
        sections = self.args.only or SECTIONS
        for g in gpus:
            if "gemm" in sections:
                for dt in self.args.dtypes:
                    self.guarded(f"gemm.{dt}", g, lambda g=g, dt=dt: self.gemm(g, dt))
                    checkpoint(doc)
                set_tf32(torch, False)
            if "memory" in sections:
                self.guarded("memory.copy", g, lambda g=g: self.memory_copy(g))
            if "pcie" in sections:
                self.guarded("pcie", g, lambda g=g: self.pcie(g))
            checkpoint(doc)
        if "p2p" in sections and len(gpus) >= 2:
            pairs = [(gpus[0], gpus[1])] if not self.args.all_pairs else [
                (x, y) for x in gpus for y in gpus if x != y]
            for a, b in pairs:
                self.guarded(f"p2p.{a}-{b}", a, lambda a=a, b=b: self.p2p(a, b))
        doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        return doc


def nccl_version(torch):
    try:
        v = torch.cuda.nccl.version()
        return ".".join(map(str, v)) if isinstance(v, tuple) else str(v)
    except Exception:  # noqa: BLE001 - a build without NCCL
        return None


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter warm-up, 5 samples")
    ap.add_argument("--dtypes", default=",".join(ALL_DTYPES),
                    help=f"comma list of {','.join(ALL_DTYPES)}")
    ap.add_argument("--size", type=int, default=8192, help="GEMM n for n x n x n (8192)")
    ap.add_argument("--copy-bytes", type=int, default=GIB,
                    help="device copy and p2p buffer bytes (1 GiB)")
    ap.add_argument("--host-bytes", type=int, default=256 * MIB,
                    help="host<->device buffer bytes (256 MiB)")
    ap.add_argument("--only", default="", help=f"comma list of sections: {','.join(SECTIONS)}")
    ap.add_argument("--gpus", default=None, help="comma list of GPU indices (all)")
    ap.add_argument("--all-pairs", action="store_true", help="p2p for every ordered pair")
    ap.add_argument("-o", "--output", default="-", help="write the JSON here instead of stdout")
    args = ap.parse_args(argv)
    args.dtypes = [d for d in args.dtypes.split(",") if d]
    bad = [d for d in args.dtypes if d not in ALL_DTYPES]
    if bad:
        ap.error(f"unknown dtype(s) {bad}; choose from {ALL_DTYPES}")
    args.only = [s for s in args.only.split(",") if s]
    bad = [s for s in args.only if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {bad}; choose from {SECTIONS}")
    args.gpus = None if args.gpus is None else [int(x) for x in args.gpus.split(",") if x]
    return args


def main(argv):
    args = parse_args(argv)
    try:
        import torch
    except ImportError as e:
        print(json.dumps({"schema": SCHEMA, "error": f"no torch: {e}"}))
        return 2
    if not torch.cuda.is_available():
        print(json.dumps({"schema": SCHEMA, "torch": torch.__version__,
                          "error": "torch.cuda.is_available() is False"}))
        return 2
    if args.output != "-":
        def write_partial(doc):  # what finished survives a kill by the caller's timeout
            write_json(doc, args.output)
        checkpoint.write = write_partial
    doc = Bench(torch, args).run()
    if args.output == "-":
        print(json.dumps(doc, indent=1))
    else:
        write_json(doc, args.output)
    return 0 if doc["results"] else 1


def write_json(doc, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)


def checkpoint(doc):
    if checkpoint.write:
        checkpoint.write(doc)


checkpoint.write = None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
