# Starts the loopback LLM stub (tests/llm_stub_server.py) for a test script.
# Needs SOURCE_DIR and SCRATCH; sets STUB_PID and PORT. The caller's EXIT
# trap kills STUB_PID (the stub also exits by itself after its lifetime).

# stub_start LIFETIME_S LOGFILE [stub args...]: starts the stub, waits for the
# port it prints, fails with the stub's log when it does not come up.
stub_start() {
  local lifetime=$1 log=$2
  shift 2
  /usr/bin/python3 "$SOURCE_DIR/tests/llm_stub_server.py" --lifetime "$lifetime" "$@" \
    >"$SCRATCH/port" 2>"$log" &
  STUB_PID=$!
  PORT=
  for _ in $(seq 100); do
    PORT=$(head -n1 "$SCRATCH/port" 2>/dev/null || true)
    [ -n "$PORT" ] && return 0
    kill -0 "$STUB_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: the stub server did not start: $(cat "$log")" >&2
  exit 1
}
