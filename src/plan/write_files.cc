#include "plan/write_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/atomic_file.h"

namespace dlrig {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Error Errno(const std::string& what, const std::string& path) {
  int err = errno;
  return Error{ErrorKindFromErrno(err), what + " " + path + ": " + std::strerror(err)};
}

/// mkdir -p, remembering what it made so a failure can take it away again.
Result<void> MakeDirs(const std::string& dir, std::vector<std::string>& made) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return Fail(ErrorKind::kIo, dir + " exists and is not a directory");
  }
  if (dir != "." && dir != "/" && Parent(dir) != dir)
    if (auto ok = MakeDirs(Parent(dir), made); !ok) return ok;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return tl::unexpected(Errno("cannot create directory", dir));
  made.push_back(dir);
  return {};
}

}  // namespace

Result<std::vector<std::string>> WriteFiles(const std::string& dir,
                                            const std::vector<GeneratedFile>& files,
                                            Overwrite overwrite) {
  std::vector<std::string> finals, made;
  std::vector<bool> existed;
  for (const GeneratedFile& f : files) {
    std::string path = dir + "/" + f.path;
    struct stat st{};
    existed.push_back(::lstat(path.c_str(), &st) == 0);
    if (existed.back() && overwrite == Overwrite::kNo)
      return Fail(ErrorKind::kIo, path + " already exists; nothing was written (use --force to replace it)");
    // A link, a directory or a device in the way is refused even with --force.
    if (auto ok = CheckWritableTarget(path); !ok) return tl::unexpected(ok.error());
    finals.push_back(path);
  }
  std::vector<AtomicFile> temps;
  auto undo = [&](Error e) -> Result<std::vector<std::string>> {
    for (AtomicFile& t : temps) t.Discard();
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    return tl::unexpected(std::move(e));
  };
  for (size_t i = 0; i < files.size(); ++i) {
    if (auto ok = MakeDirs(Parent(finals[i]), made); !ok) return undo(ok.error());
    auto temp = AtomicFile::Create(finals[i], files[i].executable ? 0755 : 0644);
    if (!temp) return undo(temp.error());
    temps.push_back(std::move(*temp));
    if (auto ok = temps.back().Write(files[i].text); !ok) return undo(ok.error());
    if (auto ok = temps.back().Close(); !ok) return undo(ok.error());
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (auto ok = temps[i].Publish(); !ok) {
      Error e = ok.error();
      bool replaced = false;
      for (size_t j = 0; j < i; ++j) {
        if (!existed[j]) ::unlink(finals[j].c_str());  // new: take it away again
        replaced = replaced || existed[j];
      }
      if (replaced) e.message += " (files renamed before it were already replaced)";
      return undo(e);
    }
  }
  return finals;
}

}  // namespace dlrig
