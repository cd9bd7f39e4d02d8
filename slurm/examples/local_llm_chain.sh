#!/usr/bin/env bash
# Example chain with a model server of your own: fleetsim's calls answered
# by an OpenAI-compatible server (vLLM by default; llama.cpp's llama-server,
# Ollama ... through FLEETSIM_LLM_SERVER_CMD) that runs in a GPU job of the
# same chain. Submits and prints the job ids:
#   simulate (as submit_chain.sh: fleetsim run --no-llm)
#   -> llm-server (examples/llm_server.sbatch; afterok on simulate, so no
#      GPU waits for the simulation; FLEETSIM_SBATCH_LLM_SERVER, default
#      --gres=gpu:1)
#   -> llm-escalate (examples/llm_escalate.sbatch; afterok on simulate and
#      after the server job has started: it waits until the server answers)
#   -> score (afterok on llm-escalate).
# The server job ends by itself once the escalate job is done with it.
# With --no-simulate the run already in FLEETSIM_RUN is escalated and
# scored again (no simulate job; the server starts as soon as it can).
#
#   FLEETSIM_LLM_MODEL=MODEL slurm/examples/local_llm_chain.sh [--wait] [--site FILE] \
#       [--no-simulate | fleetsim run arguments...]
#
# Settings as submit_chain.sh (FLEETSIM_RUN, FLEETSIM_LOGS, FLEETSIM_NTASKS,
# FLEETSIM_SBATCH_SIMULATE / _ESCALATE / _SCORE, the site file and hook,
# ...), plus FLEETSIM_SBATCH_LLM_SERVER (the server job's sbatch options;
# set it empty on a cluster without GPUs) and the FLEETSIM_LLM_* settings
# of the two example jobs: FLEETSIM_LLM_MODEL (required), FLEETSIM_LLM_SPEC
# (more backend spec keys), FLEETSIM_LLM_SERVER_CMD, FLEETSIM_LLM_HOST,
# FLEETSIM_LLM_PORT, FLEETSIM_LLM_START_S, FLEETSIM_LLM_WAIT_S. Everything is
# checked, and sbatch asked about every job, before anything is submitted.
set -euo pipefail
# shellcheck disable=SC2034 # read by chain_lib.sh
CHAIN_NAME=local_llm_chain
here=$(cd "$(dirname "$0")" && pwd)
slurm=$(dirname "$here")
source "$slurm/chain_lib.sh"

usage() {
  echo "usage: FLEETSIM_LLM_MODEL=MODEL $0 [--wait] [--site FILE] [--no-simulate | fleetsim run arguments...]" >&2
  exit 2
}
wait=0
simulate=1
site=${FLEETSIM_SITE:-}
while [ $# -gt 0 ]; do
  case $1 in
    --wait) wait=1 ;;
    --no-simulate) simulate=0 ;;
    --site)
      [ $# -ge 2 ] || usage
      site=$2
      shift
      ;;
    --help | -h) usage ;;
    *) break ;;
  esac
  shift
done
[ -z "$site" ] || chain_load_site "$site"

chain_check_common
[[ ${FLEETSIM_LLM_MODEL:-} =~ ^[^,[:space:]]+$ ]] ||
  chain_die "FLEETSIM_LLM_MODEL='${FLEETSIM_LLM_MODEL:-}': set it to the model name the server serves (no commas or spaces)"
if [ -n "${FLEETSIM_LLM_SPEC:-}" ]; then
  [[ $FLEETSIM_LLM_SPEC =~ ^[^[:space:]]+$ ]] ||
    chain_die "FLEETSIM_LLM_SPEC='$FLEETSIM_LLM_SPEC': backend spec keys key=value,... without spaces"
  [[ ,$FLEETSIM_LLM_SPEC =~ ,(base_url|model|api_key_env)= ]] &&
    chain_die "FLEETSIM_LLM_SPEC='$FLEETSIM_LLM_SPEC': ${BASH_REMATCH[1]} is set by the escalate job itself"
fi
[ -z "${FLEETSIM_LLM_PORT:-}" ] || chain_count FLEETSIM_LLM_PORT 1 65535
chain_count FLEETSIM_LLM_START_S 1800
chain_count FLEETSIM_LLM_WAIT_S 3600
[[ -v FLEETSIM_SBATCH_LLM_SERVER ]] || FLEETSIM_SBATCH_LLM_SERVER=--gres=gpu:1

chain_job_opts
chain_opts FLEETSIM_SBATCH_LLM_SERVER
server_opts=(${CHAIN_OPTS[@]+"${CHAIN_OPTS[@]}"})
chain_run_paths "$slurm"
if [ "$simulate" -eq 0 ]; then
  [ $# -eq 0 ] || chain_die "--no-simulate takes no fleetsim run arguments (got: $*)"
  [ -f "$FLEETSIM_RUN/fleet.h5" ] ||
    chain_die "--no-simulate: $FLEETSIM_RUN/fleet.h5 does not exist (FLEETSIM_RUN names the finished run)"
fi

sim_args=("${sim_opts[@]}" --output="$logs/%x-%j.out" "$slurm/simulate.sbatch" --no-llm "$@")
server_args=(${server_opts[@]+"${server_opts[@]}"} --output="$logs/%x-%j.out"
  "$here/llm_server.sbatch")
esc_args=(${esc_opts[@]+"${esc_opts[@]}"} --output="$logs/%x-%j.out" "$here/llm_escalate.sbatch")
score_args=(${score_opts[@]+"${score_opts[@]}"} --output="$logs/%x-%j.out" "$slurm/score.sbatch")
[ "$simulate" -eq 0 ] || chain_preflight simulate FLEETSIM_SBATCH_SIMULATE "${sim_args[@]}"
chain_preflight llm-server FLEETSIM_SBATCH_LLM_SERVER "${server_args[@]}"
chain_preflight llm-escalate FLEETSIM_SBATCH_ESCALATE "${esc_args[@]}"
chain_preflight score FLEETSIM_SBATCH_SCORE "${score_args[@]}"

# The server's folder, private, made now: the driver names the escalate
# job in it, so the server stops even if that job dies without a word.
mkdir -p "$FLEETSIM_RUN"
(umask 077 && mkdir -p "$FLEETSIM_RUN/llm-server")
steps=()
after=
if [ "$simulate" -eq 1 ]; then
  chain_submit "${sim_args[@]}"
  steps+=("simulate=$CHAIN_JOB")
  after="afterok:$CHAIN_JOB"
fi
chain_submit ${after:+--dependency="$after" --kill-on-invalid-dep=yes} "${server_args[@]}"
server=$CHAIN_JOB
steps+=("llm-server=$server")
export FLEETSIM_LLM_SERVER_JOB=$server
chain_submit --dependency="${after:+$after,}after:$server" --kill-on-invalid-dep=yes "${esc_args[@]}"
esc=$CHAIN_JOB
steps+=("llm-escalate=$esc")
printf '%s\n' "$esc" >"$FLEETSIM_RUN/llm-server/client"
chain_submit --dependency="afterok:$esc" --kill-on-invalid-dep=yes "${score_args[@]}"
steps+=("score=$CHAIN_JOB")
printf '%s\n' "${steps[@]}"
echo "local_llm_chain: run directory $FLEETSIM_RUN, logs in $logs, model $FLEETSIM_LLM_MODEL"
[ "$wait" -eq 1 ] || exit 0
chain_wait "${steps[@]}"
