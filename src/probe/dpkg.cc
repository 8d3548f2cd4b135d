#include "probe/dpkg.h"

#include <algorithm>

#include "core/strings.h"

namespace dlrig {
namespace {

constexpr const char* kStatusPath = "/var/lib/dpkg/status";
constexpr size_t kChunkBytes = 1u << 20;
constexpr uint64_t kMaxStatusBytes = 256ull << 20;  ///< beyond this the file is not a status file
constexpr size_t kMaxLineBytes = 1u << 20;          ///< longer lines are cut (garbage input)

const char* const kPrefixes[] = {"nvidia-", "cuda-", "libcudnn", "cudnn", "libnccl",
                                 "libnvinfer", "tensorrt", "libnvidia-", "libcublas",
                                 "libnvonnxparsers", "libcuda"};

}  // namespace

bool IsStackPackage(std::string_view name) {
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                     [&](const char* p) { return StartsWith(name, p); });
}

void DpkgStatusParser::Feed(std::string_view chunk) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() < kMaxLineBytes) partial_.append(chunk.substr(0, kMaxLineBytes));
      return;
    }
    if (partial_.empty()) {
      Line(chunk.substr(0, nl));
    } else {
      if (partial_.size() < kMaxLineBytes) partial_.append(chunk.substr(0, nl));
      Line(partial_);
      partial_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
}

void DpkgStatusParser::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (Trim(line).empty()) return EndRecord();
  if (line[0] == ' ' || line[0] == '\t') return;  // continuation of a long field
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string_view key = line.substr(0, colon);
  std::string value(Trim(line.substr(colon + 1)));
  if (key == "Package") current_.name = std::move(value);
  else if (key == "Version") current_.version = std::move(value);
  else if (key == "Status") current_.status = std::move(value);
}

void DpkgStatusParser::EndRecord() {
  if (!current_.name.empty() && IsStackPackage(current_.name)) {
    auto words = Split(current_.status, ' ');
    current_.installed = !words.empty() && words.back() == "installed";
    current_.held = !words.empty() && words.front() == "hold";
    kept_.push_back(std::move(current_));
  }
  current_ = DpkgPackage{};
}

std::vector<DpkgPackage> DpkgStatusParser::Finish() {
  if (!partial_.empty()) {
    Line(partial_);
    partial_.clear();
  }
  EndRecord();
  std::sort(kept_.begin(), kept_.end(),
            [](const DpkgPackage& a, const DpkgPackage& b) { return a.name < b.name; });
  return std::move(kept_);
}

std::vector<DpkgPackage> ParseDpkgStatus(std::string_view text) {
  DpkgStatusParser parser;
  parser.Feed(text);
  return parser.Finish();
}

std::vector<DpkgPackage> DpkgFacts::WithPrefix(std::string_view prefix) const {
  std::vector<DpkgPackage> out;
  if (!packages) return out;
  for (auto& p : *packages)
    if (p.installed && StartsWith(p.name, prefix)) out.push_back(p);
  return out;
}

const DpkgPackage* DpkgFacts::Find(std::string_view name) const {
  if (!packages) return nullptr;
  for (auto& p : *packages)
    if (p.installed && p.name == name) return &p;
  return nullptr;
}

DpkgFacts ProbeDpkg(const ProbeContext& ctx) {
  DpkgFacts facts;
  auto file = ctx.root.OpenFile(kStatusPath);
  if (!file) {
    facts.packages = tl::unexpected(file.error());
    return facts;
  }
  if (file->size_bytes() > kMaxStatusBytes) {
    facts.packages = Fail(ErrorKind::kTooLarge, std::string(kStatusPath) + " is " +
                                                    HumanBytes(file->size_bytes()));
    return facts;
  }
  DpkgStatusParser parser;
  std::string chunk;
  for (uint64_t offset = 0; offset < file->size_bytes(); offset += chunk.size()) {
    chunk.resize(std::min<uint64_t>(kChunkBytes, file->size_bytes() - offset));
    if (auto read = file->ReadAt(offset, chunk.data(), chunk.size()); !read) {
      facts.packages = Fail(read.error().kind, std::string(kStatusPath) + ": " +
                                                   read.error().message);
      return facts;
    }
    parser.Feed(chunk);
  }
  facts.packages = parser.Finish();
  return facts;
}

}  // namespace dlrig
