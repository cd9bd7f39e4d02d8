"""fleetdata: read a finished fleetsim run (DIR/fleet.h5) into numpy arrays.

Owns reading the archive for offline analysis (notebooks, analysis/report.py);
it never writes the archive and never loads a whole GPU dataset at once: a
default run holds [5760, 1000, 8] float32 per GPU metric, so whole-fleet
reductions go time slab by time slab (one slab = one archive chunk row).

Use the module functions for one-off reads, or a `Run` for many reads from
one open file (every function also accepts a `Run` in place of the path):

    >>> import sys; sys.path.insert(0, "analysis")
    >>> import fleetdata as fd
    >>> h = fd.time_hours("fleetsim-run")                    # [T] hours
    >>> s = fd.load_node("fleetsim-run", "node-0061")        # dict of arrays
    >>> s["gpu_temp_celsius"].shape, s["step_time_ms"].shape # ([T, 8], [T])
    >>> rep = fd.increments(s["gpu_nvlink_replay_total"])    # per-scrape diffs
    >>> with fd.Run("fleetsim-run") as run:
    ...     inlet = run.load_metric("inlet_temp_celsius", t_from_h=6, t_to_h=7)
    ...     hrs, racks, m = run.block_means("gpu_temp_celsius", block_scrapes=20)

Requires Debian's /usr/bin/python3 with python3-h5py and python3-numpy.
"""
import glob
import json
import os
import warnings


def _plugin_dir():
    """The directory of the HDF5 LZ4 filter plugin (Debian: hdf5-filter-plugin).

    A run with archive_compression=lz4 (the default) stores its telemetry
    with that filter. Debian's h5py (serial HDF5) searches this directory by
    default; another h5py (a pip wheel) searches it only through
    HDF5_PLUGIN_PATH, which is therefore set to it, when unset, before h5py
    is imported. Returns the directory or None."""
    for d in sorted(glob.glob("/usr/lib/*/hdf5/serial/plugins")) + ["/usr/lib/hdf5/plugins"]:
        if os.path.isfile(os.path.join(d, "libh5lz4.so")):
            return d
    return None


if "HDF5_PLUGIN_PATH" not in os.environ and _plugin_dir():
    os.environ["HDF5_PLUGIN_PATH"] = _plugin_dir()

import h5py  # noqa: E402 (after HDF5_PLUGIN_PATH)
import numpy as np  # noqa: E402

LZ4_FILTER = 32004  # the registered HDF5 filter id of LZ4

TENANTS = ("moe-inference", "dense-inference", "training")
SCOPES = ("gpu", "node", "rack", "job", "cluster")
GROUPS = ("gpu", "node", "cluster")
# A load_metric() result larger than this is refused unless max_bytes says
# otherwise: use block_means()/median_over_nodes() or a node/time subset.
DEFAULT_MAX_BYTES = 1 << 30


class FleetDataError(Exception):
    """A run directory or archive that cannot be read as asked (the message
    names the file and what is wrong)."""


def _str(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def increments(x, axis=0):
    """Per-scrape increments of a cumulative counter (`*_total`).

    Returns float64 of the same shape as x; the first scrape along `axis` is
    NaN (its increment is unknown). A decrease is a counter reset, as in
    Prometheus: the increment is then the new value. So the result is never
    negative.

    >>> increments(np.array([3, 5, 5, 9], dtype=np.uint32))
    array([nan,  2.,  0.,  4.])
    """
    a = np.asarray(x)
    cur = a.astype(np.float64)
    prev = np.take(cur, range(cur.shape[axis] - 1), axis=axis)
    nxt = np.take(cur, range(1, cur.shape[axis]), axis=axis)
    d = nxt - prev
    d = np.where(d < 0, nxt, d)
    shape = list(cur.shape)
    shape[axis] = 1
    return np.concatenate([np.full(shape, np.nan), d], axis=axis)


def _nanmedian(x, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=axis)


class Run:
    """An open, complete fleetsim run directory.

    Run(run_dir) opens run_dir/fleet.h5 read-only and checks that its root
    attribute `complete` is 1; it raises FleetDataError otherwise. Use it as
    a context manager, or call close().
    """

    def __init__(self, run_dir):
        self.dir = os.fspath(run_dir)
        self.path = os.path.join(self.dir, "fleet.h5")
        if not os.path.isdir(self.dir):
            raise FleetDataError(f"{self.dir}: no such run directory")
        if not os.path.isfile(self.path):
            partial = self.path + ".partial"
            hint = f" (only {partial}: the run did not finish)" if os.path.exists(partial) else ""
            raise FleetDataError(f"{self.path}: no such file{hint}")
        try:
            self.f = h5py.File(self.path, "r")
        except OSError as e:
            raise FleetDataError(f"{self.path}: not an HDF5 archive ({e})") from None
        complete = self.f.attrs.get("complete")
        if complete is None or int(np.asarray(complete).ravel()[0]) != 1:
            self.f.close()
            raise FleetDataError(f"{self.path}: attribute complete = {complete!r}, not 1 "
                                 "(an unfinished or damaged run)")
        self._check_filters()
        self._topo = None
        self._scn = None

    def _check_filters(self):
        """Refuses an archive whose telemetry filter this h5py cannot load,
        with the way to get it (reads would fail later, less clearly)."""
        d = self.f.get("/telemetry/gpu/gpu_temp_celsius")
        if d is None:
            return
        plist = d.id.get_create_plist()
        codes = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
        if LZ4_FILTER not in codes or h5py.h5z.filter_avail(LZ4_FILTER):
            return
        self.f.close()
        raise FleetDataError(
            f"{self.path}: its telemetry is compressed with the HDF5 LZ4 filter "
            f"({LZ4_FILTER}), which this h5py cannot load: install the HDF5 filter plugins "
            "(Debian: apt-get install hdf5-filter-plugin) or point HDF5_PLUGIN_PATH at the "
            "directory holding libh5lz4.so")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the archive (idempotent)."""
        if self.f:
            self.f.close()
            self.f = None

    # -- metadata ---------------------------------------------------------
    def attrs(self):
        """Root attributes as a dict; `config` is parsed from JSON."""
        out = {k: (_str(v) if isinstance(v, (bytes, str)) else v) for k, v in self.f.attrs.items()}
        if "config" in out:
            out["config"] = json.loads(out["config"])
        return out

    def time_seconds(self):
        """Simulated time of every scrape, float64 [T] seconds from the start."""
        return self.f["/time/seconds"][:]

    def time_hours(self):
        """Simulated time of every scrape, float64 [T] hours from the start."""
        return self.time_seconds() / 3600.0

    def scrape_interval_s(self):
        """Seconds between scrapes."""
        return float(np.asarray(self.f.attrs["scrape_interval_s"]).ravel()[0])

    def metrics(self):
        """{name: {group, units, long_name, dcgm_field, tenants, counter, shape}}
        for every telemetry dataset (group: gpu, node or cluster)."""
        out = {}
        for g in GROUPS:
            for name, d in self.f["/telemetry/" + g].items():
                a = d.attrs
                out[name] = {
                    "group": g,
                    "units": _str(a.get("units", "")),
                    "long_name": _str(a.get("long_name", name)),
                    "dcgm_field": _str(a["dcgm_field"]) if "dcgm_field" in a else None,
                    "tenants": _str(a["tenants"]).split(",") if "tenants" in a else list(TENANTS),
                    "counter": name.endswith("_total"),
                    "shape": d.shape,
                }
        return out

    def dataset(self, name):
        """The h5py dataset of telemetry metric `name` (for your own hyperslabs)."""
        for g in GROUPS:
            p = f"/telemetry/{g}/{name}"
            if p in self.f:
                return self.f[p]
        raise FleetDataError(f"{self.path}: no telemetry metric {name!r}")

    def topology(self):
        """Fleet topology as a dict of numpy arrays and lists:
        node_rack, node_tenant (0 moe, 1 dense, 2 training), node_job (-1
        none), node_job_rank, gpu_lot [nodes, 8], rack_row, job_id (list of
        'train-NNN'), job_model, job_nodes (list of node arrays, one per job),
        job_step_time_s, nodes, racks, tenants (names by code)."""
        if self._topo is None:
            t = self.f["/topology"]
            topo = {k: t[k][:] for k in ("node_rack", "node_tenant", "node_job", "node_job_rank",
                                          "gpu_lot", "rack_row", "job_step_time_s")}
            topo["job_id"] = [_str(x) for x in t["job_id"][:]]
            topo["job_model"] = [_str(x) for x in t["job_model"][:]]
            nodes, off = t["job_nodes"][:], t["job_offset"][:]
            topo["job_nodes"] = [nodes[off[j]:off[j + 1]] for j in range(len(off) - 1)]
            topo["nodes"] = len(topo["node_rack"])
            topo["racks"] = len(topo["rack_row"])
            topo["tenants"] = list(TENANTS)
            self._topo = topo
        return self._topo

    def node_index(self, node):
        """Node index from an int or a 'node-NNNN' name."""
        if isinstance(node, str):
            if not node.startswith("node-"):
                raise FleetDataError(f"node {node!r}: expected 'node-NNNN' or an index")
            node = int(node[5:])
        n = self.topology()["nodes"]
        if not 0 <= int(node) < n:
            raise FleetDataError(f"node {node}: out of range 0..{n - 1}")
        return int(node)

    def tenant_nodes(self, tenant):
        """Indices of the nodes of a tenant (name or code 0/1/2)."""
        code = TENANTS.index(tenant) if isinstance(tenant, str) else int(tenant)
        return np.flatnonzero(self.topology()["node_tenant"] == code)

    def scenarios(self):
        """Ground truth: a list of dicts id, kind, start_s, end_s, start_h,
        end_h, nodes, impacted, gpus (node*8+gpu) and params (dict), in file
        order. Ground truth is for scoring and plotting, not for detectors."""
        if self._scn is None:
            out = []
            g = self.f["/ground_truth"]
            for row in g["scenarios"][:]:
                sid = _str(row["id"])
                s = {"id": sid, "kind": _str(row["kind"]),
                     "start_s": float(row["start_s"]), "end_s": float(row["end_s"])}
                s["start_h"], s["end_h"] = s["start_s"] / 3600.0, s["end_s"] / 3600.0
                sub = g[sid] if sid in g else {}
                for k in ("nodes", "impacted", "gpus"):
                    s[k] = sub[k][:] if k in sub else np.zeros(0, dtype=np.int32)
                params = sub.attrs.get("params") if sid in g else None
                s["params"] = json.loads(_str(params)) if params is not None else {}
                out.append(s)
            self._scn = out
        return self._scn

    def events(self):
        """L1 events (/events/l1) as a dict of column arrays, text columns
        decoded to str arrays (scope, metric, escalation_reason, cooccur)."""
        d = self.f["/events/l1"][:]
        out = {}
        for k in d.dtype.names:
            col = d[k]
            out[k] = col.astype(str) if col.dtype.kind == "S" else col
        return out

    # -- telemetry --------------------------------------------------------
    def _time_range(self, t_from_h, t_to_h):
        h = self.time_hours()
        a = 0 if t_from_h is None else int(np.searchsorted(h, t_from_h, side="left"))
        b = len(h) if t_to_h is None else int(np.searchsorted(h, t_to_h, side="left"))
        return a, max(a, b)

    def load_node(self, node, metrics=None, t_from_h=None, t_to_h=None):
        """One node's series: {metric: array}, GPU metrics [T, 8], node
        metrics [T] (NaN where the metric does not apply to the node's tenant).
        metrics: names (GPU or node metrics); default all of them. Reads one
        hyperslab per metric, touching only the node's rack chunks."""
        i = self.node_index(node)
        a, b = self._time_range(t_from_h, t_to_h)
        if metrics is None:
            metrics = list(self.f["/telemetry/gpu"]) + list(self.f["/telemetry/node"])
        out = {}
        for m in metrics:
            d = self.dataset(m)
            if d.ndim == 1:
                raise FleetDataError(f"{m} is a cluster metric: use load_metric({m!r})")
            out[m] = d[a:b, i]
        return out

    def load_metric(self, name, nodes=None, t_from_h=None, t_to_h=None,
                    max_bytes=DEFAULT_MAX_BYTES):
        """One metric over nodes and time: GPU [T', n, 8], node [T', n],
        cluster [T']. nodes: None (all), an int, a slice or a list of
        indices (returned in the order given). t_from_h/t_to_h select the
        scrapes with t_from_h <= hours < t_to_h. Refuses results over
        max_bytes (None: no limit) and reads in time slabs."""
        d = self.dataset(name)
        a, b = self._time_range(t_from_h, t_to_h)
        if d.ndim == 1:
            return d[a:b]
        n = d.shape[1]
        if nodes is None:
            sel = slice(0, n)
        elif isinstance(nodes, slice):
            sel = nodes
        elif np.ndim(nodes) == 0:
            sel = [self.node_index(nodes)]
        else:
            sel = [self.node_index(x) for x in nodes]
        count = len(range(*sel.indices(n))) if isinstance(sel, slice) else len(sel)
        per = int(np.prod(d.shape[2:], dtype=np.int64)) * d.dtype.itemsize
        size = (b - a) * count * per
        if max_bytes is not None and size > max_bytes:
            raise FleetDataError(f"{name}: {size / 2**20:.0f} MiB asked, over max_bytes = "
                                 f"{max_bytes / 2**20:.0f} MiB; select nodes or hours, or use "
                                 "block_means()/median_over_nodes()")
        if isinstance(sel, slice):
            return d[a:b, sel]
        uniq, inv = np.unique(sel, return_inverse=True)
        out = np.empty((b - a, len(uniq)) + d.shape[2:], dtype=d.dtype)
        for t0, t1 in self._slabs(d, a, b):
            out[t0 - a:t1 - a] = d[t0:t1, uniq.tolist()]
        return out[:, inv]

    def _slabs(self, d, a=0, b=None):
        """(t0, t1) ranges of whole chunk rows of dataset d covering [a, b)."""
        b = d.shape[0] if b is None else b
        step = d.chunks[0] if d.chunks else max(1, (8 << 20) // max(1, d[0].nbytes))
        t0 = a
        while t0 < b:
            t1 = min(b, (t0 // step + 1) * step)
            yield t0, t1
            t0 = t1

    def block_means(self, name, block_scrapes=20, group="rack", nodes=None):
        """Group means of a metric per block of scrapes, NaN ignored.

        group: 'rack' (one column per rack), 'tenant' (3 columns) or 'node'.
        nodes: restrict to these node indices (default all). For a GPU metric
        the mean is over the group's nodes and their 8 GPUs; for a counter it
        is the mean per-scrape increment. Reads the archive one time slab at
        a time, and only the node range [min(nodes), max(nodes)]. Returns (hours [B] at the block starts, group labels [G],
        means [B, G]).

        >>> hrs, racks, m = run.block_means("inlet_temp_celsius", 20)  # 5-min blocks
        """
        d = self.dataset(name)
        if d.ndim == 1:
            raise FleetDataError(f"{name} is a cluster metric: it has no racks or nodes")
        topo = self.topology()
        keys = {"rack": topo["node_rack"], "tenant": topo["node_tenant"],
                "node": np.arange(topo["nodes"])}
        if group not in keys:
            raise FleetDataError(f"group {group!r}: expected rack, tenant or node")
        key = keys[group].astype(np.int64)
        ngroups = {"rack": topo["racks"], "tenant": len(TENANTS), "node": topo["nodes"]}[group]
        member = np.zeros((topo["nodes"], ngroups))
        sel = np.arange(topo["nodes"]) if nodes is None else \
            np.asarray([self.node_index(x) for x in nodes], dtype=np.int64)
        if len(sel) == 0:
            raise FleetDataError(f"{name}: block means over an empty node set")
        member[sel, key[sel]] = 1.0
        lo, hi = int(sel.min()), int(sel.max()) + 1   # read only the nodes' range
        member = member[lo:hi]
        T = d.shape[0]
        nb = (T + block_scrapes - 1) // block_scrapes
        sums = np.zeros((nb, ngroups))
        counts = np.zeros((nb, ngroups))
        counter = name.endswith("_total")
        prev = None
        for t0, t1 in self._slabs(d):
            x = d[t0:t1, lo:hi].astype(np.float64)
            if counter:
                raw = x
                x = increments(x if prev is None else np.concatenate([prev, x]), axis=0)
                x = x if prev is None else x[1:]
                prev = raw[-1:]
            ok = ~np.isnan(x)
            xs = np.where(ok, x, 0.0)
            if x.ndim == 3:
                xs, ok = xs.sum(axis=2), ok.sum(axis=2)
            blk = np.arange(t0, t1) // block_scrapes
            np.add.at(sums, blk, xs @ member)
            np.add.at(counts, blk, ok.astype(np.float64) @ member)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        hours = self.time_hours()[::block_scrapes][:nb]
        labels = np.arange(ngroups)
        return hours, labels, means

    def median_over_nodes(self, name, nodes, t_from_h=None, t_to_h=None):
        """Per-scrape median of a metric over the given nodes (and their GPUs
        for a GPU metric), NaN ignored: [T']. Reads one time slab at a time,
        so the tenant median of a whole default run costs no more memory than
        one slab. For a counter, use block_means() or increments() instead."""
        d = self.dataset(name)
        if d.ndim == 1:
            raise FleetDataError(f"{name} is a cluster metric: it has no nodes")
        idx = np.unique([self.node_index(x) for x in nodes])
        if len(idx) == 0:
            raise FleetDataError(f"{name}: median over an empty node set")
        a, b = self._time_range(t_from_h, t_to_h)
        out = np.empty(b - a)
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        for t0, t1 in self._slabs(d, a, b):
            x = d[t0:t1, lo:hi][:, idx - lo].astype(np.float64)
            out[t0 - a:t1 - a] = _nanmedian(x.reshape(t1 - t0, -1), axis=1)
        return out


def _run(run_dir):
    """(Run, owned): an open Run for a path, or the Run passed in."""
    return (run_dir, False) if isinstance(run_dir, Run) else (Run(run_dir), True)


def _call(run_dir, method, *args, **kw):
    run, owned = _run(run_dir)
    try:
        return getattr(run, method)(*args, **kw)
    finally:
        if owned:
            run.close()


def time_hours(run_dir):
    """Hours from the start of every scrape, [T]. `fd.time_hours("run1")`"""
    return _call(run_dir, "time_hours")


def topology(run_dir):
    """Topology dict (see Run.topology). `fd.topology("run1")["node_rack"]`"""
    return _call(run_dir, "topology")


def scenarios(run_dir):
    """Ground-truth scenarios (see Run.scenarios).
    `[s["id"] for s in fd.scenarios("run1") if s["kind"] == "training_straggler"]`"""
    return _call(run_dir, "scenarios")


def events(run_dir):
    """L1 events as column arrays (see Run.events). `fd.events("run1")["t_s"]`"""
    return _call(run_dir, "events")


def metrics(run_dir):
    """Metric catalogue with units (see Run.metrics)."""
    return _call(run_dir, "metrics")


def load_node(run_dir, node, metrics=None, t_from_h=None, t_to_h=None):
    """One node's series (see Run.load_node).
    `fd.load_node("run1", 61, ["gpu_temp_celsius"])["gpu_temp_celsius"]  # [T, 8]`"""
    return _call(run_dir, "load_node", node, metrics, t_from_h, t_to_h)


def load_metric(run_dir, name, nodes=None, t_from_h=None, t_to_h=None,
                max_bytes=DEFAULT_MAX_BYTES):
    """One metric over nodes and time (see Run.load_metric).
    `fd.load_metric("run1", "ttft_ms", nodes=[3, 6], t_from_h=2, t_to_h=3)  # [240, 2]`"""
    return _call(run_dir, "load_metric", name, nodes, t_from_h, t_to_h, max_bytes)


def block_means(run_dir, name, block_scrapes=20, group="rack", nodes=None):
    """Group means per block of scrapes (see Run.block_means)."""
    return _call(run_dir, "block_means", name, block_scrapes, group, nodes)


def median_over_nodes(run_dir, name, nodes, t_from_h=None, t_to_h=None):
    """Per-scrape median over nodes (see Run.median_over_nodes)."""
    return _call(run_dir, "median_over_nodes", name, nodes, t_from_h, t_to_h)
