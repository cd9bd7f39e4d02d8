#!/usr/bin/env bash
# Paced escalation (escalate/run --pace X) against the loopback stub in its
# load mode (latency = 100 ms + 60 ms per other request in flight): a short
# run's contexts through `escalate` unpaced (a burst at concurrency 16) and
# paced so that they take about 30 s (the events' own arrival spread). Checks
# that no call started before its paced time (from the transcript's times
# and t_s alone), that the paced p95 latency is below the burst's, that the
# summary line and results/summary.md state the pace, that `run --pace`
# drains the held calls with a progress line, and the usage errors.
source "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

STUB_PID=
cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
source "$SOURCE_DIR/tests/lib_stub.sh"
stub_start 300 "$SCRATCH/stub.log" --load-ms-per-request 60
URL="http://127.0.0.1:$PORT/mode/load/100/v1"

DIR="$SCRATCH/run"
"$FLEETSIM" run --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$DIR" --no-llm --quiet >/dev/null
CTX="$DIR/llm/contexts.jsonl"
# the pace that spreads the calls' simulated span over 30 s of wall time
PACE=$(/usr/bin/python3 - "$CTX" <<'EOF'
import json, sys
t = [json.loads(l)["t_s"] for l in list(open(sys.argv[1]))[1:]]
print(f"{(max(t) - min(t)) / 30:.6g}")
EOF
)
echo "pace $PACE: the calls' span in 30 s"

spec() { echo "openai:base_url=$URL,model=stub,name=$1,concurrency=16"; }
"$FLEETSIM" escalate --run "$DIR" --quiet --backend "$(spec burst)" >"$SCRATCH/burst.out"
cat "$SCRATCH/burst.out"
grep -q "pace" "$SCRATCH/burst.out" && fail "the unpaced summary names a pace"
t0=$(date +%s.%N)
"$FLEETSIM" escalate --run "$DIR" --backend "$(spec paced)" --pace "$PACE" \
  >"$SCRATCH/paced.out" 2>"$SCRATCH/paced.err"
t1=$(date +%s.%N)
cat "$SCRATCH/paced.out"
grep -q ", pace $PACE (a simulated day in " "$SCRATCH/paced.out" \
  || fail "the paced summary does not state the pace: $(cat "$SCRATCH/paced.out")"
grep -q "held by --pace" "$SCRATCH/paced.err" \
  || fail "no progress line with the held calls: $(cat "$SCRATCH/paced.err")"

/usr/bin/python3 - "$CTX" "$DIR/llm/burst.jsonl" "$DIR/llm/paced.jsonl" "$PACE" "$t0" "$t1" \
  <<'EOF' || fail "pacing checks"
import json, sys
ctx = [json.loads(l) for l in list(open(sys.argv[1]))[1:]]
burst = [json.loads(l) for l in list(open(sys.argv[2]))[1:]]
paced = [json.loads(l) for l in list(open(sys.argv[3]))[1:]]
pace, wall = float(sys.argv[4]), float(sys.argv[6]) - float(sys.argv[5])
t0 = ctx[0]["t_s"]  # the first call released
assert len(burst) == len(paced) == len(ctx), (len(burst), len(paced), len(ctx))
assert all(l["status"] == "ok" for l in burst + paced), "a call failed"
assert all("pace" not in l and "start_s" not in l for l in burst), "unpaced lines have pace fields"
late = []
for l in paced:
    due = max(0.0, (l["t_s"] - t0) / pace)  # from t_s alone, not the engine's due_s
    assert l["pace"] == pace, l
    assert abs(l["due_s"] - due) < 1e-6, (l["call_id"], l["due_s"], due)
    assert l["start_s"] >= due - 1e-6, f"{l['call_id']} started at {l['start_s']} s, due {due} s"
    assert l["release_s"] >= due - 1e-6 and l["start_s"] >= l["release_s"] - 1e-6, l
    assert abs(l["queue_s"] - (l["start_s"] - l["release_s"])) < 1e-6, l
    if l["layer"] == "L2":
        late.append(l["start_s"] - due)
span = (max(c["t_s"] for c in ctx) - t0) / pace
assert max(l["start_s"] for l in paced) >= span - 1e-6 and wall >= span, (wall, span)
late.sort()
assert late[len(late) // 2] < 0.5, f"L2 calls started {late[len(late) // 2]:.3f} s late (median)"

def p95(v):  # numpy's linear interpolation
    v = sorted(v)
    r = 0.95 * (len(v) - 1)
    lo = int(r)
    return v[lo] + (r - lo) * (v[min(lo + 1, len(v) - 1)] - v[lo])

pb, pp = p95([l["latency_s"] for l in burst]), p95([l["latency_s"] for l in paced])
print(f"ok: {len(paced)} calls released over {span:.1f} s (wall {wall:.1f} s), none before its "
      f"paced time, median L2 lateness {1000 * late[len(late) // 2]:.1f} ms; latency p95 "
      f"{pp:.3f} s paced vs {pb:.3f} s burst")
assert pp < pb, f"paced p95 {pp:.3f} s is not below the burst's {pb:.3f} s"
EOF

"$FLEETSIM" score --run "$DIR" --quiet
MD="$DIR/results/summary.md"
grep -q "^| paced | $PACE (a simulated day in [0-9:]*) | " "$MD" \
  || fail "summary.md does not state the pace: $(grep -A5 '### Pacing' "$MD")"
grep -q "^| burst | none: every call sent as soon as order and concurrency allow | " "$MD" \
  || fail "summary.md does not say the burst was unpaced"
/usr/bin/python3 - "$DIR/results/summary.json" "$PACE" <<'EOF' || fail "summary.json pacing"
import json, sys
b = {x["name"]: x["economics"] for x in json.load(open(sys.argv[1]))["backends"]}
assert b["paced"]["pace"] == float(sys.argv[2]) and b["burst"]["pace"] is None, b
assert b["paced"]["paced_calls"] == b["paced"]["layers"]["total"]["calls"] > 0
assert b["burst"]["layers"]["L2"]["queue_mean_s"] is None
assert b["paced"]["layers"]["L2"]["latency_p95_s"] < b["burst"]["layers"]["L2"]["latency_p95_s"]
print("ok: summary.json: pace", b["paced"]["pace"], "and queueing delay of L2",
      round(b["paced"]["layers"]["L2"]["queue_mean_s"], 4), "s")
EOF
echo "ok: results/summary.md states the pace of each backend"

# --- run --pace: the run loop goes on, the drain waits for the held calls ---
R="$SCRATCH/paced-run"
RPACE=$(/usr/bin/python3 -c "print(f'{float(\"$PACE\") * 6:.6g}')") # about 5 s
"$FLEETSIM" run --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$R" --pace "$RPACE" >"$SCRATCH/run.out" 2>"$SCRATCH/run.err"
grep -q "backend rules: .*, pace $RPACE (a simulated day in " "$SCRATCH/run.out" \
  || fail "run --pace: no paced summary: $(grep backend "$SCRATCH/run.out")"
grep -q "LLM calls answered: rules .* held by --pace" "$SCRATCH/run.err" \
  || fail "run --pace: the drain's progress line lacks the held calls: $(cat "$SCRATCH/run.err")"
/usr/bin/python3 - "$R/llm/rules.jsonl" "$RPACE" <<'EOF' || fail "run --pace transcript"
import json, sys
lines = [json.loads(l) for l in list(open(sys.argv[1]))[1:]]
pace, t0 = float(sys.argv[2]), lines and min(l["t_s"] for l in lines)
for l in lines:
    assert l["pace"] == pace and l["start_s"] >= l["release_s"] - 1e-6 >= l["due_s"] - 2e-6, l
print(f"ok: run --pace {pace}: {len(lines)} calls, the last started at "
      f"{max(l['start_s'] for l in lines):.2f} s")
EOF

# --- usage ---------------------------------------------------------------------
expect_fail 2 "--pace 0: expected a number > 0" "$FLEETSIM" escalate --run "$DIR" --backend rules --pace 0
expect_fail 2 "--pace -3: expected a number > 0" "$FLEETSIM" run --pace -3 --out "$SCRATCH/x"
expect_fail 2 "--pace and --no-llm exclude each other" "$FLEETSIM" run --no-llm --pace 60 --out "$SCRATCH/x"
[ ! -e "$SCRATCH/x" ] || fail "a refused run created its directory"
"$FLEETSIM" validate --pace 1 >"$SCRATCH/validate.out"
grep -q "^fleetsim: --pace 1 (a simulated day in 24:00:00): the LLM calls are released over up to 24:00:00 of wall time" \
  "$SCRATCH/validate.out" || fail "validate does not estimate the paced time: $(cat "$SCRATCH/validate.out")"
echo "e2e_pace: all checks passed"
