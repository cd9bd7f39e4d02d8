#!/usr/bin/env bash
# `fleetsim export` into a real Prometheus: the 3 h small fleet with a thermal
# cascade (S1) is exported with --naming dcgm (dcgm-exporter's names, labels
# and units, plus the annotation series) and --naming prometheus (base
# units); promtool builds TSDB blocks from both; a Prometheus server on
# loopback (a free port, its own data directory, killed on exit) serves
# them; PromQL over its HTTP API must find S1's temperature rise with a
# DCGM dashboard's query, see S1 in fleetsim_scenario_active, count the L1
# events, and read latencies in seconds. Every family name of the three
# namings must be in docs/export.md's mapping. Skipped (77) without
# prometheus, promtool or curl.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
for tool in prometheus promtool curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (Debian packages prometheus, curl; scripts/install-deps.sh)"
    exit 77
  fi
done
"$PY" -c 'import h5py, numpy' || fail "$PY lacks python3-h5py or python3-numpy"

run="$SCRATCH/run"
run_np 2 run --quiet --no-llm --config "$DATA/small.json" \
  --scenarios "$DATA/small_scenarios.json" --out "$run" >/dev/null 2>"$SCRATCH/run.err" ||
  fail "the run failed: $(cat "$SCRATCH/run.err")"
ex() { "$FLEETSIM" export --run "$run" --format openmetrics --quiet "$@"; }

# every family of every naming is in the mapping of docs/export.md
for naming in fleetsim dcgm prometheus; do
  ex --naming "$naming" --out "$SCRATCH/names-$naming.om" --nodes 0 --to 0.01 >/dev/null
  while read -r name; do # a counter's samples carry _total
    grep -q "\`$name\`" "$SOURCE_DIR/docs/export.md" ||
      fail "--naming $naming writes series $name, which docs/export.md does not list"
  done < <(awk '$1 == "#" && $2 == "TYPE" { print $3 ($4 == "counter" ? "_total" : "") }' \
    "$SCRATCH/names-$naming.om")
done
echo "openmetrics_prometheus: docs/export.md lists every family of the three namings"

ex --naming dcgm --out "$SCRATCH/dcgm.om" \
  --metrics DCGM_FI_DEV_GPU_TEMP,fleetsim_scenario_active,fleetsim_l1_event >"$SCRATCH/dcgm.txt"
ex --naming dcgm --out "$SCRATCH/dcgm-units.om" --nodes 0-1 \
  --metrics DCGM_FI_DEV_FB_USED,DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION >/dev/null
ex --naming prometheus --out "$SCRATCH/prom.om" --metrics ttft_seconds,step_time_seconds \
  >/dev/null
epoch=$(sed -n 's/.*(--start-epoch \([0-9]*\)).*/\1/p' "$SCRATCH/dcgm.txt")
[ -n "$epoch" ] || fail "no base epoch in the summary: $(cat "$SCRATCH/dcgm.txt")"
data="$SCRATCH/data"
for om in dcgm dcgm-units prom; do
  promtool tsdb create-blocks-from openmetrics "$SCRATCH/$om.om" "$data" >"$SCRATCH/$om.blocks" ||
    fail "promtool refused $om.om: $(cat "$SCRATCH/$om.blocks")"
done

# a Prometheus server over the blocks, on a free loopback port
cat >"$SCRATCH/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
EOF
prom_pid=""
trap '[ -z "$prom_pid" ] || { kill "$prom_pid"; wait "$prom_pid"; } 2>/dev/null; rm -rf "$SCRATCH"' EXIT
for attempt in 1 2 3; do
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  prometheus --config.file="$SCRATCH/prometheus.yml" --storage.tsdb.path="$data" \
    --storage.tsdb.retention.time=3650d --web.listen-address="127.0.0.1:$port" \
    >"$SCRATCH/prometheus.log" 2>&1 &
  prom_pid=$!
  for _ in $(seq 150); do
    curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
    kill -0 "$prom_pid" 2>/dev/null || break
    sleep 0.2
  done
  curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  kill "$prom_pid" 2>/dev/null || true
  wait "$prom_pid" 2>/dev/null || true
  prom_pid=""
done
[ -n "$prom_pid" ] || fail "prometheus did not start: $(tail -n 5 "$SCRATCH/prometheus.log")"
echo "openmetrics_prometheus: prometheus $(prometheus --version 2>&1 | head -n1 | cut -d' ' -f3) on 127.0.0.1:$port"

# PromQL over the HTTP API, checked against the archive
"$PY" - "$run/fleet.h5" "http://127.0.0.1:$port" "$epoch" <<'PY' || fail "a PromQL answer is wrong"
import json, subprocess, sys
import h5py, numpy as np
path, url, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = h5py.File(path, "r")
t = f["/time/seconds"][:]
gt = {r["id"].decode(): (r["start_s"], r["end_s"]) for r in f["/ground_truth/scenarios"][:]}
s1 = [int(n) for n in f["/ground_truth/S1/nodes"][:]]
impacted = set(int(n) for n in f["/ground_truth/S1/impacted"][:])
temp = f["/telemetry/gpu/gpu_temp_celsius"]

def query(q, at):  # an instant query over the HTTP API, with curl
    out = subprocess.run(["curl", "-sf", "--max-time", "30", "--get", url + "/api/v1/query",
                          "--data-urlencode", "query=" + q, "--data-urlencode", "time=%.3f" % at],
                         capture_output=True, text=True, check=True).stdout
    body = json.loads(out)
    assert body["status"] == "success", body
    return body["data"]["result"]

def row(hours):  # the scrape at or before `hours`, and its Unix time
    r = int(np.searchsorted(t, hours * 3600.0, side="right")) - 1
    return r, epoch + t[r]

start, end = gt["S1"]
before, during = row(start / 3600 - 0.1), row(end / 3600 - 0.05)
hosts = "|".join("node-%04d" % n for n in s1)
dash = 'max by (Hostname) (DCGM_FI_DEV_GPU_TEMP{Hostname=~"%s"})' % hosts
seen = {}
for r, at in (before, during):
    res = query(dash, at)
    assert len(res) == len(s1), (dash, len(res), len(s1))
    want = temp[r][s1].max(axis=1)  # the archive: max over each node's 8 GPUs
    for item in res:
        n = int(item["metric"]["Hostname"][5:])
        v = float(item["value"][1])
        assert np.float32(v) == want[s1.index(n)], (item, want[s1.index(n)])
        seen.setdefault(n, []).append(v)
mean_rise = float(np.mean([b - a for a, b in seen.values()]))
others = [n for n in range(temp.shape[1]) if n not in impacted]
other_rise = float(np.mean(temp[during[0]][others].max(axis=1) - temp[before[0]][others].max(axis=1)))
print("openmetrics_prometheus: %s: S1's nodes %.1f C hotter during S1 (other nodes %+.1f C)"
      % (dash[:60] + "...", mean_rise, other_rise))
assert mean_rise > 5 and abs(other_rise) < 2, (mean_rise, other_rise)

# dcgm-exporter's labels and units
lab = query('DCGM_FI_DEV_GPU_TEMP{Hostname="node-0033",gpu="3"}', during[1])[0]["metric"]
assert lab["UUID"] == "GPU-00000033-0000-0000-0000-000000000003", lab
assert lab["modelName"] == "NVIDIA H100 80GB HBM3" and lab["device"] == "nvidia3", lab
assert lab["instance"] == "node-0033:9400" and lab["rack"].startswith("rack-"), lab
fb = query('DCGM_FI_DEV_FB_USED{Hostname="node-0000",gpu="0"}', during[1])[0]
assert float(fb["value"][1]) == f["/telemetry/gpu/gpu_fb_used_bytes"][during[0], 0, 0] / 2**20, fb
en = query('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{Hostname="node-0001",gpu="7"}', during[1])[0]
assert int(en["value"][1]) == 1000 * int(f["/telemetry/gpu/gpu_energy_joules_total"][during[0], 1, 7]), en

# the scenario series marks S1, and only while it is active
for r, at, want in ((before[0], before[1], "0"), (during[0], during[1], "1")):
    res = query('fleetsim_scenario_active{id="S1"}', at)
    assert len(res) == 1 and res[0]["value"][1] == want, (at, res)
    assert res[0]["metric"]["kind"] == "thermal_cascade", res
active = query("fleetsim_scenario_active == 1", during[1])
assert "S1" in {a["metric"]["id"] for a in active}, active
ids = {a["metric"]["id"] for a in active}
assert ids == {k for k, (a, b) in gt.items() if a <= t[during[0]] < b}, (ids, gt)

# every L1 event is one series with one sample at its time
events = f["/events/l1"][:]
run_s = t[-1] + float(f.attrs["scrape_interval_s"])
res = query("count(count_over_time(fleetsim_l1_event[3h]))", epoch + run_s)
assert int(res[0]["value"][1]) == len(events), (res, len(events))
ev = events[0]
one = query('fleetsim_l1_event{event_id="%d"}' % ev["event_id"], epoch + ev["t_s"])
assert one and one[0]["metric"]["scope"] == ev["scope"].decode(), (one, ev)
assert one[0]["metric"]["Hostname"] == "node-%04d" % ev["node"], one

# prometheus naming: seconds
ttft = f["/telemetry/node/ttft_ms"][during[0]]
res = query("max(ttft_seconds)", during[1])
assert abs(float(res[0]["value"][1]) - np.nanmax(ttft) / 1000) < 1e-6 * np.nanmax(ttft), (res, np.nanmax(ttft))
assert float(res[0]["value"][1]) < 10, res
print("openmetrics_prometheus: max(ttft_seconds) = %s s (archive %.3f ms); %d L1 events, "
      "S1 marked by fleetsim_scenario_active" % (res[0]["value"][1], np.nanmax(ttft), len(events)))
PY
echo "openmetrics_prometheus: all checks passed"
