#include "knowledge/pytorch_builds.h"

#include <algorithm>
#include <cctype>

#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "pytorch.toml";

tl::unexpected<Error> Bad(const std::string& where, const std::string& what) {
  return Fail(ErrorKind::kMalformed, where + " " + what);
}

std::string RowName(std::string_view kind, size_t index, const toml::table& row, const char* key) {
  std::string name =
      std::string(kFile) + " [[" + std::string(kind) + "]] #" + std::to_string(index + 1);
  if (auto id = row[key].value<std::string>()) name += " (" + *id + ")";
  return name;
}

/// A version with no suffix ("2.5", "3.10"), or a problem recorded on `row`.
Version PlainVersion(RowReader& row, std::string_view key) {
  auto v = row.Ver(key, Need::kRequired);
  if (v && !v->suffix.empty()) row.Problem("field '" + std::string(key) + "' is not X.Y[.Z]");
  return v.value_or(Version{{0}, "", "0"});
}

std::optional<Version> MaybePlainVersion(RowReader& row, std::string_view key) {
  auto v = row.Ver(key, Need::kOptional);
  if (v && !v->suffix.empty()) row.Problem("field '" + std::string(key) + "' is not X.Y[.Z]");
  return v;
}

bool Confirmed(RowReader& row) {
  auto flag = row.Bool("confirmed");
  if (!flag) row.Problem("lacks required field 'confirmed'");
  return flag.value_or(false);
}

bool SameRelease(const Version& a, const Version& b) {
  return a.major() == b.major() && a.minor() == b.minor();
}

Result<CudaArch> ParseArch(std::string_view entry) {
  CudaArch arch;
  constexpr std::string_view kPtx = "+PTX";
  if (entry.size() > kPtx.size() && entry.substr(entry.size() - kPtx.size()) == kPtx) {
    arch.ptx = true;
    entry.remove_suffix(kPtx.size());
  }
  auto v = Version::Parse(entry);
  if (!v || !v->suffix.empty() || v->parts.size() != 2 || v->text != entry)
    return Fail(ErrorKind::kMalformed, "arch \"" + std::string(entry) + "\" is not M.m[+PTX]");
  arch.major = v->major();
  arch.minor = v->minor();
  return arch;
}

bool Before(const CudaArch& a, const CudaArch& b) {
  return a.major != b.major ? a.major < b.major : a.minor < b.minor;
}

/// `patches`: X.Y.Z of the row's release, strictly ascending.
std::vector<Version> Patches(RowReader& row, const Version& release) {
  std::vector<Version> out;
  for (const auto& text : row.Strings("patches", Need::kOptional)) {
    auto v = Version::Parse(text);
    if (!v || !v->suffix.empty() || v->parts.size() != 3 || !SameRelease(*v, release)) {
      row.Problem("has patch '" + text + "', not " + release.text + ".Z");
      return out;
    }
    if (!out.empty() && !(out.back() < *v)) {
      row.Problem("has patches out of order at '" + text + "'");
      return out;
    }
    out.push_back(*v);
  }
  return out;
}

Result<TorchRelease> ParseRelease(const toml::table& table, const std::string& where) {
  RowReader row(table, where);
  TorchRelease r;
  r.version = PlainVersion(row, "version");
  r.patches = Patches(row, r.version);
  r.python_min = PlainVersion(row, "python_min");
  r.python_max = PlainVersion(row, "python_max");
  r.free_threaded = row.Strings("free_threaded", Need::kOptional);
  r.variants = row.Strings("variants", Need::kRequired);
  r.pypi_default = row.String("pypi_default", Need::kRequired);
  r.torchvision = MaybePlainVersion(row, "torchvision");
  r.torchaudio = MaybePlainVersion(row, "torchaudio");
  r.torchvision_exact = MaybePlainVersion(row, "torchvision_exact");
  r.torchaudio_exact = MaybePlainVersion(row, "torchaudio_exact");
  r.untagged = row.Strings("untagged", Need::kOptional);
  for (const auto& u : r.untagged)
    if (u != "torchvision" && u != "torchaudio") row.Problem("has untagged '" + u + "', not a companion");
  r.confirmed = Confirmed(row);
  r.source = row.String("source", Need::kRequired);
  for (const auto& v : r.variants)
    if (!CudaOfVariant(v)) row.Problem("has variant '" + v + "', not cuXY[Z]");
  if (std::find(r.variants.begin(), r.variants.end(), r.pypi_default) == r.variants.end())
    row.Problem("has pypi_default '" + r.pypi_default + "', not one of its variants");
  if (r.python_max < r.python_min) row.Problem("has python_max below python_min");
  if (auto done = row.Finish(); !done) return tl::unexpected(done.error());
  return r;
}

const TorchRelease* ReleaseIn(const std::vector<TorchRelease>& releases, const Version& torch) {
  for (const auto& r : releases)
    if (SameRelease(r.version, torch)) return &r;
  return nullptr;
}

const TorchBuild* BuildIn(const std::vector<TorchBuild>& builds, const Version& torch,
                          std::string_view variant) {
  for (const auto& b : builds)
    if (SameRelease(b.release, torch) && b.variant == variant) return &b;
  return nullptr;
}

Result<void> AddRelease(const toml::table* row, size_t index, std::vector<TorchRelease>& out) {
  if (row == nullptr) return Bad(RowName("release", index, {}, ""), "is not a table");
  std::string where = RowName("release", index, *row, "version");
  auto release = ParseRelease(*row, where);
  if (!release) return tl::unexpected(release.error());
  if (ReleaseIn(out, release->version) != nullptr) return Bad(where, "lists its release twice");
  out.push_back(std::move(*release));
  return {};
}

/// One [[build]] row becomes a TorchBuild per release it names.
Result<void> AddBuild(const toml::table* row, size_t index,
                      const std::vector<TorchRelease>& releases, std::vector<TorchBuild>& out) {
  if (row == nullptr) return Bad(RowName("build", index, {}, ""), "is not a table");
  std::string where = RowName("build", index, *row, "variant");
  RowReader reader(*row, where);
  auto names = reader.Strings("releases", Need::kRequired);
  std::string variant = reader.String("variant", Need::kRequired);
  std::string list = reader.String("arch_list", Need::kRequired);
  bool confirmed = Confirmed(reader);
  std::string source = reader.String("source", Need::kRequired);
  auto archs = ParseArchList(list);
  if (!archs) reader.Problem("has " + archs.error().message);
  if (auto done = reader.Finish(); !done) return tl::unexpected(done.error());
  for (const auto& name : names) {
    auto v = Version::Parse(name);
    const TorchRelease* release = v ? ReleaseIn(releases, *v) : nullptr;
    if (release == nullptr) return Bad(where, "names release '" + name + "', which has no row");
    const auto& known = release->variants;
    if (std::find(known.begin(), known.end(), variant) == known.end())
      return Bad(where, "names release " + name + ", which has no variant " + variant);
    if (BuildIn(out, *v, variant) != nullptr)
      return Bad(where, "lists " + name + " " + variant + " a second time");
    out.push_back({release->version, variant, *archs, list, confirmed, source});
  }
  return {};
}

}  // namespace

std::optional<Version> CudaOfVariant(std::string_view variant) {
  if (variant.size() < 4 || variant.size() > 6 || variant.substr(0, 2) != "cu") return std::nullopt;
  std::string_view digits = variant.substr(2);
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  std::string text = std::string(digits.substr(0, digits.size() - 1)) + "." + digits.back();
  return Version::Parse(text);
}

Result<std::vector<CudaArch>> ParseArchList(std::string_view text) {
  std::vector<CudaArch> archs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(';', start), text.size());
    auto arch = ParseArch(text.substr(start, end - start));
    if (!arch) return tl::unexpected(arch.error());
    if (!archs.empty() && !Before(archs.back(), *arch))
      return Fail(ErrorKind::kMalformed,
                  "arch list \"" + std::string(text) + "\" is not strictly ascending");
    archs.push_back(*arch);
    start = end + 1;
  }
  return archs;
}

Result<PytorchBuilds> PytorchBuilds::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  const toml::array* releases = (*doc)["release"].as_array();
  const toml::array* builds = (*doc)["build"].as_array();
  if (releases == nullptr || builds == nullptr)
    return Fail(ErrorKind::kMalformed, "pytorch.toml needs [[release]] and [[build]] rows");
  PytorchBuilds table;
  for (size_t i = 0; i < releases->size(); ++i)
    if (auto added = AddRelease(releases->get(i)->as_table(), i, table.releases_); !added)
      return tl::unexpected(added.error());
  for (size_t i = 0; i < builds->size(); ++i)
    if (auto added = AddBuild(builds->get(i)->as_table(), i, table.releases_, table.builds_);
        !added)
      return tl::unexpected(added.error());
  std::sort(table.releases_.begin(), table.releases_.end(),
            [](const TorchRelease& a, const TorchRelease& b) { return a.version < b.version; });
  return table;
}

const Result<PytorchBuilds>& PytorchBuilds::BuiltIn() {
  return ParseDataFileOnce<PytorchBuilds>(kFile);
}

const TorchRelease* PytorchBuilds::Release(const Version& torch) const {
  return ReleaseIn(releases_, torch);
}

const TorchBuild* PytorchBuilds::Find(const Version& torch, std::string_view variant) const {
  return BuildIn(builds_, torch, variant);
}

const TorchBuild* PytorchBuilds::Find(const Version& torch) const {
  auto variant = VariantOf(torch);
  return variant ? Find(torch, *variant) : nullptr;
}

std::optional<std::string> PytorchBuilds::VariantOf(const Version& torch) const {
  if (torch.suffix.empty()) {
    const TorchRelease* r = Release(torch);
    return r ? std::optional<std::string>(r->pypi_default) : std::nullopt;
  }
  size_t plus = torch.suffix.find('+');
  if (plus == std::string::npos) return std::nullopt;
  std::string local = torch.suffix.substr(plus + 1);
  return CudaOfVariant(local) ? std::optional<std::string>(local) : std::nullopt;
}

std::optional<Version> PytorchBuilds::TorchvisionFor(const Version& torch) const {
  const TorchRelease* r = Release(torch);
  return r ? r->torchvision : std::nullopt;
}

std::optional<Version> PytorchBuilds::TorchaudioFor(const Version& torch) const {
  const TorchRelease* r = Release(torch);
  return r ? r->torchaudio : std::nullopt;
}

std::optional<Version> PytorchBuilds::NewestPatch(const Version& torch) const {
  const TorchRelease* r = Release(torch);
  if (r == nullptr || r->patches.empty()) return std::nullopt;
  return r->patches.back();
}

std::vector<std::string> PytorchBuilds::VariantsFor(const Version& torch) const {
  const TorchRelease* r = Release(torch);
  return r ? r->variants : std::vector<std::string>();
}

}  // namespace dlrig
