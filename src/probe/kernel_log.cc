#include "probe/kernel_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/strings.h"
#include "probe/pci.h"

namespace dlrig {
namespace {

constexpr const char* kCaptureLog = "/dmesg-nvidia.txt";
constexpr const char* kKmsg = "/dev/kmsg";
// /dev/kmsg hands out its whole ring buffer (log_buf_len, set at boot): stop after this much.
constexpr size_t kMaxKmsgReadBytes = 32u << 20;

// The kernel's message inside a dmesg or syslog line, and the timestamps around it.
struct Message {
  std::string_view text;
  std::optional<double> since_boot_s;
  std::string wall_time;
};

// "[  269.516977] rest" → 269.516977 and "rest"; otherwise nothing taken.
std::optional<double> TakeUptime(std::string_view& text) {
  if (!StartsWith(text, "[")) return std::nullopt;
  size_t close = text.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  std::string inner(Trim(text.substr(1, close - 1)));
  char* end = nullptr;
  double value = std::strtod(inner.c_str(), &end);
  if (inner.empty() || end != inner.c_str() + inner.size()) return std::nullopt;
  text = Trim(text.substr(close + 1));
  return value;
}

Message SplitMessage(std::string_view line) {
  Message m{Trim(line), std::nullopt, ""};
  size_t kernel = line.find(" kernel: ");
  if (!StartsWith(m.text, "[") && kernel != std::string_view::npos) {
    std::string_view prefix = Trim(line.substr(0, kernel));  // "Nov 22 10:01:02 host"
    size_t host = prefix.rfind(' ');
    m.wall_time = std::string(host == std::string_view::npos ? prefix : prefix.substr(0, host));
    m.text = Trim(line.substr(kernel + 9));
  }
  m.since_boot_s = TakeUptime(m.text);
  return m;
}

bool IsNvidiaMessage(std::string_view text) {
  return StartsWith(text, "NVRM") || StartsWith(text, "nvidia");
}

bool IsBootBanner(std::string_view text) { return StartsWith(text, "Linux version "); }

bool IsHexOrSeparator(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

// "NVRM: Xid (PCI:0000:01:00): 79, text" or the older "NVRM: Xid (0000:03:00): 14, text".
std::optional<XidEvent> ParseXid(std::string_view msg) {
  constexpr std::string_view kTag = "NVRM: Xid (";
  if (!StartsWith(msg, kTag)) return std::nullopt;
  std::string_view rest = msg.substr(kTag.size());
  size_t close = rest.find("): ");
  if (close == std::string_view::npos) return std::nullopt;
  auto address = NormalizePciAddress(rest.substr(0, close));
  if (!address) return std::nullopt;
  rest = rest.substr(close + 3);
  size_t digits = 0;
  while (digits < rest.size() && digits < 6 &&
         std::isdigit(static_cast<unsigned char>(rest[digits])))
    ++digits;
  auto code = ParseInt(rest.substr(0, digits));
  if (digits == 0 || !code) return std::nullopt;
  rest = rest.substr(digits);
  if (StartsWith(rest, ",")) rest = rest.substr(1);
  return XidEvent{*address, static_cast<int>(*code), std::string(Trim(rest)), {}, "", ""};
}

// "NVRM: GPU 0000:18:00.0: GPU has fallen off the bus." / "NVRM: GPU at 0000:01:00.0 has fallen
// off the bus.": the bus loss said without an Xid line (gpud xid/kmsg.go, research §6).
std::optional<XidEvent> ParseFallenOff(std::string_view msg) {
  constexpr std::string_view kTag = "NVRM: GPU ";
  if (!StartsWith(msg, kTag) || !Contains(msg, "fallen off the bus")) return std::nullopt;
  std::string_view rest = msg.substr(kTag.size());
  if (StartsWith(rest, "at ")) rest = rest.substr(3);
  if (StartsWith(rest, "PCI:")) rest = rest.substr(4);
  size_t n = 0;
  while (n < rest.size() && IsHexOrSeparator(rest[n])) ++n;
  std::string_view token = rest.substr(0, n);
  while (EndsWith(token, ":") || EndsWith(token, ".")) token.remove_suffix(1);
  auto address = NormalizePciAddress(token);
  if (!address) return std::nullopt;
  return XidEvent{*address, 79, std::string(msg.substr(5)), {}, "", ""};
}

bool FromXidLine(const XidEvent& e) { return Contains(e.line, "NVRM: Xid"); }

// A bus loss is usually logged twice (the Xid 79 line, then "GPU ... has fallen off the bus"):
// the second line adds nothing when the first is there.
void DropRepeatedBusLoss(std::vector<XidEvent>& xids) {
  std::set<std::string> with_xid79;
  for (auto& e : xids)
    if (e.xid == 79 && FromXidLine(e)) with_xid79.insert(e.pci_address);
  std::erase_if(xids, [&](const XidEvent& e) {
    return !FromXidLine(e) && with_xid79.count(e.pci_address) > 0;
  });
}

template <class T>
void KeepNewest(std::vector<T>& items, size_t max, size_t* dropped = nullptr) {
  if (items.size() <= max) return;
  if (dropped) *dropped += items.size() - max;
  items.erase(items.begin(), items.end() - static_cast<std::ptrdiff_t>(max));
}

// The last `max_bytes` of a file, from its first whole line.
Result<std::string> ReadTail(const Root& root, const char* path, size_t max_bytes) {
  auto file = root.OpenFile(path);
  if (!file) return tl::unexpected(file.error());
  uint64_t size = file->size_bytes();
  uint64_t offset = size > max_bytes ? size - max_bytes : 0;
  std::string text(static_cast<size_t>(size - offset), '\0');
  if (auto r = file->ReadAt(offset, text.data(), text.size()); !r) return tl::unexpected(r.error());
  if (offset > 0) text.erase(0, std::min(text.size(), text.find('\n') + 1));
  return text;
}

// /dev/kmsg without blocking: one record per read(), EAGAIN once the buffer is drained. Only
// NVIDIA lines are kept, as dmesg prints them.
Result<std::string> ReadKmsg() {
  int fd = ::open(kKmsg, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string why = std::string(kKmsg) + ": " + std::strerror(err);
    if (err == EPERM || err == EACCES) why += " (needs CAP_SYSLOG or kernel.dmesg_restrict=0)";
    return Fail(ErrorKindFromErrno(err), why);
  }
  std::string text;
  char buf[16384];  // a record is at most 8 KiB (CONSOLE_EXT_LOG_MAX)
  size_t read_bytes = 0;
  while (read_bytes < kMaxKmsgReadBytes) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EPIPE)) continue;  // EPIPE: a record was overwritten
    if (n <= 0) break;                                          // EAGAIN: no more records
    read_bytes += static_cast<size_t>(n);
    auto line = KmsgRecordToLine(std::string_view(buf, static_cast<size_t>(n)));
    if (line && IsNvidiaMessage(SplitMessage(*line).text)) text += *line + "\n";
  }
  ::close(fd);
  return text;
}

Error Unavailable(const std::vector<Error>& tried) {
  bool refused = std::any_of(tried.begin(), tried.end(),
                             [](const Error& e) { return e.kind == ErrorKind::kNoPermission; });
  std::vector<std::string> why;
  for (auto& e : tried) why.push_back(e.message);
  return Error{refused ? ErrorKind::kNoPermission : ErrorKind::kNotFound,
               fmt::format("{}", fmt::join(why, "; "))};
}

}  // namespace

std::optional<XidEvent> ParseXidLine(std::string_view line) {
  Message m = SplitMessage(line);
  auto event = ParseXid(m.text);
  if (!event) event = ParseFallenOff(m.text);
  if (!event) return std::nullopt;
  event->since_boot_s = m.since_boot_s;
  event->wall_time = m.wall_time;
  event->line = std::string(Trim(line));
  return event;
}

std::optional<std::string> KmsgRecordToLine(std::string_view record) {
  size_t semi = record.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  auto fields = Split(record.substr(0, semi), ',', true);
  if (fields.size() < 3) return std::nullopt;
  auto usec = ParseInt(fields[2]);
  if (!usec || *usec < 0) return std::nullopt;
  std::string_view text = record.substr(semi + 1);
  text = text.substr(0, text.find('\n'));  // continuation lines (" KEY=value") follow
  return fmt::format("[{:5}.{:06}] {}", *usec / 1000000, *usec % 1000000, text);
}

void ParseKernelLogText(std::string_view text, KernelLogFacts& facts) {
  std::vector<std::string> all = SplitLines(text);
  size_t start = 0;  // a syslog file holds earlier boots: their Xids are history
  for (size_t i = 0; i < all.size(); ++i)
    if (IsBootBanner(SplitMessage(all[i]).text)) start = i;
  for (size_t i = start; i < all.size(); ++i) {
    if (!IsNvidiaMessage(SplitMessage(all[i]).text)) continue;
    facts.lines.push_back(all[i]);
    if (auto e = ParseXidLine(all[i])) facts.xids.push_back(std::move(*e));
  }
  DropRepeatedBusLoss(facts.xids);
  KeepNewest(facts.lines, kMaxKernelLogLines);
  KeepNewest(facts.xids, kMaxXidEvents, &facts.xids_dropped);
}

KernelLogFacts ProbeKernelLog(const ProbeContext& ctx) {
  KernelLogFacts facts;
  std::vector<Error> tried;
  auto use = [&](const char* source, Result<std::string> text) {
    if (!text) {
      Error e = text.error();
      if (!StartsWith(e.message, source) && !Contains(e.message, source))
        e.message = std::string(source) + ": " + e.message;
      tried.push_back(std::move(e));
      return false;
    }
    facts.source = std::string(source);
    ParseKernelLogText(*text, facts);
    return true;
  };
  // A capture carries its own log; /dev/kmsg is only ever this machine's.
  if (!ctx.root.IsHost()) {
    if (use(kCaptureLog, ReadTail(ctx.root, kCaptureLog, kMaxKernelLogBytes))) return facts;
  } else if (use(kKmsg, ReadKmsg())) {
    return facts;
  }
  if (use(kKernLogPath, ReadTail(ctx.root, kKernLogPath, kMaxKernelLogBytes))) return facts;
  facts.source = tl::unexpected(Unavailable(tried));
  return facts;
}

}  // namespace dlrig
