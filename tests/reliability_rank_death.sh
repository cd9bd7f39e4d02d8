#!/usr/bin/env bash
# One MPI rank of a running job dies (kill -9): the job must end promptly
# (Open MPI aborts the other ranks; bounded here to 60 s) with a message
# instead of hanging in a collective, no rank may survive, and --resume then
# finishes the run identically to an uninterrupted one. Killed: a worker
# rank (resumed with np 2) and the printing rank 0 (resumed with np 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/resume_lib.sh"

run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/ref" >"$SCRATCH/ref.log"

# rank_pid R: the pid of MPI rank R of the running job.
rank_pid() {
  local p
  for p in $(rank_pids); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$p"
      return 0
    fi
  done
  fail "no process of rank $1 under mpirun $RUN_PID"
}

for c in "1 2" "0 3"; do
  victim=${c% *}
  resume_np=${c#* }
  d="$SCRATCH/kill$victim"
  start_run 3 "$d"
  wait_windows "$d" 6
  pids=$(rank_pids)
  t0=$(date +%s.%N)
  kill -9 "$(rank_pid "$victim")"
  rc=0
  timeout 60 tail --pid="$RUN_PID" -f /dev/null || fail "rank $victim killed: the job still runs after 60 s"
  wait "$RUN_PID" || rc=$?
  secs=$(printf %.1f "$(echo "$(date +%s.%N) - $t0" | bc)")
  [ "$rc" -ne 0 ] || fail "rank $victim killed, but mpirun exited 0"
  for p in $pids; do # dead (or a zombie nobody reaped yet)
    st=$(ps -o stat= -p "$p" 2>/dev/null || true)
    [ -z "$st" ] || [ "${st:0:1}" = Z ] || fail "rank process $p survived the abort ($st)"
  done
  grep -qiE "signal 9|killed" "$d.log" || fail "no message about the dead rank: $(tail -n5 "$d.log")"
  k=$(windows_done "$d")
  echo "ok: rank $victim of 3 killed after window $k: job ended in $secs s (mpirun exit $rc):" \
    "$(grep -iE -m1 'signal 9|killed' "$d.log" | sed 's/^ *//')"
  run_np "$resume_np" "${RUN_ARGS[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 \
    || fail "resume after the death of rank $victim failed: $(tail -n5 "$d.resume.log")"
  same_run "$SCRATCH/ref" "$d"
  echo "ok: resumed with np $resume_np: identical to the uninterrupted run"
done
