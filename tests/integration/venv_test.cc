// Real venvs (python3 -m venv) with real nvidia-cuda-runtime-cu12 wheels from PyPI at two
// versions, and a real "framework" library compiled here whose RUNPATH points into the wheel.
// dlrig must resolve the real libcudart.so.12 and read the wheel's version.
#include <gtest/gtest.h>
#include <unistd.h>


#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

}  // namespace
}  // namespace dlrig
