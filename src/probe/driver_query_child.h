// Internal to driver_query: the code that runs in the forked child.
#pragma once

#include "probe/driver_query.h"

namespace dlrig {

/// Loads both libraries and writes the protocol lines to `fd`. Only in the forked child.
void DriverQueryChildMain(int fd, const DriverQueryOptions& options);
/// The sampler's long-lived child: a full pass (then "nvml frame end"), then one live pass per
/// byte read from `command_fd` until EOF ('s': with the slow counters). Only in the forked
/// child.
void SamplerChildMain(int command_fd, int fd, const DriverQueryOptions& options);

}  // namespace dlrig
