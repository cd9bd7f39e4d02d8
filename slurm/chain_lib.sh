# shellcheck shell=bash
# Shared by the chain drivers (submit_chain.sh, examples/local_llm_chain.sh),
# sourced once CHAIN_NAME (the name messages start with) is set; runs
# nothing itself. Owns what a driver checks before it submits anything:
# the site file (--site FILE or FLEETSIM_SITE), the per-job sbatch options
# (FLEETSIM_SBATCH_<JOB>), the counts, the site hook and sbatch's own verdict
# on every job (sbatch --test-only); then submitting with the chain
# cancelled on a failure, and waiting for the chain to leave the queue.
# Every refusal is one message and exit 2, with nothing submitted.

# The settings a site file may hold: everything the drivers and the jobs read.
CHAIN_SITE_KEYS=(FLEETSIM FLEETSIM_RUN FLEETSIM_LOGS FLEETSIM_NTASKS FLEETSIM_ARRAY_MAX
  FLEETSIM_SBATCH_SIMULATE FLEETSIM_SBATCH_ESCALATE FLEETSIM_SBATCH_SCORE
  FLEETSIM_SBATCH_LLM_SERVER FLEETSIM_SITE_HOOK FLEETSIM_PYTHON FLEETSIM_MPIIO_HINTS
  FLEETSIM_LAUNCHER FLEETSIM_SRUN_MPI FLEETSIM_MPIRUN FLEETSIM_CONCURRENCY FLEETSIM_REPORT
  FLEETSIM_PREFLIGHT FLEETSIM_POLL_S FLEETSIM_LLM_MODEL FLEETSIM_LLM_SERVER_CMD
  FLEETSIM_LLM_HOST FLEETSIM_LLM_PORT FLEETSIM_LLM_SPEC FLEETSIM_LLM_START_S FLEETSIM_LLM_WAIT_S)

# chain_die MESSAGE: the one message of a refusal, exit 2.
chain_die() {
  echo "$CHAIN_NAME: $*" >&2
  exit 2
}

# chain_oneline TEXT: TEXT's non-blank lines joined with "; ".
chain_oneline() {
  grep -v '^[[:space:]]*$' <<<"$1" | paste -sd ';' - | sed 's/;/; /g'
}

# chain_load_site FILE: exports the NAME=VALUE lines of FILE (blank lines and
# # comments skipped; one pair of quotes around VALUE removed) for every NAME
# the environment does not set: the environment overrides the site file.
# An unknown NAME is refused with its line, so a typo cannot pass unseen.
chain_load_site() {
  local file=$1 n=0 line key value
  [ -f "$file" ] && [ -r "$file" ] || chain_die "site file '$file' (--site or FLEETSIM_SITE) is not a readable file"
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    case $line in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    [ "$key" != "$line" ] && [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] ||
      chain_die "$file:$n: expected NAME=VALUE, got '$line'"
    case " ${CHAIN_SITE_KEYS[*]} " in
      *" $key "*) ;;
      *) chain_die "$file:$n: unknown setting '$key' (known: ${CHAIN_SITE_KEYS[*]})" ;;
    esac
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    [[ -v $key ]] || export "$key=$value"
  done <"$file"
}

# chain_count NAME DEFAULT [MAX]: $NAME, or DEFAULT when unset or empty, must
# be an integer 1..MAX (default 1000000); it is exported as that.
chain_count() {
  local name=$1 value=${!1:-$2} max=${3:-1000000}
  [[ $value =~ ^[0-9]+$ ]] && [ "${#value}" -le 7 ] && [ "$value" -ge 1 ] && [ "$value" -le "$max" ] ||
    chain_die "$name=$value: expected a whole number from 1 to $max"
  export "$name=$value"
}

# chain_opts NAME: the words of $NAME (sbatch options for one job) into
# CHAIN_OPTS. Each must be --option or --option=value (values hold no
# spaces); the options a driver sets itself are refused.
chain_opts() {
  local name=$1 word opt
  local -a words=()
  CHAIN_OPTS=()
  read -r -d '' -a words <<<"${!name:-}" || true
  for word in ${words[@]+"${words[@]}"}; do
    [[ $word =~ ^--[a-z][a-z0-9-]*(=.+)?$ ]] ||
      chain_die "$name: '$word' is not an sbatch option written --option or --option=value (no short options, no value in a separate word, no empty value)"
    opt=${word%%=*}
    case $opt in
      --array | --dependency | --kill-on-invalid-dep | --output | --error | --input | --parsable | \
        --wrap | --test-only | --wait | --export | --export-file)
        chain_die "$name: $opt is set by $CHAIN_NAME itself: leave it out"
        ;;
    esac
    CHAIN_OPTS+=("$word")
  done
}

# chain_has_opt OPTION: CHAIN_OPTS gives OPTION (--ntasks matches
# --ntasks=N, not --ntasks-per-node=N).
chain_has_opt() {
  local o
  for o in ${CHAIN_OPTS[@]+"${CHAIN_OPTS[@]}"}; do
    [[ $o == "$1" || $o == "$1="* ]] && return 0
  done
  return 1
}

# chain_check_common: the settings every chain's jobs read, checked where
# they can be before a job runs: the site hook exists, is readable and
# parses (its path made absolute, so a job started elsewhere finds it),
# the launcher and the report switch have known values.
chain_check_common() {
  if [ -n "${FLEETSIM_SITE_HOOK:-}" ]; then
    case $FLEETSIM_SITE_HOOK in /*) ;; *) FLEETSIM_SITE_HOOK=$PWD/$FLEETSIM_SITE_HOOK ;; esac
    [ -f "$FLEETSIM_SITE_HOOK" ] && [ -r "$FLEETSIM_SITE_HOOK" ] ||
      chain_die "FLEETSIM_SITE_HOOK=$FLEETSIM_SITE_HOOK: no such readable file (the site hook every job sources)"
    local err
    err=$(bash -n "$FLEETSIM_SITE_HOOK" 2>&1) ||
      chain_die "FLEETSIM_SITE_HOOK=$FLEETSIM_SITE_HOOK does not parse: $(chain_oneline "$err")"
    export FLEETSIM_SITE_HOOK
  fi
  case ${FLEETSIM_LAUNCHER:-srun} in
    srun | mpirun) ;;
    *) chain_die "FLEETSIM_LAUNCHER=$FLEETSIM_LAUNCHER: expected srun or mpirun" ;;
  esac
  case ${FLEETSIM_REPORT:-0} in
    0 | 1) ;;
    *) chain_die "FLEETSIM_REPORT=$FLEETSIM_REPORT: expected 0 or 1" ;;
  esac
  case ${FLEETSIM_PREFLIGHT:-1} in
    0 | 1) ;;
    *) chain_die "FLEETSIM_PREFLIGHT=$FLEETSIM_PREFLIGHT: expected 0 or 1" ;;
  esac
  chain_count FLEETSIM_POLL_S 5 3600
}

# chain_preflight JOB NAME SBATCH_ARGS...: asks sbatch whether it would
# take the job (sbatch --test-only: nothing is queued) and refuses the chain
# with sbatch's own words when not. NAME is the variable the job's options
# came from. FLEETSIM_PREFLIGHT=0 skips the question.
chain_preflight() {
  local job=$1 name=$2 out
  shift 2
  [ "${FLEETSIM_PREFLIGHT:-1}" = 1 ] || return 0
  if ! out=$(sbatch --test-only "$@" 2>&1); then
    chain_die "sbatch refuses the $job job (options from $name: '${!name:-}'): $(chain_oneline "$out")"
  fi
}

CHAIN_SUBMITTED=()
# chain_submit SBATCH_ARGS...: sbatch --parsable, the job id into
# CHAIN_JOB; on failure cancel what this chain submitted so far and exit 1.
chain_submit() {
  if ! CHAIN_JOB=$(sbatch --parsable "$@"); then
    echo "$CHAIN_NAME: sbatch $* failed" >&2
    [ ${#CHAIN_SUBMITTED[@]} -eq 0 ] || scancel "${CHAIN_SUBMITTED[@]}" || true
    exit 1
  fi
  CHAIN_JOB=${CHAIN_JOB%%;*}
  CHAIN_SUBMITTED+=("$CHAIN_JOB")
}

# chain_wait STEP=ID...: waits until no job of the chain is pending or
# running (squeue lists only those), then prints each job's (and array
# task's) final state from scontrol (finished jobs stay there for
# MinJobAge seconds; there is no accounting database to ask). Returns 0
# only when every one completed.
chain_wait() {
  local ids pair step id lines line task state out status=0
  ids=$(for pair in "$@"; do printf '%s,' "${pair#*=}"; done)
  ids=${ids%,}
  while :; do
    if out=$(squeue -h -o %i -j "$ids" 2>/dev/null); then
      [ -n "$out" ] || break
    elif ! scontrol ping >/dev/null 2>&1; then
      echo "$CHAIN_NAME: slurmctld does not answer, still waiting" >&2
    else
      break # the ids are no longer known: the jobs are long finished
    fi
    sleep "${FLEETSIM_POLL_S:-5}"
  done
  for pair in "$@"; do
    step=${pair%%=*}
    id=${pair#*=}
    lines=$(scontrol show job -o "$id" 2>/dev/null || true)
    if [ -z "$lines" ]; then
      echo "$step $id: state unknown (no longer in slurmctld; see the job logs)"
      status=1
      continue
    fi
    while read -r line; do
      task=$(chain_field ArrayTaskId "$line")
      state=$(chain_field JobState "$line")
      echo "$step $id${task:+_$task}: $state exit $(chain_field ExitCode "$line") reason $(chain_field Reason "$line")"
      [ "$state" = COMPLETED ] || status=1
    done <<<"$lines"
  done
  return "$status"
}

# chain_job_opts: the sbatch options of the chain's jobs into the arrays
# sim_opts (with FLEETSIM_NTASKS ranks, default 2, unless its options give
# the tasks), esc_opts and score_opts.
chain_job_opts() {
  chain_opts FLEETSIM_SBATCH_SIMULATE
  sim_opts=(${CHAIN_OPTS[@]+"${CHAIN_OPTS[@]}"})
  if chain_has_opt --ntasks || chain_has_opt --ntasks-per-node; then
    [ -z "${FLEETSIM_NTASKS:-}" ] ||
      chain_die "FLEETSIM_NTASKS=$FLEETSIM_NTASKS and FLEETSIM_SBATCH_SIMULATE='$FLEETSIM_SBATCH_SIMULATE' both set the ranks: keep one"
  else
    chain_count FLEETSIM_NTASKS 2
    sim_opts+=("--ntasks=$FLEETSIM_NTASKS")
  fi
  chain_opts FLEETSIM_SBATCH_ESCALATE
  esc_opts=(${CHAIN_OPTS[@]+"${CHAIN_OPTS[@]}"})
  chain_opts FLEETSIM_SBATCH_SCORE
  score_opts=(${CHAIN_OPTS[@]+"${CHAIN_OPTS[@]}"})
}

# chain_run_paths SLURM_DIR: exports FLEETSIM_ROOT (default: the folder above
# SLURM_DIR) and FLEETSIM_RUN (absolute; default fleetsim-run), and makes the
# log folder, absolute, in logs (FLEETSIM_LOGS, default logs).
chain_run_paths() {
  export FLEETSIM_ROOT=${FLEETSIM_ROOT:-$(dirname "$1")}
  export FLEETSIM_RUN=${FLEETSIM_RUN:-fleetsim-run}
  case $FLEETSIM_RUN in /*) ;; *) FLEETSIM_RUN=$PWD/$FLEETSIM_RUN ;; esac
  logs=${FLEETSIM_LOGS:-logs}
  mkdir -p "$logs"
  logs=$(cd "$logs" && pwd)
}

# chain_field NAME LINE: the value of NAME=value in one `scontrol -o` line.
chain_field() {
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}
