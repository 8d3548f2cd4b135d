#!/usr/bin/env bash
# dlrig's storage figure beside fio run several ways, in rotation, for one pattern: which of
# fio's own choices (processes or threads, its random map) moves its figure as much as the gap to
# dlrig does? Each round runs dlrig, then fio as it runs by default, then each variant.
#
# Usage: scripts/storage-variants.sh DIR [read|randread|write] [block]
#   Defaults: randread, 4k (1M for read and write). 4 threads x QD 32, 1 GiB per file, 5 s.
#   Environment: DLRIG (build/dlrig), FIO (fio), ROUNDS (3), SECONDS_PER_RUN (5),
#   VARIANTS (a ;-separated list of fio argument sets; default "--thread;--norandommap;
#   --thread --norandommap").
set -euo pipefail
dir=${1:?usage: scripts/storage-variants.sh DIR [read|randread|write] [block]}
rw=${2:-randread}
case $rw in
  read) pattern=seq-read default_bs=1M ;;
  write) pattern=seq-write default_bs=1M ;;
  randread) pattern=rand-read default_bs=4k ;;
  *) echo "pattern must be read, randread or write, not '$rw'" >&2; exit 2 ;;
esac
bs=${3:-$default_bs}
dlrig=${DLRIG:-build/dlrig}
fio=${FIO:-fio}
seconds=${SECONDS_PER_RUN:-5}
IFS=';' read -ra variants <<<"${VARIANTS:---thread;--norandommap;--thread --norandommap}"
mkdir -p "$dir"

run_fio() {  # extra fio arguments: its group bandwidth in GB/s
  # shellcheck disable=SC2086 # the variant is a word list
  "$fio" --name=variants --directory="$dir" --rw="$rw" --bs="$bs" --numjobs=4 --iodepth=32 \
    --size=1G --direct=1 --ioengine=libaio --time_based --runtime="${seconds}s" --group_reporting \
    --unlink=1 --output-format=json $1 | python3 -c '
import json, sys
t = sys.stdin.read()
job = json.loads(t[t.index("{"):])["jobs"][0]
print("%.3f" % (job["read" if "read" in sys.argv[1] else "write"]["bw_bytes"] / 1e9))' "$rw"
}

run_dlrig() {
  "$dlrig" bench storage --backend null --null-gpus 0 --path "$dir" --rw "$rw" --block "$bs" \
    --seconds "$seconds" --size 1G --threads 4 --qd 32 --json --no-history 2>/dev/null | python3 -c '
import json, sys
print("%.3f" % next(r["median"] for r in json.load(sys.stdin)["results"] if r["key"] == "storage." + sys.argv[1]))' "$pattern"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -n), $("$fio" --version), $rw $bs, 4 x QD 32, 1G, ${seconds}s"
for ((i = 1; i <= ${ROUNDS:-3}; i++)); do
  sync; sleep 1; printf 'round %d  dlrig                      %s\n' "$i" "$(run_dlrig)"
  sync; sleep 1; printf 'round %d  fio                        %s\n' "$i" "$(run_fio "")"
  for v in "${variants[@]}"; do
    sync; sleep 1; printf 'round %d  fio %-22s %s\n' "$i" "$v" "$(run_fio "$v")"
  done
done
