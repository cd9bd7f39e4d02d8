"""plotkit: what the report's plots share: units, node names, the plotted
window around a scenario, the shaded ground-truth window, saving a figure,
the L1 detection markers every scenario plot carries and finishing one.

Used by analysis/plots_scenarios.py, analysis/plots_generic.py and
analysis/plots_fleet.py.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
import numpy as np  # noqa: E402

DPI = 110
UNITS = {"C": "°C", "1": "ratio", "%": "%"}
DETECT_COLOUR = "tab:green"


def unit(run, name):
    """Display unit of a metric, from its `units` attribute."""
    u = run.metrics()[name]["units"]
    return UNITS.get(u, u)


def node_name(i):
    return f"node-{int(i):04d}"


def end_h(run):
    """Hours at the end of the last scrape."""
    return run.time_hours()[-1] + run.scrape_interval_s() / 3600.0


def window(run, s):
    """Plot range (hours) around a scenario: its window plus a margin of
    max(1 h, its duration) each side, clipped to the run."""
    margin = max(1.0, s["end_h"] - s["start_h"])
    return max(0.0, s["start_h"] - margin), min(end_h(run), s["end_h"] + margin)


def shade(ax, s, label=True):
    ax.axvspan(s["start_h"], s["end_h"], color="tab:red", alpha=0.12,
               label=f"{s['id']} window" if label else None)


def save(fig, out, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=DPI)
    plt.close(fig)
    return name


def detection_text(s, info):
    """One line on how L1 saw scenario s (info: detections.first_detection)."""
    if info is None:
        return f"L1: {s['id']} not detected (no event matches it)"
    esc = ", escalated" if info["escalated"] else ""
    return (f"L1: first detection +{info['latency_s'] / 60:.1f} min ({info['metric']}), "
            f"{info['events']} matching event{'s' if info['events'] != 1 else ''}{esc}")


def mark_detections(axes, s, times_s, escalated, info):
    """Marks on a scenario plot how L1 detected s: a triangle on the top
    edge of the first axis per matching L1 event (a star if escalated), a
    vertical line at the first detection on every axis, and the latency in a
    box in the first axis. times_s/escalated: the matching events."""
    top = axes[0]
    edge = mtransforms.blended_transform_factory(top.transData, top.transAxes)
    t_h = np.asarray(times_s, dtype=float) / 3600.0
    esc = np.asarray(escalated, dtype=bool)
    for pick, marker, size, label in ((~esc, "v", 40, "L1 event detecting it"),
                                      (esc, "*", 110, "escalated L1 event")):
        if pick.any():
            top.scatter(t_h[pick], np.ones(int(pick.sum())), transform=edge, marker=marker,
                        s=size, color=DETECT_COLOUR, edgecolors="k", linewidths=0.5,
                        clip_on=False, zorder=5, label=label)
    if info is not None:
        first_h = info["t_s"] / 3600.0
        for k, ax in enumerate(axes):
            ax.axvline(first_h, color=DETECT_COLOUR, lw=1.4,
                       label="first L1 detection" if k == 0 else None)
    top.text(0.995, 0.96, detection_text(s, info), transform=top.transAxes, ha="right",
             va="top", fontsize=8, zorder=6,
             bbox={"boxstyle": "round", "fc": "white", "ec": DETECT_COLOUR, "alpha": 0.9})


def finish(fig, axes, out, name, s, det, a, b, legend_loc="upper left"):
    """Marks the L1 detection of s on a scenario plot (det: times_s,
    escalated, info; see mark_detections), adds the legends and the time
    axis over [a, b] hours, and saves it as out/name; returns name."""
    mark_detections(axes, s, det["times_s"], det["escalated"], det["info"])
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc=legend_loc, fontsize=8)
    axes[-1].set_xlabel("simulated time (h)")
    axes[-1].set_xlim(a, b)
    return save(fig, out, name)
