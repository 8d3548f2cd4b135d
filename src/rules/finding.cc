#include "rules/finding.h"

namespace dlrig {
namespace {

constexpr Layer kLayers[] = {Layer::kHardware,  Layer::kKernelDriver, Layer::kUserDriver,
                             Layer::kToolkits,  Layer::kLibraries,    Layer::kPython,
                             Layer::kContainers, Layer::kShell};

}  // namespace

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "info";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  for (Severity s : {Severity::kInfo, Severity::kWarning, Severity::kError})
    if (name == SeverityName(s)) return s;
  return std::nullopt;
}

const char* LayerName(Layer l) {
  switch (l) {
    case Layer::kHardware: return "hardware";
    case Layer::kKernelDriver: return "kernel driver";
    case Layer::kUserDriver: return "user-space driver";
    case Layer::kToolkits: return "toolkits";
    case Layer::kLibraries: return "libraries";
    case Layer::kPython: return "python";
    case Layer::kContainers: return "containers";
    case Layer::kShell: return "shell";
  }
  return "hardware";
}

const char* LayerKey(Layer l) {
  switch (l) {
    case Layer::kKernelDriver: return "kernel_driver";
    case Layer::kUserDriver: return "user_driver";
    default: return LayerName(l);
  }
}

std::optional<Layer> ParseLayerKey(std::string_view key) {
  for (Layer l : kLayers)
    if (key == LayerKey(l)) return l;
  return std::nullopt;
}

}  // namespace dlrig
