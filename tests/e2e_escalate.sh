#!/usr/bin/env bash
# LLM escalation end to end against the loopback stub (tests/llm_stub_server.py):
# `fleetsim run --no-llm`, then `fleetsim escalate` through openai, anthropic
# and replay backends (one transcript line per call, resume skips all), broken
# endpoints (every call an error line, exit 0), no API key under DIR,
# concurrency (N calls at 200 ms, concurrency 8: wall within 1.5x N*0.2/8), and
# `fleetsim run` with the default rules backend.
source "$(dirname "$0")/lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

STUB_PID=
cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
source "$SOURCE_DIR/tests/lib_stub.sh"
stub_start 600 "$SCRATCH/stub.log"
URL="http://127.0.0.1:$PORT"
echo "stub server on $URL (pid $STUB_PID)"

export TEST_KEY=sk-planted-XYZ
DIR="$SCRATCH/run"
"$FLEETSIM" run --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$DIR" --no-llm --quiet >/dev/null
CTX="$DIR/llm/contexts.jsonl"
N=$(($(wc -l <"$CTX") - 1)) # the first line is the run header
[ "$N" -gt 10 ] || fail "only $N calls in $CTX"
[ "$(ls "$DIR/llm")" = "contexts.jsonl" ] || fail "--no-llm wrote transcripts: $(ls "$DIR/llm")"
echo "ok: run --no-llm wrote $N contexts and no transcript"

# check_transcript NAME WANT: every call of contexts.jsonl has exactly one line
# in DIR/llm/NAME.jsonl; WANT ok|error: every line has that status (any: no check).
check_transcript() {
  /usr/bin/python3 - "$CTX" "$DIR/llm/$1.jsonl" "$2" <<'EOF'
import json, sys
ctx_lines = [json.loads(l) for l in open(sys.argv[1])]
lines = [json.loads(l) for l in open(sys.argv[2])]
if "fleetsim_run" not in lines[0] or lines[0] != ctx_lines[0]:
    sys.exit(f"{sys.argv[2]}: line 1 is not the run header of contexts.jsonl: {lines[0]}")
ctx = [c["call_id"] for c in ctx_lines[1:]]
lines = lines[1:]
ids = [l["call_id"] for l in lines]
want = sys.argv[3]
if sorted(ids) != sorted(ctx):
    sys.exit(f"{sys.argv[2]}: {len(ids)} lines for {len(ctx)} calls "
             f"(missing {sorted(set(ctx) - set(ids))[:5]}, extra or repeated "
             f"{sorted(i for i in set(ids) if ids.count(i) != ctx.count(i))[:5]})")
fields = ["call_id", "layer", "event_id", "t_s", "backend", "kind", "model", "status",
          "latency_s", "tokens_in", "tokens_out", "cost_usd", "gpu_hours", "attempts",
          "error", "response_text"]
for l in lines:
    if list(l) != fields:
        sys.exit(f"{l['call_id']}: fields {list(l)}")
    if want != "any" and l["status"] != want:
        sys.exit(f"{l['call_id']}: status {l['status']} ({l['error']}), expected {want}")
    if (l["status"] == "ok") != (l["error"] is None):
        sys.exit(f"{l['call_id']}: status {l['status']} with error {l['error']!r}")
    if (l["layer"] == "L4") != (l["event_id"] is None):
        sys.exit(f"{l['call_id']}: layer {l['layer']} with event_id {l['event_id']}")
ok = sum(l["status"] == "ok" for l in lines)
print(f"ok: {sys.argv[2].rsplit('/', 1)[1]}: {len(lines)} lines, {ok} ok, "
      f"{len(lines) - ok} errors")
EOF
}

esc() { "$FLEETSIM" escalate --run "$DIR" --quiet "$@"; }

# --- working backends ------------------------------------------------------
esc --backend "openai:base_url=$URL/mode/ok/v1,model=stub,name=stub-openai,concurrency=8,api_key_env=TEST_KEY,price_in=1,price_out=2" \
  >"$SCRATCH/openai.out"
cat "$SCRATCH/openai.out"
check_transcript stub-openai ok
grep -q "ok $N, error 0" "$SCRATCH/openai.out" || fail "openai summary: $(cat "$SCRATCH/openai.out")"
esc --backend "anthropic:base_url=$URL/mode/ok/v1,model=stub,name=stub-anthropic,concurrency=8,api_key_env=TEST_KEY" \
  >"$SCRATCH/anthropic.out"
cat "$SCRATCH/anthropic.out"
check_transcript stub-anthropic ok
esc --backend "replay:path=$DIR/llm/stub-openai.jsonl,name=replayed" >"$SCRATCH/replay.out"
cat "$SCRATCH/replay.out"
check_transcript replayed ok
/usr/bin/python3 - "$DIR/llm/stub-openai.jsonl" "$DIR/llm/replayed.jsonl" <<'EOF' || fail "replay differs"
import json, sys
a = {j["call_id"]: j["response_text"] for j in map(json.loads, open(sys.argv[1])) if "call_id" in j}
b = {j["call_id"]: j["response_text"] for j in map(json.loads, open(sys.argv[2])) if "call_id" in j}
assert a == b, "replayed answers differ from the transcript"
EOF
echo "ok: replay answers equal the openai transcript's"

# --- resume: a rerun skips everything ----------------------------------------
before=$(wc -l <"$DIR/llm/stub-openai.jsonl")
esc --backend "openai:base_url=$URL/mode/ok/v1,model=stub,name=stub-openai,api_key_env=TEST_KEY" \
  >"$SCRATCH/rerun.out"
grep -q "0 calls (ok 0, error 0), $N skipped" "$SCRATCH/rerun.out" \
  || fail "rerun did not skip all: $(cat "$SCRATCH/rerun.out")"
[ "$(wc -l <"$DIR/llm/stub-openai.jsonl")" -eq "$before" ] || fail "rerun appended lines"
echo "ok: rerun skipped all $N calls"
# A partial transcript is completed: keep the header and half the lines, rerun.
head -n $((N / 2 + 1)) "$DIR/llm/stub-anthropic.jsonl" >"$SCRATCH/half" && cp "$SCRATCH/half" "$DIR/llm/stub-anthropic.jsonl"
esc --backend "anthropic:base_url=$URL/mode/ok/v1,model=stub,name=stub-anthropic,api_key_env=TEST_KEY" \
  >"$SCRATCH/resume.out"
grep -q "$((N - N / 2)) calls .*, $((N / 2)) skipped" "$SCRATCH/resume.out" \
  || fail "resume: $(cat "$SCRATCH/resume.out")"
check_transcript stub-anthropic ok

# --- broken endpoints: every call ends as an error line; a backend that
# answered nothing fails the command (exit 1, naming the first error) -------
CLOSED=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for mode in 500 html garbage offschema prose closed; do
  base="$URL/mode/$mode/v1"
  [ "$mode" = closed ] && base="http://127.0.0.1:$CLOSED/v1"
  for kind in openai anthropic; do
    name="bad-$kind-$mode"
    rc=0
    esc --backend "$kind:base_url=$base,model=stub,name=$name,concurrency=16,retries=1,timeout_s=10,api_key_env=TEST_KEY" \
      >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" || rc=$?
    [ "$rc" -eq 1 ] || fail "$name: escalate exited $rc, expected 1"
    grep -q "backend $name: all $N calls it sent failed (the first: " "$SCRATCH/$name.err" \
      || fail "$name: no message: $(cat "$SCRATCH/$name.err")"
    grep -q "$N calls (ok 0, error $N)" "$SCRATCH/$name.out" \
      || fail "$name summary: $(cat "$SCRATCH/$name.out")"
    check_transcript "$name" error
  done
done
sed -n 2p "$DIR/llm/bad-openai-offschema.jsonl" | grep -q '"attempts":2,"error":"parse: ' \
  || fail "off-schema answers are not re-asked once: $(sed -n 2p "$DIR/llm/bad-openai-offschema.jsonl")"

# --- the key appears nowhere under DIR ---------------------------------------
if grep -r -l "sk-planted-XYZ" "$DIR"; then fail "the API key was written under $DIR"; fi
echo "ok: the planted key is nowhere under DIR"

# --- concurrency: N calls of 200 ms at concurrency 8 -------------------------
# L2 calls only (L3/L4 wait for earlier calls by design, which serialises the
# tail of each window): a copy of the run whose contexts are L2 calls. The
# wall time measured is the whole process (MPI start-up and reading included).
C="$SCRATCH/conc"
mkdir -p "$C/llm"
cp "$DIR/fleet.h5" "$C/"
# 160 calls: the L2 contexts repeated under new call_ids.
/usr/bin/python3 - "$CTX" >"$C/llm/contexts.jsonl" <<'EOF'
import json, sys
print(open(sys.argv[1]).readline(), end="")  # the run header: the same run
l2 = [json.loads(l) for l in open(sys.argv[1]) if '"layer":"L2"' in l]
for i in range(160):
    c = dict(l2[i % len(l2)], call_id=f"L2-{900000 + i:06d}", event_id=900000 + i)
    print(json.dumps(c))
EOF
NC=$(($(wc -l <"$C/llm/contexts.jsonl") - 1))
t0=$(date +%s.%N)
"$FLEETSIM" escalate --run "$C" --quiet \
  --backend "openai:base_url=$URL/mode/slow/200/v1,model=stub,name=slow,concurrency=8" >"$SCRATCH/slow.out"
t1=$(date +%s.%N)
cat "$SCRATCH/slow.out"
/usr/bin/python3 - "$t0" "$t1" "$NC" <<'EOF' || fail "concurrency target missed"
import sys
t0, t1, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
ideal = n * 0.2 / 8
print(f"concurrency: {n} calls x 200 ms at concurrency 8: wall {t1 - t0:.2f} s, "
      f"N*L/C {ideal:.2f} s, ratio {(t1 - t0) / ideal:.2f} (target <= 1.5)")
sys.exit(0 if t1 - t0 <= 1.5 * ideal else 1)
EOF
# All layers, for the record (dependencies make this slower than N*L/C).
t0=$(date +%s.%N)
esc --backend "openai:base_url=$URL/mode/slow/200/v1,model=stub,name=slow-all,concurrency=8" >/dev/null
t1=$(date +%s.%N)
check_transcript slow-all ok
# Ordering with concurrency (lines are appended as calls finish): an L3 line
# comes after every L2 submitted before it, an L4 line after every call
# submitted before it. And the last request (the final L4) carries this
# backend's additions: l2_counts and the L3 one-liners.
/usr/bin/python3 - "$CTX" "$DIR/llm/slow-all.jsonl" "$URL/stats" <<'EOF' || fail "ordering or additions"
import json, sys, urllib.request
order = [o["call_id"] for o in map(json.loads, open(sys.argv[1])) if "call_id" in o]
done = [o["call_id"] for o in map(json.loads, open(sys.argv[2])) if "call_id" in o]
pos = {c: i for i, c in enumerate(done)}
for k, c in enumerate(order):
    before = [p for p in order[:k] if c.startswith("L4") or (c.startswith("L3") and p.startswith("L2"))]
    late = [p for p in before if pos[p] > pos[c]]
    assert not late, f"{c} finished before {late[:3]}"
stats = json.load(urllib.request.urlopen(sys.argv[3]))
last = stats["by_key"][""]["last_request"]
user = last["messages"][-1]["content"]
assert user.startswith("Context (JSON):\n"), user[:40]
ctx = json.loads(user.split("\n", 1)[1])
assert ctx["layer"] == "L4", ctx["layer"]
assert set(ctx["l2_counts"]) == {"real_anomaly", "noise", "transient", "errors"}, ctx["l2_counts"]
assert sum(ctx["l2_counts"].values()) > 0, ctx["l2_counts"]
assert any("stub root cause" in a for a in ctx["l3_analyses"]), ctx["l3_analyses"][:3]
print(f"ok: ordering holds; final L4 got l2_counts {ctx['l2_counts']} and "
      f"{len(ctx['l3_analyses'])} L3 one-liners, e.g. {ctx['l3_analyses'][:1]}")
EOF
/usr/bin/python3 -c "import sys; t0, t1, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]); \
print(f'all layers: {n} calls x 200 ms at concurrency 8: wall {t1 - t0:.2f} s, N*L/C {n * 0.2 / 8:.2f} s')" \
  "$t0" "$t1" "$N"

# --- refusals ------------------------------------------------------------------
mkdir -p "$SCRATCH/incomplete/llm"
cp "$CTX" "$SCRATCH/incomplete/llm/"
expect_fail 2 "fleet.h5 is missing \(No such file or directory\)" "$FLEETSIM" escalate --run "$SCRATCH/incomplete" --backend rules
expect_fail 2 "required" "$FLEETSIM" escalate --run "$DIR"

# --- fleetsim run with the default rules backend ------------------------------
R="$SCRATCH/rules"
"$FLEETSIM" run --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$R" --quiet >"$SCRATCH/rules.out"
grep "backend rules" "$SCRATCH/rules.out" || fail "no rules summary: $(cat "$SCRATCH/rules.out")"
DIR="$R" CTX="$R/llm/contexts.jsonl" check_transcript rules ok
echo "e2e_escalate: all checks passed"
