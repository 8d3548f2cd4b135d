// Helpers for tests: temporary trees and the shared captures.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/environment.h"
#include "core/exec.h"
#include "core/root.h"
#include "probe/context.h"

namespace dlrig::testing {

/// A temporary directory tree, removed at the end of the test.
class TempTree {
 public:
  TempTree() {
    auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    static int serial = 0;  // several trees in one test
    dir_ = std::filesystem::temp_directory_path() /
           ("dlrig-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name() +
            "-" + std::to_string(serial++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempTree() { std::filesystem::remove_all(dir_); }
  const std::filesystem::path& dir() const { return dir_; }
  /// Writes `text` to `rel`, creating parents.
  void Write(const std::string& rel, const std::string& text) const {
    auto path = dir_ / rel;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  void Link(const std::string& target, const std::string& rel) const {
    auto path = dir_ / rel;
    std::filesystem::create_directories(path.parent_path());
    std::filesystem::remove(path);  // re-pointing a link
    std::filesystem::create_symlink(target, path);
  }
  void Mkdir(const std::string& rel) const { std::filesystem::create_directories(dir_ / rel); }

 private:
  std::filesystem::path dir_;
};

/// A root plus a context over it, for probes.
struct Fixture {
  explicit Fixture(const std::string& dir, Environment e = {})
      : root(std::move(*Root::Open(dir))), env(std::move(e)) {}
  ProbeContext ctx() const { return ProbeContext{root, env, runner, {}, false}; }
  Root root;
  Environment env;
  NoRunner runner;
};

/// The H100 capture, or nullptr (the test should GTEST_SKIP) when shared/ is absent.
inline std::unique_ptr<Fixture> H100Capture() {
  std::string dir = std::string(DLRIG_CAPTURES_DIR) + "/h100-ubuntu2404-torch211";
  if (!std::filesystem::exists(dir)) return nullptr;
  std::ifstream env_file(dir + "/environ.txt");
  std::string text((std::istreambuf_iterator<char>(env_file)), std::istreambuf_iterator<char>());
  return std::make_unique<Fixture>(dir, Environment::Parse(text));
}

/// A doctor report without its human detail: error reasons name host paths, which differ
/// between a machine and its capture; the kind of error must not. `devices_source` says
/// whether /dev or a capture's dev.listing was read.
inline nlohmann::json WithoutReasons(nlohmann::json j) {
  if (j.is_object()) {
    j.erase("reason");
    j.erase("devices_source");
    for (auto& [key, value] : j.items()) value = WithoutReasons(value);
  } else if (j.is_array()) {
    for (auto& value : j) value = WithoutReasons(value);
  }
  return j;
}

}  // namespace dlrig::testing
