# shellcheck shell=bash
# Shared by the slurm/*.sbatch jobs, sourced once they have found the
# checkout (ROOT): which fleetsim binary, which run directory, and the last
# line of every job log, which says how the job ended. Runs nothing itself.

# FLEETSIM: the binary; default the checkout's build/fleetsim.
FLEETSIM=${FLEETSIM:-$ROOT/build/fleetsim}
if ! [ -x "$FLEETSIM" ]; then
  echo "fleetsim-slurm: FLEETSIM=$FLEETSIM is not an executable file (build the checkout with scripts/build.sh or set FLEETSIM)" >&2
  exit 2
fi
# FLEETSIM_RUN: the run directory every job of a chain shares; default
# fleetsim-run in the directory the job runs in (sbatch: the submit directory).
FLEETSIM_RUN=${FLEETSIM_RUN:-fleetsim-run}
case $FLEETSIM_RUN in
  /*) ;;
  *) FLEETSIM_RUN=$PWD/$FLEETSIM_RUN ;;
esac

# fs_job_begin STEP: print where and what this job runs, and arrange for its
# last log line to be "fleetsim-slurm: STEP exit RC" (RC is the job's exit
# status, which Slurm's afterok dependencies act on).
fs_job_begin() {
  FS_STEP=$1
  local job=${SLURM_JOB_ID:-none}
  [ -z "${SLURM_ARRAY_JOB_ID:-}" ] || job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
  echo "fleetsim-slurm: $FS_STEP job $job on $(hostname -s) at $(date -u +%FT%TZ)"
  echo "fleetsim-slurm: binary $FLEETSIM ($("$FLEETSIM" --version 2>&1 | head -n1)), run directory $FLEETSIM_RUN"
  trap 'fs_rc=$?; echo "fleetsim-slurm: $FS_STEP exit $fs_rc"; exit $fs_rc' EXIT
}
