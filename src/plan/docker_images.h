// Official CUDA container images a plan may start FROM (data/docker-images.toml).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/version.h"

namespace dlrig {

struct DockerImage {
  std::string image;   ///< "nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04"
  Version cuda;        ///< "12.1"
  std::string flavor;  ///< "base", "runtime", "devel"
  std::string os;      ///< "ubuntu-22.04"
  Version python3;     ///< "3.10": the distribution's python3
  bool confirmed = true;
  std::vector<std::string> sources;
};

class DockerImages {
 public:
  static Result<DockerImages> Parse(std::string_view text);
  static const Result<DockerImages>& BuiltIn();
  const std::vector<DockerImage>& rows() const { return rows_; }

 private:
  std::vector<DockerImage> rows_;  ///< as in the file
};

}  // namespace dlrig
