#!/usr/bin/python3
"""Replicates: run fleetsim N times (seeds and/or randomized scenario files)
and report every figure as a mean with a 95% confidence interval.

The seed's own stated limitation is one run per backend; this answers it.
Each replicate k runs `fleetsim run --seed BASE+k` (and, with --random, a
fresh `fleetsim scenarios --random 6 --seed BASE+k` file), then reads
results/summary.json and results/detection.json.

Usage:
  /usr/bin/python3 analysis/replicates.py --runs 5 [--random] [--np 2]
      [--fleetsim build/fleetsim] [--out replicates] [-- extra fleetsim run args]
Output: a markdown table on stdout and OUT/replicates.json.
"""
import argparse
import json
import math
import os
import subprocess
import sys

# Two-sided 95% Student t quantiles by degrees of freedom (1..30), then normal.
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
       2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
       2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def mean_ci(values):
    """Mean and half-width of the 95% interval (None when undefined)."""
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return None, None
    m = sum(vals) / len(vals)
    if len(vals) < 2:
        return m, None
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
    t = T95[len(vals) - 2] if len(vals) - 1 <= len(T95) else 1.96
    return m, t * sd / math.sqrt(len(vals))


def run(cmd, env):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"replicates: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def fleet_args(extra):
    """The --config/--set arguments of `extra` (they shape the fleet that a
    random scenario file must fit)."""
    out, i = [], 0
    while i < len(extra):
        a = extra[i]
        if a in ("--config", "--set") and i + 1 < len(extra):
            out += [a, extra[i + 1]]
            i += 1
        elif a.startswith("--config=") or a.startswith("--set="):
            out.append(a)
        i += 1
    return out


def replicate(args, k, env):
    seed = args.base_seed + k
    out = os.path.join(args.out, f"run{k:03d}")
    cmd = ["mpirun", "-np", str(args.np), args.fleetsim, "run", "--quiet", "--seed", str(seed),
           "--out", out] + args.extra
    if args.random:
        scn = os.path.join(args.out, f"scenarios{k:03d}.json")
        run([args.fleetsim, "scenarios", "--random", "6", "--seed", str(seed), "--out", scn]
            + fleet_args(args.extra), env)
        cmd += ["--scenarios", scn]
    run(cmd, env)
    with open(os.path.join(out, "results", "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "results", "detection.json")) as f:
        detection = json.load(f)
    return summary, detection


def figures(summary, detection):
    """Flat {figure name: value} of one replicate."""
    fig = {}
    for b in summary["backends"]:
        name = b["name"]
        for layer, st in b["layers"].items():
            fig[f"{name} {layer} accuracy (strict)"] = st["accuracy_mean"]
            fig[f"{name} {layer} accuracy (strict, macro)"] = st["accuracy_macro"]
            fig[f"{name} {layer} accuracy (benchmark regex)"] = st["accuracy_regex_mean"]
            fig[f"{name} {layer} latency p95 (s)"] = st["latency_p95_s"]
            for s in st["by_scenario"]:
                if s["accuracy"] is not None:
                    fig[f"{name} {layer} accuracy on {s['kind']} (strict)"] = s["accuracy"]
        fig[f"{name} cost per 24 h (USD)"] = b["cost_per_24h_usd"]
    n = max(1, detection["scenarios_total"])
    fig["L1 scenarios detected (share)"] = detection["scenarios_detected"] / n
    fig["L1 scenarios localized (share)"] = detection["scenarios_localized"] / n
    fig["L1 scenarios escalated (share)"] = detection["scenarios_escalated"] / n
    fig["L1 events per day"] = detection["events_per_day"]
    fig["L1 escalated events matching a scenario (share)"] = detection["escalated_matching_share"]
    return fig


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, required=True, help="number of replicates (>= 2)")
    p.add_argument("--random", action="store_true", help="a randomized scenario file per run")
    p.add_argument("--np", type=int, default=2, help="MPI ranks per run (default 2)")
    p.add_argument("--base-seed", type=int, default=1000, help="seed of replicate 0")
    p.add_argument("--fleetsim", default="build/fleetsim", help="the fleetsim binary")
    p.add_argument("--out", default="replicates", help="output directory")
    p.add_argument("extra", nargs="*", help="further `fleetsim run` arguments (after --)")
    args = p.parse_args()
    if args.runs < 2:
        p.error("--runs must be at least 2 for an interval")
    if not os.access(args.fleetsim, os.X_OK):
        p.error(f"{args.fleetsim} is not an executable (build first: scripts/build.sh)")
    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ)
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    runs = []
    for k in range(args.runs):
        print(f"replicates: run {k + 1} of {args.runs}", file=sys.stderr, flush=True)
        runs.append(figures(*replicate(args, k, env)))
    names = sorted({name for r in runs for name in r})
    table = {}
    print(f"| figure | mean | 95% interval (n = {args.runs}) |\n|---|---|---|")
    for name in names:
        m, h = mean_ci([r.get(name) for r in runs])
        table[name] = {"mean": m, "ci95": h, "values": [r.get(name) for r in runs]}
        if m is None:
            continue
        print(f"| {name} | {m:.4g} | " + (f"± {h:.3g} |" if h is not None else "n/a |"))
    with open(os.path.join(args.out, "replicates.json"), "w") as f:
        json.dump({"runs": args.runs, "random": args.random, "figures": table}, f, indent=2)


if __name__ == "__main__":
    main()
