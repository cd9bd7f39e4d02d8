#!/usr/bin/env bash
# An LLM endpoint that fails in the middle of `fleetsim run`: it goes down
# (503s, dropped connections, the server killed), slows past the timeout, or
# answers garbage. The run still completes (exit 0), and every call in
# DIR/llm/contexts.jsonl has exactly one transcript line, ok or error.
# Uses the loopback stub (tests/llm_stub_server.py, mode ok-then-<base>/N:
# the first N requests are answered, the rest fail as <base>).
source "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
STUB_PID=
trap '[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null; rm -rf "$SCRATCH"' EXIT

source "$SOURCE_DIR/tests/lib_stub.sh"

# accounted DIR OK_WANT: one transcript line per call of contexts.jsonl
# (no call missing, none twice); OK_WANT lines ok (or "any"), the rest error.
accounted() {
  /usr/bin/python3 - "$1/llm/contexts.jsonl" "$1/llm/stub.jsonl" "$2" <<'EOF' || fail "$1: calls not accounted for"
import json, sys
ctx = [o["call_id"] for o in map(json.loads, open(sys.argv[1])) if "call_id" in o]
lines = [json.loads(l) for l in open(sys.argv[2])]
if "fleetsim_run" not in lines[0]:
    sys.exit(f"{sys.argv[2]}: no run header")
lines = lines[1:]
ids = [o["call_id"] for o in lines]
if sorted(ids) != sorted(ctx) or len(set(ids)) != len(ids):
    sys.exit(f"{len(ctx)} calls, {len(ids)} transcript lines ({len(set(ids))} distinct)")
ok = sum(o["status"] == "ok" for o in lines)
err = [o for o in lines if o["status"] == "error"]
if len(err) != len(lines) - ok or any(not o["error"] for o in err):
    sys.exit("a line is neither ok nor an error with a reason")
if sys.argv[3] != "any" and ok != int(sys.argv[3]):
    sys.exit(f"{ok} ok, expected {sys.argv[3]}")
print(f"{len(ctx)} calls: {ok} ok, {len(err)} errors, e.g. {err[0]['error'][:70]!r}" if err
      else f"{len(ctx)} calls, all ok")
EOF
}

stub_start 600 "$SCRATCH/stub.log"
echo "stub server on 127.0.0.1:$PORT"
ARGS=(run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json")

# mode, then the spec's extra keys: down (503 after retries; dropped
# connections), slow (hangs past timeout_s), garbage (not JSON, re-asked once)
for c in "ok-then-503 retries=1" "ok-then-close retries=0" "ok-then-hang timeout_s=1,retries=0" \
  "ok-then-garbage retries=0"; do
  mode=${c%% *}
  keys=${c#* }
  d="$SCRATCH/$mode"
  spec="openai:name=stub,base_url=http://127.0.0.1:$PORT/mode/$mode/20/v1,model=x,concurrency=4,$keys"
  t0=$(date +%s)
  "$FLEETSIM" "${ARGS[@]}" --out "$d" --backend "$spec" >"$d.log" 2>&1 \
    || fail "$mode: the run failed: $(tail -n5 "$d.log")"
  [ -f "$d/fleet.h5" ] || fail "$mode: no fleet.h5"
  echo "ok: $mode ($keys): run completed in $(($(date +%s) - t0)) s; $(accounted "$d" 20)"
  grep -q "backend stub: .* (ok 20, error" "$d.log" || fail "$mode: summary: $(grep 'backend stub' "$d.log")"
done

# the server itself dies mid-run: the remaining calls fail fast (connection
# refused), the run completes
d="$SCRATCH/killed"
spec="openai:name=stub,base_url=http://127.0.0.1:$PORT/mode/slow/150/v1,model=x,concurrency=1,retries=0"
"$FLEETSIM" "${ARGS[@]}" --out "$d" --backend "$spec" >"$d.log" 2>&1 &
RUN=$!
for _ in $(seq 600); do
  [ "$(wc -l <"$d/llm/stub.jsonl" 2>/dev/null || echo 0)" -ge 5 ] && break
  sleep 0.05
done
kill "$STUB_PID"
wait "$STUB_PID" 2>/dev/null || true
STUB_PID=
timeout 300 tail --pid="$RUN" -f /dev/null || fail "the run did not end after the server died"
wait "$RUN" || fail "the run failed after the server died: $(tail -n5 "$d.log")"
echo "ok: server killed mid-run: run completed; $(accounted "$d" any)"
grep -q "error" "$d/llm/stub.jsonl" || fail "no call failed although the server was killed"

# kill -9 while calls to a slow endpoint are still pending (all windows
# simulated, the run draining its queue), then --resume: the pending calls
# are sent again, none twice, and the transcript equals an uninterrupted
# run's (modulo latency), as do the archive and contexts.
source "$(dirname "$0")/resume_lib.sh"
stub_start 600 "$SCRATCH/stub.log"
slow="openai:name=stub,base_url=http://127.0.0.1:$PORT/mode/slow/150/v1,model=x,concurrency=1"
run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/slowref" --backend "$slow" >/dev/null
d="$SCRATCH/drain"
start_run 2 "$d" --backend "$slow"
wait_windows "$d" 36
[ ! -e "$d/fleet.h5" ] || fail "the run finished before the kill"
kill_run
before=$(wc -l <"$d/llm/stub.jsonl")
run_np 2 "${RUN_ARGS[@]}" --out "$d" --resume --backend "$slow" >"$d.resume.log" 2>&1 \
  || fail "resume failed: $(tail -n5 "$d.resume.log")"
accounted "$d" any >/dev/null
/usr/bin/python3 - "$SCRATCH/slowref/llm/stub.jsonl" "$d/llm/stub.jsonl" <<'PY' || fail "transcripts differ"
import json, sys
def load(p):
    return {o["call_id"]: (o["status"], o["response_text"], o["tokens_in"], o["tokens_out"])
            for o in map(json.loads, open(p)) if "call_id" in o}
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
if bad:
    sys.exit(f"{len(bad)} calls differ, e.g. {bad[:3]}")
PY
for g in /time /telemetry /events; do
  h5diff -r "$SCRATCH/slowref/fleet.h5" "$d/fleet.h5" "$g" "$g" >/dev/null || fail "drain: $g differs"
done
cmp -s "$SCRATCH/slowref/llm/contexts.jsonl" "$d/llm/contexts.jsonl" || fail "drain: contexts differ"
echo "ok: killed while draining ($before of $(wc -l <"$d/llm/stub.jsonl") calls done), resumed:" \
  "$(grep -o 'backend stub: .* skipped' "$d.resume.log")"
