"""plots_scenarios: one plot per ground-truth scenario, chosen by its kind.

`plot_scenario(run, out, s, det)` draws scenario s (a dict of
fleetdata.Run.scenarios()) into out/<prefix>_<id>.png and returns (file
name, caption), or (None, sentence) when the run lacks what the plot needs.
det holds the L1 events that detect s (`times_s`, `escalated`) and the first
detection (`info`, see detections.first_detection); every plot marks them
(plotkit.mark_detections). The six kinds with a hand-made plot are in
KINDS; every other kind of scenarios/kinds/kinds.def gets the generic plot
of plots_generic.py, from its knowledge file and the ground truth.
"""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mpl_toolkits.axes_grid1 import make_axes_locatable  # noqa: E402

import fleetdata as fd  # noqa: E402
import kinds  # noqa: E402
import plotkit as pk  # noqa: E402
import plots_generic  # noqa: E402

THROTTLE_C = 83.0   # the model's software thermal slowdown (docs/scenarios.md)


def _nanpct(x, q):
    """Per-row q-th percentile of x [T, n], NaN ignored (all-NaN rows: NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(x, q, axis=1)


def _scrapes(run, a, b):
    h = run.time_hours()
    return h, (h >= a) & (h < b)


# -- thermal cascade ------------------------------------------------------------
def plot_thermal(run, out, s, det):
    topo = run.topology()
    roots = np.asarray(s["nodes"], dtype=np.int64)
    if len(roots) == 0:
        return None, f"{s['id']}: the ground truth names no nodes: no thermal plot."
    racks = np.unique(topo["node_rack"][roots])
    rest = np.setdiff1d(np.flatnonzero(np.isin(topo["node_rack"], racks)), roots)
    every = np.arange(topo["nodes"])
    a, b = pk.window(run, s)
    h, sel = _scrapes(run, a, b)
    names = ", ".join(f"rack-{r:02d}" for r in racks)
    fig, axes = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    for ax, m, lab in zip(axes, ("inlet_temp_celsius", "gpu_temp_celsius"),
                          ("inlet air (°C)", "GPU junction (°C)")):
        ax.plot(h[sel], run.median_over_nodes(m, roots, a, b), color="tab:red", lw=1.2,
                label=f"root-cause nodes ({len(roots)}), median")
        if len(rest):
            ax.plot(h[sel], run.median_over_nodes(m, rest, a, b), color="tab:orange", lw=1,
                    label=f"other nodes of {names} ({len(rest)})")
        ax.plot(h[sel], run.median_over_nodes(m, every, a, b), color="k", ls="--", lw=1,
                label=f"fleet median ({len(every)} nodes)")
        pk.shade(ax, s, label=ax is axes[0])
        ax.set_ylabel(lab)
    axes[1].axhline(THROTTLE_C, color="tab:purple", ls=":", lw=1,
                    label=f"thermal slowdown ({THROTTLE_C:g} °C)")
    axes[0].set_title(f"{s['id']} thermal_cascade on {names}: inlet air and GPU junction "
                      "temperature", pad=10)
    name = pk.finish(fig, axes, out, f"thermal_{s['id']}.png", s, det, a, b)
    return name, (f"{s['id']}: inlet air and GPU junction temperature (median over nodes and "
                  f"GPUs) of the root-cause nodes, of the other nodes of {names} and of the "
                  "fleet. Shaded: the ground-truth window.")


# -- expert routing collapse ------------------------------------------------------
def plot_moe(run, out, s, det):
    moe = run.tenant_nodes("moe-inference")
    if len(s["nodes"]) == 0 or len(moe) == 0:
        return None, f"{s['id']}: no MoE node is affected: no expert-routing plot."
    node = int(s["nodes"][0])
    hot = sorted(int(g) % 8 for g in s["gpus"] if int(g) // 8 == node)
    a, b = pk.window(run, s)
    h, sel = _scrapes(run, a, b)
    own = run.load_node(node, ["expert_selection_entropy_nats", "gpu_sm_util_percent"], a, b)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    ax1.plot(h[sel], own["expert_selection_entropy_nats"], color="tab:purple", lw=1,
             label=pk.node_name(node))
    ax1.plot(h[sel], run.median_over_nodes("expert_selection_entropy_nats", moe, a, b),
             color="k", ls="--", lw=1, label=f"moe-inference median ({len(moe)} nodes)")
    pk.shade(ax1, s)
    ax1.set_ylabel("entropy (nats)")
    ax1.set_title(f"{s['id']} expert_routing_collapse: expert-selection entropy and SM "
                  f"utilisation on {pk.node_name(node)}", pad=10)
    sm = own["gpu_sm_util_percent"]
    cold = sorted(set(range(8)) - set(hot))
    for g in range(sm.shape[1]):
        is_hot = g in hot
        label = f"gpu{g} (hot)" if is_hot else ("other GPUs" if cold and g == cold[0] else None)
        ax2.plot(h[sel], sm[:, g], lw=1.2 if is_hot else 0.7,
                 color="tab:red" if is_hot else "tab:blue", alpha=1 if is_hot else 0.6,
                 label=label)
    ax2.plot(h[sel], run.median_over_nodes("gpu_sm_util_percent", moe, a, b), color="k",
             ls="--", lw=1, label="moe-inference median (all GPUs)")
    pk.shade(ax2, s, label=False)
    ax2.set_ylabel("SM utilisation (%)")
    name = pk.finish(fig, [ax1, ax2], out, f"moe_{s['id']}.png", s, det, a, b,
                      legend_loc="lower left")
    hot_txt = ", ".join(f"gpu{g}" for g in hot) or "none listed"
    return name, (f"{s['id']}: expert-selection entropy of the affected MoE node "
                  f"{pk.node_name(node)} against the tenant median, and its per-GPU SM "
                  f"utilisation (hot GPUs from the ground truth: {hot_txt}). Shaded: the "
                  "ground-truth window.")


# -- HBM degradation ------------------------------------------------------------
def _block_rate(inc, blk, nb, per_hour):
    """Mean per-GPU increment per block (NaN ignored), per hour: [nb]."""
    x = inc.reshape(inc.shape[0], -1)
    ok = ~np.isnan(x)
    sums, counts = np.zeros(nb), np.zeros(nb)
    np.add.at(sums, blk, np.where(ok, x, 0.0).sum(axis=1))
    np.add.at(counts, blk, ok.sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts * per_hour


def _lot_rates(run, s, a, b, block):
    """SBE per GPU-hour per block of the window, of the degrading GPUs, of
    the rest of their silicon lot and of the other GPUs of the nodes that
    hold the lot (same nodes and workloads, other lots); and the degrading
    GPUs' SBE since the window began. Reads those nodes only, in time slabs."""
    lots = run.topology()["gpu_lot"]
    deg = np.zeros(lots.shape, dtype=bool)
    gpus = np.asarray(s["gpus"], dtype=np.int64)
    deg.flat[gpus] = True
    lot = int(s["params"].get("lot", -1))
    if lot < 0 and len(gpus):
        lot = int(np.bincount(lots.flat[gpus]).argmax())
    rest = (lots == lot) & ~deg
    nodes = np.flatnonzero((rest | deg).any(axis=1))
    other = ~(rest | deg)
    other[np.setdiff1d(np.arange(len(lots)), nodes)] = False
    h = run.time_hours()
    i0 = int(np.searchsorted(h, a)) // block * block   # the run's 5-minute blocks
    i1 = int(np.searchsorted(h, b))
    lead = 1 if i0 > 0 else 0                          # one scrape more for the first increment
    x = run.load_metric("gpu_ecc_sbe_total", nodes=nodes, t_from_h=h[i0 - lead], t_to_h=b)
    inc = fd.increments(x, axis=0)[lead:]
    blk = np.arange(i1 - i0) // block
    nb = int(blk[-1]) + 1
    per_hour = 3600.0 / run.scrape_interval_s()

    def rate(mask):
        return _block_rate(inc[:, mask[nodes]], blk, nb, per_hour) if mask.any() else None
    return {"lot": lot, "hours": h[i0:i1:block], "h": h[i0:i1], "deg": rate(deg),
            "rest": rate(rest), "other": rate(other), "ndeg": int(deg.sum()),
            "nrest": int(rest.sum()), "nother": int(other.sum()), "nnodes": len(nodes),
            "cum": np.nancumsum(inc[:, deg[nodes]], axis=0),
            "labels": [f"{pk.node_name(nodes[i])}/gpu{g}" for i, g in zip(*np.nonzero(deg[nodes]))]}


def plot_hbm(run, out, s, det):
    if len(s["gpus"]) == 0:
        return None, f"{s['id']}: the ground truth names no GPUs: no HBM plot."
    a, b = pk.window(run, s)
    block = 20
    r = _lot_rates(run, s, a, b, block)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.8), sharex=True)
    # block starts and the end of the last block, each block's rate held over it
    hx = np.append(r["hours"], r["h"][-1] + run.scrape_interval_s() / 3600.0)
    for key, style, label in (
            ("deg", {"color": "tab:red", "lw": 1.3},
             f"degrading GPUs of lot {r['lot']} ({r['ndeg']}, ground truth)"),
            ("rest", {"color": "tab:orange", "lw": 1}, f"rest of lot {r['lot']} ({r['nrest']} GPUs)"),
            ("other", {"color": "k", "ls": "--", "lw": 1},
             f"other lots' GPUs on the same {r['nnodes']} nodes ({r['nother']})")):
        if r[key] is not None:
            ax1.step(hx, np.append(r[key], r[key][-1]), where="post", label=label, **style)
    ax1.set_yscale("symlog", linthresh=0.1)
    ax1.set_ylabel("SBE per GPU-hour")
    ax1.set_title(f"{s['id']} hbm_degradation: single-bit ECC error rate of silicon lot "
                  f"{r['lot']} against its peers (5-min blocks)", pad=10)
    pk.shade(ax1, s)
    for k in range(r["cum"].shape[1]):
        ax2.plot(r["h"], r["cum"][:, k], lw=0.9,
                 label=r["labels"][k] if r["cum"].shape[1] <= 8 else None)
    ax2.set_yscale("symlog", linthresh=1)
    ax2.set_ylabel("SBE since the plot starts")
    pk.shade(ax2, s, label=False)
    name = pk.finish(fig, [ax1, ax2], out, f"hbm_{s['id']}.png", s, det, a, b)
    return name, (f"{s['id']}: single-bit ECC errors per GPU-hour (increments of "
                  f"gpu_ecc_sbe_total, 5-minute blocks) of the {r['ndeg']} degrading GPUs of "
                  f"silicon lot {r['lot']}, of the rest of that lot and of the other GPUs of "
                  "the same nodes (same workloads, other lots); below, each degrading GPU's "
                  "errors since the plot starts "
                  "(symmetric log scales). Shaded: the ground-truth window.")


# -- fabric microburst ------------------------------------------------------------
def plot_fabric(run, out, s, det):
    topo = run.topology()
    racks = sorted(int(r) for r in s["params"].get("racks", [])) or \
        sorted(set(topo["node_rack"][np.asarray(s["nodes"], dtype=np.int64)].tolist()))
    if not racks:
        return None, f"{s['id']}: the ground truth names no racks: no fabric plot."
    a, b = pk.window(run, s)
    h, sel = _scrapes(run, a, b)
    step = max(1, int(round(60.0 / run.scrape_interval_s())))   # 1-minute columns
    ib = fd.increments(run.load_metric("ib_port_rcv_errors_total", t_from_h=a, t_to_h=b), axis=0)
    nr = topo["racks"]
    member = np.zeros((topo["nodes"], nr))
    member[np.arange(topo["nodes"]), topo["node_rack"]] = 1.0
    seen = (~np.isnan(ib)).astype(np.float64)   # scrape gaps and the first increment: NaN
    sums, counts = np.nan_to_num(ib) @ member, seen @ member      # [T', racks]
    cols = np.arange(len(sums)) // step
    hs, hc = np.zeros((cols[-1] + 1, nr)), np.zeros((cols[-1] + 1, nr))
    np.add.at(hs, cols, sums)
    np.add.at(hc, cols, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        heat = hs / hc                             # mean over the samples there are
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(11, 9), sharex=True,
                                        gridspec_kw={"height_ratios": [1.3, 1, 0.8]})
    edges = np.append(h[sel][::step], h[sel][-1] + run.scrape_interval_s() / 3600.0)
    mesh = ax1.pcolormesh(edges, np.arange(nr + 1) - 0.5, heat.T, cmap="magma", shading="flat")
    # the colour bar takes the same width off both axes, so their time axes align
    bars = [make_axes_locatable(ax).append_axes("right", size="2%", pad=0.1)
            for ax in (ax1, ax2, ax3)]
    fig.colorbar(mesh, cax=bars[0]).set_label("IB receive errors per node per scrape")
    for bar in bars[1:]:
        bar.set_axis_off()
    for r in racks:
        ax1.add_patch(plt.Rectangle((s["start_h"], r - 0.5), s["end_h"] - s["start_h"], 1,
                                    fill=False, ec="cyan", lw=1.5, ls="--"))
    ax1.set_ylim(nr - 0.5, -0.5)
    ticks = range(0, nr, max(1, nr // 12))
    ax1.set_yticks(list(ticks))
    ax1.set_yticklabels([f"rack-{r:02d}" for r in ticks])
    ax1.set_ylabel("rack")
    names = ", ".join(f"rack-{r:02d}" for r in racks)
    ax1.set_title(f"{s['id']} fabric_microburst on {names}: InfiniBand receive errors per rack "
                  "(1-min means) and inference TTFT", pad=10)
    infer = topo["node_tenant"] < 2
    hit = infer & np.isin(topo["node_rack"], racks)
    ttft = run.load_metric("ttft_ms", t_from_h=a, t_to_h=b)
    mine = _nanpct(ttft[:, hit], 99) if hit.any() else None
    rest = _nanpct(ttft[:, infer & ~hit], 99) if (infer & ~hit).any() else None
    if mine is not None:
        ax2.plot(h[sel], mine, color="tab:red", lw=1.1,
                 label=f"{names}: p99 over {int(hit.sum())} inference nodes")
    if rest is not None:
        ax2.plot(h[sel], rest, color="k", ls="--", lw=1,
                 label=f"other racks: p99 over {int((infer & ~hit).sum())} nodes")
    if mine is not None and rest is not None:
        # what the fleet shares (traffic, other scenarios) cancels in the difference
        diff = mine - rest
        k = min(len(diff), 5 * step)   # 5-minute running mean: the shift is a few ms
        box = np.ones(k)
        with np.errstate(invalid="ignore", divide="ignore"):   # of the samples there are
            smooth = (np.convolve(np.nan_to_num(diff), box, mode="same")
                      / np.convolve(np.isfinite(diff).astype(float), box, mode="same"))
        ax3.plot(h[sel], diff, color="tab:red", lw=0.6, alpha=0.4,
                 label=f"{names} minus the other racks, per scrape")
        ax3.plot(h[sel], smooth, color="tab:red", lw=1.5, label="5-minute running mean")
        ax3.axhline(0, color="k", lw=0.6)
    ax3.set_ylabel("difference (ms)")
    for ax in (ax2, ax3):
        pk.shade(ax, s, label=ax is ax2)
    ax2.set_ylabel("TTFT p99 (ms)")
    name = pk.finish(fig, [ax1, ax2, ax3], out, f"fabric_{s['id']}.png", s, det, a, b)
    return name, (f"{s['id']}: InfiniBand receive errors per node and scrape (increments of "
                  "ib_port_rcv_errors_total), rack means per minute, the scenario's racks "
                  f"boxed ({names}); below, the 99th percentile over inference nodes of their "
                  "TTFT (each node reports its p95), on those racks and elsewhere, and the "
                  "difference (per scrape and its 5-minute running mean), in which what the "
                  "whole fleet shares cancels. Shaded: the "
                  "ground-truth window.")


# -- KV-cache eviction storm ------------------------------------------------------
def plot_kv(run, out, s, det):
    dense = run.tenant_nodes("dense-inference")
    if len(dense) == 0:
        return None, f"{s['id']}: the fleet has no dense-inference nodes: no KV-cache plot."
    hit = [int(n) for n in s["nodes"] if n in set(dense.tolist())]
    subset = 0 < len(hit) < len(dense)
    a, b = pk.window(run, s)
    h, sel = _scrapes(run, a, b)
    fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
    for ax, m, lab in zip(axes, ("kv_cache_hit_ratio", "ttft_ms", "itl_ms"),
                          ("KV hit ratio", "TTFT p95 (ms)", "ITL p95 (ms)")):
        ax.plot(h[sel], run.median_over_nodes(m, dense, a, b), color="tab:blue", lw=1,
                label=f"dense-inference median ({len(dense)} nodes)")
        if subset:
            ax.plot(h[sel], run.median_over_nodes(m, hit, a, b), color="tab:red", lw=1,
                    label=f"affected nodes median ({len(hit)} nodes)")
        pk.shade(ax, s, label=ax is axes[0])
        ax.set_ylabel(lab)
    axes[0].set_title(f"{s['id']} kv_cache_eviction_storm: dense-inference KV hit ratio, "
                      "TTFT and ITL", pad=10)
    name = pk.finish(fig, list(axes), out, f"kv_{s['id']}.png", s, det, a, b,
                      legend_loc="center left")
    return name, (f"{s['id']}: per-scrape median over the dense-inference nodes of KV cache "
                  "hit ratio, TTFT and ITL (p95 per node)"
                  + (", and over the affected nodes alone" if subset else "")
                  + ". Shaded: the ground-truth window.")


# -- training straggler -------------------------------------------------------------
def plot_straggler(run, out, s, det):
    topo = run.topology()
    if len(s["nodes"]) == 0 or topo["node_job"][int(s["nodes"][0])] < 0:
        return None, f"{s['id']}: the straggler is on no job: no straggler plot."
    node = int(s["nodes"][0])
    job = int(topo["node_job"][node])
    jid, jnodes = topo["job_id"][job], topo["job_nodes"][job]
    peers = [n for n in jnodes if n != node]
    a, b = pk.window(run, s)
    h, sel = _scrapes(run, a, b)
    step = run.median_over_nodes("step_time_ms", jnodes, a, b) / 1000.0
    own = run.load_node(node, ["gpu_nvlink_replay_total"])["gpu_nvlink_replay_total"]
    inc = fd.increments(own, axis=0)
    rep = np.where(np.isnan(inc).all(axis=1), np.nan, np.nansum(inc, axis=1))[sel]
    base = float(topo["job_step_time_s"][job])
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    ax1.plot(h[sel], step, color="tab:blue", lw=1, label=f"{jid} step time (median of job nodes)")
    ax1.axhline(base, color="k", ls=":", label=f"configured step time {base:.2f} s")
    pk.shade(ax1, s)
    finite = np.isfinite(step).any()
    top = 1.3 * max(base, float(np.nanpercentile(step, 97))) if finite else 2 * base
    peak = float(np.nanmax(step)) if finite else base
    if peak > top:
        ax1.set_ylim(0.8 * base, top)
        ax1.text(0.01, 0.04, f"axis clipped: checkpoint stalls reach {peak:.1f} s",
                 transform=ax1.transAxes, ha="left", va="bottom", fontsize=8)
    ax1.set_ylabel("step time (s)")
    ax1.set_title(f"{s['id']} training_straggler: {jid} ({len(jnodes)} nodes), straggler "
                  f"{pk.node_name(node)}", pad=10)
    ax2.plot(h[sel], rep, color="tab:red", lw=1,
             label=f"{pk.node_name(node)} (straggler), 8 GPUs summed, per scrape")
    if peers:
        hb, _, m = run.block_means("gpu_nvlink_replay_total", 20, "tenant", nodes=peers)
        keep = (hb >= a - 1e-9) & (hb < b)
        ax2.step(hb[keep], (m[:, 2] * 8)[keep], where="post", color="tab:gray",
                 label=f"job peers, mean per node per scrape ({len(peers)} nodes, 5-min blocks)")
    pk.shade(ax2, s, label=False)
    ax2.set_ylabel("NVLink replays per scrape")
    name = pk.finish(fig, [ax1, ax2], out, f"straggler_{s['id']}.png", s, det, a, b)
    return name, (f"{s['id']}: step time of {jid} (the slowest node sets it) and NVLink "
                  f"replays per {run.scrape_interval_s():g} s scrape on the straggler "
                  f"{pk.node_name(node)} (increments of the cumulative gpu_nvlink_replay_total) "
                  "against its job peers; step time is NaN outside training nodes and is read "
                  "only on the job's nodes. Shaded: the ground-truth window.")


# kind: (what the plot shows, plot function); every other registered kind
# gets plots_generic's plot
GENERIC = "signature metrics of the affected entities against their peers"
KINDS = {
    "thermal_cascade": ("inlet and GPU temperature of the racks", plot_thermal),
    "expert_routing_collapse": ("expert entropy and per-GPU SM utilisation", plot_moe),
    "hbm_degradation": ("the lot's SBE rate against its peers", plot_hbm),
    "fabric_microburst": ("rack heatmap of IB errors with TTFT p99", plot_fabric),
    "kv_cache_eviction_storm": ("KV hit ratio, TTFT and ITL", plot_kv),
    "training_straggler": ("job step time and the straggler's NVLink replays", plot_straggler),
}


def plot_scenario(run, out, s, det, specs=None):
    """(file name, caption) of scenario s's plot, or (None, why there is
    none): the hand-made plot of its kind (KINDS), else the generic plot
    from the kind's knowledge file (plots_generic.py). specs:
    kinds.specs() (read when None)."""
    if s["kind"] in KINDS:
        return KINDS[s["kind"]][1](run, out, s, det)
    specs = kinds.specs() if specs is None else specs
    if s["kind"] not in specs:
        return None, f"{s['id']}: scenario kind {s['kind']} is not in scenarios/kinds/kinds.def."
    return plots_generic.plot(run, out, s, det, specs[s["kind"]])


def what(kind):
    """What the plot of a kind shows, in words."""
    return KINDS[kind][0] if kind in KINDS else GENERIC
