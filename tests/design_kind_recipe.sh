#!/usr/bin/env bash
# design_kind_recipe: "Adding a fault kind" in docs/extending.md is complete
# and literal. Its marked code blocks (<!-- recipe: [append ]PATH --> above a
# fence) are applied to a copy of the source tree, which must configure and
# build (RelWithDebInfo, -j2, no tests) with nothing else touched; then
# `fleetsim scenarios --kinds` and `--random` know the new kind, and a two-hour
# run of the recipe's scenario file on the tests' small fleet (np 2) completes
# (the rules backend's catalogue and the checklists with the new kind
# compile, or it stops) with the kind in the archive's ground truth, the
# magnitudes of the file in its params, and its cause in the telemetry: the
# kind's first signature metric moves on its root-cause nodes during the
# window, far more than on the other nodes. About 2 minutes on 2 cores.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c 'import h5py, numpy' || fail "$PY lacks python3-h5py or python3-numpy"
src="$SCRATCH/src"
mkdir -p "$src"
tar -C "$SOURCE_DIR" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -

"$PY" - "$SOURCE_DIR/docs/extending.md" "$src" <<'EOF' || fail "applying the recipe of docs/extending.md"
import os, re, sys
doc, root = sys.argv[1], sys.argv[2]
lines = open(doc, encoding="utf-8").read().split("\n")
n, section = 0, False
for i, line in enumerate(lines):
    if line.startswith("## "):
        section = line.strip() == "## Adding a fault kind"
    m = re.fullmatch(r"<!-- recipe: (append )?(\S+) -->", line.strip())
    if not (m and section):
        continue
    if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
        sys.exit(f"docs/extending.md:{i + 1}: a recipe marker must stand right above a code block")
    end = lines.index("```", i + 2)
    path = os.path.join(root, m.group(2))
    with open(path, "a" if m.group(1) else "w", encoding="utf-8") as f:
        f.write("\n".join(lines[i + 2:end]) + "\n")
    print(f"{'appended to' if m.group(1) else 'wrote'} {m.group(2)}")
    n += 1
if n < 4:
    sys.exit(f"docs/extending.md: {n} recipe blocks (registry line, .c, .json, scenario file "
             "expected): the markers are broken")
EOF
kind=$(sed -n 's/^SCN_KIND(\([a-z0-9_]*\))$/\1/p' "$src/scenarios/kinds/kinds.def" | tail -n 1)
nkinds=$(grep -c '^SCN_KIND(' "$src/scenarios/kinds/kinds.def")
[ -f "$src/scenarios/kinds/$kind.c" ] && [ -f "$src/scenarios/kinds/$kind.json" ] ||
  fail "the recipe's last registry line names '$kind', which has no .c and .json"
echo "ok: the recipe adds kind '$kind' (kind $nkinds)"

cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
  >"$SCRATCH/configure.log" 2>&1 || fail "configure failed: $(tail -n 20 "$SCRATCH/configure.log")"
cmake --build "$src/build" -j2 --target fleetsim >"$SCRATCH/build.log" 2>&1 ||
  fail "build failed: $(grep -E 'error|Error' "$SCRATCH/build.log" | head -n 20)"
bin="$src/build/fleetsim"
echo "ok: the tree with the recipe builds"

"$bin" scenarios --kinds | grep -q "^### $kind\$" || fail "fleetsim scenarios --kinds does not list $kind"
"$bin" scenarios --random "$nkinds" --seed 5 --config "$src/tests/data/small.json" \
  --out "$SCRATCH/random.json" || fail "scenarios --random failed"
grep -q "\"kind\": \"$kind\"" "$SCRATCH/random.json" ||
  fail "scenarios --random $nkinds (every kind once) has no $kind: $(cat "$SCRATCH/random.json")"
echo "ok: scenarios --kinds and --random know $kind"

(cd "$src" && "$MPIEXEC" -np 2 "$bin" run --quiet --config tests/data/small.json --hours 2 \
  --scenarios fan.json --out "$SCRATCH/run") >"$SCRATCH/run.log" 2>&1 ||
  fail "the recipe's run failed: $(tail -n 20 "$SCRATCH/run.log")"
[ -s "$SCRATCH/run/results/summary.json" ] || fail "the run scored nothing: $(ls -R "$SCRATCH/run")"

"$PY" - "$SCRATCH/run/fleet.h5" "$src/fan.json" "$src/scenarios/kinds/$kind.json" "$kind" <<'EOF' ||
import json, sys
import h5py, numpy as np
archive, scn_file, kind_file, kind = sys.argv[1:5]
want = [s for s in json.load(open(scn_file))["scenarios"] if s["kind"] == kind]
assert want, f"{scn_file} has no scenario of kind {kind}"
s = want[0]
metric = json.load(open(kind_file))["signature_metrics"][0]
with h5py.File(archive, "r") as f:
    rows = [(r["id"].decode(), r["kind"].decode(), r["start_s"], r["end_s"])
            for r in f["/ground_truth/scenarios"][:]]
    assert (s["id"], kind) in [(r[0], r[1]) for r in rows], f"ground truth {rows} lacks {s['id']}"
    g = f["/ground_truth/" + s["id"]]
    params = json.loads(g.attrs["params"])
    for key, v in s.items():
        if key not in ("id", "kind", "start_h", "duration_min"):
            assert params.get(key) == v, f"params[{key}] = {params.get(key)}, the file says {v}"
    nodes = g["nodes"][:]
    assert len(nodes) > 0, "no root-cause nodes"
    dt = float(f.attrs["scrape_interval_s"])
    t0, t1 = int(round(s["start_h"] * 3600 / dt)), int(round((s["start_h"] * 60 + s["duration_min"]) * 60 / dt))
    group = "gpu" if metric in f["/telemetry/gpu"] else "node"
    x = f[f"/telemetry/{group}/{metric}"][:].astype(float)
    x = x.reshape(x.shape[0], x.shape[1], -1)
    other = np.setdiff1d(np.arange(x.shape[1]), nodes)
    ref = slice(max(0, t0 - int(1200 / dt)), t0)  # the 20 minutes before
    win = slice((t0 + t1) // 2, t1)               # the second half of the window
    d_in = np.nanmean(x[win][:, nodes]) - np.nanmean(x[ref][:, nodes])
    d_out = np.nanmean(x[win][:, other]) - np.nanmean(x[ref][:, other])
    noise = np.nanstd(np.nanmean(x[ref][:, nodes], axis=(1, 2)))
    print(f"{metric}: {d_in:+.3g} on the {len(nodes)} root-cause nodes, {d_out:+.3g} elsewhere "
          f"(noise {noise:.3g})")
    assert abs(d_in) > 5 * abs(d_out) and abs(d_in) > 4 * noise, \
        f"{kind}'s cause did not reach {metric}"
EOF
  fail "the archive does not show the new kind (above)"
echo "design_kind_recipe: the recipe of docs/extending.md adds a kind that builds, runs and injects"
