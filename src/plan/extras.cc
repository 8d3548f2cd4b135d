#include "plan/extras.h"

#include <algorithm>

#include "core/strings.h"
#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"
#include "plan/project_files.h"

namespace dlrig {

namespace {

constexpr std::string_view kFile = "extras.toml";

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(';', pos);
    std::string_view item = Trim(text.substr(pos, end == std::string_view::npos ? end : end - pos));
    if (!item.empty()) out.emplace_back(item);
    pos = end == std::string_view::npos ? text.size() : end + 1;
  }
  return out;
}

std::optional<Version> OptVersion(RowReader& r, std::string_view key) {
  std::string text = r.String(key, Need::kOptional);
  if (text.empty()) return std::nullopt;
  auto v = Version::Parse(text);
  if (!v) r.Problem(std::string(key) + " is not a version: " + text);
  return v;
}

std::optional<ExtraBuild> ParseBuild(std::string_view s) {
  if (s == "wheel") return ExtraBuild::kWheel;
  if (s == "release-wheel") return ExtraBuild::kReleaseWheel;
  if (s == "source") return ExtraBuild::kSource;
  if (s == "jit") return ExtraBuild::kJit;
  return std::nullopt;
}

std::vector<int> Ints(RowReader& r, std::string_view key) {
  std::vector<int> out;
  for (const std::string& s : SplitList(r.String(key, Need::kOptional))) {
    auto v = Version::Parse(s);
    if (!v || v->parts.size() != 1) {
      r.Problem(std::string(key) + " holds a non-integer: " + s);
      continue;
    }
    out.push_back(v->major());
  }
  return out;
}

Result<ExtraRow> ReadExtra(const toml::table& t, size_t index) {
  ExtraRow row;
  RowReader r(t, std::string(kFile) + " [[extra]] " + RowOrdinal(index));
  row.package = NormalizePackageName(r.String("package", Need::kRequired));
  if (auto v = r.Ver("since", Need::kRequired)) row.since = *v;
  row.last = OptVersion(r, "last");
  row.cuda_first = OptVersion(r, "cuda_first");
  row.cuda_last = OptVersion(r, "cuda_last");
  row.arch_list = r.String("archs", Need::kOptional);
  if (!row.arch_list.empty()) {
    auto archs = ParseArchList(row.arch_list);
    if (archs)
      row.archs = std::move(*archs);
    else
      r.Problem(archs.error().message);
  }
  row.min_cc = OptVersion(r, "min_cc");
  row.max_cc = OptVersion(r, "max_cc");
  std::string build = r.String("build", Need::kRequired);
  if (auto b = ParseBuild(build))
    row.build = *b;
  else
    r.Problem("build is not wheel|release-wheel|source|jit: " + build);
  row.wheel_url = r.String("wheel_url", Need::kOptional);
  row.wheel_torch = SplitList(r.String("wheel_torch", Need::kOptional));
  for (const std::string& s : SplitList(r.String("wheel_cuda", Need::kOptional)))
    if (auto v = Version::Parse(s))
      row.wheel_cuda.push_back(*v);
    else
      r.Problem("wheel_cuda holds a non-version: " + s);
  row.wheel_python = SplitList(r.String("wheel_python", Need::kOptional));
  row.torch_min = OptVersion(r, "torch_min");
  row.torch_below = OptVersion(r, "torch_below");
  row.min_nvcc = OptVersion(r, "min_nvcc");
  row.nvcc_match = r.String("nvcc_match", Need::kOptional);
  if (!row.nvcc_match.empty() && row.nvcc_match != "major" && row.nvcc_match != "minor")
    r.Problem("nvcc_match is not major|minor: " + row.nvcc_match);
  row.nvcc_minor_ok = Ints(r, "nvcc_minor_ok");
  row.arch_env = r.String("arch_env", Need::kOptional);
  row.arch_codes = Ints(r, "arch_codes");
  if (auto jobs = r.Int("max_jobs", Need::kOptional)) {
    if (*jobs < 1 || *jobs > 1024) r.Problem("max_jobs is not 1-1024");
    row.max_jobs = static_cast<int>(*jobs);
  }
  row.confirmed = r.Bool("confirmed").value_or(false);
  row.note = r.String("note", Need::kRequired);
  row.source = r.String("source", Need::kRequired);
  if (row.build == ExtraBuild::kReleaseWheel &&
      (row.wheel_torch.empty() || row.wheel_cuda.empty() || row.wheel_url.empty()))
    r.Problem("a release-wheel row needs wheel_url, wheel_torch and wheel_cuda");
  if (row.cuda_first.has_value() != row.cuda_last.has_value())
    r.Problem("cuda_first and cuda_last go together");
  if (auto ok = r.Finish(); !ok) return tl::unexpected(ok.error());
  return row;
}

Result<ExtraPin> ReadPin(const toml::table& t, size_t index) {
  ExtraPin pin;
  RowReader r(t, std::string(kFile) + " [[pin]] " + RowOrdinal(index));
  pin.package = NormalizePackageName(r.String("package", Need::kRequired));
  if (auto v = r.Ver("version", Need::kRequired)) pin.version = *v;
  pin.torch = r.String("torch", Need::kRequired);
  pin.python = r.String("python", Need::kOptional);
  pin.source = r.String("source", Need::kRequired);
  if (!pin.torch.empty() && !Satisfies(*Version::Parse("0"), pin.torch).has_value())
    r.Problem("torch is not a specifier dlrig reads: " + pin.torch);
  if (auto ok = r.Finish(); !ok) return tl::unexpected(ok.error());
  return pin;
}

// ".post3" -> 3; none -> -1.
int PostRelease(const Version& v) {
  std::string_view s = v.suffix;
  if (s.starts_with('.')) s.remove_prefix(1);
  if (!s.starts_with("post")) return -1;
  s.remove_prefix(4);
  auto n = Version::Parse(s);
  return n ? n->major() : 0;
}

bool InCudaRange(const ExtraRow& row, const std::optional<Version>& cuda) {
  if (!row.cuda_first) return true;
  if (!cuda) return false;
  Version mm = *Version::Parse(cuda->MajorMinor());
  return mm >= *row.cuda_first && mm <= *row.cuda_last;
}

}  // namespace

std::strong_ordering ComparePackageVersions(const Version& a, const Version& b) {
  if (auto c = a <=> b; c != 0) return c;
  return PostRelease(a) <=> PostRelease(b);
}

std::optional<bool> Satisfies(const Version& v, std::string_view specifier) {
  size_t pos = 0;
  bool all = true;
  while (pos <= specifier.size()) {
    size_t end = specifier.find(',', pos);
    std::string_view clause =
        Trim(specifier.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? specifier.size() + 1 : end + 1;
    if (clause.empty()) continue;
    size_t op_end = clause.find_first_not_of("<>=!~");
    if (op_end == 0 || op_end == std::string_view::npos) return std::nullopt;
    std::string_view op = clause.substr(0, op_end), text = Trim(clause.substr(op_end));
    bool prefix = text.ends_with(".*");
    if (prefix) text.remove_suffix(2);
    auto want = Version::Parse(text);
    if (!want) return std::nullopt;
    auto c = ComparePackageVersions(v, *want);
    bool ok;
    if (prefix && (op == "==" || op == "!=")) {
      bool same = true;
      for (size_t i = 0; i < want->parts.size(); ++i)
        same = same && i < v.parts.size() && v.parts[i] == want->parts[i];
      ok = op == "==" ? same : !same;
    } else if (op == "==" || op == "===") {
      ok = c == 0;
    } else if (op == "!=") {
      ok = c != 0;
    } else if (op == ">=") {
      ok = c >= 0;
    } else if (op == "<=") {
      ok = c <= 0;
    } else if (op == ">") {
      ok = c > 0;
    } else if (op == "<") {
      ok = c < 0;
    } else if (op == "~=") {
      if (want->parts.size() < 2) return std::nullopt;
      Version upper = *want;
      upper.parts.pop_back();
      upper.parts.back() += 1;
      upper.suffix.clear();
      ok = c >= 0 && v < upper;
    } else {
      return std::nullopt;
    }
    all = all && ok;
  }
  return all;
}

Result<Extras> Extras::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  Extras table;
  for (const char* key : {"extra", "pin", "cuda_extra"})
    if (doc->get(key) != nullptr && doc->get(key)->as_array() == nullptr)
      return Fail(ErrorKind::kMalformed, std::string(kFile) + ": " + key + " is not an array");
  const toml::array* extras = (*doc)["extra"].as_array();
  if (extras == nullptr || extras->empty())
    return Fail(ErrorKind::kMalformed, std::string(kFile) + " has no [[extra]]");
  for (size_t i = 0; i < extras->size(); ++i) {
    const toml::table* t = (*extras)[i].as_table();
    if (t == nullptr)
      return Fail(ErrorKind::kMalformed, std::string(kFile) + ": a row is not a table");
    auto row = ReadExtra(*t, i);
    if (!row) return tl::unexpected(row.error());
    table.rows_.push_back(std::move(*row));
  }
  if (const toml::array* pins = (*doc)["pin"].as_array())
    for (size_t i = 0; i < pins->size(); ++i) {
      const toml::table* t = (*pins)[i].as_table();
      if (t == nullptr)
        return Fail(ErrorKind::kMalformed, std::string(kFile) + ": a row is not a table");
      auto pin = ReadPin(*t, i);
      if (!pin) return tl::unexpected(pin.error());
      table.pins_.push_back(std::move(*pin));
    }
  if (const toml::array* rows = (*doc)["cuda_extra"].as_array())
    for (size_t i = 0; i < rows->size(); ++i) {
      const toml::table* t = (*rows)[i].as_table();
      if (t == nullptr)
        return Fail(ErrorKind::kMalformed, std::string(kFile) + ": a row is not a table");
      RowReader r(*t, std::string(kFile) + " [[cuda_extra]] " + RowOrdinal(i));
      CudaWheelExtra e;
      e.package = NormalizePackageName(r.String("package", Need::kRequired));
      e.extra = r.String("extra", Need::kRequired);
      if (auto v = r.Ver("since", Need::kRequired)) e.since = *v;
      e.source = r.String("source", Need::kRequired);
      if (auto ok = r.Finish(); !ok) return tl::unexpected(ok.error());
      table.cuda_extras_.push_back(std::move(e));
    }
  std::stable_sort(table.rows_.begin(), table.rows_.end(), [](const auto& a, const auto& b) {
    if (a.package != b.package) return a.package < b.package;
    return ComparePackageVersions(a.since, b.since) < 0;
  });
  std::stable_sort(table.pins_.begin(), table.pins_.end(), [](const auto& a, const auto& b) {
    if (a.package != b.package) return a.package < b.package;
    return ComparePackageVersions(a.version, b.version) < 0;
  });
  return table;
}

const Result<Extras>& Extras::BuiltIn() { return ParseDataFileOnce<Extras>(kFile); }

bool Extras::Knows(std::string_view package) const {
  return std::any_of(rows_.begin(), rows_.end(),
                     [&](const ExtraRow& r) { return r.package == package; });
}

std::vector<const ExtraRow*> Extras::Rows(std::string_view package, const Version& version) const {
  // The newest `since` <= version, then every row with that since (one per CUDA range).
  const Version* since = nullptr;
  for (const ExtraRow& r : rows_)
    if (r.package == package && ComparePackageVersions(r.since, version) <= 0) since = &r.since;
  std::vector<const ExtraRow*> out;
  if (since == nullptr) return out;
  for (const ExtraRow& r : rows_)
    if (r.package == package && ComparePackageVersions(r.since, *since) == 0) out.push_back(&r);
  return out;
}

const ExtraRow* Extras::Row(std::string_view package, const Version& version,
                            const std::optional<Version>& torch_cuda) const {
  for (const ExtraRow* r : Rows(package, version))
    if (InCudaRange(*r, torch_cuda)) return r;
  return nullptr;
}

const ExtraPin* Extras::Pin(std::string_view package, const Version& version) const {
  for (const ExtraPin& p : pins_)
    if (p.package == package && ComparePackageVersions(p.version, version) == 0) return &p;
  return nullptr;
}

std::vector<const ExtraPin*> Extras::Pins(std::string_view package) const {
  std::vector<const ExtraPin*> out;
  for (const ExtraPin& p : pins_)
    if (p.package == package) out.push_back(&p);
  return out;
}

std::optional<Version> Extras::Newest(std::string_view package) const {
  std::optional<Version> newest;
  auto consider = [&](const Version& v) {
    if (!newest || ComparePackageVersions(v, *newest) > 0) newest = v;
  };
  for (const ExtraPin& p : pins_)
    if (p.package == package) consider(p.version);
  for (const ExtraRow& r : rows_)
    if (r.package == package) consider(r.last ? *r.last : r.since);
  return newest;
}

std::vector<Version> Extras::Releases(std::string_view package) const {
  std::vector<Version> out;
  for (const ExtraPin& p : pins_)
    if (p.package == package) out.push_back(p.version);
  for (const ExtraRow& r : rows_)
    if (r.package == package) out.push_back(r.last ? *r.last : r.since);
  std::stable_sort(out.begin(), out.end(), [](const Version& a, const Version& b) {
    return ComparePackageVersions(a, b) < 0;
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Version& a, const Version& b) {
                          return ComparePackageVersions(a, b) == 0;
                        }),
            out.end());
  return out;
}

const CudaWheelExtra* Extras::CudaExtra(std::string_view package) const {
  for (const CudaWheelExtra& e : cuda_extras_)
    if (e.package == package) return &e;
  return nullptr;
}

}  // namespace dlrig
