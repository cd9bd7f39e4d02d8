#!/usr/bin/env bash
# The first hour of a new user: `run --hours 1` with the built-in scenarios
# at np 2 (those outside the run left out, one notice each), a run that keeps
# some of them, `--scenarios none`, `validate` with run's options, a user's
# file still checked strictly; progress without '\r' off a terminal and with
# it on one; the LLM drain shown after the simulation while the waiting ranks
# sleep (CPU from /proc/PID/stat); escalate's and export's progress, export's
# estimate and its refusal of an export larger than the free space.
source "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
PY=/usr/bin/python3
STUB_PID= MNT=
cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; fi
  if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
cd "$SCRATCH"

# no_cr FILE: the file holds no carriage return (a log, not a terminal).
no_cr() { ! grep -q $'\r' "$1" || fail "$1 holds a carriage return: $(od -c "$1" | head -n 5)"; }

# --- run --hours 1 with the built-in scenarios, np 2 ---------------------------
run_np 2 run --hours 1 --out first >first.out 2>first.err ||
  fail "run --hours 1 exited $?: $(cat first.err)"
for s in "S1 at 06:00" "S2 at 14:00" "S3 at 03:00" "S4 at 18:00" "S5 at 10:00" "S6 at 21:00"; do
  [ "$(grep -c "^fleetsim: $s is outside a 1 h run: left out$" first.err)" -eq 1 ] ||
    fail "no single notice '$s is outside a 1 h run: left out' in: $(cat first.err)"
done
[ "$(grep -c 'left out' first.err)" -eq 6 ] || fail "not 6 notices: $(cat first.err)"
grep -q "^fleetsim: simulated 1:00:00 of 1:00:00 (100.0%)" first.err || fail "no final progress line"
no_cr first.err
grep -q "No scenarios in this run (fault-free)" first.out || fail "detection table: $(cat first.out)"
grep -q "No scenarios in this run" first/results/summary.md || fail "summary.md"
"$PY" - first <<'EOF' || fail "archive of the 1 h run"
import h5py, json, sys
with h5py.File(sys.argv[1] + "/fleet.h5") as f:
    assert f.attrs["complete"] == 1
    assert json.loads(f.attrs["scenarios"])["scenarios"] == [], f.attrs["scenarios"]
    assert len(f["/ground_truth/scenarios"]) == 0
    assert f["/time/seconds"].shape == (240,)
EOF
echo "ok: run --hours 1 at np 2: exit 0, six notices, fault-free archive"

# --- a run that keeps some: 7 h keeps S3 (03:00) and S1 (06:00) ------------------
run_np 2 run --hours 7 --set archive=0 --no-llm --out seven >seven.out 2>seven.err ||
  fail "run --hours 7 exited $?: $(cat seven.err)"
[ "$(grep -c 'left out' seven.err)" -eq 4 ] || fail "7 h: not 4 notices: $(cat seven.err)"
grep -q "S1 at 06:00" seven.err && fail "7 h: S1 left out"
grep -q "^| S1 | thermal_cascade |" seven.out && grep -q "^| S3 | hbm_degradation |" seven.out ||
  fail "7 h: S1 and S3 not in the detection table: $(cat seven.out)"
[ "$(grep -c '^| S[0-9] |' seven.out)" -eq 2 ] || fail "7 h: other scenarios in the table"
echo "ok: run --hours 7 keeps S1 and S3, leaves four out"

# --- --scenarios none ----------------------------------------------------------
run_np 2 run --hours 1 --scenarios none --set archive=0 --out none >none.out 2>none.err ||
  fail "--scenarios none exited $?: $(cat none.err)"
grep -q "left out" none.err && fail "--scenarios none printed notices: $(cat none.err)"
grep -q "No scenarios in this run (fault-free)" none.out || fail "--scenarios none: $(cat none.out)"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["scenarios"]==[] and d["scenarios_total"]==0' \
  none/results/detection.json || fail "--scenarios none: detection.json"
echo "ok: --scenarios none runs fault-free"

# --- validate takes run's options ------------------------------------------------
"$FLEETSIM" validate --hours 1 >v.out 2>v.err || fail "validate --hours 1: $(cat v.err)"
grep -q "240 scrapes of 15 s" v.out && grep -q "0 scenarios in the run" v.out || fail "$(cat v.out)"
[ "$(grep -c 'left out' v.err)" -eq 6 ] || fail "validate --hours 1: not 6 notices: $(cat v.err)"
run_np 2 validate --hours 7 --seed 3 --set gpu_lots=50 --backend rules --scenarios none >v2.out ||
  fail "validate with run's options"
grep -q "0 scenarios in the run" v2.out && grep -q "backends are valid: rules" v2.out || fail "$(cat v2.out)"
"$FLEETSIM" validate --hours 7 2>/dev/null | grep -q "2 scenarios in the run" || fail "validate --hours 7"
expect_fail 2 "key 'start_h': 6 is outside the run \[0, 1\) h" \
  "$FLEETSIM" validate --hours 1 --scenarios "$SOURCE_DIR/scenarios/default.json"
expect_fail 2 "backend 'bogus'" "$FLEETSIM" validate --backend bogus
echo "ok: validate --hours/--seed/--set/--backend/--scenarios none; a given file stays strict"

# --- progress on a terminal: redrawn with '\r' -----------------------------------
# (without mpirun: under mpirun a rank's stderr is a pipe to mpirun, not the terminal)
script -qec "$FLEETSIM run --hours 1 --set archive=0 --no-llm --out tty" \
  /dev/null >tty.log </dev/null || fail "run under script: $(cat tty.log)"
grep -q $'\rfleetsim: simulated 1:00:00 of 1:00:00' tty.log || fail "no \\r on a terminal: $(od -c tty.log | head)"
echo "ok: progress uses \\r on a terminal, whole lines elsewhere"

# --- the LLM drain: progress after the simulation, waiting ranks asleep ------------
source "$SOURCE_DIR/tests/lib_stub.sh"
stub_start 300 stub.log
cat >one.json <<'EOF'
{"scenarios": [{"id": "T1", "kind": "thermal_cascade", "start_h": 0.25, "duration_min": 30,
  "racks": [1, 2], "nodes_per_rack": 8}]}
EOF
SLOW="openai:base_url=http://127.0.0.1:$PORT/mode/slow/700/v1,model=stub,name=slow,concurrency=1"
"$MPIEXEC" -np 2 "$FLEETSIM" run --config "$DATA/small.json" --hours 1 --scenarios one.json \
  --set archive=0 --out drain --backend "$SLOW" >drain.out 2>drain.err &
MP=$!
for _ in $(seq 300); do grep -q "LLM calls answered" drain.err 2>/dev/null && break; sleep 0.1; done
grep -q "LLM calls answered" drain.err || fail "no drain line: $(cat drain.err)"
# CPU seconds (utime + stime) of every rank (mpirun's children) over 3 s of the wait
ranks=$(pgrep -P "$MP" | tr '\n' ' ')
[ -n "$ranks" ] || fail "no ranks under mpirun $MP"
cpu() { for p in $ranks; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo gone; done; }
before=$(cpu)
sleep 3
after=$(cpu)
grep -q "LLM calls answered: slow \([0-9]*\)/\1 " drain.err && fail "the drain ended before the measurement"
tck=$(getconf CLK_TCK)
paste <(echo "$before" | tr ' ' '\n') <(echo "$after" | tr ' ' '\n') | while read -r b a; do
  [ "$b" = gone ] || [ "$a" = gone ] && fail "a rank ended during the drain"
  pct=$(( (a - b) * 100 / (3 * tck) ))
  echo "rank CPU while waiting for the LLM: $pct% of a core"
  [ "$pct" -lt 25 ] || fail "a rank used $pct% of a core while rank 0 waited for the LLM"
done
wait "$MP" || fail "run with the slow backend exited $?: $(cat drain.err)"
no_cr drain.err
n=$(grep -c '"call_id"' drain/llm/contexts.jsonl) # the calls, not the run header
grep -q "^fleetsim: LLM calls answered: slow $n/$n  ETA 0:00:00$" drain.err ||
  fail "no final drain line with $n/$n: $(cat drain.err)"
echo "ok: the drain shows slow N/$n with an ETA; the ranks sleep meanwhile"

# --- escalate and export: whole progress lines, the export's estimate -----------------
"$FLEETSIM" escalate --run first --backend rules:name=again >esc.out 2>esc.err || fail "$(cat esc.err)"
no_cr esc.err
grep -qE "^fleetsim: escalate again: ([0-9]+)/\1 calls \(0 errors, 0 skipped\)" esc.err ||
  fail "escalate progress: $(cat esc.err)"
"$FLEETSIM" export --run first --format openmetrics --out first.om --nodes 0-9 >exp.out 2>exp.err ||
  fail "export: $(cat exp.err)"
no_cr exp.err
# one family per telemetry dataset of the archive, and the two annotation series
fams=$("$PY" -c "import h5py; f = h5py.File('first/fleet.h5'); print(2 + sum(len(f['/telemetry/' + s]) for s in ('gpu', 'node', 'cluster')))")
est=$(sed -n "s/^fleetsim: export: $fams families, \([0-9]*\) samples, about .* to first.om$/\1/p" exp.err)
[ -n "$est" ] || fail "no estimate line of $fams families: $(cat exp.err)"
grep -q "^fleetsim: export: 100.0% (\([0-9]*\) of $est samples, .* of ~.*), family $fams/$fams .*, ETA 0:00:00$" exp.err ||
  fail "no final export progress line of $est samples: $(cat exp.err)"
"$PY" - first.om "$est" <<'EOF' || fail "estimate vs file"
import os, sys
samples = sum(1 for l in open(sys.argv[1]) if not l.startswith("#"))
assert samples == int(sys.argv[2]), (samples, sys.argv[2])
EOF
echo "ok: escalate and export print whole lines; export's estimate ($est samples) is what it wrote"

# --- export refuses what the file system cannot take -----------------------------------
mkdir small-fs
if mount -t tmpfs -o size=1m tmpfs small-fs 2>/dev/null; then
  MNT=$SCRATCH/small-fs
  expect_fail 1 "the export would write about .* but .*small-fs has .* free" \
    "$FLEETSIM" export --run first --format openmetrics --out small-fs/x.om --nodes 0-9
  [ -z "$(ls small-fs)" ] || fail "the refused export left $(ls small-fs)"
  echo "ok: an export larger than the free space is refused, nothing written"
else
  echo "note: cannot mount a small tmpfs here (not root?): the free-space refusal is not tried"
fi
echo "e2e_first_hour: all checks passed"
