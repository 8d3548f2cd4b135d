// Runs a libFuzzer target without libFuzzer: over every file in the given directories and
// over deterministic pseudo-random inputs, so each parser's fuzz target is exercised in
// the ordinary test run (CTest) as well as under `make fuzz`.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    for (auto& entry : std::filesystem::recursive_directory_iterator(argv[i], ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      std::string bytes = buf.str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++inputs;
    }
  }
  std::mt19937 rng(20261122);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 4096, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? '\n' : 32 + rng() % 95);
    if (round % 3 == 0)
      for (auto& c : bytes) c = static_cast<char>(rng());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++inputs;
  }
  std::printf("replayed %zu inputs\n", inputs);
  return 0;
}
