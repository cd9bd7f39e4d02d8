#!/usr/bin/env bash
# The sbatch chain fitted to a site, on a real (private, single-node) Slurm:
# (1) bad settings are refused before anything is submitted: exit 2, one
#     message naming the setting, no job known to slurmctld, no log;
# (2) submit_chain.sh --site FILE: per-job resources from the site file, one
#     of them overridden by the environment (scontrol shows what each job
#     got), a site hook whose output is in every job log and whose PATH
#     holds the FLEETSIM_PYTHON that runs analysis/report.py, MPI-IO hints
#     that ROMIO reports at the file open inside the simulate job;
# (3) examples/local_llm_chain.sh --no-simulate on that run: the loopback LLM
#     stub, started with a key like vLLM, stands in for the GPU job's model
#     server (FLEETSIM_SBATCH_LLM_SERVER empty: no GPU here); the escalate job
#     waits for its endpoint, every call is answered with the job's key, the
#     server stops when asked and the key is in no log or transcript;
# (4) a server job whose escalate job is killed stops by itself.
# Exit 77 (skipped) where Slurm or munge is not installed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_slurm.sh"
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' "$SLURM_CONF")
NP=$((cpus < 2 ? cpus : 2))
export FLEETSIM_POLL_S=1
WORK="$SCRATCH/work"
mkdir -p "$WORK/site/bin"
cd "$WORK"
printf 'rules\n' >backends.txt
run_args=(--config "$DATA/small.json" --scenarios "$DATA/small_scenarios.json" --quiet)

# jobs_known: how many jobs slurmctld knows (finished ones stay for MinJobAge).
jobs_known() { scontrol -o show jobs 2>/dev/null | grep -c '^JobId=' || true; }
# refused PATTERN CMD...: CMD exits 2 with one line on stderr matching
# PATTERN, and submits nothing.
refused() {
  local pattern=$1 out rc=0 before
  shift
  before=$(jobs_known)
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2: $out"
  [ "$(wc -l <<<"$out")" -eq 1 ] || fail "'$*' printed more than one line: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "'$*' stderr lacks /$pattern/: $out"
  [ "$(jobs_known)" -eq "$before" ] || fail "'$*' submitted a job: $(scontrol -o show jobs)"
  echo "ok: refused: $out"
}

# --- (1) bad settings: nothing submitted ----------------------------------------
chain=("$SOURCE_DIR/slurm/submit_chain.sh" backends.txt "${run_args[@]}")
refused "^submit_chain: FLEETSIM_SBATCH_SIMULATE: 'ntasks=2' is not an sbatch option written --option or --option=value" \
  env FLEETSIM_SBATCH_SIMULATE="--nodes=1 ntasks=2" "${chain[@]}"
refused "^submit_chain: FLEETSIM_SBATCH_ESCALATE: --array is set by submit_chain itself" \
  env FLEETSIM_SBATCH_ESCALATE="--time=00:05:00 --array=1-3" "${chain[@]}"
refused "^submit_chain: sbatch refuses the score job \(options from FLEETSIM_SBATCH_SCORE: '--time=soon'\): .*Invalid --time specification" \
  env FLEETSIM_SBATCH_SCORE="--time=soon" "${chain[@]}"
refused "^submit_chain: sbatch refuses the simulate job \(options from FLEETSIM_SBATCH_SIMULATE: '--partition=no_such_partition'\): .*invalid partition" \
  env FLEETSIM_SBATCH_SIMULATE="--partition=no_such_partition" "${chain[@]}"
refused "^submit_chain: FLEETSIM_NTASKS=2 and FLEETSIM_SBATCH_SIMULATE='--ntasks-per-node=2' both set the ranks" \
  env FLEETSIM_NTASKS=2 FLEETSIM_SBATCH_SIMULATE="--ntasks-per-node=2" "${chain[@]}"
refused "^submit_chain: FLEETSIM_SITE_HOOK=$WORK/no-such-hook.sh: no such readable file" \
  env FLEETSIM_SITE_HOOK=no-such-hook.sh "${chain[@]}"
printf 'FLEETSIM_NTASKS=2\n# a comment\nFLEETSIM_SBATCH_SIMULTE=--time=00:05:00\n' >typo.conf
refused "^submit_chain: typo.conf:3: unknown setting 'FLEETSIM_SBATCH_SIMULTE' \(known: " \
  "$SOURCE_DIR/slurm/submit_chain.sh" --site typo.conf backends.txt
refused "^local_llm_chain: sbatch refuses the llm-server job \(options from FLEETSIM_SBATCH_LLM_SERVER: '--gres=gpu:1'\): .*gres" \
  env FLEETSIM_LLM_MODEL=m "$SOURCE_DIR/slurm/examples/local_llm_chain.sh" "${run_args[@]}"
[ ! -e logs ] || [ -z "$(ls logs)" ] || fail "a refused chain left job logs: $(ls logs)"

# --- (2) the chain with a site file, a hook, FLEETSIM_PYTHON and hints ---------------
cat >site/bin/fleetsim-test-python <<EOF
#!/usr/bin/env bash
echo "\$*" >>"$WORK/site/python.log"
exec /usr/bin/python3 "\$@"
EOF
chmod +x site/bin/fleetsim-test-python
# The hook: reads an unset variable (allowed), runs the example hook as it
# ships, puts the python on PATH; ROMIO prints the hints of each file open.
cat >site/hook.sh <<EOF
echo "site hook: step \$FLEETSIM_STEP on \$(hostname -s)\${NO_SUCH_VARIABLE_IN_THE_HOOK:-}"
source "$SOURCE_DIR/slurm/site.example.sh"
export PATH="$WORK/site/bin:\$PATH"
if [ "\$FLEETSIM_STEP" = simulate ] && ompi_info 2>/dev/null | grep -q "MCA io: romio"; then
  export OMPI_MCA_io=romio321 ROMIO_PRINT_HINTS=1
fi
EOF
cat >site/site.conf <<EOF
# the test's site
FLEETSIM_SBATCH_SIMULATE="--nodes=1 --ntasks-per-node=$NP --mem=900M --time=00:20:00 --partition=local"
FLEETSIM_SBATCH_ESCALATE=--time=00:10:00 --mem=300M
FLEETSIM_SBATCH_SCORE='--time=00:10:00 --mem=600M'
FLEETSIM_SITE_HOOK=$WORK/site/hook.sh
FLEETSIM_PYTHON=fleetsim-test-python
FLEETSIM_REPORT=1
FLEETSIM_MPIIO_HINTS=romio_cb_write=enable,cb_buffer_size=8388608
EOF
t0=$(date +%s)
rc=0
FLEETSIM_SBATCH_SCORE="--time=00:07:00 --mem=600M" timeout 300 "$SOURCE_DIR/slurm/submit_chain.sh" \
  --wait --site site/site.conf backends.txt "${run_args[@]}" >chain.out 2>&1 || rc=$?
cat chain.out
for f in logs/*; do echo "--- $f"; cat "$f"; done
[ "$rc" -eq 0 ] || fail "submit_chain.sh --wait --site exited $rc"
echo "ok: chain with a site file finished in $(($(date +%s) - t0)) s"
sim=$(sed -n 's/^simulate=//p' chain.out)
esc=$(sed -n 's/^escalate=//p' chain.out)
score=$(sed -n 's/^score=//p' chain.out)
# job_has ID FIELD=VALUE...: scontrol shows each FIELD=VALUE for job ID.
job_has() {
  local id=$1 line want
  shift
  line=" $(scontrol -o show job "$id" | head -n1) "
  for want in "$@"; do
    [[ $line == *" $want "* ]] || fail "job $id lacks $want: $line"
  done
}
job_has "$sim" NumNodes=1 "NumTasks=$NP" TimeLimit=00:20:00 Partition=local MinMemoryNode=900M
job_has "$esc" TimeLimit=00:10:00 MinMemoryNode=300M
job_has "$score" TimeLimit=00:07:00 MinMemoryNode=600M
echo "ok: each job got its resources (simulate: 1 node x $NP tasks, 20 min, 900M; score's time from the environment)"
simlog="logs/fleetsim-simulate-$sim.out"
esclog="logs/fleetsim-escalate-${esc}_1.out"
scorelog="logs/fleetsim-score-$score.out"
for step_log in "simulate simulate $simlog" "escalate escalate[1] $esclog" "score score $scorelog"; do
  read -r step label log <<<"$step_log"
  grep -qxF "fleetsim-slurm: site hook $WORK/site/hook.sh" "$log" || fail "$log: the hook was not sourced"
  grep -qx "site hook: step $step on .*" "$log" || fail "$log: no output of the hook for $step"
  [ "$(tail -n1 "$log")" = "fleetsim-slurm: $label exit 0" ] || fail "$log ends with '$(tail -n1 "$log")'"
done
grep -q "fleetsim-slurm: $NP ranks via srun --mpi=pmix on 1 node(s)" "$simlog" || fail "simulate: not $NP ranks on 1 node"
grep -qxF "fleetsim: MPI-IO hints for fleet.h5 (FLEETSIM_MPIIO_HINTS): romio_cb_write=enable,cb_buffer_size=8388608" \
  "$simlog" || fail "simulate did not name its MPI-IO hints"
if grep -q "^key = " "$simlog"; then
  grep -qE "^key = cb_buffer_size +value = 8388608 *$" "$simlog" &&
    grep -qE "^key = romio_cb_write +value = enable *$" "$simlog" || fail "ROMIO did not open fleet.h5 with the hints"
  echo "ok: ROMIO opened fleet.h5 with the hints, inside the simulate job"
fi
grep -qxF "fleetsim-slurm: python $WORK/site/bin/fleetsim-test-python ($(/usr/bin/python3 --version 2>&1))" \
  "$scorelog" || fail "score did not use FLEETSIM_PYTHON from the hook's PATH"
grep -qxF "$SOURCE_DIR/analysis/report.py $WORK/fleetsim-run" site/python.log ||
  fail "analysis/report.py did not run through FLEETSIM_PYTHON: $(cat site/python.log)"
[ -s fleetsim-run/report/report.md ] || fail "no fleetsim-run/report/report.md"
echo "ok: hook in every job log, FLEETSIM_PYTHON found through the hook's PATH ran the report"

# A hook that fails ends the job with exit 2 and one message naming it.
printf 'echo "site hook: before"\nfalse_module_load_of_the_test() { return 3; }\nfalse_module_load_of_the_test\necho "site hook: not reached"\n' >site/failing.sh
id=$(FLEETSIM_SITE_HOOK="$WORK/site/failing.sh" FLEETSIM_RUN="$WORK/fleetsim-run" \
  sbatch --parsable --output="$WORK/logs/%x-%j.out" "$SOURCE_DIR/slurm/score.sbatch")
for _ in $(seq 60); do
  [ -n "$(squeue -h -o %i -j "$id" 2>/dev/null)" ] || break
  sleep 1
done
log="logs/fleetsim-score-$id.out"
cat "$log"
grep -qxF "fleetsim-slurm: the site hook $WORK/site/failing.sh failed at line 3: \`false_module_load_of_the_test\` (\`return 3\` exited 3)" "$log" ||
  fail "the failing hook's message is missing"
! grep -q "not reached\|^fleetsim: " "$log" || fail "the job went on after its hook failed"
[ "$(tail -n1 "$log")" = "fleetsim-slurm: score exit 2" ] || fail "$log ends with '$(tail -n1 "$log")'"
job_has "$id" JobState=FAILED ExitCode=2:0
echo "ok: a failing hook ends the job with exit 2, naming the command"

# --- (3) a local model server in a job of the chain (the stub, no GPU) ---------------
rc=0
env FLEETSIM_RUN="$WORK/fleetsim-run" FLEETSIM_LLM_MODEL=stub-model FLEETSIM_LLM_SPEC=name=local,concurrency=4 \
  FLEETSIM_SBATCH_LLM_SERVER= FLEETSIM_LLM_HOST=127.0.0.1 FLEETSIM_LLM_START_S=60 FLEETSIM_LLM_WAIT_S=120 \
  FLEETSIM_LLM_SERVER_CMD="VLLM_API_KEY=\$FLEETSIM_LLM_API_KEY exec /usr/bin/python3 $SOURCE_DIR/tests/llm_stub_server.py --api-key-env VLLM_API_KEY --port \"\$FLEETSIM_LLM_PORT\" --lifetime 300" \
  timeout 240 "$SOURCE_DIR/slurm/examples/local_llm_chain.sh" --wait --no-simulate >llm.out 2>&1 || rc=$?
cat llm.out
server=$(sed -n 's/^llm-server=//p' llm.out)
esc=$(sed -n 's/^llm-escalate=//p' llm.out)
score=$(sed -n 's/^score=//p' llm.out)
for f in "logs/fleetsim-llm-server-$server.out" "logs/fleetsim-llm-escalate-$esc.out" "logs/fleetsim-score-$score.out"; do
  echo "--- $f"
  cat "$f" || true
done
[ "$rc" -eq 0 ] || fail "local_llm_chain.sh --wait --no-simulate exited $rc"
for want in "llm-server $server: COMPLETED exit 0:0" "llm-escalate $esc: COMPLETED exit 0:0" \
  "score $score: COMPLETED exit 0:0"; do
  grep -qF "$want" llm.out || fail "the driver did not report '$want'"
done
! grep -q "^simulate=" llm.out || fail "--no-simulate submitted a simulate job"
grep -qE "^fleetsim-slurm: backend openai:base_url=http://127\.0\.0\.1:[0-9]+/v1,model=stub-model,api_key_env=FLEETSIM_LLM_API_KEY,name=local,concurrency=4$" \
  "logs/fleetsim-llm-escalate-$esc.out" || fail "the escalate job did not build the backend spec from the endpoint"
grep -qxF "fleetsim-slurm: the escalate job asked for a stop" "logs/fleetsim-llm-server-$server.out" ||
  fail "the server job did not stop on the escalate job's request"
[ ! -e fleetsim-run/llm-server/endpoint ] || fail "the stopped server left its endpoint file"
[ "$(stat -c %a fleetsim-run/llm-server)" = 700 ] && [ "$(stat -c %a fleetsim-run/llm-server/api_key)" = 600 ] ||
  fail "the server's folder or key is readable by others"
key=$(cat fleetsim-run/llm-server/api_key)
[ ${#key} -ge 32 ] || fail "the key is only ${#key} characters"
if grep -rlF "$key" logs fleetsim-run/llm fleetsim-run/results llm.out; then
  fail "the server's key was written into the files above"
fi
/usr/bin/python3 - "$WORK/fleetsim-run" <<'PY' || fail "run directory check"
import json, sys
run = sys.argv[1]
def records(path):  # the lines after the run header
    lines = [json.loads(l) for l in open(path)]
    assert "fleetsim_run" in lines[0], f"{path}: no run header"
    return lines[1:]
calls = sorted(c["call_id"] for c in records(run + "/llm/contexts.jsonl"))
lines = records(run + "/llm/local.jsonl")
assert sorted(l["call_id"] for l in lines) == calls, f"local.jsonl: {len(lines)} lines for {len(calls)} calls"
bad = [l for l in lines if l["status"] != "ok"]
assert not bad, f"{len(bad)} calls failed, the first: {bad[0]}"
summary = open(run + "/results/summary.md").read()
assert "| Metric | local | rules |" in summary or "| Metric | rules | local |" in summary, summary[:300]
print(f"ok: all {len(calls)} calls answered by the model server job with its key; "
      "score ranks the local model beside rules")
PY

# --- (4) the escalate job dies without a word: the server job stops anyway ----------
# (a server that never gets ready, an escalate job killed while it waits)
env FLEETSIM_RUN="$WORK/fleetsim-run" FLEETSIM_LLM_MODEL=stub-model FLEETSIM_SBATCH_LLM_SERVER= \
  FLEETSIM_LLM_SERVER_CMD="exec sleep 600" FLEETSIM_LLM_START_S=300 FLEETSIM_LLM_WAIT_S=300 \
  "$SOURCE_DIR/slurm/examples/local_llm_chain.sh" --no-simulate >dead.out 2>&1 || { cat dead.out; fail "submit"; }
server=$(sed -n 's/^llm-server=//p' dead.out)
esc=$(sed -n 's/^llm-escalate=//p' dead.out)
for _ in $(seq 60); do
  ! grep -q "waiting for the model server" "logs/fleetsim-llm-escalate-$esc.out" 2>/dev/null || break
  sleep 1
done
grep -q "waiting for the model server of job $server" "logs/fleetsim-llm-escalate-$esc.out" ||
  fail "the escalate job is not waiting for the server: $(cat "logs/fleetsim-llm-escalate-$esc.out")"
scancel --signal=KILL --full "$esc"
for _ in $(seq 60); do
  [ -n "$(squeue -h -j "$server" 2>/dev/null)" ] || break
  sleep 1
done
log="logs/fleetsim-llm-server-$server.out"
cat "$log"
grep -qxF "fleetsim-slurm: the escalate job $esc has left the queue without asking for a stop" "$log" ||
  fail "the server job did not notice that its escalate job was gone"
job_has "$server" JobState=COMPLETED ExitCode=0:0
echo "ok: the server job stopped by itself after its escalate job was killed"
echo "slurm_site: all checks passed"
