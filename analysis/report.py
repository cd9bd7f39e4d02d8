#!/usr/bin/python3
"""Offline report of a finished fleetsim run: PNG plots and a markdown page.

Usage:
  /usr/bin/python3 analysis/report.py RUN_DIR [--out DIR] [--block-scrapes 20]

Reads RUN_DIR/fleet.h5 (through fleetdata.py, never a whole GPU dataset at
once) and RUN_DIR/results/{summary.json,detection.json,calls.jsonl}; writes
DIR/*.png and DIR/report.md (default DIR: RUN_DIR/report). A plot whose
scenario kind is not in the run is skipped with a sentence on the page.
Exit status: 0 on success, 2 for a missing or incomplete run directory.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleetdata as fd  # noqa: E402

SCOPE_COLOURS = {"gpu": "tab:purple", "node": "tab:blue", "rack": "tab:orange",
                 "job": "tab:green", "cluster": "tab:red"}
UNITS = {"C": "°C", "1": "ratio", "%": "%"}
DPI = 110


def unit(run, name):
    """Display unit of a metric, from its `units` attribute."""
    u = run.metrics()[name]["units"]
    return UNITS.get(u, u)


def node_name(i):
    return f"node-{int(i):04d}"


def window(run, s):
    """Plot range (hours) around a scenario: its window plus a margin of
    max(1 h, its duration) each side, clipped to the run."""
    h = run.time_hours()
    margin = max(1.0, s["end_h"] - s["start_h"])
    return max(h[0], s["start_h"] - margin), min(h[-1] + run.scrape_interval_s() / 3600.0,
                                                  s["end_h"] + margin)


def shade(ax, s, label=True):
    ax.axvspan(s["start_h"], s["end_h"], color="tab:red", alpha=0.12,
               label=f"{s['id']} window" if label else None)


def save(fig, out, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=DPI)
    plt.close(fig)
    return name


def of_kind(run, kind):
    return [s for s in run.scenarios() if s["kind"] == kind]


# -- 1. rack x time heatmaps ----------------------------------------------
def plot_heatmaps(run, out, block):
    topo = run.topology()
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    minutes = block * run.scrape_interval_s() / 60.0
    thermal = of_kind(run, "thermal_cascade")
    end_h = run.time_hours()[-1] + run.scrape_interval_s() / 3600.0
    for ax, name in zip(axes, ("inlet_temp_celsius", "gpu_temp_celsius")):
        hours, racks, m = run.block_means(name, block, "rack")
        edges = np.append(hours, end_h)
        mesh = ax.pcolormesh(edges, np.arange(len(racks) + 1) - 0.5, m.T, cmap="inferno",
                             shading="flat")
        cb = fig.colorbar(mesh, ax=ax, pad=0.01)
        cb.set_label(f"rack mean ({unit(run, name)})")
        ax.set_title(f"{run.metrics()[name]['long_name']} ({name}), rack means per "
                     f"{minutes:g}-min block")
        ax.set_ylabel("rack")
        step = max(1, len(racks) // 12)
        ax.set_yticks(racks[::step])
        ax.set_yticklabels([f"rack-{r:02d}" for r in racks[::step]])
        ax.set_ylim(len(racks) - 0.5, -0.5)
        for s in thermal:
            rk = np.unique(topo["node_rack"][s["nodes"]]) if len(s["nodes"]) else racks
            ax.add_patch(plt.Rectangle((s["start_h"], rk.min() - 0.5), s["end_h"] - s["start_h"],
                                       rk.max() - rk.min() + 1, fill=False, ec="cyan", lw=1.5,
                                       ls="--"))
            ax.text(s["start_h"], rk.min() - 0.6, s["id"], color="cyan", fontsize=9,
                    va="bottom")
    axes[-1].set_xlabel("simulated time (h)")
    axes[-1].set_xlim(0, end_h)
    name = save(fig, out, "heatmap_temperature.png")
    if thermal:
        marks = ", ".join(f"{s['id']} {s['start_h']:.2f}-{s['end_h']:.2f} h" for s in thermal)
        extra = f" Dashed cyan boxes: ground-truth thermal_cascade windows on their racks ({marks})."
    else:
        extra = " The run has no thermal_cascade scenario, so no window is marked."
    return [(name, "Inlet air and GPU junction temperature, mean over each rack's nodes "
             f"(and GPUs) per {minutes:g}-minute block." + extra)]


# -- 2. training straggler ------------------------------------------------
def plot_straggler(run, out):
    topo = run.topology()
    items = []
    for s in of_kind(run, "training_straggler"):
        node = int(s["nodes"][0])
        job = int(topo["node_job"][node])
        jid = topo["job_id"][job]
        jnodes = topo["job_nodes"][job]
        peers = [n for n in jnodes if n != node]
        a, b = window(run, s)
        h = run.time_hours()
        sel = (h >= a) & (h < b)
        step = run.median_over_nodes("step_time_ms", jnodes, a, b) / 1000.0
        own = run.load_node(node, ["gpu_nvlink_replay_total"])["gpu_nvlink_replay_total"]
        rep = np.nansum(fd.increments(own, axis=0), axis=1)[sel]
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
        ax1.plot(h[sel], step, color="tab:blue", lw=1, label=f"{jid} step time (median of job nodes)")
        ax1.axhline(topo["job_step_time_s"][job], color="k", ls=":",
                    label=f"configured step time {topo['job_step_time_s'][job]:.2f} s")
        shade(ax1, s)
        base = float(topo["job_step_time_s"][job])
        top = 1.3 * max(base, float(np.nanpercentile(step, 97))) if np.isfinite(step).any() \
            else 2 * base
        peak = float(np.nanmax(step)) if np.isfinite(step).any() else base
        if peak > top:
            ax1.set_ylim(0.8 * base, top)
            ax1.text(0.99, 0.95, f"axis clipped: checkpoint stalls reach {peak:.1f} s",
                     transform=ax1.transAxes, ha="right", va="top", fontsize=8)
        ax1.set_ylabel("step time (s)")
        ax1.set_title(f"{s['id']} training_straggler: {jid} ({len(jnodes)} nodes), "
                      f"straggler {node_name(node)}")
        ax1.legend(loc="upper left", fontsize=8)
        ax2.plot(h[sel], rep, color="tab:red", lw=1,
                 label=f"{node_name(node)} (straggler), 8 GPUs summed, per scrape")
        if peers:
            hb, _, m = run.block_means("gpu_nvlink_replay_total", 20, "tenant", nodes=peers)
            col = m[:, 2] * 8
            keep = (hb >= a - 1e-9) & (hb < b)
            ax2.step(hb[keep], col[keep], where="post", color="tab:gray",
                     label=f"job peers, mean per node per scrape ({len(peers)} nodes, 5-min blocks)")
        shade(ax2, s, label=False)
        ax2.set_ylabel("NVLink replays per scrape")
        ax2.set_xlabel("simulated time (h)")
        ax2.set_xlim(a, b)
        ax2.legend(loc="upper left", fontsize=8)
        name = save(fig, out, f"straggler_{s['id']}.png")
        items.append((name, f"{s['id']}: step time of {jid} (the slowest node sets it) and "
                      f"NVLink replays per {run.scrape_interval_s():g} s scrape on the straggler "
                      f"{node_name(node)} (increments of the cumulative gpu_nvlink_replay_total) "
                      "against its job peers; step time is NaN outside training nodes and is "
                      "read only on the job's nodes. Shaded: the ground-truth window."))
    if not items:
        items.append((None, "The run has no training_straggler scenario: "
                            "the straggler plot is skipped."))
    return items


# -- 3. MoE routing collapse ----------------------------------------------
def plot_moe(run, out):
    items = []
    moe = run.tenant_nodes("moe-inference")
    for s in of_kind(run, "expert_routing_collapse"):
        if len(s["nodes"]) == 0 or len(moe) == 0:
            continue
        node = int(s["nodes"][0])
        hot = sorted(int(g) % 8 for g in s["gpus"] if int(g) // 8 == node)
        a, b = window(run, s)
        h = run.time_hours()
        sel = (h >= a) & (h < b)
        own = run.load_node(node, ["expert_selection_entropy_nats", "gpu_sm_util_percent"],
                            a, b)
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
        ax1.plot(h[sel], own["expert_selection_entropy_nats"], color="tab:purple", lw=1,
                 label=node_name(node))
        ax1.plot(h[sel], run.median_over_nodes("expert_selection_entropy_nats", moe, a, b),
                 color="k", ls="--", lw=1, label=f"moe-inference median ({len(moe)} nodes)")
        shade(ax1, s)
        ax1.set_ylabel("entropy (nats)")
        ax1.set_title(f"{s['id']} expert_routing_collapse: expert-selection entropy and SM "
                      f"utilisation on {node_name(node)}")
        ax1.legend(loc="lower left", fontsize=8)
        sm = own["gpu_sm_util_percent"]
        for g in range(sm.shape[1]):
            is_hot = g in hot
            ax2.plot(h[sel], sm[:, g], lw=1.2 if is_hot else 0.7,
                     color="tab:red" if is_hot else "tab:blue", alpha=1 if is_hot else 0.6,
                     label=(f"gpu{g} (hot)" if is_hot else ("other GPUs" if g == min(
                         set(range(8)) - set(hot) or {0}) else None)))
        ax2.plot(h[sel], run.median_over_nodes("gpu_sm_util_percent", moe, a, b), color="k",
                 ls="--", lw=1, label="moe-inference median (all GPUs)")
        shade(ax2, s, label=False)
        ax2.set_ylabel("SM utilisation (%)")
        ax2.set_xlabel("simulated time (h)")
        ax2.set_xlim(a, b)
        ax2.legend(loc="lower left", fontsize=8, ncol=2)
        name = save(fig, out, f"moe_{s['id']}.png")
        hot_txt = ", ".join(f"gpu{g}" for g in hot) or "none listed"
        items.append((name, f"{s['id']}: expert-selection entropy of the affected MoE node "
                      f"{node_name(node)} against the tenant median, and its per-GPU SM "
                      f"utilisation (hot GPUs from the ground truth: {hot_txt}). Shaded: the "
                      "ground-truth window."))
    if not items:
        items.append((None, "The run has no expert_routing_collapse scenario on MoE nodes: "
                            "the MoE plot is skipped."))
    return items


# -- 4. KV-cache eviction storm -------------------------------------------
def plot_kv(run, out):
    items = []
    dense = run.tenant_nodes("dense-inference")
    for s in of_kind(run, "kv_cache_eviction_storm"):
        if len(dense) == 0:
            continue
        hit = [int(n) for n in s["nodes"] if n in set(dense.tolist())]
        subset = 0 < len(hit) < len(dense)
        a, b = window(run, s)
        h = run.time_hours()
        sel = (h >= a) & (h < b)
        fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
        for ax, m, lab in zip(axes, ("kv_cache_hit_ratio", "ttft_ms", "itl_ms"),
                              ("KV hit ratio", "TTFT p95 (ms)", "ITL p95 (ms)")):
            ax.plot(h[sel], run.median_over_nodes(m, dense, a, b), color="tab:blue", lw=1,
                    label=f"dense-inference median ({len(dense)} nodes)")
            if subset:
                ax.plot(h[sel], run.median_over_nodes(m, hit, a, b), color="tab:red", lw=1,
                        label=f"affected nodes median ({len(hit)} nodes)")
            shade(ax, s, label=ax is axes[0])
            ax.set_ylabel(lab)
            ax.legend(loc="upper left", fontsize=8)
        axes[0].set_title(f"{s['id']} kv_cache_eviction_storm: dense-inference KV hit ratio, "
                          "TTFT and ITL")
        axes[-1].set_xlabel("simulated time (h)")
        axes[-1].set_xlim(a, b)
        name = save(fig, out, f"kv_{s['id']}.png")
        items.append((name, f"{s['id']}: per-scrape median over the dense-inference nodes of KV "
                      "cache hit ratio, TTFT and ITL (p95 per node)"
                      + (", and over the affected nodes alone" if subset else "")
                      + ". Shaded: the ground-truth window."))
    if not items:
        items.append((None, "The run has no kv_cache_eviction_storm scenario on dense nodes: "
                            "the KV-cache plot is skipped."))
    return items


# -- 5. scenario timeline --------------------------------------------------
def event_scenarios(calls):
    """{event_id: scenario id} from the scored L2 calls (the scorer's mapping)."""
    out = {}
    for c in calls or []:
        if c.get("layer") == "L2" and c.get("event_id") is not None:
            out.setdefault(int(c["event_id"]), c.get("scenario", "none"))
    return out


def plot_timeline(run, out, calls):
    scn = run.scenarios()
    ev = run.events()
    mapping = event_scenarios(calls)
    rows = [s["id"] for s in scn] + ["none"]
    labels = [f"{s['id']} {s['kind']}" for s in scn] + ["no scenario"]
    unscored = [i for i in ev["event_id"] if int(i) not in mapping]
    if unscored:
        rows.append("?")
        labels.append("not scored")
    y = {r: k for k, r in enumerate(rows)}
    end_h = run.time_hours()[-1] + run.scrape_interval_s() / 3600.0
    fig, ax = plt.subplots(figsize=(12, 2.2 + 0.45 * len(rows)))
    for s in scn:
        ax.barh(y[s["id"]], min(s["end_h"], end_h) - s["start_h"], left=s["start_h"], height=0.6,
                color="tab:gray", alpha=0.35)
    t_h = ev["t_s"] / 3600.0
    for scope, colour in SCOPE_COLOURS.items():
        for esc, marker, size in ((0, "o", 28), (1, "*", 110)):
            pick = (ev["scope"] == scope) & ((ev["escalated"] != 0) == bool(esc))
            if not pick.any():
                continue
            ys = [y[mapping.get(int(i), "?")] for i in ev["event_id"][pick]]
            jitter = (np.arange(len(ys)) % 3 - 1) * 0.12
            ax.scatter(t_h[pick], np.array(ys) + jitter, c=colour, marker=marker, s=size,
                       edgecolors="k", linewidths=0.4, zorder=3)
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=f"{k} event")
               for k, c in SCOPE_COLOURS.items()]
    handles += [plt.Line2D([], [], ls="", marker="*", color="k", markersize=10,
                           label="escalated (star)"),
                plt.Rectangle((0, 0), 1, 1, color="tab:gray", alpha=0.35,
                              label="ground-truth window")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 1.02 * end_h)   # an event at the end of the last block stays visible
    ax.set_xlabel("simulated time (h); events at the end of their 5-min block")
    ax.set_title(f"Scenario timeline and L1 events ({len(ev['t_s'])} events, "
                 f"{int((ev['escalated'] != 0).sum())} escalated)")
    ax.grid(axis="x", alpha=0.3)
    name = save(fig, out, "timeline.png")
    how = ("each event on the row of the scenario the scorer matched it to (results/calls.jsonl)"
           if mapping else "events are not matched to scenarios (no scored calls)")
    return [(name, "Ground-truth scenario windows (grey bars) and L1 events (/events/l1), "
             f"coloured by scope, escalated ones as stars; {how}.")]


# -- 6. accuracy against cost ----------------------------------------------
def pareto(points):
    """Indices of the cost/accuracy Pareto frontier (min cost, max accuracy)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best, keep = -1.0, []
    for i in order:
        if points[i][1] > best:
            keep.append(i)
            best = points[i][1]
    return keep


def plot_accuracy_cost(out, summary):
    backends = (summary or {}).get("backends") or []
    if not backends:
        return [(None, "No backend results (results/summary.json missing or empty): "
                       "the accuracy-cost plot is skipped.")]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = {"L2": "o", "L3": "s", "L4": "^"}
    pts = []
    for k, b in enumerate(backends):
        c = colours[k % len(colours)]
        cost = float(b.get("cost_per_24h_usd") or 0.0)
        for layer, st in sorted(b.get("layers", {}).items()):
            if st.get("accuracy_mean") is None:
                continue
            ax.scatter(cost, 100 * st["accuracy_mean"], color=c, marker=markers.get(layer, "x"),
                       s=40, alpha=0.7)
        acc = b.get("accuracy_mean")
        if acc is not None:
            pts.append((cost, 100 * acc, b["name"]))
            ax.scatter(cost, 100 * acc, color=c, marker="D", s=90, edgecolors="k", zorder=3)
            ax.annotate(b["name"], (cost, 100 * acc), textcoords="offset points", xytext=(6, 6),
                        fontsize=9)
    front = sorted((pts[i] for i in pareto(pts)), key=lambda p: p[0])
    if front:
        ax.plot([p[0] for p in front], [p[1] for p in front], color="k", ls="--", lw=1,
                zorder=2)
    handles = [plt.Line2D([], [], ls="", marker=m, color="gray", label=f"{lay} accuracy")
               for lay, m in markers.items()]
    handles += [plt.Line2D([], [], ls="", marker="D", color="gray", markeredgecolor="k",
                           label="mean accuracy (L2/L3/L4)"),
                plt.Line2D([], [], ls="--", color="k", label="Pareto frontier")]
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(-0.001, max(1.0, 3 * max(p[0] for p in pts)) if pts else 1.0)
    ax.set_ylim(0, 105)
    ax.set_xlabel("cost per 24 h (USD, symmetric log scale)")
    ax.set_ylabel("checklist accuracy, strict (%)")
    ax.set_title("Backend accuracy against cost")
    ax.grid(alpha=0.3)
    name = save(fig, out, "accuracy_cost.png")
    names = ", ".join(p[2] for p in front)
    return [(name, "Each backend's accuracy per layer (small markers) and mean accuracy "
             f"(diamonds) against its cost per 24 h, from results/summary.json; the dashed line "
             f"is the Pareto frontier ({names}).")]


# -- tables ------------------------------------------------------------------
def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def detection_table(det):
    if not det:
        return ["results/detection.json is missing: no detection table."]
    lines = ["| scenario | kind | detected | first detection (min) | localized | escalated "
             "| events |", "|---|---|---|---|---|---|---|"]
    yn = {True: "yes", False: "no"}
    if not det.get("scenarios"):
        lines = ["The run has no scenarios."]
    for s in det.get("scenarios", []):
        lat = s.get("first_detection_latency_s")
        lines.append(f"| {s['id']} | {s['kind']} | {yn[bool(s['detected'])]} | "
                     f"{'-' if lat is None else f'{lat / 60:.1f}'} | {yn[bool(s['localized'])]} "
                     f"| {yn[bool(s['escalated'])]} | {s['events']} |")
    lines += ["", f"L1 events: {det.get('events_total')} ({det.get('events_per_day', 0):.1f} per "
              f"day), escalated {det.get('escalated_events')}, matching no scenario "
              f"{det.get('unmatched_events')}; scenarios detected "
              f"{det.get('scenarios_detected')} of {det.get('scenarios_total')}."]
    return lines


def performance_table(summary):
    backends = (summary or {}).get("backends") or []
    if not backends:
        return ["results/summary.json is missing or has no backends: no performance summary."]
    names = [b["name"] for b in backends]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(b) for b in backends) + " |")

    for layer in ("L2", "L3", "L4"):
        def acc(b, layer=layer):
            st = b.get("layers", {}).get(layer)
            if not st or st.get("accuracy_mean") is None:
                return "n/a"
            return (f"{pct(st['accuracy_mean'])} ± {pct(st.get('accuracy_sd', 0))} (macro "
                    f"{pct(st.get('accuracy_macro'))}; benchmark regex {pct(st.get('accuracy_regex_mean'))})")

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
    scn = (summary or {}).get("scenarios") or []
    if scn:
        cols = [f"{s['id']}: {s['kind']}" for s in scn] + ["none"]
        for layer in ("L2", "L3", "L4"):
            lines += ["", f"Strict accuracy by scenario, {layer} (benchmark regex in parentheses):", "",
                      "| backend | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
            for b in backends:
                by = {s["id"]: s for s in b.get("layers", {}).get(layer, {}).get("by_scenario", [])}

                def cell(i):
                    s = by.get(i) or {}
                    if s.get("accuracy") is None:
                        return "n/a"
                    return f"{pct(s['accuracy'])} ({pct(s.get('accuracy_regex'))})"
                lines.append(f"| {b['name']} | " + " | ".join(cell(s["id"]) for s in scn)
                             + f" | {cell('none')} |")
    return lines


def read_json(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_jsonl(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_page(run, out, sections, det, summary):
    a = run.attrs()
    cfg = a.get("config", {})
    scn = run.scenarios()
    lines = [f"# fleetsim run report: {run.dir}", "",
             f"{cfg.get('nodes')} nodes x 8 GPUs in {cfg.get('racks')} racks, "
             f"{len(run.time_hours())} scrapes of {run.scrape_interval_s():g} s "
             f"({cfg.get('hours')} h), seed {a.get('seed')}, {a.get('ranks')} ranks, fleetsim "
             f"{a.get('version')} ({a.get('git_commit')}).",
             "Scenarios: " + (", ".join(f"{s['id']} {s['kind']} {s['start_h']:.2f}-"
                                        f"{s['end_h']:.2f} h" for s in scn) or "none") + ".", ""]
    for title, items in sections:
        lines += [f"## {title}", ""]
        for img, caption in items:
            if img:
                lines += [f"![{title}]({img})", "", f"*{caption}*", ""]
            else:
                lines += [caption, ""]
    lines += ["## L1 detection (results/detection.json)", ""] + detection_table(det) + [""]
    lines += ["## Performance summary (results/summary.json)", ""] + performance_table(summary)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


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
        run = fd.Run(args.run_dir)
    except fd.FleetDataError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    out = args.out or os.path.join(args.run_dir, "report")
    os.makedirs(out, exist_ok=True)
    res = os.path.join(args.run_dir, "results")
    summary = read_json(os.path.join(res, "summary.json"))
    det = read_json(os.path.join(res, "detection.json"))
    calls = read_jsonl(os.path.join(res, "calls.jsonl"))
    with run:
        sections = [
            ("Rack temperatures", plot_heatmaps(run, out, args.block_scrapes)),
            ("Training straggler", plot_straggler(run, out)),
            ("MoE expert-routing collapse", plot_moe(run, out)),
            ("KV-cache eviction storm", plot_kv(run, out)),
            ("Scenario timeline and L1 detections", plot_timeline(run, out, calls)),
            ("Accuracy against cost", plot_accuracy_cost(out, summary)),
        ]
        write_page(run, out, sections, det, summary)
    made = sum(1 for _, items in sections for img, _ in items if img)
    skipped = sum(1 for _, items in sections for img, _ in items if not img)
    print(f"report: wrote {os.path.join(out, 'report.md')} ({made} plots, {skipped} skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
