// Root over generated trees: the input builds a small tree in a fresh temporary directory
// (directories, files of chosen sizes, real symbolic links with absolute, relative, `..`,
// self and cyclic targets, links flattened as shared captures store them, FIFOs), then calls
// every Root method on paths drawn from the input. Each call must return: no crash, no
// endless recursion, no open that blocks on a FIFO.
//
// Input format (bytes; a read past the end gives 0):
//   n_ops, then n_ops times: kind (dir, file, symlink, flattened link, FIFO), a path, and
//   the kind's data (file: a literal body or a size and a fill byte; links: a target);
//   then queries until the input ends: method, a path, and for OpenFile two offsets.
// The tree is built with *at() calls that never follow a link, so a planted link cannot
// make the fuzzer write outside its directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/root.h"

namespace {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  std::string Bytes(size_t n) {
    std::string out;
    while (n-- > 0 && !empty()) out.push_back(static_cast<char>(Byte()));
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

const char* const kNames[] = {"a", "b", "c", "proc", "cpuinfo", "x", "lib", "sys"};
constexpr size_t kNameCount = sizeof kNames / sizeof kNames[0];

// 1 to 3 components from the pool: "proc/cpuinfo".
std::vector<std::string> Components(Input& in) {
  std::vector<std::string> parts;
  int depth = 1 + in.Byte() % 3;
  for (int i = 0; i < depth; ++i) parts.push_back(kNames[in.Byte() % kNameCount]);
  return parts;
}

std::string Join(const std::vector<std::string>& parts, bool absolute) {
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

// A link target: absolute, relative, climbing with "..", through itself, or raw bytes.
std::string Target(Input& in) {
  switch (in.Byte() % 7) {
    case 0: return Join(Components(in), true);
    case 1: return Join(Components(in), false);
    case 2: {
      std::string up;
      for (int i = 1 + in.Byte() % 4; i > 0; --i) up += "../";
      return up + Join(Components(in), false);
    }
    case 3: return in.Byte() % 2 ? "." : "..";
    case 4: return Join(Components(in), false) + "/x";
    case 5: return Join(Components(in), true) + "/../" + kNames[in.Byte() % kNameCount];
    default: return in.Bytes(in.Byte() % 48);
  }
}

// A path to ask about: a tree path, sometimes with ".", ".." or a trailing slash.
std::string QueryPath(Input& in) {
  std::vector<std::string> parts = Components(in);
  uint8_t twist = in.Byte();
  if (twist % 5 == 1) parts.insert(parts.begin() + (twist / 5) % parts.size(), "..");
  if (twist % 5 == 2) parts.insert(parts.begin() + (twist / 5) % parts.size(), ".");
  std::string path = Join(parts, true);
  if (twist % 5 == 3) path += "/";
  if (twist % 5 == 4) path = "/";
  return path;
}

// Opens the directory holding the last component of `parts` under `top`, creating the
// directories on the way; never follows a link. -1 when a component is not a directory.
int ParentDir(int top, const std::vector<std::string>& parts) {
  int fd = ::dup(top);
  for (size_t i = 0; fd >= 0 && i + 1 < parts.size(); ++i) {
    ::mkdirat(fd, parts[i].c_str(), 0755);
    int next = ::openat(fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(fd);
    fd = next;
  }
  return fd;
}

void Build(Input& in, int top) {
  int ops = in.Byte() % 32;
  for (int op = 0; op < ops && !in.empty(); ++op) {
    int kind = in.Byte() % 5;
    std::vector<std::string> parts = Components(in);
    int dir = ParentDir(top, parts);
    const char* name = parts.back().c_str();
    std::string body;
    bool write = false;
    switch (kind) {
      case 0: if (dir >= 0) ::mkdirat(dir, name, 0755); break;
      case 1: {
        uint8_t how = in.Byte();
        if (how % 2 == 0) {
          body = in.Bytes(how / 2);
        } else {
          body.assign(in.U16() % 8192, static_cast<char>(in.Byte()));
        }
        write = true;
        break;
      }
      case 2: {
        std::string target = Target(in);
        if (dir >= 0 && !target.empty() && target.find('\0') == std::string::npos)
          (void)!::symlinkat(target.c_str(), dir, name);
        break;
      }
      case 3: body = Target(in); write = true; break;  // a flattened link: the target, no newline
      default: if (dir >= 0) ::mkfifoat(dir, name, 0644); break;
    }
    if (write && dir >= 0) {
      int fd = ::openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK |
                                       O_CLOEXEC, 0644);
      if (fd >= 0) {
        struct stat st;
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
          (void)!::write(fd, body.data(), body.size());
        ::close(fd);
      }
    }
    if (dir >= 0) ::close(dir);
  }
}

void Query(Input& in, const dlrig::Root& root) {
  for (int q = 0; q < 64 && !in.empty(); ++q) {
    int method = in.Byte() % 9;
    std::string path = QueryPath(in);
    switch (method) {
      case 0: (void)root.ReadFile(path, 1 + in.U16()); break;
      case 1: (void)root.ReadLine(path); break;
      case 2: (void)root.ListDir(path); break;
      case 3: (void)root.ReadLink(path); break;
      case 4: (void)root.Resolve(path); break;
      case 5: (void)root.Stat(path); break;
      case 6: (void)root.LStat(path); break;
      case 7: (void)root.IsDir(path); break;
      default: {
        auto file = root.OpenFile(path);
        uint64_t offset = in.U16(), n = in.Byte();
        if (!file) break;
        char buf[256];
        (void)file->ReadAt(offset, buf, n);
        (void)file->ReadAt(0, buf, std::min<uint64_t>(n, file->size_bytes()));
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string dir = (std::filesystem::temp_directory_path() / "dlrig-root-fuzz-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return 0;
  int top = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top >= 0) {
    Input in(data, size);
    Build(in, top);
    ::close(top);
    if (auto root = dlrig::Root::Open(dir)) Query(in, *root);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // does not follow links
  return 0;
}
