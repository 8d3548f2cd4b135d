// A finding: one thing dlrig judged about the machine, with the evidence that proves it.
// Its words (title, explanation, fix) come from the catalogue (data/findings.toml) by id;
// rules supply only the id, the evidence and the values the words refer to.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlrig {

enum class Severity { kInfo, kWarning, kError };
/// The stack's layers, bottom up (DESIGN.md). A finding's root cause is the lowest broken one.
enum class Layer { kHardware, kKernelDriver, kUserDriver, kToolkits, kLibraries, kPython,
                   kContainers, kShell };

const char* SeverityName(Severity s);                 ///< "info", "warning", "error"
std::optional<Severity> ParseSeverity(std::string_view name);
const char* LayerName(Layer l);                       ///< "hardware", "kernel driver", ...
const char* LayerKey(Layer l);                        ///< "hardware", "kernel_driver", ...
std::optional<Layer> ParseLayerKey(std::string_view key);

struct Finding {
  std::string id;       ///< stable kebab-case id, a key of the catalogue
  std::string subject;  ///< what it is about: "GPU 0000:01:00.0", "/opt/venv", "" = the machine
  std::vector<std::string> evidence;         ///< "file or call: value", verbatim
  std::map<std::string, std::string> vars;   ///< values for {name} in the catalogue's text
  std::optional<Severity> severity;          ///< overrides the catalogue's when set
  // Filled in by Diagnose from the catalogue:
  Layer layer = Layer::kHardware;
  std::string title, explanation;
  std::vector<std::string> fix;  ///< commands, one per line
  bool needs_root = false;
  std::string automate;          ///< "yes", "consent", "no"
  std::string caused_by;         ///< id of the lower finding this one follows from; "" = a root
};

}  // namespace dlrig
