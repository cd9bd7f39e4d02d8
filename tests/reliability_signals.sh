#!/usr/bin/env bash
# Signals and a dying launcher:
#   - SIGTERM to a plain `fleetsim run`, SIGINT to mpirun (np 2, which sends
#     SIGTERM to the ranks): one line "interrupted at HH:MM:SS of the run;
#     continue with --resume (...)", status 128 + signal (plain run), and
#     --resume finishes identically (the processes are stopped while the
#     signal is sent, so that it lands mid-run however fast the run is);
#   - kill -9 of mpirun alone: the ranks (stopped meanwhile, so that the
#     check cannot race) die with it and write nothing more, and an
#     immediate --resume finishes identically, no call twice;
#   - a SIGSTOPped rank: the other rank waits without spinning (under a
#     quarter of a CPU over 2 s), and the run finishes when it continues.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/resume_lib.sh"

run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/ref" >"$SCRATCH/ref.log"

# --- SIGTERM to a plain run ------------------------------------------------------
d="$SCRATCH/term"
"$FLEETSIM" "${RUN_ARGS[@]}" --out "$d" >"$d.log" 2>&1 &
RUN_PID=$!
wait_windows "$d" 3
kill -STOP "$RUN_PID"
expect_interrupted "$d"
kill -TERM "$RUN_PID"
kill -CONT "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
[ "$rc" -eq 143 ] || fail "SIGTERM: exit status $rc, expected 143 (128 + 15)"
expect_interrupted "$d"
want="^fleetsim: SIGTERM: interrupted at [0-9]{2}:[0-9]{2}:[0-9]{2} of the run; continue with --resume \(it starts again from the checkpoint at [0-9]{2}:[0-9]{2}:00\)$"
[ "$(grep -cE "$want" "$d.log")" -eq 1 ] || fail "SIGTERM: message: $(cat "$d.log")"
run_np 1 "${RUN_ARGS[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 || fail "resume after SIGTERM failed"
same_run "$SCRATCH/ref" "$d"
echo "ok: SIGTERM: exit 143, '$(grep -E "$want" "$d.log" | cut -c11-80)...'; resumed: identical"

# --- SIGINT to mpirun (np 2) --------------------------------------------------------
d="$SCRATCH/int"
start_run 2 "$d"
wait_windows "$d" 3
pids=$(rank_pids)
# shellcheck disable=SC2086
kill -STOP $pids
expect_interrupted "$d"
kill -INT "$RUN_PID"
# mpirun passes a SIGTERM to its ranks (with a SIGCONT): wait until it did,
# so that they cannot finish the run before it lands
for _ in $(seq 200); do
  signalled=1
  for p in $pids; do
    st=$(ps -o stat= -p "$p" 2>/dev/null || true)
    [ -z "$st" ] || [ "${st:0:1}" = Z ] && continue
    pend=$(awk '/^(ShdPnd|SigPnd):/ {print $2}' "/proc/$p/status" 2>/dev/null | tr '\n' ' ')
    /usr/bin/python3 -c 'import sys; sys.exit(0 if any(int(x, 16) & (1 << 14) for x in sys.argv[1:]) else 1)' $pend \
      || signalled=0
  done
  [ "$signalled" = 1 ] && break
  sleep 0.05
done
[ "$signalled" = 1 ] || fail "mpirun did not pass SIGTERM to its ranks within 10 s"
# shellcheck disable=SC2086
kill -CONT $pids 2>/dev/null || true
rc=0
wait "$RUN_PID" || rc=$?
[ "$rc" -ne 0 ] || fail "SIGINT to mpirun: exit 0"
expect_interrupted "$d"
n=$(grep -cE "^fleetsim: SIG(TERM|INT): interrupted at .* of the run; continue with --resume" "$d.log" || true)
[ "$n" -eq 1 ] || fail "SIGINT to mpirun: $n interruption messages: $(cat "$d.log")"
run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 || fail "resume after SIGINT failed"
same_run "$SCRATCH/ref" "$d"
echo "ok: SIGINT to mpirun: exit $rc, one message from rank 0; resumed: identical"

# --- kill -9 of mpirun alone -----------------------------------------------------------
d="$SCRATCH/orphans"
start_run 2 "$d"
wait_windows "$d" 3
pids=$(rank_pids)
# shellcheck disable=SC2086
kill -STOP $pids
expect_interrupted "$d"
k=$(windows_done "$d")
snap=$(find "$d" -type f ! -name '*.log' -printf '%p %s %T@\n' | sort)
t0=$(date +%s.%N)
kill -9 "$RUN_PID"
wait "$RUN_PID" 2>/dev/null || true
# shellcheck disable=SC2086
kill -CONT $pids 2>/dev/null || true
alive=$pids
for _ in $(seq 100); do
  alive=$(for p in $pids; do st=$(ps -o stat= -p "$p" 2>/dev/null || true); [ -z "$st" ] || [ "${st:0:1}" = Z ] || echo "$p"; done)
  [ -z "$alive" ] && break
  sleep 0.05
done
secs=$(printf %.2f "$(echo "$(date +%s.%N) - $t0" | bc)")
[ -z "$alive" ] || fail "ranks $alive outlived mpirun by $secs s"
[ "$(find "$d" -type f ! -name '*.log' -printf '%p %s %T@\n' | sort)" = "$snap" ] \
  || fail "the ranks wrote after mpirun died (checkpoint of window $(windows_done "$d"), was $k)"
run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume >"$d.resume.log" 2>&1 \
  || fail "an immediate resume after mpirun died failed: $(tail -n3 "$d.resume.log")"
same_run "$SCRATCH/ref" "$d"
echo "ok: mpirun killed after window $k: its ranks were gone within $secs s and wrote nothing more;" \
  "an immediate resume: identical, no call twice"

# --- a stopped rank: the other waits without spinning ---------------------------------
d="$SCRATCH/stopped"
"$MPIEXEC" -np 2 "$FLEETSIM" run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --set archive=0 --hours 12 --set window_scrapes=20 --out "$d" >"$d.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 2000); do
  [ "$(wc -l <"$d/llm/contexts.jsonl" 2>/dev/null || echo 0)" -ge 4 ] && break
  kill -0 "$RUN_PID" 2>/dev/null || fail "the run ended early: $(tail -n3 "$d.log")"
  sleep 0.01
done
rank_pid() { # R: the pid of MPI rank R of the running job
  local p
  for p in $(rank_pids); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && echo "$p" && return 0
  done
  fail "no rank $1 under mpirun $RUN_PID"
}
r0=$(rank_pid 0) r1=$(rank_pid 1)
kill -STOP "$r1"
[ ! -e "$d/results/summary.md" ] || fail "the run finished before rank 1 was stopped"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
c0=$(cpu "$r0")
sleep 2
c1=$(cpu "$r0")
kill -CONT "$r1"
ticks=$(getconf CLK_TCK)
used=$(echo "scale=2; ($c1 - $c0) / $ticks" | bc)
wait "$RUN_PID" || fail "the run failed after rank 1 continued: $(tail -n3 "$d.log")"
[ "$(echo "$used < 0.5" | bc)" -eq 1 ] || fail "rank 0 used $used s of CPU in 2 s while rank 1 was stopped"
echo "ok: rank 1 stopped for 2 s: rank 0 used $used s of CPU; the run finished after SIGCONT"
echo "reliability_signals: all checks passed"
