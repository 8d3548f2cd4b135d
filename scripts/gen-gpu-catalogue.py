#!/usr/bin/env python3
"""Regenerate data/gpus.toml: every NVIDIA GPU since Kepler, keyed by PCI device id.

Sources (pass the files; nothing is downloaded here):
  --pci-ids    pci.ids from github.com/pciutils/pciids (Debian's 2023 copy lacks newer parts)
  --nv-readme  README.md of github.com/NVIDIA/open-gpu-kernel-modules ("Compatible GPUs")
  --data       the current data/gpus.toml, rewritten in place (or --out elsewhere)

Per PCI device id the row gets a name, aliases (what users type), the chip, architecture and
compute capability. The architecture and CC come from the chip codename in pci.ids (CHIP_CC
below, which follows NVIDIA's compute-capability table, developer.nvidia.com/cuda-gpus). The
name is NVIDIA's (the README, which is what nvidia-smi prints) where it lists the id, else the
pci.ids product name. Ids whose pci.ids entry is not a GPU product (audio, USB, bridges,
NVSwitch, engineering samples, reserved ids, Tegra/Jetson/DRIVE) or names no product are left
out.

Rows carrying hand-checked figures (any field this script does not generate: memory, clocks,
TFLOP/s, power, notes ...) keep their name and every such field; the script only recomputes
their aliases, chip and ids. The [sources] table is kept, with the generator's keys set.

  scripts/gen-gpu-catalogue.py --pci-ids pci.ids --nv-readme README.md --data data/gpus.toml
"""
import argparse
import collections
import datetime
import re
import sys
import tomllib

# Chip codename -> (architecture, compute capability). The suffixes GL (professional), M / GLM
# (mobile), BM, and the B revision letter of GK110B/GK208B do not change the CC.
CHIP_CC = [
    (r"GK10[4-7]", "Kepler", "3.0"),
    (r"GK110|GK180|GK208", "Kepler", "3.5"),
    (r"GK210", "Kepler", "3.7"),
    (r"GM10[78]", "Maxwell", "5.0"),
    (r"GM20[046]", "Maxwell", "5.2"),
    (r"GP100", "Pascal", "6.0"),
    (r"GP10[2-8]", "Pascal", "6.1"),
    (r"GV100", "Volta", "7.0"),
    (r"TU1[01]\d", "Turing", "7.5"),
    (r"GA100", "Ampere", "8.0"),
    (r"GA10[2-7]", "Ampere", "8.6"),
    (r"AD10[2-7]", "Ada Lovelace", "8.9"),
    (r"GH100", "Hopper", "9.0"),
    (r"GB10[02]", "Blackwell", "10.0"),
    (r"GB110", "Blackwell", "10.3"),
    (r"GB20[2-7]", "Blackwell", "12.0"),
    (r"GB20B", "Blackwell", "12.1"),
]
ARCH_ORDER = ["Kepler", "Maxwell", "Pascal", "Volta", "Turing", "Ampere", "Ada Lovelace", "Hopper",
              "Blackwell"]

# pci.ids entries that are not a GPU a user would name.
NOT_A_PRODUCT = re.compile(
    r"Engineering Sample|\bES\b|-ES\b|\bES-|Reserved|NVSwitch|DRIVE|Jetson|Tegra|vGPU|"
    r"Skinny Joe|Generic|Desktop Device|Graphics Device|PEATRANS|\bGH3\b|^EXK|GEN3 ESI|"
    r"Initial Dev|INT SKU|^AC AD", re.I)

# What people type that no rule below derives. Keyed by row name.
HAND_ALIASES = {
    # "RTX 6000" names three cards of three generations: listing it on two of them makes the
    # bare name refused as ambiguous instead of silently picking one.
    "Quadro RTX 6000": ["RTX 6000"],
    "RTX 6000 Ada Generation": ["RTX 6000", "RTX 6000 Ada", "6000 Ada"],
    "H100 SXM5 80GB": ["H100 SXM", "H100 80GB SXM"],
    "H200 SXM 141GB": ["H200 SXM"],
    "B200": ["B200 SXM", "HGX B200"],
    "GB200": ["GB200 NVL72"],
    "GB300": ["GB300 NVL72"],
    "GB10": ["DGX Spark"],
}

GENERATED_KEYS = {"name", "aliases", "pci_ids", "chip", "architecture", "compute_capability",
                  "source"}
GENERATOR_SOURCES = {
    "pci-ids": None,  # kept from the file: it names the pci.ids version
    "nv-open-readme": None,
    "cuda-gpus": None,
    "chip-cc": "compute capability from the chip codename pci.ids gives (GK10x 3.0, GK110/GK208 "
               "3.5, GK210 3.7, GM10x 5.0, GM20x 5.2, GP100 6.0, GP10x 6.1, GV100 7.0, TU 7.5, "
               "GA100 8.0, GA10x 8.6, AD 8.9, GH100 9.0, GB100/GB102 10.0, GB110 10.3, GB20x 12.0, "
               "GB20B 12.1), per NVIDIA's table (cuda-gpus); mapping in scripts/gen-gpu-catalogue.py",
}


def key(name):
    """The matching key dlrig uses (src/knowledge/gpus.cc GpuNameKey)."""
    words = re.split(r"[\s\-_]+", name.strip().lower())
    while words and words[0] in ("nvidia", "geforce"):
        words.pop(0)
    return re.sub(r"[^a-z0-9]", "", "".join(words))


def chip_cc(chip):
    for pattern, arch, cc in CHIP_CC:
        if re.fullmatch(f"(?:{pattern})B?(?:GL|GLM|M|BM)?", chip):
            return arch, cc
    return None


def read_pci_ids(path):
    """device id -> (chip, [names]) for the NVIDIA GPUs since Kepler."""
    out = {}
    in_nvidia = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("10de "):
                in_nvidia = True
                continue
            if in_nvidia and line[:1] not in ("\t", "#", "\n"):
                break
            m = re.match(r"^\t([0-9a-f]{4})  (\S+)(?: / \S+)?\s*\[(.*)\]\s*$", line) if in_nvidia else None
            if not m:
                continue
            device, chip, product = int(m.group(1), 16), m.group(2), m.group(3).strip()
            if not chip_cc(chip) or NOT_A_PRODUCT.search(product):
                continue
            out[device] = (chip, split_alternatives(product))
    return out


def split_alternatives(product):
    """'Tesla K40c / K40m' -> ['Tesla K40c', 'Tesla K40m']; 'RTX 2070 Mobile / Max-Q' keeps one."""
    parts = [p.strip() for p in product.split(" / ")]
    names = [parts[0]]
    lead = re.match(r"^((?:[A-Za-z]+ )*?)[A-Za-z]*\d", parts[0])
    prefix = lead.group(1) if lead else ""
    for p in parts[1:]:
        if re.match(r"^(Max-Q|Mobile|\d+GB\b)", p) or not re.search(r"\d", p):
            continue
        if not p.split()[0] in ("GeForce", "Quadro", "Tesla", "NVIDIA", "RTX", "GRID"):
            p = prefix + p
        names.append(p)
    return names


def read_readme(path):
    """device id -> (device-only name or None, [subsystem names]) from 'Compatible GPUs'."""
    out = collections.defaultdict(lambda: [None, []])
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\| (.+?)\s+\| ([0-9A-F]{4})(?: ([0-9A-F]{4}) ([0-9A-F]{4}))?\s+\|$", line)
            if not m:
                continue
            name = re.sub(r"^NVIDIA ", "", m.group(1).strip())
            entry = out[int(m.group(2), 16)]
            if m.group(3) is None:
                entry[0] = entry[0] or name
            else:
                entry[1].append(name)
    return out


def derived_aliases(name):
    """What users type for `name`: without Tesla/Quadro, the GeForce model number, the
    datacenter model with its form factor or memory ("A100", "A100 80GB", "H100 SXM")."""
    out = []
    name = re.sub(r" \([A-Z0-9]+\)$", "", name)  # "GeForce GT 730 (GK208B)"
    base = name
    if name.startswith("Tesla "):
        base = name[6:]
        out.append(base)
    elif name.startswith("Quadro ") and not name.startswith("Quadro RTX"):
        base = name[7:]
        out.append(base)
    m = re.match(r"^GeForce (?:RTX|GTX) (.+)$", name)
    if m:
        out.append(m.group(1))
    if name.endswith(" Ada Generation"):
        out.append(name[: -len(" Generation")])
    m = re.match(r"^(RTX PRO \d+D?) Blackwell", name)
    if m and not re.search(r"Laptop|Embedded", name):
        out += [m.group(1), m.group(1) + " Blackwell"]
    tokens = [t for t in re.split(r"[\s\-]+", base) if t]
    while tokens and tokens[0] in ("HGX", "DGX"):
        tokens.pop(0)
    if len(tokens) > 1 and re.fullmatch(r"[A-Z]{1,2}\d{1,3}[A-Z]?", tokens[0]):
        model = tokens[0]
        out.append(model)
        forms, mems = [], []
        for t in tokens[1:]:
            if re.fullmatch(r"SXM\d?|PCIe|PCIE|NVL|HBM3e?", t, re.I):
                forms.append(t)
                if re.fullmatch(r"SXM\d", t):
                    forms.append("SXM")
            elif re.fullmatch(r"\d+GB?", t):
                mems.append(t if t.endswith("B") else t + "B")
        for f in forms:
            out.append(f"{model} {f}")
        for mem in mems:
            out.append(f"{model} {mem}")
            for f in forms:
                out.append(f"{model} {f} {mem}")
                out.append(f"{model} {mem} {f}")
    return out


def read_existing(path):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    curated = []  # rows with fields this script does not generate
    for row in doc.get("gpu", []):
        if set(row) - GENERATED_KEYS:
            curated.append(row)
    return doc.get("sources", {}), curated


def pci_int(text):
    return int(text.split(":")[1], 16)


def build(pci, readme, curated):
    curated_by_id = {pci_int(i): row for row in curated for i in row["pci_ids"]}
    rows = {}  # name key -> row dict
    skipped = []
    split = set()  # name keys shared by chips of different CC
    ids = sorted(set(pci) | set(readme) | set(curated_by_id))
    for device in ids:
        chip, pci_names = pci.get(device, (None, []))
        if chip is None:
            skipped.append(device)
            continue
        arch, cc = chip_cc(chip)
        dev_name, sub_names = readme.get(device, (None, []))
        names = []
        if device in curated_by_id:
            names.append(curated_by_id[device]["name"])
        if dev_name:
            names.append(dev_name)
        if sub_names:
            counts = collections.Counter(sub_names)
            names.extend(sorted(counts, key=lambda n: (-counts[n], sub_names.index(n))))
        names.extend(pci_names)
        primary = names[0]
        sources = ["pci-ids"] + (["nv-open-readme"] if device in readme else []) + ["chip-cc"]
        k = key(primary)
        row = rows.get(k)
        if k in split or (row is not None and
                          (row["architecture"], row["compute_capability"]) != (arch, cc)):
            # One product name on chips of different CC (GTX 750 Ti on GK106 and GM107): the
            # rows are told apart by chip; the bare name stays an alias of each.
            if row is not None and k not in split:
                rows.pop(k)
                row["aliases"].insert(0, row["name"])
                row["name"] = f"{row['name']} ({row['chip']})"
                rows[key(row["name"])] = row
            split.add(k)
            names.insert(1, primary)
            primary = f"{primary} ({chip})"
            k = key(primary)
            row = rows.get(k)
        if row is None:
            row = {"name": primary, "aliases": [], "pci_ids": [], "chip": chip,
                   "architecture": arch, "compute_capability": cc, "source": []}
            if device in curated_by_id:
                row["curated"] = curated_by_id[device]
            rows[k] = row
        row["pci_ids"].append(device)
        row["aliases"].extend(names[1:])
        for s in sources:
            if s not in row["source"]:
                row["source"].append(s)
    for row in rows.values():
        wanted = row["aliases"] + derived_aliases(row["name"]) + HAND_ALIASES.get(row["name"], [])
        for a in list(row["aliases"]):
            wanted += derived_aliases(a)
        seen = {key(row["name"])}
        row["aliases"] = []
        for a in wanted:
            if key(a) and key(a) not in seen:
                seen.add(key(a))
                row["aliases"].append(a)
    return sorted(rows.values(), key=lambda r: (ARCH_ORDER.index(r["architecture"]),
                                                 r["compute_capability"], min(r["pci_ids"]))), skipped


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, float):
        return repr(v).rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


HEADER = """\
# NVIDIA GPU catalog keyed by PCI vendor:device id (several ids may name one product).
# Generated by scripts/gen-gpu-catalogue.py from pci.ids and NVIDIA's open-gpu-kernel-modules
# README; rows with datasheet figures are hand-checked and kept by the generator. Rerun it
# rather than editing generated rows.
#
#   name, aliases         NVIDIA's product name (as nvidia-smi prints it, less "NVIDIA") and
#                         what people type; `--gpu` matches them case-insensitively, ignoring
#                         "NVIDIA"/"GeForce" and spacing/hyphens (src/knowledge/gpus.cc)
#   chip                  the die codename from pci.ids; architecture and compute capability
#                         follow from it (architectures.toml, developer.nvidia.com/cuda-gpus)
#
# Units are in the field names:
#   memory_gb             nominal capacity as the vendor states it ("80GB"); the driver reports a
#                         little less (the H100 capture: 81559 MiB)
#   memory_bus_bits       memory interface width
#   memory_clock_mhz      the memory clock as NVML / nvidia-smi report it; for GDDR and HBM alike
#                         bandwidth = 2 x clock x bus_bits / 8 (research/benchmarks.md section 6.3)
#   boost_clock_mhz       rated boost (or max) SM clock
#   memory_bandwidth_gbs  datasheet bandwidth, GB/s = 10^9 B/s
#   tdp_w                 board power (TDP / max power)
#   pcie_gen, pcie_lanes  host link
#   nvlink_gbs            NVLink bandwidth per GPU, both directions together
#   peak_tflops           dense peak (no sparsity), 10^12 FLOP/s. bf16 / fp16 are the rates with
#                         FP32 accumulate (GeForce parts run FP16 accumulate at twice that).
#                         fp64_tensor is the tensor-core FP64 rate where it differs from fp64.
# derived:     fields computed by the research from other sourced numbers (formula in
#              benchmarks.md section 8), not printed by a source.
# unconfirmed: fields the research marks [UNCONFIRMED].
# Rows without figures carry identity only (name, architecture, compute capability): a value
# that could not be sourced is left out, never guessed.
"""

FIELD_ORDER = ["name", "aliases", "pci_ids", "chip", "architecture", "compute_capability"]


def emit(rows, sources):
    # The date the rows were generated from their sources (dlrig kb prints it).
    out = [HEADER, "[meta]", f'checked = "{datetime.date.today().isoformat()}"', "", "[sources]"]
    for k, v in sources.items():
        out.append(f"{k} = {toml_str(v)}")
    current = None
    for row in rows:
        section = f"{row['architecture']} {row['compute_capability']}"
        if section != current:
            current = section
            out.append("")
            out.append(f"# ---- {section} " + "-" * (88 - len(section)))
        out.append("")
        out.append("[[gpu]]")
        fields = {"name": row["name"]}
        if row["aliases"]:
            fields["aliases"] = row["aliases"]
        fields["pci_ids"] = [f"10de:{d:04x}" for d in sorted(row["pci_ids"])]
        fields["chip"] = row["chip"]
        fields["architecture"] = row["architecture"]
        fields["compute_capability"] = row["compute_capability"]
        curated = row.get("curated", {})
        for k, v in curated.items():
            if k not in GENERATED_KEYS and k != "note":
                fields[k] = v
        source = list(curated.get("source", []))
        for s in row["source"]:
            if s not in source:
                source.append(s)
        fields["source"] = source
        if "note" in curated:
            fields["note"] = curated["note"]
        for k, v in fields.items():
            out.append(f"{k} = {toml_value(v)}")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pci-ids", required=True)
    p.add_argument("--nv-readme", required=True)
    p.add_argument("--data", required=True, help="the current data/gpus.toml")
    p.add_argument("--out", help="where to write (default: --data)")
    p.add_argument("--pci-ids-version", help="e.g. '2026.08.22 @c1c12547d626' for [sources]")
    p.add_argument("--nv-readme-version", help="e.g. '595.45.04' for [sources]")
    a = p.parse_args()
    sources, curated = read_existing(a.data)
    for k, v in GENERATOR_SOURCES.items():
        if v is not None:
            sources[k] = v
    if a.pci_ids_version:
        sources["pci-ids"] = ("pci.ids (The PCI ID Repository), version " + a.pci_ids_version)
    if a.nv_readme_version:
        sources["nv-open-readme"] = ("NVIDIA/open-gpu-kernel-modules README.md 'Compatible GPUs' "
                                     "table (product name per PCI device/subsystem id) @" +
                                     a.nv_readme_version)
    pci = read_pci_ids(a.pci_ids)
    readme = read_readme(a.nv_readme)
    rows, skipped = build(pci, readme, curated)
    text = emit(rows, sources)
    tomllib.loads(text)  # what we write must parse
    with open(a.out or a.data, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{len(rows)} rows, {sum(len(r['pci_ids']) for r in rows)} PCI ids; "
          f"{len(skipped)} README ids without a pci.ids chip left out: "
          + ", ".join(f"{d:04x}" for d in skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
