#!/usr/bin/env bash
# The seed-load profile (profiles/seed-load.json) reproduces the seed's LLM
# load on the default fleet: a 24 h run (np 2, no archive) makes 1,300-1,600
# L2 calls, L3 9-14% of L2, 7 L4, context tokens per layer within 25% of
# the seed's (890 / 2,724 / 4,379), and still detects all six scenarios. The
# default profile keeps its own figures (pinned below: change them only with
# a deliberate change of the model or the detector). Every figure is printed
# as measured, so a failure shows what to re-tune in the JSON.
source "$(dirname "$0")/lib.sh"

# load DIR LABEL: one line of the run's figures, also kept as DIR/load.json
load() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
d, label = sys.argv[1], sys.argv[2]
eco = json.load(open(d + "/results/summary.json"))["backends"][0]["economics"]["layers"]
det = json.load(open(d + "/results/detection.json"))["scenarios"]
fig = {k: eco[k]["calls_per_day"] for k in ("L2", "L3", "L4")}
fig["l3_share"] = fig["L3"] / fig["L2"] if fig["L2"] else 0.0
for k in ("L2", "L3", "L4"):
    fig["ctx_" + k] = eco[k]["context_tokens_mean"]
fig["detected"] = sum(1 for s in det if s["detected"])
fig["scenarios"] = len(det)
json.dump(fig, open(d + "/load.json", "w"))
print("%s: L2 %.0f/day, L3 %.0f/day (%.1f%% of L2), L4 %.0f/day, context tokens "
      "L2 %.0f L3 %.0f L4 %.0f, detected %d/%d" % (label, fig["L2"], fig["L3"],
      100 * fig["l3_share"], fig["L4"], fig["ctx_L2"], fig["ctx_L3"], fig["ctx_L4"],
      fig["detected"], fig["scenarios"]))
PY
}

# check DIR LABEL CHECKS: each check "name lo hi" must hold for DIR/load.json;
# prints every figure against its range and fails listing the misses
check() {
  /usr/bin/python3 - "$1/load.json" "$2" "$3" <<'PY'
import json, sys
fig, label = json.load(open(sys.argv[1])), sys.argv[2]
miss = []
for line in sys.argv[3].strip().splitlines():
    name, lo, hi = line.split()
    v, lo, hi = fig[name], float(lo), float(hi)
    ok = lo <= v <= hi
    print("  %s %-9s %10.4g in [%g, %g] %s" % (label, name, v, lo, hi, "ok" if ok else "MISSED"))
    if not ok:
        miss.append("%s %.6g not in [%g, %g]" % (name, v, lo, hi))
if miss:
    sys.exit("%s: %s" % (label, "; ".join(miss)))
PY
}

profile="$SOURCE_DIR/profiles/seed-load.json"
[ -f "$profile" ] || fail "$profile is missing"
"$FLEETSIM" validate --config "$profile" >/dev/null || fail "$profile does not validate"

seed="$SCRATCH/seed-load"
run_np 2 run --quiet --config "$profile" --set archive=0 --out "$seed" >/dev/null
load "$seed" seed-load
# the seed: 1,440 L2, 165 L3 (11%), 7 L4; 890 / 2,724 / 4,379 context tokens
check "$seed" seed-load "
L2 1300 1600
l3_share 0.09 0.14
L4 7 7
ctx_L2 667.5 1112.5
ctx_L3 2043 3405
ctx_L4 3284.25 5473.75
detected 6 6
" || fail "the seed-load profile misses the seed's load (figures above): re-tune" \
  "profiles/seed-load.json"

def="$SCRATCH/default"
run_np 2 run --quiet --set archive=0 --out "$def" >/dev/null
load "$def" default
# the default profile's figures, exact (context tokens to the token)
check "$def" default "
L2 142 142
L3 33 33
L4 7 7
ctx_L2 814 815
ctx_L3 3082 3083
ctx_L4 1138 1139
detected 6 6
" || fail "the default profile's load changed (figures above)"
echo "ok: seed-load profile at the seed's load, default profile unchanged"
