// What an image tag says about the image: the official nvidia/cuda and pytorch/pytorch tags
// name their CUDA and whether they carry the toolkit (devel) or only the runtime.
#pragma once

#include <optional>
#include <string>

#include "core/version.h"
#include "plan/project_files.h"

namespace dlrig {

struct ImageFacts {
  enum class Family { kOther, kNvidiaCuda, kPytorch };
  Family family = Family::kOther;
  std::optional<Version> cuda;   ///< "12.4.1" of nvidia/cuda:12.4.1-..., "12.1" of ...-cuda12.1-...
  std::optional<Version> torch;  ///< pytorch/pytorch:2.3.0-...
  std::string flavor;            ///< "devel", "runtime", "base", "" when the tag does not say
  std::optional<bool> has_nvcc;  ///< devel: yes; runtime/base: no; others: unknown
};

/// Reads nvidia/cuda:X.Y.Z-[cudnnN-]{base,runtime,devel}-OS and
/// pytorch/pytorch:T-cudaX.Y-cudnnN-{runtime,devel}; other images give Family::kOther.
ImageFacts ReadImage(const ImageRef& image);
/// The FROM line with the runtime/base flavour made devel; "" when the tag has no flavour.
std::string DevelFromLine(const ImageRef& image);

}  // namespace dlrig
