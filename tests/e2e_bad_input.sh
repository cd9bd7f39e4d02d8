#!/usr/bin/env bash
# Bad input of every kind: one clear message naming the source, key and
# value, exit status 2 (1 for run-time I/O failures) on every rank, and no
# archive that claims to be complete.
source "$(dirname "$0")/lib.sh"
cfg="$SCRATCH/cfg.json"

bad_config() { # PATTERN JSON
  printf '%s' "$2" >"$cfg"
  expect_fail 2 "$1" run_np 2 validate --config "$cfg"
}
bad_config "cfg.json: line 1, column .*malformed JSON" '{"nodes": 100,'
bad_config "unknown key 'nodez'" '{"nodez": 100}'
bad_config "key 'nodes': expected an integer, got \"many\"" '{"nodes": "many"}'
bad_config "key 'hours': value -1 is out of range" '{"hours": -1}'
bad_config "key 'racks': expected an integer, got 2.5" '{"racks": 2.5}'
bad_config "jobs need 1000 nodes, but training_nodes is 350" \
  '{"jobs": [{"id": "big", "model": "m", "nodes": 1000, "step_time_s": 1}]}'
bad_config "do not split evenly" '{"nodes": 1001, "moe_nodes": 301}'
bad_config "moe_nodes 300 \+ dense_nodes 350 \+ training_nodes 350 = 1000, but nodes is 2000" \
  '{"nodes": 2000, "racks": 50}'
bad_config "expected a JSON object" '[1, 2]'
expect_fail 2 "--config $SCRATCH/missing.json: cannot open" run_np 2 validate --config "$SCRATCH/missing.json"

# command line
expect_fail 2 "unknown command 'frobnicate'" "$FLEETSIM" frobnicate
expect_fail 2 "unknown option '--bogus'" "$FLEETSIM" run --bogus
expect_fail 2 "option --out needs a value" "$FLEETSIM" run --out
expect_fail 2 "command line: key 'seed': value 'abc' is not a number" "$FLEETSIM" validate --set seed=abc
expect_fail 2 "no command given" "$FLEETSIM"
expect_fail 2 "4 MPI ranks for 3 racks" run_np 4 run --config "$DATA/small.json" --set racks=3 \
  --set nodes=120 --out "$SCRATCH/too-many-ranks"
[ ! -e "$SCRATCH/too-many-ranks/fleet.h5" ] || fail "an archive was written for a rejected run"

# scenario files
scn="$SCRATCH/scn.json"
bad_scn() { # PATTERN JSON
  printf '%s' "$2" >"$scn"
  expect_fail 2 "$1" run_np 2 validate --scenarios "$scn"
}
bad_scn "scn.json: the file is empty" ''
bad_scn "malformed JSON" '{"scenarios": ['
bad_scn "scenario 'X': key 'kind': 'meltdown' is not one of" \
  '{"scenarios": [{"id": "X", "kind": "meltdown", "start_h": 1, "duration_min": 5}]}'
bad_scn "scenario 'X': unknown key 'colour' for kind 'thermal_cascade'" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": 1, "duration_min": 5, "colour": 1}]}'
bad_scn "scenario 'X': key 'duration_min': 0 must be positive" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": 1, "duration_min": 0}]}'
bad_scn "scenario 'X': key 'start_h': 30 is outside the run" \
  '{"scenarios": [{"id": "X", "kind": "thermal_cascade", "start_h": 30, "duration_min": 5}]}'
bad_scn "scenario 'X': key 'racks': element 1 = 25 is not an integer in \[0, 24\]" \
  '{"scenarios": [{"id": "X", "kind": "fabric_microburst", "start_h": 1, "duration_min": 5, "racks": [3, 25]}]}'
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

# unwritable output: a file where the directory should be
touch "$SCRATCH/not-a-dir"
expect_fail 1 "--out $SCRATCH/not-a-dir: exists and is not a directory" \
  run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$SCRATCH/not-a-dir"
expect_fail 1 "cannot create directory" \
  run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" \
  --out "$SCRATCH/no/such/parent"
echo "e2e_bad_input: all cases passed"
