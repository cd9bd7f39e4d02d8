#!/usr/bin/env bash
# The closed loop on the default file (24 h, the built-in S1-S6, the rules
# backend) at np 2: results/outcomes.md shows the fault-free, no-action and
# oracle twins, the rules reference and the two null operators; the oracle
# recovers its whole gain and mitigates every scenario but the HBM wear it
# defers, the drain-everything operator (salad) removes the most healthy
# capacity and loses the most, and README's outcome table is this run's.
source "$(dirname "$0")/lib.sh"
run_np 2 run --quiet --closed-loop --out "$SCRATCH/cl" >"$SCRATCH/cl.log"
MD="$SCRATCH/cl/results/outcomes.md"
for row in fault-free no-action oracle rules salad pasted; do
  grep -q "^| $row | " "$MD" || fail "outcomes.md has no row for $row"
done
/usr/bin/python3 - "$SCRATCH/cl/results/outcomes.json" <<'EOF' || fail "the outcomes are not as expected"
import json, sys
o = json.load(open(sys.argv[1]))
p = {x["policy"]: x for x in o["policies"]}
na, orc, rules, salad = p["no-action"], p["oracle"], p["rules"], p["salad"]
assert orc["oracle_gain_recovered_percent"] == 100, orc
assert orc["gpu_hours_lost"] < na["gpu_hours_lost"], (orc, na)
assert orc["scenarios_mitigated"] >= 5, orc  # S3: the oracle defers the HBM repair
assert na["actions"] == 0 and na["scenarios_mitigated"] == 0, na
assert rules["actions"] > 0 and rules["scenarios_mitigated"] >= 4, rules
others = [x["collateral_gpu_hours"] for k, x in p.items() if k != "salad"]
assert salad["collateral_gpu_hours"] > max(others), salad
assert salad["gpu_hours_lost"] > max(x["gpu_hours_lost"] for k, x in p.items() if k != "salad")
print("ok: oracle %.0f, rules %.0f, no-action %.0f, salad %.0f GPU-h lost; salad's collateral "
      "%.0f GPU-h" % (orc["gpu_hours_lost"], rules["gpu_hours_lost"], na["gpu_hours_lost"],
                      salad["gpu_hours_lost"], salad["collateral_gpu_hours"]))
EOF
# README shows this run's table (the rows, not the command line above them)
sed -n '/<!-- outcomes table -->/,/<!-- \/outcomes table -->/p' "$SOURCE_DIR/README.md" \
  | grep '^|' >"$SCRATCH/readme_rows"
awk '/^\| policy \|/ {on = 1} on && /^\|/ {print} on && !/^\|/ {exit}' "$MD" >"$SCRATCH/run_rows"
[ -s "$SCRATCH/run_rows" ] || fail "no table in $MD"
diff "$SCRATCH/readme_rows" "$SCRATCH/run_rows" \
  || fail "README.md's outcome table differs from this run's results/outcomes.md (above)"
echo "ok: README's outcome table is the default closed-loop run's"
