#!/usr/bin/env python3
"""CPU and wall time of each NVML call a dlrig live pass makes, per GPU, through nvidia-ml-py
(pynvml), to find what a 1 Hz sampler spends its CPU on. Usage: nvml-call-cost.py [repeats]"""
import sys
import time

import pynvml as n

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
n.nvmlInit()
handles = [n.nvmlDeviceGetHandleByIndex(i) for i in range(n.nvmlDeviceGetCount())]
calls = {
    "memory_info_v2": lambda h: n.nvmlDeviceGetMemoryInfo(h, version=n.nvmlMemory_v2),
    "ecc_mode": n.nvmlDeviceGetEccMode,
    "ecc_total x4": lambda h: [n.nvmlDeviceGetTotalEccErrors(h, t, c) for t in (0, 1) for c in (0, 1)],
    "retired_pages x2": lambda h: [n.nvmlDeviceGetRetiredPages(h, c) for c in (0, 1)],
    "retired_pending": n.nvmlDeviceGetRetiredPagesPendingStatus,
    "remapped_rows": n.nvmlDeviceGetRemappedRows,
    "compute_mode": n.nvmlDeviceGetComputeMode,
    "persistence": n.nvmlDeviceGetPersistenceMode,
    "pcie gen/width x4": lambda h: (n.nvmlDeviceGetCurrPcieLinkGeneration(h), n.nvmlDeviceGetMaxPcieLinkGeneration(h),
                                    n.nvmlDeviceGetCurrPcieLinkWidth(h), n.nvmlDeviceGetMaxPcieLinkWidth(h)),
    "temperature": lambda h: n.nvmlDeviceGetTemperature(h, 0),
    "power": n.nvmlDeviceGetPowerUsage,
    "power_limit": n.nvmlDeviceGetEnforcedPowerLimit,
    "clocks x3": lambda h: [n.nvmlDeviceGetClockInfo(h, c) for c in (1, 2, 0)],
    "utilization": n.nvmlDeviceGetUtilizationRates,
    "memory_temp field": lambda h: n.nvmlDeviceGetFieldValues(h, [82]),
    "pstate": n.nvmlDeviceGetPerformanceState,
    "energy": n.nvmlDeviceGetTotalEnergyConsumption,
    "clock_events": n.nvmlDeviceGetCurrentClocksEventReasons,
    "replay": n.nvmlDeviceGetPcieReplayCounter,
    "pcie_throughput x2": lambda h: [n.nvmlDeviceGetPcieThroughput(h, c) for c in (0, 1)],
    "processes c+g": lambda h: (n.nvmlDeviceGetComputeRunningProcesses(h), n.nvmlDeviceGetGraphicsRunningProcesses(h)),
}
print(f"{'call':<22} {'cpu ms/GPU':>10} {'wall ms/GPU':>11}")
total_cpu = 0.0
for name, fn in calls.items():
    cpu0, wall0 = time.process_time(), time.perf_counter()
    errors = 0
    for _ in range(repeats):
        for h in handles:
            try:
                fn(h)
            except (n.NVMLError, TypeError, AttributeError):
                errors += 1
    cpu = (time.process_time() - cpu0) * 1000 / repeats / len(handles)
    wall = (time.perf_counter() - wall0) * 1000 / repeats / len(handles)
    total_cpu += cpu
    print(f"{name:<22} {cpu:10.3f} {wall:11.3f}" + (f"  ({errors} errors)" if errors else ""))
print(f"{'total':<22} {total_cpu:10.3f}  (x {len(handles)} GPUs per pass)")
