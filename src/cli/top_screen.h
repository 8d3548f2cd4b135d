// dlrig top's live screen: ncurses (linked statically, terminfo read at run time) drawing
// top_view's frames, redrawn when the sampler has a new snapshot or a key was pressed.
#pragma once

#include "monitor/sampler.h"
#include "monitor/top_view.h"

namespace dlrig {

/// Runs the screen until q (or SIGINT/SIGTERM/SIGHUP); `state` gives the starting sort, user
/// filter, colour and UTF-8 choice. Returns an exit code; a terminal that terminfo does not
/// know is a message on stderr and kExitUsage.
int RunTopScreen(Sampler& sampler, TopViewState state);

}  // namespace dlrig
