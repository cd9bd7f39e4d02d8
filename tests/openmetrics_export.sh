#!/usr/bin/env bash
# `fleetsim export --format openmetrics` end to end: a 1 h small fleet is
# exported (a few nodes, metrics and a time range); the text is checked
# against the archive with h5py (every sample's value and timestamp, labels,
# family order, series order, # EOF), promtool builds TSDB blocks from it with
# the expected series and sample counts and a dumped series matches the
# archive; every bad input fails with its message and leaves no file.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool is not installed (Debian package prometheus; scripts/install-deps.sh)"
  exit 77
fi
"$PY" -c 'import h5py, numpy' || fail "$PY lacks python3-h5py or python3-numpy"
"$FLEETSIM" --help >"$SCRATCH/help.txt"
for word in "fleetsim export --run DIR --format openmetrics --out FILE" --nodes --metrics \
  "--from H" "--to H" --start-epoch "FILE.partial" "--naming N"; do
  grep -q -- "$word" "$SCRATCH/help.txt" || fail "--help does not mention $word"
done

cat >"$SCRATCH/scn.json" <<'EOF'
{"scenarios": [
  {"id": "S1", "kind": "thermal_cascade", "start_h": 0.3, "duration_min": 20, "racks": [0, 1], "nodes_per_rack": 8},
  {"id": "S3", "kind": "hbm_degradation", "start_h": 0.05, "duration_min": 50, "gpus": 6, "training_gpus": 4}
]}
EOF
run="$SCRATCH/run"
run_np 2 run --quiet --no-llm --config "$DATA/small.json" --hours 1 --scenarios "$SCRATCH/scn.json" \
  --out "$run" >/dev/null
# one node with a degrading GPU, so that a counter rises inside the export
s3node=$("$PY" -c "import h5py; print(int(h5py.File('$run/fleet.h5')['/ground_truth/S3/nodes'][0]))")
nodes="0-3,40,$s3node"
metrics=gpu_temp_celsius,gpu_ecc_sbe_total,ttft_ms,step_time_ms,expert_selection_entropy_nats,facility_pue,gpu_energy_joules_total
om="$SCRATCH/fleet.om"
"$FLEETSIM" export --run "$run" --format openmetrics --out "$om" --nodes "$nodes" \
  --metrics "$metrics" --from 0.25 --to 0.75 --quiet >"$SCRATCH/summary.txt"
cat "$SCRATCH/summary.txt"
[ -s "$om" ] && [ ! -e "$om.partial" ] || fail "no $om, or $om.partial left behind"
epoch=$(sed -n 's/.*(--start-epoch \([0-9]*\)).*/\1/p' "$SCRATCH/summary.txt")

# under mpirun only the printing rank writes; the text is the same
run_np 2 export --run "$run" --format openmetrics --out "$SCRATCH/np2.om" --nodes "$nodes" \
  --metrics "$metrics" --from 0.25 --to 0.75 --quiet >/dev/null
cmp "$om" "$SCRATCH/np2.om" || fail "export under mpirun -np 2 differs"

"$PY" - "$run/fleet.h5" "$om" "$nodes" "$metrics" "$epoch" >"$SCRATCH/expected.txt" <<'PY' ||
import calendar, json, math, re, sys, time
import h5py, numpy as np
path, om, nodes_spec, metrics, epoch = sys.argv[1:6]
f = h5py.File(path, "r")
t = f["/time/seconds"][:]
rows = np.nonzero((t >= 0.25 * 3600) & (t < 0.75 * 3600))[0]
# the documented default epoch: start_hour:00 UTC of the latest day on which the run ends
created = calendar.timegm(time.strptime(f.attrs["created_utc"], "%Y-%m-%dT%H:%M:%SZ"))
start_s = round(json.loads(f.attrs["config"])["start_hour"] * 3600)
run_s = t[-1] + f.attrs["scrape_interval_s"]
base = (created - start_s - int(math.ceil(run_s))) // 86400 * 86400 + start_s
assert base == int(epoch), (base, epoch)
assert base + run_s <= created < base + run_s + 86400
sel = sorted({n for part in nodes_spec.split(",")
              for n in (range(int(part.split("-")[0]), int(part.split("-")[-1]) + 1))})
rack = f["/topology/node_rack"][:]
tenant = f["/topology/node_tenant"][:]
job = f["/topology/node_job"][:]
job_id = [j.decode() for j in f["/topology/job_id"][:]]
tenants = ["moe-inference", "dense-inference", "training"]

# expected series, in the exporter's order, from the archive
expected = []  # (sample name, labels text, [(value, ts)])
for name in metrics.split(","):
    scope = next(s for s in ("gpu", "node", "cluster") if name in f["/telemetry/" + s])
    ds = f["/telemetry/%s/%s" % (scope, name)]
    if scope == "cluster":
        keys = [(None, None)]
    else:
        keys = [(n, g) for n in sel for g in (range(8) if scope == "gpu" else [None])]
    for n, g in keys:
        if n is None:
            vals, labels = ds[rows[0]:rows[-1] + 1], ""
        else:
            vals = ds[rows[0]:rows[-1] + 1, n] if g is None else ds[rows[0]:rows[-1] + 1, n, g]
            labels = 'node="node-%04d",rack="rack-%02d"' % (n, rack[n])
            if g is not None:
                labels += ',gpu="%d"' % g
            labels += ',tenant="%s"' % tenants[tenant[n]]
            if job[n] >= 0:
                labels += ',job="%s"' % job_id[job[n]]
        pts = [(v, base + t[r]) for v, r in zip(vals, rows) if not np.isnan(v)]
        if pts:
            expected.append((name, labels, pts))

# parse the file
lines = open(om).read().split("\n")
assert lines[-1] == "" and lines[-2] == "# EOF", lines[-3:]
assert lines.count("# EOF") == 1
meta, got, families = {}, [], []
line_re = re.compile(r'^([a-z_][a-z0-9_]*)(\{([^}]*)\})? (\S+) (\d+(\.\d+)?)$')
for line in lines[:-2]:
    if line.startswith("# "):
        kind, fam, rest = line[2:].split(" ", 2)
        assert kind in ("TYPE", "UNIT", "HELP"), line
        if not families or families[-1] != fam:
            assert fam not in families, "family %s interleaved" % fam
            families.append(fam)
        meta.setdefault(fam, {})[kind] = rest
        continue
    m = line_re.match(line)
    assert m, line
    name, labels, value, ts = m.group(1), m.group(3) or "", float(m.group(4)), float(m.group(5))
    fam = name[:-len("_total")] if meta.get(name[:-6], {}).get("TYPE") == "counter" else name
    assert families and families[-1] == fam, "sample %s outside its family %s" % (name, families[-1:])
    if not got or got[-1][:2] != (name, labels):
        assert all((name, labels) != g[:2] for g in got), "series %s{%s} not contiguous" % (name, labels)
        got.append((name, labels, []))
    got[-1][2].append((value, ts))
for fam, md in meta.items():
    assert md["TYPE"] in ("gauge", "counter"), md
    assert (md["TYPE"] == "counter") == (fam + "_total" in metrics.split(",")), fam
    assert "UNIT" not in md or fam.endswith("_" + md["UNIT"]), (fam, md["UNIT"])
    assert md.get("HELP"), fam
assert meta["gpu_temp_celsius"].get("UNIT") == "celsius", meta["gpu_temp_celsius"]
assert meta["gpu_ecc_sbe"]["TYPE"] == "counter"
assert [g[:2] for g in got] == [e[:2] for e in expected], \
    "series differ: %s" % (set(g[:2] for g in got) ^ set(e[:2] for e in expected))
for (name, labels, pts), (_, _, want) in zip(got, expected):
    assert len(pts) == len(want), (name, labels, len(pts), len(want))
    for (v, ts), (wv, wts) in zip(pts, want):
        assert np.float32(v) == wv, (name, labels, ts, v, wv)  # exact: float32 read back
        assert ts == wts, (name, labels, ts, wts)
    assert all(a[1] < b[1] for a, b in zip(pts, pts[1:])), "series %s not in time order" % name
sbe = [p for n, l, p in got if n == "gpu_ecc_sbe_total"]
assert any(p[-1][0] > p[0][0] for p in sbe), "no SBE counter rises in the export"
print(len(got), sum(len(p) for _, _, p in got))
PY
  fail "the OpenMetrics text does not match the archive"
read -r series samples <"$SCRATCH/expected.txt"
echo "openmetrics_export: text matches the archive: $series series, $samples samples"
grep -q "$series series, $samples samples" "$SCRATCH/summary.txt" || fail "summary disagrees"

# promtool accepts it and stores exactly these series and samples
promtool tsdb create-blocks-from openmetrics "$om" "$SCRATCH/tsdb" >"$SCRATCH/blocks.txt" \
  || fail "promtool create-blocks-from openmetrics failed: $(cat "$SCRATCH/blocks.txt")"
promtool tsdb list "$SCRATCH/tsdb" >"$SCRATCH/list.txt"
cat "$SCRATCH/list.txt"
read -r nsamples nseries < <(awk 'NR > 1 { s += $(NF-3); n += $(NF-1) } END { print s, n }' \
  "$SCRATCH/list.txt")
[ "$nsamples" -eq "$samples" ] || fail "promtool stored $nsamples samples, expected $samples"
[ "$nseries" -eq "$series" ] || fail "promtool stored $nseries series, expected $series"
mkdir -p "$SCRATCH/tsdb/wal" # tsdb dump opens the directory as a database
promtool tsdb dump --match="{__name__=\"gpu_ecc_sbe_total\",node=\"node-$(printf %04d "$s3node")\"}" \
  "$SCRATCH/tsdb" >"$SCRATCH/dump.txt"
"$PY" - "$run/fleet.h5" "$SCRATCH/dump.txt" "$s3node" "$epoch" <<'PY' || fail "promtool's samples differ from the archive"
import re, sys
import h5py, numpy as np
path, dump, node, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
f = h5py.File(path, "r")
t = f["/time/seconds"][:]
rows = np.nonzero((t >= 0.25 * 3600) & (t < 0.75 * 3600))[0]
ds = f["/telemetry/gpu/gpu_ecc_sbe_total"]
got = {}
for line in open(dump):
    m = re.match(r'^\{(.*)\} (\S+) (\d+)$', line.strip())
    assert m, line
    g = int(re.search(r'gpu="(\d)"', m.group(1)).group(1))
    got.setdefault(g, []).append((float(m.group(2)), int(m.group(3))))
assert sorted(got) == list(range(8)), sorted(got)
for g, pts in got.items():
    want = [(float(ds[r, node, g]), int(round((epoch + t[r]) * 1000))) for r in rows]
    assert pts == want, (g, pts[:3], want[:3])
print("openmetrics_export: promtool's gpu_ecc_sbe_total of node %d matches the archive (%d series x %d)"
      % (node, len(got), len(rows)))
PY

# bad input: a message naming the option and value, the exit status, no file
cp "$run/fleet.h5" "$SCRATCH/incomplete.h5"
mkdir -p "$SCRATCH/incomplete"
"$PY" -c "import h5py; h5py.File('$SCRATCH/incomplete.h5', 'r+').attrs['complete'] = 0"
mv "$SCRATCH/incomplete.h5" "$SCRATCH/incomplete/fleet.h5"
bad="$SCRATCH/bad.om"
ex() { "$FLEETSIM" export --format openmetrics "$@"; }
bad_export() { # STATUS PATTERN ARGS...
  local want=$1 pattern=$2
  shift 2
  expect_fail "$want" "$pattern" "$@"
  [ ! -e "$bad" ] && [ ! -e "$bad.partial" ] || fail "'$*' left $bad or $bad.partial behind"
}
bad_export 2 "--run $SCRATCH/incomplete: .*not complete" ex --run "$SCRATCH/incomplete" --out "$bad"
bad_export 2 "--run $SCRATCH/nowhere: .*missing" ex --run "$SCRATCH/nowhere" --out "$bad"
# every telemetry dataset of the archive is a metric the export knows, and
# the two annotation series
nmetrics=$("$PY" -c "import h5py; f = h5py.File('$run/fleet.h5'); print(2 + sum(len(f['/telemetry/' + s]) for s in ('gpu', 'node', 'cluster')))")
bad_export 2 "--metrics gpu_temp_celsius,bogus_metric: unknown metric 'bogus_metric'; valid: gpu_clock_event_reasons, .* \($nmetrics in all" \
  ex --run "$run" --out "$bad" --metrics gpu_temp_celsius,bogus_metric
bad_export 2 "unknown metric 'gpu_tmp_celsius' \(did you mean gpu_temp_celsius\?\)" \
  ex --run "$run" --out "$bad" --metrics gpu_tmp_celsius
bad_export 2 "'ttft_ms' is named twice" ex --run "$run" --out "$bad" --metrics ttft_ms,ttft_ms
bad_export 2 "--nodes 0-: '0-' is not a node index or a range" ex --run "$run" --out "$bad" --nodes 0-
bad_export 2 "--nodes 0-7,500: node 500 is outside the fleet \(nodes 0-119\)" \
  ex --run "$run" --out "$bad" --nodes 0-7,500
bad_export 2 "--from 0.5 is not before --to 0.5" ex --run "$run" --out "$bad" --from 0.5 --to 0.5
bad_export 2 "--from 2: outside the run, which covers \[0, 1\) simulated hours" \
  ex --run "$run" --out "$bad" --from 2
bad_export 2 "--to 1.5: outside the run" ex --run "$run" --out "$bad" --to 1.5
bad_export 2 "--from 0.001 --to 0.002: no scrape in that range" \
  ex --run "$run" --out "$bad" --from 0.001 --to 0.002
bad_export 2 "--from abc: expected simulated hours" ex --run "$run" --out "$bad" --from abc
bad_export 2 "--start-epoch -5: expected Unix seconds" ex --run "$run" --out "$bad" --start-epoch -5
bad_export 2 "--naming DCGM: unknown naming \(fleetsim, dcgm or prometheus\)" \
  ex --run "$run" --out "$bad" --naming DCGM
bad_export 2 "unknown metric 'DCGM_FI_DEV_GPU_TMP' \(did you mean DCGM_FI_DEV_GPU_TEMP\?\)" \
  ex --run "$run" --out "$bad" --naming dcgm --metrics DCGM_FI_DEV_GPU_TMP
bad_export 2 "--format csv: unknown format \(supported: openmetrics\)" \
  "$FLEETSIM" export --run "$run" --format csv --out "$bad"
bad_export 2 "--run DIR, --format openmetrics and --out FILE are required" ex --run "$run"
bad_export 2 "unknown option '--seed'" ex --run "$run" --out "$bad" --seed 3
bad_export 2 "--out $SCRATCH: is a directory" ex --run "$run" --out "$SCRATCH"
bad_export 2 "--out $run/fleet.h5: is the archive itself" ex --run "$run" --out "$run/fleet.h5"
# several problems at once are all reported
bad_export 2 "unknown metric 'nope'" ex --run "$run" --out "$bad" --metrics nope --nodes 999
both=$("$FLEETSIM" export --format openmetrics --run "$run" --out "$bad" --metrics nope \
  --nodes 999 2>&1 || true)
grep -q "node 999 is outside" <<<"$both" || fail "the second problem was not reported: $both"
expect_fail 1 "--out $SCRATCH/nodir/x.om: cannot create $SCRATCH/nodir/x.om.partial" \
  ex --run "$run" --out "$SCRATCH/nodir/x.om"
[ -s "$run/fleet.h5" ] || fail "the archive was touched"

# speed on a larger slice (all metrics of 40 nodes, the whole hour), for docs/export.md
"$FLEETSIM" export --run "$run" --format openmetrics --out "$SCRATCH/speed.om" --nodes 0-39 --quiet \
  | tail -n1
rm -f "$SCRATCH/speed.om"
echo "openmetrics_export: all checks passed"
