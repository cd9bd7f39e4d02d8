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

source "$SOURCE_DIR/tests/lib_stub.sh"
stub_start 300 "$SCRATCH/stub.log"
echo "stub server on 127.0.0.1:$PORT (pid $STUB_PID)"
"$NET_TRANSPORT" "http://127.0.0.1:$PORT"
