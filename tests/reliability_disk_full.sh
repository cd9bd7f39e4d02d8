#!/usr/bin/env bash
# A full disk or an I/O error anywhere in `fleetsim run`: every rank exits 1
# promptly with one line naming the file and the reason, no hang, no crash,
# nothing marked complete; --resume after the fault is gone gives the same
# archive as an uninterrupted run. Cases (np 1 and 2):
#   - EIO from every archive write past 20 MB (tests/lib_fsfault.so, LD_PRELOAD),
#     for each archive_compression: one process exits 1 cleanly; at np 2 the
#     failing rank ends the job with MPI_Abort (exit 1, one message), since
#     an EIO inside HDF5 (an lz4 archive's H5Fflush) left the ranks in
#     different HDF5 collectives, hung (before: np 2 hung in H5Fclose, np 1
#     crashed in MPI_Finalize);
#   - a tmpfs too small for the run: refused before anything is written, with
#     the size and the keys that drive it; with --force the archive's disk
#     reservation fails with "No space left on device" and nothing is left;
#   - the disk fills up in the middle of a run (the ranks are stopped, the
#     tmpfs filled, the ranks continued): the next checkpoint fails, and
#     --resume after freeing space finishes it identically.
# The tmpfs cases need a private mount namespace (unshare -m as root, or
# unshare -rm); where neither works they are skipped with a note, and the
# EIO cases still run.
if [ -z "${DISK_FULL_NS:-}" ]; then
  # Everything below runs in a private mount namespace when one can be had,
  # so that the tmpfs mounts vanish with the test, whatever happens to it
  # (before lib.sh makes the scratch directory, which the copy makes itself).
  if unshare -m true 2>/dev/null; then
    exec env DISK_FULL_NS=1 unshare -m --propagation private bash "$0"
  elif unshare -rm true 2>/dev/null; then
    exec env DISK_FULL_NS=1 unshare -rm --propagation private bash "$0"
  fi
  DISK_FULL_NS=0
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/bad_input_lib.sh"
source "$(dirname "$0")/resume_lib.sh"
: "${FSFAULT_LIB:?FSFAULT_LIB must point at tests/lib_fsfault.so}"

MOUNTS=()
trap 'for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done; rm -rf "$SCRATCH"' EXIT

run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/ref" >"$SCRATCH/ref.log"

# --- EIO from the archive's writes past 20 MB (of 100): window 2 fails -------
# abort_row NP PATTERN ARGS...: fleetsim ARGS at mpirun -np NP with an
# archive write failing inside HDF5: the failing rank ends the job with
# MPI_Abort (par_io_abort_on; its peers may wait inside HDF5's collectives),
# so the check is on the job: mpirun exits 1 within the timeout, stderr
# matches PATTERN exactly once (one message naming the file), no crash or
# sanitizer report, and the run directory holds fleet.h5.partial, no
# fleet.h5 and no results.
abort_row() {
  local np=$1 pattern=$2 rc=0 out="" prev="" err="$SCRATCH/abort.err"
  shift 2
  for a in "$@"; do
    [ "$prev" = --out ] && out=$a
    prev=$a
  done
  local what="np $np: fleetsim $*" t0=$SECONDS
  timeout -k 5 "$BAD_TIMEOUT" "$MPIEXEC" -np "$np" "$FLEETSIM" "$@" >/dev/null 2>"$err" || rc=$?
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$what: hung (killed after ${BAD_TIMEOUT} s)"
  [ "$rc" -eq 1 ] || fail "$what: mpirun exited $rc, expected 1; stderr: $(cat "$err")"
  if grep -qE 'Sanitizer|runtime error:|Segmentation fault|core dumped' "$err"; then
    fail "$what: crash or sanitizer report: $(cat "$err")"
  fi
  local hits
  hits=$(grep -cE -- "$pattern" "$err" || true)
  [ "$hits" -eq 1 ] || fail "$what: stderr has /$pattern/ $hits times (want once): $(cat "$err")"
  [ -e "$out/fleet.h5.partial" ] || fail "$what: no $out/fleet.h5.partial left"
  [ ! -e "$out/fleet.h5" ] || fail "$what: $out/fleet.h5 exists after a failed run"
  [ ! -e "$out/results" ] || fail "$what: $out/results exists after a failed run"
  ROWS=$((ROWS + 1))
  echo "ok: [$np] 1 in $((SECONDS - t0)) s: $(grep -m1 -E -- "$pattern" "$err" | cut -c1-150)"
}

for c in none lz4 deflate; do
  for np in 0 2; do
    d="$SCRATCH/eio-$c-$np"
    args=("${RUN_ARGS[@]}" --set archive_compression="$c")
    if [ "$np" -eq 0 ]; then # one process: HDF5's error comes back, the run ends cleanly
      LD_PRELOAD=$FSFAULT_LIB FSFAULT_PATH=fleet.h5.partial FSFAULT_AFTER=20000000 \
        FSFAULT_ERRNO=EIO row 0 1 \
        "archive $d/fleet.h5.partial: cannot (write dataset|flush) .*: Input/output error" \
        "${args[@]}" --out "$d"
    else
      LD_PRELOAD=$FSFAULT_LIB FSFAULT_PATH=fleet.h5.partial FSFAULT_AFTER=20000000 \
        FSFAULT_ERRNO=EIO abort_row "$np" \
        "archive $d/fleet.h5.partial: an I/O operation failed on rank [0-9]+ \(MPI_ERR_IO[^)]*\): Input/output error; every rank stops now" \
        "${args[@]}" --out "$d"
    fi
    [ -e "$d/checkpoint/manifest.json" ] || fail "eio $c np $np: no checkpoint before the failure"
    # a compressed archive is rebuilt from the checkpoint's rows on
    # --resume (h5a_rebuild), not written again where the torn flush left it
    run_np 2 "${args[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 \
      || fail "eio $c np $np: resume failed: $(tail -n5 "$d.resume.log")"
    same_run "$SCRATCH/ref" "$d"
    echo "ok: $c np $np: EIO on the archive's writes: exit 1, one message; resumed: identical"
  done
done

if [ "$DISK_FULL_NS" != 1 ]; then
  echo "note: no private mount namespace here (unshare -m / -rm refused): tmpfs cases skipped"
  echo "reliability_disk_full: $ROWS rows passed (tmpfs cases skipped)"
  exit 0
fi

# mount_tmpfs DIR MB: a fresh tmpfs of MB MiB at DIR.
mount_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2m" fleetsim-test "$1" || fail "cannot mount a tmpfs at $1"
  MOUNTS+=("$1")
}

# --- a tmpfs too small for the run (about 123 MB): refused; --force fails
# cleanly at the reservation ---------------------------------------------------
mnt="$SCRATCH/small-fs"
mount_tmpfs "$mnt" 64
row "0 2" 1 "run: $mnt/r needs about 1[0-9][0-9] MB \(archive 1[0-9][0-9] MB = 720 scrapes x 120 nodes x $NODE_SCRAPE_BYTES B, set by hours, scrape_interval_s and nodes; .* but its file system has [0-9.]+ MB free" \
  run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" --out "$mnt/r"
row "0 2" 1 "$mnt/r/fleet.h5.partial: cannot reserve .* for it: No space left on device" \
  run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" --out "$mnt/r" \
  --force
left=$(cd "$mnt/r" && find . -mindepth 1 ! -name .lock | sort | tr '\n' ' ')
[ -z "$left" ] || fail "a run refused for space left files behind: $left"
umount "$mnt"

# --- the disk fills up mid-run: the run stops at its next checkpoint ---------
for np in 1 2; do
  d="$SCRATCH/fill$np" # the run directory is the tmpfs; its log ($d.log) is not
  mount_tmpfs "$d" 160
  start_run "$np" "$d"
  wait_windows "$d" 3
  pids=$(rank_pids)
  # shellcheck disable=SC2086
  kill -STOP $pids
  expect_interrupted "$d"
  k=$(windows_done "$d")
  avail=$(df -B1 --output=avail "$d" | tail -n1)
  head -c "$avail" /dev/zero >"$d/filler" 2>/dev/null || true
  # shellcheck disable=SC2086
  kill -CONT $pids
  rc=0
  timeout 120 tail --pid="$RUN_PID" -f /dev/null || fail "np $np: the run hangs on a full disk"
  wait "$RUN_PID" || rc=$?
  [ "$rc" -eq 1 ] || fail "np $np: mpirun exited $rc on a full disk: $(tail -n5 "$d.log")"
  n=$(grep -c '^fleetsim: error: .*No space left on device' "$d.log" || true)
  [ "$n" -eq 1 ] || fail "np $np: $n lines naming the full disk: $(grep fleetsim "$d.log")"
  if grep -qE 'Segmentation fault|signal [0-9]+|MPI_ABORT' "$d.log"; then fail "np $np: crash: $(cat "$d.log")"; fi
  [ ! -e "$d/fleet.h5" ] || fail "np $np: fleet.h5 after a full disk"
  rm "$d/filler"
  run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 \
    || fail "np $np: resume after freeing space failed: $(tail -n5 "$d.resume.log")"
  same_run "$SCRATCH/ref" "$d"
  echo "ok: np $np: disk full after window $k: $(grep -m1 'No space left' "$d.log" | cut -c1-140);" \
    "resumed after freeing space: identical"
done
echo "reliability_disk_full: all checks passed ($ROWS rows)"
