#include "knowledge/framework_builds.h"

#include <algorithm>
#include <charconv>

#include "core/toml.h"
#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {
namespace {

std::string RowName(std::string_view file, std::string_view kind, size_t index,
                    const toml::table& row, const char* key) {
  std::string name =
      std::string(file) + " [[" + std::string(kind) + "]] #" + std::to_string(index + 1);
  if (auto id = row[key].value<std::string>()) name += " (" + *id + ")";
  return name;
}

/// "2.16.1", "9.3": a version with no suffix, or a problem recorded on `row`.
std::optional<Version> Plain(RowReader& row, std::string_view key, Need need) {
  auto v = row.Ver(key, need);
  if (v && !v->suffix.empty()) row.Problem("field '" + std::string(key) + "' is not X.Y[.Z]");
  return v;
}

Version Required(RowReader& row, std::string_view key) {
  return Plain(row, key, Need::kRequired).value_or(Version{{0}, "", "0"});
}

bool Confirmed(RowReader& row) {
  auto flag = row.Bool("confirmed");
  if (!flag) row.Problem("lacks required field 'confirmed'");
  return flag.value_or(false);
}

std::optional<int> SmallInt(RowReader& row, std::string_view key, Need need) {
  auto value = row.Int(key, need);
  if (value && (*value < 0 || *value > 1000000)) {
    row.Problem("field '" + std::string(key) + "' is out of range");
    return std::nullopt;
  }
  return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
}

bool SameMinor(const Version& a, const Version& b) {
  return a.major() == b.major() && a.minor() == b.minor();
}

/// `v` cut to its first `n` components: "8.2.4" cut to 2 is "8.2".
Version Cut(const Version& v, size_t n) {
  Version out = v;
  if (out.parts.size() > n) out.parts.resize(n);
  return out;
}

/// Does the release range [first, last] hold `v`? A shorter bound covers every longer version
/// under it ("8.2" .. "8.2" holds 8.2.4).
bool Covers(const Version& first, const Version& last, const Version& v) {
  return Cut(v, first.parts.size()) >= first && Cut(v, last.parts.size()) <= last;
}

/// Runs `parse` on each table of [[kind]]; kMalformed for a missing array or a non-table row.
template <class Row, class ParseRow>
Result<std::vector<Row>> ReadRows(const toml::table& doc, std::string_view file, const char* kind,
                                  const char* id_key, ParseRow parse) {
  const toml::array* rows = doc[kind].as_array();
  if (rows == nullptr)
    return Fail(ErrorKind::kMalformed, std::string(file) + " has no [[" + kind + "]] rows");
  std::vector<Row> out;
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* table = rows->get(i)->as_table();
    if (table == nullptr)
      return Fail(ErrorKind::kMalformed, RowName(file, kind, i, {}, "") + " is not a table");
    RowReader reader(*table, RowName(file, kind, i, *table, id_key));
    Row row = parse(reader);
    if (auto done = reader.Finish(); !done) return tl::unexpected(done.error());
    out.push_back(std::move(row));
  }
  return out;
}

TensorflowBuild ParseTensorflow(RowReader& row) {
  TensorflowBuild b;
  b.package = row.String("package", Need::kOptional);
  if (b.package.empty()) b.package = "tensorflow";
  b.version = Required(row, "version");
  b.python_min = Required(row, "python_min");
  b.python_max = Required(row, "python_max");
  b.python2 = row.Bool("python2").value_or(false);
  b.compiler = row.String("compiler", Need::kRequired);
  b.compiler_version = Required(row, "compiler_version");
  b.bazel = Required(row, "bazel");
  b.cudnn = Required(row, "cudnn");
  b.cuda = Required(row, "cuda");
  b.pip_extra = row.String("pip_extra", Need::kOptional);
  b.confirmed = Confirmed(row);
  b.source = row.String("source", Need::kRequired);
  if (b.compiler != "gcc" && b.compiler != "clang")
    row.Problem("has compiler other than gcc/clang");
  if (b.python_max < b.python_min) row.Problem("has python_max below python_min");
  return b;
}

JaxCudaNeeds ParseJax(RowReader& row) {
  JaxCudaNeeds n;
  n.since = Required(row, "since");
  n.cuda_major = SmallInt(row, "cuda_major", Need::kRequired).value_or(0);
  n.min_cuda = Plain(row, "min_cuda", Need::kOptional);
  n.min_cudnn = Plain(row, "min_cudnn", Need::kOptional);
  n.cudnn_below = Plain(row, "cudnn_below", Need::kOptional);
  n.min_nccl = Plain(row, "min_nccl", Need::kOptional);
  n.min_driver = Plain(row, "min_driver", Need::kOptional);
  n.min_compute_capability = Plain(row, "min_compute_capability", Need::kOptional);
  n.confirmed = Confirmed(row);
  n.source = row.String("source", Need::kRequired);
  if (n.min_cuda && n.min_cuda->major() != n.cuda_major)
    row.Problem("has min_cuda outside its cuda_major");
  if (n.min_cudnn && n.cudnn_below && !(*n.min_cudnn < *n.cudnn_below))
    row.Problem("has an empty cuDNN range");
  return n;
}

/// "11.0-11.8" or "12.5".
std::optional<CudaRange> ParseCudaRange(std::string_view text) {
  size_t dash = text.find('-');
  auto first = Version::Parse(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : Version::Parse(text.substr(dash + 1));
  if (!first || !last || !first->suffix.empty() || !last->suffix.empty() || *last < *first)
    return std::nullopt;
  return CudaRange{*first, *last};
}

std::map<int, Version> ParseDrivers(RowReader& row) {
  std::map<int, Version> drivers;
  const toml::table* table = row.Table("min_driver");
  if (table == nullptr) return drivers;
  for (const auto& [key, node] : *table) {
    std::string_view k = key.str();
    int major = 0;
    auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), major);
    auto driver = Version::Parse(node.value_or(std::string()));
    if (ec != std::errc() || end != k.data() + k.size() || !driver)
      row.Problem("has min_driver entry '" + std::string(k) +
                  "' that is not \"MAJOR\" = \"driver\"");
    else
      drivers.emplace(major, *driver);
  }
  return drivers;
}

CudnnRow ParseCudnn(RowReader& row) {
  CudnnRow r;
  r.first = Required(row, "first");
  r.last = Required(row, "last");
  for (const auto& text : row.Strings("cuda", Need::kRequired)) {
    auto range = ParseCudaRange(text);
    if (range)
      r.cuda.push_back(*range);
    else
      row.Problem("has cuda entry '" + text + "' that is not X.Y or X.Y-X.Z");
  }
  r.cuda_list_complete = row.Bool("cuda_list_complete").value_or(true);
  r.min_driver = ParseDrivers(row);
  r.compute_capability_min = Plain(row, "compute_capability_min", Need::kOptional);
  r.compute_capability_max = Plain(row, "compute_capability_max", Need::kOptional);
  r.confirmed = Confirmed(row);
  r.source = row.String("source", Need::kRequired);
  if (Cut(r.last, r.first.parts.size()) < r.first) row.Problem("has last before first");
  return r;
}

CudnnHeader ParseHeader(RowReader& row) {
  CudnnHeader h;
  h.file = row.String("file", Need::kRequired);
  h.since_major = SmallInt(row, "since_major", Need::kOptional);
  h.until_major = SmallInt(row, "until_major", Need::kOptional);
  h.confirmed = Confirmed(row);
  h.source = row.String("source", Need::kRequired);
  if (!h.since_major && !h.until_major) row.Problem("needs since_major or until_major");
  return h;
}

CudnnEncoding ParseEncoding(RowReader& row) {
  CudnnEncoding e;
  e.since_major = SmallInt(row, "since_major", Need::kOptional);
  e.until_major = SmallInt(row, "until_major", Need::kOptional);
  e.major_factor = SmallInt(row, "major_factor", Need::kRequired).value_or(0);
  e.confirmed = Confirmed(row);
  e.source = row.String("source", Need::kRequired);
  if (!e.since_major && !e.until_major) row.Problem("needs since_major or until_major");
  if (e.major_factor != 1000 && e.major_factor != 10000)
    row.Problem("has major_factor not 1000/10000");
  return e;
}

bool InMajors(std::optional<int> since, std::optional<int> until, int major) {
  return (!since || major >= *since) && (!until || major <= *until);
}

}  // namespace

Result<TensorflowBuilds> TensorflowBuilds::Parse(std::string_view text) {
  auto doc = ParseToml(text, "tensorflow.toml");
  if (!doc) return tl::unexpected(doc.error());
  auto rows =
      ReadRows<TensorflowBuild>(*doc, "tensorflow.toml", "tensorflow", "version", ParseTensorflow);
  if (!rows) return tl::unexpected(rows.error());
  TensorflowBuilds table;
  table.rows_ = std::move(*rows);
  std::sort(table.rows_.begin(), table.rows_.end(),
            [](const auto& a, const auto& b) { return a.version > b.version; });
  return table;
}

const Result<TensorflowBuilds>& TensorflowBuilds::BuiltIn() {
  return ParseDataFileOnce<TensorflowBuilds>("tensorflow.toml");
}

const TensorflowBuild* TensorflowBuilds::Find(const Version& tf) const {
  for (const auto& row : rows_)
    if (SameMinor(row.version, tf)) return &row;
  return nullptr;
}

Result<JaxBuilds> JaxBuilds::Parse(std::string_view text) {
  auto doc = ParseToml(text, "jax.toml");
  if (!doc) return tl::unexpected(doc.error());
  auto rows = ReadRows<JaxCudaNeeds>(*doc, "jax.toml", "jax", "since", ParseJax);
  if (!rows) return tl::unexpected(rows.error());
  JaxBuilds table;
  table.rows_ = std::move(*rows);
  std::stable_sort(table.rows_.begin(), table.rows_.end(),
                   [](const auto& a, const auto& b) { return a.since < b.since; });
  return table;
}

const Result<JaxBuilds>& JaxBuilds::BuiltIn() { return ParseDataFileOnce<JaxBuilds>("jax.toml"); }

const JaxCudaNeeds* JaxBuilds::For(const Version& jaxlib, int cuda_major) const {
  const JaxCudaNeeds* found = nullptr;
  for (const auto& row : rows_)
    if (row.cuda_major == cuda_major && row.since <= jaxlib) found = &row;
  return found;
}

Result<CudnnTable> CudnnTable::Parse(std::string_view text) {
  auto doc = ParseToml(text, "cudnn.toml");
  if (!doc) return tl::unexpected(doc.error());
  auto rows = ReadRows<CudnnRow>(*doc, "cudnn.toml", "cudnn", "first", ParseCudnn);
  if (!rows) return tl::unexpected(rows.error());
  auto headers = ReadRows<CudnnHeader>(*doc, "cudnn.toml", "header", "file", ParseHeader);
  if (!headers) return tl::unexpected(headers.error());
  auto encodings = ReadRows<CudnnEncoding>(*doc, "cudnn.toml", "encoding", "", ParseEncoding);
  if (!encodings) return tl::unexpected(encodings.error());
  CudnnTable table;
  table.rows_ = std::move(*rows);
  table.headers_ = std::move(*headers);
  table.encodings_ = std::move(*encodings);
  return table;
}

const Result<CudnnTable>& CudnnTable::BuiltIn() { return ParseDataFileOnce<CudnnTable>("cudnn.toml"); }

std::optional<bool> CudnnTable::SupportsCuda(const Version& cudnn, const Version& cuda) const {
  Version toolkit = Cut(cuda, 2);
  bool covered = false, complete = true;
  for (const auto& row : rows_) {
    if (!Covers(row.first, row.last, cudnn)) continue;
    covered = true;
    complete = complete && row.cuda_list_complete;
    for (const auto& range : row.cuda)
      if (Covers(range.first, range.last, toolkit)) return true;
  }
  if (!covered || !complete) return std::nullopt;
  return false;
}

std::optional<Version> CudnnTable::MinDriver(const Version& cudnn, int cuda_major) const {
  for (const auto& row : rows_) {
    if (!Covers(row.first, row.last, cudnn)) continue;
    if (auto it = row.min_driver.find(cuda_major); it != row.min_driver.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<Version> CudnnTable::FromInt(long value) const {
  if (value <= 0) return std::nullopt;
  for (const auto& e : encodings_) {
    long major = value / e.major_factor;
    if (major <= 0 || !InMajors(e.since_major, e.until_major, static_cast<int>(major))) continue;
    long rest = value % e.major_factor;
    return Version::Parse(std::to_string(major) + "." + std::to_string(rest / 100) + "." +
                          std::to_string(rest % 100));
  }
  return std::nullopt;
}

std::optional<std::string> CudnnTable::HeaderFor(int major) const {
  for (const auto& h : headers_)
    if (InMajors(h.since_major, h.until_major, major)) return h.file;
  return std::nullopt;
}

}  // namespace dlrig
