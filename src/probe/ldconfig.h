// What the dynamic loader is configured to search: /etc/ld.so.conf (with includes),
// the ld.so.cache (binary, parsed by hand) and the built-in default directories.
// For a capture without ld.so.cache, the `ldconfig -p` text saved beside it (ldconfig-p.txt
// at the capture's top) stands in for the cache.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct LoaderCacheEntry {
  std::string soname;  ///< "libcuda.so.1"
  std::string path;    ///< "/usr/lib/x86_64-linux-gnu/libcuda.so.1"
};

struct LoaderConfig {
  std::vector<std::string> conf_dirs;              ///< ld.so.conf directories, in order
  std::vector<std::string> conf_files;             ///< files that were read
  Result<std::vector<LoaderCacheEntry>> cache;     ///< entries in cache order
  std::string cache_source;                        ///< the file the cache came from
  std::vector<std::string> default_dirs;           ///< trusted directories searched last
};

LoaderConfig ProbeLoaderConfig(const ProbeContext& ctx);

/// Parses glibc's ld.so.cache (the "glibc-ld.so.cache1.1" format, with or without the old
/// "ld.so-1.7.0" header in front). Pure: for tests and the fuzzer.
Result<std::vector<LoaderCacheEntry>> ParseLdSoCache(std::string_view bytes);
/// Parses `ldconfig -p` output.
std::vector<LoaderCacheEntry> ParseLdconfigP(std::string_view text);

}  // namespace dlrig
