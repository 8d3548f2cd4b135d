// Containers: a base image whose CUDA the host driver cannot start or run, NVIDIA_REQUIRE_CUDA
// the driver does not meet, driver capabilities without `compute` (no libcuda.so.1 in the
// container), and compose services that set NVIDIA_VISIBLE_DEVICES but request no GPU.
#include <fmt/format.h>

#include <algorithm>

#include "plan/check.h"
#include "plan/check_images.h"

namespace dlrig {

namespace {

const EnvSetting* FindEnv(const std::vector<EnvSetting>& env, std::string_view name) {
  const EnvSetting* found = nullptr;
  for (const auto& e : env)
    if (e.name == name) found = &e;  // the last one wins
  return found;
}

std::optional<bool> Compare(const Version& have, std::string_view op, const Version& want) {
  if (op == ">=") return have >= want;
  if (op == ">") return have > want;
  if (op == "<=") return have <= want;
  if (op == "<") return have < want;
  if (op == "=" || op == "==") return have == want;
  return std::nullopt;
}

// nvidia-container-toolkit's NVIDIA_REQUIRE_* syntax: space-separated alternatives, each a
// comma-separated list of conditions. nullopt when a condition cannot be judged here (brand).
enum class Tri { kFalse, kTrue, kUnknown };

std::optional<bool> RequireHolds(std::string_view value, const MachineSpec& machine,
                                 const std::optional<Version>& cuda) {
  bool unknown = false;
  size_t pos = 0;
  std::string v(value);
  while (pos < v.size()) {
    size_t end = v.find(' ', pos);
    std::string clause = v.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? v.size() : end + 1;
    if (clause.empty()) continue;
    Tri all = Tri::kTrue;
    size_t cpos = 0;
    while (cpos <= clause.size() && all != Tri::kFalse) {
      size_t cend = clause.find(',', cpos);
      std::string cond =
          clause.substr(cpos, cend == std::string::npos ? std::string::npos : cend - cpos);
      cpos = cend == std::string::npos ? clause.size() + 1 : cend + 1;
      size_t op = cond.find_first_of("<>=");
      size_t op_end = op == std::string::npos ? op : cond.find_first_not_of("<>=", op);
      std::optional<bool> r;
      if (op != std::string::npos && op_end != std::string::npos) {
        std::string key = cond.substr(0, op), oper = cond.substr(op, op_end - op);
        auto want = Version::Parse(cond.substr(op_end));
        if (key == "cuda" && cuda && want)
          r = Compare(*cuda, oper, *want);
        else if (key == "driver" && machine.driver && want)
          r = Compare(*machine.driver, oper, *want);
      }
      if (!r)
        all = Tri::kUnknown;
      else if (!*r)
        all = Tri::kFalse;
    }
    if (all == Tri::kTrue) return true;
    if (all == Tri::kUnknown) unknown = true;
  }
  if (unknown) return std::nullopt;
  return false;
}

void CheckImage(const ImageRef& image, const std::vector<EnvSetting>& env,
                const MachineSpec& machine, const CheckKnowledge& kb,
                std::vector<CheckFinding>& out) {
  ImageFacts f = ReadImage(image);
  if (!f.cuda || !machine.driver) return;
  const CudaDriverRow* row = CudaRowFor(*kb.drivers, *f.cuda);
  auto driver_cuda = DriverCuda(machine, *kb.drivers);
  if (f.family == ImageFacts::Family::kNvidiaCuda) {
    if (!driver_cuda || *Version::Parse(f.cuda->MajorMinor()) <= *driver_cuda) return;
    if (FindEnv(env, "NVIDIA_DISABLE_REQUIRE") != nullptr) return;
    out.push_back(
        {.id = "container-require-cuda-unsatisfied",
         .severity = Severity::kError,
         .at = image.at,
         .what = fmt::format(
             "{}:{} requires cuda>={}, and driver {} supports CUDA {}: the container "
             "will not start",
             image.name, image.tag, f.cuda->MajorMinor(), machine.driver->text, driver_cuda->text),
         .why = "nvidia/cuda images set NVIDIA_REQUIRE_CUDA=cuda>=X.Y, which the container toolkit "
                "compares with the driver's CUDA version before starting",
         .source = "breakage-catalog #52 container-require-cuda-unsatisfied "
                   "(NVIDIA/nvidia-container-toolkit#152)",
         .fix =
             fmt::format("use an nvidia/cuda tag of CUDA <= {}{}", driver_cuda->text,
                         row ? ", or upgrade the driver to >= " + row->toolkit_driver.text : "")});
    return;
  }
  if (kb.drivers->Runs(*f.cuda, *machine.driver).value_or(true)) return;
  out.push_back(
      {.id = "cuda-driver-insufficient",
       .severity = Severity::kError,
       .at = image.at,
       .what = fmt::format("{}:{} carries a CUDA {} torch that driver {} cannot run", image.name,
                           image.tag, f.cuda->text, machine.driver->text),
       .why = row ? "CUDA " + row->cuda.text + " needs " + DriverNeed(*row) : "",
       .source = row ? "data/cuda-drivers.toml: " + row->source : "",
       .fix = row ? "upgrade the driver, or use a pytorch/pytorch tag of an older CUDA" : ""});
}

void CheckEnv(const std::vector<EnvSetting>& env, const std::optional<Version>& image_cuda,
              const MachineSpec& machine, const CheckKnowledge& kb,
              std::vector<CheckFinding>& out) {
  if (const EnvSetting* caps = FindEnv(env, "NVIDIA_DRIVER_CAPABILITIES")) {
    std::string v = caps->value;
    if (v.find("compute") == std::string::npos && v.find("all") == std::string::npos)
      out.push_back(
          {.id = "container-capabilities-missing-compute",
           .severity = Severity::kError,
           .at = caps->at,
           .what = fmt::format(
               "NVIDIA_DRIVER_CAPABILITIES={} lacks compute: libcuda.so.1 is not mounted, "
               "CUDA cannot start (nvidia-smi still works)",
               v),
           .why = "the container toolkit mounts driver libraries per capability; libcuda belongs "
                  "to compute",
           .source = "breakage-catalog #54 container-capabilities-missing-compute "
                     "(NVIDIA/nvidia-docker#1226)",
           .replacement =
               ReplaceFirst(caps->at.text, v, v.empty() ? "compute,utility" : v + ",compute")});
  }
  const EnvSetting* req = FindEnv(env, "NVIDIA_REQUIRE_CUDA");
  if (req == nullptr || !machine.driver || FindEnv(env, "NVIDIA_DISABLE_REQUIRE") != nullptr)
    return;
  (void)image_cuda;
  auto driver_cuda = DriverCuda(machine, *kb.drivers);
  if (RequireHolds(req->value, machine, driver_cuda).value_or(true)) return;
  out.push_back(
      {.id = "container-require-cuda-unsatisfied",
       .severity = Severity::kError,
       .at = req->at,
       .what = fmt::format("NVIDIA_REQUIRE_CUDA \"{}\" is not met by driver {} (CUDA {})",
                           req->value, machine.driver->text, driver_cuda ? driver_cuda->text : "?"),
       .why = "the container toolkit refuses to start a container whose NVIDIA_REQUIRE_CUDA the "
              "driver "
              "does not satisfy",
       .source = "breakage-catalog #52 container-require-cuda-unsatisfied "
                 "(NVIDIA/nvidia-container-toolkit#152)",
       .fix = "upgrade the driver, or base the image on an older CUDA"});
}

bool IsDriverCapability(const std::string& c) {
  for (const char* n : {"compute", "compat32", "graphics", "utility", "video", "display"})
    if (c == n) return true;
  return false;
}

void CheckService(const ComposeService& svc, const MachineSpec& machine, const CheckKnowledge& kb,
                  std::vector<CheckFinding>& out) {
  if (svc.image) CheckImage(*svc.image, svc.env, machine, kb, out);
  CheckEnv(svc.env, std::nullopt, machine, kb, out);
  bool requested = svc.runtime_nvidia.has_value() || svc.gpus.has_value();
  for (const ComposeDevice& d : svc.devices) {
    bool nvidia =
        d.driver == "nvidia" ||
        std::any_of(d.capabilities.begin(), d.capabilities.end(), [](const std::string& c) {
          return c == "gpu" || c == "nvidia" || IsDriverCapability(c);
        });
    if (!nvidia) continue;
    requested = true;
    std::vector<std::string> driver_caps;
    for (const auto& c : d.capabilities)
      if (IsDriverCapability(c)) driver_caps.push_back(c);
    if (driver_caps.empty() ||
        std::find(driver_caps.begin(), driver_caps.end(), "compute") != driver_caps.end())
      continue;
    CheckFinding f{
        .id = "container-capabilities-missing-compute",
        .severity = Severity::kError,
        .at = d.capabilities_at,
        .what = fmt::format(
            "service {} asks for [{}] without compute: libcuda.so.1 is not mounted, CUDA "
            "cannot start (nvidia-smi still works)",
            svc.name, fmt::join(d.capabilities, ", ")),
        .why =
            "listed driver capabilities replace the default compute,utility; libcuda belongs to "
            "compute",
        .source =
            "breakage-catalog #54 container-capabilities-missing-compute (mudler/LocalAI#11973)"};
    if (d.capabilities_flow) {
      size_t close = d.capabilities_at.text.rfind(']');
      if (close != std::string::npos) {
        f.replacement = d.capabilities_at.text;
        f.replacement.insert(close, ", compute");
      }
    } else {
      f.fix = fmt::format("add \"- compute\" to the capabilities list at line {}",
                          d.capabilities_at.line);
    }
    out.push_back(std::move(f));
  }
  const EnvSetting* visible = FindEnv(svc.env, "NVIDIA_VISIBLE_DEVICES");
  if (visible != nullptr && !requested && visible->value != "none" && visible->value != "void")
    out.push_back(
        {.id = "container-started-without-gpus",
         .severity = Severity::kWarning,
         .at = visible->at,
         .what = fmt::format(
             "service {} sets NVIDIA_VISIBLE_DEVICES but requests no GPU: unless nvidia is "
             "Docker's default runtime, it starts without one",
             svc.name),
         .why =
             "the variable is read by the NVIDIA runtime hook, which runs only for containers that "
             "request a GPU (deploy.resources.reservations.devices, gpus:, or runtime: nvidia)",
         .source = "breakage-catalog #50 container-started-without-gpus",
         .fix = "add under the service: deploy: {resources: {reservations: {devices: [{driver: "
                "nvidia, "
                "count: all, capabilities: [gpu]}]}}}"});
}

}  // namespace

void CheckContainers(const ProjectFacts& facts, const MachineSpec& machine,
                     const CheckKnowledge& kb, std::vector<CheckFinding>& out) {
  for (const DockerStage& stage : facts.stages) {
    CheckImage(stage.image, stage.env, machine, kb, out);
    CheckEnv(stage.env, ReadImage(stage.image).cuda, machine, kb, out);
  }
  for (const ComposeService& svc : facts.services) CheckService(svc, machine, kb, out);
}

}  // namespace dlrig
