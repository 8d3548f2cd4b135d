// Pure parsers of the kernel driver layer (kept apart from the probe so fuzzers link them).
#include <algorithm>
#include <set>

#include "core/strings.h"
#include "core/version.h"
#include "probe/kernel_driver.h"

namespace dlrig {
namespace {

const std::set<std::string, std::less<>> kModulesOfInterest = {
    "nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia_peermem", "nouveau"};

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> words;
  for (auto& w : Split(line, ' '))
    for (auto& part : Split(w, '\t')) words.push_back(part);
  return words;
}

// "195," "0" or "195,0" starting at words[i]; advances i past them.
bool ParseMajorMinor(const std::vector<std::string>& words, size_t& i, DeviceNode& node) {
  if (i >= words.size() || words[i].find(',') == std::string::npos) return false;
  auto parts = Split(words[i], ',');
  auto major = parts.empty() ? std::nullopt : ParseInt(parts[0]);
  std::optional<long long> minor;
  if (parts.size() == 2) {
    minor = ParseInt(parts[1]);
    i += 1;
  } else if (i + 1 < words.size()) {
    minor = ParseInt(words[i + 1]);
    i += 2;
  }
  if (!major || !minor) return false;
  node.major = static_cast<int>(*major);
  node.minor = static_cast<int>(*minor);
  return true;
}

}  // namespace

Result<NvidiaProcVersion> ParseNvidiaProcVersion(std::string_view text) {
  auto lines = SplitLines(text);
  if (lines.empty() || !StartsWith(lines[0], "NVRM version:"))
    return Fail(ErrorKind::kMalformed, "no 'NVRM version:' line");
  NvidiaProcVersion v;
  v.first_line = lines[0];
  v.open_module = Contains(lines[0], "Open Kernel Module");
  // The version is the first word after "Kernel Module" (…for x86_64  580.159.04  Release…).
  size_t at = lines[0].find("Module");
  for (auto& word : Words(at == std::string::npos ? lines[0] : lines[0].substr(at))) {
    if (word.find('.') != std::string::npos && Version::Parse(word)) {
      v.version = word;
      break;
    }
  }
  if (v.version.empty()) return Fail(ErrorKind::kMalformed, "no version in: " + lines[0]);
  for (auto& line : lines)
    if (StartsWith(line, "GCC version:")) v.gcc = std::string(Trim(line.substr(12)));
  return v;
}

std::vector<LoadedModule> ParseProcModules(std::string_view text) {
  std::vector<LoadedModule> out;
  for (auto& line : SplitLines(text)) {
    auto w = Words(line);
    if (w.size() < 5 || !kModulesOfInterest.count(w[0])) continue;
    LoadedModule m;
    m.name = w[0];
    m.size_bytes = static_cast<uint64_t>(std::max(0LL, ParseInt(w[1]).value_or(0)));
    m.used_by = w[3];
    m.state = w[4];
    out.push_back(std::move(m));
  }
  return out;
}

uint32_t ParseModeString(std::string_view perms) {
  if (perms.size() < 10) return 0;
  uint32_t mode = 0;
  for (int i = 0; i < 9; ++i) {
    char c = perms[1 + i];
    bool set = c != '-' && c != 'S' && c != 'T';
    if (set) mode |= 1u << (8 - i);
  }
  if (perms[3] == 's' || perms[3] == 'S') mode |= 04000;
  if (perms[6] == 's' || perms[6] == 'S') mode |= 02000;
  if (perms[9] == 't' || perms[9] == 'T') mode |= 01000;
  return mode;
}

std::vector<DeviceNode> ParseDevListing(std::string_view text) {
  std::vector<DeviceNode> out;
  std::string dir = "/dev";
  for (auto& line : SplitLines(text)) {
    std::string_view t = Trim(line);
    if (t.empty() || StartsWith(t, "total ")) continue;
    if (t.back() == ':' && t.front() == '/') {
      dir = std::string(t.substr(0, t.size() - 1));
      continue;
    }
    auto w = Words(t);
    if (w.size() < 7 || w[0].size() < 10) continue;
    DeviceNode node;
    node.type = w[0][0];
    node.mode = ParseModeString(w[0]);
    node.owner = w[2];
    node.group = w[3];
    size_t i = 4;
    if (node.type == 'c' || node.type == 'b') {
      if (!ParseMajorMinor(w, i, node)) continue;
    } else {
      ++i;  // size
    }
    i += 3;  // month, day, time or year
    if (i >= w.size()) continue;
    std::string name = w[i];
    if (name == "." || name == "..") continue;
    node.path = name.front() == '/' ? name : JoinPath(dir, name);
    if (!StartsWith(BaseName(node.path), "nvidia")) continue;
    out.push_back(std::move(node));
  }
  return out;
}

void ParseModprobeConf(std::string_view text, std::string_view file, NouveauConfig& config) {
  for (auto& line : SplitLines(text)) {
    std::string_view t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto w = Words(t);
    bool hit = false;
    if (w.size() >= 2 && w[0] == "blacklist" && w[1] == "nouveau") {
      config.blacklisted = hit = true;
    } else if (w.size() >= 3 && w[0] == "options" && w[1] == "nouveau") {
      for (size_t i = 2; i < w.size(); ++i)
        if (w[i] == "modeset=0") config.modeset_off = hit = true;
    } else if (w.size() >= 3 && w[0] == "install" && w[1] == "nouveau") {
      config.blacklisted = hit = true;  // "install nouveau /bin/false"
    }
    if (hit) config.evidence.push_back(std::string(file) + ": " + std::string(t));
  }
}

Result<SecureBoot> ParseSecureBootVar(std::string_view bytes) {
  if (bytes.size() != 5)
    return Fail(ErrorKind::kMalformed,
                "SecureBoot variable has " + std::to_string(bytes.size()) + " bytes, expected 5");
  unsigned char value = static_cast<unsigned char>(bytes[4]);
  if (value > 1)
    return Fail(ErrorKind::kMalformed, "SecureBoot value byte is " + std::to_string(value));
  return value == 1 ? SecureBoot::kEnabled : SecureBoot::kDisabled;
}

DriverGpu ParseGpuInformation(std::string_view bus_id, std::string_view text) {
  DriverGpu gpu;
  gpu.bus_id = std::string(bus_id);
  for (auto& line : SplitLines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key(Trim(std::string_view(line).substr(0, colon)));
    std::string value(Trim(std::string_view(line).substr(colon + 1)));
    if (key.empty()) continue;
    if (key == "Model") gpu.model = value;
    if (key == "GPU UUID") gpu.uuid = value;
    gpu.fields.emplace_back(std::move(key), std::move(value));
  }
  return gpu;
}

}  // namespace dlrig
