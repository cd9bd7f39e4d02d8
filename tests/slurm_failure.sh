#!/usr/bin/env bash
# Failures stop the sbatch chain on a real (private, single-node) Slurm:
# (1) simulate with a bad scenarios file (FLEETSIM_LAUNCHER=mpirun) exits 2,
#     the escalate array and score are cancelled (DependencyNeverSatisfied),
#     never run, and submit_chain.sh --wait reports it and exits 1;
# (2) one bad backend spec fails its array task while the other completes,
#     and score is cancelled.
# Exit 77 (skipped) where Slurm or munge is not installed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_slurm.sh"
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' "$SLURM_CONF")
export FLEETSIM_NTASKS=$((cpus < 2 ? cpus : 2)) FLEETSIM_POLL_S=1

# chain DIR BACKENDS RUN_ARGS...: submit_chain.sh --wait in DIR; its output in
# DIR/chain.out, its exit status in $chain_rc.
chain() {
  local dir=$1 backends=$2
  shift 2
  mkdir -p "$dir"
  chain_rc=0
  (cd "$dir" && timeout 240 "$SOURCE_DIR/slurm/submit_chain.sh" --wait "$backends" "$@") \
    >"$dir/chain.out" 2>&1 || chain_rc=$?
  cat "$dir/chain.out"
  for f in "$dir"/logs/*; do echo "--- $f"; cat "$f"; done
}
# expect DIR LINE: the driver reported LINE.
expect() { grep -qF "$2" "$1/chain.out" || fail "$1/chain.out lacks '$2'"; }

# --- (1) simulate fails: nothing after it runs ---------------------------------
printf 'rules\nrules:name=rules2\n' >"$SCRATCH/backends.txt"
cat >"$SCRATCH/bad_scenarios.json" <<'JSON'
{"scenarios": [{"id": "S1", "kind": "no_such_kind", "start_h": 0.5, "duration_min": 30}]}
JSON
A="$SCRATCH/bad-simulate"
FLEETSIM_LAUNCHER=mpirun chain "$A" "$SCRATCH/backends.txt" --config "$DATA/small.json" \
  --scenarios "$SCRATCH/bad_scenarios.json" --quiet
[ "$chain_rc" -eq 1 ] || fail "submit_chain.sh --wait exited $chain_rc after a failed simulate, expected 1"
sim=$(sed -n 's/^simulate=//p' "$A/chain.out")
esc=$(sed -n 's/^escalate=//p' "$A/chain.out")
score=$(sed -n 's/^score=//p' "$A/chain.out")
expect "$A" "simulate $sim: FAILED exit 2:0"
expect "$A" "escalate ${esc}_1-2: CANCELLED exit 0:0 reason DependencyNeverSatisfied"
expect "$A" "score $score: CANCELLED exit 0:0 reason DependencyNeverSatisfied"
log="$A/logs/fleetsim-simulate-$sim.out"
grep -q "via mpirun" "$log" || fail "simulate did not use mpirun"
grep -q "bad_scenarios.json: .*no_such_kind" "$log" || fail "the log does not name the bad scenario"
[ "$(tail -n1 "$log")" = "fleetsim-slurm: simulate exit 2" ] || fail "$log ends with '$(tail -n1 "$log")'"
[ "$(ls "$A/logs")" = "fleetsim-simulate-$sim.out" ] || fail "dependent jobs ran: $(ls "$A/logs")"
[ ! -e "$A/fleetsim-run/fleet.h5" ] || fail "a failed simulate left a fleet.h5"
echo "ok: failed simulate (exit 2) cancelled escalate and score; only its log exists"

# --- (2) one backend fails: score does not run ------------------------------------
printf 'rules\nno_such_backend_kind\n' >"$SCRATCH/backends2.txt"
B="$SCRATCH/bad-backend"
chain "$B" "$SCRATCH/backends2.txt" --config "$DATA/small.json" \
  --scenarios "$DATA/small_scenarios.json" --quiet
[ "$chain_rc" -eq 1 ] || fail "submit_chain.sh --wait exited $chain_rc after a failed backend, expected 1"
sim=$(sed -n 's/^simulate=//p' "$B/chain.out")
esc=$(sed -n 's/^escalate=//p' "$B/chain.out")
score=$(sed -n 's/^score=//p' "$B/chain.out")
expect "$B" "simulate $sim: COMPLETED exit 0:0"
expect "$B" "escalate ${esc}_1: COMPLETED exit 0:0"
expect "$B" "escalate ${esc}_2: FAILED exit 2:0"
expect "$B" "score $score: CANCELLED exit 0:0 reason DependencyNeverSatisfied"
[ "$(tail -n1 "$B/logs/fleetsim-escalate-${esc}_2.out")" = "fleetsim-slurm: escalate[2] exit 2" ] ||
  fail "escalate task 2 log: $(tail -n1 "$B/logs/fleetsim-escalate-${esc}_2.out")"
grep -q "no_such_backend_kind" "$B/logs/fleetsim-escalate-${esc}_2.out" || fail "the log does not name the bad spec"
[ -s "$B/fleetsim-run/llm/rules.jsonl" ] || fail "the good backend wrote no transcript"
[ ! -e "$B/fleetsim-run/results/summary.md" ] || fail "score ran after a failed backend"
echo "ok: a failed backend (exit 2) cancelled score; the other backend completed"
echo "slurm_failure: all checks passed"
