#!/usr/bin/env bash
# Submits the fleetsim chain to Slurm and prints its job ids:
#   simulate (fleetsim run --no-llm on FLEETSIM_NTASKS ranks)
#   -> escalate, an array with one task per backend spec of BACKENDS_FILE
#      (afterok on simulate)
#   -> score (afterok on the whole array).
# Dependents are submitted with --kill-on-invalid-dep=yes: a failed job
# cancels everything after it. With --wait it polls squeue until the chain
# has left the queue, prints every job's final state and exits 0 only if all
# completed.
#
#   slurm/submit_chain.sh [--wait] BACKENDS_FILE [fleetsim run arguments...]
#
# Environment: FLEETSIM_RUN (run directory, default ./fleetsim-run),
# FLEETSIM_LOGS (job logs, default ./logs), FLEETSIM_NTASKS (ranks, default 2),
# FLEETSIM_ARRAY_MAX (at most this many backends at once), and everything the
# jobs read (FLEETSIM, FLEETSIM_LAUNCHER, FLEETSIM_SRUN_MPI, FLEETSIM_MPIRUN,
# FLEETSIM_CONCURRENCY, FLEETSIM_REPORT); sbatch's own SBATCH_* variables
# (SBATCH_PARTITION, SBATCH_ACCOUNT, ...) apply to every job.
set -euo pipefail

usage() {
  echo "usage: $0 [--wait] BACKENDS_FILE [fleetsim run arguments...]" >&2
  exit 2
}
wait=0
if [ "${1:-}" = --wait ]; then
  wait=1
  shift
fi
[ $# -ge 1 ] || usage
backends=$1
shift
[ -r "$backends" ] || { echo "submit_chain: cannot read the backends file '$backends'" >&2; exit 2; }
backends=$(cd "$(dirname "$backends")" && pwd)/$(basename "$backends")
count=$(grep -c -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$backends" || true)
[ "$count" -ge 1 ] || { echo "submit_chain: $backends names no backend spec" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
export FLEETSIM_ROOT=${FLEETSIM_ROOT:-$(dirname "$here")}
export FLEETSIM_RUN=${FLEETSIM_RUN:-fleetsim-run}
case $FLEETSIM_RUN in /*) ;; *) FLEETSIM_RUN=$PWD/$FLEETSIM_RUN ;; esac
logs=${FLEETSIM_LOGS:-logs}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)

submitted=()
# submit ARGS...: sbatch --parsable, the job id into $job; on failure cancel
# what this chain submitted so far and exit 1.
submit() {
  if ! job=$(sbatch --parsable "$@"); then
    echo "submit_chain: sbatch $* failed" >&2
    [ ${#submitted[@]} -eq 0 ] || scancel "${submitted[@]}" || true
    exit 1
  fi
  job=${job%%;*}
  submitted+=("$job")
}

submit --ntasks="${FLEETSIM_NTASKS:-2}" --output="$logs/%x-%j.out" \
  "$here/simulate.sbatch" --no-llm "$@"
sim=$job
submit --array="1-$count${FLEETSIM_ARRAY_MAX:+%$FLEETSIM_ARRAY_MAX}" \
  --dependency="afterok:$sim" --kill-on-invalid-dep=yes \
  --output="$logs/%x-%A_%a.out" "$here/escalate.sbatch" "$backends"
esc=$job
submit --dependency="afterok:$esc" --kill-on-invalid-dep=yes \
  --output="$logs/%x-%j.out" "$here/score.sbatch"
score=$job
echo "simulate=$sim"
echo "escalate=$esc"
echo "score=$score"
echo "submit_chain: run directory $FLEETSIM_RUN, logs in $logs, $count backends from $backends"
[ "$wait" -eq 1 ] || exit 0

# Wait until no job of the chain is pending or running (squeue lists only
# those), then report what scontrol still knows (finished jobs stay there for
# MinJobAge seconds; there is no accounting database to ask).
ids=$(IFS=,; echo "${submitted[*]}")
while :; do
  if out=$(squeue -h -o %i -j "$ids" 2>/dev/null); then
    [ -n "$out" ] || break
  elif ! scontrol ping >/dev/null 2>&1; then
    echo "submit_chain: slurmctld does not answer, still waiting" >&2
  else
    break # the ids are no longer known: the jobs are long finished
  fi
  sleep "${FLEETSIM_POLL_S:-5}"
done
status=0
for step in simulate escalate score; do
  case $step in
    simulate) id=$sim ;;
    escalate) id=$esc ;;
    score) id=$score ;;
  esac
  lines=$(scontrol show job -o "$id" 2>/dev/null || true)
  if [ -z "$lines" ]; then
    echo "$step $id: state unknown (no longer in slurmctld; see $logs)"
    status=1
    continue
  fi
  while read -r line; do
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
    task=$(field ArrayTaskId)
    state=$(field JobState)
    echo "$step $id${task:+_$task}: $state exit $(field ExitCode) reason $(field Reason)"
    [ "$state" = COMPLETED ] || status=1
  done <<<"$lines"
done
exit "$status"
