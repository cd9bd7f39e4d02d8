#!/usr/bin/env bash
# FLEETSIM_MPIIO_HINTS end to end: a bad hint stops run (and validate) with
# exit 2 and one message naming it before anything is written; good hints
# reach MPI_File_open (Open MPI's ROMIO component prints the hints a file was
# opened with under ROMIO_PRINT_HINTS=1: ours differ from its defaults) and
# leave the archive's contents as they are.
source "$(dirname "$0")/lib.sh"
args=(--config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" --no-llm --quiet)

# --- a bad hint: exit 2, one message naming it, no run directory -------------------
FLEETSIM_MPIIO_HINTS="romio_cb_write=enable,striping_factor=eight" expect_fail 2 \
  "^fleetsim: error: FLEETSIM_MPIIO_HINTS: hint 'striping_factor=eight': expected a positive integer$" \
  run_np 2 run "${args[@]}" --out "$SCRATCH/bad"
[ ! -e "$SCRATCH/bad" ] || fail "a run with a bad hint created its run directory"
FLEETSIM_MPIIO_HINTS="romio_cb_wrte=enable" expect_fail 2 \
  "FLEETSIM_MPIIO_HINTS: unknown hint 'romio_cb_wrte' \(known: .*romio_cb_write" \
  run_np 2 validate --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json"
out=$(FLEETSIM_MPIIO_HINTS="cb_nodes=1" run_np 2 validate --config "$DATA/small.json" \
  --scenarios "$DATA/small_scenarios.json")
grep -qxF "fleetsim: MPI-IO hints for fleet.h5 (FLEETSIM_MPIIO_HINTS): cb_nodes=1" <<<"$out" ||
  fail "validate did not name the hints: $out"
echo "ok: bad hints refused before anything is written; validate names good ones"

# --- good hints reach MPI-IO and change nothing in the archive ------------------------
hints="romio_cb_write=enable,cb_buffer_size=8388608,cb_config_list=*:2,cb_nodes=2"
io=()
if ompi_info 2>/dev/null | grep -q "MCA io: romio"; then
  io=(env OMPI_MCA_io=romio321 ROMIO_PRINT_HINTS=1)
fi
"${io[@]}" env FLEETSIM_MPIIO_HINTS="$hints" "$MPIEXEC" -np 2 "$FLEETSIM" run "${args[@]}" \
  --out "$SCRATCH/hints" >"$SCRATCH/hints.log" 2>&1 || { cat "$SCRATCH/hints.log"; fail "run with hints"; }
"${io[@]}" env -u FLEETSIM_MPIIO_HINTS "$MPIEXEC" -np 2 "$FLEETSIM" run "${args[@]}" \
  --out "$SCRATCH/plain" >"$SCRATCH/plain.log" 2>&1 || { cat "$SCRATCH/plain.log"; fail "run without hints"; }
grep -qxF "fleetsim: MPI-IO hints for fleet.h5 (FLEETSIM_MPIIO_HINTS): $hints" "$SCRATCH/hints.log" ||
  fail "the run did not name its hints: $(head -n3 "$SCRATCH/hints.log")"
! grep -q "MPI-IO hints" "$SCRATCH/plain.log" || fail "a run without hints named some"
# value KEY LOG: what ROMIO_PRINT_HINTS printed for KEY at the first file open.
value() { sed -n "s/^key = $1 *value = \([^ ]*\) *\$/\1/p" "$2" | head -n1; }
if [ ${#io[@]} -gt 0 ]; then
  for kv in romio_cb_write=enable cb_buffer_size=8388608 cb_config_list=*:2 cb_nodes=2; do
    got=$(value "${kv%%=*}" "$SCRATCH/hints.log")
    [ "$got" = "${kv#*=}" ] || fail "ROMIO opened fleet.h5 with ${kv%%=*}=$got, not ${kv#*=}: $(cat "$SCRATCH/hints.log")"
    [ "$(value "${kv%%=*}" "$SCRATCH/plain.log")" != "${kv#*=}" ] ||
      fail "${kv%%=*}=${kv#*=} is ROMIO's default too: the check proves nothing"
  done
  echo "ok: ROMIO opened fleet.h5 with $hints (its defaults without them)"
else
  echo "note: this Open MPI has no ROMIO component: the hints' arrival is not observable here"
fi
for group in /time /telemetry /topology /ground_truth /events; do
  h5diff -q "$SCRATCH/plain/fleet.h5" "$SCRATCH/hints/fleet.h5" "$group" "$group" ||
    fail "the hints changed $group"
done
echo "ok: the archive with hints is identical to the one without"
echo "e2e_mpiio_hints: all checks passed"
