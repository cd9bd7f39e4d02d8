#!/usr/bin/env bash
# Corrupt, incomplete and unwritable run directories given to `fleetsim
# escalate` and `fleetsim score`, as a table (tests/bad_input_lib.sh): a
# truncated or byte-flipped fleet.h5, complete=0, a corrupted config
# attribute, missing or corrupt contexts.jsonl, corrupt transcript lines, and
# unwritable results. Each ends with one message and the same non-zero exit
# on every rank (plain and np 2), and writes no results/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/bad_input_lib.sh"
good="$SCRATCH/good"
scn="$SCRATCH/scn.json"
cat >"$scn" <<'JSON'
{"scenarios": [
  {"id": "S1", "kind": "thermal_cascade", "start_h": 0.2, "duration_min": 20, "racks": [1, 2], "nodes_per_rack": 8},
  {"id": "S6", "kind": "training_straggler", "start_h": 0.4, "duration_min": 30, "job": "train-001", "job_node": 5}
]}
JSON
"$FLEETSIM" run --quiet --config "$DATA/small.json" --scenarios "$scn" --set hours=1 --out "$good" >/dev/null
[ -s "$good/llm/rules.jsonl" ] || fail "the reference run wrote no transcript"

# variant NAME [copy]: DIR/NAME with good's llm/ files and its fleet.h5
# (a hard link, or a copy to be modified when the second argument is given).
variant() {
  local d="$SCRATCH/$1"
  mkdir -p "$d/llm"
  cp "$good"/llm/*.jsonl "$d/llm/"
  if [ $# -gt 1 ]; then cp "$good/fleet.h5" "$d/fleet.h5"; else ln "$good/fleet.h5" "$d/fleet.h5"; fi
  echo "$d"
}
# both PATTERN DIR [EXIT]: score and escalate on DIR fail alike; no results.
both() {
  local want=${3:-2}
  row "0 2" "$want" "$1" score --quiet --run "$2"
  row "0" "$want" "$1" escalate --quiet --run "$2" --backend rules:name=again
  [ ! -e "$2/results" ] || fail "$2/results was written"
  [ ! -e "$2/llm/again.jsonl" ] || fail "escalate wrote $2/llm/again.jsonl"
}
unreadable="is not a readable HDF5 file \(damaged, truncated or not HDF5\)"
incomplete="is not complete \(root attribute complete != 1\)"
missing="is missing \(No such file or directory\)"

d=$(variant truncated copy)
truncate -s $(($(stat -c %s "$d/fleet.h5") / 2)) "$d/fleet.h5"
both "$unreadable" "$d"
d=$(variant flipped copy)
printf 'XXXXXXXX' | dd of="$d/fleet.h5" conv=notrunc bs=1 seek=0 status=none
both "$unreadable" "$d"
d=$(variant zeroed copy) # the root group's metadata after the superblock
dd if=/dev/zero of="$d/fleet.h5" conv=notrunc bs=1 seek=96 count=2048 status=none
both "$unreadable" "$d"
d=$(variant complete0 copy)
/usr/bin/python3 -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); f.attrs['complete'] = 0" "$d/fleet.h5"
both "$incomplete" "$d"
d=$(variant badconfig copy) # the archive's config attribute (JSON text) corrupted in place
off=$(grep -abo '"racks_per_row":' "$d/fleet.h5" | head -n1 | cut -d: -f1)
[ -n "$off" ] || fail "no config text found in fleet.h5"
printf '#####' | dd of="$d/fleet.h5" conv=notrunc bs=1 seek="$off" status=none
row "0 2" 2 "badconfig/fleet.h5: line 1, column [0-9]+: malformed JSON" score --quiet --run "$d"
[ ! -e "$d/results" ] || fail "$d/results was written"
row "0 2" 2 "$missing" score --quiet --run "$SCRATCH/no-such-run"
mkdir -p "$SCRATCH/empty-run"
both "$missing" "$SCRATCH/empty-run"
mkdir -p "$SCRATCH/dir-run/fleet.h5"
both "fleet.h5 is not a regular file" "$SCRATCH/dir-run"
d=$(variant killed copy) # what a killed run leaves: only the partial archive
mv "$d/fleet.h5" "$d/fleet.h5.partial"
both "fleet.h5 is missing; .*fleet.h5.partial is a run that did not finish: 'fleetsim run --resume" "$d"

d=$(variant no-contexts)
rm "$d/llm/contexts.jsonl"
both "no-contexts/llm/contexts.jsonl: cannot open: No such file or directory" "$d" 1
d=$(variant cut-contexts)
head -c -30 "$good/llm/contexts.jsonl" >"$d/llm/contexts.jsonl"
both "cut-contexts/llm/contexts.jsonl: line [0-9]+: " "$d"
d=$(variant junk-contexts)
printf '\xff\xfe\x00garbage\n' >>"$d/llm/contexts.jsonl"
both "junk-contexts/llm/contexts.jsonl: line [0-9]+: " "$d"

# contexts that would have a call sent twice or under the wrong layer, or
# that are not this run's (no run header)
ctx_row() { # NAME PATTERN PYTHON-EDIT (of L, the list of line objects; L[0] the run header)
  local d
  d=$(variant "$1")
  /usr/bin/python3 - "$d/llm/contexts.jsonl" "$3" <<'PY'
import json, sys
p = sys.argv[1]
L = [json.loads(l) for l in open(p)]
exec(sys.argv[2])
open(p, "w").write("".join(json.dumps(l) + "\n" for l in L))
PY
  both "contexts.jsonl: $2" "$d"
}
ctx_row ctx-l9 "line 2: layer is not L2, L3 or L4, or not the layer its call_id names" 'L[1]["layer"] = "L9"'
ctx_row ctx-id "line 3: call_id is not of the form L2-NNNNNN, L3-NNNNNN or L4-NN" 'L[2]["call_id"] = "L9-000001"'
ctx_row ctx-dup "call_id L2-000000 appears twice: the file holds two runs, or a call twice" 'L.append(L[1])'
ctx_row ctx-event "line 2: event_id is not an integer >= 0 \(L2, L3\) or null \(L4\)" 'L[1]["event_id"] = "x"'
ctx_row ctx-header "line 1: no run header: not written by this fleetsim" 'L.pop(0)'

# transcripts (score only: escalate writes its own)
tr_row() { # NAME PATTERN PYTHON-EDIT (of L, the list of line objects)
  local d
  d=$(variant "$1")
  /usr/bin/python3 - "$d/llm/rules.jsonl" "$3" <<'PY'
import json, sys
p = sys.argv[1]
L = [json.loads(l) for l in open(p)]
exec(sys.argv[2])
enc = lambda l: l if isinstance(l, bytes) else (l if isinstance(l, str) else json.dumps(l) + "\n").encode()
open(p, "wb").write(b"".join(enc(l) for l in L))
PY
  row "0 2" 2 "$2" score --quiet --run "$d"
  [ ! -e "$d/results" ] || fail "$d/results was written"
}
tr_row tr-junk "rules.jsonl: line 3: " 'L[2] = "{not json\n"'
tr_row tr-cut "rules.jsonl: line [0-9]+: premature end of input" 'L[-1] = json.dumps(L[-1])[:40]'
tr_row tr-array "rules.jsonl: line 2: not a JSON object" 'L[1] = "[1, 2]\n"'
# (L[0] is the run header; the calls start at line 2)
tr_row tr-nul "rules.jsonl: line 2: .*NUL" 'L[1]["response_text"] = "a\u0000b"'
tr_row tr-utf8 "rules.jsonl: line 2: unable to decode byte" 'L[1] = b"{\"call_id\": \"\xc3\x28\"}\n"'
tr_row tr-type "rules.jsonl: line 2: field 'response_text' is not a string" 'L[1]["response_text"] = 12345'
tr_row tr-status "rules.jsonl: line 3: field 'status' is not" 'L[2]["status"] = "weird"'
tr_row tr-id "rules.jsonl: line 2: field 'call_id' is missing" 'L[1]["call_id"] = None'
tr_row tr-huge "rules.jsonl: line 2: field 'tokens_in' is not a number of at most 1e15" \
  'L[1]["tokens_in"] = 1e300'
# a call twice (two escalates of one backend at once, before the lock), or
# a transcript that is not this run's
tr_row tr-dup "rules.jsonl: call_id L2-000000 is on two lines: the call was sent twice" 'L.append(L[1])'
tr_row tr-header "rules.jsonl has no run header, so it is no transcript of this run" 'L.pop(0)'
tr_row tr-other "rules.jsonl belongs to run 0123456789abcdef \(seed 42, fleetsim 0.1.0 git x\), but the run's contexts to run [0-9a-f]{16}" \
  'L[0] = {"fleetsim_run": {"fingerprint": "0123456789abcdef", "seed": 42, "version": "0.1.0", "git_commit": "x"}}'

# export (io/openmetrics.c) on the same bad archives, and bad outputs
exp=(export --quiet --format openmetrics --nodes 0 --metrics gpu_temp_celsius)
for v in truncated flipped complete0; do
  row "0 2" 2 "$v/fleet.h5" "${exp[@]}" --run "$SCRATCH/$v" --out "$SCRATCH/$v.om"
  [ ! -e "$SCRATCH/$v.om" ] && [ ! -e "$SCRATCH/$v.om.partial" ] || fail "export wrote $v.om"
done
# a tampered archive whose dataset names would inject lines into the text
# ("# EOF" ends an OpenMetrics exposition early): refused, nothing written
d=$(variant om-inject copy)
/usr/bin/python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f.move("/telemetry/gpu/gpu_temp_celsius", "/telemetry/gpu/x\n# EOF\nfake_total 1")' "$d/fleet.h5"
row "0 2" 2 "om-inject/fleet.h5: dataset /telemetry/gpu/x\\\\x0a# EOF\\\\x0afake_total 1 is not a metric name" \
  export --quiet --format openmetrics --nodes 0 --run "$d" --out "$SCRATCH/om-inject.om"
[ ! -e "$SCRATCH/om-inject.om" ] && [ ! -e "$SCRATCH/om-inject.om.partial" ] || fail "export wrote om-inject.om"
row "0" 2 "--out /dev/full: exists and is not a regular file" "${exp[@]}" --run "$good" --out /dev/full
[ -c /dev/full ] || fail "export replaced the device /dev/full"
row "0" 1 "--out $SCRATCH/no/x.om: cannot create" "${exp[@]}" --run "$good" --out "$SCRATCH/no/x.om"
row "0" 2 "is a directory" "${exp[@]}" --run "$good" --out "$SCRATCH"

# unwritable outputs
d=$(variant results-file)
touch "$d/results"
row "0 2" 1 "results-file/results: exists and is not a directory" score --quiet --run "$d"
d=$(variant transcript-dir)
mkdir "$d/llm/again.jsonl"
row "0" 1 "transcript-dir/llm/again.jsonl" escalate --quiet --run "$d" --backend rules:name=again
echo "reliability_bad_input_archive: all $ROWS rows passed"
