#!/usr/bin/env bash
# --help and --version tell the truth; validate accepts the defaults and the
# shipped files; `scenarios --random` writes files that validate.
source "$(dirname "$0")/lib.sh"
"$FLEETSIM" --help >"$SCRATCH/help.txt"
for word in "fleetsim run" validate "scenarios --random" --config --scenarios --out --seed \
  --hours --quiet --no-llm nodes racks window_scrapes jobs; do
  grep -q -- "$word" "$SCRATCH/help.txt" || fail "--help does not mention $word"
done
"$FLEETSIM" --version | grep -qE '^fleetsim [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]+|unknown\)' \
  || fail "--version: $("$FLEETSIM" --version)"
"$FLEETSIM" validate | grep -q "1000 nodes x 8 GPUs in 25 racks, 5 jobs, 5760 scrapes" \
  || fail "validate of the defaults"
"$FLEETSIM" validate --scenarios "$SOURCE_DIR/scenarios/default.json" | grep -q "6 scenarios" \
  || fail "validate of scenarios/default.json"
run_np 2 validate --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" >/dev/null
for seed in 1 2 3 4 5; do
  "$FLEETSIM" scenarios --random 8 --seed "$seed" --out "$SCRATCH/random$seed.json"
  "$FLEETSIM" validate --scenarios "$SCRATCH/random$seed.json" | grep -q "8 scenarios" \
    || fail "random file $seed does not validate"
done
"$FLEETSIM" scenarios --random 8 --seed 3 | cmp - "$SCRATCH/random3.json" \
  || fail "scenarios --random is not deterministic"
"$FLEETSIM" scenarios --random 4 --seed 9 --config "$DATA/small.json" >"$SCRATCH/small-random.json"
"$FLEETSIM" validate --config "$DATA/small.json" --scenarios "$SCRATCH/small-random.json" >/dev/null
echo "e2e_cli: all checks passed"
