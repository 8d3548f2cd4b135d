// Real venvs (python3 -m venv) with real nvidia-cuda-runtime-cu12 wheels from PyPI at two
// versions, and a real "framework" library compiled here whose RUNPATH points into the wheel.
// dlrig must resolve the real libcudart.so.12 and read the wheel's version.
#include <gtest/gtest.h>
#include <unistd.h>


#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/environment.h"
#include "core/exec.h"
#include "knowledge/embedded.h"
#include "probe/python.h"
#include "probe/python_libraries.h"

namespace dlrig {
namespace {

namespace fs = std::filesystem;

const char* const kVersions[] = {"12.4.127", "12.6.77"};

fs::path CacheDir() { return fs::path(DLRIG_BINARY).parent_path() / "test-cache"; }

bool Sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

std::string SitePackages(const fs::path& venv) {
  for (const auto& e : fs::directory_iterator(venv / "lib"))
    if (e.path().filename().string().rfind("python3.", 0) == 0)
      return (e.path() / "site-packages").string();
  return "";
}

// A venv with nvidia-cuda-runtime-cu12==version and a fake framework library linked to it;
// cached under the build dir so reruns skip the network. "" when pip cannot reach PyPI.
// Built under a private name and renamed into place, so tests running in parallel never see
// (or delete) each other's half-made venv.
std::string MakeVenv(const std::string& version) {
  fs::path final_venv = CacheDir() / ("venv-cudart-" + version);
  if (fs::exists(final_venv / ".dlrig-ready")) return final_venv.string();
  fs::path venv = CacheDir() / ("venv-cudart-" + version + ".tmp" + std::to_string(::getpid()));
  fs::path done = venv / ".dlrig-ready";
  fs::remove_all(venv);
  fs::create_directories(CacheDir());
  if (!Sh("python3 -m venv " + venv.string())) return "";
  if (!Sh("timeout 120 " + (venv / "bin/python").string() +
          " -m pip install -q --no-deps --disable-pip-version-check --cache-dir " +
          (CacheDir() / "pip").string() + " nvidia-cuda-runtime-cu12==" + version))
    return "";
  std::string site = SitePackages(venv);
  fs::create_directories(site + "/fakefw/lib");
  std::ofstream(site + "/fakefw/fw.c")
      << "int cudaRuntimeGetVersion(int*);\n"
         "int fw(void){int v; return cudaRuntimeGetVersion(&v);}\n";
  if (!Sh("cc -shared -fPIC -o " + site + "/fakefw/lib/libfakefw.so " + site + "/fakefw/fw.c " +
          site + "/nvidia/cuda_runtime/lib/libcudart.so.12 " +
          "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../../nvidia/cuda_runtime/lib'"))
    return "";
  std::ofstream(done) << "ok\n";
  std::error_code ec;
  fs::rename(venv, final_venv, ec);
  if (ec) fs::remove_all(venv);  // another test won the race: use its copy
  return fs::exists(final_venv / ".dlrig-ready") ? final_venv.string() : "";
}

TEST(VenvIntegrationTest, ResolvesTheWheelsRealLibcudartAndItsVersion) {
  for (const char* version : kVersions) {
    std::string venv = MakeVenv(version);
    if (venv.empty()) {
      if (std::getenv("CI") != nullptr) FAIL() << "pip could not install from PyPI";
      GTEST_SKIP() << "pip could not install from PyPI (offline?)";
    }
    std::string site = SitePackages(venv);
    auto root = Root::Open("/");
    ASSERT_TRUE(root);
    std::string importer = site + "/fakefw/lib/libfakefw.so";
    auto elf = ReadElf(*root, importer);
    ASSERT_TRUE(elf) << elf.error().message;
    ASSERT_NE(std::find(elf->needed.begin(), elf->needed.end(), "libcudart.so.12"),
              elf->needed.end());
    Environment env;
    NoRunner runner;
    ProbeContext ctx{*root, env, runner, {venv}, false};
    PythonFacts facts = ProbePython(ctx, ProbeLoaderConfig(ctx));
    auto it = std::find_if(facts.envs.begin(), facts.envs.end(),
                           [&](const PythonEnv& e) { return e.prefix == venv; });
    ASSERT_NE(it, facts.envs.end());
    ASSERT_EQ(it->nvidia_wheels.size(), 1u);
    EXPECT_EQ(it->nvidia_wheels[0].name, "nvidia-cuda-runtime-cu12");
    EXPECT_EQ(it->nvidia_wheels[0].version, version);

    LoaderSearch search;
    LoaderResolution r = ResolveNeeded(*root, search, importer, *elf, "libcudart.so.12");
    ASSERT_TRUE(r.path) << r.path.error().message;
    EXPECT_EQ(*r.path, site + "/nvidia/cuda_runtime/lib/libcudart.so.12");
    EXPECT_EQ(r.step, LoaderStep::kRunpath);
    EXPECT_FALSE(r.placeholder);
    auto real = ReadElf(*root, *r.path);  // the real library from the wheel
    ASSERT_TRUE(real) << real.error().message;
    EXPECT_EQ(real->soname, "libcudart.so.12");

    WheelLayouts layouts = *ParseWheelLayouts(*EmbeddedDataFile("wheel-layouts.toml"));
    LibraryContext lc{search, layouts};
    std::string source;
    auto v = LibraryVersion(*root, lc, *it, *r.path, &source);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(*v, version);
    EXPECT_EQ(source, "nvidia-cuda-runtime-cu12 wheel (dist-info)");
  }
}

TEST(VenvIntegrationTest, DoctorJsonListsThePassedVenv) {
  std::string venv = MakeVenv(kVersions[0]);
  if (venv.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << "pip could not install from PyPI";
    GTEST_SKIP() << "pip could not install from PyPI (offline?)";
  }
  SystemRunner runner;
  ExecOptions options;
  options.deadline = std::chrono::milliseconds(20000);
  auto run = runner.Run({DLRIG_BINARY, "doctor", "--json", "--no-dlopen", "--env", venv}, options);
  ASSERT_TRUE(run) << run.error().message;
  auto doc = nlohmann::json::parse(run->out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << run->err;
  bool found = false;
  for (const auto& env : doc["python"]["environments"]) {
    if (env["prefix"] != venv) continue;
    found = true;
    EXPECT_EQ(env["kind"], "venv");
    EXPECT_EQ(env["nvidia_wheels"][0]["version"], kVersions[0]);
  }
  EXPECT_TRUE(found);
}

struct Ran {
  int code;
  std::string out, err;
};
Ran RunArgv(const std::vector<std::string>& argv) {
  SystemRunner runner;
  ExecOptions options;
  options.deadline = std::chrono::milliseconds(30000);
  auto r = runner.Run(argv, options);
  if (!r) return {-1, "", r.error().message};
  return {r->exit_code, r->out, r->err};
}

// A "torch" whose libtorch_cuda.so is a real library built here against the 12.6.77 runtime
// wheel and importing cudaGetDriverEntryPointByVersion, which 12.5 added. With the 12.4.127
// wheel's directory in LD_LIBRARY_PATH, glibc's ld.so refuses to load it; dlrig must say so
// (and why) without loading anything, and stay silent without that LD_LIBRARY_PATH.
TEST(VenvIntegrationTest, OlderCudartFirstOnLdLibraryPathMatchesWhatLdSoDoes) {
  std::string v126 = MakeVenv("12.6.77"), v124 = MakeVenv("12.4.127");
  if (v126.empty() || v124.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << "pip could not install from PyPI";
    GTEST_SKIP() << "pip could not install from PyPI (offline?)";
  }
  fs::path venv = fs::temp_directory_path() / ("dlrig-torchvenv-" + std::to_string(::getpid()));
  fs::remove_all(venv);
  ASSERT_TRUE(Sh("cp -a " + v126 + " " + venv.string()));
  std::string site = SitePackages(venv);
  std::string lib = site + "/torch/lib";
  fs::create_directories(lib);
  fs::create_directories(site + "/torch-2.6.0+cu126.dist-info");
  std::ofstream(site + "/torch/version.py") << "__version__ = '2.6.0+cu126'\ncuda: Optional[str] = '12.6'\n";
  std::ofstream(lib + "/tc.c") << "int cudaGetDriverEntryPointByVersion(const char*, void**, unsigned, unsigned long long, int*);\n"
                                  "int torch_cuda(void){void* p; int s; return cudaGetDriverEntryPointByVersion(\"cuInit\", &p, 12050, 0, &s);}\n";
  ASSERT_TRUE(Sh("cc -shared -fPIC -o " + lib + "/libtorch_cuda.so " + lib + "/tc.c " + site +
                 "/nvidia/cuda_runtime/lib/libcudart.so.12 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../../nvidia/cuda_runtime/lib'"));
  std::ofstream(lib + "/main.c") << "int torch_cuda(void);\nint main(int c, char** v){ if (c > 5) return torch_cuda(); return 0; }\n";
  ASSERT_TRUE(Sh("cc -o " + lib + "/import_torch " + lib + "/main.c -L" + lib + " -ltorch_cuda -Wl,-rpath," + lib));
  std::string old_dir = SitePackages(v124) + "/nvidia/cuda_runtime/lib";

  // What the real loader does (immediate binding, as Python's dlopen of an extension).
  Ran good = RunArgv({"/usr/bin/env", "LD_BIND_NOW=1", lib + "/import_torch"});
  EXPECT_EQ(good.code, 0) << good.err;
  Ran bad = RunArgv({"/usr/bin/env", "LD_BIND_NOW=1", "LD_LIBRARY_PATH=" + old_dir, lib + "/import_torch"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("undefined symbol: cudaGetDriverEntryPointByVersion"), std::string::npos) << bad.err;

  // What dlrig predicts, nothing loaded.
  auto findings = [&](const std::string& ld_library_path) {
    Ran run = RunArgv({"/usr/bin/env", "LD_LIBRARY_PATH=" + ld_library_path, DLRIG_BINARY, "doctor",
                   "--json", "--no-dlopen", "--env", venv.string()});
    auto doc = nlohmann::json::parse(run.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << run.err;
    std::map<std::string, nlohmann::json> by_id;
    if (!doc.is_discarded())
      for (const auto& f : doc["findings"])
        if (f["subject"] == venv.string()) by_id[f["id"]] = f;
    return by_id;
  };
  auto healthy = findings("");
  EXPECT_EQ(healthy.count("cudart-wrong-version-conda-symlink"), 0u);
  EXPECT_EQ(healthy.count("ld-library-path-overrides-wheel-libs"), 0u);
  auto broken = findings(old_dir);
  ASSERT_EQ(broken.count("ld-library-path-overrides-wheel-libs"), 1u);
  EXPECT_EQ(broken["ld-library-path-overrides-wheel-libs"]["severity"], "error");
  ASSERT_EQ(broken.count("cudart-wrong-version-conda-symlink"), 1u);
  const auto& cudart = broken["cudart-wrong-version-conda-symlink"];
  EXPECT_EQ(cudart["caused_by"], "ld-library-path-overrides-wheel-libs");
  EXPECT_NE(cudart["evidence"].dump().find("undefined symbol: cudaGetDriverEntryPointByVersion, version libcudart.so.12"),
            std::string::npos) << cudart.dump();
  EXPECT_NE(cudart["evidence"].dump().find("(12.4.127 from nvidia-cuda-runtime-cu12 wheel"), std::string::npos)
      << cudart.dump();
  fs::remove_all(venv);
}

}  // namespace
}  // namespace dlrig
