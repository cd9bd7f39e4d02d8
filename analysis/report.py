#!/usr/bin/python3
"""Offline report of a finished fleetsim run: PNG plots, a Markdown page and
one self-contained HTML page.

Usage:
  /usr/bin/python3 analysis/report.py RUN_DIR [--out DIR] [--block-scrapes 20]

Reads RUN_DIR/fleet.h5 (through fleetdata.py, never a whole GPU dataset at
once) and RUN_DIR/results/{summary.json,detection.json}; writes DIR/*.png,
DIR/report.md and DIR/report.html (default DIR: RUN_DIR/report). Every
ground-truth scenario gets the plot of its kind (plots_scenarios.py; a kind
without a hand-made plot, the generic one of plots_generic.py from its
scenarios/kinds/<kind>.json), with the L1 events that detect it
(detections.py); the fleet gets temperature
heatmaps, the scenario timeline and the backends' accuracy and cost
(plots_fleet.py). Exit status: 0 on success, 2 for a missing or incomplete
run directory or an unreadable scenarios/kinds registry.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detections as dt  # noqa: E402
import fleetdata as fd  # noqa: E402
import kinds  # noqa: E402
import plotkit as pk  # noqa: E402
import plots_fleet  # noqa: E402
import plots_scenarios  # noqa: E402
import report_page  # noqa: E402


# -- tables ------------------------------------------------------------------
def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def detection_blocks(det):
    if not det:
        return [("p", "results/detection.json is missing: no detection table.")]
    if not det.get("scenarios"):
        return [("p", "The run has no scenarios.")]
    yn = {True: "yes", False: "no"}
    rows = []
    for s in det["scenarios"]:
        lat = s.get("first_detection_latency_s")
        rows.append([s["id"], s["kind"], yn[bool(s["detected"])],
                     "-" if lat is None else f"{lat / 60:.1f}", s.get("first_metric") or "-",
                     yn[bool(s["localized"])], yn[bool(s["escalated"])], s["events"]])
    head = ["scenario", "kind", "detected", "first detection (min)", "by", "localized",
            "escalated", "events"]
    return [("table", head, rows),
            ("p", f"L1 events: {det.get('events_total')} ({det.get('events_per_day', 0):.1f} per "
                  f"day), escalated {det.get('escalated_events')}, matching no scenario "
                  f"{det.get('unmatched_events')}; scenarios detected "
                  f"{det.get('scenarios_detected')} of {det.get('scenarios_total')}.")]


def performance_blocks(summary):
    backends = (summary or {}).get("backends") or []
    if not backends:
        return [("p", "results/summary.json is missing or has no backends: no performance "
                      "summary.")]
    rows = []

    def row(label, fn):
        rows.append([label] + [fn(b) for b in backends])

    for layer in ("L2", "L3", "L4"):
        def acc(b, layer=layer):
            st = b.get("layers", {}).get(layer)
            if not st or st.get("accuracy_mean") is None:
                return "n/a"
            return (f"{pct(st['accuracy_mean'])} ± {pct(st.get('accuracy_sd', 0))} (macro "
                    f"{pct(st.get('accuracy_macro'))}; benchmark regex "
                    f"{pct(st.get('accuracy_regex_mean'))})")

        def lat(b, layer=layer):
            st = b.get("layers", {}).get(layer)
            if not st or st.get("latency_p50_s") is None:
                return "n/a"
            return f"{st['latency_p50_s']:.3f} / {st['latency_p95_s']:.3f}"
        row(f"{layer} accuracy, strict", acc)
        row(f"{layer} latency p50 / p95 (s)", lat)
    row("calls / errors (L2, L3, L4)", lambda b: ", ".join(
        f"{b['layers'][k]['calls']}/{b['layers'][k]['errors']}" if k in b.get("layers", {})
        else "0/0" for k in ("L2", "L3", "L4")))
    row("cost per 24 h", lambda b: f"${b.get('cost_per_24h_usd', 0):.2f}")
    row("GPU-hours per 24 h", lambda b: f"{b.get('gpu_hours_per_24h', 0):.2f}")
    row("mean accuracy (L2/L3/L4)", lambda b: pct(b.get("accuracy_mean")))
    row("on the Pareto frontier", lambda b: "yes" if b.get("pareto") else "no")
    blocks = [("table", ["metric"] + [b["name"] for b in backends], rows)]
    scn = (summary or {}).get("scenarios") or []
    if scn:
        cols = [f"{s['id']}: {s['kind']}" for s in scn] + ["none"]
        for layer in ("L2", "L3", "L4"):
            table = []
            for b in backends:
                by = {s["id"]: s for s in b.get("layers", {}).get(layer, {}).get("by_scenario", [])}

                def cell(i):
                    s = by.get(i) or {}
                    if s.get("accuracy") is None:
                        return "n/a"
                    return f"{pct(s['accuracy'])} ({pct(s.get('accuracy_regex'))})"
                table.append([b["name"]] + [cell(s["id"]) for s in scn] + [cell("none")])
            blocks += [("p", f"Strict accuracy by scenario, {layer} (benchmark regex in "
                             "parentheses):"),
                       ("table", ["backend"] + cols, table)]
    return blocks


def read_json(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


# -- the page ------------------------------------------------------------------
def scenario_blocks(run, out, ev, specs):
    """One subsection per ground-truth scenario, in file order, with the plot
    of its kind and its L1 detection; then the registered kinds (specs:
    kinds.specs(), in kinds.def order) the run has no scenario of."""
    sig = {k: v["signature_metrics"] for k, v in specs.items()}
    scn = run.scenarios()
    if not scn:
        return [("p", "The run has no scenarios: no scenario plots.")]
    blocks = []
    for s in scn:
        hit = dt.matches(run, s, ev, sig)
        info = dt.first_detection(ev, hit, s)
        det = {"times_s": ev["t_s"][hit], "escalated": ev["escalated"][hit] != 0, "info": info}
        name, caption = plots_scenarios.plot_scenario(run, out, s, det, specs)
        how = plots_scenarios.what(s["kind"])
        blocks.append(("h3", f"{s['id']} {s['kind']}, {s['start_h']:.2f}-{s['end_h']:.2f} h: "
                             f"{how}"))
        if name:
            blocks.append(("figure", name, caption + " Green: the L1 events that detect it "
                           "(triangles, stars if escalated) and the first detection (line); "
                           + pk.detection_text(s, info) + ".", s["id"]))
        else:
            blocks.append(("p", caption))
    missing = [k for k in specs if k not in {s["kind"] for s in scn}]
    if missing:
        blocks.append(("p", "Kinds without a scenario in this run: " + ", ".join(missing)
                       + "."))
    return blocks


def header_blocks(run):
    a = run.attrs()
    cfg = a.get("config", {})
    scn = run.scenarios()
    return [("h1", f"fleetsim run report: {run.dir}"),
            ("p", f"{cfg.get('nodes')} nodes x 8 GPUs in {cfg.get('racks')} racks, "
                  f"{len(run.time_hours())} scrapes of {run.scrape_interval_s():g} s "
                  f"({cfg.get('hours')} h), seed {a.get('seed')}, {a.get('ranks')} ranks, "
                  f"fleetsim {a.get('version')} ({a.get('git_commit')})."),
            ("p", "Scenarios: " + (", ".join(f"{s['id']} {s['kind']} {s['start_h']:.2f}-"
                                             f"{s['end_h']:.2f} h" for s in scn) or "none") + ".")]


def section(title, items):
    blocks = [("h2", title)]
    for img, caption in items:
        blocks.append(("figure", img, caption, None) if img else ("p", caption))
    return blocks


def build(run, out, block, det, summary, specs):
    ev = run.events()
    sig = {k: v["signature_metrics"] for k, v in specs.items()}
    blocks = header_blocks(run)
    blocks += section("Rack temperatures, deviation from the fleet median",
                      plots_fleet.plot_heatmaps(run, out, block))
    blocks += [("h2", "Scenarios and their L1 detection")] + scenario_blocks(run, out, ev, specs)
    blocks += section("Scenario timeline and L1 detections",
                      plots_fleet.plot_timeline(run, out, ev, dt.assign(run, ev, sig)))
    blocks += section("Accuracy and cost of the backends",
                      plots_fleet.plot_accuracy_cost(run, out, summary))
    blocks += [("h2", "L1 detection (results/detection.json)")] + detection_blocks(det)
    blocks += [("h2", "Performance summary (results/summary.json)")] + performance_blocks(summary)
    return blocks


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run_dir", help="a finished fleetsim run directory (with fleet.h5)")
    p.add_argument("--out", help="output directory (default RUN_DIR/report)")
    p.add_argument("--block-scrapes", type=int, default=20,
                   help="scrapes per heatmap block (default 20 = 5 min at 15 s)")
    args = p.parse_args()
    if args.block_scrapes < 1:
        p.error("--block-scrapes must be at least 1")
    try:
        specs = kinds.specs()
        run = fd.Run(args.run_dir)
    except (kinds.KindError, fd.FleetDataError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    out = args.out or os.path.join(args.run_dir, "report")
    os.makedirs(out, exist_ok=True)
    res = os.path.join(args.run_dir, "results")
    summary = read_json(os.path.join(res, "summary.json"))
    det = read_json(os.path.join(res, "detection.json"))
    with run:
        blocks = build(run, out, args.block_scrapes, det, summary, specs)
        title = f"fleetsim run report: {run.dir}"
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(report_page.markdown(blocks))
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(report_page.page(blocks, out, title))
    made = sum(1 for b in blocks if b[0] == "figure")
    print(f"report: wrote {os.path.join(out, 'report.md')} and report.html ({made} plots)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
