#include "plan/write_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

Result<void> WriteTemp(const std::string& path, const GeneratedFile& file) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, file.executable ? 0755 : 0644);
  if (fd < 0) return tl::unexpected(Errno("cannot create", path));
  size_t done = 0;
  while (done < file.text.size()) {
    ssize_t n = ::write(fd, file.text.data() + done, file.text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = Errno("cannot write", path);
      ::close(fd);
      return tl::unexpected(e);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return tl::unexpected(Errno("cannot write", path));
  return {};
}

}  // namespace

Result<std::vector<std::string>> WriteFiles(const std::string& dir,
                                            const std::vector<GeneratedFile>& files,
                                            Overwrite overwrite) {
  std::vector<std::string> finals, temps, made;
  std::vector<bool> existed;
  for (const GeneratedFile& f : files) {
    std::string path = dir + "/" + f.path;
    struct stat st{};
    existed.push_back(::lstat(path.c_str(), &st) == 0);
    if (existed.back() && overwrite == Overwrite::kNo)
      return Fail(ErrorKind::kIo, path + " already exists; nothing was written (use --force to replace it)");
    finals.push_back(path);
  }
  auto undo = [&](Error e) -> Result<std::vector<std::string>> {
    for (const std::string& t : temps) ::unlink(t.c_str());
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    return tl::unexpected(std::move(e));
  };
  for (size_t i = 0; i < files.size(); ++i) {
    if (auto ok = MakeDirs(Parent(finals[i]), made); !ok) return undo(ok.error());
    std::string temp = Parent(finals[i]) + "/.dlrig-plan-" + std::to_string(::getpid()) + "-" +
                       std::to_string(i) + ".tmp";
    temps.push_back(temp);
    if (auto ok = WriteTemp(temp, files[i]); !ok) return undo(ok.error());
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (::rename(temps[i].c_str(), finals[i].c_str()) != 0) {
      Error e = Errno("cannot rename into place", finals[i]);
      bool replaced = false;
      for (size_t j = 0; j < i; ++j) {
        if (!existed[j]) ::unlink(finals[j].c_str());  // new: take it away again
        replaced = replaced || existed[j];
      }
      if (replaced) e.message += " (files renamed before it were already replaced)";
      temps.erase(temps.begin(), temps.begin() + static_cast<long>(i));
      return undo(e);
    }
  }
  return finals;
}

}  // namespace dlrig
