// dlrig top's screen as a pure function: recent snapshots and the view's state in, the frame
// out as lines of styled text. No terminal, no NVML, no clock: the live screen (ncurses),
// --once (stdout) and the tests all draw the same frame.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "monitor/sampler.h"

namespace dlrig {

enum class TopSort { kMemory, kPid, kGpu, kUser };
/// "mem", "pid", "gpu", "user": the words --sort takes and the footer shows.
const char* TopSortName(TopSort sort);
/// The next key in the order `s` cycles through.
TopSort NextTopSort(TopSort sort);

struct TopViewState {
  TopSort sort = TopSort::kMemory;
  std::string user_filter;  ///< only this user's processes; "" for everyone
  int selected = 0;         ///< index into the sorted, filtered process rows
  int first_row = 0;        ///< the row at the top of the process list (scrolling)
  int width = 80;           ///< terminal columns
  int height = 24;          ///< terminal lines
  bool colour = false;
  bool utf8 = true;          ///< false: ASCII bars and sparklines (a non-UTF-8 locale)
  bool interactive = false;  ///< a selection bar and the keys footer (live mode)
  /// Replaces the keys footer: a question ("send SIGTERM to 123? y/n") or what a key did.
  std::string message;
};

enum class TopStyle { kNormal, kBold, kDim, kGreen, kYellow, kRed, kSelected };

/// A run of text in one style.
struct TopSpan {
  std::string text;
  TopStyle style = TopStyle::kNormal;
};
using TopLine = std::vector<TopSpan>;

/// One process of the table: which GPU it is on and what the sampler knows of it.
struct TopProcessRow {
  int gpu = 0;
  GpuProcess process;
};

struct TopFrame {
  std::vector<TopLine> lines;       ///< at most height lines, none wider than width columns
  std::vector<TopProcessRow> rows;  ///< the process table in display order (sorted, filtered)
  int selected = 0;                 ///< the state's selection, clamped to rows
  int first_row = 0;                ///< the scroll position used, for the next frame's state
};

/// Every process of the newest snapshot, filtered by user and sorted by the state's key.
std::vector<TopProcessRow> TopProcessRows(const MonitorSnapshot& snapshot,
                                          const TopViewState& state);

/// The frame for `recent` (oldest first; the last one is shown, the earlier ones feed the
/// sparklines). An empty `recent` is the "waiting for the first sample" frame.
TopFrame RenderTop(const std::vector<std::shared_ptr<const MonitorSnapshot>>& recent,
                   const TopViewState& state);

/// The frame as text for stdout: one line per line, ANSI colour when `colour`.
std::string TopFrameText(const TopFrame& frame, bool colour);

/// True when the GPU vanished: its handle or its live values failed with
/// NVML_ERROR_GPU_IS_LOST (15).
bool GpuIsLost(const GpuFacts& gpu);

}  // namespace dlrig
