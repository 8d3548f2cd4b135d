// Every knowledge table parsed by its own loader, so a broken table is said once, up front,
// instead of the rules that need it falling silent (a rule skips a table it cannot read).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace dlrig {

struct TableProblem {
  std::string file;    ///< "gpus.toml"
  std::string origin;  ///< "built in" or the --kb file it was read from
  Error error;
};

/// Parses every table (the --kb file where one was given, else the built-in one) with the
/// loader the commands use; the tables that fail, with why. Parsed once per process.
std::vector<TableProblem> KnowledgeTableProblems();

/// The problem of table `file`, if it has one.
std::optional<TableProblem> KnowledgeTableProblem(const std::string& file);

}  // namespace dlrig
