# Shared part of the tests/fuzz_*.sh tests: builds (or reuses) the libFuzzer
# build directory and runs one target for a bounded time over its seed
# corpus, after replaying every saved regression input once.
#   FUZZ_BUILD    build directory (default SOURCE_DIR/build-fuzz; scripts/test.sh
#                 builds it before ctest, so here the build is a no-op)
#   FUZZ_SECONDS  fuzzing time per target (default 20)
set -euo pipefail
: "${SOURCE_DIR:?SOURCE_DIR must point at the source tree}"
FUZZ_BUILD=${FUZZ_BUILD:-$SOURCE_DIR/build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_TARGETS="fuzz_config fuzz_scenario fuzz_llm_answer fuzz_llm_wire fuzz_llm_spec"
FUZZ_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fleetsim-fuzz.XXXXXX")
trap 'rm -rf "$FUZZ_SCRATCH"' EXIT

# fuzz_build: configures (clang, FLEETSIM_FUZZ=ON) and builds every target;
# a lock keeps parallel tests from building the same directory at once.
fuzz_build() {
  mkdir -p "$FUZZ_BUILD"
  command -v clang >/dev/null || { echo "FAIL: clang is not installed (scripts/install-deps.sh)" >&2; exit 1; }
  (
    flock 9
    if [ ! -f "$FUZZ_BUILD/CMakeCache.txt" ]; then
      cmake -S "$SOURCE_DIR" -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang -DFLEETSIM_FUZZ=ON \
        -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    # shellcheck disable=SC2086
    cmake --build "$FUZZ_BUILD" -j "$(nproc)" --target $FUZZ_TARGETS >/dev/null
  ) 9>"$FUZZ_BUILD/.build.lock"
}

# fuzz_run TARGET: regressions replayed, then TARGET fuzzed for FUZZ_SECONDS
# from tests/fuzz/corpus/TARGET (new inputs go to a scratch corpus, never
# into the source tree). A finding fails the test; its input is kept in
# FUZZ_BUILD/findings/ and shown as hex: fix the bug, then add the input to
# tests/fuzz/regressions/TARGET/.
fuzz_run() {
  local t=$1 bin="$FUZZ_BUILD/tests/fuzz/$1"
  local reg="$SOURCE_DIR/tests/fuzz/regressions/$t" seeds="$SOURCE_DIR/tests/fuzz/corpus/$t"
  fuzz_build
  [ -d "$seeds" ] || { echo "FAIL: no seed corpus $seeds" >&2; exit 1; }
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    "$bin" -runs=1 "$reg"/* >"$FUZZ_SCRATCH/replay.log" 2>&1 ||
      { cat "$FUZZ_SCRATCH/replay.log" >&2; echo "FAIL: $t: a saved regression input fails again" >&2; exit 1; }
    echo "ok: $t: $(ls "$reg" | wc -l) regression inputs replayed"
  fi
  mkdir -p "$FUZZ_SCRATCH/corpus" "$FUZZ_BUILD/findings"
  local rc=0
  "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$FUZZ_BUILD/findings/$t-" "$FUZZ_SCRATCH/corpus" "$seeds" \
    >"$FUZZ_SCRATCH/fuzz.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    grep -vE '^#[0-9]+' "$FUZZ_SCRATCH/fuzz.log" | tail -n 60 >&2
    for f in "$FUZZ_BUILD/findings/$t-"*; do
      [ -f "$f" ] && { echo "finding $f:" >&2; od -A d -c "$f" | head -n 40 >&2; }
    done
    echo "FAIL: $t: libFuzzer exited $rc" >&2
    exit 1
  fi
  echo "ok: $t: $(grep -E '^stat::number_of_executed_units' "$FUZZ_SCRATCH/fuzz.log" | awk '{print $2}') inputs in ${FUZZ_SECONDS} s, no finding; $(grep -cE 'NEW|REDUCE' "$FUZZ_SCRATCH/fuzz.log" || true) corpus updates"
}
