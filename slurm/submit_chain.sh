#!/usr/bin/env bash
# Submits the fleetsim chain to Slurm and prints its job ids:
#   simulate (fleetsim run --no-llm on FLEETSIM_NTASKS ranks, or the tasks
#             FLEETSIM_SBATCH_SIMULATE asks for)
#   -> escalate, an array with one task per backend spec of BACKENDS_FILE
#      (afterok on simulate)
#   -> score (afterok on the whole array).
# Dependents are submitted with --kill-on-invalid-dep=yes: a failed job
# cancels everything after it. With --wait it polls squeue until the chain
# has left the queue, prints every job's final state and exits 0 only if all
# completed.
#
#   slurm/submit_chain.sh [--wait] [--site FILE] BACKENDS_FILE [fleetsim run arguments...]
#
# Every setting is checked, and sbatch asked about every job (--test-only),
# before anything is submitted: a bad one is one message and exit 2.
# Environment (or the site file, FILE or FLEETSIM_SITE, which the environment
# overrides; see docs/slurm.md): FLEETSIM_RUN (run directory, default
# ./fleetsim-run), FLEETSIM_LOGS (job logs, default ./logs), FLEETSIM_NTASKS
# (ranks, default 2), FLEETSIM_SBATCH_SIMULATE / _ESCALATE / _SCORE (sbatch
# options per job, e.g. "--nodes=4 --ntasks-per-node=8 --time=02:00:00
# --partition=P --account=A"), FLEETSIM_ARRAY_MAX (at most this many backends
# at once), FLEETSIM_PREFLIGHT (0: skip sbatch --test-only), and everything
# the jobs read (FLEETSIM, FLEETSIM_SITE_HOOK, FLEETSIM_PYTHON,
# FLEETSIM_MPIIO_HINTS, FLEETSIM_LAUNCHER, FLEETSIM_SRUN_MPI, FLEETSIM_MPIRUN,
# FLEETSIM_CONCURRENCY, FLEETSIM_REPORT); sbatch's own SBATCH_* variables
# apply to every job.
set -euo pipefail
# shellcheck disable=SC2034 # read by chain_lib.sh
CHAIN_NAME=submit_chain
here=$(cd "$(dirname "$0")" && pwd)
source "$here/chain_lib.sh"

usage() {
  echo "usage: $0 [--wait] [--site FILE] BACKENDS_FILE [fleetsim run arguments...]" >&2
  exit 2
}
wait=0
site=${FLEETSIM_SITE:-}
while [ $# -gt 0 ]; do
  case $1 in
    --wait) wait=1 ;;
    --site)
      [ $# -ge 2 ] || usage
      site=$2
      shift
      ;;
    *) break ;;
  esac
  shift
done
[ $# -ge 1 ] || usage
[ -z "$site" ] || chain_load_site "$site"
backends=$1
shift
[ -r "$backends" ] || chain_die "cannot read the backends file '$backends'"
backends=$(cd "$(dirname "$backends")" && pwd)/$(basename "$backends")
count=$(grep -c -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$backends" || true)
[ "$count" -ge 1 ] || chain_die "$backends names no backend spec"

chain_check_common
[ -z "${FLEETSIM_ARRAY_MAX:-}" ] || chain_count FLEETSIM_ARRAY_MAX 1
chain_job_opts
chain_run_paths "$here"

array="1-$count${FLEETSIM_ARRAY_MAX:+%$FLEETSIM_ARRAY_MAX}"
sim_args=("${sim_opts[@]}" --output="$logs/%x-%j.out" "$here/simulate.sbatch" --no-llm "$@")
esc_args=(${esc_opts[@]+"${esc_opts[@]}"} --array="$array" --output="$logs/%x-%A_%a.out"
  "$here/escalate.sbatch" "$backends")
score_args=(${score_opts[@]+"${score_opts[@]}"} --output="$logs/%x-%j.out" "$here/score.sbatch")
chain_preflight simulate FLEETSIM_SBATCH_SIMULATE "${sim_args[@]}"
chain_preflight escalate FLEETSIM_SBATCH_ESCALATE "${esc_args[@]}"
chain_preflight score FLEETSIM_SBATCH_SCORE "${score_args[@]}"

chain_submit "${sim_args[@]}"
sim=$CHAIN_JOB
chain_submit --dependency="afterok:$sim" --kill-on-invalid-dep=yes "${esc_args[@]}"
esc=$CHAIN_JOB
chain_submit --dependency="afterok:$esc" --kill-on-invalid-dep=yes "${score_args[@]}"
score=$CHAIN_JOB
echo "simulate=$sim"
echo "escalate=$esc"
echo "score=$score"
echo "submit_chain: run directory $FLEETSIM_RUN, logs in $logs, $count backends from $backends"
[ "$wait" -eq 1 ] || exit 0
chain_wait "simulate=$sim" "escalate=$esc" "score=$score"
