// What a child keeps after fork(): fork copies every descriptor, O_CLOEXEC or not (that flag
// only acts at exec), so a forked helper that never execs (the NVML children) would otherwise
// hold serve's listening socket, its client connections and anything else the parent had open,
// and keep them alive for as long as it is wedged in the driver.
#pragma once

#include <initializer_list>

namespace dlrig {

/// Closes every descriptor from 3 up except those in `keep`, in a child between fork() and
/// _exit/exec: system calls only, no allocation (async-signal-safe). close_range(2) where the
/// kernel has it (5.9+); else each descriptor /proc/self/fd lists; else every number below
/// RLIMIT_NOFILE (at most 2^20). At most 8 descriptors are kept; more are closed too.
void CloseDescriptorsExcept(std::initializer_list<int> keep);

}  // namespace dlrig
