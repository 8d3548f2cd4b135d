// Reading dlrig.bench/1 back (bench compare FILE, the history): every field is type-checked
// before use, so any input gives a run or an error naming the field, never an exception.
#include <fmt/format.h>
#include <time.h>

#include <cstdio>
#include <limits>

#include "bench/report_json.h"
#include "core/json_dump.h"

namespace dlrig::bench {
namespace {

using nlohmann::json;

Error Bad(std::string_view where, std::string_view what) {
  return Error{ErrorKind::kMalformed, fmt::format("{}: {}", where, what)};
}

const json* Field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<std::string>> Text(const json& j, const char* name, std::string_view where) {
  const json* f = Field(j, name);
  if (!f) return std::optional<std::string>();
  if (!f->is_string())
    return tl::unexpected(Bad(where, fmt::format("\"{}\" is not a string", name)));
  return std::optional<std::string>(f->get<std::string>());
}

Result<std::optional<double>> Number(const json& j, const char* name, std::string_view where) {
  const json* f = Field(j, name);
  if (!f) return std::optional<double>();
  if (!f->is_number())
    return tl::unexpected(Bad(where, fmt::format("\"{}\" is not a number", name)));
  return std::optional<double>(f->get<double>());
}

Result<std::optional<long long>> Integer(const json& j, const char* name, std::string_view where,
                                         long long lo, long long hi) {
  const json* f = Field(j, name);
  if (!f) return std::optional<long long>();
  if (f->is_number_unsigned()) {
    auto v = f->get<unsigned long long>();
    if (v > static_cast<unsigned long long>(hi))
      return tl::unexpected(Bad(where, fmt::format("\"{}\" is out of range", name)));
    return std::optional<long long>(static_cast<long long>(v));
  }
  if (!f->is_number_integer())
    return tl::unexpected(Bad(where, fmt::format("\"{}\" is not an integer", name)));
  auto v = f->get<long long>();
  if (v < lo || v > hi)
    return tl::unexpected(Bad(where, fmt::format("\"{}\" is out of range", name)));
  return std::optional<long long>(v);
}

Result<std::optional<int>> Int(const json& j, const char* name, std::string_view where) {
  auto v =
      Integer(j, name, where, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
  if (!v) return tl::unexpected(v.error());
  if (!*v) return std::optional<int>();
  return std::optional<int>(static_cast<int>(**v));
}

const json* Array(const json& j, const char* name, std::string_view where, Error& error) {
  const json* f = Field(j, name);
  if (f && !f->is_array()) {
    error = Bad(where, fmt::format("\"{}\" is not an array", name));
    return nullptr;
  }
  return f;
}

// Runs `read` over each member, stopping at the first error.
template <class T, class F>
Result<std::vector<T>> Each(const json& j, const char* name, std::string_view where, F read) {
  Error error{ErrorKind::kMalformed, ""};
  const json* a = Array(j, name, where, error);
  if (!a && !error.message.empty()) return tl::unexpected(error);
  std::vector<T> out;
  if (!a) return out;
  for (size_t i = 0; i < a->size(); ++i) {
    auto v = read((*a)[i], fmt::format("{}.{}[{}]", where, name, i));
    if (!v) return tl::unexpected(v.error());
    out.push_back(std::move(*v));
  }
  return out;
}

#define DLRIG_TRY(var, expr) \
  auto var = (expr);         \
  if (!var) return tl::unexpected(var.error())

Result<Telemetry> TelemetryFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return tl::unexpected(Bad(where, "not an object"));
  Telemetry t;
  DLRIG_TRY(samples, Int(j, "samples", where));
  t.samples = samples->value_or(0);
  const std::pair<const char*, std::optional<double> Telemetry::*> numbers[] = {
      {"sm_clock_mean_mhz", &Telemetry::sm_clock_mean_mhz},
      {"sm_clock_min_mhz", &Telemetry::sm_clock_min_mhz},
      {"memory_clock_mean_mhz", &Telemetry::memory_clock_mean_mhz},
      {"power_mean_w", &Telemetry::power_mean_w},
      {"power_max_w", &Telemetry::power_max_w},
      {"temperature_max_c", &Telemetry::temperature_max_c}};
  for (const auto& [name, field] : numbers) {
    DLRIG_TRY(v, Number(j, name, where));
    t.*field = *v;
  }
  auto reasons = Each<std::string>(j, "throttle_reasons", where,
                                   [](const json& r, const std::string& at) -> Result<std::string> {
                                     if (!r.is_string())
                                       return tl::unexpected(Bad(at, "not a string"));
                                     return r.get<std::string>();
                                   });
  if (!reasons) return tl::unexpected(reasons.error());
  t.throttle_reasons = std::move(*reasons);
  return t;
}

Result<LimitFigure> LimitFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return tl::unexpected(Bad(where, "not an object"));
  DLRIG_TRY(value, Number(j, "value", where));
  if (!*value) return tl::unexpected(Bad(where, "no \"value\""));
  DLRIG_TRY(basis, Text(j, "basis", where));
  DLRIG_TRY(formula, Text(j, "formula", where));
  LimitFigure l;
  l.value = **value;
  l.basis = basis->value_or("");
  l.formula = formula->value_or("");
  return l;
}

Result<Measurement::Point> PointFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return tl::unexpected(Bad(where, "not an object"));
  Measurement::Point p;
  DLRIG_TRY(t, Number(j, "t", where));
  DLRIG_TRY(figure, Number(j, "figure", where));
  p.t = t->value_or(0);
  p.figure = figure->value_or(0);
  if (const json* tel = Field(j, "telemetry")) {
    DLRIG_TRY(telemetry, TelemetryFromJson(*tel, where + ".telemetry"));
    p.telemetry = std::move(*telemetry);
  }
  return p;
}

std::optional<Verdict> VerdictFromName(std::string_view name) {
  for (Verdict v : {Verdict::kGood, Verdict::kFair, Verdict::kLow, Verdict::kPassed,
                    Verdict::kFailed, Verdict::kInfo, Verdict::kWaived, Verdict::kError})
    if (VerdictName(v) == name) return v;
  return std::nullopt;
}

}  // namespace

Result<int64_t> ParseIsoUtc(std::string_view text) {
  std::string s(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &used) != 6 ||
      month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 ||
      year < 1970 || hour < 0 || minute < 0 || second < 0)
    return Fail(ErrorKind::kMalformed,
                fmt::format("\"{}\" is not a UTC time like 2026-11-22T10:01:02Z", s));
  size_t i = static_cast<size_t>(used);
  int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
      ms += (s[i] - '0') * scale;
  }
  if (i + 1 != s.size() || s[i] != 'Z')
    return Fail(ErrorKind::kMalformed,
                fmt::format("\"{}\" is not a UTC time like 2026-11-22T10:01:02Z", s));
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(::timegm(&tm)) * 1000 + ms;
}

Result<DeviceInfo> DeviceFromJson(const json& j) {
  const std::string where = "device";
  if (!j.is_object()) return tl::unexpected(Bad(where, "not an object"));
  DeviceInfo d;
  DLRIG_TRY(index, Int(j, "index", where));
  if (!*index) return tl::unexpected(Bad(where, "no \"index\""));
  d.index = **index;
  const std::pair<const char*, std::string DeviceInfo::*> texts[] = {
      {"name", &DeviceInfo::name},
      {"uuid", &DeviceInfo::uuid},
      {"pci_bus_id", &DeviceInfo::pci_bus_id}};
  for (const auto& [name, field] : texts) {
    DLRIG_TRY(v, Text(j, name, where));
    d.*field = v->value_or("");
  }
  DLRIG_TRY(cc, Text(j, "cc", where));
  if (*cc && std::sscanf((*cc)->c_str(), "%d.%d", &d.cc_major, &d.cc_minor) != 2)
    return tl::unexpected(Bad(where, "\"cc\" is not like \"9.0\""));
  DLRIG_TRY(sm_count, Int(j, "sm_count", where));
  d.sm_count = sm_count->value_or(0);
  DLRIG_TRY(memory_total,
            Integer(j, "memory_total", where, 0, std::numeric_limits<long long>::max()));
  d.memory_total = static_cast<size_t>(memory_total->value_or(0));
  const std::pair<const char*, std::optional<int> DeviceInfo::*> ints[] = {
      {"sm_clock_max_mhz", &DeviceInfo::sm_clock_max_mhz},
      {"memory_clock_max_mhz", &DeviceInfo::memory_clock_max_mhz},
      {"memory_bus_bits", &DeviceInfo::memory_bus_bits},
      {"pcie_gen_max", &DeviceInfo::pcie_gen_max},
      {"pcie_width_max", &DeviceInfo::pcie_width_max},
      {"pcie_gen_now", &DeviceInfo::pcie_gen_now},
      {"pcie_width_now", &DeviceInfo::pcie_width_now},
      {"numa_node", &DeviceInfo::numa_node},
      {"nvlink_version", &DeviceInfo::nvlink_version}};
  for (const auto& [name, field] : ints) {
    DLRIG_TRY(v, Int(j, name, where));
    d.*field = *v;
  }
  DLRIG_TRY(links, Int(j, "nvlinks_active", where));
  d.nvlinks_active = links->value_or(0);
  DLRIG_TRY(power, Number(j, "power_limit_w", where));
  d.power_limit_w = *power;
  return d;
}

Result<Measurement> MeasurementFromJson(const json& j) {
  if (!j.is_object()) return tl::unexpected(Bad("result", "not an object"));
  Measurement m;
  DLRIG_TRY(key, Text(j, "key", "result"));
  if (!*key || (*key)->empty()) return tl::unexpected(Bad("result", "no \"key\""));
  m.key = **key;
  const std::string where = fmt::format("result {}", m.key);
  DLRIG_TRY(bench, Text(j, "bench", where));
  m.bench = bench->value_or("");
  DLRIG_TRY(device, Int(j, "device", where));
  m.device = *device;
  DLRIG_TRY(unit, Text(j, "unit", where));
  m.unit = unit->value_or("");
  const std::pair<const char*, double Measurement::*> figures[] = {
      {"median", &Measurement::median},
      {"min", &Measurement::min},
      {"max", &Measurement::max},
      {"seconds", &Measurement::seconds}};
  for (const auto& [name, field] : figures) {
    DLRIG_TRY(v, Number(j, name, where));
    m.*field = v->value_or(0);
  }
  auto samples =
      Each<double>(j, "samples", where, [](const json& s, const std::string& at) -> Result<double> {
        if (!s.is_number()) return tl::unexpected(Bad(at, "not a number"));
        return s.get<double>();
      });
  if (!samples) return tl::unexpected(samples.error());
  m.samples = std::move(*samples);
  auto limits = Each<LimitFigure>(j, "limits", where, LimitFromJson);
  if (!limits) return tl::unexpected(limits.error());
  m.limits = std::move(*limits);
  DLRIG_TRY(ratio, Number(j, "ratio", where));
  m.ratio = *ratio;
  DLRIG_TRY(goal, Number(j, "goal", where));
  m.goal = *goal;
  DLRIG_TRY(verdict, Text(j, "verdict", where));
  if (!*verdict) return tl::unexpected(Bad(where, "no \"verdict\""));
  auto v = VerdictFromName(**verdict);
  if (!v) return tl::unexpected(Bad(where, fmt::format("unknown verdict \"{}\"", **verdict)));
  m.verdict = *v;
  DLRIG_TRY(message, Text(j, "message", where));
  m.message = message->value_or("");
  if (const json* params = Field(j, "params")) {
    if (!params->is_object()) return tl::unexpected(Bad(where, "\"params\" is not an object"));
    for (const auto& [name, value] : params->items()) {
      if (value.is_string())
        m.params[name] = value.get<std::string>();
      else if (value.is_primitive())
        m.params[name] = DumpJson(value, -1);
      else
        return tl::unexpected(Bad(where, fmt::format("param \"{}\" is not a value", name)));
    }
  }
  auto telemetry = Each<Telemetry>(j, "telemetry", where, TelemetryFromJson);
  if (!telemetry) return tl::unexpected(telemetry.error());
  m.telemetry = std::move(*telemetry);
  auto timeline = Each<Measurement::Point>(j, "timeline", where, PointFromJson);
  if (!timeline) return tl::unexpected(timeline.error());
  m.timeline = std::move(*timeline);
  return m;
}

Result<BenchRun> ParseBenchJson(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Fail(ErrorKind::kMalformed, "not JSON");
  if (!j.is_object())
    return Fail(ErrorKind::kMalformed, "not a dlrig.bench document (not a JSON object)");
  const std::string where = "document";
  DLRIG_TRY(schema, Text(j, "schema", where));
  if (!*schema)
    return Fail(ErrorKind::kMalformed, "no \"schema\": not written by `dlrig bench --json`");
  if (**schema != kBenchSchema)
    return Fail(ErrorKind::kMalformed,
                fmt::format("schema \"{}\", this dlrig reads \"{}\"", **schema, kBenchSchema));
  BenchRun run;
  const std::pair<const char*, std::string BenchRun::*> texts[] = {
      {"dlrig_version", &BenchRun::dlrig_version},
      {"host", &BenchRun::host},
      {"profile", &BenchRun::profile},
      {"backend", &BenchRun::backend},
      {"driver", &BenchRun::driver}};
  for (const auto& [name, field] : texts) {
    DLRIG_TRY(v, Text(j, name, where));
    run.*field = v->value_or("");
  }
  DLRIG_TRY(started, Text(j, "started", where));
  if (*started) {
    DLRIG_TRY(ms, ParseIsoUtc(**started));
    run.started_ms = *ms;
  }
  if (const json* libraries = Field(j, "libraries")) {
    if (!libraries->is_object())
      return Fail(ErrorKind::kMalformed, "\"libraries\" is not an object");
    for (const auto& [name, version] : libraries->items()) {
      if (!version.is_string())
        return Fail(ErrorKind::kMalformed, fmt::format("library \"{}\" is not a string", name));
      run.libraries.emplace_back(name, version.get<std::string>());
    }
  }
  auto devices = Each<DeviceInfo>(
      j, "devices", where, [](const json& d, const std::string&) { return DeviceFromJson(d); });
  if (!devices) return tl::unexpected(devices.error());
  run.devices = std::move(*devices);
  if (!Field(j, "results")) return Fail(ErrorKind::kMalformed, "no \"results\"");
  auto results = Each<Measurement>(j, "results", where, [](const json& r, const std::string&) {
    return MeasurementFromJson(r);
  });
  if (!results) return tl::unexpected(results.error());
  run.results = std::move(*results);
  return run;
}

}  // namespace dlrig::bench
