#include "capture/capture.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/utsname.h>

#include <cctype>
#include <map>
#include <set>

#include "core/json_dump.h"
#include "capture/redact.h"
#include "core/strings.h"
#include "core/tar.h"
#include "probe/inventory.h"
#include "report/doctor_report.h"

namespace dlrig {
namespace {

constexpr size_t kMaxCapturedFileBytes = 32u << 20;  // dpkg status of a large system
// Variables saved to environ.txt: what the probes read, never the whole environment.
const char* const kSavedVariables[] = {
    "PATH", "LD_LIBRARY_PATH", "HOME", "USER", "SHELL", "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT",
    "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES", "NVIDIA_REQUIRE_CUDA", "LD_PRELOAD", "LIBRARY_PATH",
    "CUDAHOSTCXX", "TORCH_CUDA_ARCH_LIST", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_EXE",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "XLA_FLAGS"};

enum class Node { kFile, kPlaceholder, kDir, kLink };

struct Entry {
  Node node;
  std::string content;  ///< file text or link target
  unsigned mode = 0644;
};

// Shared objects, archives and programs become empty placeholders; every other file keeps
// its bytes, binary ones included (ld.so.cache, efivars), since a probe parsed them.
bool IsProgramOrLibrary(std::string_view path, std::string_view content) {
  if (StartsWith(content, "\x7f" "ELF")) return true;
  std::string base = BaseName(path);
  size_t so = base.find(".so.");  // libfoo.so.1.2, but not ld.so.cache
  bool versioned = so != std::string::npos && so + 4 < base.size() && std::isdigit(base[so + 4]);
  return versioned || EndsWith(base, ".so") || EndsWith(base, ".a");
}

class Collector {
 public:
  explicit Collector(const Root& root) : root_(root) {}

  // Adds `path` and every directory and link on the way to it.
  void AddPath(const std::string& path, bool want_content, int depth = 0) {
    if (depth > 40) return;  // as the kernel's limit on links
    std::string so_far;
    for (auto& part : Split(NormalizePath(path), '/')) {
      so_far += "/" + part;
      auto info = root_.LStat(so_far);
      if (!info) return;
      if (info->type == FileType::kSymlink) {
        auto target = root_.ReadLink(so_far);
        if (!target) return;
        tree_[so_far] = {Node::kLink, *target};
        // One hop at a time, so every link of a chain (cuda-13 -> alternatives -> cuda-13.0)
        // is kept; then go on beneath the link's target.
        std::string hop = NormalizePath((*target)[0] == '/' ? *target
                                                            : JoinPath(DirName(so_far), *target));
        std::string rest = NormalizePath(path).substr(so_far.size());
        AddPath(hop + rest, want_content, depth + 1);
        return;
      }
      if (info->type == FileType::kDirectory) {
        if (!tree_.count(so_far)) tree_[so_far] = {Node::kDir, "", info->mode | 0700};
        continue;
      }
      if (info->type == FileType::kRegular) AddFile(so_far, *info, want_content);
      return;  // devices, sockets: not archived
    }
  }

  void AddListing(const std::string& listed) {
    AddPath(listed, false);
    auto real = root_.Resolve(listed);  // children go under the real directory, not a link
    if (!real) return;
    const std::string& dir = *real;
    auto entries = root_.ListDir(dir);
    if (!entries) return;
    for (auto& e : *entries) {
      std::string child = JoinPath(dir, e.name);
      if (e.type == FileType::kDirectory && !tree_.count(child)) tree_[child] = {Node::kDir, "", 0755};
      else if (e.type == FileType::kSymlink || e.type == FileType::kRegular) AddPath(child, false);
    }
  }

  const std::map<std::string, Entry>& tree() const { return tree_; }

  /// Replaces the saved content of `path` (after its links) by RedactShellSecrets of it.
  void RedactShellFile(const std::string& path) {
    auto real = root_.Resolve(path);
    auto it = tree_.find(real ? *real : NormalizePath(path));
    if (it != tree_.end() && it->second.node == Node::kFile)
      it->second.content = RedactShellSecrets(it->second.content);
  }

 private:
  void AddFile(const std::string& path, const FileInfo& info, bool want_content) {
    auto it = tree_.find(path);
    if (it != tree_.end() && (it->second.node == Node::kFile || !want_content)) return;
    Entry e{Node::kPlaceholder, "", (info.mode & 0777) | 0400};
    if (want_content) {
      auto text = root_.ReadFile(path, kMaxCapturedFileBytes);
      if (text && !IsProgramOrLibrary(path, *text)) e = {Node::kFile, std::move(*text), e.mode};
    }
    tree_[path] = std::move(e);
  }

  const Root& root_;
  std::map<std::string, Entry> tree_;
};

std::string ModeString(const FileInfo& info) {
  char type = info.type == FileType::kCharDevice    ? 'c'
              : info.type == FileType::kBlockDevice ? 'b'
              : info.type == FileType::kDirectory   ? 'd'
                                                    : '-';
  std::string mode(1, type);
  const char* rwx = "rwxrwxrwx";
  for (int bit = 8; bit >= 0; --bit) mode += (info.mode >> bit) & 1 ? rwx[8 - bit] : '-';
  return mode;
}

std::string UserName(uid_t uid) {
  struct passwd pw, *found = nullptr;
  char buf[4096];
  return ::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found ? found->pw_name
                                                                       : std::to_string(uid);
}

std::string GroupName(gid_t gid) {
  struct group gr, *found = nullptr;
  char buf[4096];
  return ::getgrgid_r(gid, &gr, buf, sizeof buf, &found) == 0 && found ? found->gr_name
                                                                       : std::to_string(gid);
}

// /dev/nvidia* as `ls -l` prints them (device nodes cannot travel in the archive).
void ListDevices(const Root& root, const std::string& dir, std::string& out, int depth = 0) {
  auto entries = root.ListDir(dir);
  if (!entries) return;
  for (auto& e : *entries) {
    if (!StartsWith(e.name, "nvidia")) continue;
    std::string path = JoinPath(dir, e.name);
    auto info = root.Stat(path);
    if (!info) continue;
    std::string size = info->type == FileType::kCharDevice || info->type == FileType::kBlockDevice
                           ? fmt::format("{}, {}", info->rdev_major, info->rdev_minor)
                           : std::to_string(info->size_bytes);
    out += fmt::format("{} 1 {} {} {} Jan  1 00:00 {}\n", ModeString(*info), UserName(info->uid),
                       GroupName(info->gid), size, path);
    if (info->type == FileType::kDirectory && depth == 0) ListDevices(root, path, out, depth + 1);
  }
}

// Every string of the report through the shell rule: variables (PIP_INDEX_URL with a password)
// and start-up lines are in it. Done on the strings, before DumpJson could list their bytes.
void RedactStrings(json& j) {
  if (j.is_string()) {
    j = RedactShellSecrets(j.get_ref<const std::string&>());
  } else if (j.is_structured()) {
    for (auto& value : j) RedactStrings(value);
  }
}

// The report as doctor --json writes it, findings included when the catalogue is usable.
std::string DoctorReportJson(const Inventory& inv) {
  Result<Findings> findings = DiagnoseBuiltIn(inv);
  json doc = DoctorJson(inv, findings ? *findings : Findings{});
  RedactStrings(doc);
  return DumpJson(doc);
}

}  // namespace

Result<CaptureStats> WriteCapture(const ProbeContext& ctx, Root& root, const std::string& out) {
  AccessLog log;
  root.set_access_log(&log);
  Inventory inv = CollectInventory(ctx);
  root.set_access_log(nullptr);

  Collector collector(root);
  for (auto& [kind, path] : log.entries) {
    if (StartsWith(path, "/dev/") || path == "/dev") continue;
    if (path == kKernLogPath) continue;  // its NVIDIA lines go to dmesg-nvidia.txt
    if (kind == AccessLog::Kind::kList) collector.AddListing(path);
    else collector.AddPath(path, kind == AccessLog::Kind::kRead);
  }

  // Shell start-up files carry tokens (export HF_TOKEN=...): their secrets stay here.
  for (const std::string& file : inv.shell.startup_files_read) collector.RedactShellFile(file);

  auto tar = TarWriter::Create(out);
  if (!tar) return tl::unexpected(tar.error());
  CaptureStats stats;
  for (auto& [path, e] : collector.tree()) {
    std::string name = path.substr(1);
    Result<void> r;
    switch (e.node) {
      case Node::kDir: r = tar->AddDir(name, e.mode); ++stats.dirs; break;
      case Node::kLink: r = tar->AddSymlink(name, e.content); ++stats.links; break;
      case Node::kPlaceholder: r = tar->AddFile(name, "", e.mode); ++stats.placeholders; break;
      case Node::kFile:
        r = tar->AddFile(name, e.content, e.mode);
        ++stats.files;
        stats.bytes += e.content.size();
        break;
    }
    if (!r) return tl::unexpected(r.error());
  }
  std::string environ;
  for (const char* var : kSavedVariables)
    if (auto value = ctx.env.Get(var)) environ += std::string(var) + "=" + *value + "\n";
  struct utsname uts;
  std::string uname = ::uname(&uts) == 0 ? fmt::format("{} {} {} {} {}\n", uts.sysname, uts.nodename,
                                                       uts.release, uts.version, uts.machine)
                                         : "";
  for (auto& [name, text] : std::initializer_list<std::pair<const char*, std::string>>{
           {"environ.txt", RedactSecretValues(environ)},
           {"dev.listing", [&] { std::string o; ListDevices(root, "/dev", o); return o; }()},
           {"uname.txt", uname},
           {"doctor.json", DoctorReportJson(inv) + "\n"}}) {
    if (auto r = tar->AddFile(name, text); !r) return tl::unexpected(r.error());
  }
  // The kernel-log lines the probe used, where a replay's kernel-log probe looks first.
  if (inv.kernel_log.source) {
    std::string lines;
    for (auto& line : inv.kernel_log.lines) lines += line + "\n";
    if (auto r = tar->AddFile("dmesg-nvidia.txt", lines); !r) return tl::unexpected(r.error());
  }
  if (auto r = tar->Finish(); !r) return tl::unexpected(r.error());
  return stats;
}

}  // namespace dlrig
