#include "plan/request.h"

#include <algorithm>
#include <array>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr std::array<const char*, 3> kFrameworks = {"torch", "tensorflow", "jax"};
constexpr std::array<const char*, 6> kExtras = {"torchvision", "torchaudio",  "apex",
                                                "deepspeed",   "flash-attn", "bitsandbytes"};

std::string Quoted(std::string_view text) {
  std::string out(1, '"');
  out.append(text);
  out.push_back('"');
  return out;
}

std::string Known() {
  std::string out;
  for (const char* n : kFrameworks) out += std::string(out.empty() ? "" : ", ") + n;
  for (const char* n : kExtras) out += std::string(", ") + n;
  return out;
}

/// Package names as people write them, to the name the plan uses.
std::string Canonical(std::string name) {
  name = ToLower(name);
  std::replace(name.begin(), name.end(), '_', '-');
  if (name == "pytorch") return "torch";
  if (name == "flash-attention" || name == "flash-attn2") return "flash-attn";
  if (name == "nvidia-apex") return "apex";
  return name;
}

Result<std::optional<Version>> ParseVersionField(std::string_view what, std::string_view text,
                                                 std::string_view example) {
  if (text.empty()) return std::optional<Version>{};
  auto v = Version::Parse(text);
  if (!v || !v->suffix.empty() || v->parts.size() > 3)
    return Fail(ErrorKind::kMalformed, "malformed version " + Quoted(text) + " for " +
                                           std::string(what) + "; write digits and dots, e.g. " +
                                           std::string(example));
  return std::optional<Version>(*v);
}

Result<FrameworkRequest> ParsePackage(std::string_view spec) {
  FrameworkRequest fr;
  std::string_view rest = Trim(spec);
  size_t op = rest.find_first_of("=<>!~");
  std::string_view head = rest.substr(0, op);
  std::string_view version;
  if (op != std::string_view::npos) {
    std::string_view tail = rest.substr(op);
    if (!StartsWith(tail, "==") || StartsWith(tail, "===")) {
      return Fail(ErrorKind::kMalformed,
                  Quoted(spec) + ": only exact versions are accepted (NAME==X.Y); "
                  "leave the version out to get the newest that fits the machine");
    }
    version = Trim(tail.substr(2));
    if (version.empty())
      return Fail(ErrorKind::kMalformed, Quoted(spec) + " has no version after ==");
  }
  size_t bracket = head.find('[');
  if (bracket != std::string_view::npos) {
    if (!EndsWith(head, "]") || bracket + 2 >= head.size())
      return Fail(ErrorKind::kMalformed, Quoted(spec) + ": write an extra as NAME[EXTRA], e.g. jax[cuda12]");
    fr.extra = ToLower(head.substr(bracket + 1, head.size() - bracket - 2));
    head = head.substr(0, bracket);
  }
  fr.name = Canonical(std::string(Trim(head)));
  if (fr.name.empty())
    return Fail(ErrorKind::kMalformed, Quoted(spec) + " names no package");
  auto v = ParseVersionField(fr.name, version, fr.name + "==2.3");
  if (!v) return tl::unexpected(v.error());
  fr.version = *v;
  return fr;
}

}  // namespace

const char* TargetName(Target target) {
  switch (target) {
    case Target::kVenv: return "venv";
    case Target::kConda: return "conda";
    case Target::kDocker: return "docker";
    case Target::kDevcontainer: return "devcontainer";
    case Target::kSystem: return "system";
  }
  return "venv";
}

bool IsBuiltExtension(const std::string& name) { return name == "apex" || name == "flash-attn"; }

const FrameworkRequest* Request::Find(const std::string& name) const {
  for (const auto& f : frameworks)
    if (f.name == name) return &f;
  return nullptr;
}

bool Request::HasExtra(const std::string& name) const {
  return std::find(extras.begin(), extras.end(), name) != extras.end();
}

std::string Request::Text() const {
  std::string out;
  auto add = [&](const std::string& word) { out += (out.empty() ? "" : " ") + word; };
  for (const auto& f : frameworks)
    add(f.name + (f.extra.empty() ? "" : "[" + f.extra + "]") +
        (f.version ? "==" + f.version->text : ""));
  for (const auto& e : extras) add(e);
  if (python) add("--python " + python->text);
  if (cuda) add("--cuda " + cuda->text);
  if (compile && !compile_implied) add("--compile");
  if (driver == DriverPolicy::kMayUpgrade) add("--upgrade-driver");
  add(std::string("--target ") + TargetName(target));
  return out;
}

Result<Request> ParseRequest(const RequestArgs& args) {
  Request req;
  if (args.packages.empty())
    return Fail(ErrorKind::kMalformed, "name at least one framework: torch, tensorflow or jax "
                                       "(e.g. dlrig plan torch torchvision)");
  for (const std::string& spec : args.packages) {
    auto fr = ParsePackage(spec);
    if (!fr) return tl::unexpected(fr.error());
    bool framework = std::find(kFrameworks.begin(), kFrameworks.end(), fr->name) != kFrameworks.end();
    bool extra = std::find(kExtras.begin(), kExtras.end(), fr->name) != kExtras.end();
    if (!framework && !extra)
      return Fail(ErrorKind::kMalformed, "unknown package " + Quoted(fr->name) + "; plan knows " + Known());
    if (extra && (fr->version || !fr->extra.empty()))
      return Fail(ErrorKind::kMalformed, Quoted(spec) + ": companion packages take no version "
                                         "or extra; plan pins them to match the framework");
    if (framework && !fr->extra.empty() &&
        !(fr->name == "jax" && (fr->extra == "cuda12" || fr->extra == "cuda13")))
      return Fail(ErrorKind::kMalformed, Quoted(spec) + ": unknown extra; jax accepts [cuda12] "
                                         "or [cuda13], the others none");
    if (framework ? req.Find(fr->name) != nullptr : req.HasExtra(fr->name))
      return Fail(ErrorKind::kMalformed, Quoted(fr->name) + " is named twice");
    if (framework)
      req.frameworks.push_back(*fr);
    else
      req.extras.push_back(fr->name);
  }
  if (req.frameworks.empty())
    return Fail(ErrorKind::kMalformed, "companion packages need a framework: add torch "
                                       "(e.g. dlrig plan torch " + req.extras.front() + ")");
  bool torch_extra = std::any_of(req.extras.begin(), req.extras.end(), [](const std::string& e) {
    return e != "bitsandbytes";
  });
  if (torch_extra && !req.Find("torch"))
    return Fail(ErrorKind::kMalformed, "torchvision, torchaudio, apex, deepspeed and flash-attn "
                                       "are built on PyTorch: add torch to the request");
  auto python = ParseVersionField("--python", args.python, "3.11");
  if (!python) return tl::unexpected(python.error());
  req.python = *python;
  if (req.python && (req.python->parts.size() < 2 || req.python->major() != 3))
    return Fail(ErrorKind::kMalformed, "--python " + args.python + ": give CPython 3.X, e.g. 3.11");
  auto cuda = ParseVersionField("--cuda", args.cuda, "12.1");
  if (!cuda) return tl::unexpected(cuda.error());
  req.cuda = *cuda;
  if (req.cuda && req.cuda->parts.size() != 2)
    return Fail(ErrorKind::kMalformed, "--cuda " + args.cuda + ": give the CUDA release as X.Y, e.g. 12.1");
  static const std::array<Target, 5> kTargets = {Target::kVenv, Target::kConda, Target::kDocker,
                                                 Target::kDevcontainer, Target::kSystem};
  bool found = false;
  for (Target t : kTargets)
    if (ToLower(args.target) == TargetName(t)) req.target = t, found = true;
  if (!found)
    return Fail(ErrorKind::kMalformed, "--target " + args.target +
                                           ": choose conda, venv, docker, devcontainer or system");
  req.compile = args.compile;
  for (const auto& e : req.extras)
    if (IsBuiltExtension(e) && !req.compile) req.compile = req.compile_implied = true;
  req.driver = args.upgrade_driver ? DriverPolicy::kMayUpgrade : DriverPolicy::kKeep;
  return req;
}

}  // namespace dlrig
