// The child side of QueryDriver and of the sampler: loads libnvidia-ml and libcuda with
// dlopen (our own ABI, probe/nvml_abi.h) and writes the line protocol. Runs only in the
// forked child.
#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "probe/driver_query_asks.h"
#include "probe/driver_query_child.h"

namespace dlrig {
namespace child {

void Emitter::Emit(std::string_view key, std::string_view rest) {
  std::string line = std::string(lib_) + " " + std::string(key) + " ";
  for (char c : rest) {
    if (c == '\\') line += "\\\\";
    else if (c == '\n') line += "\\n";
    else line += c;
  }
  line += '\n';
  for (size_t done = 0; done < line.size();) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

Symbol Find(void* handle, std::initializer_list<const char*> list, Emitter* out) {
  Symbol sym{nullptr, *list.begin(), ""};
  for (const char* name : list) {
    ::dlerror();
    if (void* p = ::dlsym(handle, name)) return Symbol{p, name, ""};
    const char* err = ::dlerror();
    sym.error = err ? err : std::string("undefined symbol: ") + name;
  }
  if (out) out->Emit("missing", sym.name + " " + sym.error);
  return sym;
}

std::string NvmlText(const Symbol& error_string, nvml::Return code) {
  if (!error_string.ptr) return "(nvmlErrorString missing)";
  using Fn = const char* (*)(nvml::Return);
  const char* text = As<Fn>(error_string)(code);
  return text ? text : "(null)";
}

}  // namespace child

namespace {

using namespace child;
using nvml::CuResult;
using nvml::Return;
using NvmlVoidFn = Return (*)();
using NvmlStringFn = Return (*)(char*, unsigned);
using NvmlIntFn = Return (*)(int*);
using NvmlUintFn = Return (*)(unsigned*);
using CuInitFn = CuResult (*)(unsigned);
using CuIntFn = CuResult (*)(int*);
using CuErrorTextFn = CuResult (*)(CuResult, const char**);

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

// Calls `fn` and reports "return <name> <code> - <text>"; true on NVML_SUCCESS.
template <class F>
bool NvmlCall(Emitter& out, const Symbol& sym, const Symbol& error_string, F fn) {
  if (!sym.ptr) return false;
  out.Emit("call", sym.name);
  Return code = fn();
  out.Emit("return", sym.name + " " + std::to_string(code) + " - " + NvmlText(error_string, code));
  return code == 0;
}

// NVML loaded and initialised, with the handle of every GPU (nullptr where that failed).
struct NvmlSession {
  void* library = nullptr;
  Symbol error_string;
  DeviceSymbols device;
  std::vector<nvml::Device> handles;
};

// Opens and initialises NVML, reports the system values and finds every GPU's handle.
bool StartNvml(Emitter& out, const std::string& library, NvmlSession& session) {
  void* h = Open(library, out, nvml::names::init);
  if (!h) return false;
  session.library = h;
  Symbol err = session.error_string = Find(h, nvml::names::error_string, &out);
  Symbol init = Find(h, nvml::names::init, &out);
  if (!NvmlCall(out, init, err, [&] { return As<NvmlVoidFn>(init)(); })) return false;
  char buf[nvml::kVersionBufferBytes] = {};
  Symbol s = Find(h, nvml::names::driver_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlStringFn>(s)(buf, sizeof buf); }))
    out.Emit("value", std::string("driver_version ") + buf);
  s = Find(h, nvml::names::nvml_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlStringFn>(s)(buf, sizeof buf); }))
    out.Emit("value", std::string("nvml_version ") + buf);
  int cuda = 0;
  s = Find(h, nvml::names::cuda_version, &out);
  if (NvmlCall(out, s, err, [&] { return As<NvmlIntFn>(s)(&cuda); }))
    out.Emit("value", "cuda_driver_version " + std::to_string(cuda));
  unsigned count = 0;
  s = Find(h, nvml::names::count, &out);
  if (!NvmlCall(out, s, err, [&] { return As<NvmlUintFn>(s)(&count); })) return false;
  out.Emit("value", "device_count " + std::to_string(count));
  session.device = FindDeviceSymbols(h);
  const Symbol& handle = session.device.handle;
  for (unsigned i = 0; i < count && i < static_cast<unsigned>(kMaxQueriedGpus); ++i) {
    DeviceAsker ask(out, err, i);
    nvml::Device dev = nullptr;
    using HandleFn = Return (*)(unsigned, nvml::Device*);
    ask.Ask(handle, {"handle"}, [&] { return As<HandleFn>(handle)(i, &dev); });
    session.handles.push_back(dev);
  }
  return true;
}

void StopNvml(Emitter& out, const NvmlSession& session) {
  Symbol s = Find(session.library, nvml::names::shutdown, &out);
  NvmlCall(out, s, session.error_string, [&] { return As<NvmlVoidFn>(s)(); });
}

void QueryNvml(int fd, const DriverQueryOptions& options) {
  Emitter out(fd, "nvml");
  NvmlSession session;
  if (!StartNvml(out, options.nvml_library, session)) return;
  AskDevices(out, session.device, session.error_string, session.handles, Pass::kFull, options);
  StopNvml(out, session);
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
  namespace names = nvml::cuda_names;
  Emitter out(fd, "cuda");
  void* h = Open(library, out, names::init);
  if (!h) return;
  Symbol name = Find(h, names::error_name, &out);
  Symbol text = Find(h, names::error_string, &out);
  int value = 0;
  Symbol s = Find(h, names::driver_version, &out);  // works before cuInit
  if (CuCall(out, s, name, text, [&] { return As<CuIntFn>(s)(&value); }))
    out.Emit("value", "cuda_driver_version " + std::to_string(value));
  Symbol init = Find(h, names::init, &out);
  if (!CuCall(out, init, name, text, [&] { return As<CuInitFn>(init)(0); })) return;
  s = Find(h, names::count, &out);
  if (CuCall(out, s, name, text, [&] { return As<CuIntFn>(s)(&value); }))
    out.Emit("value", "device_count " + std::to_string(value));
}

// A crash in the driver library must end the child with its signal, for the parent to report
// it as one ("died with signal 11"): a handler inherited from the parent (a sanitizer's, or a
// host program's) would otherwise turn it into an exit status or a report.
void DefaultCrashSignals() {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
}

}  // namespace

void DriverQueryChildMain(int fd, const DriverQueryOptions& options) {
  DefaultCrashSignals();
  // An empty name skips that library (QueryDriver runs one child per library).
  if (!options.nvml_library.empty()) QueryNvml(fd, options);
  if (!options.cuda_library.empty()) QueryCuda(fd, options.cuda_library);
}

void SamplerChildMain(int command_fd, int fd, const DriverQueryOptions& options) {
  DefaultCrashSignals();
  Emitter out(fd, "nvml");
  NvmlSession session;
  bool started = StartNvml(out, options.nvml_library, session);
  if (started)
    AskDevices(out, session.device, session.error_string, session.handles, Pass::kFull, options);
  out.Emit("frame", "end");
  if (!started) return;
  // One live pass per byte the parent writes; EOF (the parent is gone or done) ends it.
  // 's': a live pass with the slow counters too; anything else: without them.
  char request = 0;
  while (::read(command_fd, &request, 1) == 1) {
    DriverQueryOptions live = options;
    live.slow_counters = request == 's';
    AskDevices(out, session.device, session.error_string, session.handles, Pass::kLive, live);
    out.Emit("frame", "end");
  }
  StopNvml(out, session);
}

}  // namespace dlrig
