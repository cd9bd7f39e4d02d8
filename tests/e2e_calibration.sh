#!/usr/bin/env bash
# The scorer's calibration suite, regenerated: the default 24 h fleet, three
# `fleetsim scenarios --random` files of the six rule-covered kinds and one
# over every registered kind (archive off, np 2) each write
# results/calibration.md and .json, and every target holds (null operators
# <= 45% at L2 and <= 25% at L3 and L4, rules and the oracle >= 80%, strict,
# macro). README.md shows the default run's table exactly as regenerated. On
# the same calls the benchmark's regex score still rewards the keyword
# salad, which the strict score does not. A null operator's transcript
# replays through `fleetsim escalate` and scores as in the table.
source "$(dirname "$0")/lib.sh"

# check_met DIR LABEL: every target of DIR/results/calibration.json holds
check_met() {
  /usr/bin/python3 - "$1/results/calibration.json" "$2" <<'PY' || fail "$2: calibration targets not met"
import json, sys
j = json.load(open(sys.argv[1]))
rows = {o["name"]: o for o in j["operators"]}
want = {"constant", "echo", "denial", "salad", "hedge", "pasted", "echo-salad", "rules", "oracle"}
assert want <= set(rows), sorted(rows)
for o in j["operators"]:
    line = "  ".join("%s %.0f%%" % (k, 100 * v["strict_macro"]) for k, v in o["layers"].items()
                     if v["strict_macro"] is not None)
    print("%s: %-10s %s%s" % (sys.argv[2], o["name"], line,
                              "" if all(v["met"] for v in o["layers"].values()) else "  NOT MET"))
assert j["all_met"] is True
# the benchmark's regex score is fooled by the salad at L3; the strict one is not
salad = rows["salad"]["layers"]["L3"]
assert salad["regex_mean"] >= 0.6 and salad["strict_macro"] <= 0.25, salad
PY
}

out="$SCRATCH/default"
run_np 2 run --quiet --set archive=0 --out "$out" >/dev/null
check_met "$out" default
# README.md carries the default run's table as regenerated here
table() { grep '^| ' "$1"; }
table "$out/results/calibration.md" >"$SCRATCH/want.md"
sed -n '/<!-- calibration table -->/,/<!-- \/calibration table -->/p' "$SOURCE_DIR/README.md" \
  | grep '^| ' >"$SCRATCH/readme.md" || true
diff -u "$SCRATCH/readme.md" "$SCRATCH/want.md" \
  || fail "README.md's calibration table differs from the regenerated one (above)"

# random files of the six kinds the rules reference has a rule for (judged)
six=thermal_cascade,expert_routing_collapse,hbm_degradation,fabric_microburst
six+=,kv_cache_eviction_storm,training_straggler
for seed in 101 202 303; do
  "$FLEETSIM" scenarios --random 6 --seed "$seed" --kinds "$six" --out "$SCRATCH/random$seed.json"
  run_np 2 run --quiet --set archive=0 --scenarios "$SCRATCH/random$seed.json" \
    --out "$SCRATCH/r$seed" >/dev/null
  check_met "$SCRATCH/r$seed" "random $seed"
  grep -q '"untuned_scenarios": 0' "$SCRATCH/r$seed/results/calibration.json" \
    || fail "random $seed: rules not judged on a file of rule-covered kinds"
done

# a random file over every registered kind (two scenarios a kind): the null
# operators and the oracle judged; rules not judged (kinds it has no rule for)
nkinds=$("$FLEETSIM" scenarios --kinds | grep -c '^### ')
"$FLEETSIM" scenarios --random $((2 * nkinds)) --seed 3 --out "$SCRATCH/all.json"
run_np 2 run --quiet --set archive=0 --scenarios "$SCRATCH/all.json" --out "$SCRATCH/all" >/dev/null
check_met "$SCRATCH/all" "all kinds"
grep -q 'The rules reference is not judged here' "$SCRATCH/all/results/calibration.md" \
  || fail "all kinds: the rules reference judged on kinds it has no rule for"

# a null operator's transcript replays like any backend and scores as in the table
small="$SCRATCH/small"
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$small" >/dev/null
cp "$small/calibration/salad.jsonl" "$SCRATCH/salad.jsonl"
"$FLEETSIM" escalate --quiet --run "$small" --backend "replay:path=$SCRATCH/salad.jsonl,name=salad" \
  >/dev/null
"$FLEETSIM" score --quiet --run "$small"
/usr/bin/python3 - "$small/results" <<'PY' || fail "the replayed salad scores differ from the table"
import json, sys
d = sys.argv[1]
cal = {o["name"]: o for o in json.load(open(d + "/calibration.json"))["operators"]}
summ = {b["name"]: b for b in json.load(open(d + "/summary.json"))["backends"]}
for layer in ("L2", "L3", "L4"):
    a = summ["salad"]["layers"][layer]["accuracy_macro"]
    b = cal["salad"]["layers"][layer]["strict_macro"]
    assert a == b or abs(a - b) < 1e-12, (layer, a, b)
print("replayed salad: L2 %.2f L3 %.2f L4 %.2f (as in calibration.json)" % tuple(
    summ["salad"]["layers"][k]["accuracy_macro"] for k in ("L2", "L3", "L4")))
PY
echo "e2e_calibration: all checks passed"
