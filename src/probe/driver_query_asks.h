// Internal to the driver query child: the line writer, symbol lookup and the per-GPU asks.
// Protocol lines: "<nvml|cuda> <key> <value>"; per GPU "nvml dev <i> call <fn>" before each
// call, then per field "nvml dev <i> <field> = <value>", "... <field> <code> <fn> <text>" or
// "... <field> missing <fn> <dlerror>". List fields use one key per entry ("process.3").
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "probe/driver_query.h"
#include "probe/nvml_abi.h"

namespace dlrig::child {

/// Writes protocol lines to the pipe (backslash and newline escaped).
class Emitter {
 public:
  Emitter(int fd, const char* lib) : fd_(fd), lib_(lib) {}
  void Emit(std::string_view key, std::string_view rest);

 private:
  int fd_;
  const char* lib_;
};

struct Symbol {
  void* ptr = nullptr;
  std::string name;   ///< the version found, or the newest name when none was
  std::string error;  ///< dlerror() of the last lookup when none was found
};

/// The first of `list` the library exports; a missing one is reported on `out` when given.
Symbol Find(void* handle, std::initializer_list<const char*> list, Emitter* out);

template <class Fn>
Fn As(const Symbol& s) { return reinterpret_cast<Fn>(s.ptr); }

/// nvmlErrorString's text for `code`.
std::string NvmlText(const Symbol& error_string, nvml::Return code);

struct DeviceSymbols {
#define DLRIG_MEMBER(member, ...) Symbol member;
  DLRIG_NVML_DEVICE_SYMBOLS(DLRIG_MEMBER)
#undef DLRIG_MEMBER
};
/// Optional symbols: a missing one fails only its fields, so it is not reported as a call.
DeviceSymbols FindDeviceSymbols(void* handle);

/// One GPU's lines.
class DeviceAsker {
 public:
  DeviceAsker(Emitter& out, const Symbol& error_string, unsigned index)
      : out_(out), error_string_(error_string), index_(std::to_string(index)) {}

  /// Runs `fn` (an NVML call) for `fields`; on failure every field gets the call's answer.
  template <class F>
  bool Ask(const Symbol& sym, std::initializer_list<const char*> fields, F fn) {
    if (!sym.ptr) {
      for (const char* f : fields) Line(f, "missing " + sym.name + " " + sym.error);
      return false;
    }
    out_.Emit("dev", index_ + " call " + sym.name);
    nvml::Return code = fn();
    if (code == nvml::kSuccess) return true;
    for (const char* f : fields)
      Line(f, std::to_string(code) + " " + sym.name + " " + NvmlText(error_string_, code));
    return false;
  }
  /// The same for a field whose name is built at run time ("process.0").
  template <class F>
  bool Ask(const Symbol& sym, const std::string& field, F fn) {
    return Ask(sym, {field.c_str()}, fn);
  }
  void Value(const std::string& field, const std::string& value) { Line(field, "= " + value); }
  void Value(const std::string& field, unsigned long long value) {
    Value(field, std::to_string(value));
  }

 private:
  void Line(const std::string& field, const std::string& rest) {
    out_.Emit("dev", index_ + " " + field + " " + rest);
  }
  Emitter& out_;
  const Symbol& error_string_;
  std::string index_;
};

/// Which asks a pass makes: everything once, then only what changes.
enum class Pass { kFull, kLive };

/// Asks every GPU handle in `handles` (index order) for the fields of `pass`, plus the
/// topology between them on a full pass when options ask for it.
void AskDevices(Emitter& out, const DeviceSymbols& s, const Symbol& error_string,
                const std::vector<nvml::Device>& handles, Pass pass,
                const DriverQueryOptions& options);

}  // namespace dlrig::child
