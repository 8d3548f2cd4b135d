#include "gpu/nccl.h"

#include <atomic>

#include <dlfcn.h>
#include <fmt/format.h>
#include <glob.h>
#include <unistd.h>

#include <cstdlib>
#include <initializer_list>

#include "core/environment.h"
#include "gpu/python_roots.h"

namespace dlrig::gpu {

namespace {

constexpr const char* kSoname = "libnccl.so.2";

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  return out;
}

std::string DlError() {
  const char* e = ::dlerror();
  return e ? e : "unknown dlopen error";
}

void* FindSymbol(void* handle, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (void* p = ::dlsym(handle, n)) return p;
  }
  return nullptr;
}

// The file the dynamic linker really opened for `handle`: on a broken machine, the copy that
// was loaded is the diagnosis.
std::string LoadedFrom(void* symbol, const std::string& asked) {
  Dl_info info{};
  if (symbol && ::dladdr(symbol, &info) && info.dli_fname && *info.dli_fname) return info.dli_fname;
  return asked;
}

}  // namespace

std::string NcclVersionString(int code) {
  if (code >= 10000) return fmt::format("{}.{}.{}", code / 10000, code / 100 % 100, code % 100);
  return fmt::format("{}.{}.{}", code / 1000, code / 100 % 10, code % 100);
}

std::vector<std::string> NcclSearchPatterns(const std::string& virtual_env,
                                            const std::string& conda_prefix,
                                            const std::string& home) {
  std::vector<std::string> p = {
      std::string("/usr/local/cuda/lib64/") + kSoname,
      std::string("/usr/local/cuda/lib/") + kSoname,  // CUDA 13 tarballs: lib, lib64 a link
      std::string("/usr/lib/x86_64-linux-gnu/") + kSoname,
  };
  for (const PythonRoot& root : PythonRoots(virtual_env, conda_prefix, home)) {
    if (root.kind == PythonRoot::kCondaPrefix) {
      p.push_back(root.path + "/lib/" + kSoname);  // conda-forge's nccl package
      continue;
    }
    p.push_back(root.path + "/nvidia/nccl/lib/" + kSoname);
    p.push_back(root.path + "/nvidia/cu13/lib/" + kSoname);
  }
  return p;
}

NcclSearch NcclSearch::FromEnvironment() {
  NcclSearch s;
  s.override_path = ProcessEnv("DLRIG_NCCL");
  s.patterns = NcclSearchPatterns(ProcessEnv("VIRTUAL_ENV"), ProcessEnv("CONDA_PREFIX"), ProcessEnv("HOME"));
  return s;
}

std::string Nccl::VersionString() const { return NcclVersionString(version); }

Result<void> Nccl::Check(NcclResult code, const char* call) const {
  if (code == kNcclSuccess) return {};
  const char* text = ncclGetErrorString ? ncclGetErrorString(code) : nullptr;
  return Fail(ErrorKind::kIo,
              fmt::format("{}: NCCL error {} ({})", call, code, text ? text : "no description"));
}

Result<std::unique_ptr<Nccl>> Nccl::Load(const NcclSearch& search) {
  // Tries one file; "" when it served, else why not.
  std::unique_ptr<Nccl> loaded;
  auto attempt = [&loaded](const std::string& file) -> std::string {
    void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) return DlError();
    auto nccl = std::unique_ptr<Nccl>(new Nccl());
    std::string missing;
#define DLRIG_NCCL_RESOLVE(name, type, ...)                               \
  nccl->name = reinterpret_cast<type>(FindSymbol(handle, {__VA_ARGS__})); \
  if (!nccl->name && missing.empty()) missing = #name;
    DLRIG_NCCL_SYMBOLS(DLRIG_NCCL_RESOLVE)
#undef DLRIG_NCCL_RESOLVE
    // The handle stays open either way: dlclose of a library that may have started threads
    // in its constructors is not safe, and the process is short-lived.
    if (!missing.empty()) return fmt::format("loaded, but has no symbol {}", missing);
    int code = 0;
    if (NcclResult r = nccl->ncclGetVersion(&code); r != kNcclSuccess) {
      return fmt::format("ncclGetVersion returned NCCL error {}", r);
    }
    nccl->version = code;
    nccl->path = LoadedFrom(reinterpret_cast<void*>(nccl->ncclGetVersion), file);
    loaded = std::move(nccl);
    return "";
  };

  if (!search.override_path.empty()) {
    const std::string& file = search.override_path;
    if (::access(file.c_str(), F_OK) != 0) {
      return Fail(ErrorKind::kNotFound, fmt::format("DLRIG_NCCL={}: no such file", file));
    }
    std::string why = attempt(file);
    if (!why.empty())
      return Fail(ErrorKind::kNotFound, fmt::format("DLRIG_NCCL={}: {}", file, why));
    return loaded;
  }

  std::vector<std::string> looked;
  if (search.default_search) {
    std::string why = attempt(kSoname);
    if (why.empty()) return loaded;
    looked.push_back(fmt::format("{} through the default search (LD_LIBRARY_PATH, ld.so cache): {}",
                                 kSoname, why));
  }
  std::vector<std::string> absent;
  for (const std::string& pattern : search.patterns) {
    auto files = Glob(pattern);
    if (files.empty()) absent.push_back(pattern);
    for (const std::string& file : files) {
      std::string why = attempt(file);
      if (why.empty()) return loaded;
      looked.push_back(fmt::format("{}: {}", file, why));
    }
  }
  std::string message = fmt::format("{} not found or not usable", kSoname);
  for (const std::string& l : looked) message += "; " + l;
  if (!absent.empty()) message += fmt::format("; nothing at {}", fmt::join(absent, ", "));
  message += "; set DLRIG_NCCL to the library's path";
  return Fail(ErrorKind::kNotFound, message);
}

namespace {
std::atomic<const Nccl*> g_loaded{nullptr};
}  // namespace

const Result<Nccl*>& Nccl::Get() {
  // Never freed: NCCL must outlive every communicator, including at process exit.
  static const Result<Nccl*> nccl = []() -> Result<Nccl*> {
    auto loaded = Load(NcclSearch::FromEnvironment());
    if (!loaded) return tl::unexpected(loaded.error());
    g_loaded = loaded->get();
    return loaded->release();
  }();
  return nccl;
}

const Nccl* Nccl::IfLoaded() { return g_loaded; }

}  // namespace dlrig::gpu
