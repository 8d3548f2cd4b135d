// hardware layer, as the NVIDIA kernel driver logged it: Xid events ("NVRM: Xid (PCI:0000:01:00):
// 79, pid=..., GPU has fallen off the bus.") of this boot. NVML keeps only the last Xid and
// misses some codes, so the kernel log is the record (research/health-monitoring.md §0.4, §6).
// Sources, first one readable wins: a capture's /dmesg-nvidia.txt (foreign roots only),
// /dev/kmsg read non-blocking (this machine only; needs CAP_SYSLOG or dmesg_restrict=0), the
// tail of /var/log/kern.log from the last boot on.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct XidEvent {
  std::string pci_address;  ///< normalised as sysfs writes it: "0000:01:00.0"
  int xid = 0;              ///< 79; also 79 for "GPU has fallen off the bus" without an Xid
  std::string text;         ///< what follows the code, verbatim ("pid=..., GPU has fallen ...")
  std::optional<double> since_boot_s;  ///< the kernel's timestamp, when the line has one
  std::string wall_time;               ///< a syslog line's own date ("Nov 22 10:01:02"), or ""
  std::string line;                    ///< the whole line, for evidence
};

struct KernelLogFacts {
  /// Where the lines came from ("/dev/kmsg", "/var/log/kern.log", "/dmesg-nvidia.txt"); when
  /// none could be read, why, for each source tried (kNoPermission if any refused us).
  Result<std::string> source = Fail(ErrorKind::kNotFound, "not probed");
  /// The NVIDIA driver's lines of this boot (NVRM, nvidia*), as dmesg prints them; what
  /// `dlrig capture` saves as dmesg-nvidia.txt. At most kMaxKernelLogLines, the newest kept.
  std::vector<std::string> lines;
  std::vector<XidEvent> xids;  ///< in log order, at most kMaxXidEvents (the newest kept)
  size_t xids_dropped = 0;     ///< Xid lines beyond kMaxXidEvents
};

inline constexpr size_t kMaxKernelLogLines = 4096;
inline constexpr size_t kMaxXidEvents = 4096;
/// The most read of a log file (its tail) or of /dev/kmsg.
inline constexpr size_t kMaxKernelLogBytes = 8u << 20;
inline constexpr const char* kKernLogPath = "/var/log/kern.log";

/// Reads the first available source (see the top of this file); never blocks.
KernelLogFacts ProbeKernelLog(const ProbeContext& ctx);

/// One log line (dmesg "[  12.345] NVRM: ...", syslog "Nov 22 10:01:02 host kernel: ...", or a
/// bare message) → the Xid it reports, if any. Pure.
std::optional<XidEvent> ParseXidLine(std::string_view line);
/// One /dev/kmsg record ("6,1234,5678901,-;NVRM: ...") → the line as dmesg prints it
/// ("[    5.678901] NVRM: ..."); nullopt for a malformed record.
std::optional<std::string> KmsgRecordToLine(std::string_view record);
/// Keeps the NVIDIA lines of `text` that follow its last kernel boot banner; fills lines and
/// xids. Pure.
void ParseKernelLogText(std::string_view text, KernelLogFacts& facts);

}  // namespace dlrig
