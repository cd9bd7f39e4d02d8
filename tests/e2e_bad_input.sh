#!/usr/bin/env bash
# Bad input of every kind, as a table (tests/bad_input_lib.sh: one row =
# rank counts, exit status, message pattern, arguments): one clear message
# naming the source, key and value, the same exit status on every rank (2
# for bad input, 1 for run-time I/O failures), no hang, no crash, and no
# archive or results that claim to be complete. Corrupt archives and
# transcripts: reliability_bad_input_archive.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/bad_input_lib.sh"
S=(--config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json")
cfg="$SCRATCH/cfg.json" scn="$SCRATCH/scn.json"

# --- config files --------------------------------------------------------------
bad_config() { # PATTERN JSON
  put "$cfg" "$2"
  row "0 2" 2 "$1" validate --config "$cfg"
}
bad_config "cfg.json: line 1, column .*malformed JSON" '{"nodes": 100,'
bad_config "unknown key 'nodez'" '{"nodez": 100}'
bad_config "key 'nodes': expected an integer, got \"many\"" '{"nodes": "many"}'
bad_config "key 'hours': value -1 is out of range" '{"hours": -1}'
bad_config "key 'seed': value -1 is out of range" '{"seed": -1}'
bad_config "malformed JSON: too big integer" '{"seed": 18446744073709551616}'
bad_config "key 'nodes': value 9223372036854775807 is out of range" '{"nodes": 9223372036854775807}'
bad_config "key 'hours': value 1.0000000000000001e\+300 is out of range" '{"hours": 1e300}'
bad_config "malformed JSON: real number overflow" '{"hours": 1e999}'
bad_config "key 'racks': expected an integer, got 2.5" '{"racks": 2.5}'
bad_config "jobs need 1000 nodes, but training_nodes is 350" \
  '{"jobs": [{"id": "big", "model": "m", "nodes": 1000, "step_time_s": 1}]}'
bad_config "jobs\[0\]: key 'step_time_s': value -3 is not a number" \
  '{"jobs": [{"id": "j", "model": "m", "nodes": 8, "step_time_s": -3}]}'
bad_config "do not split evenly" '{"nodes": 1001, "moe_nodes": 301}'
bad_config "moe_nodes 300 \+ dense_nodes 350 \+ training_nodes 350 = 1000, but nodes is 2000" \
  '{"nodes": 2000, "racks": 50}'
bad_config "expected a JSON object" '[1, 2]'
bad_config "duplicate object key" '{"nodes": 100, "nodes": 200}'
bad_config "cfg.json: line 1, column 0: malformed JSON" ''
bad_config "malformed JSON: unable to decode byte 0xff" $'{"nodes": "\xff\xfe"}'
bad_config "malformed JSON: maximum parsing depth reached" "$(printf '[%.0s' $(seq 3000))"
printf '{"nodes": 1\0}' >"$cfg"
row "0" 2 "cfg.json: file contains NUL bytes" validate --config "$cfg"
head -c $((65 << 20)) /dev/zero | tr '\0' ' ' >"$SCRATCH/huge.json"
row "0 2" 2 "huge.json: file is larger than 64 MiB" validate --config "$SCRATCH/huge.json"
rm -f "$SCRATCH/huge.json"
row "0 2" 2 "--config $SCRATCH/missing.json: cannot open" validate --config "$SCRATCH/missing.json"
row "0" 2 "--config $SCRATCH: read error: Is a directory" validate --config "$SCRATCH"

# --- command line --------------------------------------------------------------
row "0 2" 2 "unknown command 'frobnicate'" frobnicate
row "0" 2 "no command given" 
row "0" 2 "unknown option '--bogus'" run --bogus
row "0" 2 "unknown option '--run'" run --run x
row "0" 2 "unknown option '--resumex'" run --resumex
for opt in --out --config --scenarios --seed --hours --backend --set; do
  row "0" 2 "option $opt needs a value" run "$opt"
done
row "0" 2 "option --run needs a value" score --run
row "0" 2 "option --concurrency needs a value" escalate --run x --backend rules --concurrency
row "0" 2 "--out: the output directory must not be empty" run --out ""
long=$SCRATCH/$(printf 'd%.0s' $(seq 3900))
row "0 2" 2 "--out: the path is 39[0-9][0-9] bytes long; fleetsim takes paths of at most 3800" \
  run --out "$long"
row "0" 2 "--run: the path is 39[0-9][0-9] bytes long" score --run "$long"
row "0" 2 "--config: the path is 39[0-9][0-9] bytes long" validate --config "$long"
row "0" 2 "--run: the run directory must not be empty" score --run ""
row "0 2" 2 "key 'hours': value '1e999' is not a number" run --hours 1e999 --out "$SCRATCH/o"
row "0" 2 "key 'hours': value 'nan' is not a number" run --hours nan --out "$SCRATCH/o"
row "0" 2 "key 'hours': value 'inf' is not a number" run --hours inf --out "$SCRATCH/o"
row "0" 2 "key 'hours': value '0x10' is not a number" run --hours 0x10 --out "$SCRATCH/o"
row "0" 2 "key 'hours': value ' 5' is not a number" run --hours " 5" --out "$SCRATCH/o"
row "0" 2 "key 'seed': value '1e' is not a number" run --seed 1e --out "$SCRATCH/o"
row "0" 2 "key 'hours': value -5 is out of range" run --hours -5 --out "$SCRATCH/o"
row "0" 2 "key 'hours': value 0 is out of range" run --hours 0 --out "$SCRATCH/o"
row "0 2" 2 "key 'seed': value -1 is out of range" run --seed -1 --out "$SCRATCH/o"
row "0" 2 "key 'seed': value 1.5 is not an integer" run --seed 1.5 --out "$SCRATCH/o"
row "0" 2 "key 'seed': value 99999999999999999999 is out of range" run --seed 99999999999999999999 --out "$SCRATCH/o"
row "0" 2 "key 'seed': value 'abc' is not a number" validate --set seed=abc
row "0" 2 "key 'nodes': value '' is not a number" validate --set nodes=
row "0" 2 "--set =5: bad key" validate --set =5
row "0" 2 "--set nodes: expected KEY=VALUE" validate --set nodes
row "0" 2 "unknown key 'bogus'" validate --set bogus=1
row "0" 2 "key 'archive_compression': value 'zstd' is not none, lz4 or deflate" \
  validate --set archive_compression=zstd
put "$cfg" '{"archive_compression": 1}'
row "0" 2 "key 'archive_compression': expected a string \(none, lz4 or deflate\), got 1" \
  validate --config "$cfg"
# the detector settings: bounds, integers and types, each naming key, value and bounds
row "0" 2 "key 'detect_z_node': value 0.1 is out of range \[0.5, 100\]" \
  validate --set detect_z_node=0.1
row "0" 2 "key 'detect_max_events_per_step': value 0 is out of range \[1, 1000\]" \
  validate --set detect_max_events_per_step=0
row "0" 2 "key 'detect_warmup_blocks': value 2.5 is not an integer" \
  validate --set detect_warmup_blocks=2.5
row "0" 2 "key 'escalate_groups': value 2 is out of range \[0, 1\]" validate --set escalate_groups=2
put "$cfg" '{"detect_ewma_alpha": 0}'
row "0" 2 "key 'detect_ewma_alpha': value 0 is out of range \[0.001, 1\]" validate --config "$cfg"
put "$cfg" '{"detect_z_gpu": "high"}'
row "0" 2 "key 'detect_z_gpu': expected a number, got \"high\"" validate --config "$cfg"
# the LZ4 filter plugin missing (HDF5_PLUGIN_PATH is then the whole search
# path): one message naming the setting and the package, no archive
mkdir -p "$SCRATCH/no-plugins"
HDF5_PLUGIN_PATH="$SCRATCH/no-plugins" row "0 2" 2 \
  "archive_compression lz4: the HDF5 LZ4 filter \(filter 32004\) cannot be loaded: install .*hdf5-filter-plugin.*archive_compression=deflate" \
  run "${S[@]}" --no-llm --out "$SCRATCH/no-lz4"
row "0" 2 "--concurrency 0: expected an integer in \[1, 256\]" escalate --run x --backend rules --concurrency 0
row "0" 2 "--concurrency 1e3: expected an integer" escalate --run x --backend rules --concurrency 1e3
row "0" 2 "--random 0: expected a count" scenarios --random 0
row "0" 2 "--random 99999999999999999999: expected a count" scenarios --random 99999999999999999999
row "0" 2 "--seed -4: expected a non-negative integer" scenarios --random 3 --seed -4
row "0" 2 "--no-llm and --backend exclude each other" run --no-llm --backend rules
row "0" 2 "score: --run DIR is required" score
row "0" 2 "escalate: --run DIR and --backend SPEC are required" escalate --run x
row "4" 2 "4 MPI ranks for 3 racks" run --config "$DATA/small.json" --set racks=3 --set nodes=120 \
  --out "$SCRATCH/too-many-ranks"
row "3" 2 "3 MPI ranks for 2 racks" run --config "$DATA/small.json" --set racks=2 --set nodes=120 \
  --out "$SCRATCH/too-many-ranks"

# --- backend specs ---------------------------------------------------------------
row "0 2" 2 "backend 'bogus': unknown kind 'bogus'" run --backend bogus --out "$SCRATCH/o"
row "0" 2 "backend 'rules:name=\.\./x': key 'name': value '\.\./x' is not a safe file stem" \
  run --backend "rules:name=../x" --out "$SCRATCH/o"
row "0" 2 "key 'retries': value 'x' is not an integer" run --backend "openai:model=m,base_url=http://127.0.0.1:1/v1,retries=x"
row "0" 2 "environment variable FLEETSIM_NO_SUCH_KEY is not set" \
  run --backend "openai:model=m,api_key_env=FLEETSIM_NO_SUCH_KEY"
row "0" 2 "two backends are both named 'rules'" run --backend rules --backend rules
row "0" 2 "backend .*\*\*\*" run --backend "openai:model=m,api_key=sk-secret-in-argv"
row "0 2" 2 "replay: transcript $SCRATCH/none.jsonl: cannot open" \
  run --quiet "${S[@]}" --backend "replay:path=$SCRATCH/none.jsonl" --out "$SCRATCH/replay-missing"

# --- scenario files ---------------------------------------------------------------
bad_scn() { # PATTERN JSON
  put "$scn" "$2"
  row "0 2" 2 "$1" validate --scenarios "$scn"
}
bad_scn "scn.json: the file is empty" ''
bad_scn "scn.json: the file is empty" $'  \n\t '
bad_scn "malformed JSON" '{"scenarios": ['
bad_scn "malformed JSON: unable to decode byte 0xc3" $'{"scenarios": [{"id": "\xc3\x28"}]}'
bad_scn "malformed JSON: maximum parsing depth reached" "{\"scenarios\": $(printf '[%.0s' $(seq 3000))"
bad_scn "expected a JSON object with exactly one key" '{"scenarios": [], "extra": 1}'
bad_scn "scenario 'X': key 'kind': 'meltdown' is not one of" \
  '{"scenarios": [{"id": "X", "kind": "meltdown", "start_h": 1, "duration_min": 5}]}'
bad_scn "scenario 'X': unknown key 'colour' for kind 'thermal_cascade'" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": 1, "duration_min": 5, "colour": 1}]}'
bad_scn "scenario 'X': key 'duration_min': 0 must be positive" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": 1, "duration_min": 0}]}'
bad_scn "scenario 'X': key 'start_h': 30 is outside the run" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": 30, "duration_min": 5}]}'
bad_scn "scenario 'X': key 'start_h': -1 is outside the run" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": -1, "duration_min": 5}]}'
bad_scn "scenario 'X': key 'racks': element 1 = 25 is not an integer in \[0, 24\]" \
  '{"scenarios": [{"id": "X", "kind": "fabric_microburst", "start_h": 1, "duration_min": 5, "racks": [3, 25]}]}'
bad_scn "scenario 'X': key 'racks': element 0 = 9223372036854775807 is not an integer" \
  '{"scenarios": [{"id": "X", "kind": "fabric_microburst", "start_h": 1, "duration_min": 5, "racks": [9223372036854775807]}]}'
bad_scn "scenario 'X': key 'job': 'train-999' is not a training job" \
  '{"scenarios": [{"id": "X", "kind": "training_straggler", "start_h": 1, "duration_min": 5, "job": "train-999"}]}'
bad_scn "scenario 'X': key 'job_node': 40 is out of range for train-001, which has 32 nodes" \
  '{"scenarios": [{"id": "X", "kind": "training_straggler", "start_h": 1, "duration_min": 5, "job": "train-001", "job_node": 40}]}'
bad_scn "scenario 'X': key 'start_h': expected a number" \
  '{"scenarios": [{"id": "X", "kind": "kv_cache_eviction_storm", "start_h": "noon", "duration_min": 5}]}'
bad_scn "scenario 'A': key 'id': the id is used twice" \
  '{"scenarios": [{"id": "A", "kind": "kv_cache_eviction_storm", "start_h": 1, "duration_min": 5}, {"id": "A", "kind": "kv_cache_eviction_storm", "start_h": 2, "duration_min": 5}]}'
bad_scn "scenario 'X': key 'gpus': no silicon lot has 150 training and 50 inference GPUs" \
  '{"scenarios": [{"id": "X", "kind": "hbm_degradation", "start_h": 1, "duration_min": 5, "gpus": 200, "training_gpus": 150}]}'
bad_scn "scenario 'X': key 'training_gpus': 300 is not an integer in \[0, 256\]" \
  '{"scenarios": [{"id": "X", "kind": "hbm_degradation", "start_h": 1, "duration_min": 5, "training_gpus": 300}]}'
bad_scn "scenario 'X': key 'hit_ratio_to': 2 is not a number in" \
  '{"scenarios": [{"id": "X", "kind": "kv_cache_eviction_storm", "start_h": 1, "duration_min": 5, "hit_ratio_to": 2}]}'
printf '{"scenarios": []}\0' >"$scn"
row "0" 2 "scn.json: file contains NUL bytes" validate --scenarios "$scn"
row "0 2" 2 "--scenarios $SCRATCH: read error: Is a directory" validate --scenarios "$SCRATCH"
row "0" 2 "--scenarios $SCRATCH/missing.json: cannot open" validate --scenarios "$SCRATCH/missing.json"
head -c $((65 << 20)) /dev/zero | tr '\0' ' ' >"$SCRATCH/huge.json"
row "0" 2 "huge.json: file is larger than 64 MiB" run "${S[@]:0:2}" --scenarios "$SCRATCH/huge.json" \
  --out "$SCRATCH/huge-run"
rm -f "$SCRATCH/huge.json"

# --- ids: [A-Za-z0-9_-]{1,32}, refused at parse time and shown JSON-escaped ------------
# (they name files, HDF5 groups and regex alternatives, and reach terminals:
# before, "../../../x" put judgment packages outside the run directory, "a/b"
# failed inside HDF5 and "job(1" only after the whole run)
mkdir -p "$SCRATCH/ids/deep"
for id in '../../../x' 'a/b' 'a.b' 'job(1' '' 'id-with-33-characters-abcdefghijk' '\u001b[31mX' \
  '\u202eX' 'sp ace'; do
  put "$scn" "{\"scenarios\": [{\"id\": \"$id\", \"kind\": \"kv_cache_eviction_storm\", \"start_h\": 0.5, \"duration_min\": 5}]}"
  # the id as the message shows it: JSON with \uXXXX (upper case) escapes, as an ERE
  shown=$(/usr/bin/python3 - "\"$id\"" <<'PY'
import json, re, sys
text = json.dumps(json.loads(sys.argv[1]), ensure_ascii=True)
text = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), text)
print(re.sub(r"([][\\.(){}*+?|^$])", r"\\\1", text))
PY
)
  nps="0"
  case $id in ../* | 'job('* | '\u001b'*) nps="0 2" ;; esac
  row "$nps" 2 "scn.json: scenario #0: key 'id': $shown is not a valid id \(required; 1 to 32 characters" \
    run --quiet --config "$DATA/small.json" --scenarios "$scn" --out "$SCRATCH/ids/deep/run"
  if grep -qP '\x1b|\xe2\x80\xae' "$SCRATCH/row.err"; then fail "an id's control characters reached the terminal"; fi
done
[ -z "$(find "$SCRATCH/ids" -mindepth 1 -name '*x*')" ] || fail "a refused id wrote files: $(find "$SCRATCH/ids")"
[ ! -e "$SCRATCH/ids/deep/run" ] || fail "a run refused for its input made its --out directory"
bad_config "jobs\[0\]: key 'id': value \"job\(1\" is not a valid id" \
  '{"jobs": [{"id": "job(1", "model": "m", "nodes": 8, "step_time_s": 1}]}'
bad_config "jobs\[0\]: key 'id': value \"\.\./x\" is not a valid id" \
  '{"jobs": [{"id": "../x", "model": "m", "nodes": 8, "step_time_s": 1}]}'
bad_config "jobs\[0\]: key 'model': value \"m\\\\u001B\[2J\" has characters other than printable ASCII" \
  '{"jobs": [{"id": "j", "model": "m\u001b[2J", "nodes": 8, "step_time_s": 1}]}'

# --- runs that cannot work: too short, too big, contradictory flags ---------------
# (before: under 20 scrapes simulated, then "out of memory"; a 2.2 TB archive
# started without a word; nodes=1000000 or window_scrapes=100000 ended in a
# bare "out of memory")
row "0 2" 2 "config: key 'hours': 0.01 h gives 2 scrapes of 15 s, but a run needs at least one 20-scrape detection block: hours >= 0.0834" \
  run --quiet --hours 0.01 --out "$SCRATCH/short"
row "0" 2 "key 'hours': 0.079 h gives 18 scrapes of 15 s" validate --set hours=0.079
put "$scn" '{"scenarios": []}'
big=(--set nodes=1000000 --set racks=25000 --set moe_nodes=300000 --set dense_nodes=350000
  --set training_nodes=350000 --set hours=1 --scenarios "$scn")
B=$NODE_SCRAPE_BYTES # 1040 with 30 GPU and 20 node metrics
row "0 2" 1 "run: [12] ranks? on this node would need about .* of memory .*window_scrapes 240 x [0-9]+ nodes per rank x $B B\), but it has" \
  run --quiet "${big[@]}" --out "$SCRATCH/big"
row "0" 1 "run: 1 rank on this node would need about .* \(.*window_scrapes 100000 x 1000 nodes per rank x $B B\)" \
  run --quiet --hours 1000 --set window_scrapes=100000 --scenarios "$scn" --out "$SCRATCH/big"
year=$(validate_disk --hours 8760) # "2.19 TB|2.19 TB": the run quotes validate's estimate
[[ $year == *TB\|*TB ]] || fail "validate's disk estimate of a year is not in TB: '$year'"
row "0 2" 1 "run: $SCRATCH/big needs about ${year%|*} \(archive ${year#*|} = 2102400 scrapes x 1000 nodes x $B B, set by hours, scrape_interval_s and nodes; checkpoints .*\), but its file system has .* free" \
  run --quiet --hours 8760 --out "$SCRATCH/big"
[ -z "$(ls -A "$SCRATCH/big" | grep -v '^\.lock$')" ] || fail "a refused run wrote $(ls -A "$SCRATCH/big")"
out=$("$FLEETSIM" validate "${big[@]}")
win=$(awk -v b="$B" 'BEGIN { printf "%.3g", 240 * 1e6 * b / 1e9 }') # 250 (GB) with 1040 B
grep -q "fleetsim: memory on 1 rank: about [1-9][0-9][0-9] GB per rank (window buffer $win GB = window_scrapes 240 x 1000000 nodes x $B B)" <<<"$out" \
  || fail "validate does not print the memory estimate: $out"
grep -q "fleetsim: disk: about [1-9][0-9][0-9] GB in the output directory: archive $win GB" <<<"$out" \
  || fail "validate does not print the disk estimate: $out"
row "0" 2 "run: --resume and --force exclude each other" run --resume --force

# --- unwritable outputs -------------------------------------------------------------
touch "$SCRATCH/not-a-dir"
row "0 2" 1 "--out $SCRATCH/not-a-dir: exists and is not a directory" \
  run --quiet "${S[@]}" --out "$SCRATCH/not-a-dir"
row "0 2" 1 "cannot create directory" run --quiet "${S[@]}" --out "$SCRATCH/no/such/parent"
row "0" 1 "cannot create directory" run --quiet "${S[@]}" --out "$SCRATCH/not-a-dir/sub"
# A read-only place: /proc and /sys refuse mkdir even to root (a chmod'ed
# directory does not stop root, which CI may be).
row "0 2" 1 "--out /proc/fleetsim-out: cannot create directory" run --quiet "${S[@]}" --out /proc/fleetsim-out
row "0" 1 "--out /sys/fleetsim-out: cannot create directory" run --quiet "${S[@]}" --out /sys/fleetsim-out
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$SCRATCH/ro" && chmod 555 "$SCRATCH/ro"
  row "0 2" 1 "cannot create directory: Permission denied" run --quiet "${S[@]}" --out "$SCRATCH/ro/run"
fi
row "0" 1 "--out /dev/full: write failed: No space left on device" scenarios --random 3 --out /dev/full
row "0" 1 "--out $SCRATCH/no/such.json: cannot open for writing" scenarios --random 3 --out "$SCRATCH/no/such.json"
echo "e2e_bad_input: all $ROWS rows passed"
