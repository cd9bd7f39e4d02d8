# The HTTP transport against the loopback LLM stub: starts
# tests/llm_stub_server.py (killed on exit, and it exits by itself anyway),
# then runs the net_transport driver (NET_TRANSPORT) with the server's URL.
set -euo pipefail
: "${NET_TRANSPORT:?NET_TRANSPORT must point at the net_transport driver}"
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
# Loopback must never go through a proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fleetsim-net.XXXXXX")
STUB_PID=
cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

/usr/bin/python3 "$SOURCE_DIR/tests/llm_stub_server.py" --lifetime 300 \
  >"$SCRATCH/port" 2>"$SCRATCH/stub.log" &
STUB_PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(head -n1 "$SCRATCH/port" 2>/dev/null || true)
  [ -n "$PORT" ] && break
  kill -0 "$STUB_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "FAIL: the stub server did not start:" >&2
  cat "$SCRATCH/stub.log" >&2
  exit 1
fi
echo "stub server on 127.0.0.1:$PORT (pid $STUB_PID)"
"$NET_TRANSPORT" "http://127.0.0.1:$PORT"
