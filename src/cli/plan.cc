// dlrig plan: the newest stack this (or a described) machine runs, explained and written out.
#include <cstdio>

#include "cli/commands.h"
#include "cli/session.h"
#include "core/json_dump.h"
#include "plan/emit.h"
#include "plan/emit_json.h"
#include "plan/pip_resolve.h"
#include "plan/resolver.h"
#include "plan/write_files.h"
#include "probe/host.h"

namespace dlrig {
namespace {

void Print(const std::string& text, FILE* to = stdout) { std::fwrite(text.data(), 1, text.size(), to); }

std::string Summary(const Plan& p, bool explain) {
  std::string out = "Plan for " + p.machine.origin + " (" + TargetName(p.request.target) + "):\n";
  if (!p.variant.empty())
    out += "  torch " + p.torch->text + " " + p.variant + (p.index_url.empty() ? " from PyPI" : " from " + p.index_url) + "\n";
  for (const std::string& r : p.requirements) out += "  " + r + "\n";
  for (const std::string& r : p.build_requirements) out += "  " + r + " (built after torch)\n";
  if (!p.python.parts.empty()) out += "  python " + p.python.text + "\n";
  if (p.driver) out += "  driver: install " + p.driver->Package() + " (reboot)\n";
  if (p.toolkit) out += "  CUDA toolkit " + p.toolkit->text + ", gcc <= " + (p.newest_gcc ? std::to_string(*p.newest_gcc) : "?") + "\n";
  if (!p.docker_image.empty()) out += "  image " + p.docker_image + "\n";
  for (const std::string& n : p.notes) out += "  note: " + n + "\n";
  out += "  " + ResolutionLine(p) + "\n";
  if (explain) {
    out += "Constraints given to the resolver:\n";
    for (const std::string& c : p.constraints) out += "  " + c + "\n";
    if (!p.resolution.command.empty()) {
      out += "Resolver: ";
      for (const std::string& a : p.resolution.command) out += a + " ";
      out += "\n";
    }
    for (const ResolvedPackage& pkg : p.resolution.packages)
      if (pkg.requested || pkg.name.rfind("nvidia", 0) == 0 || pkg.name.rfind("jax", 0) == 0)
        out += "  answer: " + pkg.name + " " + pkg.version + (pkg.requested ? "" : " (dependency)") + "\n";
    out += "Why:\n";
    for (const Decision& d : p.decisions)
      out += "  " + d.topic + ": " + d.choice + " - " + d.why + " [" + d.source + "]\n";
  }
  return out;
}

}  // namespace

int RunPlan(const std::vector<std::string>& args) {
  CLI::App app("Plan the newest deep-learning stack this machine (or a described one) runs, "
               "explain each choice and write the setup files.", "dlrig plan");
  SessionOptions options;
  RequestArgs req_args;
  MachineDescription described;
  std::string out_dir;
  bool as_json = false, explain = false, force = false, offline = false;
  std::string resolver = "auto";
  int resolve_timeout_s = 180;
  AddSessionOptions(app, options);
  app.add_option("packages", req_args.packages,
                 "torch[==X.Y], tensorflow[==X.Y], jax[cuda12][==X.Y.Z] and torchvision, "
                 "torchaudio, apex, deepspeed, flash-attn, bitsandbytes");
  app.add_option("--gpu", described.gpu, "plan for a described GPU instead of this machine (\"RTX 4090\")");
  app.add_option("--cc", described.cc,
                 "describe a GPU the catalogue lacks by its compute capability (8.6)");
  app.add_option("--memory", described.memory, "the described GPU's memory in GB (24)");
  app.add_option("--driver", described.driver, "the described machine's driver (535.183)");
  app.add_option("--os", described.os, "the described machine's OS (ubuntu-22.04)");
  app.add_option("--python", req_args.python, "Python X.Y of the environment");
  app.add_option("--cuda", req_args.cuda, "only builds for this CUDA X.Y");
  app.add_option("--target", req_args.target, "conda, venv, docker, devcontainer or system (default venv)");
  app.add_flag("--compile", req_args.compile, "CUDA code gets compiled: toolkit with nvcc, devel image");
  app.add_flag("--upgrade-driver", req_args.upgrade_driver, "the plan may install a newer driver");
  app.add_flag("--explain", explain, "say why each choice was made");
  app.add_flag("--offline", offline, "pin from dlrig's tables without asking the resolver");
  app.add_option("--resolver", resolver, "auto (uv where installed, else pip), pip or uv")
      ->check(CLI::IsMember({"auto", "pip", "uv"}));
  app.add_option("--resolve-timeout", resolve_timeout_s,
                 "seconds the resolver may take before the plan falls back to its tables (180)")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--json", as_json, "the resolved stack as JSON (schema dlrig.plan/1)");
  app.add_option("-o,--output", out_dir, "write the files into DIR");
  app.add_flag("--force", force, "replace existing files in DIR");
  if (auto done = ParseArgs(app, args)) return *done;

  auto request = ParseRequest(req_args);
  if (!request) {
    Print("dlrig plan: " + request.error().message + "\n", stderr);
    return kExitUsage;
  }
  MachineSpec machine;
  if (described.Given()) {
    if (options.root != "/") {
      Print("dlrig plan: --root and --gpu/--cc/--driver/--os describe the machine twice; give one\n", stderr);
      return kExitUsage;
    }
    auto spec = DescribeMachine(described);
    if (!spec) {
      Print("dlrig plan: " + spec.error().message + "\n", stderr);
      return kExitUsage;
    }
    machine = *spec;
    // No --os: the target is this machine's OS (its Python and driver packaging).
    if (described.os.empty()) {
      if (auto root = Root::Open("/")) {
        auto text = root->ReadFile("/etc/os-release", 64 * 1024);
        if (!text) text = root->ReadFile("/usr/lib/os-release", 64 * 1024);
        if (text) {
          OsRelease os = ParseOsRelease(*text);
          machine.os_id = os.id;
          machine.os_version = os.version_id;
        }
      }
    }
    for (const std::string& note : machine.notes) Print("dlrig plan: " + note + "\n", stderr);
  } else {
    auto session = Session::Open(options);
    if (!session) return kExitUsage;
    machine = MachineFromInventory(CollectInventory(session->context()));
  }
  PlanResult plan = Resolve(machine, *request);
  if (!plan) {
    std::string msg = "dlrig plan: no stack fits (" + plan.error().constraint + "): " + plan.error().message + "\n";
    if (plan.error().alternatives.empty()) msg += "  no nearby alternative fits either\n";
    for (const std::string& alt : plan.error().alternatives) msg += "  would fit with " + alt + "\n";
    Print(msg, stderr);
    return kExitErrors;
  }
  if (offline) {
    MarkOffline(*plan, "--offline");
  } else {
    ResolverOptions ro;
    ro.deadline = std::chrono::seconds(resolve_timeout_s);
    ro.tool = resolver == "pip" ? ResolverChoice::kPip
              : resolver == "uv" ? ResolverChoice::kUv : ResolverChoice::kAuto;
    SystemRunner runner;
    std::optional<Version> glibc;
    if (plan->os) glibc = plan->os->glibc;
    ApplyResolution(*plan, RunResolver(runner, RequestFor(*plan, glibc), ro));
    if (plan->resolution.verdict == "conflict") {
      Print("dlrig plan: the resolver found no installable set for " +
                [&] {
                  std::string c;
                  for (const std::string& x : plan->constraints) c += (c.empty() ? "" : " ") + x;
                  return c;
                }() + ": " + plan->resolution.message + "\nnothing was written\n",
            stderr);
      return kExitErrors;
    }
  }
  if (as_json)
    Print(DumpJson(PlanJson(*plan)) + "\n");
  else
    Print(Summary(*plan, explain));
  if (out_dir.empty()) return kExitHealthy;
  auto written = WriteFiles(out_dir, EmitPlan(*plan), force ? Overwrite::kYes : Overwrite::kNo);
  if (!written) {
    Print("dlrig plan: " + written.error().message + "\n", stderr);
    return written.error().kind == ErrorKind::kIo ? kExitUsage : kExitErrors;
  }
  if (!as_json)
    for (const std::string& path : *written) Print("wrote " + path + "\n");
  return kExitHealthy;
}

}  // namespace dlrig
