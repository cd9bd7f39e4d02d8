#!/usr/bin/env bash
# Security: (1) an API key planted in the variable named by api_key_env is
# never written anywhere: run + escalate + score against the loopback stub
# (working and failing endpoints, and endpoints that echo the key back in an
# error page or an answer, which fleetsim stores as "[REDACTED]"), then
# every file under the run directory and every stdout/stderr are searched
# for it; a process holding a key makes no core dump; a header over
# libcurl's limit is reported as such (it used to read "Out of memory"); (2) TLS is verified: an https
# base_url served by a self-signed loopback server (openssl s_server) fails
# every call with a certificate error, and no spec key turns verification
# off; (3) hostile answers (format strings, ../ paths, NUL bytes, ANSI
# escapes and control characters, huge bodies) are stored and scored as
# inert text: no crash, no file outside DIR, no escape sequence on stdout.
source "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
LOGS="$SCRATCH/logs"
mkdir -p "$LOGS"
source "$SOURCE_DIR/tests/lib_stub.sh"
stub_start 300 "$LOGS/stub.err"
PIDS+=("$STUB_PID")
URL="http://127.0.0.1:$PORT"

# --- (1) the key appears nowhere ---------------------------------------------------
KEY="sk-fleetsim-planted-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export FLEETSIM_TEST_SECRET="$KEY"
DIR="$SCRATCH/run"
n=0
logged() { # NAME CMD...: runs CMD with stdout and stderr kept in LOGS
  local name=$1
  shift
  "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || fail "$name exited $?: $(cat "$LOGS/$name.err")"
}
logged_fails() { # NAME CMD...: as logged, but CMD must exit 1 (a backend that answered nothing)
  local name=$1 rc=0
  shift
  "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$name exited $rc, expected 1: $(cat "$LOGS/$name.err")"
}
common="api_key_env=FLEETSIM_TEST_SECRET,concurrency=8,retries=0,timeout_s=10"
logged run run_np 2 run --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$DIR" --backend rules --backend "openai:base_url=$URL/v1,model=stub,name=oa,$common"
for spec in "anthropic:base_url=$URL/v1,model=stub,name=an,$common" \
  "openai:base_url=$URL/mode/401/v1,model=stub,name=oa-401,$common" \
  "anthropic:base_url=$URL/mode/403/v1,model=stub,name=an-403,$common" \
  "openai:base_url=$URL/mode/garbage/v1,model=stub,name=oa-garbage,$common" \
  "openai:base_url=$URL/mode/echo-auth/v1,model=stub,name=oa-echo,$common" \
  "anthropic:base_url=$URL/mode/echo-auth/v1,model=stub,name=an-echo,$common" \
  "openai:base_url=$URL/mode/echo-auth-ok/v1,model=stub,name=oa-echo-ok,$common" \
  "openai:base_url=$URL/mode/bigheader/v1,model=stub,name=oa-bigheader,$common"; do
  n=$((n + 1))
  case $spec in
  *mode/echo-auth-ok/*) logged "escalate$n" "$FLEETSIM" escalate --run "$DIR" --backend "$spec" ;;
  *mode/*) logged_fails "escalate$n" "$FLEETSIM" escalate --run "$DIR" --backend "$spec" ;;
  *) logged "escalate$n" "$FLEETSIM" escalate --run "$DIR" --backend "$spec" ;;
  esac
done
logged score "$FLEETSIM" score --run "$DIR"
grep -q '"status": *"ok"' "$DIR/llm/oa.jsonl" || fail "the openai stub backend answered nothing"
for b in oa-echo an-echo oa-echo-ok; do # the endpoint did echo it: stored redacted
  grep -q '\[REDACTED\]' "$DIR/llm/$b.jsonl" || fail "$b: the echoed key is not marked as redacted"
done
grep -q '"error":"response header too large (over libcurl' "$DIR/llm/oa-bigheader.jsonl" \
  || fail "a 200 KiB header: $(sed -n 2p "$DIR/llm/oa-bigheader.jsonl" | cut -c1-300)"
grep -q "all $(($(wc -l <"$DIR/llm/contexts.jsonl") - 1)) calls it sent failed (the first: HTTP 401" \
  "$LOGS/escalate2.err" || fail "escalate against a 401 endpoint: $(cat "$LOGS/escalate2.err")"
grep -q '"status": *"error"' "$DIR/llm/oa-401.jsonl" || fail "the 401 backend did not fail"
files=$(find "$DIR" "$LOGS" -type f | wc -l)
if grep -r -l -a -F "$KEY" "$DIR" "$LOGS"; then fail "the API key was written to the files above"; fi
# HDF5 may store attribute text in any layout: search the archive's strings too.
if h5dump -A "$DIR/fleet.h5" 2>/dev/null | grep -q -F "$KEY"; then fail "the API key is in fleet.h5"; fi
echo "ok: the planted key is in none of $files files (run, transcripts, results, judgment, logs)," \
  "also where endpoints echoed it"

# A process that holds a key makes no core dump (the dump would hold the key):
# an escalate with a key and one without are killed with SIGSEGV while they
# wait on a hanging endpoint; only the one without may leave a core file.
# Needs core files written to the working directory (core_pattern "core...").
if grep -q '^core' /proc/sys/kernel/core_pattern 2>/dev/null; then
  core_run() { # NAME SPEC: escalate in $SCRATCH/core-NAME, killed by SIGSEGV; prints the core files
    local cd="$SCRATCH/core-$1"
    mkdir -p "$cd"
    (cd "$cd" && ulimit -c unlimited && exec "$FLEETSIM" escalate --run "$DIR" --quiet --backend "$2") \
      >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 200); do [ -s "$DIR/llm/$1.jsonl" ] && break; sleep 0.05; done
    kill -SEGV "$pid"
    wait "$pid" 2>/dev/null || true
    find "$cd" -name 'core*' -type f
  }
  control=$(core_run core-nokey "openai:base_url=$URL/mode/hang/v1,model=stub,name=core-nokey")
  if [ -n "$control" ]; then
    keyed=$(core_run core-key "openai:base_url=$URL/mode/hang/v1,model=stub,name=core-key,$common")
    [ -z "$keyed" ] || fail "a process holding the key left a core dump: $keyed"
    echo "ok: SIGSEGV: no core dump from a process holding a key (one without left $(basename "$control"))"
  else
    echo "note: no core file even without a key here (ulimit or policy): core-dump check skipped"
  fi
else
  echo "note: core_pattern $(cat /proc/sys/kernel/core_pattern) writes no core file here: core-dump check skipped"
fi
# Keys never come from the command line.
expect_fail 2 "api_key=\*\*\*': key 'api_key' is not accepted" "$FLEETSIM" escalate --run "$DIR" \
  --backend "openai:base_url=$URL/v1,model=stub,api_key=$KEY"
if "$FLEETSIM" escalate --run "$DIR" --backend "openai:base_url=$URL/v1,model=stub,api_key=$KEY" 2>&1 |
  grep -q -F "$KEY"; then fail "a key given on the command line is echoed"; fi

# --- (2) TLS is verified -------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" \
  -days 1 -subj "/CN=127.0.0.1" >/dev/null 2>&1 || fail "openssl could not make a certificate"
TLS_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$SCRATCH/cert.pem" -key "$SCRATCH/key.pem" \
  -www -quiet >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null && break
  sleep 0.1
done
logged_fails tls "$FLEETSIM" escalate --run "$DIR" --quiet \
  --backend "openai:base_url=https://127.0.0.1:$TLS_PORT/v1,model=stub,name=tls,$common"
/usr/bin/python3 - "$DIR/llm/tls.jsonl" <<'PY' || fail "TLS to a self-signed server was not refused"
import json, sys
lines = [o for o in map(json.loads, open(sys.argv[1])) if "call_id" in o]
assert lines and all(l["status"] == "error" for l in lines), "a call succeeded"
bad = [l["error"] for l in lines if not any(w in (l["error"] or "").lower() for w in ("certificate", "ssl", "tls"))]
assert not bad, f"errors that are no TLS error: {bad[:3]}"
print(f"ok: all {len(lines)} calls to a self-signed https server failed: {lines[0]['error'][:100]}")
PY
for k in verify_tls=0 insecure=1 ssl_verify=0 verify=false; do
  expect_fail 2 "unknown key" "$FLEETSIM" escalate --run "$DIR" \
    --backend "openai:base_url=https://127.0.0.1:$TLS_PORT/v1,model=stub,$k,$common"
done

# --- (3) hostile answers ---------------------------------------------------------------
HOST="$SCRATCH/hostile.jsonl"
/usr/bin/python3 - "$DIR/llm/rules.jsonl" "$HOST" <<'PY'
import json, sys
evil = ["%n%n%n%s%s%s%x%x%99999999d", "../../../../tmp/fleetsim-pwned", "/etc/passwd",
        "\u001b[2J\u001b[31mRED\u001b]0;title\u0007", "nul\u0000byte", "\r\b\t\u007f\u009b",
        "````\n# fake heading\n", "A" * 200000]
out = []
for i, l in enumerate(o for o in map(json.loads, open(sys.argv[1])) if "call_id" in o):
    e = evil[i % len(evil)]
    if l["layer"] == "L2":
        l["response_text"] = json.dumps({"classification": "real_anomaly", "scope": "node",
            "tenant_type": "training", "confidence": 0.9, "rationale": e, e[:64]: e})
    elif l["layer"] == "L3":
        l["response_text"] = json.dumps({"root_cause": e, "confidence": 0.5, "affected_scope": e,
            "tenant_types": [e], "cross_tenant_impact": e, "causal_chain": [e, e],
            "recommended_actions": [e], "priority": "P1"})
    else:
        l["response_text"] = "## Active incidents\n" + e + "\n" + e * 2
    out.append(json.dumps(l))
out.append("{\"call_id\": \"../../x\", \"status\": \"ok\", \"response_text\": \"%s%n\"}")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
before=$(find "$SCRATCH" -maxdepth 1 | sort)
logged hostile "$FLEETSIM" escalate --run "$DIR" --backend "replay:path=$HOST,name=hostile"
logged hostile-score "$FLEETSIM" score --run "$DIR"
logged_fails big "$FLEETSIM" escalate --run "$DIR" --quiet \
  --backend "openai:base_url=$URL/mode/big/v1,model=stub,name=big,$common"
grep -q "response too large" "$DIR/llm/big.jsonl" || fail "a 5 MiB body was not refused: $(head -c 300 "$DIR/llm/big.jsonl")"
[ "$(find "$SCRATCH" -maxdepth 1 | sort)" = "$before" ] || fail "files appeared outside DIR"
[ ! -e /tmp/fleetsim-pwned ] || fail "an answer's path was used"
[ -z "$(find "$DIR/judgment" -type f ! -path "$DIR/judgment/*/*.md")" ] || fail "stray judgment files"
ls "$DIR/judgment/hostile/"*.md >/dev/null || fail "no judgment packages for the hostile backend"
for f in "$LOGS"/hostile*.out "$LOGS"/hostile*.err; do
  if grep -q -P '[\x1b\x07\x08]' "$f"; then fail "$f carries control characters from an answer"; fi
done
/usr/bin/python3 - "$DIR" <<'PY' || fail "hostile answers were not stored as text"
import json, sys
d = sys.argv[1]
calls = [json.loads(l) for l in open(d + "/results/calls.jsonl")]
h = [c for c in calls if c["backend"] == "hostile"]
assert h and all(0.0 <= c["score"] <= 1.0 for c in h), "hostile calls unscored"
big = max(len(c["response_text"] or "") for c in h)
assert big <= 65536 * 6, f"an answer of {big} characters kept whole"
print(f"ok: {len(h)} hostile answers scored as text (longest kept: {big} characters)")
PY
echo "reliability_security: all checks passed"
