#include "probe/driver_query.h"

#include <algorithm>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <type_traits>

#include <fmt/format.h>

#include "core/close_fds.h"
#include "core/strings.h"
#include "probe/driver_query_child.h"

namespace dlrig {
namespace {

constexpr size_t kMaxOutputBytes = 1024 * 1024;  // 64 GPUs of per-GPU lines fit
using Clock = std::chrono::steady_clock;

std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      out += text[i + 1] == 'n' ? '\n' : text[i + 1];
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Splits "a b rest of it" into its first word and the rest.
std::pair<std::string, std::string> Head(std::string_view text) {
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return {std::string(text), ""};
  return {std::string(text.substr(0, sp)), std::string(text.substr(sp + 1))};
}

bool IsNvml(const std::string& function) { return StartsWith(function, "nvml"); }

ErrorKind NvmlKind(int code) {
  if (code == 3 || code == 13) return ErrorKind::kUnsupported;  // NOT_SUPPORTED, FUNCTION_NOT_FOUND
  if (code == 4) return ErrorKind::kNoPermission;
  if (code == 10) return ErrorKind::kTimeout;
  return ErrorKind::kIo;
}

ErrorKind KindOf(const DriverCall& call, const ChildEnd& end) {
  if (!call.code) return end.timed_out ? ErrorKind::kTimeout : ErrorKind::kUnsupported;
  int c = *call.code;
  if (IsNvml(call.function)) return NvmlKind(c);
  return c == 100 ? ErrorKind::kNotFound : ErrorKind::kIo;  // CUDA_ERROR_NO_DEVICE
}

// Why the child said no more.
std::string EndText(const ChildEnd& end) {
  if (end.timed_out)
    return "no answer within " + std::to_string(end.deadline.count()) +
           " ms: the query process was killed";
  if (end.signal) return "the query process died with signal " + std::to_string(end.signal);
  return "no answer (the query process exited " + std::to_string(end.exit_code) + ")";
}

// One GPU's raw answers: field -> "= value" | "<code> <fn> <text>" | "missing <fn> <text>".
struct DeviceLines {
  std::map<std::string, std::string> fields;
  std::string pending_call;  ///< the last call begun and not answered
};
using DeviceMap = std::map<int, DeviceLines>;

void ApplyDeviceLine(DeviceMap& devices, const std::string& rest) {
  auto [index_text, tail] = Head(rest);
  auto index = ParseInt(index_text);
  if (!index || *index < 0 || *index >= kMaxQueriedGpus) return;
  DeviceLines& d = devices[static_cast<int>(*index)];
  auto [field, answer] = Head(tail);
  if (field.empty()) return;
  if (field == "call") {
    d.pending_call = answer;
    return;
  }
  d.pending_call.clear();
  d.fields[field] = answer;
}

std::string Describe(const DriverCall& call) {
  if (!call.code) return call.function + ": " + call.message;
  std::string name = call.name.empty() ? "" : " " + call.name;
  return call.function + " returned " + std::to_string(*call.code) + name + ": " + call.message;
}

void ApplyReturn(LibraryAnswers& a, const std::string& rest) {
  auto [function, tail] = Head(rest);
  auto [code_text, tail2] = Head(tail);
  auto [name, message] = Head(tail2);
  auto code = ParseInt(code_text);
  DriverCall* call = nullptr;
  for (auto& c : a.calls)
    if (c.function == function && !c.code) call = &c;
  if (!call) call = &a.calls.emplace_back(DriverCall{function, std::nullopt, "", ""});
  if (code) call->code = static_cast<int>(*code);
  call->name = name == "-" ? "" : name;
  call->message = message;
}

void ApplyLine(DriverQuery& q, std::string_view line, std::map<std::string, std::string>* values,
               DeviceMap& devices) {
  auto [lib, after] = Head(line);
  auto [key, raw] = Head(after);
  LibraryAnswers* a = lib == "nvml" ? &q.nvml : lib == "cuda" ? &q.cuda : nullptr;
  if (!a) return;
  std::string rest = Unescape(raw);
  int index = lib == "nvml" ? 0 : 1;
  if (key == "open") a->loaded_path = rest;
  else if (key == "open_error") a->loaded_path = Fail(ErrorKind::kNotFound, rest);
  else if (key == "call") a->calls.push_back(DriverCall{rest, std::nullopt, "", ""});
  else if (key == "return") ApplyReturn(*a, rest);
  else if (key == "missing") {
    auto [function, message] = Head(rest);
    a->calls.push_back(DriverCall{function, std::nullopt, "", "missing symbol: " + message});
  } else if (key == "value") {
    auto [name, value] = Head(rest);
    values[index][name] = value;
  } else if (key == "dev" && index == 0) {
    ApplyDeviceLine(devices, rest);
  }
}

// The value `name`, or the error of the call that should have produced it.
template <class T>
Result<T> ValueOf(const LibraryAnswers& a, const std::map<std::string, std::string>& values,
                  const std::string& name, std::initializer_list<const char*> functions,
                  const ChildEnd& end, T (*convert)(const std::string&, bool*)) {
  if (auto it = values.find(name); it != values.end()) {
    bool ok = false;
    T value = convert(it->second, &ok);
    if (ok) return value;
    return Fail(ErrorKind::kMalformed, name + ": " + it->second);
  }
  if (!a.loaded_path) return tl::unexpected(a.loaded_path.error());
  for (const char* f : functions)
    for (auto& c : a.calls)
      if (c.function == f) return Fail(KindOf(c, end), Describe(c));
  for (auto& c : a.calls)  // an earlier call failed (init), so this one was not asked
    if (!c.code || *c.code != 0) return Fail(KindOf(c, end), "not asked: " + Describe(c));
  return Fail(ErrorKind::kNotFound, "not asked");
}

std::string AsString(const std::string& text, bool* ok) { return *ok = true, text; }
int AsInt(const std::string& text, bool* ok) {
  auto v = ParseInt(text);
  *ok = v.has_value() && *v >= INT32_MIN && *v <= INT32_MAX;
  return *ok ? static_cast<int>(*v) : 0;
}

void Finish(LibraryAnswers& a, const ChildEnd& end) {
  std::string why = EndText(end);
  bool opened = a.loaded_path.has_value() || a.loaded_path.error().message != "not asked";
  if (!opened)
    a.loaded_path = Fail(end.timed_out ? ErrorKind::kTimeout : ErrorKind::kIo, "not reached: " + why);
  for (auto& c : a.calls)
    if (!c.code && c.message.empty()) c.message = why;
}

bool AsBool(const std::string& text, bool* ok) {
  *ok = text == "0" || text == "1";
  return text == "1";
}
long long AsLong(const std::string& text, bool* ok) {
  auto v = ParseInt(text);
  *ok = v.has_value() && *v >= 0;
  return *ok ? *v : 0;
}
ComputeMode AsComputeMode(const std::string& text, bool* ok) {
  auto v = ParseInt(text);
  *ok = v.has_value() && *v >= 0 && *v <= 3;
  return *ok ? static_cast<ComputeMode>(*v) : ComputeMode::kDefault;
}

TopologyLevel AsTopology(const std::string& text, bool* ok) {
  auto v = ParseInt(text);
  *ok = v && (*v == 0 || *v == 10 || *v == 20 || *v == 30 || *v == 40 || *v == 50);
  return *ok ? static_cast<TopologyLevel>(*v) : TopologyLevel::kSystem;
}

// nvmlGpuP2PStatus_t: 0 is NVML_P2P_STATUS_OK, 1..6 say why not.
bool AsP2pOk(const std::string& text, bool* ok) {
  auto v = ParseInt(text);
  *ok = v && *v >= 0 && *v <= 6;
  return *ok && *v == 0;
}

// "<pid> <c|g> <bytes or ->"
std::optional<GpuProcess> ParseProcess(std::string_view text) {
  auto words = Split(text, ' ');
  if (words.size() != 3 || (words[1] != "c" && words[1] != "g")) return std::nullopt;
  auto pid = ParseInt(words[0]);
  if (!pid || *pid <= 0) return std::nullopt;
  GpuProcess p;
  p.pid = *pid;
  p.graphics = words[1] == "g";
  if (auto bytes = ParseInt(words[2]); bytes && *bytes >= 0) p.used_memory_bytes = *bytes;
  else p.used_memory_bytes = Fail(ErrorKind::kUnsupported, "NVML does not know (NVML_VALUE_NOT_AVAILABLE)");
  return p;
}

// "<active 0|1> <version or -> <remote bus id or ->"
std::optional<NvLink> ParseNvLink(std::string_view text) {
  auto words = Split(text, ' ');
  if (words.size() != 3 || (words[0] != "0" && words[0] != "1")) return std::nullopt;
  NvLink l;
  l.active = words[0] == "1";
  if (auto v = ParseInt(words[1])) l.version = *v;
  else l.version = Fail(ErrorKind::kUnsupported, "nvmlDeviceGetNvLinkVersion gave no answer");
  if (words[2] != "-") l.remote_bus_id = words[2];
  else l.remote_bus_id = Fail(ErrorKind::kNotFound, l.active ? "NVML named no peer" : "link inactive");
  return l;
}

// The answer for one field, from its line or, when it has none, from why it has none.
template <class T>
Result<T> DeviceValue(const DeviceLines& d, const std::string& field, const Error& no_line,
                      T (*convert)(const std::string&, bool*)) {
  auto it = d.fields.find(field);
  if (it == d.fields.end()) return tl::unexpected(no_line);
  auto [status, tail] = Head(it->second);
  if (status == "=") {
    bool ok = false;
    T value = convert(tail, &ok);
    if (ok) return value;
    return Fail(ErrorKind::kMalformed, field + ": " + tail);
  }
  auto [function, message] = Head(tail);
  if (status == "missing") return Fail(ErrorKind::kUnsupported, function + ": missing symbol: " + message);
  auto code = ParseInt(status);
  if (!code) return Fail(ErrorKind::kMalformed, field + ": " + it->second);
  return Fail(NvmlKind(static_cast<int>(*code)),
              function + " returned " + status + ": " + message);
}

// A list field: "<count_field> = <n>" closes entries "<prefix><k> = <entry>" (k < n); the
// count's error is the list's.
template <class T>
Result<std::vector<T>> BuildList(const DeviceLines& d, const std::string& count_field,
                                 const std::string& prefix, const Error& no_line,
                                 std::optional<T> (*parse)(std::string_view)) {
  auto count = DeviceValue<long long>(d, count_field, no_line, AsLong);
  if (!count) return tl::unexpected(count.error());
  std::vector<T> out;
  for (const auto& [field, answer] : d.fields) {
    if (!field.starts_with(prefix)) continue;
    auto k = ParseInt(std::string_view(field).substr(prefix.size()));
    auto [status, tail] = Head(answer);
    if (!k || *k < 0 || *k >= *count || status != "=") continue;
    if (auto entry = parse(tail)) {
      if constexpr (std::is_same_v<T, NvLink>) entry->link = static_cast<int>(*k);
      out.push_back(*entry);
    }
  }
  if constexpr (std::is_same_v<T, NvLink>)
    std::sort(out.begin(), out.end(), [](const NvLink& a, const NvLink& b) { return a.link < b.link; });
  return out;
}

GpuFacts BuildGpu(int index, const DeviceLines& d, const ChildEnd& end) {
  GpuFacts g;
  g.index = index;
  Error no_line{end.timed_out ? ErrorKind::kTimeout : ErrorKind::kIo, "not reached: " + EndText(end)};
  if (!d.pending_call.empty() && (end.timed_out || end.signal))
    no_line.message = d.pending_call + ": " + EndText(end);
  if (auto handle = d.fields.find("handle"); handle != d.fields.end()) {
    auto failed = DeviceValue<std::string>(d, "handle", no_line, AsString);
    if (!failed) no_line = failed.error();
    auto code = ParseInt(Head(handle->second).first);
    if (code) g.handle_code = static_cast<int>(*code);
  } else if (end.exit_code == 0 && !end.signal && !end.timed_out) {
    no_line = Error{ErrorKind::kNotFound, "not asked"};
  }
  g.name = DeviceValue<std::string>(d, "name", no_line, AsString);
  g.serial = DeviceValue<std::string>(d, "serial", no_line, AsString);
  g.uuid = DeviceValue<std::string>(d, "uuid", no_line, AsString);
  g.pci_bus_id = DeviceValue<std::string>(d, "pci_bus_id", no_line, AsString);
  g.compute_capability = DeviceValue<std::string>(d, "compute_capability", no_line, AsString);
  g.compute_mode = DeviceValue<ComputeMode>(d, "compute_mode", no_line, AsComputeMode);
  for (auto [field, member] : {std::pair{"ecc_enabled", &GpuFacts::ecc_enabled},
                               {"ecc_pending_enabled", &GpuFacts::ecc_pending_enabled},
                               {"retired_pages_pending", &GpuFacts::retired_pages_pending},
                               {"remap_pending", &GpuFacts::remap_pending},
                               {"remap_failed", &GpuFacts::remap_failed},
                               {"mig_enabled", &GpuFacts::mig_enabled},
                               {"mig_pending_enabled", &GpuFacts::mig_pending_enabled},
                               {"persistence_mode", &GpuFacts::persistence_mode}})
    g.*member = DeviceValue<bool>(d, field, no_line, AsBool);
  for (auto [field, member] :
       {std::pair{"memory_total_bytes", &GpuFacts::memory_total_bytes},
        {"memory_used_bytes", &GpuFacts::memory_used_bytes},
        {"ecc_uncorrected_volatile", &GpuFacts::ecc_uncorrected_volatile},
        {"ecc_uncorrected_aggregate", &GpuFacts::ecc_uncorrected_aggregate},
        {"retired_pages_sbe", &GpuFacts::retired_pages_sbe},
        {"retired_pages_dbe", &GpuFacts::retired_pages_dbe},
        {"remapped_rows_correctable", &GpuFacts::remapped_rows_correctable},
        {"remapped_rows_uncorrectable", &GpuFacts::remapped_rows_uncorrectable},
        {"mig_devices", &GpuFacts::mig_devices},
        {"pcie_gen_now", &GpuFacts::pcie_gen_now},
        {"pcie_gen_max", &GpuFacts::pcie_gen_max},
        {"pcie_width_now", &GpuFacts::pcie_width_now},
        {"pcie_width_max", &GpuFacts::pcie_width_max},
        {"temperature_c", &GpuFacts::temperature_c},
        {"power_mw", &GpuFacts::power_mw},
        {"power_limit_mw", &GpuFacts::power_limit_mw},
        {"fabric_state", &GpuFacts::fabric_state},
        {"fabric_status", &GpuFacts::fabric_status},
        {"pci_device_id", &GpuFacts::pci_device_id},
        {"memory_free_bytes", &GpuFacts::memory_free_bytes},
        {"memory_bus_width_bits", &GpuFacts::memory_bus_width_bits},
        {"power_default_limit_mw", &GpuFacts::power_default_limit_mw},
        {"temperature_slowdown_c", &GpuFacts::temperature_slowdown_c},
        {"temperature_shutdown_c", &GpuFacts::temperature_shutdown_c},
        {"temperature_gpu_max_c", &GpuFacts::temperature_gpu_max_c},
        {"temperature_memory_max_c", &GpuFacts::temperature_memory_max_c},
        {"clock_sm_max_mhz", &GpuFacts::clock_sm_max_mhz},
        {"clock_memory_max_mhz", &GpuFacts::clock_memory_max_mhz},
        {"clock_sm_mhz", &GpuFacts::clock_sm_mhz},
        {"clock_memory_mhz", &GpuFacts::clock_memory_mhz},
        {"clock_graphics_mhz", &GpuFacts::clock_graphics_mhz},
        {"utilization_gpu_percent", &GpuFacts::utilization_gpu_percent},
        {"utilization_memory_percent", &GpuFacts::utilization_memory_percent},
        {"memory_temperature_c", &GpuFacts::memory_temperature_c},
        {"fan_percent", &GpuFacts::fan_percent},
        {"performance_state", &GpuFacts::performance_state},
        {"energy_mj", &GpuFacts::energy_mj},
        {"pcie_tx_kbps", &GpuFacts::pcie_tx_kbps},
        {"pcie_rx_kbps", &GpuFacts::pcie_rx_kbps},
        {"pcie_replay_count", &GpuFacts::pcie_replay_count},
        {"ecc_corrected_volatile", &GpuFacts::ecc_corrected_volatile},
        {"ecc_corrected_aggregate", &GpuFacts::ecc_corrected_aggregate},
        {"clock_event_reasons", &GpuFacts::clock_event_reasons}})
    g.*member = DeviceValue<long long>(d, field, no_line, AsLong);
  g.processes = BuildList<GpuProcess>(d, "processes", "process.", no_line, ParseProcess);
  g.nvlinks = BuildList<NvLink>(d, "nvlinks", "nvlink.", no_line, ParseNvLink);
  for (const auto& [field, answer] : d.fields) {
    bool topology = field.starts_with("topology."), p2p = field.starts_with("nvlink_p2p.");
    if (!topology && !p2p) continue;
    auto other = ParseInt(std::string_view(field).substr(field.find('.') + 1));
    if (!other || *other < 0 || *other >= kMaxQueriedGpus) continue;
    int j = static_cast<int>(*other);
    if (topology) g.topology[j] = DeviceValue<TopologyLevel>(d, field, no_line, AsTopology);
    else g.nvlink_p2p[j] = DeviceValue<bool>(d, field, no_line, AsP2pOk);
  }
  if (!d.fields.count("mig_devices") && g.mig_enabled && !*g.mig_enabled)
    g.mig_devices = Fail(ErrorKind::kUnsupported, "not asked: MIG is disabled");
  return g;
}

// Every GPU NVML counted (up to kMaxQueriedGpus), described or not, plus any it described.
std::vector<GpuFacts> BuildGpus(const LibraryAnswers& nvml, const DeviceMap& devices,
                                const ChildEnd& end) {
  int count = nvml.device_count ? std::min(*nvml.device_count, kMaxQueriedGpus) : 0;
  if (!devices.empty()) count = std::max(count, devices.rbegin()->first + 1);
  std::vector<GpuFacts> out;
  static const DeviceLines kNone;
  for (int i = 0; i < count; ++i) {
    auto it = devices.find(i);
    out.push_back(BuildGpu(i, it == devices.end() ? kNone : it->second, end));
  }
  return out;
}

}  // namespace

std::string NvmlUnavailableReason(const LibraryAnswers& nvml) {
  if (!nvml.loaded_path) return "cannot load NVML: " + nvml.loaded_path.error().message;
  for (const auto& c : nvml.calls)
    if (c.function.starts_with("nvmlInit") && (!c.code || *c.code != 0))
      return c.code ? fmt::format("{} returned {} ({})", c.function, *c.code, c.message)
                    : c.function + ": " + c.message;
  if (!nvml.device_count) return "no device count: " + nvml.device_count.error().message;
  return "";
}

const char* TopologyName(TopologyLevel level) {
  switch (level) {
    case TopologyLevel::kInternal: return "X";
    case TopologyLevel::kSingle: return "PIX";
    case TopologyLevel::kMultiple: return "PXB";
    case TopologyLevel::kHostBridge: return "PHB";
    case TopologyLevel::kNode: return "NODE";
    case TopologyLevel::kSystem: return "SYS";
  }
  return "?";
}

// nvmlClocksEventReasons bits (nvml.h, nvmlClocksEventReason* / nvmlClocksThrottleReason*).
namespace {
struct ClockEventBit {
  long long bit;
  const char* name;
  bool throttle;  ///< the GPU is held back, not idle or set by an administrator
};
constexpr ClockEventBit kClockEventBits[] = {
    {0x1, "gpu_idle", false},
    {0x2, "applications_clocks_setting", false},
    {0x4, "sw_power_cap", true},
    {0x8, "hw_slowdown", true},
    {0x10, "sync_boost", false},
    {0x20, "sw_thermal_slowdown", true},
    {0x40, "hw_thermal_slowdown", true},
    {0x80, "hw_power_brake_slowdown", true},
    {0x100, "display_clock_setting", false},
};
}  // namespace

std::vector<std::string> ClockEventNames(long long mask) {
  std::vector<std::string> names;
  long long known = 0;
  for (const auto& b : kClockEventBits) {
    known |= b.bit;
    if (mask & b.bit) names.push_back(b.name);
  }
  if (long long rest = mask & ~known) names.push_back(fmt::format("{:#x}", rest));
  return names;
}

bool ClockEventIsThrottle(long long mask) {
  for (const auto& b : kClockEventBits)
    if (b.throttle && (mask & b.bit)) return true;
  return false;
}

const char* ComputeModeName(ComputeMode mode) {
  switch (mode) {
    case ComputeMode::kDefault: return "Default";
    case ComputeMode::kExclusiveThread: return "Exclusive_Thread";
    case ComputeMode::kProhibited: return "Prohibited";
    case ComputeMode::kExclusiveProcess: return "Exclusive_Process";
  }
  return "?";
}

DriverQuery ParseDriverQuery(std::string_view text, const DriverQueryOptions& options,
                             const ChildEnd& end) {
  DriverQuery q;
  q.nvml.requested = options.nvml_library;
  q.cuda.requested = options.cuda_library;
  std::map<std::string, std::string> values[2];
  DeviceMap devices;
  for (auto& line : SplitLines(text)) ApplyLine(q, line, values, devices);
  Finish(q.nvml, end);
  Finish(q.cuda, end);
  auto& n = q.nvml;
  n.driver_version = ValueOf<std::string>(n, values[0], "driver_version",
                                          {"nvmlSystemGetDriverVersion"}, end, AsString);
  n.nvml_version = ValueOf<std::string>(n, values[0], "nvml_version",
                                        {"nvmlSystemGetNVMLVersion"}, end, AsString);
  n.cuda_driver_version = ValueOf<int>(
      n, values[0], "cuda_driver_version",
      {"nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"}, end, AsInt);
  n.device_count = ValueOf<int>(n, values[0], "device_count",
                                {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}, end, AsInt);
  n.devices = BuildGpus(n, devices, end);
  auto& c = q.cuda;
  c.driver_version = Fail(ErrorKind::kUnsupported, "libcuda does not report the driver version");
  c.nvml_version = Fail(ErrorKind::kUnsupported, "not an NVML value");
  c.cuda_driver_version =
      ValueOf<int>(c, values[1], "cuda_driver_version", {"cuDriverGetVersion"}, end, AsInt);
  c.device_count = ValueOf<int>(c, values[1], "device_count", {"cuDeviceGetCount"}, end, AsInt);
  return q;
}

namespace {

// Reads `fd` until EOF or the deadline; at most kMaxOutputBytes are kept.
std::string ReadUntil(int fd, std::chrono::milliseconds deadline, bool* timed_out) {
  std::string text;
  auto stop = Clock::now() + deadline;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop - Clock::now());
    pollfd p{fd, POLLIN, 0};
    int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      *timed_out = true;
      return text;
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    if (text.size() < kMaxOutputBytes) text.append(buf, static_cast<size_t>(n));
  }
}

[[noreturn]] void RunChild(int fd, const DriverQueryOptions& options) {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
  }
  CloseDescriptorsExcept({fd});  // fork copies every descriptor; the child needs one
  DriverQueryChildMain(fd, options);
  ::_exit(0);
}

}  // namespace

PendingDriverQuery::Child PendingDriverQuery::Spawn(const DriverQueryOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(fds[1], options);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return {};
  }
  return {pid, fds[0]};
}

PendingDriverQuery PendingDriverQuery::Start(const DriverQueryOptions& options) {
  PendingDriverQuery query(options, Clock::now());
  DriverQueryOptions nvml_only = options, cuda_only = options;
  nvml_only.cuda_library.clear();
  cuda_only.nvml_library.clear();
  query.children_[0] = Spawn(nvml_only);
  query.children_[1] = Spawn(cuda_only);
  return query;
}

PendingDriverQuery::PendingDriverQuery(PendingDriverQuery&& other) noexcept
    : options_(std::move(other.options_)), started_(other.started_) {
  for (int i = 0; i < 2; ++i) {
    children_[i] = other.children_[i];
    other.children_[i] = {};
  }
}

PendingDriverQuery::~PendingDriverQuery() {
  for (Child& c : children_) {
    if (c.fd >= 0) ::close(c.fd);
    if (c.pid > 0) {
      ::kill(c.pid, SIGKILL);
      while (::waitpid(c.pid, nullptr, 0) < 0 && errno == EINTR) {}
    }
  }
}

std::string PendingDriverQuery::Collect(Child& child, ChildEnd& end) {
  if (child.pid <= 0) return "";
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      options_.deadline - (Clock::now() - started_));
  bool timed_out = false;
  std::string text = ReadUntil(child.fd, std::max(left, std::chrono::milliseconds(1)), &timed_out);
  ::close(child.fd);
  if (timed_out) ::kill(child.pid, SIGKILL);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {}
  child = {};
  end.timed_out = end.timed_out || timed_out;
  if (WIFSIGNALED(status) && !timed_out) end.signal = WTERMSIG(status);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) end.exit_code = WEXITSTATUS(status);
  return text;
}

DriverQuery PendingDriverQuery::Finish() {
  ChildEnd end;
  end.deadline = options_.deadline;
  end.exit_code = children_[0].pid > 0 && children_[1].pid > 0 ? 0 : -1;
  std::string text = Collect(children_[0], end);
  text += Collect(children_[1], end);
  return ParseDriverQuery(text, options_, end);
}

DriverQuery QueryDriver(const DriverQueryOptions& options) {
  return PendingDriverQuery::Start(options).Finish();
}

}  // namespace dlrig
