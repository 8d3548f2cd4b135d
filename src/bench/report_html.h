// `dlrig bench --html FILE`: one self-contained page (no script, nothing fetched) with the run's
// table and inline SVG charts: bandwidth against size (pcie, nccl), a P2P heat map, clock, power
// and temperature over a burn, and every figure as a bar of its limit.
#pragma once

#include <optional>
#include <string>

#include "bench/bench_run.h"

namespace dlrig::bench {

std::string BenchHtml(const BenchRun& run);

/// The line a sized figure belongs to: its key without the size part ("pcie.h2d.pinned.64MiB"
/// -> "pcie.h2d.pinned"), with the GPU when it has one.
std::string SizeSeriesLabel(const Measurement& m);

/// "p2p.0-1.uni" -> {0, 1, "uni"}; nullopt for any other key.
struct PeerKey {
  int from = 0;
  int to = 0;
  std::string direction;  ///< "uni", "bidir"
};
std::optional<PeerKey> ParsePeerKey(const std::string& key);

}  // namespace dlrig::bench
