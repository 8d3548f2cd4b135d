#!/usr/bin/env python3
"""Compare `dlrig doctor --json` with nvidia-smi -q -x and with what PyTorch reports, on the
same machine. Prints one row per fact (dlrig | reference | verdict); exit 1 on any mismatch.
Usage: compare-inventory.py doctor.json nvidia-smi-q.xml torch.json
"""
import json
import sys
import xml.etree.ElementTree as ET


def main(doctor_path, smi_path, torch_path):
    d = json.load(open(doctor_path))
    smi = ET.parse(smi_path).getroot()
    torch = json.load(open(torch_path))
    rows = []

    def row(fact, ours, ref):
        rows.append((fact, str(ours), str(ref), "ok" if str(ours) == str(ref) else "MISMATCH"))

    gpus = smi.findall("gpu")
    dl = d["user_driver"]["dlopen"]
    row("driver version (NVML)", dl["nvml"]["driver_version"], smi.findtext("driver_version"))
    row("driver version (/proc)", d["kernel_driver"]["proc_version"]["version"],
        smi.findtext("driver_version"))
    cuda = dl["cuda"]["cuda_driver_version"]
    row("driver CUDA (cuDriverGetVersion)", f"{cuda // 1000}.{cuda % 1000 // 10}",
        smi.findtext("cuda_version"))
    row("GPU count (NVML)", dl["nvml"]["device_count"], smi.findtext("attached_gpus"))
    row("GPU count (libcuda)", dl["cuda"]["device_count"], torch["device_count"])
    pci = [p for p in d["hardware"]["pci"]["devices"] if p["kind"] == "gpu"]
    row("GPU count (PCI)", len(pci), len(gpus))
    by_bus = {g["bus_id"]: g for g in d["kernel_driver"]["gpus"]}
    for i, g in enumerate(gpus):
        bus = g.findtext("pci/pci_bus_id")[-12:].lower()
        p = next((p for p in pci if p["address"].lower() == bus), None)
        k = by_bus.get(bus.upper()) or by_bus.get(bus) or {}
        row(f"gpu{i} bus id", p and p["address"], bus)
        row(f"gpu{i} name", k.get("model"), g.findtext("product_name"))
        row(f"gpu{i} uuid", k.get("uuid"), g.findtext("uuid"))
        # nvidia-smi writes device then vendor: "233010DE"
        row(f"gpu{i} device id", p and p["device_id"],
            "0x" + g.findtext("pci/pci_device_id")[0:4].lower())
        row(f"gpu{i} subsystem id", p and p["subsystem_device_id"],
            "0x" + g.findtext("pci/pci_sub_system_id")[0:4].lower())
        link = "pci/pci_gpu_link_info"
        row(f"gpu{i} PCIe max gen", p and p["link_max"].get("generation"),
            g.findtext(f"{link}/pcie_gen/max_link_gen"))
        row(f"gpu{i} PCIe max width", p and p["link_max"]["width"],
            g.findtext(f"{link}/link_widths/max_link_width").rstrip("x"))
        row(f"gpu{i} PCIe width now", p and p["link_now"]["width"],
            g.findtext(f"{link}/link_widths/current_link_width").rstrip("x"))
        row(f"gpu{i} name (torch)", k.get("model"), torch["devices"][i])

    frameworks = [f for e in d["python"]["environments"] for f in e["frameworks"]
                  if f["name"] == "torch"]
    prefix = torch["torch_file"].split("/lib/python")[0]
    fw = next((f for e in d["python"]["environments"] if e["prefix"] == prefix
               for f in e["frameworks"] if f["name"] == "torch"), frameworks[0] if frameworks else None)
    row("torch version", fw and fw["version"], torch["torch"])
    row("torch built for CUDA", fw and fw["built_for_cuda"], torch["cuda"])
    loads = {l["soname"].split(".so")[0]: l for l in (fw["loads"] if fw else [])}
    loaded = {p.rsplit("/", 1)[1].split(".so")[0]: p for p in torch["loaded"]}
    for lib in ("libcudart", "libcudnn", "libnccl"):
        ours = loads.get(lib, {}).get("path")
        theirs = loaded.get(lib)
        row(f"{lib} torch loads (path)", ours, theirs)
    cudnn = loads.get("libcudnn", {}).get("version", "")
    major, minor = (cudnn.split(".") + ["0", "0"])[:2]
    row("cuDNN version torch uses", int(major) * 10000 + int(minor) * 100 if cudnn else None,
        torch["cudnn"])
    nccl = loads.get("libnccl", {}).get("version", "")
    row("NCCL version torch uses", ".".join(nccl.split(".")[:3]), ".".join(map(str, torch["nccl"])))
    row("libcuda path", d["user_driver"]["loader_picks"][0]["path"].rsplit(".so", 1)[0],
        next((p for p in torch["loaded"] if "libcuda.so" in p), "").rsplit(".so", 1)[0])

    width = max(len(r[0]) for r in rows)
    for fact, ours, ref, verdict in rows:
        print(f"{fact:<{width}}  {verdict:<8}  dlrig={ours}  reference={ref}")
    bad = [r for r in rows if r[3] != "ok"]
    print(f"{len(rows) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
