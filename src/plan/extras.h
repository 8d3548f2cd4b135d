// The extension packages people add to a torch stack (data/extras.toml): flash-attn,
// flash-attn-3, bitsandbytes, deepspeed, apex, vllm, xformers. What GPU code each release
// carries, where its binaries come from, the torch it is built against, and how a source build
// must match torch's CUDA. Read by the constraint functions (plan/judge.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"
#include "knowledge/pytorch_builds.h"

namespace dlrig {

/// How a release reaches the machine.
enum class ExtraBuild {
  kWheel,         ///< PyPI binary wheels
  kReleaseWheel,  ///< PyPI sdist whose setup.py fetches a prebuilt wheel, else compiles
  kSource,        ///< compiled at install
  kJit,           ///< compiled at first use
};

/// One [[extra]] row: a release series from `since` until the next row of the same package
/// (and, when `cuda_first` is set, only under a torch built for a CUDA in [cuda_first,
/// cuda_last]).
struct ExtraRow {
  std::string package;
  Version since;
  std::optional<Version> last;  ///< the newest release of the series today
  std::optional<Version> cuda_first, cuda_last;
  std::vector<CudaArch> archs;  ///< GPU code in the binaries; empty when not tabled
  std::string arch_list;        ///< as written
  std::optional<Version> min_cc, max_cc;
  ExtraBuild build = ExtraBuild::kWheel;
  std::string wheel_url;                  ///< "{version}" replaced by the release
  std::vector<std::string> wheel_torch;   ///< torch "X.Y" with a prebuilt wheel
  std::vector<Version> wheel_cuda;        ///< one toolkit per CUDA major
  std::vector<std::string> wheel_python;  ///< CPython "X.Y"
  std::optional<Version> torch_min, torch_below;
  std::optional<Version> min_nvcc;
  std::string nvcc_match;          ///< "major", "minor" or ""
  std::vector<int> nvcc_minor_ok;  ///< CUDA majors where a minor mismatch is accepted
  std::string arch_env;            ///< "TORCH_CUDA_ARCH_LIST", "FLASH_ATTN_CUDA_ARCHS", ""
  std::vector<int> arch_codes;     ///< 80, 90, ... when arch_env takes codes
  std::optional<int> max_jobs;     ///< MAX_JOBS the project recommends for a build
  bool confirmed = false;
  std::string note;
  std::string source;
};

/// One [[pin]] row: the torch requirement of one release's PyPI wheel.
struct ExtraPin {
  std::string package;
  Version version;
  std::string torch;   ///< the specifier as written: "==2.5.1", ">=2.10"
  std::string python;  ///< Requires-Python as written, "" when absent
  std::string source;
};

/// One [[cuda_extra]] row: the extra of a framework wheel that pulls NVIDIA's CUDA wheels.
struct CudaWheelExtra {
  std::string package;  ///< "tensorflow"
  std::string extra;    ///< "and-cuda"
  Version since;        ///< the first release that has it
  std::string source;
};

/// PEP 440 order for X.Y.Z[.postN] (local tags and pre-releases beyond that are ignored):
/// "0.0.28.post1" > "0.0.28"; the plain Version comparison ignores ".post1".
std::strong_ordering ComparePackageVersions(const Version& a, const Version& b);

/// Does `v` satisfy a comma-separated specifier ("==2.5.1", ">=2.3,<3", "==2.1.*")? nullopt
/// when an operator is not understood.
std::optional<bool> Satisfies(const Version& v, std::string_view specifier);

class Extras {
 public:
  static Result<Extras> Parse(std::string_view text);
  /// The built-in (or --kb) data/extras.toml, parsed once.
  static const Result<Extras>& BuiltIn();

  /// Is `package` (PEP 503 name) in the table?
  bool Knows(std::string_view package) const;
  /// The row covering `version` of `package` under a torch built for `torch_cuda`; with an
  /// unknown CUDA (nullopt) only a row without a CUDA range. nullptr when none covers it.
  const ExtraRow* Row(std::string_view package, const Version& version,
                      const std::optional<Version>& torch_cuda) const;
  /// Every row covering `version` of `package` (one per CUDA range).
  std::vector<const ExtraRow*> Rows(std::string_view package, const Version& version) const;
  /// The [[pin]] row of exactly `version`, or nullptr.
  const ExtraPin* Pin(std::string_view package, const Version& version) const;
  /// The [[pin]] rows of `package`, oldest first.
  std::vector<const ExtraPin*> Pins(std::string_view package) const;
  /// The newest release the table knows of `package` (a pin, a row's since or last).
  std::optional<Version> Newest(std::string_view package) const;
  /// Releases worth suggesting, oldest first: every pin and each row's last (its since
  /// when it has none).
  std::vector<Version> Releases(std::string_view package) const;
  /// The [[cuda_extra]] row of `package`, or nullptr.
  const CudaWheelExtra* CudaExtra(std::string_view package) const;

  const std::vector<ExtraRow>& rows() const { return rows_; }
  const std::vector<ExtraPin>& pins() const { return pins_; }

 private:
  std::vector<ExtraRow> rows_;  ///< by package, then since
  std::vector<ExtraPin> pins_;  ///< by package, then version
  std::vector<CudaWheelExtra> cuda_extras_;
};

}  // namespace dlrig
