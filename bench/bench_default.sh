#!/usr/bin/env bash
# Benchmark of the default 24 h run (archive, scenarios S1-S6, no LLM) at
# np 1 and 2, next to the time `dd` needs to write the same bytes to the same
# disk (with fdatasync, so the page cache does not flatter either side).
# Prints one table. Usage: bench/bench_default.sh [BUILD_DIR] [OUT_DIR]
# OUT_DIR must have room for the archive (about 6.4 GB) twice.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-bench-out}
FLEETSIM=$BUILD/fleetsim
[ -x "$FLEETSIM" ] || { echo "bench: build first (scripts/build.sh); no $FLEETSIM" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT"
NPS=${NPS:-"1 2"}

rows=()
for np in $NPS; do
  rm -rf "$OUT/np$np"
  sync
  start=$(date +%s.%N)
  mpirun -np "$np" "$FLEETSIM" run --quiet --no-llm --out "$OUT/np$np" >"$OUT/np$np.log"
  sync
  end=$(date +%s.%N)
  wall=$(echo "$end - $start" | bc -l)
  bytes=$(stat -c %s "$OUT/np$np/fleet.h5")
  points=$(grep -oE '^fleetsim: [0-9.e+]+ GPU data points \+ [0-9.e+]+ node' "$OUT/np$np.log" |
    awk '{print $2 + $7}')
  mem=$(grep -oE 'peak memory per rank: .*' "$OUT/np$np.log" | awk '{print $10}')
  # dd the same number of bytes, flushed to disk
  sync
  ddstart=$(date +%s.%N)
  dd if=/dev/zero of="$OUT/dd.bin" bs=16M count=$(((bytes + 16777215) / 16777216)) \
    conv=fdatasync status=none
  ddend=$(date +%s.%N)
  rm -f "$OUT/dd.bin"
  dd_s=$(echo "$ddend - $ddstart" | bc -l)
  rows+=("$(printf '| %d | %.1f | %.3g | %.2f | %.1f | %.2f | %s |' "$np" "$wall" \
    "$(echo "$points / $wall" | bc -l)" "$(echo "$bytes / 1000000000" | bc -l)" "$dd_s" \
    "$(echo "$wall / $dd_s" | bc -l)" "$mem")")
  rm -rf "$OUT/np$np"
done
echo "| ranks | wall s | data points/s | GB written | dd s (same bytes) | wall / dd | peak MiB/rank |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
