// setup.sh: the system part of a plan (driver, toolkit, compiler) and the environment itself.
#include "plan/emit.h"

#include "core/strings.h"

namespace dlrig {
namespace {

std::string Dashed(const Version& v) {
  return std::to_string(v.major()) + "-" + std::to_string(v.minor());
}

/// "ubuntu2204": how NVIDIA's CUDA repository names a distribution release.
std::string RepoOs(const MachineSpec& m) {
  std::string version = m.os_version;
  std::erase(version, '.');
  return (m.os_id.empty() ? "ubuntu2204" : m.os_id + version);
}

bool Containerised(const Plan& p) {
  return p.request.target == Target::kDocker || p.request.target == Target::kDevcontainer;
}

/// The toolkit goes on the host only when extensions are compiled outside a container and
/// conda cannot bring nvcc (conda-forge's cuda-nvcc starts at CUDA 12).
bool HostToolkit(const Plan& p) {
  if (!p.toolkit || Containerised(p)) return false;
  return p.request.target != Target::kConda || p.toolkit->major() < 12;
}

void Driver(const Plan& p, std::string& out) {
  if (!p.driver) {
    out += "# The installed driver stays: the plan's builds run on it.\n\n";
    return;
  }
  std::string pkg = p.driver->Package();
  out += "# Driver: " + pkg + " (runs CUDA " +
         (p.driver->cuda ? p.driver->cuda->MajorMinor() : std::string("?")) +
         "); held so unattended upgrades cannot replace it under a running stack.\n"
         "sudo apt-get update\n"
         "sudo apt-get install -y " + pkg + "\n"
         "sudo apt-mark hold " + pkg + "\n"
         "need_reboot=1\n\n";
}

void Toolkit(const Plan& p, std::string& out) {
  if (!HostToolkit(p)) return;
  std::string pkg = "cuda-toolkit-" + Dashed(*p.toolkit);
  std::string home = "/usr/local/cuda-" + p.toolkit->MajorMinor();
  out += "# CUDA toolkit " + p.toolkit->MajorMinor() + " (nvcc for the extension builds) from NVIDIA's\n"
         "# apt repository https://developer.download.nvidia.com/compute/cuda/repos/" + RepoOs(p.machine) +
         "/" + p.machine.machine + "/\n"
         "if ! apt-cache show " + pkg + " >/dev/null 2>&1; then\n"
         "  echo \"" + pkg + " is not in the apt sources: add NVIDIA's CUDA repository first\" >&2\n"
         "  exit 1\n"
         "fi\n"
         "sudo apt-get install -y " + pkg + "\n"
         "export CUDA_HOME=" + home + "\n"
         "export PATH=\"$CUDA_HOME/bin:$PATH\"\n"
         "export LD_LIBRARY_PATH=\"$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\"\n"
         "echo \"Add to ~/.bashrc: export PATH=" + home + "/bin:\\$PATH LD_LIBRARY_PATH=" + home +
         "/lib64:\\$LD_LIBRARY_PATH\"\n";
  if (p.newest_gcc && p.machine.gcc && p.machine.gcc->major() > *p.newest_gcc) {
    std::string n = std::to_string(*p.newest_gcc);
    out += "# nvcc " + p.toolkit->MajorMinor() + " accepts GCC <= " + n + "; this machine's gcc is " +
           p.machine.gcc->text + ".\n"
           "sudo apt-get install -y gcc-" + n + " g++-" + n + "\n"
           "export CC=gcc-" + n + " CXX=g++-" + n + "\n";
  }
  out += "\n";
}

void InstallEnvironment(const Plan& p, std::string& out) {
  bool build = !p.build_requirements.empty();
  switch (p.request.target) {
    case Target::kConda:
      out += "conda env create -f environment.yml\n";
      if (build) out += "conda run -n dlrig-plan python -m pip install --no-build-isolation -r requirements-build.txt\n";
      out += "echo \"Activate it with: conda activate dlrig-plan\"\n";
      break;
    case Target::kVenv: {
      std::string python = p.python.parts.empty() ? "python3" : "python" + p.python.MajorMinor();
      out += python + " -m venv .venv\n"
             ".venv/bin/python -m pip install --upgrade pip\n"
             ".venv/bin/python -m pip install -r requirements.txt\n";
      if (build) out += ".venv/bin/python -m pip install --no-build-isolation -r requirements-build.txt\n";
      out += "echo \"Activate it with: source .venv/bin/activate\"\n";
      break;
    }
    case Target::kSystem:
      out += "python3 -m pip install --user -r requirements.txt\n";
      if (build) out += "python3 -m pip install --user --no-build-isolation -r requirements-build.txt\n";
      break;
    case Target::kDocker:
    case Target::kDevcontainer:
      out += "if ! command -v docker >/dev/null 2>&1; then\n"
             "  echo \"docker is not installed; install Docker and the NVIDIA Container Toolkit\" >&2\n"
             "  exit 1\n"
             "fi\n"
             "docker build -t dlrig-plan .\n"
             "echo \"Start it with: ./docker-run.sh\"\n";
      break;
  }
}

}  // namespace

std::string EmitSetupSh(const Plan& p) {
  std::string out = "#!/usr/bin/env bash\n";
  out += FileHeader(p, "Sets up the planned stack on this machine: bash setup.sh", "#");
  for (const std::string& note : p.notes) out += "# Note: " + note + "\n";
  out += "set -euo pipefail\ncd \"$(dirname \"$0\")\"\nneed_reboot=0\n\n";
  if (p.driver || HostToolkit(p))
    out += "if ! command -v apt-get >/dev/null 2>&1; then\n"
           "  echo \"this script installs with apt-get (Ubuntu/Debian)\" >&2\n"
           "  exit 1\n"
           "fi\n\n";
  Driver(p, out);
  Toolkit(p, out);
  InstallEnvironment(p, out);
  out += "if [ \"$need_reboot\" = 1 ]; then\n"
         "  echo \"Reboot now so the new driver loads, then run: dlrig doctor\"\n"
         "else\n"
         "  echo \"Done. Verify with: dlrig doctor\"\n"
         "fi\n";
  return out;
}

}  // namespace dlrig
