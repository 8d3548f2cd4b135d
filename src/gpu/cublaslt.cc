#include "gpu/cublaslt.h"

#include <atomic>

#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>

#include "core/environment.h"
#include "gpu/python_roots.h"

namespace dlrig::gpu {

namespace {

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

// Existing directories matching `pattern`, sorted (glob's order), newest Python last.
void AddGlob(const std::string& pattern, std::vector<std::string>& out) {
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_NOSORT | GLOB_ONLYDIR, nullptr, &g) == 0) {
    std::vector<std::string> found;
    for (size_t i = 0; i < g.gl_pathc; ++i) found.emplace_back(g.gl_pathv[i]);
    std::sort(found.begin(), found.end());
    for (auto& dir : found) {
      if (IsDirectory(dir) && std::find(out.begin(), out.end(), dir) == out.end())
        out.push_back(dir);
    }
  }
  ::globfree(&g);
}

// The wheel directories inside one site-packages pattern: CUDA 13 wheels put every library in
// nvidia/cu13/lib, CUDA 12 wheels libcublasLt in nvidia/cublas/lib.
void AddWheels(const std::string& site_pattern, std::vector<std::string>& out) {
  AddGlob(site_pattern + "/nvidia/cu13/lib", out);
  AddGlob(site_pattern + "/nvidia/cublas/lib", out);
}

template <class F>
Result<F> Symbol(void* handle, const char* name) {
  ::dlerror();
  void* p = ::dlsym(handle, name);
  if (!p) {
    const char* err = ::dlerror();
    return Fail(ErrorKind::kNotFound,
                fmt::format("libcublasLt lacks {}: {}", name, err ? err : "symbol is null"));
  }
  return reinterpret_cast<F>(p);
}

}  // namespace

const std::vector<std::string>& CublasLtSonames() {
  static const std::vector<std::string> kSonames = {"libcublasLt.so.13", "libcublasLt.so.12",
                                                    "libcublasLt.so.11"};
  return kSonames;
}

CublasLtSearch DefaultCublasLtSearch() {
  CublasLtSearch search;
  search.override_path = ProcessEnv("DLRIG_CUBLASLT");
  std::vector<std::string>& dirs = search.dirs;
  AddGlob("/usr/local/cuda/lib64", dirs);
  AddGlob("/usr/local/cuda-*/targets/x86_64-linux/lib", dirs);
  for (const PythonRoot& root : PythonRootsFromEnvironment()) {
    if (root.kind == PythonRoot::kCondaPrefix) {
      AddGlob(root.path + "/lib", dirs);
    } else {
      AddWheels(root.path, dirs);
    }
  }
  return search;
}

Result<std::unique_ptr<CublasLt>> CublasLt::Load(const CublasLtSearch& search) {
  // Loaded global and with every symbol bound now, from the full path, so that its own
  // dependencies resolve through its RUNPATH and a missing one shows here, not mid-run.
  std::vector<std::string> failures;  // files that exist but would not load, with why
  void* handle = nullptr;
  auto try_open = [&](const std::string& what) {
    handle = ::dlopen(what.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle && (what.find('/') == std::string::npos ? false : IsFile(what))) {
      const char* err = ::dlerror();
      failures.push_back(fmt::format("{}: {}", what, err ? err : "dlopen failed"));
    }
    return handle != nullptr;
  };
  if (!search.override_path.empty()) {
    if (!try_open(search.override_path)) {
      const char* err = failures.empty() ? ::dlerror() : nullptr;
      return Fail(ErrorKind::kNotFound,
                  fmt::format("libcublasLt: DLRIG_CUBLASLT={} could not be loaded: {}",
                              search.override_path,
                              !failures.empty() ? failures.front()
                              : err             ? err
                                                : "no such file"));
    }
  } else {
    bool found = false;
    if (search.loader_search) {
      for (const auto& soname : CublasLtSonames()) {
        if ((found = try_open(soname))) break;
      }
    }
    for (size_t d = 0; !found && d < search.dirs.size(); ++d) {
      for (const auto& soname : CublasLtSonames()) {
        if ((found = try_open(search.dirs[d] + "/" + soname))) break;
      }
    }
    if (!found) {
      std::string places;
      if (search.loader_search)
        places = fmt::format("{} through the loader's search path (LD_LIBRARY_PATH, ld.so.cache)",
                             fmt::join(CublasLtSonames(), ", "));
      for (const auto& dir : search.dirs) places += (places.empty() ? "" : ", ") + dir;
      if (places.empty()) places = "nowhere (no directory to search)";
      std::string why =
          failures.empty() ? ""
                           : fmt::format("; found but not loadable: {}", fmt::join(failures, "; "));
      return Fail(ErrorKind::kNotFound,
                  fmt::format("libcublasLt not found (set DLRIG_CUBLASLT to its path): looked "
                              "for {}{}",
                              places, why));
    }
  }

  std::unique_ptr<CublasLt> lt(new CublasLt());
#define DLRIG_CUBLASLT_RESOLVE(name, type, symbol) \
  {                                                \
    auto f = Symbol<type>(handle, symbol);         \
    if (!f) return tl::unexpected(f.error());      \
    lt->name = *f;                                 \
  }
  DLRIG_CUBLASLT_SYMBOLS(DLRIG_CUBLASLT_RESOLVE)
#undef DLRIG_CUBLASLT_RESOLVE
  if (auto f = Symbol<const char* (*)(CublasStatus)>(handle, "cublasLtGetStatusName"))
    lt->cublasLtGetStatusName = *f;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(lt->cublasLtCreate), &info) && info.dli_fname)
    lt->path = info.dli_fname;
  lt->version = lt->cublasLtGetVersion();
  // The library stays mapped for the process's life: kernels and the runtime it carries may
  // still be referenced by handles the caller has not destroyed yet.
  return lt;
}

namespace {
std::atomic<const CublasLt*> g_loaded{nullptr};
}  // namespace

const Result<CublasLt*>& CublasLt::Get() {
  static const Result<CublasLt*> kLoaded = []() -> Result<CublasLt*> {
    auto lt = Load(DefaultCublasLtSearch());
    if (!lt) return tl::unexpected(lt.error());
    g_loaded = lt->get();
    return lt->release();
  }();
  return kLoaded;
}

const CublasLt* CublasLt::IfLoaded() { return g_loaded; }

std::string CublasLt::VersionText() const {
  return fmt::format("{}.{}.{}", version / 10000, version / 100 % 100, version % 100);
}

std::string CublasLt::StatusName(CublasStatus status) const {
  if (cublasLtGetStatusName) {
    if (const char* name = cublasLtGetStatusName(status)) return name;
  }
  switch (status) {  // cublas_api.h, for libraries without cublasLtGetStatusName
    case 0:
      return "CUBLAS_STATUS_SUCCESS";
    case 1:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case 8:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return fmt::format("cublasStatus {}", status);
}

Result<void> CublasLt::Check(CublasStatus status, const char* call) const {
  if (status == kCublasSuccess) return {};
  constexpr CublasStatus kArchMismatch = 8;
  ErrorKind kind = (status == kCublasNotSupported || status == kArchMismatch)
                       ? ErrorKind::kUnsupported
                       : ErrorKind::kIo;
  return Fail(kind, fmt::format("{}: {}", call, StatusName(status)));
}

std::string LtTileName(uint32_t tile_id) {
  // cublasLtMatmulTile_t 1..35 (CUDA 13.0 lists 634; later ones are named by number).
  static constexpr std::array<const char*, 36> kTiles = {
      "undefined", "8x8",    "8x16",   "16x8",   "8x32",    "16x16",   "32x8",    "8x64",
      "16x32",     "32x16",  "64x8",   "32x32",  "32x64",   "64x32",   "32x128",  "64x64",
      "128x32",    "64x128", "128x64", "64x256", "128x128", "256x64",  "64x512",  "128x256",
      "256x128",   "512x64", "64x96",  "96x64",  "96x128",  "128x160", "160x128", "192x128",
      "128x192",   "128x96", "32x256", "256x32"};
  if (tile_id < kTiles.size()) return kTiles[tile_id];
  return fmt::format("#{}", tile_id);
}

std::string LtStagesName(uint32_t stages_id) {
  // cublasLtMatmulStages_t; 29 and 30 are unassigned in CUDA 13.0.
  static constexpr std::array<const char*, 39> kStages = {
      "undefined", "16x1",    "16x2",    "16x3",    "16x4",     "16x5",     "16x6",    "32x1",
      "32x2",      "32x3",    "32x4",    "32x5",    "32x6",     "64x1",     "64x2",    "64x3",
      "64x4",      "64x5",    "64x6",    "128x1",   "128x2",    "128x3",    "128x4",   "128x5",
      "128x6",     "32x10",   "8x4",     "16x10",   "8x5",      nullptr,    nullptr,   "8x3",
      "8xAUTO",    "16xAUTO", "32xAUTO", "64xAUTO", "128xAUTO", "256xAUTO", "768xAUTO"};
  if (stages_id < kStages.size() && kStages[stages_id]) return kStages[stages_id];
  return fmt::format("#{}", stages_id);
}

std::string CublasLt::AlgoName(const LtAlgo& algo) const {
  int32_t id = -1;
  uint32_t tile = 0;
  int32_t split_k = 0;
  uint32_t stages = 0;
  size_t written = 0;
  auto get = [&](int attr, void* buf, size_t size) {
    return cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, buf, size, &written) == kCublasSuccess;
  };
  if (!get(kAlgoConfigId, &id, sizeof id)) return "algo ?";
  std::string name = fmt::format("algo {}", id);
  if (get(kAlgoConfigTileId, &tile, sizeof tile)) name += " tile " + LtTileName(tile);
  if (get(kAlgoConfigStagesId, &stages, sizeof stages)) name += " stages " + LtStagesName(stages);
  if (get(kAlgoConfigSplitK, &split_k, sizeof split_k)) name += fmt::format(" splitK {}", split_k);
  return name;
}

Result<LtHandleOwner> CreateLtHandle(const CublasLt& lt) {
  LtHandle h = nullptr;
  if (auto ok = lt.Check(lt.cublasLtCreate(&h), "cublasLtCreate"); !ok)
    return tl::unexpected(ok.error());
  return LtHandleOwner(&lt, h);
}

}  // namespace dlrig::gpu
