// The child side of QueryDriver: our own minimal ABI of libnvidia-ml and libcuda (no NVIDIA
// headers), one symbol list, newest symbol version first. Runs only in the forked child.
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <initializer_list>
#include <string>

#include "probe/driver_query_child.h"

namespace dlrig {
namespace {

// The ABI: nvmlReturn_t and CUresult are C enums (int-sized); handles are not needed.
using NvmlReturn = int;
using CuResult = int;
static_assert(sizeof(NvmlReturn) == 4 && sizeof(CuResult) == 4, "enums are 32-bit");
constexpr unsigned kNvmlVersionBufferBytes = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

using NvmlVoidFn = NvmlReturn (*)();
using NvmlStringFn = NvmlReturn (*)(char*, unsigned);
using NvmlIntFn = NvmlReturn (*)(int*);
using NvmlUintFn = NvmlReturn (*)(unsigned*);
using NvmlErrorStringFn = const char* (*)(NvmlReturn);
using CuInitFn = CuResult (*)(unsigned);
using CuIntFn = CuResult (*)(int*);
using CuErrorTextFn = CuResult (*)(CuResult, const char**);

// The one symbol list: every entry point used, newest version first.
#define DLRIG_DRIVER_SYMBOLS(X)                                                   \
  X(nvml_init, "nvmlInit_v2", "nvmlInit")                                          \
  X(nvml_driver_version, "nvmlSystemGetDriverVersion")                             \
  X(nvml_nvml_version, "nvmlSystemGetNVMLVersion")                                 \
  X(nvml_cuda_version, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion") \
  X(nvml_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")                     \
  X(nvml_shutdown, "nvmlShutdown")                                                 \
  X(nvml_error_string, "nvmlErrorString")                                          \
  X(cu_init, "cuInit")                                                             \
  X(cu_driver_version, "cuDriverGetVersion")                                       \
  X(cu_count, "cuDeviceGetCount")                                                  \
  X(cu_error_name, "cuGetErrorName")                                               \
  X(cu_error_string, "cuGetErrorString")

#define DLRIG_NAMES(member, ...) constexpr std::initializer_list<const char*> member = {__VA_ARGS__};
namespace names {
DLRIG_DRIVER_SYMBOLS(DLRIG_NAMES)
}
#undef DLRIG_NAMES

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Emitter {
 public:
  Emitter(int fd, const char* lib) : fd_(fd), lib_(lib) {}
  void Emit(std::string_view key, std::string_view rest) {
    std::string line = std::string(lib_) + " " + std::string(key) + " " + Escape(rest) + "\n";
    for (size_t done = 0; done < line.size();) {
      ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
  const char* lib_;
};

struct Symbol {
  void* ptr = nullptr;
  std::string name;  ///< the version found, or the newest name when none was
};

Symbol Find(void* handle, std::initializer_list<const char*> list, Emitter* out) {
  Symbol sym{nullptr, *list.begin()};
  std::string last_error;
  for (const char* name : list) {
    ::dlerror();
    if (void* p = ::dlsym(handle, name)) return Symbol{p, name};
    const char* err = ::dlerror();
    last_error = err ? err : std::string("undefined symbol: ") + name;
  }
  if (out) out->Emit("missing", sym.name + " " + last_error);
  return sym;
}

template <class Fn>
Fn As(const Symbol& s) { return reinterpret_cast<Fn>(s.ptr); }

std::string LoadedPath(void* handle, void* any_symbol) {
  struct link_map* map = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && map->l_name[0])
    return map->l_name;
  Dl_info info;
  if (any_symbol && ::dladdr(any_symbol, &info) && info.dli_fname) return info.dli_fname;
  return "?";
}

void* Open(const std::string& library, Emitter& out, std::initializer_list<const char*> probe) {
  ::dlerror();
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = ::dlerror();
    out.Emit("open_error", err ? err : "dlopen failed without dlerror()");
    return nullptr;
  }
  out.Emit("open", LoadedPath(handle, Find(handle, probe, nullptr).ptr));
  return handle;
}

std::string NvmlText(const Symbol& error_string, NvmlReturn code) {
  if (!error_string.ptr) return "(nvmlErrorString missing)";
  const char* text = As<NvmlErrorStringFn>(error_string)(code);
  return text ? text : "(null)";
}

// Calls `fn` and reports "return <name> <code> - <text>"; true on NVML_SUCCESS.
template <class F>
bool NvmlCall(Emitter& out, const Symbol& sym, const Symbol& error_string, F fn) {
  if (!sym.ptr) return false;
  out.Emit("call", sym.name);
  NvmlReturn code = fn();
  out.Emit("return", sym.name + " " + std::to_string(code) + " - " + NvmlText(error_string, code));
  return code == 0;
}

void QueryNvml(int fd, const std::string& library) {
  Emitter out(fd, "nvml");
  void* h = Open(library, out, names::nvml_init);
  if (!h) return;
  Symbol err = Find(h, names::nvml_error_string, &out);
  Symbol init = Find(h, names::nvml_init, &out);
  if (!NvmlCall(out, init, err, [&] { return As<NvmlVoidFn>(init)(); })) return;
  char buf[kNvmlVersionBufferBytes] = {};
  Symbol s = Find(h, names::nvml_driver_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlStringFn>(s)(buf, sizeof buf); }))
    out.Emit("value", std::string("driver_version ") + buf);
  s = Find(h, names::nvml_nvml_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlStringFn>(s)(buf, sizeof buf); }))
    out.Emit("value", std::string("nvml_version ") + buf);
  int cuda = 0;
  s = Find(h, names::nvml_cuda_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlIntFn>(s)(&cuda); }))
    out.Emit("value", "cuda_driver_version " + std::to_string(cuda));
  unsigned count = 0;
  s = Find(h, names::nvml_count, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlUintFn>(s)(&count); }))
    out.Emit("value", "device_count " + std::to_string(count));
  s = Find(h, names::nvml_shutdown, &out);
  NvmlCall(out, s, err, [&] { return As<NvmlVoidFn>(s)(); });
}

template <class F>
bool CuCall(Emitter& out, const Symbol& sym, const Symbol& name_fn, const Symbol& text_fn, F fn) {
  if (!sym.ptr) return false;
  out.Emit("call", sym.name);
  CuResult code = fn();
  const char* name = nullptr;
  const char* text = nullptr;
  if (code != 0 && name_fn.ptr) As<CuErrorTextFn>(name_fn)(code, &name);
  if (code != 0 && text_fn.ptr) As<CuErrorTextFn>(text_fn)(code, &text);
  out.Emit("return", sym.name + " " + std::to_string(code) + " " + (name ? name : "-") + " " +
                         (code == 0 ? "no error" : text ? text : "(no error string)"));
  return code == 0;
}

void QueryCuda(int fd, const std::string& library) {
  Emitter out(fd, "cuda");
  void* h = Open(library, out, names::cu_init);
  if (!h) return;
  Symbol name = Find(h, names::cu_error_name, &out);
  Symbol text = Find(h, names::cu_error_string, &out);
  int value = 0;
  Symbol s = Find(h, names::cu_driver_version, &out);  // works before cuInit
  if (CuCall(out, s, name, text, [&] { return As<CuIntFn>(s)(&value); }))
    out.Emit("value", "cuda_driver_version " + std::to_string(value));
  Symbol init = Find(h, names::cu_init, &out);
  if (!CuCall(out, init, name, text, [&] { return As<CuInitFn>(init)(0); })) return;
  s = Find(h, names::cu_count, &out);
  if (CuCall(out, s, name, text, [&] { return As<CuIntFn>(s)(&value); }))
    out.Emit("value", "device_count " + std::to_string(value));
}

}  // namespace

void DriverQueryChildMain(int fd, const DriverQueryOptions& options) {
  // An empty name skips that library (QueryDriver runs one child per library).
  if (!options.nvml_library.empty()) QueryNvml(fd, options.nvml_library);
  if (!options.cuda_library.empty()) QueryCuda(fd, options.cuda_library);
}

}  // namespace dlrig
