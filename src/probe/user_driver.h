// user-space driver layer: every libcuda / libnvidia-ml the loader would see, the version each
// file carries in its real name, and (on this machine, unless --no-dlopen) what the libraries
// answer when loaded in a child process under a deadline.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"
#include "probe/driver_query.h"
#include "probe/ldconfig.h"
#include "probe/loader.h"

namespace dlrig {

enum class DriverFileKind { kDriver, kStub, kCompat };

/// Stable name: "driver", "stub" (a toolkit's link-time stand-in), "compat" (forward-compat).
const char* DriverFileKindName(DriverFileKind kind);

struct DriverLibraryFile {
  std::string path;     ///< as the loader sees it ("/usr/local/nvidia/lib64/libcuda.so.1")
  std::string library;  ///< "libcuda" or "libnvidia-ml"
  Result<std::string> real_path = Fail(ErrorKind::kNotFound, "not probed");  ///< links followed
  /// From the real file name ("libcuda.so.580.159.04" → "580.159.04").
  Result<std::string> version = Fail(ErrorKind::kNotFound, "not probed");
  DriverFileKind kind = DriverFileKind::kDriver;
  std::vector<std::string> found_by;  ///< "LD_LIBRARY_PATH", "ld.so.cache", "ld.so.conf", ...
  bool on_loader_path = true;  ///< false: found only by scanning toolkit stubs/compat dirs
};

/// What ld.so would pick for one soname.
struct LoaderPick {
  std::string soname;  ///< "libcuda.so.1"
  LoaderResolution resolution;
};

struct UserDriverFacts {
  std::vector<DriverLibraryFile> files;
  std::vector<LoaderPick> picks;  ///< libcuda.so.1, libnvidia-ml.so.1
  /// kUnsupported with the reason when not asked (--no-dlopen, a foreign root).
  Result<DriverQuery> query = Fail(ErrorKind::kUnsupported, "not probed");
};

/// `loader` from ProbeLoaderConfig. Loads the libraries only when ctx.load_libraries and the
/// root is this machine; DLRIG_NVML_LIBRARY / DLRIG_CUDA_LIBRARY name other files to load.
/// `pending`: a driver query started earlier (see CollectInventory); without one, the query
/// runs here when the context allows loading libraries.
UserDriverFacts ProbeUserDriver(const ProbeContext& ctx, const LoaderConfig& loader,
                                PendingDriverQuery* pending = nullptr);
/// The query's options for this context: DLRIG_NVML_LIBRARY / DLRIG_CUDA_LIBRARY override
/// the library names.
DriverQueryOptions DriverQueryOptionsFor(const ProbeContext& ctx);

/// "libcuda.so.580.159.04" → "580.159.04"; nullopt for "libcuda.so.1", "libcuda.so".
std::optional<std::string> DriverVersionFromName(std::string_view file_name);
/// Stub when the path has a "stubs" component, compat for "compat", else driver.
DriverFileKind ClassifyDriverPath(std::string_view path);

}  // namespace dlrig
