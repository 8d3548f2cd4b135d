#include "plan/check_images.h"

#include "plan/check.h"

namespace dlrig {

namespace {

std::string FlavorOf(const std::string& tag) {
  for (const char* f : {"devel", "runtime", "base"}) {
    std::string dash = std::string("-") + f;
    size_t pos = tag.find(dash);
    if (pos != std::string::npos &&
        (pos + dash.size() == tag.size() || tag[pos + dash.size()] == '-'))
      return f;
  }
  return "";
}

}  // namespace

ImageFacts ReadImage(const ImageRef& image) {
  ImageFacts f;
  const std::string& n = image.name;
  if (n == "nvidia/cuda" || n.ends_with("/nvidia/cuda")) {
    f.family = ImageFacts::Family::kNvidiaCuda;
    f.cuda = Version::Parse(image.tag.substr(0, image.tag.find('-')));
  } else if (n == "pytorch/pytorch") {
    f.family = ImageFacts::Family::kPytorch;
    f.torch = Version::Parse(image.tag.substr(0, image.tag.find('-')));
    size_t c = image.tag.find("-cuda");
    if (c != std::string::npos) {
      std::string rest = image.tag.substr(c + 5);
      f.cuda = Version::Parse(rest.substr(0, rest.find('-')));
    }
  } else {
    return f;
  }
  if (f.cuda && !f.cuda->suffix.empty()) f.cuda.reset();
  f.flavor = FlavorOf(image.tag);
  if (f.flavor == "devel")
    f.has_nvcc = true;
  else if (!f.flavor.empty())
    f.has_nvcc = false;
  return f;
}

std::string DevelFromLine(const ImageRef& image) {
  std::string flavor = FlavorOf(image.tag);
  if (flavor.empty() || flavor == "devel") return "";
  // The line as written: its tag may still hold an ARG ("${CUDA}-cudnn-runtime-ubuntu22.04").
  size_t tag = image.at.text.find(':');
  size_t pos = image.at.text.find("-" + flavor, tag == std::string::npos ? 0 : tag);
  if (pos == std::string::npos) return "";
  std::string line = image.at.text.str();
  line.replace(pos, flavor.size() + 1, "-devel");
  return line;
}

}  // namespace dlrig
