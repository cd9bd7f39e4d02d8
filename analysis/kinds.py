"""kinds: the registered fault kinds on the Python side, read from the
registry itself (scenarios/kinds/kinds.def) and each kind's knowledge file
(scenarios/kinds/<kind>.json), so no analysis script lists them.

    >>> names = registered()            # ['thermal_cascade', ...] in kinds.def order
    >>> spec = specs()["thermal_cascade"]  # {'signature_metrics': [...], 'entity': 'node', ...}

Used by detections.py (the signature metrics of the event-to-scenario rule)
and plots_generic.py (the plot of a kind without a hand-made one).
"""
import json
import os
import re

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", "kinds")
ENTITIES = ("gpu", "hot_gpu", "node", "rack", None)


class KindError(Exception):
    """A registry or knowledge file that cannot be read (the message names
    the file and what is wrong)."""


def registered(folder=FOLDER):
    """The kind names of kinds.def, in its order (the order of reports)."""
    path = os.path.join(folder, "kinds.def")
    try:
        with open(path) as f:
            names = re.findall(r"^SCN_KIND\((\w+)\)$", f.read(), re.M)
    except OSError as e:
        raise KindError(f"{path}: {e.strerror}") from None
    if not names:
        raise KindError(f"{path}: no SCN_KIND(name) line")
    return names


def specs(folder=FOLDER):
    """{kind: {signature_metrics, entity}} for every registered kind,
    in kinds.def order, from scenarios/kinds/<kind>.json: signature_metrics
    in the file's order (the order ranks an event's evidence, as in
    chk_signature_rank), entity 'gpu', 'hot_gpu', 'node', 'rack' or None
    (what the kind's ground truth targets)."""
    out = {}
    for k in registered(folder):
        path = os.path.join(folder, k + ".json")
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise KindError(f"{path}: {getattr(e, 'strerror', None) or e}") from None
        sig = doc.get("signature_metrics", [])
        if not isinstance(sig, list) or not all(isinstance(m, str) for m in sig):
            raise KindError(f"{path}: signature_metrics = {sig!r}, not a list of metric names")
        entity = doc.get("entity")
        if entity not in ENTITIES:
            raise KindError(f"{path}: entity = {entity!r}, not one of {ENTITIES}")
        out[k] = {"signature_metrics": list(sig), "entity": entity}
    return out
