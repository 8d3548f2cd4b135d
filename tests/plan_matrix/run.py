#!/usr/bin/env python3
"""Golden matrix of `dlrig plan` cases (issue 13, "How it is checked").

Each case runs `dlrig plan ARGS --offline --json -o DIR` on a described machine and is reduced
to a compact outcome (exit code, versions, requirement and index lines, the Dockerfile's FROM,
the driver package) that must equal tests/plan_matrix/golden.json (`--update` rewrites it).
Failing cases must leave DIR without files.

Where PyPI answers, every case whose requirements need only PyPI is resolved by pip
(`install --dry-run --report`) for the plan's Python on manylinux x86_64, and the report must
show: the pinned torch, no CUDA 13 wheel under a CUDA 12 driver (nor cu12 and cu13 mixed),
TensorFlow with nvidia-cudnn-cu12, JAX with its CUDA plugin, and the GPU's compute capability in
the torch variant's arch list of data/pytorch.toml. `--compare-uv` prints, beside the result,
the backend uv's `--torch-backend=auto` picks for each torch case (a report, never a failure).

Python 3 standard library only (tomllib: Python >= 3.11; without it the arch check is skipped).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(HERE, "golden.json")
PYTORCH_TOML = os.path.join(REPO, "data", "pytorch.toml")
PYTORCH_HOST = "download.pytorch.org"

# (name, arguments after `plan`, expected exit code). Every described machine names its OS, so
# the outcome does not depend on the machine the test runs on.
U22, U24, DEB, RHEL = "ubuntu-22.04", "ubuntu-24.04", "debian-12", "rhel-9"


def m(gpu, driver, os_name):
    return ["--gpu", gpu, "--driver", driver, "--os", os_name]


CASES = [
    # The seeds' four (docs/seeds): conda 3090, 4090 docker workstation, Megatron + Apex, 2024 box.
    ("seed-3090-conda-cu121", ["torch", "torchvision", "torchaudio", *m("RTX 3090", "535.183.01", U22),
                               "--target", "conda", "--cuda", "12.1"], 0),
    ("seed-4090-docker", ["torch", "torchvision", *m("RTX 4090", "550.54.15", U22),
                          "--target", "docker"], 0),
    ("seed-megatron-v100-cuda10-apex", ["torch", "apex", *m("V100", "410.48", U22),
                                        "--cuda", "10.0"], 2),
    ("seed-2024-box-4090-cu121", ["torch", "torchvision", *m("RTX 4090", "535.183.01", U22),
                                  "--cuda", "12.1"], 0),
    # Frameworks.
    ("tf-3090-535", ["tensorflow", *m("RTX 3090", "535.183.01", U22)], 0),
    ("tf-a100-570-u24", ["tensorflow", *m("A100", "570.133.20", U24)], 0),
    ("tf-t4-470", ["tensorflow", *m("T4", "470.256.02", U22)], 0),
    ("tf-h100-docker", ["tensorflow", *m("H100", "570.133.20", U22), "--target", "docker"], 0),
    ("jax12-h100-570", ["jax[cuda12]", *m("H100", "570.133.20", U24)], 0),
    ("jax13-h100-580", ["jax[cuda13]", *m("H100", "580.95.05", U24)], 0),
    ("jax13-a100-550", ["jax[cuda13]", *m("A100", "550.54.15", U22)], 2),
    ("jax12-l40s-535-debian", ["jax[cuda12]", *m("L40S", "535.183.01", DEB)], 0),
    ("jax13-b200-580-docker", ["jax[cuda13]", *m("B200", "580.95.05", U24), "--target", "docker"], 0),
    ("jax12-3090-conda", ["jax[cuda12]", *m("RTX 3090", "550.54.15", U22), "--target", "conda"], 0),
    # GPUs from Kepler to Blackwell, old and new drivers.
    ("torch-k80-470", ["torch", *m("Tesla K80", "470.256.02", U22)], 0),
    ("torch-gtx980-525", ["torch", *m("GTX 980", "525.147.05", U22)], 0),
    ("torch-1080ti-580-u22", ["torch", *m("GTX 1080 Ti", "580.95.05", U22)], 0),
    ("torch-p100-535-debian", ["torch", *m("P100", "535.183.01", DEB)], 0),
    ("torch-v100-550-rhel", ["torch", *m("V100", "550.54.15", RHEL)], 0),
    ("torch-v100-580", ["torch", *m("V100", "580.95.05", U24)], 0),
    ("torch-t4-418", ["torch", *m("T4", "418.226.00", U22)], 2),
    ("torch-quadro6000-535", ["torch", *m("Quadro RTX 6000", "535.183.01", U22)], 0),
    ("torch-a100-525", ["torch", *m("A100", "525.147.05", U22)], 0),
    ("torch-3060-550-u24", ["torch", "torchvision", *m("RTX 3060", "550.54.15", U24)], 0),
    ("torch-4080s-570", ["torch", *m("RTX 4080 SUPER", "570.133.07", U24)], 0),
    ("torch-l40s-550-rhel", ["torch", *m("L40S", "550.54.15", RHEL)], 0),
    ("torch-h100-580-u24", ["torch", "torchvision", "torchaudio", *m("H100", "580.95.05", U24)], 0),
    ("torch-gh200-570", ["torch", *m("GH200", "570.133.20", U24)], 0),
    ("torch-b200-580", ["torch", *m("B200", "580.95.05", U24)], 0),
    ("torch-5090-570-audio", ["torch", "torchvision", "torchaudio", *m("RTX 5090", "570.133.07", U24)], 0),
    ("torch-5060ti-580", ["torch", *m("RTX 5060 Ti", "580.95.05", U24)], 0),
    ("torch-4090-580-audio", ["torch", "torchvision", "torchaudio", *m("RTX 4090", "580.95.05", U22)], 0),
    ("torch-5090-550", ["torch", *m("RTX 5090", "550.54.15", U24)], 2),
    ("torch-cc86-described", ["torch", "--cc", "8.6", "--memory", "24", "--driver", "550.54.15",
                              "--os", U22], 0),
    ("torch-4090-py312", ["torch", *m("RTX 4090", "570.133.07", U22), "--python", "3.12"], 0),
    # Extras.
    ("extra-flash-attn-h100", ["torch", "flash-attn", *m("H100", "570.133.20", U22)], 0),
    ("extra-flash-attn-1080ti", ["torch", "flash-attn", *m("GTX 1080 Ti", "550.54.15", U22)], 2),  # noqa
    ("extra-bitsandbytes-3090", ["torch", "bitsandbytes", *m("RTX 3090", "550.54.15", U22)], 0),
    ("extra-deepspeed-a100", ["torch", "deepspeed", *m("A100", "570.133.20", U22)], 0),
    ("extra-apex-a100", ["torch", "apex", *m("A100", "550.54.15", U22)], 0),
    ("extra-xformers-unknown", ["torch", "xformers", *m("H100", "570.133.20", U22)], 64),
    # Targets.
    ("target-venv-4090-580-u24", ["torch", *m("RTX 4090", "580.95.05", U24), "--target", "venv"], 0),
    ("target-devcontainer-4090", ["torch", *m("RTX 4090", "570.133.07", U22),
                                  "--target", "devcontainer"], 0),
    ("target-system-3090-470-upgrade", ["torch", *m("RTX 3090", "470.256.02", U22),
                                        "--target", "system", "--upgrade-driver"], 0),
    ("target-system-a100-470-debian-upgrade", ["torch", *m("A100", "470.256.02", DEB),
                                               "--target", "system", "--upgrade-driver"], 0),
    ("target-system-l40s-rhel-upgrade", ["torch", *m("L40S", "525.147.05", RHEL),
                                         "--target", "system", "--upgrade-driver"], 0),
    ("target-docker-compile-h100", ["torch", *m("H100", "580.95.05", U24), "--target", "docker",
                                    "--compile"], 0),
    # Bad input: exit 64 or 2, no files.
    ("bad-unknown-gpu", ["torch", *m("RTX 9999", "550.54.15", U22)], 64),
    ("bad-malformed-driver", ["torch", *m("RTX 3090", "5x5.1", U22)], 64),
    ("bad-unknown-target", ["torch", *m("RTX 3090", "550.54.15", U22), "--target", "nix"], 64),
    ("bad-impossible-5090-cuda10", ["torch", *m("RTX 5090", "418.56", U22), "--cuda", "10.0"], 2),
    ("bad-impossible-torch10-h100", ["torch==1.0", *m("H100", "570.133.20", U22)], 2),
]


# Outcomes this matrix shows to be wrong (plan bugs, reported on issue 13). They print as
# KNOWN-WRONG instead of failing, and fail once they stop happening, so the fix updates this list.
KNOWN_WRONG = {
    "jax12-h100-570": "jax[cuda12]>=0.11.2 resolves to jax 0.12.1, whose cuda12 extra needs "
                      "jax-cuda12-plugin 0.12.1 that PyPI lacks (data/jax.toml says so)",
    "jax12-l40s-535-debian": "jax[cuda12]>=0.11.2 on Python 3.11: no such jax for Python 3.11",
    "jax12-3090-conda": "jax[cuda12]>=0.11.2 on Python 3.10: no such jax for Python 3.10",
}



def run_case(binary, case):
    name, args, _ = case
    out = tempfile.mkdtemp(prefix="dlrig-plan-matrix-")
    target = os.path.join(out, "o")
    try:
        p = subprocess.run([binary, "plan", *args, "--offline", "--json", "-o", target],
                           capture_output=True, text=True, timeout=120)
        files = {}
        if os.path.isdir(target):
            for root, _, fnames in os.walk(target):
                for f in fnames:
                    path = os.path.join(root, f)
                    with open(path, errors="replace") as fh:
                        files[os.path.relpath(path, target)] = fh.read()
        return {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr, "files": files}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def lines(text):
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def outcome(res):
    """The compact, reviewable outcome of one case."""
    o = {"rc": res["rc"], "files": sorted(res["files"])}
    if res["rc"] != 0:
        err = [ln.strip() for ln in res["stderr"].splitlines() if ln.strip()
               and not re.search(r"names \d+ catalogue GPUs", ln)]
        o["error"] = err[0] if err else ""
        hint = [ln for ln in err[1:] if ln.startswith("would fit")]
        if hint:
            o["hint"] = hint[0]
        return o
    try:
        d = json.loads(res["stdout"])
    except ValueError as e:
        o["json_error"] = str(e)
        return o
    s = d.get("stack", {})
    o["gpu"] = ", ".join("%s (CC %s)" % (g.get("name"), g.get("compute_capability"))
                         for g in d.get("machine", {}).get("gpus", []))
    for k in ("python", "python_source", "torch", "variant", "cuda"):
        o[k] = s.get(k)
    o["index_lines"] = s.get("index_lines", [])
    req = res["files"].get("requirements.txt")
    o["requirements"] = [ln for ln in lines(req) if not ln.startswith("-")] if req is not None \
        else s.get("requirements", [])
    for r in o["requirements"]:
        mt = re.match(r"(tensorflow|jax)(\[[^\]]*\])?\s*([=<>!~].*)?$", r)
        if mt:
            o[mt.group(1)] = r
    if s.get("build_requirements"):
        o["build_requirements"] = s["build_requirements"]
    df = res["files"].get("Dockerfile")
    if df is not None:
        o["docker_from"] = [ln for ln in df.splitlines() if ln.startswith("FROM ")]
    if s.get("docker_image"):
        o["docker_image"] = s["docker_image"]
    if s.get("driver_install"):
        o["driver_install"] = s["driver_install"]
    if s.get("toolkit"):
        o["toolkit"] = s["toolkit"]
    return o


# --- pip as judge -----------------------------------------------------------------------------

def pypi_reachable():
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10).read(1)
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable", with its reason
        return "PyPI unreachable: %s" % e


def pip_inputs(res):
    """(requirement lines incl. index lines, python) or (None, reason) when pip can't judge it."""
    d = json.loads(res["stdout"])
    s = d["stack"]
    idx = s.get("index_lines", [])
    req = res["files"].get("requirements.txt")
    body = lines(req) if req is not None else idx + s.get("requirements", [])
    if any(PYTORCH_HOST in ln for ln in body + idx):
        return None, "needs %s" % PYTORCH_HOST
    if any("aarch64" in ln or "arm64" in ln for ln in res["stdout"].splitlines()):
        return None, "aarch64 machine"
    return body, (s["python"], GLIBC.get(s.get("os"), 35))


# glibc minor of each OS (manylinux_2_N tags pip may take), from data/os-python.toml's sources.
GLIBC = {"ubuntu-22.04": 35, "ubuntu-24.04": 39, "debian-12": 36, "rhel-9": 34}


def pip_resolve(body, target):
    python, glibc = target
    with tempfile.TemporaryDirectory(prefix="dlrig-plan-pip-") as tmp:
        reqf = os.path.join(tmp, "requirements.txt")
        with open(reqf, "w") as fh:
            fh.write("\n".join(body) + "\n")
        report = os.path.join(tmp, "report.json")
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--report", report, "--quiet", "-r", reqf, "--target", os.path.join(tmp, "t"),
               "--python-version", python,
               *[a for n in range(glibc, 16, -1) for a in ("--platform", "manylinux_2_%d_x86_64" % n)],
               "--platform", "manylinux2014_x86_64", "--only-binary=:all:", "--disable-pip-version-check", "--no-input"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, PIP_NO_CACHE_DIR="0"))
        if p.returncode != 0:
            return None, (p.stderr.strip().splitlines() or ["pip exit %d" % p.returncode])[-1]
        with open(report) as fh:
            rep = json.load(fh)
        return {i["metadata"]["name"].lower(): i["metadata"]["version"]
                for i in rep.get("install", [])}, None


def load_arch_lists():
    try:
        import tomllib
    except ImportError:
        return None
    with open(PYTORCH_TOML, "rb") as fh:
        data = tomllib.load(fh)
    table = {"variants": {r["version"]: r.get("variants", []) for r in data.get("release", [])
                          if "version" in r}}
    for b in data.get("build", []):
        for r in b.get("releases", []):
            table[(r, b["variant"])] = b["arch_list"]
    return table


def arch_runs(arch_list, cc):
    """True when a cubin of the GPU's major with minor <= its minor, or PTX <= its CC, is listed."""
    want = tuple(int(x) for x in cc.split("."))
    for item in arch_list.replace(" ", ";").split(";"):
        mt = re.match(r"(?:sm_)?(\d+)\.(\d+)[a-z]?(\+PTX)?$", item.strip())
        if not mt:
            continue
        have = (int(mt.group(1)), int(mt.group(2)))
        if have[0] == want[0] and have[1] <= want[1]:
            return True
        if mt.group(3) and have <= want:
            return True
    return False


def judge(case, res, resolved, archs):
    """Failures (list of strings) read from pip's report for one case."""
    d = json.loads(res["stdout"])
    s = d["stack"]
    fails = []
    # With --upgrade-driver the wheels run on the driver the plan installs.
    drv_cuda = (s.get("driver_install") or {}).get("cuda") or d["machine"].get("driver_cuda")
    driver_major = int(float(drv_cuda or "0"))
    cu12 = [n for n in resolved if n.startswith("nvidia-") and n.endswith("-cu12")]
    cu13 = [n for n in resolved if n.startswith("nvidia-") and n.endswith("-cu13")]
    if driver_major and driver_major < 13 and cu13:
        fails.append("CUDA 13 wheels under a CUDA %d driver: %s" % (driver_major, ", ".join(cu13)))
    if cu12 and cu13:
        fails.append("cu12 and cu13 wheels mixed: %s / %s" % (", ".join(cu12), ", ".join(cu13)))
    torch_pin = next((r for r in s.get("requirements", []) if re.match(r"torch==", r)), None)
    if torch_pin:
        want = torch_pin.split("==", 1)[1]
        got = resolved.get("torch")
        if not (got == want or (want.endswith(".*") and got and got.startswith(want[:-1]))):
            fails.append("torch pinned %s, pip resolved %s" % (want, got))
    if any(r.startswith("tensorflow") for r in s.get("requirements", [])):
        # TensorFlow 2.14's [and-cuda] is CUDA 11.8 (cu11 wheels); from 2.15 on, cu12.
        want = "nvidia-cudnn-cu11" if (s.get("cuda") or "").startswith("11.") else "nvidia-cudnn-cu12"
        if want not in resolved:
            fails.append("TensorFlow without %s (CPU-only)" % want)
    for r in s.get("requirements", []):
        mt = re.match(r"jax\[(cuda1[23])", r)
        if mt and "jax-%s-plugin" % mt.group(1) not in resolved:
            fails.append("jax without jax-%s-plugin" % mt.group(1))
    if s.get("torch") and archs is not None and resolved.get("torch"):
        rel = ".".join(resolved["torch"].split("+")[0].split(".")[:2])
        arch = archs.get((rel, s.get("variant")))
        for g in d["machine"].get("gpus", []):
            cc = g.get("compute_capability")
            if arch and cc and not arch_runs(arch, cc):
                fails.append("sm_%s not in torch %s %s arch list %s"
                             % (cc.replace(".", ""), rel, s.get("variant"), arch))
    return fails


# --- uv side by side ---------------------------------------------------------------------------

def find_uv():
    uv = shutil.which("uv")
    if uv:
        return uv, None
    venv = os.path.join(tempfile.gettempdir(), "dlrig-plan-matrix-uv")
    uv = os.path.join(venv, "bin", "uv")
    if os.path.exists(uv):
        return uv, None
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "uv"], check=True,
                       capture_output=True, timeout=300)
        return uv, None
    except Exception as e:  # noqa: BLE001 - the comparison is skipped with the reason
        return None, "could not install uv: %s" % e


def uv_backend(uv, driver, python):
    env = dict(os.environ, UV_TORCH_BACKEND="auto", UV_CUDA_DRIVER_VERSION=driver,
               UV_HTTP_TIMEOUT="3", UV_HTTP_RETRIES="0", UV_NO_CACHE="1")
    with tempfile.TemporaryDirectory(prefix="dlrig-plan-uv-") as tmp:
        reqf = os.path.join(tmp, "r.in")
        with open(reqf, "w") as fh:
            fh.write("torch\n")
        try:
            p = subprocess.run([uv, "pip", "compile", reqf, "--python-platform", "linux",
                                "--python-version", python, "--no-config", "-v"],
                               capture_output=True, text=True, timeout=120, env=env, cwd=tmp)
        except subprocess.TimeoutExpired:
            return None, "uv timed out"
    mt = re.search(r"https://download\.pytorch\.org/whl/([a-z0-9]+)/", p.stdout + p.stderr)
    if mt:
        return mt.group(1), None
    return None, "no download.pytorch.org URL in uv's log (rc %d)" % p.returncode


def arch_of(arch_list):
    return arch_list


def verdict(res, dl_variant, uv_var, archs):
    """One line naming which choice runs, from data/pytorch.toml's arch lists and the driver."""
    d = json.loads(res["stdout"])
    cc = (d["machine"].get("gpus") or [{}])[0].get("compute_capability")
    rel = d["stack"].get("torch")
    drv_cuda = d["machine"].get("driver_cuda") or "0"

    def runs(var):
        if archs is None or not cc or not rel:
            return None
        a = archs.get((rel, var))
        return None if a is None else arch_runs(a, cc)

    def needs(var):
        mt = re.match(r"cu(\d+)(\d)$", var or "")
        return (int(mt.group(1)), int(mt.group(2))) if mt else None

    drv = tuple(int(x) for x in drv_cuda.split(".")[:2])
    uvn = needs(uv_var)
    pin = re.search(r"--cuda (\S+)", d.get("request", ""))
    if pin:
        return ("dlrig honours the request's --cuda %s; uv's auto backend ignores it (uv is told "
                "only the driver)" % pin.group(1))
    inst = d["stack"].get("driver_install")
    if inst:
        return ("dlrig plans driver %s (CUDA %s) with --upgrade-driver; uv sees the installed %s "
                "(CUDA %s): not comparable" % (inst.get("package"), inst.get("cuda"),
                                                d["machine"].get("driver"), drv_cuda))
    rel_variants = (archs or {}).get("variants", {}).get(rel)
    if rel_variants and uv_var not in rel_variants and uv_var != "cpu":
        return ("torch %s publishes no %s (data/pytorch.toml: %s): uv's index would serve an older "
                "torch; dlrig newer" % (rel, uv_var, ", ".join(rel_variants)))
    uv_runs = runs(uv_var)
    if uv_var == "cpu":
        return "uv falls back to CPU wheels: dlrig right (GPU %s, driver CUDA %s)" % (cc, drv_cuda)
    if uvn and uvn[0] > drv[0]:
        return "uv's %s needs CUDA %d, driver runs %s: dlrig right" % (uv_var, uvn[0], drv_cuda)
    if uv_runs is False:
        return ("uv's %s for torch %s lacks sm_%s per data/pytorch.toml: dlrig right"
                % (uv_var, rel, cc.replace(".", "")))
    if uvn and needs(dl_variant) and uvn > needs(dl_variant):
        if uv_runs is None:
            return ("uv's %s is newer; torch %s %s has no arch row here, so dlrig stays on %s "
                    "(conservative)" % (uv_var, rel, uv_var, dl_variant))
        return "uv's %s is newer and runs too: dlrig is conservative" % uv_var
    if uvn and needs(dl_variant) and uvn < needs(dl_variant):
        return "dlrig's %s is newer, within driver CUDA %s: both run, dlrig newer" % (
            dl_variant, drv_cuda)
    return "differ: dlrig %s, uv %s" % (dl_variant, uv_var)


# --- main ----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--update", action="store_true", help="rewrite golden.json")
    ap.add_argument("--compare-uv", action="store_true", help="print uv's torch backend beside")
    ap.add_argument("--no-pip", action="store_true", help="skip the pip resolution")
    ap.add_argument("-j", type=int, default=4)
    ap.add_argument("-k", help="only cases whose name contains this")
    a = ap.parse_args()

    cases = [c for c in CASES if not a.k or a.k in c[0]]
    names = [c[0] for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        results = dict(zip(names, ex.map(lambda c: run_case(a.binary, c), cases)))

    failures = []
    outcomes = {}
    known = {}
    for name, _, want_rc in cases:
        res = results[name]
        outcomes[name] = outcome(res)
        if res["rc"] != want_rc:
            failures.append("%s: exit %d, expected %d: %s" % (name, res["rc"], want_rc,
                                                              res["stderr"].strip()[-300:]))
        if res["rc"] != 0 and res["files"]:
            failures.append("%s: exit %d but wrote %s" % (name, res["rc"], sorted(res["files"])))
        if res["rc"] in (2, 64) and not res["stderr"].strip():
            failures.append("%s: exit %d without a message" % (name, res["rc"]))

    golden = {}
    if os.path.exists(GOLDEN):
        with open(GOLDEN) as fh:
            golden = json.load(fh)
    matched = 0
    if a.update:
        if a.k:
            golden.update(outcomes)
        else:
            golden = outcomes
        with open(GOLDEN, "w") as fh:
            json.dump(golden, fh, indent=1, sort_keys=True)
            fh.write("\n")
        print("golden.json rewritten (%d cases)" % len(outcomes))
        matched = len(outcomes)
    else:
        for name in names:
            if golden.get(name) == outcomes[name]:
                matched += 1
                continue
            old, new = golden.get(name, {}), outcomes[name]
            diff = ["  %s: golden %s, now %s" % (k, json.dumps(old.get(k)), json.dumps(new.get(k)))
                    for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
            failures.append("%s: differs from golden.json\n%s" % (name, "\n".join(diff)))

    # pip as judge
    ok_cases = [n for n, _, _ in cases if results[n]["rc"] == 0 and results[n]["stdout"].strip()]
    pip_pass, pip_fail, pip_skip, not_here = 0, 0, 0, []
    jobs = {}
    for n in ok_cases:
        body, py = pip_inputs(results[n])
        if body is None:
            not_here.append("%s (%s)" % (n, py))
        else:
            jobs[n] = (body, py)
    skip_reason = "--no-pip" if a.no_pip else pypi_reachable() if jobs else None
    archs = load_arch_lists()
    if archs is None:
        print("SKIP arch check: no tomllib (Python < 3.11)")
    if skip_reason:
        pip_skip = len(jobs)
        print("SKIP pip resolution of %d cases: %s" % (pip_skip, skip_reason))
    elif jobs:
        with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
            futs = {n: ex.submit(pip_resolve, *jobs[n]) for n in jobs}
        for n in jobs:
            resolved, err = futs[n].result()
            if resolved is None:
                pip_fail += 1
                failures.append("%s: pip could not resolve: %s" % (n, err))
                continue
            fails = judge(n, results[n], resolved, archs)
            show = ", ".join("%s==%s" % (k, resolved[k]) for k in sorted(resolved)
                             if k in ("torch", "tensorflow", "jax", "jaxlib", "jax-cuda12-plugin",
                                      "jax-cuda13-plugin", "nvidia-cudnn-cu12",
                                      "nvidia-cudnn-cu13", "flash-attn", "bitsandbytes",
                                      "deepspeed"))
            print("pip %-40s %s %s" % (n, "FAIL" if fails else "ok  ", show))
            if fails:
                pip_fail += 1
                failures.extend("%s: %s" % (n, f) for f in fails)
            else:
                pip_pass += 1
    for n in not_here:
        print("not resolvable here: %s" % n)

    uv_same = uv_diff = 0
    if a.compare_uv:
        uv, why = find_uv()
        torch_cases = [n for n in ok_cases if json.loads(results[n]["stdout"])["stack"].get("torch")]
        if uv is None:
            print("SKIP uv comparison: %s" % why)
        else:
            print("\n%-38s %-8s %-8s %s" % ("case", "dlrig", "uv", "verdict"))
            for n in torch_cases:
                d = json.loads(results[n]["stdout"])
                drv = d["machine"].get("driver")
                dl_var = d["stack"].get("variant")
                uv_var, err = uv_backend(uv, drv, d["stack"]["python"])
                if uv_var is None:
                    print("%-38s %-8s %-8s SKIP %s" % (n, dl_var, "-", err))
                    continue
                if uv_var == dl_var:
                    uv_same += 1
                    print("%-38s %-8s %-8s same" % (n, dl_var, uv_var))
                else:
                    uv_diff += 1
                    print("%-38s %-8s %-8s %s" % (n, dl_var, uv_var,
                                                   verdict(results[n], dl_var, uv_var, archs)))

    wrong = set(KNOWN_WRONG)
    real = []
    for f in failures:
        n = f.split(":", 1)[0]
        if n in wrong and "differs from golden" not in f:
            known.setdefault(n, []).append(f)
        else:
            real.append(f)
    failures = real
    for n in sorted(wrong & set(names)):
        if n in known:
            print("KNOWN-WRONG %s: %s" % (n, KNOWN_WRONG[n]))
        elif n in jobs and skip_reason:
            print("KNOWN-WRONG %s (not re-checked: pip skipped): %s" % (n, KNOWN_WRONG[n]))
        else:
            failures.append("%s: listed in KNOWN_WRONG but now passes; remove it" % n)
    for f in failures:
        print("FAIL " + f)
    print("\nplan matrix: %d cases, %d goldens matched, pip resolved %d passed / %d failed / "
          "%d skipped, %d not resolvable here (%s), uv same %d / different %d"
          % (len(cases), matched, pip_pass, pip_fail, pip_skip, len(not_here), PYTORCH_HOST,
             uv_same, uv_diff))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
