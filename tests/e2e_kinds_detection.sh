#!/usr/bin/env bash
# Every registered fault kind, drawn at random with co-occurring faults
# (`fleetsim scenarios --random`, two scenarios per kind), must be detected
# and localized by L1 in at least 90% of its scenarios, and the per-kind
# table (results/kinds.json) must agree with results/detection.json. By
# default the small fleet of the tests over 6 simulated hours at np 2; the
# acceptance check of the default fleet over 24 h (about 6 GB, a minute):
#   FLEETSIM_KINDS_FULL=1 KEEP=/tmp/dir tests/e2e_kinds_detection.sh
# (KEEP keeps the run there; MIN_SHARE changes the bar, SEED the draw).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
SEED=${SEED:-3}
MIN_SHARE=${MIN_SHARE:-0.9}
OUT=${KEEP:-$SCRATCH/run}
nkinds=$("$FLEETSIM" scenarios --kinds | grep -c '^### ')
[ "$nkinds" -ge 1 ] || fail "scenarios --kinds lists no kind"
if [ -n "${FLEETSIM_KINDS_FULL:-}" ]; then
  cfg=()
else
  cfg=(--config "$DATA/small.json" --set hours=6)
fi
"$FLEETSIM" scenarios "${cfg[@]}" --random $((2 * nkinds)) --seed "$SEED" \
  --out "$SCRATCH/random.json" || fail "scenarios --random failed"
rm -rf "$OUT"
run_np 2 run --quiet "${cfg[@]}" --scenarios "$SCRATCH/random.json" --out "$OUT" \
  >"$SCRATCH/run.log" 2>&1 || fail "run failed: $(tail -5 "$SCRATCH/run.log")"
"$PY" - "$OUT/results" "$MIN_SHARE" "$nkinds" <<'PY' || fail "per-kind detection below the bar"
import json, sys
res, bar, nkinds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
det = json.load(open(res + "/detection.json"))["scenarios"]
kinds = json.load(open(res + "/kinds.json"))["kinds"]
assert len(det) == 2 * nkinds, f"{len(det)} scenarios, expected {2 * nkinds}"
assert {k["kind"] for k in kinds} == {s["kind"] for s in det}, "kinds.json lists other kinds"
for k in kinds:
    mine = [s for s in det if s["kind"] == k["kind"]]
    assert k["scenarios"] == len(mine), k
    assert k["detected"] == sum(s["detected"] for s in mine), k
    assert k["localized"] == sum(s["localized"] for s in mine), k
    for b in k["backends"]:
        for layer in ("L2", "L3"):
            m = b[layer]["strict_mean"]
            assert m is None or 0 <= m <= 1, (k["kind"], b["name"], layer, m)
ok = [s for s in det if s["detected"] and s["localized"]]
for s in det:
    print(f'{s["id"]:4} {s["kind"]:26} detected={s["detected"]} localized={s["localized"]}')
share = len(ok) / len(det)
print(f"detected and localized: {len(ok)}/{len(det)} = {share:.0%} (bar {bar:.0%})")
sys.exit(0 if share >= bar else 1)
PY
echo "ok: every kind detected and localized in at least ${MIN_SHARE} of its random scenarios"
