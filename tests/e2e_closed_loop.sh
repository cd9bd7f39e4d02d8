#!/usr/bin/env bash
# run --closed-loop on the small fleet: the rules backend's actions take
# effect (its transcript lines carry their decisions, the fleet differs from
# the open-loop run), every twin leaves its record and results/outcomes.md
# compares them; a replay of the transcript reproduces the run bit-identically
# at np 2 and 3, as does a fresh rules run at np 2; misuse is refused.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CFG=(--config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json")
run_np 1 run --quiet --closed-loop "${CFG[@]}" --out "$SCRATCH/np1" >"$SCRATCH/np1.log"
MD="$SCRATCH/np1/results/outcomes.md"
[ -f "$MD" ] || fail "no results/outcomes.md"
for row in fault-free no-action oracle rules salad pasted; do
  grep -q "^| $row | " "$MD" || fail "outcomes.md has no row for $row"
done
grep -q "^Made by \`fleetsim run --quiet --closed-loop" "$MD" || fail "outcomes.md lacks the command"
echo "ok: outcomes.md compares fault-free, no-action, oracle, rules, salad and pasted"

# the decisions: in the transcript, timed at block boundaries after the
# answer, and applied (the record lists them)
"$PY" - "$SCRATCH/np1" <<'EOF' || fail "decisions or records are not as expected"
import json, sys
d = sys.argv[1]
lines = [json.loads(l) for l in open(d + "/llm/rules.jsonl")][1:]
dec = [l for l in lines if l["layer"] in ("L3", "L4")]
assert dec and all("decision" in l for l in dec), "an L3/L4 line without its decision"
assert not any("decision" in l for l in lines if l["layer"] == "L2"), "an L2 line with a decision"
for l in dec:
    x = l["decision"]
    assert x["apply_s"] > x["issued_s"] and x["apply_s"] % 300 == 0, x
    assert x["due_s"] >= x["issued_s"], x
acting = [a for l in dec for a in l["decision"]["actions"] if a["action"] != "no_op"]
assert acting, "the rules backend asked for no action"
rec = json.load(open(d + "/closed_loop/rules.json"))
assert rec["role"] == "backend" and rec["latency_pace"] == 1
applied = [a for a in rec["actions"] if a["action"] != "no_op"]
assert applied and all(a["t_s"] % 300 == 0 for a in applied), "no action took effect"
for p in ("fault-free", "no-action"):
    assert json.load(open(d + "/closed_loop/%s.json" % p))["actions"] == [], p
salad = json.load(open(d + "/closed_loop/salad.json"))
assert len(salad["actions"]) > len(rec["actions"]), "salad did not act on everything"
print("ok: %d decisions, %d actions taken by rules, %d by salad"
      % (len(dec), len(applied), len(salad["actions"])))
EOF

# the actions changed the fleet: the open-loop run's telemetry differs
run_np 1 run --quiet "${CFG[@]}" --out "$SCRATCH/open" >/dev/null
if h5diff -q "$SCRATCH/np1/fleet.h5" "$SCRATCH/open/fleet.h5" /telemetry /telemetry >/dev/null; then
  fail "the closed-loop run's telemetry equals the open-loop run's"
fi
echo "ok: the closed-loop telemetry differs from the open-loop run's"

same_run() { # DIR: its archive and twins equal np1's
  for group in /telemetry /events /ground_truth; do
    h5diff -r "$SCRATCH/np1/fleet.h5" "$1/fleet.h5" "$group" "$group" >/dev/null \
      || fail "$1 differs from np 1 in $group"
  done
  for p in fault-free no-action oracle salad pasted; do
    cmp -s "$SCRATCH/np1/closed_loop/$p.json" "$1/closed_loop/$p.json" \
      || fail "$1: the $p twin's record differs from np 1's"
  done
}
for np in 2 3; do
  run_np "$np" run --quiet --closed-loop "${CFG[@]}" \
    --backend "replay:path=$SCRATCH/np1/llm/rules.jsonl" --out "$SCRATCH/replay$np" >/dev/null
  same_run "$SCRATCH/replay$np"
  "$PY" - "$SCRATCH/np1/closed_loop/rules.json" "$SCRATCH/replay$np/closed_loop/replay.json" <<'EOF' \
    || fail "np $np: the replay's outcome record differs from the rules run's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("jobs", "tenants", "gpu_s_out", "actions", "decisions", "rejected"):
    assert a[k] == b[k], k
EOF
  echo "ok: np $np replay of the transcript reproduces the closed-loop run"
done
run_np 2 run --quiet --closed-loop "${CFG[@]}" --out "$SCRATCH/np2" >/dev/null
same_run "$SCRATCH/np2"
cmp -s "$SCRATCH/np1/closed_loop/rules.json" "$SCRATCH/np2/closed_loop/rules.json" \
  || fail "np 2: the rules twin's record differs from np 1's"
echo "ok: np 2 rules closed loop equals np 1"

# a second run into the directory needs --force, which clears the twins too
expect_fail 2 "holds another run" run_np 1 run --closed-loop "${CFG[@]}" --out "$SCRATCH/np1"
run_np 1 run --quiet --closed-loop --force "${CFG[@]}" --out "$SCRATCH/np1" >/dev/null
[ -f "$SCRATCH/np1/closed_loop/oracle.json" ] || fail "--force lost the oracle record"
expect_fail 2 "closed-loop" run_np 1 run --closed-loop "${CFG[@]}" --backend rules \
  --backend "rules:name=second" --out "$SCRATCH/two"
expect_fail 2 "closed-loop" run_np 1 run --closed-loop --no-llm "${CFG[@]}" --out "$SCRATCH/x"
expect_fail 2 "closed-loop" run_np 1 run --closed-loop --pace 60 "${CFG[@]}" --out "$SCRATCH/x"
expect_fail 2 "closed-loop" run_np 1 run --closed-loop --resume "${CFG[@]}" --out "$SCRATCH/np1"
[ ! -e "$SCRATCH/two" ] && [ ! -e "$SCRATCH/x" ] || fail "a refused run left a directory"
