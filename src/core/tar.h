// A gzip-compressed ustar archive writer (GNU long-name records for paths over 100 bytes).
// Written to a temporary file and renamed into place, so a failed capture loses nothing.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace dlrig {

class TarWriter {
 public:
  /// Starts writing `path` (via `path`.tmp).
  static Result<TarWriter> Create(const std::string& path);
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
  TarWriter(std::string path, void* gz) : path_(std::move(path)), gz_(gz) {}
  Result<void> Header(std::string_view name, char type, uint64_t size, unsigned mode,
                      std::string_view link);
  Result<void> Write(const void* data, size_t n);
  std::string path_;
  void* gz_;  ///< gzFile
};

}  // namespace dlrig
