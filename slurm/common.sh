# shellcheck shell=bash
# Shared by the slurm/*.sbatch jobs, sourced once they have found the
# checkout (ROOT): the run directory, the start of every job (the site
# hook, the fleetsim binary, the python) and the last line of every job
# log, which says how the job ended. Runs nothing itself.

# FLEETSIM_RUN: the run directory every job of a chain shares; default
# fleetsim-run in the directory the job runs in (sbatch: the submit directory).
FLEETSIM_RUN=${FLEETSIM_RUN:-fleetsim-run}
case $FLEETSIM_RUN in
  /*) ;;
  *) FLEETSIM_RUN=$PWD/$FLEETSIM_RUN ;;
esac

# fs_job_begin STEP: arrange for this job's last log line to be
# "fleetsim-slurm: STEP exit RC" (RC is the job's exit status, which Slurm's
# afterok dependencies act on), after the command in FS_CLEANUP if a job
# sets one; source the site hook, check the binary and print where and
# what this job runs. STEP without an "[i]" suffix is exported as
# FLEETSIM_STEP for the hook (simulate, escalate, score, llm-server).
fs_job_begin() {
  FS_STEP=$1
  export FLEETSIM_STEP=${1%%\[*}
  trap 'fs_rc=$?; set +e; ${FS_CLEANUP:-}; echo "fleetsim-slurm: $FS_STEP exit $fs_rc"; exit $fs_rc' EXIT
  local job=${SLURM_JOB_ID:-none}
  [ -z "${SLURM_ARRAY_JOB_ID:-}" ] || job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
  echo "fleetsim-slurm: $FS_STEP job $job on $(hostname -s) at $(date -u +%FT%TZ)"
  fs_site_hook
  fs_binary
  echo "fleetsim-slurm: binary $FLEETSIM ($FS_VERSION), run directory $FLEETSIM_RUN"
}

# fs_site_hook: sources FLEETSIM_SITE_HOOK (module load, spack load, conda
# activate ...) into this job's shell, so fleetsim, srun and python see
# what it sets. Unset variables are allowed while it runs (module and
# conda scripts read some); a command that fails in it ends the job (exit
# 2) with one message naming the hook, the command and its place.
fs_site_hook() {
  [ -n "${FLEETSIM_SITE_HOOK:-}" ] || return 0
  if ! [ -f "$FLEETSIM_SITE_HOOK" ] || ! [ -r "$FLEETSIM_SITE_HOOK" ]; then
    echo "fleetsim-slurm: FLEETSIM_SITE_HOOK=$FLEETSIM_SITE_HOOK is not a readable file on $(hostname -s) (the site hook every job sources)" >&2
    exit 2
  fi
  echo "fleetsim-slurm: site hook $FLEETSIM_SITE_HOOK"
  set +u -E
  trap 'fs_rc=$?; [[ $- != *e* ]] || fs_hook_failed "$fs_rc" "$BASH_COMMAND"' ERR
  # shellcheck source=/dev/null
  source "$FLEETSIM_SITE_HOOK"
  trap - ERR
  set -euo pipefail +E # whatever the hook did to them
}

# fs_hook_failed RC COMMAND: the message for a command of the site hook
# that failed (COMMAND, maybe inside a function the hook called), naming
# the hook's line that ran it; exit 2.
fs_hook_failed() {
  local k line=
  for ((k = ${#FUNCNAME[@]} - 1; k > 0; k--)); do
    if [ "${FUNCNAME[$k]}" = source ] && [ "${BASH_SOURCE[$k]}" = "$FLEETSIM_SITE_HOOK" ]; then
      line=${BASH_LINENO[$((k - 1))]}
      break
    fi
  done
  echo "fleetsim-slurm: the site hook $FLEETSIM_SITE_HOOK failed${line:+ at line $line: \`$(sed -n "${line}{s/^[[:space:]]*//;p}" "$FLEETSIM_SITE_HOOK")\`} (\`$2\` exited $1)" >&2
  exit 2
}

# fs_binary: FLEETSIM (default the checkout's build/fleetsim), which must
# start here, after the site hook; its version line into FS_VERSION.
fs_binary() {
  FLEETSIM=${FLEETSIM:-$ROOT/build/fleetsim}
  if ! [ -x "$FLEETSIM" ]; then
    echo "fleetsim-slurm: FLEETSIM=$FLEETSIM is not an executable file (build the checkout with scripts/build.sh or set FLEETSIM)" >&2
    exit 2
  fi
  if ! FS_VERSION=$("$FLEETSIM" --version 2>&1 </dev/null); then
    echo "fleetsim-slurm: FLEETSIM=$FLEETSIM does not start on $(hostname -s): $(head -n3 <<<"$FS_VERSION") (load what it needs in FLEETSIM_SITE_HOOK)" >&2
    exit 2
  fi
  FS_VERSION=$(head -n1 <<<"$FS_VERSION")
}

# fs_python [MODULE...]: FLEETSIM_PYTHON (default /usr/bin/python3; a bare
# name is looked up in PATH after the site hook) into FS_PYTHON; it must
# run and import every MODULE.
fs_python() {
  local py=${FLEETSIM_PYTHON:-/usr/bin/python3} out
  if ! FS_PYTHON=$(type -P "$py"); then
    echo "fleetsim-slurm: FLEETSIM_PYTHON=$py: no such executable on $(hostname -s) (after the site hook; PATH=$PATH)" >&2
    exit 2
  fi
  if [ $# -gt 0 ] && ! out=$("$FS_PYTHON" -c "import $(IFS=,; echo "$*")" 2>&1); then
    echo "fleetsim-slurm: FLEETSIM_PYTHON=$py ($FS_PYTHON) cannot import $*: $(tail -n1 <<<"$out")" >&2
    exit 2
  fi
  echo "fleetsim-slurm: python $FS_PYTHON ($("$FS_PYTHON" --version 2>&1))"
}

# fs_job_active ID: 0 while job ID is pending or running, 1 once it has
# left the queue (finished, failed, cancelled), 2 when slurmctld does not
# answer (nothing can be concluded).
fs_job_active() {
  local out
  if out=$(squeue -h -j "$1" -t PD,CF,R,S,CG -o %i 2>/dev/null) && [ -n "$out" ]; then
    return 0
  fi
  scontrol ping >/dev/null 2>&1 || return 2
  return 1
}
