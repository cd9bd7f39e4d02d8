# Helpers for the reliability_*.sh tests (sourced after lib.sh): start a
# run in the background, wait for its checkpoint of window K, kill -9 its
# ranks, and compare a run directory with a reference one.

# Small fleet, 36 windows of 20 scrapes (5 min) each, a checkpoint after
# every window (the default is every 6): many checkpoints to kill between.
RUN_ARGS=(run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json"
  --set window_scrapes=20 --set restart_every_windows=1)

# start_run NP DIR [ARGS...]: fleetsim run in the background; RUN_PID is mpirun's pid.
start_run() {
  local np=$1 dir=$2
  shift 2
  "$MPIEXEC" -np "$np" "$FLEETSIM" "${RUN_ARGS[@]}" --out "$dir" "$@" >"$dir.log" 2>&1 &
  RUN_PID=$!
}

# windows_done DIR: the window count of DIR's last checkpoint (0 when none).
windows_done() {
  local w
  w=$(grep -o '"windows": [0-9]*' "$1/checkpoint/manifest.json" 2>/dev/null | grep -o '[0-9]*$') \
    || true
  echo "${w:-0}"
}

# wait_windows DIR K: waits until DIR's checkpoint covers K windows; fails
# if the run ends first or after 120 s.
wait_windows() {
  local dir=$1 k=$2
  for _ in $(seq 6000); do
    [ "$(windows_done "$dir")" -ge "$k" ] && return 0
    kill -0 "$RUN_PID" 2>/dev/null || fail "the run in $dir ended before window $k: $(tail -n3 "$dir.log")"
    sleep 0.02
  done
  fail "no checkpoint of window $k in $dir after 120 s"
}

# rank_pids: the fleetsim processes mpirun started (its children).
rank_pids() { pgrep -P "$RUN_PID" || true; }

# kill_run: kill -9 every rank and mpirun itself (a crash of the whole job).
kill_run() {
  local pids
  pids=$(rank_pids)
  [ -n "$pids" ] || fail "no rank processes under mpirun $RUN_PID"
  # shellcheck disable=SC2086
  kill -9 $pids "$RUN_PID" 2>/dev/null || true
  wait "$RUN_PID" 2>/dev/null || true
}

# sleep_part_of_window: sleeps 0 to 49 ms (at most about two windows of
# RUN_ARGS on the 2-core machine), so that a kill lands at an arbitrary
# moment (mid-window or mid-checkpoint) yet well before the run's end.
sleep_part_of_window() { sleep "$(printf '0.%03d' $((RANDOM % 50)))"; }

# expect_interrupted DIR: the killed run in DIR had not finished (it left
# fleet.h5.partial and no fleet.h5); fails naming the window it reached.
expect_interrupted() {
  [ -e "$1/fleet.h5.partial" ] && [ ! -e "$1/fleet.h5" ] \
    || fail "$1: the kill came too late (checkpoint of window $(windows_done "$1"))"
}

# same_run REF DIR: archives (h5diff /time /telemetry /events /topology
# /ground_truth and the coordinates /node /gpu /rack /xarray), contexts,
# detection report and the rules transcript (modulo latency) are identical.
same_run() {
  local ref=$1 dir=$2 g
  [ -f "$dir/fleet.h5" ] && [ ! -e "$dir/fleet.h5.partial" ] || fail "$dir: no complete fleet.h5"
  [ ! -e "$dir/checkpoint" ] || fail "$dir: checkpoint left behind after completion"
  for g in /time /telemetry /events /node /gpu /rack /xarray /topology /ground_truth; do
    h5diff -r "$ref/fleet.h5" "$dir/fleet.h5" "$g" "$g" >/dev/null \
      || fail "$dir differs from $ref in $g"
  done
  # contexts after the run header (a run with other restart settings has
  # another fingerprint, and the same contexts)
  head -n1 "$dir/llm/contexts.jsonl" | grep -q '^{"fleetsim_run":{"fingerprint":"[0-9a-f]\{16\}"' \
    || fail "$dir: contexts.jsonl does not start with a run header"
  cmp -s <(tail -n +2 "$ref/llm/contexts.jsonl") <(tail -n +2 "$dir/llm/contexts.jsonl") \
    || fail "$dir: other LLM contexts"
  cmp -s "$ref/results/detection.json" "$dir/results/detection.json" \
    || fail "$dir: other results/detection.json"
  /usr/bin/python3 - "$ref/llm/rules.jsonl" "$dir/llm/rules.jsonl" <<'EOF' || fail "$dir: rules transcript differs"
import json, sys
def load(path):
    calls = {}
    for line in open(path):
        o = json.loads(line)
        if "fleetsim_run" in o:  # the run header
            continue
        o.pop("latency_s")
        if o["call_id"] in calls:
            sys.exit(f"{path}: {o['call_id']} twice")
        calls[o["call_id"]] = o
    return calls
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    sys.exit(f"{len(diff)} calls differ, first {diff[:5]}")
EOF
}
