// Who a GPU process is: its user, command line and container, read from /proc (through the
// Root) for the pids NVML lists. NVML knows only pid and memory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/root.h"
#include "probe/driver_query.h"

namespace dlrig {

/// Fills user, command and container of each process from /proc/<pid>; a process that has
/// gone (or a pid from another pid namespace) keeps them empty.
void DescribeProcesses(const Root& root, std::vector<GpuProcess>& processes);

/// The container id (first 12 hex digits, as `docker ps` shows it) in a /proc/<pid>/cgroup
/// text: Docker ("docker-<id>.scope", "/docker/<id>"), containerd/CRI-O under Kubernetes
/// ("cri-containerd-<id>.scope", "crio-<id>.scope", "/kubepods/.../<id>"), Podman
/// ("libpod-<id>.scope"); "" when the process is in none. Pure.
std::string ContainerIdFromCgroup(std::string_view cgroup);

/// /proc/<pid>/cmdline (NUL-separated) as one line, at most `max` bytes. Pure.
std::string CommandLine(std::string_view cmdline, size_t max = 200);

}  // namespace dlrig
