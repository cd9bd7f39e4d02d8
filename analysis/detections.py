"""detections: which L1 events (/events/l1) detect which ground-truth scenario.

Owns the event-to-scenario rule on the Python side, for the report's plots.
It is the rule of pipeline/score/truth_map.c, which results/detection.json
and the scorer apply (docs/detection.md): an event detects scenario S,
active over [start_s, end_s), when

- time: start_s <= t_s <= end_s + 10 min,
- evidence: its trigger metric is a signature metric of S's kind
  (`signature_metrics` in scenarios/kinds/<kind>.json),
- place: its node is a root-cause or impacted node of S, or it is a rack
  event on a rack, a job event on a job or a cluster event on the tenant of
  a root-cause node of S.

tests/analysis_test.py checks that the matches give results/detection.json's
event counts and first detections.

    >>> ev = run.events()
    >>> sig = signature_metrics()
    >>> hit = matches(run, s, ev, sig)              # bool per event
    >>> first = first_detection(ev, hit, s)         # None, or dict
    >>> best = assign(run, ev, sig)                 # scenario index per event, -1 none
"""
import numpy as np

import kinds

GRACE_S = 600.0


def signature_metrics(folder=kinds.FOLDER):
    """{kind: [signature metric, ...]} from each kind's knowledge file
    (scenarios/kinds/<kind>.json), the kinds in the registry's order
    (kinds.def); each list in the file's order (the order ranks an event's
    evidence, as in chk_signature_rank)."""
    return {k: v["signature_metrics"] for k, v in kinds.specs(folder).items()}


def _relation(run, s, ev, sig):
    """Per event: 3 names a root-cause node, 2 an impacted node, 1 the rack,
    job or tenant of a root-cause node, 0 no detection of s."""
    topo = run.topology()
    n = len(ev["t_s"])
    t = ev["t_s"]
    ok = (t >= s["start_s"]) & (t <= s["end_s"] + GRACE_S)
    ok &= np.isin(ev["metric"], sig.get(s["kind"], []))
    tier = np.zeros(n, dtype=np.int64)
    roots = np.asarray(s["nodes"], dtype=np.int64)
    roots = roots[(roots >= 0) & (roots < topo["nodes"])]
    node = ev["node"].astype(np.int64)
    scope = ev["scope"]
    group = ((scope == "rack") & np.isin(ev["rack"], topo["node_rack"][roots]) & (ev["rack"] >= 0))
    group |= (scope == "job") & np.isin(ev["job"], topo["node_job"][roots]) & (ev["job"] >= 0)
    group |= ((scope == "cluster") & np.isin(ev["tenant"], topo["node_tenant"][roots])
              & (ev["tenant"] >= 0))
    tier[group] = 1
    tier[(node >= 0) & np.isin(node, s["impacted"])] = 2
    tier[(node >= 0) & np.isin(node, s["nodes"])] = 3
    return np.where(ok, tier, 0)


def matches(run, s, ev=None, sig=None):
    """Boolean array over the events: which detect scenario s."""
    ev = run.events() if ev is None else ev
    sig = signature_metrics() if sig is None else sig
    return _relation(run, s, ev, sig) > 0


def first_detection(ev, hit, s):
    """The earliest detecting event of s: {t_s, latency_s, metric, events,
    escalated}, or None when no event detects it."""
    if not hit.any():
        return None
    k = int(np.flatnonzero(hit)[np.argmin(ev["t_s"][hit])])
    return {"t_s": float(ev["t_s"][k]), "latency_s": float(ev["t_s"][k] - s["start_s"]),
            "metric": str(ev["metric"][k]), "events": int(hit.sum()),
            "escalated": bool((ev["escalated"][hit] != 0).any())}


def assign(run, ev=None, sig=None):
    """Per event the index (into run.scenarios()) of the scenario it is
    about, -1 for none: the closest relation wins (root-cause node, then
    impacted node, then rack/job/tenant), then the stronger evidence (the
    earlier signature metric), then the earlier start, as in tmap_best."""
    ev = run.events() if ev is None else ev
    sig = signature_metrics() if sig is None else sig
    n = len(ev["t_s"])
    best = np.full(n, -1, dtype=np.int64)
    key = np.zeros((n, 3))   # (tier, -rank, -start) of the best so far
    for k, s in enumerate(run.scenarios()):
        tier = _relation(run, s, ev, sig)
        names = sig.get(s["kind"], [])
        rank = np.array([names.index(m) if m in names else len(names) for m in ev["metric"]])
        cand = np.stack([tier, -rank, np.full(n, -s["start_s"])], axis=1)
        better = (tier > 0) & ((best < 0) | _lexi_greater(cand, key))
        best[better] = k
        key[better] = cand[better]
    return best


def _lexi_greater(a, b):
    """Row-wise a > b in lexicographic order."""
    gt = np.zeros(len(a), dtype=bool)
    eq = np.ones(len(a), dtype=bool)
    for j in range(a.shape[1]):
        gt |= eq & (a[:, j] > b[:, j])
        eq &= a[:, j] == b[:, j]
    return gt
