// A machine described as files, for rule tests: one RTX 4090 on the bus, and helpers that add
// each layer (driver, venv with torch, ...) in its real file shapes. Ids() runs every probe and
// rule on it the way `dlrig doctor --root` does.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "test_util.h"

namespace dlrig {
namespace testing {

inline const char* const kHealthyDev =
    "crw-rw-rw- 1 root root 195,   0 Nov 22 17:01 /dev/nvidia0\n"
    "crw-rw-rw- 1 root root 195, 255 Nov 22 17:01 /dev/nvidiactl\n"
    "crw-rw-rw- 1 root root 238,   0 Nov 22 17:01 /dev/nvidia-uvm\n";

// A machine with one RTX 4090 on the bus, described as files.
class Machine {
 public:
  Machine() {
    t_.Write("proc/sys/kernel/osrelease", "6.8.0-45-generic\n");
    std::string dev = "sys/bus/pci/devices/0000:01:00.0/";
    t_.Write(dev + "vendor", "0x10de\n");
    t_.Write(dev + "device", "0x2684\n");
    t_.Write(dev + "class", "0x030000\n");
    t_.Write(dev + "current_link_width", "16\n");
    t_.Write(dev + "max_link_width", "16\n");
    t_.Write("proc/self/mountinfo", "25 24 0:23 / /dev/shm rw - tmpfs tmpfs rw,size=16777216k\n");
    env_ = "HOME=/root\nPATH=/usr/bin\n";
  }
  void Driver(const std::string& name) { t_.Write("sys/bus/pci/devices/0000:01:00.0/driver.name", name + "\n"); }
  // The kernel module at `version` and the user-space driver at `libs` (default: the same).
  void LoadedModule(const std::string& version, std::string libs = "") {
    if (libs.empty()) libs = version;
    for (const char* lib : {"libcuda", "libnvidia-ml"}) {
      std::string dir = "usr/lib/x86_64-linux-gnu/";
      t_.Write(dir + lib + ".so." + libs, "");
      t_.Link(std::string(lib) + ".so." + libs, dir + lib + ".so.1");
    }
    Driver("nvidia");
    t_.Write("proc/driver/nvidia/version",
             "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  " + version +
                 "  Release Build  (dvs-builder@U16)  Thu Oct  2 2025\n");
    t_.Write("proc/modules", "nvidia_uvm 1 0 - Live 0x0 (O)\nnvidia 1 0 - Live 0x0 (O)\n");
  }
  void Devices(const std::string& listing) { t_.Write("dev.listing", listing); }
  // Driver 580.95.05 loaded, user space alike, the usual device nodes.
  void WorkingDriver() {
    LoadedModule("580.95.05");
    Devices(kHealthyDev);
  }
  // An active venv /opt/venv (Python 3.12) with torch `version` (torch/version.py's
  // __version__) built for `cuda` ("None" for a CPU build).
  void TorchVenv(const std::string& version, const std::string& cuda) {
    t_.Write("opt/venv/pyvenv.cfg", "home = /usr/bin\nversion_info = 3.12.3\n");
    std::string site = "opt/venv/lib/python3.12/site-packages/";
    t_.Mkdir(site + "torch-" + version + ".dist-info");
    std::string cuda_value = cuda == "None" ? cuda : "'" + cuda + "'";
    t_.Write(site + "torch/version.py", "__version__ = '" + version +
                                            "'\ndebug = False\ncuda: Optional[str] = " +
                                            cuda_value + "\nhip = None\n");
    Env("VIRTUAL_ENV=/opt/venv");
  }
  void Env(const std::string& line) { env_ += line + "\n"; }
  void Write(const std::string& rel, const std::string& text) { t_.Write(rel, text); }
  void Link(const std::string& target, const std::string& rel) { t_.Link(target, rel); }
  void Mkdir(const std::string& rel) { t_.Mkdir(rel); }
  void Remove(const std::string& rel) { std::filesystem::remove_all(t_.dir() / rel); }

  std::vector<std::string> Ids() {
    t_.Write("environ.txt", env_);
    testing::Fixture f(t_.dir().string(), Environment::Parse(env_));
    Inventory inv = CollectInventory(f.ctx());
    auto findings = Diagnose(inv, *Catalog::BuiltIn());
    EXPECT_TRUE(findings) << findings.error().message;
    std::vector<std::string> ids;
    for (const auto& x : *findings) ids.push_back(x.caused_by.empty() ? x.id : x.id + "<-" + x.caused_by);
    return ids;
  }

 private:
  testing::TempTree t_;
  std::string env_;
};

/// True when `ids` (from Machine::Ids) holds `id`.
inline bool Has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace testing
}  // namespace dlrig
