#!/usr/bin/env bash
# The kinds that take a GPU or a link away or stop and stretch a training job
# (gpu_off_bus on a job node and on an inference node, pcie_degradation,
# hbm_uncorrectable, storage_slowdown, nic_flap), beside the six kinds of
# the specification, on the default 24 h fleet (tests/data/job_io_scenarios.json,
# archive off, np 2). The generic L1 detector detects and localizes every
# scenario (results/detection.json). The calibration oracle (the ground
# truth in words of its own) scores >= 80% strict at every layer, and, when
# its transcript is replayed as a backend on the same run, on every scenario
# at every layer: a right answer about a new kind scores, in any window.
source "$(dirname "$0")/lib.sh"

file="$DATA/job_io_scenarios.json"
out="$SCRATCH/run"
run_np 2 run --quiet --set archive=0 --scenarios "$file" --out "$out" >/dev/null
cp "$out/calibration/oracle.jsonl" "$SCRATCH/oracle.jsonl"
# the same run again (same calls) with the oracle's answers as a backend
run_np 2 run --quiet --set archive=0 --scenarios "$file" \
  --backend "replay:path=$SCRATCH/oracle.jsonl,name=oracle" --out "$SCRATCH/replay" >/dev/null

/usr/bin/python3 - "$file" "$out/results" "$SCRATCH/replay/results" <<'PY' \
  || fail "detection or the oracle's scores on $file (above)"
import json, sys
want = [s["id"] for s in json.load(open(sys.argv[1]))["scenarios"]]
det = json.load(open(sys.argv[2] + "/detection.json"))
seen = [s["id"] for s in det["scenarios"]]
assert seen == want, (seen, want)
bad = 0
for s in det["scenarios"]:
    print("%-3s %-24s detected %-5s localized %s" % (s["id"], s["kind"], s["detected"],
                                                    s["localized"]))
    bad += not (s["detected"] and s["localized"])
assert bad == 0, "%d scenarios not detected or not localized" % bad
cal = {o["name"]: o for o in json.load(open(sys.argv[2] + "/calibration.json"))["operators"]}
for layer, v in cal["oracle"]["layers"].items():
    print("oracle %s strict macro %.0f%%" % (layer, 100 * v["strict_macro"]))
    assert v["strict_macro"] >= 0.8, (layer, v)
backends = {b["name"]: b for b in json.load(open(sys.argv[3] + "/summary.json"))["backends"]}
scored = set()
for layer, v in backends["oracle"]["layers"].items():
    assert v["errors"] == 0 and v["unparsable"] == 0, (layer, v)
    for s in v["by_scenario"]:
        if s["calls"] == 0 or s["id"] == "none":
            continue
        scored.add(s["id"])
        ok = s["accuracy"] >= 0.8
        bad += not ok
        if not ok:
            print("oracle %s %s (%s): %.0f%% over %d calls" % (layer, s["id"], s["kind"],
                                                               100 * s["accuracy"], s["calls"]))
assert scored == set(want), sorted(set(want) - scored)
assert bad == 0, "%d scenario-layers where the oracle scores below 80%%" % bad
PY
echo "ok: every scenario of $(basename "$file") detected and localized; the oracle >= 80% on each"
