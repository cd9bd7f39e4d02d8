#!/usr/bin/env bash
# Benchmark of the default 24 h run (1,000 nodes x 8 GPUs, scenarios S1-S6,
# archive, no LLM) at np 1 and 2. Each run is timed up to a `sync`, next to
# the time `dd` needs to write the same number of bytes to the same disk with
# fdatasync, so the page cache flatters neither side. Prints a markdown table.
# Usage: bench/bench_default.sh [BUILD_DIR] [OUT_DIR]   (env NPS="1 2")
# OUT_DIR needs about 12 GB free (one archive plus the dd file).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-bench-out}
FLEETSIM=$BUILD/fleetsim
[ -x "$FLEETSIM" ] || { echo "bench: no $FLEETSIM; build first (scripts/build.sh)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mkdir -p "$OUT"
NPS=${NPS:-"1 2"}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "| ranks | wall s (to sync) | data points/s | GB written | dd s, same bytes | wall / dd | peak MiB per rank (max) |"
echo "|---|---|---|---|---|---|---|"
for np in $NPS; do
  rm -rf "$OUT/np$np"
  sync
  t0=$(now)
  mpirun -np "$np" "$FLEETSIM" run --quiet --no-llm --out "$OUT/np$np" >"$OUT/np$np.log"
  sync
  t1=$(now)
  wall=$(elapsed "$t0" "$t1")
  bytes=$(stat -c %s "$OUT/np$np/fleet.h5")
  points=$(awk '/GPU data points/ { print $2 + $7 }' "$OUT/np$np.log")
  mem=$(awk '/peak memory per rank/ { print $13 }' "$OUT/np$np.log")
  rm -rf "$OUT/np$np"
  sync
  t0=$(now)
  dd if=/dev/zero of="$OUT/dd.bin" bs=16M count=$(((bytes + 16777215) / 16777216)) \
    conv=fdatasync status=none
  t1=$(now)
  rm -f "$OUT/dd.bin"
  dd_s=$(elapsed "$t0" "$t1")
  awk -v np="$np" -v w="$wall" -v p="$points" -v b="$bytes" -v d="$dd_s" -v m="$mem" \
    'BEGIN { printf "| %d | %.1f | %.3g | %.2f | %.1f | %.2f | %s |\n", np, w, p / w, b / 1e9, d, w / d, m }'
done
