"""plots_generic: the plot of a scenario whose kind has no hand-made plot
(plots_scenarios.KINDS), built from data alone: the kind's knowledge file
(scenarios/kinds/<kind>.json: signature_metrics, entity, read by kinds.py)
and the scenario's ground truth in the archive (root-cause nodes, impacted
nodes, GPUs, and the racks and job of its params). A kind added to kinds.def
gets this plot with no code change.

The affected entities: for a GPU metric the ground truth's GPUs where it
names some, else its root-cause nodes (all their GPUs); for a node metric
its root-cause nodes; a kind whose entity is `rack` groups the root-cause
nodes by rack. Their peers: the nodes of the same tenants that the scenario
neither causes nor impacts (at most PEER_CAP, evenly spread; other tenants'
or any unaffected nodes when there are none), for a GPU metric every GPU of
them. The panels: the kind's first signature metric with samples on the
affected entities (its most specific evidence), then up to PANELS-1 of the
next signature metrics (CANDIDATES in all) that move most in the window
against the peers (score()), each with the affected entities (one line
each, or their median and 10-90 % band when there are more than MAX_LINES)
against the peers' per-scrape median and 10-90 % band over the scenario's
window with margins. Counters show their increments per scrape; NaN samples
(scrape gaps, GPUs off the bus, metrics of another tenant) are ignored.

    >>> spec = kinds.specs()[s["kind"]]
    >>> data = series(run, s, spec)       # None, or {"panels": [...], ...}
    >>> name, caption = plot(run, out, s, det, spec)
"""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fleetdata as fd  # noqa: E402
import plotkit as pk  # noqa: E402

PEER_CAP = 200     # peer nodes read at most (evenly spread over the candidates)
CANDIDATES = 6     # signature metrics read, in the knowledge file's order
PANELS = 3         # panels at most
MAX_LINES = 6      # affected entities drawn one line each; more: median and band
BAND = (10, 90)    # percentiles of the bands
COLOURS = ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
STEPPED = ("code", "bitmask")   # units drawn as steps (a median of codes is a code)


def _quiet(fn, *args, **kw):
    """A nan-reduction without the all-NaN RuntimeWarning (the result is NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kw)


def percentiles(x, qs):
    """Per-row percentiles qs of x [T, n], NaN ignored, interpolated as
    np.nanpercentile does (all-NaN rows: NaN); one sort for every q, so far
    faster than np.nanpercentile on rows with NaN. Returns [len(qs), T]."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    srt = np.sort(x, axis=1)                       # NaN sort last
    n = (~np.isnan(x)).sum(axis=1)
    rows = np.arange(len(x))
    out = np.full((len(qs), len(x)), np.nan)
    if x.shape[1] == 0:
        return out
    ok = n > 0
    for k, q in enumerate(qs):
        pos = (n - 1) * (q / 100.0)
        lo = np.floor(pos).astype(np.int64).clip(0)
        hi = np.ceil(pos).astype(np.int64).clip(0)
        a, b = srt[rows, lo], srt[rows, hi]
        with np.errstate(invalid="ignore"):
            v = np.where(hi == lo, a, a + (b - a) * (pos - lo))
        out[k, ok] = v[ok]
    return out


def _valid(a, n):
    a = np.asarray(a, dtype=np.int64)
    return np.unique(a[(a >= 0) & (a < n)])


def targets(run, s, entity):
    """The affected entities of s and their peers: {"columns": [(label,
    nodes, gpu or None)], "gpu_columns": the same per GPU where the ground
    truth names GPUs (else None), "nodes": the affected nodes, "peers": peer
    node indices, "peer_text": who they are, "what": the affected entities
    in words}, or None when the ground truth names no node, GPU or rack."""
    topo = run.topology()
    n = topo["nodes"]
    roots, impacted = _valid(s["nodes"], n), _valid(s["impacted"], n)
    gpus = _valid(s["gpus"], n * 8)
    racks = _valid(s["params"].get("racks", []), topo["racks"])
    if len(roots) == 0 and len(racks):
        roots = np.flatnonzero(np.isin(topo["node_rack"], racks))
    if len(roots) == 0:
        roots = np.unique(np.concatenate([impacted, gpus // 8]))
    if len(roots) == 0:
        return None
    if entity == "rack":
        racks = np.unique(topo["node_rack"][roots])
        columns = [(f"rack-{r:02d}, median of its {int((topo['node_rack'][roots] == r).sum())} "
                    "root-cause nodes", roots[topo["node_rack"][roots] == r], None) for r in racks]
        what = f"the root-cause nodes of {', '.join(f'rack-{r:02d}' for r in racks)}"
    else:
        columns = [(pk.node_name(x), np.array([x]), None) for x in roots]
        what = (f"root-cause node {pk.node_name(roots[0])}" if len(roots) == 1
                else f"the {len(roots)} root-cause nodes")
    gpu_columns = None
    if len(gpus) and entity != "rack":
        gpu_columns = [(f"{pk.node_name(g // 8)}/gpu{g % 8}", np.array([g // 8]), int(g % 8))
                       for g in gpus]
        roots = np.union1d(roots, gpus // 8)
    job = s["params"].get("job_index")
    if job is not None and 0 <= int(job) < len(topo["job_id"]):
        what += f" (job {topo['job_id'][int(job)]})"
    peers, peer_text = _peers(topo, roots, impacted)
    return {"columns": columns, "gpu_columns": gpu_columns, "nodes": roots, "peers": peers,
            "peer_text": peer_text, "what": what}


def _peers(topo, roots, impacted):
    """Peer nodes: unaffected nodes of the affected nodes' tenants, else any
    node neither causing nor feeling s, else any node not causing it; at most
    PEER_CAP of them, evenly spread. Returns (indices, description)."""
    every = np.arange(topo["nodes"])
    tenants = np.unique(topo["node_tenant"][roots])
    names = "/".join(topo["tenants"][t] for t in tenants)
    free = np.setdiff1d(every, np.union1d(roots, impacted))
    for cand, text in ((free[np.isin(topo["node_tenant"][free], tenants)],
                        f"{names} nodes that the scenario neither causes nor impacts"),
                       (free, "nodes that the scenario neither causes nor impacts"),
                       (np.setdiff1d(every, roots), "nodes other than the root-cause nodes")):
        if len(cand):
            if len(cand) > PEER_CAP:
                cand = np.unique(cand[np.linspace(0, len(cand) - 1, PEER_CAP).round().astype(int)])
                text += f", {PEER_CAP} evenly spread"
            return cand, text
    return np.zeros(0, dtype=np.int64), "none"


def _read(run, name, idx, i0, b):
    """Metric name on nodes idx for scrapes i0.. up to b hours, float64;
    a counter as its increments per scrape (one scrape more is read for the
    first increment)."""
    h = run.time_hours()
    counter = name.endswith("_total")
    lead = 1 if counter and i0 > 0 else 0
    x = run.load_metric(name, nodes=idx, t_from_h=h[i0 - lead], t_to_h=b).astype(np.float64)
    return fd.increments(x, axis=0)[lead:] if counter else x


def _panel(run, name, tg, i0, b):
    """One metric's series over the window, or None when the affected
    entities have no sample of it there."""
    info = run.metrics()[name]
    gpu_metric = info["group"] == "gpu"
    columns = tg["gpu_columns"] if gpu_metric and tg["gpu_columns"] else tg["columns"]
    idx = np.union1d(tg["nodes"], tg["peers"])
    pos = {int(x): k for k, x in enumerate(idx)}
    x = _read(run, name, idx, i0, b)
    T = x.shape[0]
    cols = []
    for label, nodes, gpu in columns:
        sub = x[:, [pos[int(v)] for v in nodes]]
        if gpu_metric and gpu is not None:
            sub = sub[:, :, gpu]
        cols.append(percentiles(sub.reshape(T, -1), (50,))[0])
    aff = np.stack(cols, axis=1)
    if not np.isfinite(aff).any():
        return None
    peer = x[:, [pos[int(v)] for v in tg["peers"]]].reshape(T, -1)
    peer = peer[:, np.isfinite(peer).any(axis=0)]   # peers with samples of it
    lo, med, hi = percentiles(peer, (BAND[0], 50, BAND[1]))
    return {"metric": name, "units": pk.unit(run, name), "counter": info["counter"],
            "group": info["group"], "gpu": gpu_metric and columns is tg["gpu_columns"], "labels": [c[0] for c in columns],
            "affected": aff, "peer_median": med, "peer_lo": lo, "peer_hi": hi,
            "peers": peer.shape[1]}


def score(p, inside):
    """How much panel p's affected entities move against their peers in the
    scenario's window: the mean |median of the affected - peer median|
    inside it minus the same outside it, in units of the peer band's
    median width (or of the peer median's or affected's scale where the band
    is flat). -inf when there is no sample inside."""
    centre = percentiles(p["affected"], (50,))[0]
    diff = np.abs(centre - p["peer_median"])
    if not np.isfinite(diff[inside]).any():
        return -np.inf
    out = diff[~inside]
    base = float(_quiet(np.nanmean, out)) if np.isfinite(out).any() else 0.0
    for scale in (_quiet(np.nanmedian, p["peer_hi"] - p["peer_lo"]),
                  0.1 * _quiet(np.nanmedian, np.abs(p["peer_median"])),
                  _quiet(np.nanstd, centre)):
        if np.isfinite(scale) and scale > 0:
            break
    else:
        scale = 1.0
    return (float(_quiet(np.nanmean, diff[inside])) - base) / float(scale)


def series(run, s, spec):
    """The data of s's generic plot: {"targets": targets(), "hours": [T'],
    "window": (a, b) hours, "panels": [panel, ...]}, each panel {metric,
    units, counter, group, gpu (one column per GPU), labels, affected [T', k], peer_median, peer_lo,
    peer_hi [T'], peers, score}; None when the ground truth names no target
    or no signature metric has samples on the affected entities."""
    tg = targets(run, s, spec["entity"])
    if tg is None:
        return None
    catalogue = run.metrics()
    names = [m for m in spec["signature_metrics"]
             if m in catalogue and catalogue[m]["group"] != "cluster"][:CANDIDATES]
    a, b = pk.window(run, s)
    h = run.time_hours()
    i0, i1 = int(np.searchsorted(h, a)), int(np.searchsorted(h, b))
    hours = h[i0:i1]
    inside = (hours >= s["start_h"]) & (hours < s["end_h"])
    panels = []
    for m in names:
        p = _panel(run, m, tg, i0, b)
        if p is not None:
            p["score"] = score(p, inside)
            panels.append(p)
    if not panels:
        return None
    rest = sorted((p for p in panels[1:] if p["score"] > 0), key=lambda p: -p["score"])
    return {"targets": tg, "hours": hours, "window": (a, b),
            "panels": [panels[0]] + rest[:PANELS - 1]}


def _draw(ax, hours, p):
    step = {"drawstyle": "steps-post"} if p["units"] in STEPPED else {}
    per = " per scrape" if p["counter"] else ""
    kind = "GPUs" if p["group"] == "gpu" else "nodes"
    if p["peers"]:
        ax.fill_between(hours, p["peer_lo"], p["peer_hi"], color="tab:gray", alpha=0.3, lw=0,
                        step="post" if step else None,
                        label=f"peers {BAND[0]}-{BAND[1]} % ({p['peers']} {kind})")
        ax.plot(hours, p["peer_median"], color="k", ls="--", lw=1, label="peers' median", **step)
    k = p["affected"].shape[1]
    if k <= MAX_LINES:
        for j in range(k):
            ax.plot(hours, p["affected"][:, j], color=COLOURS[j % len(COLOURS)], lw=1.2,
                    label=p["labels"][j], **step)
    else:
        lo, med, hi = percentiles(p["affected"], (BAND[0], 50, BAND[1]))
        ax.fill_between(hours, lo, hi, color="tab:red", alpha=0.2, lw=0,
                        label=f"affected {BAND[0]}-{BAND[1]} % ({k})")
        ax.plot(hours, med, color="tab:red", lw=1.2, label=f"affected, median of {k}", **step)
    unit = f" ({p['units']}{per})" if p["units"] else (f" ({per.strip()})" if per else "")
    ax.set_ylabel(f"{p['metric']}{unit}", fontsize=8)


def plot(run, out, s, det, spec):
    """Draws s's generic plot into out/<kind>_<id>.png; returns (file name,
    caption), or (None, why there is none). det: as for
    plots_scenarios.plot_scenario."""
    data = series(run, s, spec)
    kind = s["kind"]
    if data is None:
        return None, (f"{s['id']}: the ground truth names no node, GPU or rack, or none of "
                      f"{kind}'s signature metrics has samples there: no plot.")
    tg, panels, hours = data["targets"], data["panels"], data["hours"]
    a, b = data["window"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 1.2 + 2.7 * len(panels)),
                             sharex=True, squeeze=False)
    axes = list(axes[:, 0])
    for k, (ax, p) in enumerate(zip(axes, panels)):
        _draw(ax, hours, p)
        pk.shade(ax, s, label=k == 0)
    axes[0].set_title(f"{s['id']} {kind}: signature metrics of {tg['what']} against their "
                      "peers", pad=10, fontsize=10)
    name = pk.finish(fig, axes, out, f"{kind}_{s['id']}.png", s, det, a, b)
    metrics = ", ".join(p["metric"] for p in panels)
    return name, (f"{s['id']}: {metrics} (signature metrics of {kind} in "
                  f"scenarios/kinds/{kind}.json: the first with samples, then those that move "
                  f"most in the window against the peers) of {tg['what']}, one line per "
                  f"affected {'GPU or ' if tg['gpu_columns'] else ''}"
                  f"{'rack' if spec['entity'] == 'rack' else 'node'} (their median and "
                  f"{BAND[0]}-{BAND[1]} % band when more than {MAX_LINES}), against the median "
                  f"and {BAND[0]}-{BAND[1]} % band per scrape of the peers ({tg['peer_text']}; "
                  "every GPU of them for a GPU metric); counters as increments per scrape, "
                  "missing samples ignored. Shaded: the ground-truth window.")
