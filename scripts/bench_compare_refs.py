#!/usr/bin/env python3
"""Side-by-side table of `dlrig bench --json` against the reference tools of the same run.

Inputs (each optional: a reference that is absent or unreadable is reported as missing):
  --dlrig FILE        dlrig bench --json output (schema dlrig.bench/1)
  --torch FILE        scripts/bench-torch-ref.py output (schema dlrig.torchref/1)
  --nvbandwidth FILE  nvbandwidth -j output
  --nccl NAME=FILE    nccl-tests text output, NAME in all_reduce, all_gather, reduce_scatter
  --quick-seconds S   wall seconds of `dlrig bench --quick`, checked against the 60 s goal
  --storage FILE      scripts/bench-storage.sh's JSON_OUT (schema dlrig.storagecmp/1): dlrig's
                      storage figures beside fio's with the same parameters, medians of
                      alternating runs
Writes the table to stdout, and with --json-out the rows as JSON.

Goals (issue 6): gemm >= PyTorch matmul per dtype; memory.copy >= PyTorch device copy and
>= 90% of the computed HBM limit; pcie pinned >= nvbandwidth's CE figure; nccl busbw >=
nccl-tests at the same sizes; --quick <= 60 s; storage within 5% of fio (0.95..1.05). Rows
without a goal are shown for information. Ratios are dlrig / reference.
"""
import argparse
import json
import re
import sys

GEMM_DTYPES = ["fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8"]
NCCL_COLLECTIVES = ["all_reduce", "all_gather", "reduce_scatter"]


# --------------------------------------------------------------------------------------------
# Readers. Each returns (data, problem): data None with a one-line reason when unusable.

def read_text(path):
    if not path:
        return None, "not run"
    try:
        with open(path, "r", errors="replace") as f:
            return f.read(), None
    except OSError as e:
        return None, f"unreadable: {e.strerror}"


def json_documents(text):
    """Every top-level JSON object in text, in order (tools may print banners or two docs)."""
    dec = json.JSONDecoder()
    docs, i = [], 0
    while True:
        i = text.find("{", i)
        if i < 0:
            return docs
        try:
            doc, end = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            i += 1
            continue
        if isinstance(doc, dict):
            docs.append(doc)
        i = end


def load_results_doc(path, what):
    """dlrig bench or torch-ref JSON: the last object with a results list."""
    text, problem = read_text(path)
    if text is None:
        return None, problem
    docs = [d for d in json_documents(text) if isinstance(d.get("results"), list)]
    if not docs:
        errs = [d.get("error") for d in json_documents(text) if d.get("error")]
        return None, f"no {what} results" + (f" ({errs[-1]})" if errs else "")
    return docs[-1], None


def to_float(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None  # NaN -> None


def parse_nvbandwidth(text):
    """nvbandwidth -j: {testcase name: {"status", "matrix" (rows of float|None), "error"}}.

    A bidirectional CE testcase appends three matrices (read1/write1, 2, total) to one
    bandwidth_matrix; `blocks` splits them so "total" is the last square block."""
    docs = [d for d in json_documents(text) if isinstance(d.get("nvbandwidth"), dict)]
    if not docs:
        return None, "no nvbandwidth JSON"
    root = docs[-1]["nvbandwidth"]
    out = {}
    for tc in root.get("testcases", []) or []:
        name = tc.get("name")
        if not name:
            continue
        rows = [[to_float(v) for v in row] for row in tc.get("bandwidth_matrix", []) or []]
        cols = max((len(r) for r in rows), default=0)
        blocks = [rows]
        if cols and len(rows) > cols and len(rows) % cols == 0:
            blocks = [rows[i:i + cols] for i in range(0, len(rows), cols)]
        out[name] = {"status": tc.get("status"), "error": tc.get("error"),
                     "matrix": blocks[-1], "blocks": blocks}
    if not out and root.get("error"):
        return None, f"nvbandwidth error: {str(root['error']).splitlines()[0][:200]}"
    return out, None


_NCCL_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(-?\d+)\s+(.*)$")


def parse_nccl_tests(text):
    """nccl-tests stdout (src/util.cu print format): header facts, one row per size with the
    out-of-place and in-place time (us), algbw and busbw (GB/s) and #wrong, and the footer."""
    info = {"rows": [], "errors": []}
    per_iter = False
    for line in text.splitlines():
        if line.startswith("#"):
            m = re.search(r"nccl-tests version (\S+) nccl-headers=(\d+) nccl-library=(\d+)", line)
            if m:
                info.update(version=m.group(1), nccl_headers=int(m.group(2)),
                            nccl_library=int(m.group(3)))
            m = re.search(r"nThread (\d+) nGpus (\d+)", line)
            if m:
                info.update(nthreads=int(m.group(1)), ngpus=int(m.group(2)))
            if "i_min" in line:
                per_iter = True
            m = re.search(r"Out of bounds values\s*:\s*(\d+)\s*(\S*)", line)
            if m:
                info["out_of_bounds"] = int(m.group(1))
            m = re.search(r"Avg bus bandwidth\s*:\s*(\S+)", line)
            if m:
                info["avg_busbw"] = to_float(m.group(1))
            m = re.search(r"#\s*error:\s*(.*)", line)
            if m:
                info["errors"].append(m.group(1).strip())
            continue
        m = _NCCL_ROW.match(line)
        if not m:
            if re.search(r"(error|failed|Test NCCL failure|Test CUDA failure)", line, re.I):
                info["errors"].append(line.strip()[:300])
            continue
        rest = m.group(6).split()
        width = 8 if per_iter else 4
        row = {"bytes": int(m.group(1)), "count": int(m.group(2)), "type": m.group(3),
               "redop": m.group(4), "root": int(m.group(5))}

        def group(tokens):
            if len(tokens) < 3:
                return None
            return {"time_us": to_float(tokens[0]), "algbw": to_float(tokens[1]),
                    "busbw": to_float(tokens[2]),
                    "wrong": to_float(tokens[3]) if len(tokens) > 3 else None}

        row["out_of_place"] = group(rest[0:width])
        row["in_place"] = group(rest[width:2 * width])
        if row["out_of_place"] is None or row["out_of_place"]["busbw"] is None:
            info["errors"].append(f"unparsed row: {line.strip()[:200]}")
            continue
        info["rows"].append(row)
    if not info["rows"]:
        why = info["errors"][-1] if info["errors"] else "no result rows"
        return None, why
    return info, None


STORAGE_PATTERNS = ["seq-read", "seq-write", "rand-read"]


def load_storage(path):
    """bench-storage.sh's JSON_OUT: the last dlrig.storagecmp/1 document with patterns."""
    text, problem = read_text(path)
    if text is None:
        return None, problem
    docs = [d for d in json_documents(text)
            if d.get("schema") == "dlrig.storagecmp/1" and isinstance(d.get("patterns"), list)]
    if not docs:
        errs = [d.get("error") for d in json_documents(text) if d.get("error")]
        return None, errs[-1] if errs else "no bench-storage.sh results"
    return docs[-1], None


# --------------------------------------------------------------------------------------------
# Lookups

class Results:
    """Index over a results document: by (key, gpu) and by key."""

    def __init__(self, doc):
        self.doc = doc or {}
        self.items = [r for r in self.doc.get("results", []) if isinstance(r, dict)]
        for r in self.items:  # dlrig.bench/1 names the GPU "device"; torch-ref "gpu"
            if "gpu" not in r and "device" in r:
                r["gpu"] = r["device"]

    def find(self, key, gpu=None, any_gpu=False, prefix=False):
        """The result for key on gpu. prefix=True also accepts key.<suffix> (a size sweep) and
        keeps the highest median; any_gpu=True ignores the GPU (pairs, collectives)."""
        def key_ok(k):
            return k == key or (prefix and k.startswith(key + "."))

        def gpu_ok(r):
            if any_gpu or gpu is None or r.get("gpu") == gpu:
                return True
            return r.get("gpu") is None and len(self.gpus()) <= 1

        cands = [r for r in self.items if key_ok(str(r.get("key", ""))) and gpu_ok(r)]
        exact = [r for r in cands if r.get("key") == key]
        pool = exact or cands
        usable = [r for r in pool if to_float(r.get("median")) is not None]
        if usable:
            return max(usable, key=lambda r: to_float(r.get("median")))
        return pool[0] if pool else None

    def gpus(self):
        g = {r.get("gpu") for r in self.items if isinstance(r.get("gpu"), int)}
        for d in self.doc.get("devices", []) or []:
            if isinstance(d, dict) and isinstance(d.get("index"), int):
                g.add(d["index"])
        return g

    def keys_like(self, pattern):
        rx = re.compile(pattern)
        return sorted({r.get("key") for r in self.items if rx.match(str(r.get("key", "")))})


def limit_value(r):
    """The first of dlrig's limits (the one its ratio uses): "limits": [{"value"...}]."""
    lim = r.get("limits", r.get("limit"))
    if isinstance(lim, list):
        lim = lim[0] if lim else None
    if isinstance(lim, dict):
        return to_float(lim.get("value"))
    return to_float(lim)


# --------------------------------------------------------------------------------------------
# Rows

class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, gpu, unit, dl, ref, ref_source, goal=None, note="", dl_missing=None,
            ref_missing=None, lower_is_better=False, band=None, ratio=None):
        """dl / ref: (value, detail) or None. goal: minimum ratio (or, lower_is_better, max);
        band: (low, high), the ratio must lie within it (both ends included). ratio: judged
        instead of dl / ref (the median of paired runs' ratios, say)."""
        dv = dl[0] if dl else None
        rv = ref[0] if ref else None
        if ratio is None:
            ratio = dv / rv if dv is not None and rv not in (None, 0) else None
        met = None
        if band is not None and ratio is not None:
            met = band[0] <= ratio <= band[1]
        elif goal is not None and ratio is not None:
            met = ratio <= goal if lower_is_better else ratio >= goal
        notes = [n for n in (note,
                             dl[1] if dl and dl[1] else "",
                             ref[1] if ref and ref[1] else "") if n]
        if dv is None:
            notes.append(f"dlrig missing: {dl_missing or 'no result'}")
        if rv is None:
            notes.append(f"reference missing: {ref_missing or 'no result'}")
        self.rows.append({
            "figure": figure, "gpu": gpu, "unit": unit, "dlrig": dv, "reference": rv,
            "reference_source": ref_source, "ratio": ratio,
            "goal": (f"{band[0]:g}..{band[1]:g}" if band is not None else None if goal is None
                     else (("<= " if lower_is_better else ">= ") + f"{goal:g}")),
            "met": met, "note": "; ".join(notes)})

    def render(self):
        head = ["figure", "gpu", "unit", "dlrig", "reference", "ref. source", "ratio", "goal",
                "met", "note"]
        lines = []
        body = []
        for r in self.rows:
            body.append([
                r["figure"], "-" if r["gpu"] is None else str(r["gpu"]), r["unit"],
                fmt(r["dlrig"]), fmt(r["reference"]), r["reference_source"],
                "-" if r["ratio"] is None else f"{r['ratio']:.3f}",
                r["goal"] or "info",
                {True: "yes", False: "NO", None: "-"}[r["met"]], r["note"]])
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
                  for i, h in enumerate(head)]
        widths[-1] = len(head[-1])  # the note column runs free
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for b in body:
            lines.append("  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip())
        goals = [r for r in self.rows if r["goal"]]
        met = sum(1 for r in goals if r["met"])
        unknown = sum(1 for r in goals if r["met"] is None)
        lines.append("")
        lines.append(f"goals met: {met} of {len(goals)}"
                     + (f" ({unknown} could not be judged: a side is missing)" if unknown else ""))
        return "\n".join(lines)


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.4g}"


def dl_value(r, problem):
    """(median, detail) of a dlrig result, or None; the verdict/message when it did not run."""
    if r is None:
        return None, problem
    v = to_float(r.get("median"))
    verdict = str(r.get("verdict", ""))
    if v is None or verdict in ("waived", "error") and not r.get("samples"):
        why = verdict or "no median"
        if r.get("message"):
            why += f": {str(r['message'])[:120]}"
        return None, why
    return (v, ""), None


def error_covers(error_key, key):
    """Whether a torch-ref error entry ("gemm.int8", "pcie.*.pinned", "p2p.0-1") is the
    reason figure `key` ("gemm.int8.8192x8192x8192", "pcie.h2d.pinned") is missing."""
    if key.startswith(error_key):
        return True
    rx = "^" + re.escape(error_key).replace(r"\*", "[^.]+") + r"(\.|$)"
    return re.match(rx, key) is not None


def human_bytes(n):
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def add_storage(t, doc, problem):
    """One row per pattern: dlrig's median beside fio's, same parameters, goal 0.95..1.05."""
    by_pattern = {e.get("pattern"): e for e in (doc or {}).get("patterns", [])
                  if isinstance(e, dict)}
    params = (doc or {}).get("params") or {}
    shape = ""
    if params:
        secs = to_float(params.get("seconds"))
        shape = (f"{params.get('threads')} threads x QD {params.get('queue_depth')}, "
                 f"{params.get('file_size')} per file, {secs:g} s" if secs is not None else "")
    for pattern in [p for p in by_pattern if p not in STORAGE_PATTERNS] + STORAGE_PATTERNS:
        e = by_pattern.get(pattern, {})
        dv, rv = to_float(e.get("dlrig_median")), to_float(e.get("fio_median"))
        runs = len(e.get("ratios") or [])
        notes = [f"{e.get('block', '')} blocks, {shape}".strip(", ") if e else ""]
        if runs:
            notes.append(f"{runs} alternating run(s)")
        # With several pairs, the ratio judged is the median of each pair's ratio (the two ran
        # back to back, so the disk's drift cancels); the medians' ratio goes in the note.
        mr = to_float(e.get("median_ratio"))
        paired = mr if mr is not None and runs > 1 else None
        if paired is not None and dv is not None and rv:
            notes.append(f"ratio = median of {runs} paired ratios; ratio of medians {dv / rv:.3f}")
        if (doc or {}).get("step_note"):
            notes.append(doc["step_note"])
        why = e.get("missing") or problem or "not in bench-storage.sh's output"
        # bench-storage.sh runs fio only beside a dlrig figure: one reason is enough.
        ref_why = "not run without a dlrig figure" if doc is not None and dv is None else why
        ver = str((doc or {}).get("fio_version") or "fio")
        t.add(f"storage.{pattern}", None, "GB/s",
              (dv, "") if dv is not None else None, (rv, "") if rv is not None else None,
              (ver if ver.startswith("fio") else "fio " + ver) + " libaio", band=(0.95, 1.05),
              note="; ".join(n for n in notes if n), dl_missing=why, ref_missing=ref_why,
              ratio=paired)


def compare(dl_doc, dl_problem, torch_doc, torch_problem, nvb, nvb_problem, nccl, quick_s,
            storage=None, storage_problem="not run"):
    t = Table()
    dl = Results(dl_doc)
    tr = Results(torch_doc)
    gpus = sorted(dl.gpus() | tr.gpus()) or [0]
    # Only the storage comparison was run (bench-gpu-compare.sh --skip dlrig,torch,...): no
    # GPU rows that would all read "not run".
    if (dl_doc is None and torch_doc is None and nvb is None and not nccl
            and dl_problem == "not run" and torch_problem == "not run"
            and nvb_problem == "not run" and storage_problem != "not run"):
        gpus = []

    def dl_get(key, gpu, **kw):
        if dl_doc is None:
            return None, dl_problem
        r = dl.find(key, gpu, **kw)
        got, why = dl_value(r, "no result")
        if got and r.get("key") != key:
            got = (got[0], f"dlrig key {r.get('key')}")
        return got, why

    def torch_get(key, gpu, **kw):
        if torch_doc is None:
            return None, torch_problem
        r = tr.find(key, gpu, **kw)
        if r is None or to_float(r.get("median")) is None:
            errs = [e for e in torch_doc.get("errors", [])
                    if error_covers(str(e.get("key", "")), key)
                    and (gpu is None or e.get("gpu") in (gpu, None))]
            return None, (errs[0]["error"][:120] if errs else "no result")
        detail = (r.get("params") or {}).get("method", "")
        return (to_float(r["median"]), f"torch {detail}" if detail else ""), None

    def nvb_get(test, row, col):
        if nvb is None:
            return None, nvb_problem
        tc = nvb.get(test)
        if tc is None:
            return None, f"{test} not in output"
        if tc.get("status") not in (None, "Passed"):
            return None, f"{test} {tc.get('status')}" + (f": {tc['error']}" if tc.get("error") else "")
        try:
            v = tc["matrix"][row][col]
        except (IndexError, TypeError):
            v = None
        return ((v, ""), None) if v is not None else (None, f"{test} [{row}][{col}] is N/A")

    # gemm: dlrig's size from its keys where it ran one, else 8192.
    sizes = sorted({k.split(".")[2] for k in dl.keys_like(r"^gemm\.\w+\.\d+x\d+x\d+$")}
                   | {k.split(".")[2] for k in tr.keys_like(r"^gemm\.\w+\.\d+x\d+x\d+$")}
                   ) or ["8192x8192x8192"]
    torch_sizes = {k.split(".")[2] for k in tr.keys_like(r"^gemm\.\w+\.\d+x\d+x\d+$")}
    for g in gpus:
        for size in sizes:
            if torch_sizes and size not in torch_sizes:
                continue  # a dlrig sweep point PyTorch did not measure
            for dt in GEMM_DTYPES:
                key = f"gemm.{dt}.{size}"
                d, dwhy = dl_get(key, g)
                r, rwhy = torch_get(key, g)
                unit = "TOPS" if dt == "int8" else "TFLOP/s"
                t.add(key, g, unit, d, r, "torch", goal=1.0, dl_missing=dwhy, ref_missing=rwhy)

        d, dwhy = dl_get("memory.copy", g)
        r, rwhy = torch_get("memory.copy", g)
        t.add("memory.copy", g, "GB/s", d, r, "torch copy_", goal=1.0,
              note="bytes read+written", dl_missing=dwhy, ref_missing=rwhy)
        for key, goal in (("memory.copy", 0.9), ("memory.triad", None)):
            res = dl.find(key, g) if dl_doc else None
            dv, dwhy = dl_value(res, dl_problem if dl_doc is None else "no result")
            lim = limit_value(res) if res else None
            t.add(f"{key} / HBM limit", g, "GB/s", dv, (lim, "") if lim else None,
                  "dlrig limit", goal=goal, dl_missing=dwhy,
                  ref_missing="dlrig reported no limit")

        for direction, test in (("h2d", "host_to_device_memcpy_ce"),
                                ("d2h", "device_to_host_memcpy_ce")):
            key = f"pcie.{direction}.pinned"
            d, dwhy = dl_get(key, g, prefix=True)
            r, rwhy = nvb_get(test, 0, g)
            t.add(key, g, "GB/s", d, r, f"nvbandwidth {test}", goal=1.0,
                  dl_missing=dwhy, ref_missing=rwhy)
            r, rwhy = torch_get(key, g)
            t.add(key, g, "GB/s", d, r, "torch pinned copy_", dl_missing=dwhy, ref_missing=rwhy)
            key = f"pcie.{direction}.pageable"
            d, dwhy = dl_get(key, g, prefix=True)
            r, rwhy = torch_get(key, g)
            if d or r:
                t.add(key, g, "GB/s", d, r, "torch pageable copy_", dl_missing=dwhy,
                      ref_missing=rwhy)

    if len(gpus) >= 2:
        a, b = gpus[0], gpus[1]
        key = f"p2p.{a}-{b}.uni"
        d, dwhy = dl_get(key, None, any_gpu=True, prefix=True)
        r, rwhy = nvb_get("device_to_device_memcpy_write_ce", a, b)
        t.add(key, None, "GB/s", d, r, "nvbandwidth d2d write CE", dl_missing=dwhy,
              ref_missing=rwhy)
        r, rwhy = torch_get(key, None, any_gpu=True)
        t.add(key, None, "GB/s", d, r, "torch copy_ GPU->GPU", dl_missing=dwhy, ref_missing=rwhy)
        for suffix in ("bidir", "bidi"):
            d, dwhy = dl_get(f"p2p.{a}-{b}.{suffix}", None, any_gpu=True, prefix=True)
            if d:
                break
        key = f"p2p.{a}-{b}.bidir"
        r, rwhy = nvb_get("device_to_device_bidirectional_memcpy_write_ce", a, b)
        t.add(key, None, "GB/s", d, r, "nvbandwidth d2d bidir write CE (total)",
              note="both directions summed", dl_missing=dwhy, ref_missing=rwhy)
        r, rwhy = torch_get(key, None, any_gpu=True)
        t.add(key, None, "GB/s", d, r, "torch copy_ both ways", dl_missing=dwhy,
              ref_missing=rwhy)

    for coll in NCCL_COLLECTIVES:
        info, problem = nccl.get(coll, (None, "not run"))
        if info is None:
            if problem == "not run" and len(gpus) < 2:
                continue
            dl_keys = dl.keys_like(rf"^nccl\.{coll}\.\d+$")
            for k in dl_keys or [f"nccl.{coll}"]:
                d, dwhy = dl_get(k, None, any_gpu=True)
                t.add(k, None, "GB/s busbw", d, None, f"nccl-tests {coll}_perf", goal=1.0,
                      dl_missing=dwhy, ref_missing=problem)
            continue
        for row in info["rows"]:
            key = f"nccl.{coll}.{row['bytes']}"
            d, dwhy = dl_get(key, None, any_gpu=True)
            cands = [(row[p]["busbw"], p) for p in ("out_of_place", "in_place")
                     if row.get(p) and row[p].get("busbw") is not None]
            best = max(cands) if cands else None
            ref = (best[0], f"nccl-tests {best[1].replace('_', '-')}") if best else None
            wrong = [row[p]["wrong"] for p in ("out_of_place", "in_place")
                     if row.get(p) and row[p].get("wrong")]
            t.add(f"{key} ({human_bytes(row['bytes'])})", None, "GB/s busbw", d, ref,
                  f"nccl-tests {coll}_perf", goal=1.0,
                  note="nccl-tests #wrong > 0" if wrong else "",
                  dl_missing=dwhy, ref_missing="no busbw")

    if quick_s is not None:
        t.add("bench --quick wall", None, "s", (quick_s, ""), (60.0, ""), "goal 60 s",
              goal=1.0, lower_is_better=True)
    if storage_problem != "not run":
        add_storage(t, storage, storage_problem)
    return t


def step_exits(path):
    """{step name: exit code text} from a steps.tsv (step, rc, seconds, command)."""
    text, _ = read_text(path) if path else (None, None)
    out = {}
    for line in (text or "").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 2:
            out[cols[0]] = cols[1]
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dlrig")
    ap.add_argument("--torch")
    ap.add_argument("--nvbandwidth")
    ap.add_argument("--nccl", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--quick-seconds", type=float)
    ap.add_argument("--storage", help="bench-storage.sh JSON_OUT (dlrig.storagecmp/1)")
    ap.add_argument("--steps", help="bench-gpu-compare.sh's steps.tsv: exit codes of the runs")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    exits = step_exits(args.steps)

    def why(problem, step):
        """A missing source's reason, with how its run ended when that was not cleanly."""
        rc = exits.get(step)
        if problem and rc not in (None, "0"):
            return f"{problem} ({'timed out' if rc == '124' else 'exit ' + rc})"
        return problem

    dl_doc, dl_problem = load_results_doc(args.dlrig, "dlrig bench")
    torch_doc, torch_problem = load_results_doc(args.torch, "torch reference")
    nvb, nvb_problem = None, "not run"
    text, problem = read_text(args.nvbandwidth)
    if text is not None:
        nvb, nvb_problem = parse_nvbandwidth(text)
    else:
        nvb_problem = problem
    nccl = {}
    for spec in args.nccl:
        name, _, path = spec.partition("=")
        text, problem = read_text(path)
        info, problem = parse_nccl_tests(text) if text is not None else (None, problem)
        nccl[name] = (info, why(problem, f"nccl-{name}"))
    dl_problem = why(dl_problem, "dlrig-bench")
    torch_problem = why(torch_problem, "torch-ref")
    nvb_problem = why(nvb_problem, "nvbandwidth")
    storage, storage_problem = load_storage(args.storage)
    storage_problem = why(storage_problem, "storage")
    if storage and exits.get("storage") not in (None, "0"):
        rc = exits["storage"]  # what finished before bench-storage.sh was stopped or failed
        storage["step_note"] = "storage step " + ("timed out" if rc == "124" else "exit " + rc)

    table = compare(dl_doc, dl_problem, torch_doc, torch_problem, nvb, nvb_problem, nccl,
                    args.quick_seconds, storage, storage_problem)

    sources = {
        "dlrig": dl_problem or "ok", "torch": torch_problem or "ok",
        "nvbandwidth": nvb_problem or "ok",
        **{f"nccl-tests {k}": (v[1] or "ok") for k, v in nccl.items()},
    }
    if args.storage:
        sources["storage (bench-storage.sh)"] = storage_problem or "ok"
    print("sources: " + ", ".join(f"{k}: {v}" for k, v in sources.items()))
    for name, (info, _) in nccl.items():
        if info:
            print(f"nccl-tests {name}: version {info.get('version')}, NCCL library "
                  f"{info.get('nccl_library')}, {info.get('ngpus')} GPU(s), avg busbw "
                  f"{info.get('avg_busbw')}, out of bounds {info.get('out_of_bounds')}")
    if torch_doc:
        print(f"torch {torch_doc.get('torch')} cuda {torch_doc.get('cuda')} driver "
              f"{torch_doc.get('driver')}; devices: " + "; ".join(
                  f"{d.get('index')}: {d.get('name')} (SM max {d.get('sm_clock_max_mhz')} MHz)"
                  for d in torch_doc.get("devices", [])))
    if storage:
        p = storage.get("params") or {}
        print(f"storage: {storage.get('dir')} ({storage.get('filesystem')}), "
              f"{storage.get('fio_version')} ioengine=libaio, dlrig profile {p.get('profile')}, "
              f"{storage.get('reps_done')} of {storage.get('reps')} alternations, "
              f"{storage.get('date')}")
    print(table.render())
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"schema": "dlrig.benchcompare/1", "sources": sources,
                       "rows": table.rows,
                       "nccl_tests": {k: v[0] for k, v in nccl.items() if v[0]},
                       "torch_errors": (torch_doc or {}).get("errors", [])}, f, indent=1)
    goals = [r for r in table.rows if r["goal"]]
    return 1 if any(r["met"] is False for r in goals) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
