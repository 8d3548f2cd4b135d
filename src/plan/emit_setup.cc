// setup.sh: the system part of a plan (driver, toolkit, compiler) and the environment itself.
#include "plan/emit.h"

#include "core/strings.h"

namespace dlrig {
namespace {

std::string Dashed(const Version& v) {
  return std::to_string(v.major()) + "-" + std::to_string(v.minor());
}

/// "ubuntu2204", "debian12", "rhel9": how NVIDIA's CUDA repository names a distribution release.
std::string RepoOs(const Plan& p) {
  if (p.os) {
    std::string version = p.os->version;
    std::erase(version, '.');
    return (p.os->family == DriverFamily::kRhel ? std::string("rhel") : p.os->ids.front()) + version;
  }
  std::string version = p.machine.os_version;
  std::erase(version, '.');
  return (p.machine.os_id.empty() ? "ubuntu2204" : p.machine.os_id + version);
}

DriverFamily Family(const Plan& p) { return p.os ? p.os->family : DriverFamily::kUbuntu; }

std::string RepoUrl(const Plan& p) {
  return "https://developer.download.nvidia.com/compute/cuda/repos/" + RepoOs(p) + "/" +
         p.machine.machine + "/";
}

/// Stops the script unless `pkg` is in the configured package sources.
std::string RequirePackage(const Plan& p, const std::string& pkg) {
  std::string probe = Family(p) == DriverFamily::kRhel ? "dnf -q list " + pkg : "apt-cache show " + pkg;
  return "if ! " + probe + " >/dev/null 2>&1; then\n"
         "  echo \"" + pkg + " is not in the package sources: add NVIDIA's CUDA repository " + RepoUrl(p) +
         " first\" >&2\n"
         "  exit 1\n"
         "fi\n";
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
  if (p.machine.gpus.empty()) {
    out += "# No NVIDIA GPU on this machine: no driver is installed.\n\n";
    return;
  }
  if (!p.driver) {
    out += "# The installed driver stays: the plan's builds run on it.\n\n";
    return;
  }
  std::string branch = std::to_string(p.driver->branch);
  std::string runs = " (runs CUDA " + (p.driver->cuda ? p.driver->cuda->MajorMinor() : std::string("?")) + ")";
  switch (Family(p)) {
    case DriverFamily::kUbuntu: {
      std::string pkg = p.driver->Package();
      out += "# Driver: Ubuntu's " + pkg + runs + " from the restricted archive (`ubuntu-drivers list`\n"
             "# shows the same packages); held so unattended upgrades cannot replace it under a running stack.\n"
             "sudo apt-get update\n"
             "sudo apt-get install -y " + pkg + "\n"
             "sudo apt-mark hold " + pkg + "\n";
      break;
    }
    case DriverFamily::kDebian:
      if (p.driver->distro_package_runs) {
        std::string pkgs = p.driver->open_module ? "nvidia-open-kernel-dkms nvidia-driver" : "nvidia-driver";
        out += "# Driver: Debian's nvidia-driver (branch " + std::to_string(*p.os->driver_branch) +
               ") from non-free: enable the non-free and non-free-firmware components first.\n"
               "sudo apt-get update\n"
               "sudo apt-get install -y linux-headers-amd64 " + pkgs + " firmware-misc-nonfree\n";
      } else {
        std::string pkg = "cuda-drivers-" + branch;
        out += "# Driver: branch " + branch + runs + " from NVIDIA's CUDA repository (Debian's own\n"
               "# nvidia-driver is an older branch that cannot run this stack).\n"
               "sudo apt-get update\n" + RequirePackage(p, pkg) +
               "sudo apt-get install -y " + pkg + "\n"
               "sudo apt-mark hold " + pkg + "\n";
      }
      break;
    case DriverFamily::kRhel: {
      std::string pkg = "cuda-drivers-" + branch;
      out += "# Driver: branch " + branch + runs + " from NVIDIA's CUDA repository.\n" +
             RequirePackage(p, pkg) + "sudo dnf install -y " + pkg + "\n";
      break;
    }
  }
  out += "need_reboot=1\n\n";
}

void Toolkit(const Plan& p, std::string& out) {
  if (!HostToolkit(p)) return;
  std::string pkg = "cuda-toolkit-" + Dashed(*p.toolkit);
  std::string home = "/usr/local/cuda-" + p.toolkit->MajorMinor();
  std::string install = Family(p) == DriverFamily::kRhel ? "sudo dnf install -y " : "sudo apt-get install -y ";
  out += "# CUDA toolkit " + p.toolkit->MajorMinor() + " (nvcc for the extension builds) from NVIDIA's\n"
         "# repository " + RepoUrl(p) + "\n" + RequirePackage(p, pkg) +
         install + pkg + "\n"
         "export CUDA_HOME=" + home + "\n"
         "export PATH=\"$CUDA_HOME/bin:$PATH\"\n"
         "export LD_LIBRARY_PATH=\"$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\"\n"
         "echo \"Add to ~/.bashrc: export PATH=" + home + "/bin:\\$PATH LD_LIBRARY_PATH=" + home +
         "/lib64:\\$LD_LIBRARY_PATH\"\n";
  if (p.newest_gcc && p.machine.gcc && p.machine.gcc->major() > *p.newest_gcc) {
    std::string n = std::to_string(*p.newest_gcc);
    out += "# nvcc " + p.toolkit->MajorMinor() + " accepts GCC <= " + n + "; this machine's gcc is " +
           p.machine.gcc->text + ".\n"
           + install + "gcc-" + n + " g++-" + n + "\n"
           "export CC=gcc-" + n + " CXX=g++-" + n + "\n";
  }
  out += "\n";
}

/// uv, installed for this user when missing (astral.sh's installer puts it in ~/.local/bin).
const char* kEnsureUv =
    "if ! command -v uv >/dev/null 2>&1; then\n"
    "  curl -LsSf https://astral.sh/uv/install.sh | sh\n"
    "  export PATH=\"$HOME/.local/bin:$PATH\"\n"
    "fi\n";

/// .venv of the planned Python: the OS's (or this machine's) pythonX.Y when present, else one
/// uv installs. Never a pythonX.Y the target does not ship.
void MakeVenv(const Plan& p, std::string& out) {
  if (p.python.parts.empty()) {
    out += "python3 -m venv .venv\n";
    return;
  }
  std::string v = p.python.MajorMinor();
  std::string with_uv = std::string(kEnsureUv) + "uv python install " + v + "\n"
                        "uv venv --seed --python " + v + " .venv\n";
  if (p.python_source == PythonSource::kUv || p.python_source == PythonSource::kUnknown) {
    out += "# Python " + v + ": " + (p.os ? p.os->Name() + " ships " + p.os->python3.text + ", outside the wheels' range"
                                          : std::string("the target OS is not known")) + "; uv provides it.\n" + with_uv;
    return;
  }
  std::string py = "python" + v;
  out += "# Python " + v + (p.python_source == PythonSource::kOs ? ": " + p.os->Name() + "'s python3" : std::string()) + "\n";
  if (p.os && p.os->family != DriverFamily::kRhel)
    out += "if command -v " + py + " >/dev/null 2>&1 && ! " + py + " -c 'import ensurepip' >/dev/null 2>&1; then\n"
           "  sudo apt-get install -y " + py + "-venv\n"
           "fi\n";
  out += "if command -v " + py + " >/dev/null 2>&1; then\n"
         "  " + py + " -m venv .venv\n"
         "else\n";
  for (const std::string& line : SplitLines(with_uv)) out += "  " + line + "\n";
  out += "fi\n";
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
      MakeVenv(p, out);
      out += ".venv/bin/python -m pip install --upgrade pip\n"
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
  if ((p.driver && !p.machine.gpus.empty()) || HostToolkit(p)) {
    const char* tool = Family(p) == DriverFamily::kRhel ? "dnf" : "apt-get";
    out += std::string("if ! command -v ") + tool + " >/dev/null 2>&1; then\n"
           "  echo \"this script installs with " + tool + " (" +
           (p.os ? p.os->Name() : std::string("Ubuntu/Debian")) + ")\" >&2\n"
           "  exit 1\n"
           "fi\n\n";
  }
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
