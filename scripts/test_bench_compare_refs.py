#!/usr/bin/env python3
"""Tests for scripts/bench_compare_refs.py: python3 scripts/test_bench_compare_refs.py

The nccl-tests sample is printed with the printf formats of nccl-tests src/util.cu
(writeBenchmarkLinePreamble/Body, writeResultFooter); the nvbandwidth one follows
json_output.cpp (values as strings, "N/A", three matrices appended for a bidirectional test).
"""
import contextlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest

_spec = importlib.util.spec_from_file_location(
    "bench_compare_refs", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "bench_compare_refs.py"))
bcr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bcr)


def float_str(value, width):
    """nccl-tests getFloatStr."""
    for f in (f"%{width}.2f", f"%{width}.1f", f"%{width}.0f"):
        s = f % value
        if len(s) <= width:
            return s
    return (f"%{width}.1e" if width >= 7 else f"%{width}.0e") % value


def nccl_output(sizes_busbw, redop="sum", nranks=2, in_place_factor=1.02, wrong=0):
    factor = 2 * (nranks - 1) / nranks  # all-reduce
    lines = ["# nccl-tests version 2.19.6 nccl-headers=22809 nccl-library=22809",
             "# Collective test starting: all_reduce_perf",
             "# nThread 1 nGpus %d minBytes 8388608 maxBytes 8589934592 step: 4(factor) "
             "warmup iters: 1 iters: 20 agg iters: 1 validation: 1 graph: 0 unalign: 0" % nranks,
             "#", "# Using devices",
             "#  Rank  0 Group  0 Pid   4242 on         vm device  0 [0000:18:00] NVIDIA H200",
             "#",
             "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s " % (
                 "size", "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong",
                 "time", "algbw", "busbw", "#wrong")]
    for size, busbw in sizes_busbw:
        line = "%12li  %12li  %8s  %6s  %6s" % (size, size // 4, "float", redop, "%6i" % -1)
        for bw in (busbw, busbw * in_place_factor):
            alg = bw / factor
            line += "  %7s  %6s  %6s  %6g" % (float_str(size / alg / 1e3, 7),
                                              float_str(alg, 6), float_str(bw, 6), wrong)
        lines.append(line)
    lines += ["# %-20s : %d %s" % ("Out of bounds values", 0, "OK"),
              "# %-20s : %g %s" % ("Avg bus bandwidth", 123.456, ""), "#",
              "# Collective test concluded: all_reduce_perf", "#"]
    return "\n".join(lines) + "\n"


NVB = {"nvbandwidth": {"version": "v0.8", "testcases": [
    {"name": "host_to_device_memcpy_ce", "status": "Passed",
     "bandwidth_matrix": [["55.12", "54.5"]], "sum": 109.62},
    {"name": "device_to_device_memcpy_write_ce", "status": "Passed",
     "bandwidth_matrix": [["N/A", "391.5"], ["390.9", "N/A"]]},
    {"name": "device_to_device_bidirectional_memcpy_write_ce", "status": "Passed",
     "bandwidth_matrix": [["N/A", "380"], ["381", "N/A"], ["N/A", "379"], ["378", "N/A"],
                          ["N/A", "759"], ["759", "N/A"]]},
    {"name": "device_to_host_memcpy_ce", "status": "Waived"}]}}


class NcclTestsParser(unittest.TestCase):
    def test_rows_sizes_and_both_placements(self):
        text = nccl_output([(8 << 20, 168.0), (8 << 30, 350.0), (123456789012, 1234.5)])
        info, problem = bcr.parse_nccl_tests(text)
        self.assertIsNone(problem)
        self.assertEqual([r["bytes"] for r in info["rows"]], [8 << 20, 8 << 30, 123456789012])
        self.assertAlmostEqual(info["rows"][0]["out_of_place"]["busbw"], 168.0, places=2)
        self.assertAlmostEqual(info["rows"][1]["in_place"]["busbw"], 357.0, places=1)
        # 1234.5 * 1.02 does not fit "%6.2f": nccl-tests prints "1259.2"
        self.assertAlmostEqual(info["rows"][2]["in_place"]["busbw"], 1259.2, places=1)
        self.assertEqual(info["nccl_library"], 22809)
        self.assertEqual(info["ngpus"], 2)
        self.assertEqual(info["out_of_bounds"], 0)
        self.assertAlmostEqual(info["avg_busbw"], 123.456)

    def test_failure_output_is_a_reason_not_a_crash(self):
        text = ("# nccl-tests version 2.19.6 nccl-headers=22809 nccl-library=22803\n"
                "vm: Test NCCL failure common.cu:1008 'unhandled cuda error'\n")
        info, problem = bcr.parse_nccl_tests(text)
        self.assertIsNone(info)
        self.assertIn("Test NCCL failure", problem)
        self.assertEqual(bcr.parse_nccl_tests(""), (None, "no result rows"))


class NvbandwidthParser(unittest.TestCase):
    def test_matrix_blocks_and_last_document(self):
        first = {"nvbandwidth": {"error": "early print", "testcases": []}}
        text = "banner\n" + json.dumps(first) + "\n" + json.dumps(NVB, indent=3)
        out, problem = bcr.parse_nvbandwidth(text)
        self.assertIsNone(problem)
        self.assertEqual(out["host_to_device_memcpy_ce"]["matrix"], [[55.12, 54.5]])
        self.assertEqual(out["device_to_device_memcpy_write_ce"]["matrix"][0], [None, 391.5])
        self.assertEqual(out["device_to_device_bidirectional_memcpy_write_ce"]["matrix"],
                         [[None, 759.0], [759.0, None]])
        self.assertEqual(out["device_to_host_memcpy_ce"]["status"], "Waived")

    def test_error_only_document(self):
        out, problem = bcr.parse_nvbandwidth('{"nvbandwidth": {"error": "cuInit failed: 100"}}')
        self.assertIsNone(out)
        self.assertIn("cuInit failed", problem)
        self.assertEqual(bcr.parse_nvbandwidth("Segmentation fault")[0], None)


def result(key, gpu, median, gpu_field="gpu", **kw):
    r = {"key": key, gpu_field: gpu, "unit": "x", "median": median, "min": median,
         "max": median, "samples": [median]}
    r.update(kw)
    return r


def dl_result(key, gpu, median, **kw):
    """As src/bench/report_json.cc writes it: "device", and no "device" for pairs/collectives."""
    r = result(key, gpu, median, gpu_field="device", **kw)
    if gpu is None:
        del r["device"]
    return r


class Compare(unittest.TestCase):
    def rows(self, table, figure, source=None):
        return [r for r in table.rows if r["figure"] == figure
                and (source is None or r["reference_source"].startswith(source))]

    def test_goals_and_missing_sides(self):
        dl = {"schema": "dlrig.bench/1", "devices": [{"index": 0}, {"index": 1}], "results": [
            dl_result("gemm.bf16.8192x8192x8192", 0, 800.0),
            dl_result("gemm.bf16.8192x8192x8192", 1, 700.0),
            dl_result("gemm.fp8.8192x8192x8192", 0, 1000.0),
            dl_result("memory.copy", 0, 4300.0, limits=[{"value": 4800.0, "basis": "spec"}]),
            dl_result("pcie.h2d.pinned.268435456", 0, 57.0),
            dl_result("pcie.h2d.pinned", 0, 56.0),
            dl_result("nccl.all_reduce.8388608", None, 160.0),
            dl_result("p2p.0-1.uni", 0, 395.0)]}
        tr = {"results": [result("gemm.bf16.8192x8192x8192", 0, 790.0),
                          result("gemm.fp8.8192x8192x8192", 1, 1400.0)],
              "errors": [{"key": "gemm.fp8", "gpu": 0, "error": "RuntimeError: no fp8"}]}
        nvb, _ = bcr.parse_nvbandwidth(json.dumps(NVB))
        nccl = {"all_reduce": bcr.parse_nccl_tests(nccl_output([(8 << 20, 168.0)])),
                "all_gather": (None, "timed out")}
        t = bcr.compare(dl, None, tr, None, nvb, None, nccl, 61.0)

        bf16 = self.rows(t, "gemm.bf16.8192x8192x8192")
        self.assertEqual([(r["gpu"], r["dlrig"]) for r in bf16], [(0, 800.0), (1, 700.0)])
        self.assertAlmostEqual(bf16[0]["ratio"], 800 / 790)
        self.assertTrue(bf16[0]["met"])
        self.assertIsNone(bf16[1]["met"])  # torch has no GPU 1 bf16 figure
        fp8 = self.rows(t, "gemm.fp8.8192x8192x8192")
        fp8_gpu0 = [r for r in fp8 if r["gpu"] == 0][0]
        self.assertIsNone(fp8_gpu0["met"])  # torch failed on GPU 0: not judged
        self.assertIn("no fp8", fp8_gpu0["note"])
        fp8_gpu1 = [r for r in fp8 if r["gpu"] == 1][0]
        self.assertIn("dlrig missing", fp8_gpu1["note"])

        limit = self.rows(t, "memory.copy / HBM limit")[0]
        self.assertAlmostEqual(limit["ratio"], 4300 / 4800)
        self.assertFalse(limit["met"])  # 0.896 < 0.9

        h2d = self.rows(t, "pcie.h2d.pinned", "nvbandwidth")[0]
        self.assertEqual(h2d["dlrig"], 56.0)  # dlrig's headline figure, not a sweep point
        self.assertEqual(h2d["reference"], 55.12)
        self.assertTrue(h2d["met"])
        d2h = self.rows(t, "pcie.d2h.pinned", "nvbandwidth")[0]
        self.assertIn("Waived", d2h["note"])

        ar = self.rows(t, "nccl.all_reduce.8388608 (8M)")[0]
        self.assertAlmostEqual(ar["reference"], 168.0 * 1.02, places=1)  # in-place was faster
        self.assertFalse(ar["met"])
        ag = [r for r in t.rows if r["figure"].startswith("nccl.all_gather")][0]
        self.assertIn("timed out", ag["note"])

        p2p = self.rows(t, "p2p.0-1.uni", "nvbandwidth")[0]
        self.assertEqual(p2p["reference"], 391.5)
        self.assertIsNone(p2p["goal"])

        quick = self.rows(t, "bench --quick wall")[0]
        self.assertFalse(quick["met"])  # 61 s > 60 s
        self.assertIn("goals met", t.render())

    def test_main_with_nothing_readable(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.json")
            with open(bad, "w") as f:
                f.write("Segmentation fault (core dumped)\n")
            out = os.path.join(d, "cmp.json")
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                rc = bcr.main(["--dlrig", bad, "--torch", os.path.join(d, "absent.json"),
                               "--nccl", f"all_reduce={bad}", "--json-out", out])
            self.assertIn("goals met: 0 of", printed.getvalue())
            self.assertEqual(rc, 0)  # nothing judged, nothing failed
            with open(out) as f:
                doc = json.load(f)
            self.assertTrue(doc["sources"]["dlrig"].startswith("no dlrig bench results"))
            self.assertTrue(doc["sources"]["torch"].startswith("unreadable"))
            self.assertTrue(all(r["met"] is None for r in doc["rows"]))


def storage_doc(rows, profile="default", reps=3):
    """As scripts/bench-storage.sh writes JSON_OUT: per pattern the runs and their medians."""
    pats = []
    for pattern, block, dl, fio in rows:
        e = {"pattern": pattern, "block": block, "dlrig_gb_per_s": dl, "fio_gb_per_s": fio,
             "ratios": [a / b for a, b in zip(dl, fio)]}
        if e["ratios"]:
            e["median_ratio"] = sorted(e["ratios"])[len(e["ratios"]) // 2]
        if dl:
            e["dlrig_median"] = sorted(dl)[len(dl) // 2]
        else:
            e["missing"] = "dlrig reported no storage." + pattern
        if fio:
            e["fio_median"] = sorted(fio)[len(fio) // 2]
        pats.append(e)
    return {"schema": "dlrig.storagecmp/1", "fio_version": "fio-3.42", "reps": reps,
            "reps_done": reps, "params": {"profile": profile, "threads": 4, "queue_depth": 32,
                                          "file_size": "1G", "seconds": 10.0},
            "patterns": pats}


class Storage(unittest.TestCase):
    def test_band_and_missing_pattern(self):
        # seq-read's pairs: 0.96, 1.04, 1.10. The medians' ratio, 2.2 / 2.0, is outside the
        # band only because the disk drifted between pairs; the pairs' median, 1.04, is inside.
        doc = storage_doc([("seq-read", "1M", [2.4, 2.08, 2.2], [2.5, 2.0, 2.0]),
                           ("seq-write", "1M", [1.0, 1.0, 1.0], [1.1, 1.1, 1.1]),
                           ("rand-read", "4k", [], [])])
        t = bcr.compare(None, "not run", None, "not run", None, "not run", {}, None, doc, None)
        rows = {r["figure"]: r for r in t.rows}
        self.assertEqual(sorted(rows), ["storage.rand-read", "storage.seq-read",
                                        "storage.seq-write"])  # no GPU rows: none was run
        self.assertAlmostEqual(rows["storage.seq-read"]["ratio"], 1.04)  # the pairs' median
        self.assertIn("ratio of medians 1.100", rows["storage.seq-read"]["note"])
        self.assertTrue(rows["storage.seq-read"]["met"])
        self.assertFalse(rows["storage.seq-write"]["met"])  # 0.909: more than 5% slower
        self.assertEqual(rows["storage.seq-write"]["goal"], "0.95..1.05")
        self.assertIsNone(rows["storage.rand-read"]["met"])
        self.assertIn("no storage.rand-read", rows["storage.rand-read"]["note"])
        self.assertEqual(rows["storage.seq-read"]["reference_source"], "fio-3.42 libaio")

    def test_faster_than_fio_by_more_than_5_percent_is_not_met(self):
        doc = storage_doc([("seq-read", "1M", [1.2], [1.0])], reps=1)
        t = bcr.compare(None, "not run", None, "not run", None, "not run", {}, None, doc, None)
        self.assertFalse(t.rows[0]["met"])  # a figure too good is as suspect as one too low

    def test_main_storage_file_and_timed_out_step(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "storage.json")
            with open(path, "w") as f:
                json.dump(storage_doc([("seq-read", "1M", [1.0], [1.0])], reps=3), f)
            steps = os.path.join(d, "steps.tsv")
            with open(steps, "w") as f:
                f.write("step\trc\tseconds\tcommand\nstorage\t124\t150.0\tbash x\n")
            out = os.path.join(d, "cmp.json")
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                rc = bcr.main(["--storage", path, "--steps", steps, "--json-out", out])
            self.assertEqual(rc, 0)
            self.assertIn("goals met: 1 of 3", printed.getvalue())
            with open(out) as f:
                doc = json.load(f)
            row = [r for r in doc["rows"] if r["figure"] == "storage.seq-read"][0]
            self.assertIn("timed out", row["note"])
            self.assertEqual(doc["sources"]["storage (bench-storage.sh)"], "ok")

    def test_unreadable_storage_file(self):
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            rc = bcr.main(["--storage", "/nonexistent/storage.json"])
        self.assertEqual(rc, 0)
        self.assertIn("storage.seq-write", printed.getvalue())
        self.assertIn("unreadable", printed.getvalue())


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    unittest.main()
