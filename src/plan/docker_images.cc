#include "plan/docker_images.h"

#include "knowledge/data_files.h"
#include "knowledge/toml_rows.h"

namespace dlrig {

Result<DockerImages> DockerImages::Parse(std::string_view text) {
  constexpr std::string_view kFile = "docker-images.toml";
  auto doc = ParseToml(text, kFile);
  if (!doc) return tl::unexpected(doc.error());
  auto sources = ReadSources(*doc, kFile);
  if (!sources) return tl::unexpected(sources.error());
  const toml::array* rows = (*doc)["image"].as_array();
  if (rows == nullptr) return Fail(ErrorKind::kMalformed, "docker-images.toml has no [[image]]");
  DockerImages table;
  for (size_t i = 0; i < rows->size(); ++i) {
    const toml::table* row = (*rows)[i].as_table();
    if (row == nullptr) return Fail(ErrorKind::kMalformed, "docker-images.toml: row not a table");
    RowReader r(*row, "docker-images.toml row " + RowOrdinal(i));
    DockerImage img;
    img.image = r.String("image", Need::kRequired);
    auto cuda = r.Ver("cuda", Need::kRequired);
    img.flavor = r.String("flavor", Need::kRequired);
    img.os = r.String("os", Need::kRequired);
    auto python3 = r.Ver("python3", Need::kRequired);
    img.confirmed = r.Bool("confirmed").value_or(true);
    img.sources = r.Sources(*sources);
    if (img.flavor != "base" && img.flavor != "runtime" && img.flavor != "devel")
      r.Problem("flavor must be base, runtime or devel");
    if (auto done = r.Finish(); !done) return tl::unexpected(done.error());
    img.cuda = *cuda;
    img.python3 = *python3;
    table.rows_.push_back(std::move(img));
  }
  return table;
}

const Result<DockerImages>& DockerImages::BuiltIn() {
  return ParseDataFileOnce<DockerImages>("docker-images.toml");
}

}  // namespace dlrig
