#!/usr/bin/env bash
# The archive opens in xarray (h5netcdf engine) with labelled coordinates: a
# 1-hour run of the small fleet (start_hour 6.5, np 2), then /usr/bin/python3
# opens /xarray/{gpu,node,cluster} and /telemetry/gpu and checks the
# dimensions, the coordinates (time, time_utc, node, gpu, rack) against the
# archive's own datasets, values picked by label against h5py's positional
# reads, and that the telemetry groups still list only the metrics.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import xarray, h5netcdf' 2>/dev/null; then
  echo "analysis_xarray: skipped: python3-xarray or python3-h5netcdf is not installed"
  exit 77
fi
echo '{"scenarios": [{"id": "T1", "kind": "thermal_cascade", "start_h": 0.25, "duration_min": 20, "racks": [2]}]}' \
  >"$SCRATCH/scn.json"
run_np 2 run --quiet --config "$DATA/small.json" --scenarios "$SCRATCH/scn.json" --hours 1 \
  --set start_hour=6.5 --no-llm --out "$SCRATCH/run" >/dev/null

ANALYSIS="$SOURCE_DIR/analysis" "$PY" - "$SCRATCH/run/fleet.h5" <<'PY'
import os
import sys

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.environ["ANALYSIS"])
import fleetdata as fd  # noqa: E402

path = sys.argv[1]
checks = 0


def check(cond, what):
    global checks
    if not cond:
        sys.exit(f"FAIL: {what}")
    checks += 1


def same(got, want, what):
    check(np.array_equal(got, want, equal_nan=np.asarray(want).dtype.kind == "f"),
          f"{what}: {np.asarray(got)[:3]}... != {np.asarray(want)[:3]}...")


with h5py.File(path, "r") as f:
    T, N = f["/time/seconds"].shape[0], f["/topology/node_rack"].shape[0]
    seconds = f["/time/seconds"][:]
    node_rack = f["/topology/node_rack"][:]
    temp = f["/telemetry/gpu/gpu_temp_celsius"][:, 61, 3]
    inlet = f["/telemetry/node/inlet_temp_celsius"][:, 17]
    pue = f["/telemetry/cluster/facility_pue"][:]
    groups = {g: sorted(f["/telemetry/" + g]) for g in ("gpu", "node", "cluster")}

gpu = xr.open_dataset(path, engine="h5netcdf", group="xarray/gpu")
check(dict(gpu.sizes) == {"time": T, "node": N, "gpu": 8}, f"xarray/gpu sizes {dict(gpu.sizes)}")
check(sorted(gpu.coords) == ["gpu", "node", "rack", "time", "time_utc"],
      f"xarray/gpu coordinates {sorted(gpu.coords)}")
check(sorted(gpu.data_vars) == groups["gpu"], "xarray/gpu holds every GPU metric and nothing else")
check(gpu["gpu_temp_celsius"].dims == ("time", "node", "gpu"), "gpu_temp_celsius dims")
check(gpu["gpu_temp_celsius"].attrs["units"] == "C", "the metric keeps its attributes")
same(gpu["time"].values, seconds, "time coordinate against /time/seconds")
same(gpu["gpu"].values, np.arange(8), "gpu coordinate")
same(gpu["rack"].values, node_rack, "rack coordinate against /topology/node_rack")
check(list(gpu["node"].values[[0, 61, N - 1]]) == ["node-0000", "node-0061", f"node-{N - 1:04d}"],
      f"node names {gpu['node'].values[:3]}")
utc = np.datetime64("1970-01-01T06:30:00", "ns") + (seconds * 1e9).astype("timedelta64[ns]")
same(gpu["time_utc"].values, utc, "time_utc from start_hour 6.5")
same(gpu["gpu_temp_celsius"].sel(node="node-0061", gpu=3).values, temp,
     "gpu_temp_celsius of node-0061/gpu3")
check(np.isfinite(temp).all(), "a GPU temperature series")
rack2 = gpu["gpu_temp_celsius"].isel(time=slice(0, 40)).where(gpu["rack"] == 2, drop=True)
check(rack2.sizes["node"] == (node_rack == 2).sum(), "selecting a rack by its coordinate")

node = xr.open_dataset(path, engine="h5netcdf", group="xarray/node")
check(dict(node.sizes) == {"time": T, "node": N} and "gpu" not in node.coords,
      f"xarray/node sizes {dict(node.sizes)}")
check(sorted(node.data_vars) == groups["node"], "xarray/node holds every node metric")
same(node["inlet_temp_celsius"].sel(node="node-0017").values, inlet,
     "inlet_temp_celsius of node-0017")
cluster = xr.open_dataset(path, engine="h5netcdf", group="xarray/cluster")
check(dict(cluster.sizes) == {"time": T} and sorted(cluster.coords) == ["time", "time_utc"],
      f"xarray/cluster coordinates {sorted(cluster.coords)}")
same(cluster["facility_pue"].values, pue, "facility_pue")
by_utc = cluster.swap_dims(time="time_utc")
at = by_utc["facility_pue"].sel(time_utc=np.datetime64("1970-01-01T07:00:00")).item()
check(at == pue[120], f"facility_pue at 07:00 UTC = {at}, scrape 120 holds {pue[120]}")

# the telemetry groups themselves: named dimensions, no phony ones
tel = xr.open_dataset(path, engine="h5netcdf", group="telemetry/gpu")
check(tel["gpu_power_watts"].dims == ("time", "node", "gpu"), "/telemetry/gpu dimension names")
check(tel["gpu_power_watts"].attrs["dimensions"] == "time,node,gpu", "the dimensions attribute")
# readers that list the telemetry groups see the metrics alone
check([len(groups[g]) for g in ("gpu", "node", "cluster")] == [30, 20, 10],
      f"/telemetry groups list {[len(v) for v in groups.values()]} datasets")
check(len(fd.metrics(os.path.dirname(path))) == 60, "fleetdata lists 60 metrics")
print(f"analysis_xarray: {checks} checks passed")
PY
