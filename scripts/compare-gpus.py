#!/usr/bin/env python3
"""Compare every field of `dlrig gpus --json` that nvidia-smi -q -x also reports, on the same
machine. One row per field: dlrig | nvidia-smi | verdict; exit 1 on any mismatch. Fields that
move between the two runs (temperature, power, memory used) are compared with a tolerance.
Usage: compare-gpus.py gpus.json nvidia-smi-q.xml
"""
import json
import sys
import xml.etree.ElementTree as ET

MIB = 1 << 20


def num(text):
    """'81559 MiB' -> 81559.0, '700.00 W' -> 700.0, 'N/A' -> None."""
    try:
        return float(text.split()[0])
    except (AttributeError, ValueError, IndexError):
        return None


def main(gpus_path, smi_path):
    d = json.load(open(gpus_path))
    smi = ET.parse(smi_path).getroot()
    rows = []

    def row(fact, ours, ref, ok=None):
        if isinstance(ours, dict) and "unavailable" in ours:
            ours = "n/a:" + ours["unavailable"]
        if ok is None:
            ok = str(ours) == str(ref)
        rows.append((fact, str(ours), str(ref), "ok" if ok else "MISMATCH"))

    def near(ours, ref, tolerance):
        return isinstance(ours, (int, float)) and ref is not None and abs(ours - ref) <= tolerance

    row("driver version", d["driver_version"], smi.findtext("driver_version"))
    row("GPU count", d["device_count"], smi.findtext("attached_gpus"))
    yes = {"Enabled": True, "Disabled": False, "Yes": True, "No": False}
    for i, g in enumerate(smi.findall("gpu")):
        o = d["gpus"][i] if i < len(d["gpus"]) else {}
        row(f"gpu{i} name", o.get("name"), g.findtext("product_name"))
        row(f"gpu{i} uuid", o.get("uuid"), g.findtext("uuid"))
        row(f"gpu{i} pci bus id", o.get("pci_bus_id"), g.findtext("pci/pci_bus_id"))
        total = num(g.findtext("fb_memory_usage/total"))
        used = num(g.findtext("fb_memory_usage/used"))
        mt, mu = o.get("memory_total_bytes"), o.get("memory_used_bytes")
        # nvidia-smi's total excludes the reserved part on newer drivers; both are MiB-rounded.
        reserved = num(g.findtext("fb_memory_usage/reserved")) or 0
        row(f"gpu{i} memory total MiB", mt and round(mt / MIB), total,
            near(mt and mt / MIB, total, 1) or near(mt and mt / MIB, total + reserved, 1))
        row(f"gpu{i} memory used MiB", mu and round(mu / MIB), used, near(mu and mu / MIB, used, 64))
        row(f"gpu{i} ECC", o.get("ecc_enabled"), yes.get(g.findtext("ecc_mode/current_ecc")))
        row(f"gpu{i} ECC pending", o.get("ecc_pending_enabled"), yes.get(g.findtext("ecc_mode/pending_ecc")))
        row(f"gpu{i} ECC uncorrected volatile (dram)", o.get("ecc_uncorrected_volatile"),
            g.findtext("ecc_errors/volatile/dram_uncorrectable"))
        row(f"gpu{i} ECC uncorrected aggregate (dram)", o.get("ecc_uncorrected_aggregate"),
            g.findtext("ecc_errors/aggregate/dram_uncorrectable"))
        row(f"gpu{i} remapped rows correctable", o.get("remapped_rows_correctable"),
            g.findtext("remapped_rows/remapped_row_corr"))
        row(f"gpu{i} remapped rows uncorrectable", o.get("remapped_rows_uncorrectable"),
            g.findtext("remapped_rows/remapped_row_unc"))
        row(f"gpu{i} remap pending", o.get("remap_pending"), yes.get(g.findtext("remapped_rows/remapped_row_pending")))
        row(f"gpu{i} remap failure", o.get("remap_failed"), yes.get(g.findtext("remapped_rows/remapped_row_failure")))
        row(f"gpu{i} MIG", o.get("mig_enabled"), yes.get(g.findtext("mig_mode/current_mig")))
        row(f"gpu{i} compute mode", o.get("compute_mode"), g.findtext("compute_mode"))
        row(f"gpu{i} persistence", o.get("persistence_mode"), yes.get(g.findtext("persistence_mode")))
        link = "pci/pci_gpu_link_info"
        row(f"gpu{i} PCIe gen now", o.get("pcie_gen_now"), g.findtext(f"{link}/pcie_gen/current_link_gen"))
        row(f"gpu{i} PCIe gen max", o.get("pcie_gen_max"), g.findtext(f"{link}/pcie_gen/max_link_gen"))
        row(f"gpu{i} PCIe width now", o.get("pcie_width_now"),
            g.findtext(f"{link}/link_widths/current_link_width").rstrip("x"))
        row(f"gpu{i} PCIe width max", o.get("pcie_width_max"),
            g.findtext(f"{link}/link_widths/max_link_width").rstrip("x"))
        temp = num(g.findtext("temperature/gpu_temp"))
        row(f"gpu{i} temperature C", o.get("temperature_c"), temp, near(o.get("temperature_c"), temp, 3))
        limit = num(g.findtext("gpu_power_readings/current_power_limit"))
        pl = o.get("power_limit_mw")
        row(f"gpu{i} power limit W", pl and pl / 1000, limit, near(pl and pl / 1000, limit, 0.5))
        draw = num(g.findtext("gpu_power_readings/instant_power_draw")) or num(
            g.findtext("gpu_power_readings/average_power_draw"))
        pw = o.get("power_mw")
        row(f"gpu{i} power draw W", pw and pw / 1000, draw, near(pw and pw / 1000, draw, 15))
        row(f"gpu{i} serial", o.get("serial"), g.findtext("serial"))
        pci_id = o.get("pci_device_id")
        row(f"gpu{i} PCI device id", pci_id and f"{pci_id:08X}", g.findtext("pci/pci_device_id"))
        free = num(g.findtext("fb_memory_usage/free"))
        mf = o.get("memory_free_bytes")
        row(f"gpu{i} memory free MiB", mf and round(mf / MIB), free, near(mf and mf / MIB, free, 64))
        for ours_key, path in (("clock_sm_max_mhz", "max_clocks/sm_clock"),
                               ("clock_memory_max_mhz", "max_clocks/mem_clock")):
            row(f"gpu{i} {path}", o.get(ours_key), num(g.findtext(path)),
                near(o.get(ours_key), num(g.findtext(path)), 0))
        # Live clocks move between the two runs: an idle GPU may step a clock level.
        for ours_key, path in (("clock_sm_mhz", "clocks/sm_clock"), ("clock_memory_mhz", "clocks/mem_clock")):
            ref = num(g.findtext(path))
            row(f"gpu{i} {path}", o.get(ours_key), ref, near(o.get(ours_key), ref, 200))
        dl = o.get("power_default_limit_mw")
        ref = num(g.findtext("gpu_power_readings/default_power_limit"))
        row(f"gpu{i} default power limit W", dl and dl / 1000, ref, near(dl and dl / 1000, ref, 0.5))
        temps = (("temperature_shutdown_c", "temperature/gpu_temp_max_threshold"),
                 ("temperature_slowdown_c", "temperature/gpu_temp_slow_threshold"),
                 ("temperature_gpu_max_c", "temperature/gpu_temp_max_gpu_threshold"),
                 ("temperature_memory_max_c", "temperature/gpu_temp_max_mem_threshold"))
        tlimit = num(g.findtext("temperature/gpu_temp_tlimit"))
        if tlimit is not None:
            # Drivers 550+ print margins to T.Limit instead: T.Limit = temperature + margin, and
            # each threshold is T.Limit minus its own margin (so within a degree of NVML's).
            limit_abs = (num(g.findtext("temperature/gpu_temp")) or 0) + tlimit
            temps = (("temperature_shutdown_c", "temperature/gpu_temp_max_tlimit_threshold"),
                     ("temperature_slowdown_c", "temperature/gpu_temp_slow_tlimit_threshold"),
                     ("temperature_gpu_max_c", "temperature/gpu_temp_max_gpu_tlimit_threshold"))
            for ours_key, path in temps:
                margin = num(g.findtext(path))
                ref = None if margin is None else limit_abs - margin
                row(f"gpu{i} {path} (T.Limit {limit_abs:g} C - margin)", o.get(ours_key), ref,
                    near(o.get(ours_key), ref, 2))
        else:
            for ours_key, path in temps:
                row(f"gpu{i} {path}", o.get(ours_key), num(g.findtext(path)),
                    near(o.get(ours_key), num(g.findtext(path)), 0))
        mt_ref = num(g.findtext("temperature/memory_temp"))
        row(f"gpu{i} memory temperature C", o.get("memory_temperature_c"), mt_ref,
            near(o.get("memory_temperature_c"), mt_ref, 3))
        fan = g.findtext("fan_speed")
        row(f"gpu{i} fan", o.get("fan_percent"), fan,
            near(o.get("fan_percent"), num(fan), 5) if num(fan) is not None
            else isinstance(o.get("fan_percent"), dict))
        util = num(g.findtext("utilization/gpu_util"))
        row(f"gpu{i} utilisation %", o.get("utilization_gpu_percent"), util,
            near(o.get("utilization_gpu_percent"), util, 10))
        ps = o.get("performance_state")
        row(f"gpu{i} performance state", ps if isinstance(ps, dict) else f"P{ps}",
            g.findtext("performance_state"))
        row(f"gpu{i} PCIe replay counter", o.get("pcie_replay_count"), g.findtext("pci/replay_counter"))
        vol = g.find("ecc_errors/volatile")
        if vol is not None:
            corrected = sum(int(e.text) for e in vol if e.tag.endswith("_correctable") and
                            not e.tag.endswith("uncorrectable") and (e.text or "").isdigit())
            row(f"gpu{i} ECC corrected volatile (sum)", o.get("ecc_corrected_volatile"), corrected)
        reasons = g.find("clocks_event_reasons")
        if reasons is None:
            reasons = g.find("clocks_throttle_reasons")
        if reasons is not None:
            active = sorted(e.tag.replace("clocks_event_reason_", "").replace("clocks_throttle_reason_", "")
                            for e in reasons if e.text == "Active")
            ours = o.get("clock_event_reasons")
            names = sorted(ours["names"]) if isinstance(ours, dict) and "names" in ours else ours
            smi_names = {"sw_power_cap": "sw_power_cap", "hw_slowdown": "hw_slowdown",
                         "sw_thermal_slowdown": "sw_thermal_slowdown",
                         "hw_thermal_slowdown": "hw_thermal_slowdown",
                         "hw_power_brake_slowdown": "hw_power_brake_slowdown", "gpu_idle": "gpu_idle",
                         "applications_clocks_setting": "applications_clocks_setting",
                         "sync_boost": "sync_boost", "display_clock_setting": "display_clock_setting"}
            row(f"gpu{i} clock event reasons", names, sorted(smi_names.get(a, a) for a in active))
        smi_pids = sorted(int(p.findtext("pid")) for p in g.findall("processes/process_info"))
        ours_p = o.get("processes")
        row(f"gpu{i} process pids", sorted(p["pid"] for p in ours_p) if isinstance(ours_p, list) else ours_p,
            smi_pids)
        ds = o.get("datasheet") or {}
        row(f"gpu{i} datasheet name (data/gpus.toml)", ds.get("name"), g.findtext("product_name"),
            bool(ds.get("name")))

    width = max(len(r[0]) for r in rows)
    for fact, ours, ref, verdict in rows:
        print(f"{fact:<{width}}  {verdict:8}  dlrig={ours}  nvidia-smi={ref}")
    bad = sum(r[3] != "ok" for r in rows)
    print(f"{len(rows) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
