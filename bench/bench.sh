#!/usr/bin/env bash
# fleetsim benchmarks; prints markdown tables (progress on stderr).
# Usage: bash bench/bench.sh [BUILD_DIR] [OUT_DIR]
# Environment:
#   BENCH_SECTIONS  any of "default noarchive weak llm compression" (default: all five)
#   BENCH_REPEAT    runs of each noarchive configuration, median reported (default 3)
#   BENCH_COMPRESSION_REPEAT runs of each compression and of dd, median reported (default 1)
#   BENCH_COMPRESSIONS archive_compression values of the compression section
#                   (default "lz4 deflate"; none is always run: it is the reference)
#   BENCH_HOURS     simulated hours of the default/noarchive runs (default 24;
#                   below 24 the compressed bench/scenarios_4h.json is used, >= 2 h)
#   BENCH_WEAK_HOURS hours of the weak-scaling runs (default 4)
#   BENCH_LLM_MS    stub latency per call in ms (default 250)
#   BENCH_LLM_ROUNDS calls per unit of concurrency, N = ROUNDS x C (default 32:
#                   an ideal N L / C of 8 s at 250 ms)
#   BENCH_SETTLE_S  seconds every timed run and every dd waits after its
#                   `sync`, before its clock starts (default 3): the disk
#                   finishes what the files removed before it left behind
#                   (their blocks' discards on a file system mounted with
#                   `discard`), so each starts from the same quiet disk
#
# Sections:
#   default    the full default run (archive, L1, rules L2-L4, scoring) at np 1
#              and 2, timed up to a `sync`, next to `dd` writing the same
#              bytes to the same disk with fdatasync (measured in the same run).
#              Needs about 2x the archive size free in OUT_DIR (12 GB at 24 h).
#   noarchive  telemetry + L1 with --set archive=0 --no-llm at np 1 and 2,
#              BENCH_REPEAT runs each, alternating: everything but the HDF5
#              writes; the median run and strong scaling T1 / (2 T2) of the
#              medians.
#   weak       12 racks (480 nodes) per rank at 1, 2 and 4 ranks, archive=0.
#   compression the full default run at np 2 once per archive_compression, timed
#              up to a `sync`, next to `dd` writing none's bytes (today's
#              uncompressed archive) with fdatasync, in the same invocation:
#              archive size and ratio to none, wall and wall / dd. Every row
#              says the 1-minute load average it started under. A last line
#              states the two targets for the default compression (size vs
#              none's >= 2.5 x, run to sync <= 0.6 x dd), met or not, and
#              a row for the same run without an archive (archive=0), the
#              floor under every compression: when it is above 0.6 x dd the
#              target is out of reach on that disk, and a line says so. Needs the
#              archive's uncompressed size free (6 GB at 24 h).
#   llm        `fleetsim escalate` against the loopback stub
#              (tests/llm_stub_server.py, slow/<ms> mode) at concurrency 1, 4,
#              16, 64 with N = ROUNDS C L2 calls: the whole command's wall and
#              the engine's (first submit to last completion, from escalate's
#              summary line) against the ideal N L / C.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-bench-out}
FLEETSIM=$BUILD/fleetsim
[ -x "$FLEETSIM" ] || { echo "bench: no $FLEETSIM; build first (scripts/build.sh)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1 # the weak section runs 4 ranks on small machines
mkdir -p "$OUT"
SECTIONS=${BENCH_SECTIONS:-"default noarchive weak llm compression"}
HOURS=${BENCH_HOURS:-24}
SCN=()
if awk -v h="$HOURS" 'BEGIN { exit !(h < 24) }'; then SCN=(--scenarios bench/scenarios_4h.json); fi
CORES=$(nproc)
PY=/usr/bin/python3

now() { date +%s.%N; }
settle() { sync; sleep "${BENCH_SETTLE_S:-3}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
has() { [[ " $SECTIONS " == *" $1 "* ]]; }
# field LOG PATTERN N: the N-th word of the first line of LOG matching PATTERN
field() { awk -v p="$2" -v n="$3" '$0 ~ p { print $n; exit }' "$1"; }
points_of() { awk '/GPU data points/ { print $2 + $7; exit }' "$1"; }
mem_of() { field "$1" "peak memory per rank" 13; }
timer_of() { field "$1" "timer $2 " 11; } # max over ranks

echo "# fleetsim benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $CORES cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo

if has default; then
  echo "## Default run: archive, L1, rules, scoring (${HOURS} h)"
  echo
  echo "| ranks | wall s (to sync) | data points/s | GB written | dd s, same bytes | wall / dd | simulate s | detect s | archive s | peak MiB per rank (max) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for np in 1 2; do
    echo "bench: default np $np" >&2
    rm -rf "$OUT/np$np"
    settle
    t0=$(now)
    mpirun -np "$np" "$FLEETSIM" run --hours "$HOURS" "${SCN[@]}" --out "$OUT/np$np" >"$OUT/np$np.log"
    sync
    t1=$(now)
    wall=$(elapsed "$t0" "$t1")
    bytes=$(stat -c %s "$OUT/np$np/fleet.h5")
    log="$OUT/np$np.log"
    points=$(points_of "$log")
    rm -rf "$OUT/np$np"
    settle
    t0=$(now)
    dd if=/dev/zero of="$OUT/dd.bin" bs=16M count=$(((bytes + 16777215) / 16777216)) \
      conv=fdatasync status=none
    t1=$(now)
    rm -f "$OUT/dd.bin"
    dd_s=$(elapsed "$t0" "$t1")
    awk -v np="$np" -v w="$wall" -v p="$points" -v b="$bytes" -v d="$dd_s" -v m="$(mem_of "$log")" \
      -v ts="$(timer_of "$log" simulate)" -v td="$(timer_of "$log" detect)" -v ta="$(timer_of "$log" archive)" \
      'BEGIN { printf "| %d | %.1f | %.3g | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %s |\n", np, w, p / w, b / 1e9, d, w / d, ts, td, ta, m }'
  done
  echo
fi

if has noarchive; then
  REPEAT=${BENCH_REPEAT:-3}
  echo "## Telemetry + L1 without the archive (--set archive=0 --no-llm, ${HOURS} h), median of ${REPEAT}"
  echo
  echo "| ranks | wall s (median) | data points/s | walls s (all runs) | whole mpirun s | simulate s | collectives s | detect s | peak MiB per rank (max) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  # np 1 and 2 alternate, so a drift of the host's speed hits both alike;
  # the row shows the run with the median wall
  declare -A WALLS
  for rep in $(seq "$REPEAT"); do
    for np in 1 2; do
      echo "bench: noarchive np $np (run $rep of $REPEAT)" >&2
      log="$OUT/noarch$np-$rep.log"
      t0=$(now)
      mpirun -np "$np" "$FLEETSIM" run --quiet --no-llm --set archive=0 --hours "$HOURS" "${SCN[@]}" \
        --out "$OUT/noarch$np" >"$log"
      t1=$(now)
      rm -rf "$OUT/noarch$np"
      echo "$(elapsed "$t0" "$t1")" >"$log.all"
      WALLS[$np]+="$(field "$log" "fleetsim: wall" 3) $rep"$'\n'
    done
  done
  declare -A WALL
  for np in 1 2; do
    # the median run: walls sorted, the middle one (the lower middle for even counts)
    read -r wall rep < <(printf '%s' "${WALLS[$np]}" | sort -n | awk -v n="$REPEAT" 'NR == int((n + 1) / 2)')
    WALL[$np]=$wall
    all=$(printf '%s' "${WALLS[$np]}" | awk '{ printf "%s%s", sep, $1; sep = ", " }')
    log="$OUT/noarch$np-$rep.log"
    awk -v np="$np" -v w="$wall" -v p="$(points_of "$log")" -v m="$(mem_of "$log")" -v all="$(cat "$log.all")" \
      -v ws="$all" -v ts="$(timer_of "$log" simulate)" -v tc="$(timer_of "$log" collectives)" -v td="$(timer_of "$log" detect)" \
      'BEGIN { printf "| %d | %.2f | %.3g | %s | %.2f | %.2f | %.2f | %.2f | %s |\n", np, w, p / w, ws, all, ts, tc, td, m }'
  done
  echo
  awk -v a="${WALL[1]}" -v b="${WALL[2]}" \
    'BEGIN { printf "Strong scaling 1 -> 2 ranks (medians): T1 / (2 T2) = %.2f / (2 x %.2f) = %.0f%%\n", a, b, 100 * a / (2 * b) }'
  echo
fi

if has weak; then
  WH=${BENCH_WEAK_HOURS:-4}
  echo "## Weak scaling: 12 racks (480 nodes, 3,840 GPUs) per rank, archive=0, ${WH} h"
  echo
  echo "| ranks | nodes | wall s | data points/s | simulate s | collectives s | detect s | efficiency T1/TP | note |"
  echo "|---|---|---|---|---|---|---|---|---|"
  t1w=""
  for np in 1 2 4; do
    echo "bench: weak np $np" >&2
    cfg="$OUT/weak$np.json"
    $PY - "$np" >"$cfg" <<'EOF'
import json, sys
p = int(sys.argv[1])
jobs = [("train-000", "llama-70b-pretrain", 24, 2.56), ("train-001", "mistral-22b-finetune", 12, 3.01),
        ("train-002", "internal-moe-140b-pretrain", 12, 3.25), ("train-003", "llama-70b-pretrain", 24, 2.38),
        ("train-004", "mistral-22b-finetune", 48, 2.70)]  # 120 of the 168 training nodes per rank
print(json.dumps({"nodes": 480 * p, "racks": 12 * p, "racks_per_row": 4,
                  "moe_nodes": 144 * p, "dense_nodes": 168 * p, "training_nodes": 168 * p,
                  "jobs": [{"id": i, "model": m, "nodes": n * p, "step_time_s": s} for i, m, n, s in jobs]}))
EOF
    log="$OUT/weak$np.log"
    mpirun -np "$np" "$FLEETSIM" run --quiet --no-llm --config "$cfg" --set archive=0 --hours "$WH" \
      --scenarios bench/scenarios_4h.json --out "$OUT/weak$np" >"$log"
    rm -rf "$OUT/weak$np"
    wall=$(field "$log" "fleetsim: wall" 3)
    [ -n "$t1w" ] || t1w=$wall
    note=""
    [ "$np" -gt "$CORES" ] && note="oversubscribed: $np ranks on $CORES cores"
    awk -v np="$np" -v w="$wall" -v p="$(points_of "$log")" -v t1="$t1w" -v note="$note" \
      -v ts="$(timer_of "$log" simulate)" -v tc="$(timer_of "$log" collectives)" -v td="$(timer_of "$log" detect)" \
      'BEGIN { printf "| %d | %d | %.2f | %.3g | %.2f | %.2f | %.2f | %.0f%% | %s |\n", np, 480 * np, w, p / w, ts, tc, td, 100 * t1 / w, note }'
  done
  echo
fi

if has compression; then
  CREP=${BENCH_COMPRESSION_REPEAT:-1}
  COMPS="none"
  for c in ${BENCH_COMPRESSIONS:-lz4 deflate}; do [ "$c" = none ] || COMPS+=" $c"; done
  load() { cut -d' ' -f1 /proc/loadavg; }
  median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  declare -A CWALL CLOAD CBYTES
  DDS="" DDLOADS="" NAWALL="" NALOADS=""
  for rep in $(seq "$CREP"); do
    for c in $COMPS; do
      echo "bench: compression $c (run $rep of $CREP)" >&2
      d="$OUT/cmp-$c"
      rm -rf "$d"
      settle
      l=$(load)
      t0=$(now)
      mpirun -np 2 "$FLEETSIM" run --quiet --hours "$HOURS" "${SCN[@]}" \
        --set archive_compression="$c" --out "$d" >"$OUT/cmp-$c-$rep.log"
      sync
      t1=$(now)
      CWALL[$c]+="$(elapsed "$t0" "$t1") "
      CLOAD[$c]+="$l "
      CBYTES[$c]=$(stat -c %s "$d/fleet.h5")
      rm -rf "$d"
      if [ "$c" = none ]; then # dd: none's bytes, today's uncompressed archive
        settle
        l=$(load)
        t0=$(now)
        dd if=/dev/zero of="$OUT/dd.bin" bs=8M count=$(((CBYTES[none] + 8388607) / 8388608)) \
          conv=fdatasync status=none
        t1=$(now)
        rm -f "$OUT/dd.bin"
        DDS+="$(elapsed "$t0" "$t1") "
        DDLOADS+="$l "
      fi
    done
    # the floor under every compression: the same run writing no archive
    echo "bench: compression: no archive (run $rep of $CREP)" >&2
    d="$OUT/cmp-noarchive"
    rm -rf "$d"
    settle
    NALOADS+="$(load) "
    t0=$(now)
    mpirun -np 2 "$FLEETSIM" run --quiet --hours "$HOURS" "${SCN[@]}" \
      --set archive=0 --out "$d" >"$OUT/cmp-noarchive-$rep.log"
    sync
    t1=$(now)
    NAWALL+="$(elapsed "$t0" "$t1") "
    rm -rf "$d"
  done
  dd_s=$(tr ' ' '\n' <<<"$DDS" | grep . | median)
  echo "## Archive compression: the default run (${HOURS} h) at np 2, to \`sync\`"
  echo
  echo "dd of none's $(awk -v b="${CBYTES[none]}" 'BEGIN { printf "%.2f", b / 1e9 }') GB with fdatasync: ${dd_s} s (runs: ${DDS% }; load ${DDLOADS% })"
  echo
  echo "| archive_compression | GB | smaller than none | wall s (median) | wall / dd | walls s (all runs) | load at start |"
  echo "|---|---|---|---|---|---|---|"
  for c in $COMPS; do
    w=$(tr ' ' '\n' <<<"${CWALL[$c]}" | grep . | median)
    awk -v c="$c" -v b="${CBYTES[$c]}" -v n="${CBYTES[none]}" -v w="$w" -v d="$dd_s" \
      -v all="${CWALL[$c]% }" -v l="${CLOAD[$c]% }" \
      'BEGIN { printf "| %s | %.2f | %.2f x | %.1f | %.2f | %s | %s |\n", c, b / 1e9, n / b, w, w / d, all, l }'
  done
  na=$(tr ' ' '\n' <<<"$NAWALL" | grep . | median)
  awk -v w="$na" -v d="$dd_s" -v all="${NAWALL% }" -v l="${NALOADS% }" \
    'BEGIN { printf "| no archive (archive=0) | 0 | - | %.1f | %.2f | %s | %s |\n", w, w / d, all, l }'
  echo
  # the targets, for the default compression (fleetsim help names it; awk
  # reads all of it, so that help does not die of SIGPIPE under pipefail)
  def=$("$FLEETSIM" help | awk '$1 == "archive_compression" && $3 == "default" { print $4 }')
  if [ -n "$def" ] && [ -n "${CWALL[$def]:-}" ]; then
    w=$(tr ' ' '\n' <<<"${CWALL[$def]}" | grep . | median)
    awk -v c="$def" -v b="${CBYTES[$def]}" -v n="${CBYTES[none]}" -v w="$w" -v d="$dd_s" -v na="$na" \
      'BEGIN { s = n / b; r = w / d
        printf "Targets, default archive_compression=%s at np 2: archive %.0f B = %.2f GB, %.2f x smaller than the uncompressed %.0f B (>= 2.5 x: %s); full run to sync %.2f s = %.2f x dd+fdatasync of the uncompressed bytes (%.2f s) (<= 0.6 x: %s)\n",
          c, b, b / 1e9, s, n, (s >= 2.5 ? "met" : "NOT met"), w, r, d, (r <= 0.6 ? "met" : "NOT met")
        if (na > 0.6 * d)
          printf "The run-time target is out of reach on this disk: the run without any archive takes %.2f s, more than 0.6 x dd (%.2f s)\n", na, 0.6 * d }'
  else
    echo "Targets: the default archive_compression ($def) was not among BENCH_COMPRESSIONS"
  fi
  echo
fi

if has llm; then
  MS=${BENCH_LLM_MS:-250}
  echo "## LLM pipeline: fleetsim escalate against the loopback stub at ${MS} ms per call (L2 calls)"
  echo
  ROUNDS=${BENCH_LLM_ROUNDS:-32}
  echo "| concurrency C | calls N | N L / C s | command wall s | command / ideal | engine wall s | engine / ideal | start-up s | fleetsim CPU s | CPU ms per call | stub CPU s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  run="$OUT/llmrun"
  rm -rf "$run"
  echo "bench: llm: a small run for its contexts" >&2
  mpirun -np 1 "$FLEETSIM" run --quiet --no-llm --config tests/data/small.json \
    --scenarios tests/data/small_scenarios.json --out "$run" >/dev/null
  $PY tests/llm_stub_server.py --lifetime 900 >"$OUT/stub.port" 2>"$OUT/stub.log" &
  stub=$!
  trap 'kill "$stub" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do [ -s "$OUT/stub.port" ] && break; sleep 0.1; done
  # CPU seconds the stub server has used so far (utime + stime)
  stub_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$stub/stat"; }
  port=$(head -n1 "$OUT/stub.port")
  for c in 1 4 16 64; do
    n=$((ROUNDS * c))
    d="$OUT/llm$c"
    rm -rf "$d"
    mkdir -p "$d/llm"
    cp "$run/fleet.h5" "$d/"
    $PY - "$run/llm/contexts.jsonl" "$n" >"$d/llm/contexts.jsonl" <<'EOF'
import json, sys
print(open(sys.argv[1]).readline(), end="")  # the run header: the same run
l2 = [json.loads(l) for l in open(sys.argv[1]) if '"layer":"L2"' in l]
for i in range(int(sys.argv[2])):
    print(json.dumps(dict(l2[i % len(l2)], call_id=f"L2-{900000 + i:06d}", event_id=900000 + i)))
EOF
    echo "bench: llm concurrency $c ($n calls)" >&2
    s0=$(stub_cpu)
    t0=$(now)
    # not --quiet: the summary line carries the engine's wall (first submit
    # to last completion); the progress lines go to stderr
    /usr/bin/time -f "%U %S" -o "$OUT/llm$c.time" "$FLEETSIM" escalate --run "$d" \
      --backend "openai:base_url=http://127.0.0.1:$port/mode/slow/$MS/v1,model=stub,name=stub,concurrency=$c" \
      >"$OUT/llm$c.out" 2>/dev/null
    t1=$(now)
    engine=$(sed -n 's/^fleetsim: backend stub: .* wall \([0-9.]*\) s,.*/\1/p' "$OUT/llm$c.out")
    [ -n "$engine" ] || { echo "bench: llm concurrency $c: no summary line in $OUT/llm$c.out" >&2; exit 1; }
    s1=$(stub_cpu)
    ok=$(grep -c '"status":"ok"' "$d/llm/stub.jsonl" || true)
    [ "$ok" -eq "$n" ] || echo "bench: llm concurrency $c: only $ok of $n calls ok" >&2
    # the same command again: every call is done, so this is start-up + reading
    t2=$(now)
    "$FLEETSIM" escalate --run "$d" --quiet \
      --backend "openai:base_url=http://127.0.0.1:$port/mode/slow/$MS/v1,model=stub,name=stub,concurrency=$c" >/dev/null
    t3=$(now)
    rm -rf "$d"
    cpu=$(awk '{ print $1 + $2 }' "$OUT/llm$c.time")
    awk -v c="$c" -v n="$n" -v w="$(elapsed "$t0" "$t1")" -v ms="$MS" -v cpu="$cpu" -v scpu="$(elapsed "$s0" "$s1")" -v st="$(elapsed "$t2" "$t3")" -v e="$engine" \
      'BEGIN { i = n * ms / 1000 / c; printf "| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", c, n, i, w, w / i, e, e / i, st, cpu, 1000 * cpu / n, scpu }'
  done
  kill "$stub" 2>/dev/null || true
  rm -rf "$run"
  echo
  echo "Command wall is the whole \`fleetsim escalate\` process; engine wall is its own summary's, from"
  echo "the first submit to the last completion; start-up is the same command rerun once every call is"
  echo "done (MPI start-up, reading the contexts). CPU: user + system seconds of each process."
  echo
fi
