#!/usr/bin/env bash
# Scoring end to end: `fleetsim run` (rules backend) scores itself into
# DIR/results and DIR/judgment; `fleetsim score` on the finished run
# reproduces the same files; every call is scored once; an incomplete run is
# refused.
source "$(dirname "$0")/lib.sh"
dir="$SCRATCH/run"
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$dir" >/dev/null
for f in calls.jsonl summary.json summary.md detection.json; do
  [ -s "$dir/results/$f" ] || fail "no results/$f"
done
calls=$(($(wc -l <"$dir/llm/contexts.jsonl") - 1)) # after the run header
scored=$(wc -l <"$dir/results/calls.jsonl")
[ "$calls" -eq "$scored" ] || fail "$calls calls but $scored scored lines"
cp "$dir/results/summary.json" "$SCRATCH/first.json"
"$FLEETSIM" score --run "$dir" --quiet
cmp "$dir/results/summary.json" "$SCRATCH/first.json" || fail "score is not reproducible"
grep -q "^| L3 accuracy | " "$dir/results/summary.md" || fail "summary.md lacks the L3 row"
/usr/bin/python3 - "$dir/results" <<'PY' || fail "results are not well formed"
import json, sys
d = sys.argv[1]
calls = [json.loads(l) for l in open(d + "/calls.jsonl")]
keys = ["backend", "layer", "call_id", "event_id", "t_s", "scenario", "status", "latency_s",
        "tokens_in", "tokens_out", "cost_usd", "response_text", "items", "score"]
for c in calls:
    assert list(c)[:len(keys)] == keys, list(c)
    assert 0.0 <= c["score"] <= 1.0 and c["backend"] == "rules" and c["status"] == "ok"
    assert all(set(i) == {"item", "matched"} for i in c["items"])
scored = {c["scenario"] for c in calls if c["layer"] == "L3"}
assert {"S1", "S4", "S5", "S6"} <= scored, scored
summary = json.load(open(d + "/summary.json"))
print("e2e_score:", len(calls), "scored calls;", json.dumps(summary)[:200])
PY
packages=$(ls "$dir/judgment/rules/"S6_L3_*.md 2>/dev/null | wc -l)
[ "$packages" -ge 1 ] || fail "no judgment package for S6 at L3"
pkg=$(ls "$dir/judgment/rules/"S6_L3_*.md | head -n1)
for section in "## Ground truth" "## Context given to the backend" "## Response" "## Rubric"; do
  grep -q "^$section" "$pkg" || fail "$pkg lacks '$section'"
done
grep -q "Identify the straggler node" "$pkg" || fail "$pkg lacks the rubric's criteria"
mkdir -p "$SCRATCH/partial/llm"
expect_fail 2 "fleet.h5 is missing \(No such file or directory\)" "$FLEETSIM" score --run "$SCRATCH/partial"
expect_fail 2 "score: --run DIR is required" "$FLEETSIM" score
echo "e2e_score: all checks passed"
