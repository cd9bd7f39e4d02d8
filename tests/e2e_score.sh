#!/usr/bin/env bash
# Scoring end to end: `fleetsim run` (rules backend) scores itself into
# DIR/results and DIR/judgment; `fleetsim score` on the finished run
# reproduces the same files; every call is scored once; the tiered-economics
# table is there and its figures agree with the contexts; an incomplete run
# is refused.
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
# the tiered-economics table: per layer and in total, numbers that fit together
for row in "## Tiered Economics" "| rules | L2 (triage) | " "| rules | Total | " "### L2 Triage" \
  "### Pacing" "| rules | none: every call sent as soon as order and concurrency allow |"; do
  grep -qF -- "$row" "$dir/results/summary.md" || fail "summary.md lacks '$row'"
done
/usr/bin/python3 - "$dir/results/summary.json" "$dir/llm/contexts.jsonl" <<'PY' || fail "economics figures"
import json, sys
s = json.load(open(sys.argv[1]))
calls = [json.loads(l) for l in list(open(sys.argv[2]))[1:]]
e = s["backends"][0]["economics"]
day = 86400 / s["run_seconds"]
assert abs(e["per_day_factor"] - day) < 1e-9 and e["pace"] is None and e["paced_calls"] == 0, e
L = e["layers"]
for k, name in (("L2", "L2"), ("L3", "L3"), ("L4", "L4")):
    n = sum(c["layer"] == name for c in calls)
    x = L[k]
    assert x["calls"] == n and abs(x["calls_per_day"] - n * day) < 1e-6, (k, x, n)
    assert x["tokens_in_per_day"] > x["tokens_out_per_day"] > 0, (k, x)
    assert 0 <= x["latency_p50_s"] <= x["latency_p95_s"] <= x["latency_p99_s"], (k, x)
    assert 0 <= x["accuracy"] <= 1 and x["cost_per_day_usd"] == 0, (k, x)
    assert x["accuracy"] == s["backends"][0]["layers"][k]["accuracy_mean"], k
assert L["L2"]["calls"] > L["L3"]["calls"] > L["L4"]["calls"] > 0, L
assert L["L3"]["context_tokens_mean"] > L["L2"]["context_tokens_mean"] > 100, L
assert L["total"]["calls"] == len(calls)
assert abs(L["total"]["tokens_in_per_day"] - sum(L[k]["tokens_in_per_day"] for k in ("L2", "L3", "L4"))) < 1e-6
escalated = {c["event_id"] for c in calls if c["layer"] == "L3"}
l2 = [c for c in calls if c["layer"] == "L2"]
assert e["l2_events"] == len(l2) and e["resolved_at_l2"] == sum(c["event_id"] not in escalated for c in l2), e
assert sum(e["l2_classification"].values()) == len(l2), e["l2_classification"]
assert e["l2_classification"]["no_valid_answer"] == 0, e["l2_classification"]
print(f"e2e_score: economics: L2 {L['L2']['calls_per_day']:.0f}/day, L3 {L['L3']['calls_per_day']:.0f}/day, "
      f"L4 {L['L4']['calls_per_day']:.0f}/day; resolved at L2 {e['resolved_at_l2_share']:.1%}; "
      f"mix {e['l2_classification']}")
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
