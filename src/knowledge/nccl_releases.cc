#include "knowledge/nccl_releases.h"

#include <algorithm>

#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

constexpr std::string_view kFile = "nccl.toml";

bool SameRelease(const Version& a, const Version& b) {
  return a.major() == b.major() && a.minor() == b.minor();
}

/// An ascending list of X.Y.Z of `release`, or a problem recorded on `row`.
std::vector<Version> Wheels(RowReader& row, std::string_view key, const Version& release) {
  std::vector<Version> out;
  for (const auto& text : row.Strings(key, Need::kOptional)) {
    auto v = Version::Parse(text);
    if (!v || !v->suffix.empty() || v->parts.size() != 3 || !SameRelease(*v, release) ||
        (!out.empty() && !(out.back() < *v))) {
      row.Problem("has " + std::string(key) + " entry '" + text + "', not an ascending " +
                  release.text + ".Z");
      return out;
    }
    out.push_back(*v);
  }
  return out;
}

Result<NcclRelease> ReadRow(const toml::table& table, size_t index, const SourceMap&) {
  std::string where = std::string(kFile) + " [[nccl]] " + RowOrdinal(index);
  if (auto id = table["release"].value<std::string>()) where += " (" + *id + ")";
  RowReader row(table, where);
  NcclRelease r;
  auto release = row.Ver("release", Need::kRequired);
  if (release && (release->parts.size() != 2 || !release->suffix.empty()))
    row.Problem("field 'release' is not X.Y");
  r.release = release.value_or(Version{{0, 0}, "", "0.0"});
  r.cu12 = Wheels(row, "cu12", r.release);
  r.cu13 = Wheels(row, "cu13", r.release);
  r.first_upload = row.String("first_upload", Need::kRequired);
  r.source = row.String("source", Need::kRequired);
  if (release && r.cu12.empty() && r.cu13.empty()) row.Problem("lists no wheel (cu12 or cu13)");
  if (auto done = row.Finish(); !done) return tl::unexpected(done.error());
  return r;
}

}  // namespace

Result<NcclReleases> NcclReleases::Parse(std::string_view text) {
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto rows = ReadRowArray<NcclRelease>(*doc, kFile, "nccl", SourceMap{}, ReadRow);
  if (!rows) return tl::unexpected(rows.error());
  NcclReleases table;
  table.rows_ = std::move(*rows);
  std::sort(table.rows_.begin(), table.rows_.end(),
            [](const NcclRelease& a, const NcclRelease& b) { return a.release < b.release; });
  for (size_t i = 1; i < table.rows_.size(); ++i)
    if (SameRelease(table.rows_[i - 1].release, table.rows_[i].release))
      return Fail(ErrorKind::kMalformed,
                  std::string(kFile) + " lists release " + table.rows_[i].release.text + " twice");
  return table;
}

const Result<NcclReleases>& NcclReleases::BuiltIn() {
  return ParseDataFileOnce<NcclReleases>(kFile);
}

const NcclRelease* NcclReleases::Find(const Version& nccl) const {
  for (const auto& r : rows_)
    if (SameRelease(r.release, nccl)) return &r;
  return nullptr;
}

std::optional<Version> NcclReleases::Newest(int cuda_major) const {
  if (cuda_major != 12 && cuda_major != 13) return std::nullopt;
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
    const auto& wheels = cuda_major == 12 ? it->cu12 : it->cu13;
    if (!wheels.empty()) return wheels.back();
  }
  return std::nullopt;
}

}  // namespace dlrig
