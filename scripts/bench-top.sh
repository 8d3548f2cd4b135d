#!/usr/bin/env bash
# dlrig top's CPU cost (issue 5: <= 1% of one core at 1 Hz): runs it live in a detached tmux
# pane of 80x24 at 1 Hz and reads utime+stime from /proc/<pid>/stat at the start and the end of
# the window, for the top process (screen + sampler thread) and for its NVML child apart.
# Usage: scripts/bench-top.sh [path/to/dlrig] [seconds, default 60]
# DLRIG_NVML_LIBRARY and DLRIG_FAKE_NVML are passed through (CI: the fault-injection NVML).
set -euo pipefail
dlrig=$(realpath "${1:-./build/dlrig}")
seconds=${2:-60}
command -v tmux >/dev/null || { echo "bench-top: needs tmux" >&2; exit 2; }

socket=dlrig-bench-top-$$
tmux_() { tmux -L "$socket" -f /dev/null "$@"; }
trap 'tmux_ kill-server 2>/dev/null || true' EXIT
env_args=(TERM=screen LC_ALL=C.UTF-8)
for v in DLRIG_NVML_LIBRARY DLRIG_FAKE_NVML; do
  [[ -n "${!v:-}" ]] && env_args+=("$v=${!v}")
done
tmux_ new-session -d -x 80 -y 24 -s top "exec env $(printf '%q ' "${env_args[@]}") $(printf '%q' "$dlrig") top --interval 1s"
pid=$(tmux_ display-message -p -t top '#{pane_pid}')

# utime + stime in clock ticks (fields 14 and 15; the name in parentheses may hold spaces).
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
child_of() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true; }

sleep 3  # the first sample (NVML init, the full pass) is not the steady state
kill -0 "$pid" 2>/dev/null || { echo "bench-top: dlrig top exited early:"; tmux_ capture-pane -p -t top; exit 1; }
child=$(child_of "$pid")
hz=$(getconf CLK_TCK)
t0=$(date +%s%N); top0=$(ticks "$pid"); child0=${child:+$(ticks "$child")}
sleep "$seconds"
t1=$(date +%s%N); top1=$(ticks "$pid"); child1=${child:+$(ticks "$child")}

wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
percent() { awk -v t="$1" -v hz="$hz" -v w="$wall_s" 'BEGIN { printf "%.3f", 100 * t / hz / w }'; }
echo "window_s $wall_s (1 Hz, 80x24 tmux pane, CLK_TCK $hz)"
echo "top_process_cpu_percent $(percent $((top1 - top0))) ($((top1 - top0)) ticks: screen + sampler thread)"
if [[ -n "$child" ]]; then
  echo "nvml_child_cpu_percent $(percent $((child1 - child0))) ($((child1 - child0)) ticks, pid $child)"
  echo "total_cpu_percent $(percent $((top1 - top0 + child1 - child0)))"
else
  echo "nvml_child_cpu_percent n/a (no child found)"
fi
echo "last frame's first line: $(tmux_ capture-pane -p -t top | head -1)"
