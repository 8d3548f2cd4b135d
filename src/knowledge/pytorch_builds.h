// What the official PyTorch Linux x86_64 wheels were built for (data/pytorch.toml): each
// release's CUDA variants, PyPI's default variant, Python range, matching torchvision and
// torchaudio, and the GPU architectures compiled into each variant. For judging an installed
// torch against the GPU ("no kernel image"), the driver, and its companion packages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

/// One entry of TORCH_CUDA_ARCH_LIST: "8.6" is {8, 6, false}; "12.0+PTX" is {12, 0, true}
/// (cubins for 12.0 plus PTX the driver can JIT for newer GPUs).
struct CudaArch {
  int major = 0;
  int minor = 0;
  bool ptx = false;
  bool operator==(const CudaArch&) const = default;
};

/// Parses "5.0;6.0;9.0+PTX"; kMalformed unless every entry is "M.m" or "M.m+PTX" and the list
/// is strictly ascending.
Result<std::vector<CudaArch>> ParseArchList(std::string_view text);

struct TorchRelease {
  Version version;                         ///< "2.5": every 2.5.x
  /// Every final X.Y.Z PyPI serves for the release, oldest first ("2.14.0", "2.14.1"): what an
  /// exact pin may name; empty where the table does not list them.
  std::vector<Version> patches;
  Version python_min, python_max;          ///< CPython with wheels, inclusive
  std::vector<std::string> free_threaded;  ///< "3.13" for cp313t wheels
  std::vector<std::string> variants;       ///< "cu118", "cu121", ... (CUDA only)
  std::string pypi_default;                ///< the variant PyPI's untagged wheel is
  std::optional<Version> torchvision;      ///< "0.20"
  std::optional<Version> torchaudio;       ///< "2.5"; nullopt: no torchaudio for this release
  /// The newest X.Y.Z of torchvision and torchaudio for the release (PyPI history): with the
  /// newest of `patches`, the exact pins a plan writes when no resolver answers.
  std::optional<Version> torchvision_exact, torchaudio_exact;
  /// Companions whose pinned wheel is one build for every CUDA variant ("torchaudio" where it
  /// is torchaudio 2.11.1, py3-none): pinned without "+cuXYZ" and taken from PyPI.
  std::vector<std::string> untagged;
  bool confirmed = false;                  ///< read in PyTorch's own repositories
  std::string source;
};

struct TorchBuild {
  Version release;              ///< "2.5"
  std::string variant;          ///< "cu124"
  std::vector<CudaArch> archs;  ///< ascending
  std::string arch_list;        ///< as written, "5.0;6.0;...;9.0"
  bool confirmed = false;
  std::string source;
};

class PytorchBuilds {
 public:
  static Result<PytorchBuilds> Parse(std::string_view text);
  /// The built-in table (or the --kb one), parsed once.
  static const Result<PytorchBuilds>& BuiltIn();

  /// The release row of `torch` ("2.5.1+cu124" -> 2.5); nullptr when the table lacks it.
  const TorchRelease* Release(const Version& torch) const;
  /// The arch list of release `torch` built as `variant` ("cu124"); nullptr when unknown.
  const TorchBuild* Find(const Version& torch, std::string_view variant) const;
  /// Same, with the variant read from the version: "+cu124" -> cu124; no local tag -> the
  /// release's PyPI default (PyPI's Linux wheels carry none); "+cpu" or others -> nullptr.
  const TorchBuild* Find(const Version& torch) const;
  /// The CUDA variant `torch` is: "+cuXYZ", or PyPI's default for an untagged version.
  std::optional<std::string> VariantOf(const Version& torch) const;
  /// The torchvision X.Y made for `torch`'s release.
  std::optional<Version> TorchvisionFor(const Version& torch) const;
  /// The torchaudio X.Y made for `torch`'s release.
  std::optional<Version> TorchaudioFor(const Version& torch) const;
  /// The CUDA variants of `torch`'s release; empty when the table lacks it.
  std::vector<std::string> VariantsFor(const Version& torch) const;
  /// The newest X.Y.Z listed for `torch`'s release (what "X.Y.*" resolves to); nullopt when the
  /// table lacks the release or lists no patches.
  std::optional<Version> NewestPatch(const Version& torch) const;

  const std::vector<TorchRelease>& releases() const { return releases_; }
  const std::vector<TorchBuild>& builds() const { return builds_; }

 private:
  std::vector<TorchRelease> releases_;  ///< oldest first
  std::vector<TorchBuild> builds_;
};

/// The CUDA toolkit of a variant name: "cu124" -> 12.4, "cu102" -> 10.2, "cu130" -> 13.0.
std::optional<Version> CudaOfVariant(std::string_view variant);

}  // namespace dlrig
