#!/usr/bin/env bash
# One owner per run directory, and fleetsim touches only its own files:
#   - the run fingerprint is the same in fleet.h5, contexts.jsonl, every
#     transcript and the checkpoint manifest;
#   - DIR/.lock: a second run, a --resume, a score or an escalate while a run
#     holds DIR is refused (the run is stopped with SIGSTOP meanwhile, so the
#     check cannot race), and the held run then finishes identically; two
#     escalates of one backend: the second is refused;
#   - a fresh run into a directory that holds another run is refused; --force
#     removes only fleetsim's files of it (user files next to them stay),
#     a killed re-run cannot leave the old archive beside new contexts, and
#     files of another run (transcript, contexts) are refused by score and
#     escalate, naming both runs; stale judgment packages go;
#   - user files in DIR/checkpoint survive a run; links planted at
#     DIR/checkpoint, DIR/fleet.h5.partial, DIR/llm/contexts.jsonl and
#     DIR/llm/<backend>.jsonl are never followed (their targets unchanged).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/bad_input_lib.sh"
source "$(dirname "$0")/resume_lib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
STUB_PID=
trap '[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null; rm -rf "$SCRATCH"' EXIT
source "$SOURCE_DIR/tests/lib_stub.sh"
SMALL=(run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json")

# fp FILE: the fingerprint in FILE (archive attribute, header line or manifest).
fp() {
  case $1 in
  *.h5 | *.h5.partial) /usr/bin/python3 -c 'import h5py, sys; print(h5py.File(sys.argv[1], "r").attrs["fingerprint"])' "$1" ;;
  *manifest.json) /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["fingerprint"])' "$1" ;;
  *) /usr/bin/python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["fleetsim_run"]["fingerprint"])' "$1" ;;
  esac
}
# sums DIR: checksums of every file under DIR but the lock (which names its holder).
sums() { (cd "$1" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 md5sum); }

run_np 1 "${RUN_ARGS[@]}" --out "$SCRATCH/ref" >"$SCRATCH/ref.log"

# --- the lock: a held run directory refuses every other writer ----------------
d="$SCRATCH/held"
start_run 2 "$d"
wait_windows "$d" 2
held_pids=$(rank_pids)
# shellcheck disable=SC2086
kill -STOP $held_pids
expect_interrupted "$d"
f=$(fp "$d/llm/contexts.jsonl")
for x in "$d/fleet.h5.partial" "$d/checkpoint/manifest.json" "$d/llm/rules.jsonl"; do
  [ "$(fp "$x")" = "$f" ] || fail "$x: fingerprint $(fp "$x"), contexts.jsonl $f"
done
echo "ok: fleet.h5.partial, manifest, contexts.jsonl and rules.jsonl carry one fingerprint ($f)"
busy="$d is in use by another fleetsim process \($d/.lock is locked; last taken by pid [0-9]+: fleetsim run\)"
row "0 2" 2 "run: $busy" "${RUN_ARGS[@]}" --out "$d"
row "0 2" 2 "run: $busy" "${RUN_ARGS[@]}" --out "$d" --resume
row "0 2" 2 "run: $busy" "${RUN_ARGS[@]}" --out "$d" --force
# shellcheck disable=SC2086
kill -CONT $held_pids
wait "$RUN_PID" || fail "the held run failed: $(tail -n5 "$d.log")"
same_run "$SCRATCH/ref" "$d"
echo "ok: the run that held $d finished identically"

# score and escalate of a complete run while a run holds it; two escalates of
# one backend (the first hangs on the stub until it is interrupted)
stub_start 120 "$SCRATCH/stub.log"
R="$SCRATCH/done"
run_np 2 "${RUN_ARGS[@]}" --out "$R" >/dev/null
"$FLEETSIM" escalate --run "$R" --quiet \
  --backend "openai:base_url=http://127.0.0.1:$PORT/mode/hang/v1,model=x,name=twin,timeout_s=60" \
  >"$SCRATCH/twin.out" 2>&1 &
esc_pid=$!
for _ in $(seq 400); do [ -s "$R/llm/twin.jsonl" ] && break; sleep 0.05; done
[ -s "$R/llm/twin.jsonl" ] || fail "the first escalate did not start: $(cat "$SCRATCH/twin.out")"
row "0" 2 "$R/llm/twin.jsonl is being written by another fleetsim \(an escalate or run with backend 'twin'\)" \
  escalate --quiet --run "$R" --backend "rules:name=twin"
row "0" 2 "score: $R is in use by another fleetsim process" score --quiet --run "$R"
expect_fail 2 "run: $R is in use by another fleetsim process" run_np 2 "${RUN_ARGS[@]}" --out "$R" --force
kill -INT "$esc_pid"
rc=0
wait "$esc_pid" || rc=$?
[ "$rc" -eq 130 ] || fail "an interrupted escalate exited $rc, expected 130 (128 + SIGINT)"
grep -q "SIGINT: escalate interrupted; run the same command again to continue" "$SCRATCH/twin.out" \
  || fail "no message from the interrupted escalate: $(cat "$SCRATCH/twin.out")"
"$FLEETSIM" escalate --run "$R" --quiet --backend "rules:name=twin" >/dev/null
"$FLEETSIM" score --run "$R" --quiet
/usr/bin/python3 - "$R/llm/twin.jsonl" <<'PY' || fail "the twin transcript holds a call twice"
import json, sys
ids = [o["call_id"] for o in map(json.loads, open(sys.argv[1])) if "call_id" in o]
assert len(ids) == len(set(ids)) and ids, f"{len(ids)} lines, {len(set(ids))} calls"
PY
echo "ok: a second escalate of one backend, a score and a run were refused while the first held it"

# --- a directory that holds another run -----------------------------------------
d="$SCRATCH/rerun"
run_np 2 "${SMALL[@]}" --out "$d" >/dev/null
"$FLEETSIM" escalate --run "$d" --quiet --backend rules:name=extra >/dev/null
echo mine >"$d/notes.txt"
echo mine >"$d/llm/README"
echo mine >"$d/results/mine.csv"
echo mine >"$d/judgment/rules/my-review.txt"
before=$(sums "$d")
for np in 1 2; do
  expect_fail 2 "run: $d holds another run \(fleet.h5, .*\): continue it with --resume, choose another --out, or pass --force" \
    run_np "$np" "${SMALL[@]}" --seed 7 --out "$d"
done
[ "$(sums "$d")" = "$before" ] || fail "a refused run changed $d"
run_np 2 "${SMALL[@]}" --seed 7 --out "$d" --force >/dev/null || fail "run --force failed"
[ ! -e "$d/llm/extra.jsonl" ] && [ ! -e "$d/judgment/extra" ] || fail "--force kept the old run's transcript or judgment"
for u in notes.txt llm/README results/mine.csv judgment/rules/my-review.txt; do
  [ "$(cat "$d/$u")" = mine ] || fail "--force removed or changed the user's $u"
done
[ "$(fp "$d/fleet.h5")" = "$(fp "$d/llm/contexts.jsonl")" ] || fail "archive and contexts of two runs"
echo "ok: a run into another run's directory: refused, then --force replaced only fleetsim's files"

# files of another run: refused by score and escalate, naming both runs
other="$SCRATCH/rerun-other"
mkdir -p "$other"
cp "$SCRATCH/ref/llm/rules.jsonl" "$d/llm/foreign.jsonl"
row "0" 2 "$d/llm/foreign.jsonl belongs to run [0-9a-f]{16} \(seed 42, .*\), but the run's contexts to run [0-9a-f]{16} \(seed 7," \
  score --quiet --run "$d"
cp "$d/llm/foreign.jsonl" "$other/foreign.jsonl"
row "0" 2 "$d/llm/foreign.jsonl belongs to run [0-9a-f]{16} \(seed 42, .*\), but this is run [0-9a-f]{16} \(seed 7," \
  escalate --quiet --run "$d" --backend rules:name=foreign
cmp -s "$d/llm/foreign.jsonl" "$other/foreign.jsonl" || fail "escalate appended to another run's transcript"
rm "$d/llm/foreign.jsonl"
cp "$d/llm/contexts.jsonl" "$other/contexts.jsonl"
cp "$SCRATCH/ref/llm/contexts.jsonl" "$d/llm/contexts.jsonl"
row "0" 2 "$d/fleet.h5 belongs to run [0-9a-f]{16} \(seed 7, .*\), but $d/llm/contexts.jsonl to run [0-9a-f]{16} \(seed 42," \
  score --quiet --run "$d"
cp "$other/contexts.jsonl" "$d/llm/contexts.jsonl"
# a stale judgment package goes when its transcript is gone
"$FLEETSIM" escalate --run "$d" --quiet --backend rules:name=gone >/dev/null
"$FLEETSIM" score --run "$d" --quiet
ls "$d/judgment/gone/"*.md >/dev/null || fail "no judgment packages for backend 'gone'"
rm "$d/llm/gone.jsonl"
"$FLEETSIM" score --run "$d" --quiet
[ ! -e "$d/judgment/gone" ] || fail "score kept the judgment packages of a removed transcript"
[ "$(cat "$d/judgment/rules/my-review.txt")" = mine ] || fail "score removed the user's file"
# --resume of a finished run with another seed: refused, naming the key
for np in 1 2; do
  expect_fail 2 "--resume: config key 'seed' differs from the finished run's: finished run 7, now 42" \
    run_np "$np" "${SMALL[@]}" --out "$d" --resume
done
echo "ok: another run's transcript and contexts refused by score and escalate; stale judgment removed"

# a killed re-run leaves no old archive beside its new contexts
start_run 2 "$d" --force
wait_windows "$d" 2
kill_run
expect_interrupted "$d"
[ "$(fp "$d/fleet.h5.partial")" = "$(fp "$d/llm/contexts.jsonl")" ] || fail "a killed re-run mixes two runs"
row "0" 2 "score: $d/fleet.h5 is missing; $d/fleet.h5.partial is a run that did not finish" score --quiet --run "$d"
echo "ok: a re-run killed after window 2 left only its own files"

# --- user files and planted links ----------------------------------------------
d="$SCRATCH/userckpt"
mkdir -p "$d/checkpoint"
echo mine >"$d/checkpoint/mine.txt"
echo mine >"$d/checkpoint/w1-notes.bin"
run_np 2 "${SMALL[@]}" --set restart_every_windows=1 --out "$d" >/dev/null \
  || fail "a run next to user files in checkpoint/ failed"
[ "$(cat "$d/checkpoint/mine.txt")$(cat "$d/checkpoint/w1-notes.bin")" = minemine ] \
  || fail "the run deleted the user's files in $d/checkpoint"
echo "ok: the user's files in DIR/checkpoint survive a run"

target="$SCRATCH/target"
mkdir -p "$target"
echo precious >"$target/manifest.json"
echo precious >"$target/file"
tsum=$(sums "$target")
plant() { # NAME: a fresh DIR with a link at NAME (relative) to $target or $target/file
  local d="$SCRATCH/link-$(echo "$1" | tr / -)"
  mkdir -p "$d/llm"
  if [ "$1" = checkpoint ]; then ln -s "$target" "$d/checkpoint"; else ln -s "$target/file" "$d/$1"; fi
  echo "$d"
}
for name in checkpoint fleet.h5.partial llm/contexts.jsonl llm/rules.jsonl; do
  d=$(plant "$name")
  row "0 2" 2 "run: $d holds another run \($name\)" "${SMALL[@]}" --out "$d"
  row "0" 1 "run --force: $d/$name is (a symbolic link|not a directory \(or a link\))" \
    "${SMALL[@]}" --out "$d" --force
  [ -L "$d/$name" ] || fail "the link $d/$name was removed"
  [ "$(sums "$target")" = "$tsum" ] || fail "a link at $name was followed: $target changed"
done
d="$SCRATCH/link-transcript"
run_np 1 "${SMALL[@]}" --no-llm --out "$d" >/dev/null
ln -s "$target/file" "$d/llm/planted.jsonl"
row "0" 1 "$d/llm/planted.jsonl: cannot open: it is a symbolic link \(fleetsim does not write through links\)" \
  escalate --quiet --run "$d" --backend rules:name=planted
[ "$(sums "$target")" = "$tsum" ] || fail "escalate wrote through a planted link"
# files fleetsim replaces (results, export's FILE.partial) go through a temp
# file renamed over the name: a link there is replaced, its target untouched
ln -sf "$target/file" "$R/results/summary.md"
"$FLEETSIM" score --run "$R" --quiet
[ -f "$R/results/summary.md" ] && [ ! -L "$R/results/summary.md" ] || fail "score kept a link at summary.md"
ln -s "$target/file" "$SCRATCH/out.om.partial"
"$FLEETSIM" export --quiet --run "$R" --format openmetrics --nodes 0 --metrics gpu_temp_celsius \
  --out "$SCRATCH/out.om" >/dev/null
[ -s "$SCRATCH/out.om" ] || fail "export wrote nothing"
[ "$(sums "$target")" = "$tsum" ] || fail "score or export wrote through a link"
echo "ok: links at checkpoint, fleet.h5.partial, contexts.jsonl, transcripts, results and" \
  "export's FILE.partial are never followed"
echo "reliability_ownership: all checks passed ($ROWS rows)"
