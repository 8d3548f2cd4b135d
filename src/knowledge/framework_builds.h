// What TensorFlow, JAX and cuDNN were built for and need (data/tensorflow.toml, data/jax.toml,
// data/cudnn.toml): for judging an installed framework against the CUDA, cuDNN and driver found
// on the machine.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

/// One row of TensorFlow's "tested build configurations" (Linux GPU).
struct TensorflowBuild {
  std::string package;  ///< "tensorflow", or "tensorflow_gpu" for 1.x
  Version version;      ///< "2.16.1"
  Version python_min, python_max;
  bool python2 = false;  ///< 2.7 was built too
  std::string compiler;  ///< "gcc" or "clang"
  Version compiler_version;
  Version bazel;
  Version cudnn;  ///< "8.9"
  Version cuda;   ///< "12.3"
  /// The pip extra that brings the CUDA libraries as nvidia-* wheels ("and-cuda", from 2.14);
  /// "" where the release has none (the libraries must come from the system).
  std::string pip_extra;
  bool confirmed = false;
  std::string source;
};

class TensorflowBuilds {
 public:
  static Result<TensorflowBuilds> Parse(std::string_view text);
  static const Result<TensorflowBuilds>& BuiltIn();
  /// The tested configuration of `tf`'s X.Y release ("2.16.2" -> the 2.16.1 row).
  const TensorflowBuild* Find(const Version& tf) const;
  const std::vector<TensorflowBuild>& rows() const { return rows_; }

 private:
  std::vector<TensorflowBuild> rows_;  ///< newest first
};

/// What a JAX CUDA wheel needs, from jaxlib release `since` on (until the next row).
struct JaxCudaNeeds {
  Version since;                       ///< jaxlib release that set these
  int cuda_major = 0;                  ///< 12 for jax-cuda12-plugin
  std::optional<Version> min_cuda;     ///< "12.1"
  std::optional<Version> min_cudnn;    ///< "9.8"
  std::optional<Version> cudnn_below;  ///< "10.0" (exclusive)
  std::optional<Version> min_nccl;
  std::optional<Version> min_driver;              ///< "525.60.13", or "580" as the page has it
  std::optional<Version> min_compute_capability;  ///< "5.2"
  bool confirmed = false;
  std::string source;
};

class JaxBuilds {
 public:
  static Result<JaxBuilds> Parse(std::string_view text);
  static const Result<JaxBuilds>& BuiltIn();
  /// The needs of jaxlib `jaxlib` built for CUDA `cuda_major`; nullptr when older than the
  /// table or the major is unknown.
  const JaxCudaNeeds* For(const Version& jaxlib, int cuda_major) const;
  const std::vector<JaxCudaNeeds>& rows() const { return rows_; }

 private:
  std::vector<JaxCudaNeeds> rows_;  ///< by since, oldest first
};

/// CUDA toolkits major.minor from `first` to `last`, inclusive.
struct CudaRange {
  Version first, last;
};

struct CudnnRow {
  Version first, last;  ///< cuDNN releases covered; "8.2" covers every 8.2.x
  std::vector<CudaRange> cuda;
  bool cuda_list_complete = true;     ///< false: a CUDA missing from `cuda` is unknown
  std::map<int, Version> min_driver;  ///< by CUDA major
  std::optional<Version> compute_capability_min, compute_capability_max;
  bool confirmed = false;
  std::string source;
};

/// Where a cuDNN release defines CUDNN_MAJOR / CUDNN_MINOR / CUDNN_PATCHLEVEL.
struct CudnnHeader {
  std::string file;  ///< "cudnn_version.h"
  std::optional<int> since_major, until_major;
  bool confirmed = false;
  std::string source;
};

/// CUDNN_VERSION as an integer: major * major_factor + minor * 100 + patch.
struct CudnnEncoding {
  std::optional<int> since_major, until_major;
  int major_factor = 0;
  bool confirmed = false;
  std::string source;
};

class CudnnTable {
 public:
  static Result<CudnnTable> Parse(std::string_view text);
  static const Result<CudnnTable>& BuiltIn();
  /// Was cuDNN `cudnn` (a full release, "9.10.2") built for CUDA `cuda` ("12.8")? nullopt when
  /// the table has no row for that release, or its row lists only some toolkits.
  std::optional<bool> SupportsCuda(const Version& cudnn, const Version& cuda) const;
  /// The Linux driver floor of `cudnn` on CUDA `cuda_major`, where its support matrix gives one.
  std::optional<Version> MinDriver(const Version& cudnn, int cuda_major) const;
  /// Decodes CUDNN_VERSION / torch.backends.cudnn.version(): 90100 -> 9.1.0, 8905 -> 8.9.5.
  std::optional<Version> FromInt(long value) const;
  /// The header that holds the version macros of cuDNN `major`.
  std::optional<std::string> HeaderFor(int major) const;

  const std::vector<CudnnRow>& rows() const { return rows_; }
  const std::vector<CudnnHeader>& headers() const { return headers_; }
  const std::vector<CudnnEncoding>& encodings() const { return encodings_; }

 private:
  std::vector<CudnnRow> rows_;
  std::vector<CudnnHeader> headers_;
  std::vector<CudnnEncoding> encodings_;
};

}  // namespace dlrig
