#!/usr/bin/env bash
# The sbatch chain on a real (private, single-node) Slurm: slurm/local_cluster.sh
# starts munged, slurmctld and slurmd in the scratch directory; submit_chain.sh
# runs simulate (srun --mpi=pmix, 2 ranks) -> escalate array (rules, rules2)
# -> score and waits. Checks every job's state and last log line, fleet.h5
# complete, one transcript line per call for both backends, both in
# summary.md; then score.sbatch submitted on its own from another directory
# (sbatch runs a copy of the script: the checkout is found anyway). Exit 77
# (skipped) where Slurm or munge is not installed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_slurm.sh"
sinfo
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' "$SLURM_CONF")
NP=$((cpus < 2 ? cpus : 2))

WORK="$SCRATCH/work"
mkdir -p "$WORK"
cd "$WORK"
printf '# backends for the chain test\nrules\n\nrules:name=rules2\n' >backends.txt
t0=$(date +%s)
rc=0
FLEETSIM_NTASKS=$NP FLEETSIM_POLL_S=1 timeout 240 "$SOURCE_DIR/slurm/submit_chain.sh" --wait \
  backends.txt --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --quiet >chain.out 2>&1 || rc=$?
cat chain.out
for f in logs/*; do echo "--- $f"; cat "$f"; done
[ "$rc" -eq 0 ] || fail "submit_chain.sh --wait exited $rc"
echo "ok: chain finished in $(($(date +%s) - t0)) s"
sim=$(sed -n 's/^simulate=//p' chain.out)
esc=$(sed -n 's/^escalate=//p' chain.out)
score=$(sed -n 's/^score=//p' chain.out)
[ -n "$sim" ] && [ -n "$esc" ] && [ -n "$score" ] || fail "job ids missing from the driver's output"
for want in "simulate $sim: COMPLETED exit 0:0" "escalate ${esc}_1: COMPLETED exit 0:0" \
  "escalate ${esc}_2: COMPLETED exit 0:0" "score $score: COMPLETED exit 0:0"; do
  grep -qF "$want" chain.out || fail "the driver did not report '$want'"
done
# last_line LOG WANT: the job log exists and ends with WANT.
last_line() {
  [ -f "$1" ] || fail "no job log $1: $(ls logs)"
  [ "$(tail -n1 "$1")" = "$2" ] || fail "$1 ends with '$(tail -n1 "$1")', expected '$2'"
}
last_line "logs/fleetsim-simulate-$sim.out" "fleetsim-slurm: simulate exit 0"
last_line "logs/fleetsim-escalate-${esc}_1.out" "fleetsim-slurm: escalate[1] exit 0"
last_line "logs/fleetsim-escalate-${esc}_2.out" "fleetsim-slurm: escalate[2] exit 0"
last_line "logs/fleetsim-score-$score.out" "fleetsim-slurm: score exit 0"
grep -q "fleetsim-slurm: $NP ranks via srun --mpi=pmix" "logs/fleetsim-simulate-$sim.out" ||
  fail "simulate did not launch $NP ranks with srun --mpi=pmix"
grep -q "fleetsim: .* scrapes of 15 s, $NP ranks" "logs/fleetsim-simulate-$sim.out" ||
  fail "fleetsim did not run on $NP ranks (one MPI world)"
grep -q "backend 2 of 2: rules:name=rules2" "logs/fleetsim-escalate-${esc}_2.out" ||
  fail "array task 2 did not take the second spec"
echo "ok: states and job logs (simulate on $NP ranks, escalate 1-2, score)"

RUN="$WORK/fleetsim-run"
/usr/bin/python3 - "$RUN" <<'PY' || fail "run directory check"
import json, sys
import h5py
run = sys.argv[1]
with h5py.File(run + "/fleet.h5", "r") as f:
    assert f.attrs["complete"] == 1, f"complete = {f.attrs['complete']}"
    t = f["/time/seconds"].shape[0]
assert t == 720, f"{t} scrapes for 3 h"
def records(path):  # the lines after the run header
    lines = [json.loads(l) for l in open(path)]
    assert "fleetsim_run" in lines[0], f"{path}: no run header"
    return lines[1:]
calls = sorted(c["call_id"] for c in records(run + "/llm/contexts.jsonl"))
assert len(calls) > 10, f"only {len(calls)} calls"
for b in ("rules", "rules2"):
    lines = records(f"{run}/llm/{b}.jsonl")
    assert sorted(l["call_id"] for l in lines) == calls, f"{b}.jsonl: {len(lines)} lines for {len(calls)} calls"
    assert all(l["status"] == "ok" for l in lines), f"{b}: error lines"
summary = open(run + "/results/summary.md").read()
assert "| Metric | rules | rules2 |" in summary, summary[:300]
backends = {json.loads(l)["backend"] for l in open(run + "/results/calls.jsonl")}
assert backends == {"rules", "rules2"}, backends
print(f"ok: fleet.h5 complete ({t} scrapes), {len(calls)} calls answered by rules and rules2, "
      "both in summary.md and calls.jsonl")
PY

# score.sbatch on its own, from another directory, with neither FLEETSIM_ROOT
# nor (where the build is the checkout's build/) FLEETSIM set: the job finds
# the checkout through the script Slurm recorded, not through $0.
mkdir -p "$SCRATCH/elsewhere/logs"
cd "$SCRATCH/elsewhere"
cp "$RUN/results/summary.json" "$SCRATCH/summary.before"
want_bin=$FLEETSIM
unset_vars=(-u FLEETSIM_ROOT)
if [ "$SOURCE_DIR/build/fleetsim" -ef "$FLEETSIM" ]; then
  unset_vars+=(-u FLEETSIM)
  want_bin=$SOURCE_DIR/build/fleetsim
fi
id=$(env "${unset_vars[@]}" FLEETSIM_RUN="$RUN" sbatch --parsable "$SOURCE_DIR/slurm/score.sbatch")
for _ in $(seq 120); do
  [ -n "$(squeue -h -o %i -j "$id" 2>/dev/null)" ] || break
  sleep 1
done
log="logs/fleetsim-score-$id.out"
[ -f "$log" ] && cat "$log"
last_line "$log" "fleetsim-slurm: score exit 0"
used=$(sed -n 's/^fleetsim-slurm: binary \([^ ]*\) .*/\1/p' "$log")
[ -n "$used" ] && [ "$used" -ef "$want_bin" ] || fail "score.sbatch used '$used', expected $want_bin"
cmp "$RUN/results/summary.json" "$SCRATCH/summary.before" || fail "rescoring changed summary.json"
echo "ok: score.sbatch submitted alone from $PWD (${unset_vars[*]}) ran $used"
echo "slurm_chain: all checks passed"
