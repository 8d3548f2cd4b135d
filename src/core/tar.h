// A gzip-compressed ustar archive writer (GNU long-name records for paths over 100 bytes).
// Written through an AtomicFile (a fresh temporary beside the target, renamed into place), so a
// failed capture loses nothing and a planted link is never written through.
#pragma once

#include <string>
#include <string_view>

#include "core/atomic_file.h"
#include "core/result.h"

namespace dlrig {

class TarWriter {
 public:
  /// Starts writing `path` (through an AtomicFile with `mode`: 0600 by default, since an
  /// archive holds what was read from the machine).
  static Result<TarWriter> Create(const std::string& path, unsigned mode = 0600);
  TarWriter(TarWriter&& other) noexcept;
  TarWriter(const TarWriter&) = delete;
  ~TarWriter();

  /// `name` is relative ("etc/os-release"); `mode` the permission bits.
  Result<void> AddFile(std::string_view name, std::string_view content, unsigned mode = 0644);
  Result<void> AddDir(std::string_view name, unsigned mode = 0755);
  Result<void> AddSymlink(std::string_view name, std::string_view target);
  /// Writes the end-of-archive blocks and renames the file into place.
  Result<void> Finish();

 private:
  TarWriter(AtomicFile file, void* gz) : file_(std::move(file)), gz_(gz) {}
  Result<void> Header(std::string_view name, char type, uint64_t size, unsigned mode,
                      std::string_view link);
  Result<void> Write(const void* data, size_t n);
  AtomicFile file_;
  void* gz_;  ///< gzFile over a dup() of file_'s descriptor
};

}  // namespace dlrig
