"""Checks of analysis/report.py and analysis/fleetdata.py on the runs that
tests/analysis_report.sh made under $ANALYSIS_RUNS: `full` (small fleet, the
six kinds with hand-made plots, backends rules and stub-openai), `reduced` (a
thermal cascade alone, 1 h, rules), `none` (no scenarios, --no-llm, 1 h) and
`random` (a `fleetsim scenarios --random N` file with N the number of kinds
in scenarios/kinds/kinds.def, so every registered kind once, --no-llm, 2 h),
each with its report in RUN/report.
Run: ANALYSIS_RUNS=DIR /usr/bin/python3 -m pytest -q tests/analysis_test.py
"""
import base64
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.join(HERE, "..", "analysis")
sys.path.insert(0, ANALYSIS)
import detections as dt  # noqa: E402
import fleetdata as fd  # noqa: E402
import kinds  # noqa: E402
import plots_generic  # noqa: E402
import plots_scenarios  # noqa: E402

RUNS = os.environ.get("ANALYSIS_RUNS")
if not RUNS:
    raise RuntimeError("ANALYSIS_RUNS is not set: run tests/analysis_report.sh")
FULL = os.path.join(RUNS, "full")
REDUCED = os.path.join(RUNS, "reduced")
ALL_RUNS = ["full", "none", "random", "reduced"]
# the plot file of a scenario: <prefix>_<id>.png for the six kinds with a
# hand-made plot, <kind>_<id>.png (the generic plot) for every other kind
PREFIX = {"thermal_cascade": "thermal", "expert_routing_collapse": "moe",
          "hbm_degradation": "hbm", "fabric_microburst": "fabric",
          "kv_cache_eviction_storm": "kv", "training_straggler": "straggler"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KINDS_DIR = os.path.join(HERE, "..", "scenarios", "kinds")
with open(os.path.join(KINDS_DIR, "kinds.def")) as _f:
    REGISTERED = re.findall(r"^SCN_KIND\((\w+)\)$", _f.read(), re.M)
GENERIC = [k for k in REGISTERED if k not in PREFIX]


def report_dir(run):
    return os.path.join(RUNS, run, "report")


def read_md(run):
    with open(os.path.join(report_dir(run), "report.md")) as f:
        return f.read()


def read_html(run):
    with open(os.path.join(report_dir(run), "report.html")) as f:
        return f.read()


def ground_truth(run):
    """[(id, kind)] from the run's archive, read with h5py."""
    with h5py.File(os.path.join(RUNS, run, "fleet.h5"), "r") as f:
        rows = f["/ground_truth/scenarios"][:]
    return [(r["id"].decode(), r["kind"].decode()) for r in rows]


def expected(run):
    """The PNGs a report of run must hold: the fleet's and one per scenario."""
    names = ["heatmap_temperature.png", "timeline.png"]
    names += [f"{PREFIX.get(k, k)}_{i}.png" for i, k in ground_truth(run)]
    if os.path.isfile(os.path.join(RUNS, run, "results", "summary.json")):
        names.append("accuracy_cost.png")
    return sorted(names)


def test_runs_cover_every_kind():
    assert set(PREFIX) <= set(REGISTERED) and len(GENERIC) >= 12
    assert {k for i, k in ground_truth("full")} == set(PREFIX)
    # the random file has every registered kind, once
    assert sorted(k for i, k in ground_truth("random")) == sorted(REGISTERED)
    assert all(i.startswith("R") for i, k in ground_truth("random"))
    assert expected("full") == sorted(
        ["heatmap_temperature.png", "thermal_S1.png", "moe_S2.png", "hbm_S3.png",
         "fabric_S4.png", "kv_S5.png", "straggler_S6.png", "timeline.png", "accuracy_cost.png"])


@pytest.mark.parametrize("run", ALL_RUNS)
def test_pngs_exist_and_are_valid(run):
    for name in expected(run):
        path = os.path.join(report_dir(run), name)
        assert os.path.isfile(path), f"{path} missing"
        with open(path, "rb") as f:
            head = f.read(24)
        assert head[:8] == PNG_MAGIC, f"{path} is not a PNG"
        width, height = struct.unpack(">II", head[16:24])
        assert width >= 800 and height >= 300, f"{path} is {width}x{height}"
        assert os.path.getsize(path) > 20000, f"{path} is only {os.path.getsize(path)} bytes"
        img = matplotlib.image.imread(path)
        assert img.shape[:2] == (height, width)
        assert float(img[..., :3].std()) > 0.05, f"{path} is nearly blank"


@pytest.mark.parametrize("run", ALL_RUNS)
def test_report_links_every_image(run):
    md = read_md(run)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    pngs = sorted(n for n in os.listdir(report_dir(run)) if n.endswith(".png"))
    assert sorted(links) == pngs == expected(run)
    for link in links:
        assert not os.path.isabs(link), f"{link} is not a relative link"
    # every image has a caption line right after it
    for link in links:
        assert re.search(r"!\[[^\]]*\]\(" + re.escape(link) + r"\)\n\n\*[^*]+\*", md), link


class _Page(html.parser.HTMLParser):
    """The figures (scenario, image source, caption) and table cells of a page."""

    def __init__(self):
        super().__init__()
        self.figures, self.tables, self.tags = [], [], []
        self._fig = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "figure":
            self._fig = {"scenario": a.get("data-scenario"), "src": None, "caption": ""}
        elif tag == "img" and self._fig is not None:
            self._fig["src"] = a.get("src", "")
        elif tag == "table":
            self.tables.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "figure":
            self.figures.append(self._fig)
            self._fig = None
        elif tag in ("td", "th"):
            self.tables[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._fig is not None:
            self._fig["caption"] += data


def parse_html(run):
    p = _Page()
    p.feed(read_html(run))
    return p


@pytest.mark.parametrize("run", ALL_RUNS)
def test_html_report_is_self_contained(run):
    text = read_html(run)
    page = parse_html(run)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    # nothing is fetched: no script, stylesheet link or remote address
    assert not re.search(r"https?://|<script|<link|src=\"//|url\(", text, re.I)
    assert len(page.figures) == len(expected(run))
    for fig in page.figures:
        assert fig["src"].startswith("data:image/png;base64,"), fig["src"][:40]
        png = base64.b64decode(fig["src"].split(",", 1)[1], validate=True)
        assert png[:8] == PNG_MAGIC and len(png) > 20000
        assert fig["caption"].strip()
    # one plot per scenario of the run, named by its id
    scn = [f["scenario"] for f in page.figures if f["scenario"]]
    assert scn == [i for i, k in ground_truth(run)]


def test_html_report_tables():
    page = parse_html("full")
    cells = [c for t in page.tables for c in t]
    for sid, kind in ground_truth("full"):
        assert sid in cells and kind in cells, sid
    assert "first detection (min)" in cells and "stub-openai" in cells
    assert any(c.startswith("L3 accuracy, strict") for c in cells)
    assert "cost per 24 h" in cells
    assert len(page.tables) == 5   # detection, performance, and by scenario per layer
    # the markdown page has the same tables
    md = read_md("full")
    assert re.search(r"^\| scenario \| kind \| detected \| first detection \(min\) \|", md, re.M)


@pytest.mark.parametrize("run", ["full", "random", "reduced"])
def test_detection_markers_follow_the_scorer(run):
    """The L1 events marked on a scenario's plot are those the scorer counts
    (results/detection.json), and the caption gives its first detection."""
    with open(os.path.join(RUNS, run, "results", "detection.json")) as f:
        det = {s["id"]: s for s in json.load(f)["scenarios"]}
    captions = {f["scenario"]: f["caption"] for f in parse_html(run).figures if f["scenario"]}
    with fd.Run(os.path.join(RUNS, run)) as r:
        ev, sig = r.events(), dt.signature_metrics()
        assigned = dt.assign(r, ev, sig)
        for k, s in enumerate(r.scenarios()):
            want = det[s["id"]]
            hit = dt.matches(r, s, ev, sig)
            assert int(hit.sum()) == want["events"], s["id"]
            first = dt.first_detection(ev, hit, s)
            if want["detected"]:
                assert first["latency_s"] == want["first_detection_latency_s"], s["id"]
                assert first["metric"] == want["first_metric"], s["id"]
                assert (f"first detection +{want['first_detection_latency_s'] / 60:.1f} min "
                        f"({want['first_metric']})") in captions[s["id"]]
            else:
                assert first is None and "not detected" in captions[s["id"]], s["id"]
            # an event assigned to a scenario detects it
            assert hit[assigned == k].all(), s["id"]
        assert (assigned >= 0).sum() == len(ev["t_s"]) - json.load(
            open(os.path.join(RUNS, run, "results", "detection.json")))["unmatched_events"]


def _spy_gpu_reads(monkeypatch):
    """[the most values one read of a /telemetry/gpu dataset returned]."""
    biggest = [0]
    orig = h5py.Dataset.__getitem__

    def spy(self, key):
        out = orig(self, key)
        if self.name.startswith("/telemetry/gpu/"):
            biggest[0] = max(biggest[0], np.size(out))
        return out
    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    return biggest


def _whole_gpu_dataset(run):
    with h5py.File(os.path.join(RUNS, run, "fleet.h5"), "r") as f:
        return int(np.prod(f["/telemetry/gpu/gpu_temp_celsius"].shape))


def _red_pixels(path):
    """Pixels of the affected entities' colour (tab:red lines) in a PNG."""
    img = matplotlib.image.imread(path)[..., :3] * 255.0
    return int((np.abs(img - np.array([214, 39, 40])).max(axis=2) < 40).sum())


def test_generic_plots_are_not_empty(monkeypatch):
    """Every scenario of a kind without a hand-made plot gets the generic
    plot, whose panels hold signature metrics of its kind with samples of
    the affected entities in the window and of their peers, drawn; and no
    single read for it returns a whole GPU dataset."""
    specs = kinds.specs()
    seen = set()
    biggest = _spy_gpu_reads(monkeypatch)
    with fd.Run(os.path.join(RUNS, "random")) as r:
        for s in r.scenarios():
            if s["kind"] in PREFIX:
                continue
            seen.add(s["kind"])
            spec = specs[s["kind"]]
            data = plots_generic.series(r, s, spec)
            assert data is not None, s["id"]
            hours, panels = data["hours"], data["panels"]
            inside = (hours >= s["start_h"]) & (hours < s["end_h"])
            assert 1 <= len(panels) <= plots_generic.PANELS and inside.sum() >= 60, s["id"]
            names = [p["metric"] for p in panels]
            assert len(set(names)) == len(names)
            assert set(names) <= set(spec["signature_metrics"]), (s["id"], names)
            # the first panel: the kind's first signature metric with samples
            assert names[0] == next(m for m in spec["signature_metrics"] if m in r.metrics()
                                    and r.metrics()[m]["group"] != "cluster"), (s["id"], names)
            for p in panels:
                aff = p["affected"]
                assert aff.shape[0] == len(hours) and aff.shape[1] >= 1, (s["id"], p["metric"])
                # samples inside the window: most of it for the first panel (a node that
                # leaves its job has no training metrics after its hang)
                have = np.isfinite(aff[inside]).any(axis=1)
                assert have.sum() >= 10, (s["id"], p["metric"], int(have.sum()))
                assert p is not panels[0] or have.mean() > 0.5, (s["id"], p["metric"])
                if p["peers"]:
                    assert np.isfinite(p["peer_median"]).mean() > 0.5, (s["id"], p["metric"])
                    assert (p["peer_lo"] <= p["peer_hi"] + 1e-9)[
                        np.isfinite(p["peer_lo"])].all()
                else:   # no peer band only where the peer nodes have no sample of it
                    x = r.load_metric(p["metric"], nodes=data["targets"]["peers"],
                                      t_from_h=hours[0], t_to_h=hours[-1] + 1e-6)
                    assert np.isnan(x.astype(np.float64)).all(), (s["id"], p["metric"])
            path = os.path.join(report_dir("random"), f"{s['kind']}_{s['id']}.png")
            assert _red_pixels(path) > 300, f"{path}: the affected entities are not drawn"
    assert seen == set(GENERIC)
    whole = _whole_gpu_dataset("random")
    assert 0 < biggest[0] <= whole // 4, f"a read of {biggest[0]} of {whole} values"
    md = read_md("random")
    for k in GENERIC:
        assert re.search(rf"^### R\d+ {k}, .*: {plots_scenarios.GENERIC}$", md, re.M), k


def test_generic_percentiles_match_numpy():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 37))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[5], x[7, 1:] = np.nan, np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.stack([np.nanpercentile(x, q, axis=1) for q in (10, 50, 90)])
    np.testing.assert_allclose(plots_generic.percentiles(x, (10, 50, 90)), want)
    assert np.isnan(plots_generic.percentiles(np.zeros((3, 0)), (50,))).all()


def test_no_per_kind_code_for_other_kinds():
    """The analysis names no kind beyond the six hand-made plots: the others
    come from kinds.def and their knowledge files."""
    for name in os.listdir(ANALYSIS):
        if name.endswith(".py"):
            with open(os.path.join(ANALYSIS, name)) as f:
                text = f.read()
            for k in GENERIC:
                assert not re.search(rf"\b{k}\b", text), f"analysis/{name} names {k}"


def test_a_kind_added_later_gets_a_plot(tmp_path):
    """A kind appended to kinds.def with its knowledge file gets the generic
    plot with no code change."""
    folder = tmp_path / "kinds"
    shutil.copytree(KINDS_DIR, folder, ignore=shutil.ignore_patterns("*.c", "*.h"))
    with open(folder / "kinds.def", "a") as f:
        f.write("SCN_KIND(later_fault)\n")
    with open(os.path.join(KINDS_DIR, "nic_flap.json")) as f:
        doc = json.load(f)
    doc["signature_metrics"] = ["no_such_metric"] + doc["signature_metrics"][::-1]
    with open(folder / "later_fault.json", "w") as f:
        json.dump(doc, f)
    specs = kinds.specs(str(folder))
    assert list(specs)[-1] == "later_fault" and list(specs)[:-1] == REGISTERED
    with fd.Run(os.path.join(RUNS, "random")) as r:
        s = dict(next(x for x in r.scenarios() if x["kind"] == "nic_flap"), kind="later_fault")
        det = {"times_s": np.array([s["start_s"] + 60.0]), "escalated": np.array([1]),
               "info": {"t_s": s["start_s"] + 60.0, "latency_s": 60.0, "metric": "x",
                        "events": 1, "escalated": True}}
        name, caption = plots_scenarios.plot_scenario(r, str(tmp_path), s, det, specs)
        assert name == f"later_fault_{s['id']}.png", caption
        assert "later_fault" in caption and doc["signature_metrics"][1] in caption
        assert _red_pixels(str(tmp_path / name)) > 300
        # an unregistered kind: a sentence, no plot
        name, caption = plots_scenarios.plot_scenario(r, str(tmp_path), dict(s, kind="x_y"), det,
                                                      kinds.specs())
        assert name is None and "not in scenarios/kinds/kinds.def" in caption


def test_kind_registry_errors(tmp_path):
    (tmp_path / "kinds.def").write_text("SCN_KIND(ghost)\n")
    with pytest.raises(kinds.KindError, match=r"ghost\.json"):
        kinds.specs(str(tmp_path))
    (tmp_path / "ghost.json").write_text('{"signature_metrics": ["a"], "entity": "row"}')
    with pytest.raises(kinds.KindError, match=r"ghost\.json: entity = 'row'"):
        kinds.specs(str(tmp_path))
    (tmp_path / "kinds.def").write_text("nothing\n")
    with pytest.raises(kinds.KindError, match="no SCN_KIND"):
        kinds.registered(str(tmp_path))


def test_report_tables():
    md = read_md("full")
    for sid in ("S1", "S2", "S3", "S4", "S5", "S6"):
        assert re.search(rf"^\| {sid} \| \w+ \| (yes|no) \|", md, re.M), f"no detection row {sid}"
    assert re.search(r"^\| metric \| rules \| stub-openai \|$", md, re.M)
    acc = r"[0-9.]+% ± [0-9.]+% \(macro [0-9.]+%; benchmark regex [0-9.]+%\)"
    assert re.search(rf"^\| L3 accuracy, strict \| {acc} \| {acc} \|$", md, re.M)
    assert re.search(r"^Strict accuracy by scenario, L2 \(benchmark regex in parentheses\):$", md, re.M)
    assert re.search(r"^\| cost per 24 h \| \$0\.00 \| \$[1-9][0-9.]* \|$", md, re.M)


def test_reduced_report_names_the_missing_kinds():
    md = read_md("reduced")
    line = [x for x in md.splitlines() if x.startswith("Kinds without a scenario in this run: ")]
    others = [k for k in REGISTERED if k != "thermal_cascade"]
    assert others[:5] == [
        "expert_routing_collapse", "hbm_degradation", "fabric_microburst",
        "kv_cache_eviction_storm", "training_straggler"]
    assert line == ["Kinds without a scenario in this run: " + ", ".join(others) + "."]
    assert "### T9 thermal_cascade" in md
    assert "Kinds without a scenario" not in read_md("random")


def test_fault_free_run_without_llm():
    md = read_md("none")
    assert "Scenarios: none." in md and "The run has no scenarios." in md
    assert "The run has no scenarios: no scenario plots." in md
    assert "the accuracy-cost plot is skipped" in md
    assert "no performance summary" in md


def test_load_node_matches_h5py():
    node = 61  # S6's straggler in small_scenarios.json
    series = fd.load_node(FULL, f"node-{node:04d}")
    with h5py.File(os.path.join(FULL, "fleet.h5"), "r") as f:
        T = f["/time/seconds"].shape[0]
        gpu, nodem = list(f["/telemetry/gpu"]), list(f["/telemetry/node"])
        assert sorted(series) == sorted(gpu + nodem)
        for m in gpu:
            assert series[m].shape == (T, 8), m
            np.testing.assert_array_equal(series[m], f["/telemetry/gpu/" + m][:, node, :])
        for m in nodem:
            assert series[m].shape == (T,), m
            np.testing.assert_array_equal(series[m], f["/telemetry/node/" + m][:, node])
        assert np.isnan(series["ttft_ms"]).all()          # a training node: no TTFT
        # step time at every scrape with samples (scrape gaps and reboots: NaN)
        present = np.isfinite(series["inlet_temp_celsius"])
        assert present.mean() > 0.99
        assert np.isfinite(series["step_time_ms"][present]).all()


def test_load_metric_order_and_time_range():
    with fd.Run(FULL) as run:
        h = run.time_hours()
        x = run.load_metric("gpu_power_watts", nodes=[100, 3, 100], t_from_h=1.0, t_to_h=2.0)
        sel = (h >= 1.0) & (h < 2.0)
        with h5py.File(run.path, "r") as f:
            d = f["/telemetry/gpu/gpu_power_watts"][:]
            c = f["/telemetry/cluster/facility_pue"][:]
        assert x.shape == (sel.sum(), 3, 8)
        np.testing.assert_array_equal(x, d[sel][:, [100, 3, 100], :])
        np.testing.assert_array_equal(run.load_metric("facility_pue"), c)
        with pytest.raises(fd.FleetDataError, match="max_bytes"):
            run.load_metric("gpu_power_watts", max_bytes=1 << 20)


def test_counter_increments_are_non_negative():
    with fd.Run(FULL) as run:
        counters = [m for m, info in run.metrics().items()
                    if info["counter"] and info["group"] != "cluster"]
        assert "gpu_nvlink_replay_total" in counters and "ib_port_rcv_errors_total" in counters
        s = run.load_node(61, counters)
        for m in counters:
            inc = fd.increments(s[m], axis=0)
            assert np.isnan(inc[0]).all(), m
            assert (inc[1:] >= 0).all(), m
            raw = s[m].astype(np.float64)
            if (np.diff(raw, axis=0) >= 0).all():   # no reset: increments add up
                np.testing.assert_allclose(np.nansum(inc, axis=0), raw[-1] - raw[0])
        rep = fd.increments(s["gpu_nvlink_replay_total"]).sum(axis=1)
        scn = {x["id"]: x for x in run.scenarios()}["S6"]
        h = run.time_hours()
        inside = (h >= scn["start_h"] + 0.1) & (h < scn["end_h"])
        outside = h < scn["start_h"]
        assert np.nanmean(rep[inside]) > 10 * np.nanmean(rep[outside])
    np.testing.assert_array_equal(fd.increments(np.array([3, 5, 5, 9, 2], dtype=np.uint32)),
                                  [np.nan, 2, 0, 4, 2])


def test_block_means_and_medians_match_numpy():
    with fd.Run(FULL) as run:
        topo = run.topology()
        with h5py.File(run.path, "r") as f:
            g = f["/telemetry/gpu/gpu_temp_celsius"][:]
            k = f["/telemetry/node/kv_cache_hit_ratio"][:]
        hours, racks, m = run.block_means("gpu_temp_celsius", 20, "rack")
        T = g.shape[0]
        assert m.shape == ((T + 19) // 20, topo["racks"]) and len(hours) == m.shape[0]
        for r in racks:
            want = g[:, topo["node_rack"] == r, :].reshape(T // 20, -1)
            np.testing.assert_allclose(m[:, r], np.nanmean(want, axis=1), rtol=1e-6)
        dense = run.tenant_nodes("dense-inference")
        np.testing.assert_allclose(run.median_over_nodes("kv_cache_hit_ratio", dense),
                                   np.nanmedian(k[:, dense], axis=1), rtol=1e-6)
        # tenant means ignore the NaN of the other tenants
        _, _, tm = run.block_means("kv_cache_hit_ratio", 20, "tenant")
        assert np.isnan(tm[:, 2]).all() and np.isfinite(tm[:, :2]).all()


def test_scenarios_topology_events():
    with fd.Run(FULL) as run, h5py.File(os.path.join(FULL, "fleet.h5"), "r") as f:
        scn = run.scenarios()
        gt = f["/ground_truth/scenarios"][:]
        assert [s["id"] for s in scn] == [x.decode() for x in gt["id"]]
        s6 = scn[-1]
        assert s6["kind"] == "training_straggler" and list(s6["nodes"]) == [61]
        topo = run.topology()
        assert topo["job_id"][topo["node_job"][61]] == "train-001"
        assert 61 in topo["job_nodes"][topo["node_job"][61]]
        ev = run.events()
        assert len(ev["t_s"]) == f["/events/l1"].shape[0] > 0
        assert set(ev["scope"]) <= set(fd.SCOPES)


def test_report_reads_hyperslabs_not_whole_gpu_datasets(tmp_path, monkeypatch):
    """No single read of report.py returns a whole GPU dataset."""
    sys.path.insert(0, ANALYSIS)
    import report
    whole = _whole_gpu_dataset("full")
    biggest = _spy_gpu_reads(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["report.py", FULL, "--out", str(tmp_path)])
    assert report.main() == 0
    assert 0 < biggest[0] <= whole // 4, f"a read of {biggest[0]} of {whole} values"


def run_report(*args):
    return subprocess.run([sys.executable, os.path.join(ANALYSIS, "report.py"), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_missing_run_dir_is_one_clear_error(tmp_path):
    p = run_report(str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [f"report: {tmp_path / 'nope'}: no such run directory"]
    p = run_report(str(tmp_path), "--out", str(tmp_path / "out"))
    assert p.returncode == 2 and "fleet.h5: no such file" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_incomplete_archive_is_refused(tmp_path):
    run = tmp_path / "partial"
    run.mkdir()
    shutil.copy(os.path.join(REDUCED, "fleet.h5"), run / "fleet.h5")
    with h5py.File(run / "fleet.h5", "r+") as f:
        f.attrs["complete"] = np.int32(0)
    p = run_report(str(run), "--out", str(tmp_path / "out"))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "complete = 0, not 1" in lines[0], p.stderr
    assert not (tmp_path / "out").exists()
    with pytest.raises(fd.FleetDataError, match="complete"):
        fd.load_node(str(run), 0)
    (run / "fleet.h5").rename(run / "fleet.h5.partial")
    p = run_report(str(run))
    assert p.returncode == 2 and "the run did not finish" in p.stderr
