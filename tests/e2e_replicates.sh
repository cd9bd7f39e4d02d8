#!/usr/bin/env bash
# analysis/replicates.py: two replicates with randomized scenario files on
# the small fleet give a table of means with 95% intervals and a JSON file.
source "$(dirname "$0")/lib.sh"
out="$SCRATCH/rep"
/usr/bin/python3 "$SOURCE_DIR/analysis/replicates.py" --runs 2 --random --fleetsim "$FLEETSIM" \
  --out "$out" -- --config "$DATA/small.json" >"$SCRATCH/table.md"
grep -qE '^\| rules L3 accuracy \(strict\) \| [0-9.]+ \| ± [0-9.e+-]+ \|$' "$SCRATCH/table.md" \
  || fail "no L3 accuracy row with an interval: $(cat "$SCRATCH/table.md")"
grep -q '^| L1 scenarios detected (share) |' "$SCRATCH/table.md" || fail "no L1 row"
/usr/bin/python3 -c "
import json, sys
d = json.load(open('$out/replicates.json'))
assert d['runs'] == 2 and d['random'] is True
f = d['figures']['rules L2 accuracy (strict)']
assert len(f['values']) == 2 and 0 <= f['mean'] <= 1 and f['ci95'] is not None
" || fail "replicates.json is not as expected"
[ -f "$out/run000/results/summary.json" ] && [ -f "$out/run001/results/summary.json" ] \
  || fail "replicate runs missing"
expect_fail 2 "at least 2" /usr/bin/python3 "$SOURCE_DIR/analysis/replicates.py" --runs 1 \
  --fleetsim "$FLEETSIM"
echo "e2e_replicates: all checks passed"
