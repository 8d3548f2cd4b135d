#!/usr/bin/env bash
# dlrig's storage benchmark beside fio with identical parameters on the same directory, and the
# table of medians: pattern, dlrig GB/s, fio GB/s, ratio. The goal (issue 6) is a ratio within
# 5% of 1. fio runs with ioengine=libaio, the engine dlrig's raw Linux AIO calls are equivalent to.
#
# A shared or virtual disk drifts by tens of percent from one minute to the next, so the two
# tools run in pairs, one pattern at a time, back to back, and the order inside a pair
# alternates (dlrig first, then fio first, ...): drift and "whoever runs first" cancel out of
# the median of the paired ratios, the figure to judge by.
#
# Usage: scripts/bench-storage.sh DIR [seconds]
#   DIR must be on a real disk (O_DIRECT); each tool writes THREADS files of SIZE there and
#   removes them. Patterns: seq-read and seq-write with 1 MiB blocks, rand-read with 4 KiB.
#   Environment:
#     DLRIG    dlrig binary (default build/dlrig)
#     FIO      fio binary (default: fio on PATH), e.g. a static one carried to the GPU machine
#     PROFILE  default (10 s, 1 GiB files) or quick (3 s, 256 MiB files): the defaults of
#              seconds and SIZE
#     DLRIG_BACKEND  null (default) or cuda. The disk figures are the same code either way;
#              null with no GPUs skips storage.to-gpu, which fio has no counterpart for, and
#              runs where there is no GPU driver (CI).
#     THREADS (4), QD (32), SIZE (1G per file), PATTERNS (seq-read,seq-write,rand-read)
#     REPS (4: pairs per pattern), SETTLE (seconds of sync and rest before each run, 2)
#     JSON_OUT FILE: also write the samples and per-pattern medians there as JSON
#              (schema dlrig.storagecmp/1), rewritten after every repetition so a run cut
#              short still leaves what finished.
#   The parameters fio gets are checked against those dlrig reports in its JSON (threads,
#   queue_depth, block, seconds): a mismatch stops the script rather than compare unlike runs.
#   DLRIG_STORAGE_CMD replaces dlrig: it is called as
#   CMD DIR PATTERN BLOCK THREADS QD SECONDS SIZE and prints a JSON object with gb_per_s.
set -euo pipefail

dir=${1:?usage: scripts/bench-storage.sh DIR [seconds]}
dlrig=${DLRIG:-build/dlrig}
fio=${FIO:-fio}
profile=${PROFILE:-default}
backend=${DLRIG_BACKEND:-null}
reps=${REPS:-4}
settle=${SETTLE:-2}
json_out=${JSON_OUT:-}

case $profile in
  default) profile_seconds=10 profile_size=1G ;;
  quick) profile_seconds=3 profile_size=256M ;;
  *) echo "PROFILE must be default or quick, not '$profile'" >&2; exit 2 ;;
esac
seconds=${2:-$profile_seconds}
threads=${THREADS:-4}
qd=${QD:-32}
size=${SIZE:-$profile_size}

"$fio" --version >/dev/null 2>&1 ||
  { echo "fio not found or not runnable: '$fio' (set FIO, or scripts/install-deps.sh test)" >&2; exit 1; }
[[ -d $dir ]] || { echo "$dir is not a directory" >&2; exit 1; }

# pattern (dlrig key), fio rw, block size (fio's units: 1M = 1 MiB), block in bytes
all_patterns=("seq-read read 1M 1048576" "seq-write write 1M 1048576" "rand-read randread 4k 4096")
patterns=()
IFS=, read -ra wanted <<<"${PATTERNS:-seq-read,seq-write,rand-read}"
for want in "${wanted[@]}"; do
  found=""
  for entry in "${all_patterns[@]}"; do [[ ${entry%% *} == "$want" ]] && found=$entry; done
  [[ -n $found ]] || { echo "PATTERNS: unknown pattern '$want' (seq-read, seq-write, rand-read)" >&2; exit 2; }
  patterns+=("$found")
done

dlrig_args=(bench storage --path "$dir" --json --no-history --backend "$backend" --seconds "$seconds"
  --threads "$threads" --qd "$qd" --size "$size")
[[ $backend == null ]] && dlrig_args+=(--null-gpus 0)
if [[ -z ${DLRIG_STORAGE_CMD:-} ]]; then
  help=$("$dlrig" bench --help 2>&1) || { echo "cannot run $dlrig: $help" >&2; exit 1; }
  grep -q -- "--rw" <<<"$help" || { echo "$dlrig has no --rw: build this checkout's dlrig" >&2; exit 1; }
fi

# "PATTERN GB/s threads qd block seconds" for PATTERN in dlrig's JSON on stdin (a storage
# measurement's median and params, or a replacement's gb_per_s); nothing if it is absent.
extract_dlrig() {
  python3 -c '
import json, sys
pattern = sys.argv[1]
text = sys.stdin.read()
try:
    doc = json.loads(text[text.index("{"):])
except ValueError:
    sys.exit(0)
def find(o):
    if isinstance(o, dict):
        if o.get("key") == "storage." + pattern and "median" in o:
            return o
        if o.get("pattern") == pattern and "gb_per_s" in o:
            return {"median": o["gb_per_s"], "params": o.get("params", {})}
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
    return None
r = find(doc)
if r is not None:
    p = r.get("params") or {}
    print(r["median"], *(p.get(k, "-") for k in ("threads", "queue_depth", "block", "seconds")))
' "$1"
}

rest() { sync; sleep "$settle"; }

# "GB/s threads qd block seconds" of one dlrig run of PATTERN (or of the replacement).
run_dlrig() {
  local pattern=$1 block=$2 json rc=0
  rest
  if [[ -n ${DLRIG_STORAGE_CMD:-} ]]; then
    $DLRIG_STORAGE_CMD "$dir" "$pattern" "$block" "$threads" "$qd" "$seconds" "$size" | extract_dlrig "$pattern"
    return
  fi
  # A non-zero exit can be a verdict (a figure under its limit): the JSON still holds the figures.
  json=$("$dlrig" "${dlrig_args[@]}" --rw "$pattern" 2>"$dlrig_err") || rc=$?
  [[ $rc == 0 ]] || { echo "dlrig exited $rc:" >&2; cat "$dlrig_err" >&2; }
  extract_dlrig "$pattern" <<<"$json"
}

run_fio() {  # rw block: fio's group bandwidth in GB/s, or nothing if it failed
  rest
  local ms
  ms=$(awk -v s="$seconds" 'BEGIN {printf "%d", s * 1000}')
  "$fio" --name="dlrig-cmp-$$" --directory="$dir" --rw="$1" --bs="$2" --numjobs="$threads" \
    --iodepth="$qd" --size="$size" --direct=1 --ioengine=libaio --time_based \
    --runtime="${ms}ms" --group_reporting --unlink=1 --output-format=json |
    python3 -c '
import json, sys
text = sys.stdin.read()
try:
    job = json.loads(text[text.index("{"):])["jobs"][0]
except (ValueError, KeyError, IndexError):
    sys.exit("fio printed no JSON report: " + text[:300])
side = "read" if "read" in sys.argv[1] else "write"
print(job[side]["bw_bytes"] / 1e9)' "$1" || echo "fio $1 $2 failed" >&2
}

samples=$(mktemp /tmp/bench-storage.XXXXXX)
dlrig_err=$(mktemp /tmp/bench-storage-err.XXXXXX)
trap 'rm -f "$samples" "$dlrig_err"' EXIT

# The samples so far as a JSON summary (JSON_OUT) and, with "table", the table of medians.
summarize() {
  BS_PATTERNS=$(printf '%s\n' "${patterns[@]}") BS_DIR=$dir BS_FIO=$fio BS_DLRIG=$dlrig \
  BS_PROFILE=$profile BS_BACKEND=$backend BS_THREADS=$threads BS_QD=$qd BS_SIZE=$size \
  BS_SECONDS=$seconds BS_SETTLE=$settle BS_REPS=$reps \
  BS_FS=$(df -PT "$dir" | awk 'NR==2 {print $1" "$2}') \
  BS_FIO_VERSION=$("$fio" --version) \
  BS_DLRIG_VERSION=$("$dlrig" --version 2>/dev/null | head -1 || true) \
    python3 - "$1" "$samples" "${dlrig_args[@]}" <<'PY'
import datetime, json, os, platform, statistics, sys
mode, path, dlrig_args = sys.argv[1], sys.argv[2], sys.argv[3:]
env = os.environ
patterns = [p.split() for p in env["BS_PATTERNS"].splitlines() if p]
rows = [l.split("\t") for l in open(path).read().splitlines() if l]


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


out = []
for pattern, rw, block, _ in patterns:
    mine = [r for r in rows if r[1] == pattern]
    a = [num(r[2]) for r in mine]
    b = [num(r[3]) for r in mine]
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y]
    a = [x for x in a if x is not None]
    b = [y for y in b if y is not None]
    e = {"pattern": pattern, "fio_rw": rw, "block": block,
         "dlrig_gb_per_s": a, "fio_gb_per_s": b, "ratios": [x / y for x, y in pairs]}
    if a:
        e["dlrig_median"] = statistics.median(a)
    if b:
        e["fio_median"] = statistics.median(b)
    if a and b:
        e["ratio_of_medians"] = e["dlrig_median"] / e["fio_median"]
    if pairs:
        e["median_ratio"] = statistics.median(e["ratios"])
    e["first"] = [r[4] if len(r) > 4 else "" for r in mine]
    if not a:
        e["missing"] = "dlrig reported no storage." + pattern
    elif not b:
        e["missing"] = "fio gave no figure"
    out.append(e)
if mode == "json":
    doc = {"schema": "dlrig.storagecmp/1",
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
           "dir": env["BS_DIR"], "filesystem": env["BS_FS"],
           "fio": env["BS_FIO"], "fio_version": env["BS_FIO_VERSION"], "ioengine": "libaio",
           "dlrig": env["BS_DLRIG"], "dlrig_version": env["BS_DLRIG_VERSION"],
           "dlrig_args": dlrig_args,
           "params": {"profile": env["BS_PROFILE"], "backend": env["BS_BACKEND"],
                      "threads": int(env["BS_THREADS"]), "queue_depth": int(env["BS_QD"]),
                      "file_size": env["BS_SIZE"], "seconds": float(env["BS_SECONDS"]),
                      "direct": True, "settle_s": float(env["BS_SETTLE"])},
           "reps": int(env["BS_REPS"]), "reps_done": len({r[0] for r in rows}),
           "patterns": out}
    print(json.dumps(doc, indent=1))
else:
    print("%-10s %-6s %12s %10s %8s %14s" % ("pattern", "block", "dlrig GB/s", "fio GB/s",
                                              "ratio", "median ratio"))
    for e in out:
        if "missing" in e:
            print("%-10s %-6s %s" % (e["pattern"], e["block"], e["missing"]))
            continue
        print("%-10s %-6s %12.3f %10.3f %8.3f %14.3f" % (
            e["pattern"], e["block"], e["dlrig_median"], e["fio_median"],
            e["ratio_of_medians"], e.get("median_ratio", float("nan"))))
PY
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n) $(uname -r), $(nproc) CPUs, $("$fio" --version)" \
     "(libaio), $("$dlrig" --version 2>/dev/null | head -1 || echo "$dlrig")"
echo "# dir $dir ($(df -hT "$dir" | awk 'NR==2 {print $1, $2}')), $threads threads, QD $qd," \
     "$size per file, $seconds s per run, $reps pairs per pattern (order alternating); dlrig ${dlrig_args[*]}"
# Stops the script when dlrig reports a shape other than the one fio gets.
check_shape() {  # pattern bytes threads qd block seconds (as dlrig reported them)
  local pattern=$1 bytes=$2 pair name theirs want
  for pair in "threads $3 $threads" "queue_depth $4 $qd" "block $5 $bytes"; do
    read -r name theirs want <<<"$pair"
    if [[ $theirs != - && $theirs != "$want" ]]; then
      echo "dlrig ran $pattern with $name $theirs, fio would get $want: not comparable" >&2
      exit 2
    fi
  done
  if [[ $6 != - ]] && ! awk -v x="$6" -v y="$seconds" 'BEGIN {exit !(x == y)}'; then
    echo "dlrig ran $pattern for $6 s, fio would run $seconds s: not comparable" >&2
    exit 2
  fi
}

for ((i = 1; i <= reps; i++)); do
  for entry in "${patterns[@]}"; do
    read -r pattern rw block bytes <<<"$entry"
    a="" f=""
    # Odd pairs run dlrig first, even pairs fio first.
    for tool in $( ((i % 2)) && echo dlrig fio || echo fio dlrig); do
      if [[ $tool == fio ]]; then
        f=$(run_fio "$rw" "$block")
        continue
      fi
      read -r a t q b s < <(run_dlrig "$pattern" "$bytes") || true
      [[ -n ${a:-} ]] && check_shape "$pattern" "$bytes" "$t" "$q" "$b" "$s"
    done
    first=$( ((i % 2)) && echo dlrig || echo fio)
    printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$pattern" "${a:-}" "${f:-}" "$first" >>"$samples"
    if [[ -n ${a:-} && -n $f ]]; then
      printf '%-10s pair %d (%s first): dlrig %.3f GB/s  fio %.3f GB/s  ratio %.3f\n' "$pattern" "$i" \
        "$first" "$a" "$f" "$(awk -v a="$a" -v b="$f" 'BEGIN {print a / b}')"
    else
      printf '%-10s pair %d: dlrig %s  fio %s\n' "$pattern" "$i" "${a:-gave no figure}" "${f:-failed}"
    fi
  done
  [[ -n $json_out ]] && summarize json >"$json_out"
done
echo
summarize table
