"""Scale: keep every worker busy.

1. Simulated workers (`async-search --simulate W`): the real manager loop,
   request policy, journal and optimizer thread against W virtual workers in
   one process, real time. Utilisation = busy worker-seconds / (W x wall);
   evaluations against the ideal W x wall / mean duration; the optimizer's
   busy share and the workers' idle share tell where it breaks down. The
   "target" rows (issue 15) use CANDLE-like mixed spaces, asbench/problems/problem_mixed8.py
   (8 dimensions, 4 categorical) and problem_mixed12.py (12, 6 categorical):
   1,000 workers with 1 s evaluations must reach utilisation >= 0.95 with the
   optimizer busy <= 40% of the run.
2. Real MPI on this machine: 16 worker ranks (oversubscribed on its cores), a
   1 s model, 160 evaluations; utilisation from results.csv timestamps, and
   the gap between a worker's result and its next task (median, p99).

usage: python -m asbench.runners.scale [--quick] [--only sim|mpi]
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from asbench import BINARY, PROBLEMS, ROOT, bench_env
from async_search.problem import load_problem

PROBLEM = ROOT / "problems/as_problem.py"
ENV = bench_env()

MIXED8 = PROBLEMS / "problem_mixed8.py"    # 8 dimensions, 4 categorical
MIXED12 = PROBLEMS / "problem_mixed12.py"  # 12 dimensions, 6 categorical
SEED_5K = ["--init-size", "40000", "--num-buffer", "20000", "--max-threshold", "120",
           "--max-evals", "60000"]

# (workers, mean duration s, time limit s, extra flags, label, problem file)
FULL = [
    (10, 1.0, 30, [], "", PROBLEM),
    (100, 1.0, 30, [], "", PROBLEM),
    (1000, 1.0, 30, [], "", PROBLEM),
    (1000, 1.0, 30, [], "target", MIXED8),
    (1000, 1.0, 30, [], "target", MIXED12),
    (1000, 0.1, 30, [], "", PROBLEM),
    (1000, 10.0, 60, [], "", PROBLEM),
    (5000, 1.0, 30, [], "", PROBLEM),
    (5000, 10.0, 60, [], "", PROBLEM),
    (4999, 1.0, 30, SEED_5K, "seed 5K cfg", PROBLEM),
]
QUICK = [
    (10, 1.0, 10, [], "", PROBLEM),
    (1000, 1.0, 15, [], "target (short)", MIXED8),
    (4999, 1.0, 15, SEED_5K, "seed 5K cfg", PROBLEM),
]
TARGET_UTILISATION = 0.95   # issue 15: 1,000 workers, 1 s evaluations, mixed spaces
TARGET_BUSY = 0.40


def simulate(workers, duration, limit, extra, tmp, optimizer, problem=PROBLEM):
    exp = Path(tmp) / f"sim-{workers}-{duration}-{len(extra)}-{problem.stem}"
    cmd = [str(BINARY), "--simulate", str(workers), "--simulate-duration", str(duration),
           "--time-limit", str(limit), "--problem", str(problem), "--optimizer", optimizer,
           "--exp-dir", str(exp), "--quiet", *extra]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=limit + 600)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    out = proc.stdout
    util = re.search(r"utilisation ([\d.]+)%.*idle between tasks ([\d.]+)%", out)
    evals = re.search(r"evaluations this run: (\d+) of an ideal (\d+)", out)
    opt = re.search(r"optimizer: (\d+) turns, (\d+) points, busy ([\d.]+)% of the run "
                    r"\(([\d.]+) s per turn", out)
    with open(exp / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    first_start = min(float(r["m:timestamp_start"]) for r in rows) if rows else 0.0
    max_evals = next((int(extra[i + 1]) for i, x in enumerate(extra) if x == "--max-evals"), 0)
    return {"utilisation": float(util.group(1)) / 100, "idle": float(util.group(2)) / 100,
            "evals": int(evals.group(1)), "ideal": int(evals.group(2)),
            "opt_busy": float(opt.group(3)) / 100 if opt else 0.0,
            "turn": float(opt.group(4)) if opt else 0.0,
            "turns": int(opt.group(1)) if opt else 0,
            "first_start": first_start, "budget_done": max_evals and len(rows) >= max_evals,
            "duration": duration}


def diagnose(r):
    if "error" in r:
        return r["error"]
    notes = []
    if r["utilisation"] >= 0.95:
        notes.append("workers kept busy")
    elif r["opt_busy"] > 0.9:
        notes.append(f"the optimizer is saturated ({r['turn']:.2f} s per turn for "
                     f"{r['evals'] / max(r['turns'], 1):.0f} points)")
    if r["first_start"] > 0.5:
        notes.append(f"the first points took {r['first_start']:.1f} s to produce")
    if r["budget_done"]:
        notes.append("MAX_EVALS ran out: the last wave is partial")
    elif r["evals"] < 0.9 * r["ideal"] and r["utilisation"] >= 0.95:
        notes.append(f"evaluations: the time limit cut the last {r['duration']:g} s wave")
    return "; ".join(notes) or "start-up and dispatch latency"


def sim_table(cases, optimizer):
    print(f"### Simulated workers (optimizer {optimizer}, default NUM_BUFFER unless given)\n")
    print("| workers | space | evaluation | wall | utilisation | evaluations / ideal "
          "| optimizer busy | s per optimizer turn | points per turn | case "
          "| where it breaks down |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers, duration, limit, extra, label, problem in cases:
            r = simulate(workers, duration, limit, extra, tmp, optimizer, problem)
            space = f"{problem.stem} ({len(load_space(problem))}-d)"
            if "error" in r:
                print(f"| {workers} | {space} | {duration:g} s | {limit} s | - | - | - | - | - | "
                      f"{label} | {r['error']} |")
                continue
            per_turn = r["evals"] / max(r["turns"], 1)
            print(f"| {workers} | {space} | {duration:g} s | {limit} s | {r['utilisation']:.3f} | "
                  f"{r['evals']} / {r['ideal']} ({r['evals'] / max(r['ideal'], 1):.1%}) | "
                  f"{r['opt_busy']:.0%} | {r['turn']:.3f} | {per_turn:.0f} | {label} | "
                  f"{diagnose(r)} |", flush=True)
            if label.startswith("target"):
                targets.append((space, r))
    print()
    for space, r in targets:
        ok = r["utilisation"] >= TARGET_UTILISATION and r["opt_busy"] <= TARGET_BUSY
        print(f"Target on {space} (utilisation >= {TARGET_UTILISATION}, optimizer busy <= "
              f"{TARGET_BUSY:.0%}): {'met' if ok else 'MISSED'}")
    if targets:
        print()


def load_space(problem):
    """The dimensions of a problem file (for the table)."""
    return load_problem(str(problem)).space.dims


def real_mpi(workers=16, evals=160, sleep=1.0, optimizer="default"):
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "mpi"
        model = f"/bin/sh -c 'sleep {sleep}; echo IMPROVE_RESULT 0.5'"
        cmd = ["mpiexec", "-n", str(workers + 1), "--oversubscribe", "--bind-to", "none",
               str(BINARY), "--problem", str(PROBLEM), "--model-cmd", model,
               "--max-evals", str(evals), "--optimizer", optimizer, "--exp-dir", str(exp),
               "--quiet"]
        proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            print(f"real MPI run failed:\n{proc.stderr[-2000:]}")
            return 1
        rows = list(csv.DictReader(open(exp / "results.csv", newline="")))
    start = [float(r["m:timestamp_start"]) for r in rows]
    dur = [float(r["duration"]) for r in rows]
    submit = [float(r["m:timestamp_submit"]) for r in rows]
    gather = [float(r["m:timestamp_gather"]) for r in rows]
    wall = max(gather) - min(submit)
    util = sum(dur) / (workers * wall)
    gaps = []
    by_worker = {}
    for r, s, d in zip(rows, start, dur):
        by_worker.setdefault(r["worker"], []).append((s, s + d))
    for spans in by_worker.values():
        spans.sort()
        gaps += [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    gaps.sort()
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
    print(f"### Real MPI: {workers} worker ranks on {os.cpu_count()} cores, a {sleep:g} s model, "
          f"{evals} evaluations (optimizer {optimizer})\n")
    print("| utilisation (from results.csv) | wall | ideal wall | gap result -> next task: median "
          "| p99 | max |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {util:.3f} | {wall:.1f} s | {evals * sleep / workers:.1f} s | "
          f"{1000 * statistics.median(gaps):.1f} ms | {1000 * p99:.1f} ms | "
          f"{1000 * gaps[-1]:.1f} ms |")
    print(f"\n(target: utilisation >= 0.85: {'met' if util >= 0.85 else 'MISSED'}; the model's "
          "duration includes starting /bin/sh and sleep)\n")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=["sim", "mpi"])
    ap.add_argument("--optimizer", default="default")
    a = ap.parse_args(argv)
    if a.only != "mpi":
        sim_table(QUICK if a.quick else FULL, a.optimizer)
    if a.only != "sim":
        return real_mpi(evals=48 if a.quick else 160, optimizer=a.optimizer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
