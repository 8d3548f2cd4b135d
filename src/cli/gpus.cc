// dlrig gpus: every GPU as the driver describes it (NVML in a child under a deadline), with
// its PCI placement and the catalogue's datasheet figures. Only NVML is loaded, not libcuda.
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/json_dump.h"
#include "core/strings.h"
#include "core/version.h"
#include "knowledge/gpus.h"
#include "monitor/processes.h"
#include "probe/pci.h"
#include "probe/user_driver.h"
#include "report/gpu_report.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {
namespace {

const PciDevice* PciOf(const PciFacts& pci, const GpuFacts& g) {
  auto address = g.pci_bus_id ? NormalizePciAddress(*g.pci_bus_id) : std::nullopt;
  if (!pci.devices || !address) return nullptr;
  for (const auto& d : *pci.devices)  // NVML writes "00000000:01:00.0", sysfs "0000:01:00.0"
    if (NormalizePciAddress(d.address) == address) return &d;
  return nullptr;
}

const GpuRow* CatalogRow(const PciDevice* d) {
  const auto& catalog = GpuCatalog::BuiltIn();
  if (d == nullptr || !catalog) return nullptr;
  return catalog->Find(static_cast<uint16_t>(d->vendor_id), static_cast<uint16_t>(d->device_id));
}

std::string DatasheetText(const GpuRow& r) {
  std::vector<std::string> parts = {r.architecture};
  if (r.sm_count) parts.push_back(fmt::format("{} SMs", *r.sm_count));
  if (r.memory_gb) parts.push_back(fmt::format("{:g} GB {}", *r.memory_gb, r.memory_type));
  if (r.memory_bus_bits) parts.push_back(fmt::format("{}-bit", *r.memory_bus_bits));
  if (r.memory_bandwidth_gbs) parts.push_back(fmt::format("{:g} GB/s", *r.memory_bandwidth_gbs));
  if (r.peak_tflops.bf16) parts.push_back(fmt::format("bf16 {:g} TFLOP/s", *r.peak_tflops.bf16));
  if (r.tdp_w) parts.push_back(fmt::format("{} W", *r.tdp_w));
  return fmt::format("{} ({}, data/gpus.toml)", fmt::join(parts, ", "), r.name);
}

json DatasheetJson(const GpuRow& r) {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  return {{"name", r.name},
          {"chip", r.chip},
          {"architecture", r.architecture},
          {"compute_capability", fmt::format("{}.{}", r.cc_major, r.cc_minor)},
          {"sm_count", opt(r.sm_count)},
          {"memory_gb", opt(r.memory_gb)},
          {"memory_type", r.memory_type},
          {"memory_bus_bits", opt(r.memory_bus_bits)},
          {"memory_bandwidth_gbs", opt(r.memory_bandwidth_gbs)},
          {"tdp_w", opt(r.tdp_w)},
          {"peak_tflops", {{"fp64", opt(r.peak_tflops.fp64)}, {"fp32", opt(r.peak_tflops.fp32)},
                           {"tf32", opt(r.peak_tflops.tf32)}, {"bf16", opt(r.peak_tflops.bf16)},
                           {"fp16", opt(r.peak_tflops.fp16)}, {"fp8", opt(r.peak_tflops.fp8)}}}};
}

// Without NVML the GPUs on the PCI bus are still named and described by their PCI id from
// the catalogue (doctor says why NVML is unavailable).
json PciGpusJson(const PciFacts& pci) {
  json list = json::array();
  if (!pci.devices) return list;
  for (const PciDevice& d : *pci.devices) {
    if (!d.IsGpu()) continue;
    const GpuRow* row = CatalogRow(&d);
    list.push_back({{"address", d.address},
                    {"pci_id", fmt::format("{:04x}:{:04x}", d.vendor_id, d.device_id)},
                    {"name", d.name},
                    {"datasheet", row ? DatasheetJson(*row) : json(nullptr)}});
  }
  return list;
}

void RenderPciGpus(TextWriter& out, const PciFacts& pci) {
  if (!pci.devices) return;
  for (const PciDevice& d : *pci.devices) {
    if (!d.IsGpu()) continue;
    out.Item("pci " + d.address, fmt::format("{} [{:04x}:{:04x}], not described: NVML unavailable",
                                             d.name, d.vendor_id, d.device_id));
    if (const GpuRow* row = CatalogRow(&d))
      out.Detail(fmt::format("compute capability {}.{}; {}", row->cc_major, row->cc_minor,
                             DatasheetText(*row)));
  }
}

}  // namespace

int RunGpus(const std::vector<std::string>& args) {
  CLI::App app("Every GPU as the driver describes it: identity, memory, ECC, row remapping, "
               "MIG, compute mode, PCIe, power, temperature, with the datasheet figures.",
               "dlrig gpus");
  bool as_json = false, no_colour = false, show_commands = false;
  app.add_flag("--json", as_json, "machine-readable output (schema dlrig.gpus/1)");
  app.add_flag("--show-commands", show_commands,
               "show each GPU process's whole command line (default: the program's name only, "
               "since arguments can hold tokens and passwords)");
  app.add_flag("--no-color", no_colour, "no colour even on a terminal");
  if (auto done = ParseArgs(app, args)) return *done;
  auto session = Session::Open(SessionOptions{});
  if (!session) return kExitUsage;
  ProbeContext ctx = session->context();
  DriverQueryOptions options = DriverQueryOptionsFor(ctx);
  options.cuda_library.clear();  // NVML describes the GPUs; cuInit would only cost time
  // PCIe throughput is left to top and serve: NVML samples it over 20 ms per GPU and counter,
  // which would double this command's time on a 2-GPU machine.
  options.processes = options.nvlinks = options.topology = true;
  DriverQuery query = QueryDriver(options);
  PciFacts pci = ProbePci(ctx);
  for (GpuFacts& g : query.nvml.devices)  // who each process is, from /proc
    if (g.processes)
      DescribeProcesses(ctx.root, *g.processes,
                        show_commands ? CommandDetail::kFullCommandLine : CommandDetail::kProgramName);
  const LibraryAnswers& nvml = query.nvml;
  std::string why = NvmlUnavailableReason(nvml);

  if (as_json) {
    json j = {{"schema", "dlrig.gpus/1"},
              {"library", FactJson(nvml.loaded_path)},
              {"driver_version", FactJson(nvml.driver_version)},
              {"nvml_version", FactJson(nvml.nvml_version)},
              {"cuda_driver_version", FactJson(nvml.cuda_driver_version)},
              {"device_count", FactJson(nvml.device_count)},
              {"gpus", json::array()}};
    if (!why.empty()) {
      j["unavailable"] = why;
      j["pci_gpus"] = PciGpusJson(pci);
    }
    for (const GpuFacts& g : nvml.devices) {
      json gj = GpuJson(g);
      const PciDevice* d = PciOf(pci, g);
      gj["numa_node"] = d ? FactJson(d->numa_node) : json(nullptr);
      gj["local_cpus"] = d ? FactJson(d->local_cpulist) : json(nullptr);
      const GpuRow* row = CatalogRow(d);
      gj["datasheet"] = row ? DatasheetJson(*row) : json(nullptr);
      j["gpus"].push_back(gj);
    }
    json matrix = json::array();
    for (size_t a = 0; a < nvml.devices.size(); ++a) {
      json r = json::array();
      for (size_t b = 0; b < nvml.devices.size(); ++b) r.push_back(TopologyCell(nvml.devices, a, b));
      matrix.push_back(r);
    }
    j["topology"] = matrix;
    std::string text = DumpJson(j);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  } else {
    TextWriter out(!no_colour && StdoutWantsColour());
    if (why.empty()) {
      out.Item("driver", fmt::format("{}, CUDA {}, {} GPU(s), {}", nvml.driver_version.value_or("?"),
                                     nvml.cuda_driver_version
                                         ? CudaVersionFromInt(*nvml.cuda_driver_version) : "?",
                                     *nvml.device_count, *nvml.loaded_path));
      for (const GpuFacts& g : nvml.devices) {
        RenderGpu(out, g);
        const PciDevice* d = PciOf(pci, g);
        if (d)
          out.Detail(fmt::format("NUMA node {}, CPUs {}",
                                 !d->numa_node ? "?" : *d->numa_node < 0 ? "none" : std::to_string(*d->numa_node),
                                 d->local_cpulist.value_or("?")));
        if (const GpuRow* row = CatalogRow(d)) out.Detail(DatasheetText(*row));
      }
      RenderTopology(out, nvml.devices);
    } else {
      RenderPciGpus(out, pci);
    }
    const std::string& text = out.str();
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (!why.empty()) {
    std::fprintf(stderr, "dlrig gpus: no GPU can be described: %s\n"
                         "run `dlrig doctor` to find which layer is broken and how to fix it\n",
                 why.c_str());
    return kExitErrors;
  }
  return kExitHealthy;
}

}  // namespace dlrig
