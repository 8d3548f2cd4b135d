// What the bench subcommands share: cli/bench.cc runs the benchmarks, cli/bench_tools.cc
// lists them, compares runs and shows the stored ones.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "bench/report_json.h"

namespace dlrig::bench_cli {

using bench::ojson;

void Out(const std::string& text);
std::string Dump(const ojson& j);
/// Every benchmark key, comma-separated.
std::string KnownKeys();
/// The history file: `given`, or the default one.
Result<std::string> HistoryPath(const std::string& given);

int RunList(const std::vector<std::string>& args);
int RunCompare(const std::vector<std::string>& args);
int RunHistoryList(const std::vector<std::string>& args);

}  // namespace dlrig::bench_cli
