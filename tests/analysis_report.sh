#!/usr/bin/env bash
# Offline analysis end to end: analysis/report.py on a small run with the six
# scenario kinds that have hand-made plots and two backends (rules, and the
# loopback stub as a priced openai backend), on a run whose scenario file has
# only a thermal cascade (one backend), on a fault-free run without LLM calls
# and on a run of a random scenario file (every kind of kinds.def once, other
# ids and targets; the kinds without a hand-made plot get the generic one); then
# tests/analysis_test.py checks the PNGs, report.md, report.html, the
# detection markers against results/detection.json, analysis/fleetdata.py
# against direct h5py reads, and bad input.
source "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
PY=/usr/bin/python3
STUB_PID=
cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

full="$SCRATCH/full"
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$full" >/dev/null
source "$SOURCE_DIR/tests/lib_stub.sh"
stub_start 120 "$SCRATCH/stub.log"
export ANALYSIS_TEST_KEY=sk-analysis-test
"$FLEETSIM" escalate --run "$full" --quiet --backend \
  "openai:base_url=http://127.0.0.1:$PORT/v1,model=stub,name=stub-openai,concurrency=8,api_key_env=ANALYSIS_TEST_KEY,price_in=1,price_out=2"
"$FLEETSIM" score --run "$full" --quiet
kill "$STUB_PID" 2>/dev/null || true
STUB_PID=

reduced="$SCRATCH/reduced"
cat >"$SCRATCH/thermal_only.json" <<'JSON'
{"scenarios": [
  {"id": "T9", "kind": "thermal_cascade", "start_h": 0.25, "duration_min": 20, "racks": [3, 4]}
]}
JSON
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$SCRATCH/thermal_only.json" \
  --hours 1 --out "$reduced" >/dev/null

none="$SCRATCH/none"
echo '{"scenarios": []}' >"$SCRATCH/none.json"
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$SCRATCH/none.json" \
  --hours 1 --no-llm --out "$none" >/dev/null

random="$SCRATCH/random"
# every registered kind once: as many scenarios as kinds.def has lines
nkinds=$(grep -c '^SCN_KIND(' "$SOURCE_DIR/scenarios/kinds/kinds.def")
"$FLEETSIM" scenarios --random "$nkinds" --seed 11 --config "$DATA/small.json" --set hours=2 \
  >"$SCRATCH/random.json"
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$SCRATCH/random.json" \
  --hours 2 --no-llm --out "$random" >/dev/null

for run in full reduced none random; do
  "$PY" "$SOURCE_DIR/analysis/report.py" "$SCRATCH/$run" --out "$SCRATCH/$run/report" \
    >"$SCRATCH/$run.report.out" || fail "report.py on $run exited $?"
  grep -q "^report: wrote .*report.md and report.html" "$SCRATCH/$run.report.out" \
    || fail "report.py on $run printed: $(cat "$SCRATCH/$run.report.out")"
  echo "ok: $(cat "$SCRATCH/$run.report.out")"
done
rc=0
ANALYSIS_RUNS="$SCRATCH" "$PY" -m pytest -q -p no:cacheprovider \
  "$SOURCE_DIR/tests/analysis_test.py" || rc=$?
[ "$rc" -eq 0 ] || fail "analysis_test.py exited $rc (5 means no test ran)"
echo "analysis_report: all checks passed"
