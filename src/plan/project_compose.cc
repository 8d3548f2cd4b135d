// docker-compose files: per service its image, `runtime: nvidia`, `gpus:`, the GPU device
// reservations (deploy.resources.reservations.devices) and its environment.
#include <fmt/format.h>

#include "core/yaml.h"
#include "plan/project_files.h"

namespace dlrig {

namespace {

Located At(const YamlNode& n, LineIndex& lines, const std::string& path) {
  return Located{path, n.line, lines.At(n.line)};
}

const YamlNode* Path(const YamlNode& n, std::initializer_list<std::string_view> keys) {
  const YamlNode* cur = &n;
  for (std::string_view k : keys) {
    cur = cur->IsMapping() ? cur->Get(k) : nullptr;
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

void ReadEnvironment(const YamlNode& env, LineIndex& lines, const std::string& path,
                     ComposeService& svc) {
  if (env.IsMapping()) {
    for (const YamlEntry& e : env.entries)
      svc.env.push_back({e.key, e.value.scalar, {path, e.line, lines.At(e.line)}});
  } else if (env.IsSequence()) {
    for (const YamlNode& item : env.items) {
      if (!item.IsScalar()) continue;
      size_t eq = item.scalar.find('=');
      svc.env.push_back({item.scalar.substr(0, eq),
                         eq == std::string::npos ? "" : item.scalar.substr(eq + 1),
                         At(item, lines, path)});
    }
  }
}

}  // namespace

Result<ProjectFacts> ParseCompose(std::string_view text, const std::string& path) {
  auto doc = ParseYaml(text, path);
  LineIndex lines(text);  // one shared copy of each line, however many facts it holds
  if (!doc) return tl::unexpected(doc.error());
  ProjectFacts facts;
  facts.kind = ProjectFileKind::kCompose;
  facts.path = path;
  const YamlNode* services = doc->IsMapping() ? doc->Get("services") : nullptr;
  if (services == nullptr || !services->IsMapping())
    return Fail(ErrorKind::kMalformed,
                fmt::format("{}:{}: not a compose file: no \"services:\" mapping", path,
                            doc->line > 0 ? doc->line : 1));
  for (const YamlEntry& s : services->entries) {
    ComposeService svc;
    svc.name = s.key;
    svc.at = Located{path, s.line, lines.At(s.line)};
    const YamlNode& v = s.value;
    if (const YamlNode* image = Path(v, {"image"}); image != nullptr && image->IsScalar())
      svc.image = ParseImageRef(image->scalar, At(*image, lines, path));
    if (const YamlNode* rt = Path(v, {"runtime"});
        rt != nullptr && rt->IsScalar() && rt->scalar == "nvidia")
      svc.runtime_nvidia = At(*rt, lines, path);
    if (const YamlNode* gpus = Path(v, {"gpus"}); gpus != nullptr) svc.gpus = At(*gpus, lines, path);
    if (const YamlNode* env = Path(v, {"environment"})) ReadEnvironment(*env, lines, path, svc);
    const YamlNode* devices = Path(v, {"deploy", "resources", "reservations", "devices"});
    if (devices != nullptr && devices->IsSequence()) {
      for (const YamlNode& d : devices->items) {
        if (!d.IsMapping()) continue;
        ComposeDevice dev;
        dev.at = At(d, lines, path);
        if (const YamlNode* drv = d.Get("driver"); drv != nullptr && drv->IsScalar())
          dev.driver = drv->scalar;
        if (const YamlNode* caps = d.Get("capabilities")) {
          for (const YamlEntry& e : d.entries)
            if (e.key == "capabilities")
              dev.capabilities_at = Located{path, e.line, lines.At(e.line)};
          dev.capabilities_flow = caps->IsSequence() && caps->line == dev.capabilities_at.line;
          if (caps->IsSequence())
            for (const YamlNode& c : caps->items)
              if (c.IsScalar()) dev.capabilities.push_back(c.scalar);
          if (caps->IsScalar()) dev.capabilities.push_back(caps->scalar);
        }
        svc.devices.push_back(std::move(dev));
      }
    }
    facts.services.push_back(std::move(svc));
  }
  return facts;
}

}  // namespace dlrig
