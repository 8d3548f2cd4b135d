#include <cstdint>
#include <string_view>

#include "probe/elf_symbols.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto symbols = dlrig::ParseElfSymbolsBytes(bytes);
  // Check the file against itself: exercises the views into its string table.
  if (symbols)
    for (const auto& need : symbols->version_needs)
      (void)dlrig::CheckSymbolNeeds(*symbols, need.file, *symbols);
  return 0;
}
