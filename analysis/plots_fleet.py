"""plots_fleet: the report's fleet-wide plots: rack x time temperature
heatmaps as deviation from the fleet median, the scenario timeline with the
L1 events, and the backends' accuracy against cost. Each returns a list of
(file name or None, caption).
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import plotkit as pk  # noqa: E402

SCOPE_COLOURS = {"gpu": "tab:purple", "node": "tab:blue", "rack": "tab:orange",
                 "job": "tab:green", "cluster": "tab:red"}


# -- rack x time heatmaps -------------------------------------------------------------
def plot_heatmaps(run, out, block):
    """Rack means per block minus the median of all rack means of the block,
    so the day/night cycle, which moves every rack alike, cancels."""
    topo = run.topology()
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    minutes = block * run.scrape_interval_s() / 60.0
    thermal = [s for s in run.scenarios() if s["kind"] == "thermal_cascade"]
    end_h = pk.end_h(run)
    for ax, name in zip(axes, ("inlet_temp_celsius", "gpu_temp_celsius")):
        hours, racks, m = run.block_means(name, block, "rack")
        with np.errstate(all="ignore"):
            dev = m - np.nanmedian(m, axis=1, keepdims=True)
        lim = max(0.5, float(np.nanpercentile(np.abs(dev), 99.5))) if np.isfinite(dev).any() \
            else 1.0
        mesh = ax.pcolormesh(np.append(hours, end_h), np.arange(len(racks) + 1) - 0.5, dev.T,
                             cmap="RdBu_r", vmin=-lim, vmax=lim, shading="flat")
        fig.colorbar(mesh, ax=ax, pad=0.01).set_label(
            f"rack mean - fleet median ({pk.unit(run, name)})")
        ax.set_title(f"{run.metrics()[name]['long_name']} ({name}): rack mean per "
                     f"{minutes:g}-min block minus the fleet median")
        ax.set_ylabel("rack")
        step = max(1, len(racks) // 12)
        ax.set_yticks(racks[::step])
        ax.set_yticklabels([f"rack-{r:02d}" for r in racks[::step]])
        ax.set_ylim(len(racks) - 0.5, -0.5)
        for s in thermal:
            rk = np.unique(topo["node_rack"][s["nodes"]]) if len(s["nodes"]) else racks
            ax.add_patch(plt.Rectangle((s["start_h"], rk.min() - 0.5), s["end_h"] - s["start_h"],
                                       rk.max() - rk.min() + 1, fill=False, ec="k", lw=1.5,
                                       ls="--"))
            ax.text(s["start_h"], rk.min() - 0.6, s["id"], color="k", fontsize=9, va="bottom")
    axes[-1].set_xlabel("simulated time (h)")
    axes[-1].set_xlim(0, end_h)
    name = pk.save(fig, out, "heatmap_temperature.png")
    if thermal:
        marks = ", ".join(f"{s['id']} {s['start_h']:.2f}-{s['end_h']:.2f} h" for s in thermal)
        extra = f" Dashed boxes: ground-truth thermal_cascade windows on their racks ({marks})."
    else:
        extra = " The run has no thermal_cascade scenario, so no window is marked."
    return [(name, "Inlet air and GPU junction temperature: each rack's mean (over its nodes "
             f"and GPUs) per {minutes:g}-minute block minus the median of all racks' means in "
             "that block, so the day/night cycle, which every rack shares, cancels and a rack "
             "running hot or cold stands out (red warmer, blue cooler than the fleet)." + extra)]


# -- scenario timeline ------------------------------------------------------------
def plot_timeline(run, out, ev, assigned):
    """assigned: per event the index of the scenario it detects (-1 none),
    detections.assign."""
    scn = run.scenarios()
    rows = [s["id"] for s in scn] + ["none"]
    labels = [f"{s['id']} {s['kind']}" for s in scn] + ["no scenario"]
    y = np.where(assigned >= 0, assigned, len(scn)).astype(float)
    end_h = pk.end_h(run)
    fig, ax = plt.subplots(figsize=(12, max(3.0, 2.2 + 0.45 * len(rows))))
    for k, s in enumerate(scn):
        ax.barh(k, min(s["end_h"], end_h) - s["start_h"], left=s["start_h"], height=0.6,
                color="tab:gray", alpha=0.35)
    t_h = ev["t_s"] / 3600.0
    jitter = (np.arange(len(t_h)) % 3 - 1) * 0.12
    for scope, colour in SCOPE_COLOURS.items():
        for esc, marker, size in ((0, "o", 28), (1, "*", 110)):
            pick = (ev["scope"] == scope) & ((ev["escalated"] != 0) == bool(esc))
            if pick.any():
                ax.scatter(t_h[pick], y[pick] + jitter[pick], c=colour, marker=marker, s=size,
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
    ax.set_title(f"Scenario timeline and L1 events ({len(t_h)} events, "
                 f"{int((ev['escalated'] != 0).sum())} escalated)")
    ax.grid(axis="x", alpha=0.3)
    name = pk.save(fig, out, "timeline.png")
    return [(name, "Ground-truth scenario windows (grey bars) and L1 events (/events/l1), "
             "coloured by scope, escalated ones as stars; each event on the row of the "
             "scenario it detects by the scorer's rule (time, place and a signature metric; "
             "docs/detection.md), else on 'no scenario'.")]


# -- accuracy and cost ------------------------------------------------------------
def pareto(points):
    """Indices of the cost/accuracy Pareto frontier (min cost, max accuracy)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best, keep = -1.0, []
    for i in order:
        if points[i][1] > best:
            keep.append(i)
            best = points[i][1]
    return keep


LAYERS = ("L2", "L3", "L4")


def _accuracy_bars(ax, backends):
    """Strict (solid) and regex (hatched) accuracy per layer and backend, with
    the standard deviation and the number of calls."""
    width = 0.8 / max(1, len(backends))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, b in enumerate(backends):
        labelled = False
        for i, layer in enumerate(LAYERS):
            st = b.get("layers", {}).get(layer) or {}
            if st.get("accuracy_mean") is None:
                continue
            x = i - 0.4 + width * (k + 0.5)
            ax.bar(x, 100 * st["accuracy_mean"], width * 0.9, color=colours[k % len(colours)],
                   yerr=100 * (st.get("accuracy_sd") or 0), capsize=3,
                   label=None if labelled else b["name"])
            labelled = True
            if st.get("accuracy_regex_mean") is not None:
                ax.scatter(x, 100 * st["accuracy_regex_mean"], marker="_", s=300, color="k",
                           zorder=3)
            ax.text(x, 2, f"n={st.get('calls', 0)}", ha="center", va="bottom", fontsize=7,
                    rotation=90, color="white")
    ax.scatter([], [], marker="_", s=300, color="k", label="benchmark regex score")
    ax.set_xticks(range(len(LAYERS)))
    ax.set_xticklabels(LAYERS)
    ax.set_ylim(0, 105)
    ax.set_ylabel("checklist accuracy, strict (%)")
    ax.set_title("Accuracy per layer (bars: strict mean ± sd)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _by_scenario(ax, fig, backends, scenarios):
    """Strict accuracy per scenario (columns) and backend x layer (rows)."""
    cols = [s["id"] for s in scenarios] + ["none"]
    rows, grid = [], []
    for b in backends:
        for layer in LAYERS:
            by = {x["id"]: x for x in (b.get("layers", {}).get(layer) or {}).get("by_scenario", [])}
            if not by:
                continue
            rows.append(f"{b['name']} {layer}")
            grid.append([100 * by[c]["accuracy"] if by.get(c, {}).get("accuracy") is not None
                         else np.nan for c in cols])
    if not rows:
        ax.text(0.5, 0.5, "no per-scenario accuracy", ha="center", va="center")
        ax.set_axis_off()
        return
    g = np.array(grid)
    im = ax.imshow(np.ma.masked_invalid(g), cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for (r, c), v in np.ndenumerate(g):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=8,
                    color="white" if v < 60 else "k")
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    ax.set_title("Strict accuracy by scenario (%; blank: no call)")
    fig.colorbar(im, ax=ax, pad=0.01)


def _cost(ax, backends):
    """Mean accuracy against cost per 24 h with the Pareto frontier."""
    pts = []
    for b in backends:
        if b.get("accuracy_mean") is None:
            continue
        cost = float(b.get("cost_per_24h_usd") or 0.0)
        pts.append((cost, 100 * b["accuracy_mean"], b["name"]))
        ax.scatter(cost, 100 * b["accuracy_mean"], marker="D", s=70, edgecolors="k", zorder=3)
        ax.annotate(b["name"], (cost, 100 * b["accuracy_mean"]), textcoords="offset points",
                    xytext=(6, 6), fontsize=9)
    front = sorted((pts[i] for i in pareto(pts)), key=lambda p: p[0])
    if len(front) > 1:
        ax.plot([p[0] for p in front], [p[1] for p in front], color="k", ls="--", lw=1,
                label="Pareto frontier")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(-0.001, max(1.0, 3 * max((p[0] for p in pts), default=0)))
    ax.set_ylim(0, 105)
    ax.set_xlabel("cost per 24 h (USD, symmetric log)")
    ax.set_ylabel("mean accuracy L2/L3/L4 (%)")
    ax.set_title("Accuracy against cost")
    ax.grid(alpha=0.3)
    return [p[2] for p in front]


def plot_accuracy_cost(run, out, summary):
    backends = (summary or {}).get("backends") or []
    if not backends:
        return [(None, "No backend results (results/summary.json missing or empty): "
                       "the accuracy-cost plot is skipped.")]
    several = len(backends) > 1
    fig, axes = plt.subplots(1, 3 if several else 2, figsize=(16 if several else 13, 5.5),
                             gridspec_kw={"width_ratios": [1, 1.6, 1] if several else [1, 1.6]})
    _accuracy_bars(axes[0], backends)
    _by_scenario(axes[1], fig, backends, run.scenarios())
    front = _cost(axes[2], backends) if several else []
    if not several:
        b = backends[0]
        fig.suptitle(f"{b['name']}: ${b.get('cost_per_24h_usd', 0):.2f} and "
                     f"{b.get('gpu_hours_per_24h', 0):.2f} GPU-hours per 24 h")
    name = pk.save(fig, out, "accuracy_cost.png")
    text = ("Per backend, strict checklist accuracy per layer (bars, mean ± sd; the black "
            "tick is the benchmark's regex score; n = scored calls) and by scenario (strict, "
            "per layer), from results/summary.json")
    if several:
        text += (f"; right: mean accuracy against cost per 24 h, the dashed line the Pareto "
                 f"frontier ({', '.join(front)})")
    return [(name, text + ".")]
