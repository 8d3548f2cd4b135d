// Who a GPU process is: its user, command line and container, read from /proc (through the
// Root) for the pids NVML lists. NVML knows only pid and memory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/root.h"
#include "probe/driver_query.h"

namespace dlrig {

/// How much of a process's command line is kept. Arguments carry secrets (`--hf-token=hf_...`,
/// `--password ...`), so every command keeps only the program's name unless the user asks
/// for the whole line (`--show-commands` of gpus, top and serve).
enum class CommandDetail { kProgramName, kFullCommandLine };

/// Fills user, command and container of each process from /proc/<pid>; a process that has
/// gone (or a pid from another pid namespace) keeps them empty. `command` is ProgramName() of
/// the command line unless `detail` is kFullCommandLine.
void DescribeProcesses(const Root& root, std::vector<GpuProcess>& processes,
                       CommandDetail detail = CommandDetail::kProgramName);

/// The container id (first 12 hex digits, as `docker ps` shows it) in a /proc/<pid>/cgroup
/// text: Docker ("docker-<id>.scope", "/docker/<id>"), containerd/CRI-O under Kubernetes
/// ("cri-containerd-<id>.scope", "crio-<id>.scope", "/kubepods/.../<id>"), Podman
/// ("libpod-<id>.scope"); "" when the process is in none. Pure.
std::string ContainerIdFromCgroup(std::string_view cgroup);

/// /proc/<pid>/cmdline (NUL-separated) as one line, at most `max` bytes. Pure.
std::string CommandLine(std::string_view cmdline, size_t max = 200);

/// The program's name from a command line (NUL- or space-separated, as /proc/<pid>/cmdline
/// or CommandLine() give it): argv[0] up to its first NUL or blank, then its last path
/// component. Cutting at a blank first keeps a process that rewrote its title into one string
/// ("python train.py --token=x/y") from showing any argument. Pure.
std::string ProgramName(std::string_view cmdline);

}  // namespace dlrig
