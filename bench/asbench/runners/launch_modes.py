"""Per-evaluation start-up: --launch subprocess vs --launch fork-server on TC1.

Runs the same small TC1 search (2 workers, N evaluations, 1 epoch so the
start-up is visible) in both modes, one after the other, and splits every
evaluation's wall time (results.csv `duration`, measured by the worker) into
run(params) (from the runner's `runner: timing ... run_s=` line) and the rest:
the overhead of starting the evaluation (interpreter, imports, reading the
defaults, writing the result, exit). Target: overhead <= 50 ms in fork-server
mode.

usage: python -m asbench.runners.launch_modes [--evals 10] [--epochs 1]
"""
import argparse
import csv
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from asbench import BINARY, ROOT, bench_env

DEFAULTS = ROOT / "python/async_search/benchmarks/tc1_default_model.txt"
PROBLEM = ROOT / "problems/problem_tc1.py"


def run_mode(mode: str, evals: int, defaults: Path, tmp: Path) -> dict:
    exp = tmp / f"exp-{mode}"
    env = bench_env({"CANDLE_DEFAULT_MODEL_FILE": str(defaults)})
    cmd = ["mpiexec", "-n", "3", "--oversubscribe", "--bind-to", "none",
           str(BINARY), "--problem", str(PROBLEM), "--model", "tc1",
           "--launch", mode, "--max-evals", str(evals), "--optimizer", "random",
           "--exp-dir", str(exp), "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        sys.exit(f"launch_modes.py: the {mode} search failed:\n{proc.stderr[-3000:]}")
    rows = list(csv.DictReader(open(exp / "results.csv", newline="")))
    total, run, imports = [], [], []
    for r in rows:
        log = (exp / "run" / r["job_id"] / "model.log").read_text()
        m = re.search(r"runner: timing import_s=([\d.]+) run_s=([\d.]+)", log)
        if r["status"] != "ok" or not m:
            continue
        total.append(float(r["duration"]))
        imports.append(float(m.group(1)))
        run.append(float(m.group(2)))
    overhead = sorted(t - r for t, r in zip(total, run))
    return {"mode": mode, "n": len(total), "duration": statistics.median(total),
            "run": statistics.median(run), "import": statistics.median(imports),
            "overhead": statistics.median(overhead),
            "p90": overhead[int(0.9 * (len(overhead) - 1))]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        defaults = tmp / "tc1_default_model.txt"
        defaults.write_text(re.sub(r"(?m)^epochs = \d+", f"epochs = {a.epochs}",
                                   DEFAULTS.read_text()))
        results = [run_mode(m, a.evals, defaults, tmp) for m in ("subprocess", "fork-server")]
    print(f"TC1, {a.epochs} epoch(s), 2 workers, {a.evals} evaluations per mode "
          "(medians; overhead = duration - run(params))\n")
    print("| launch | evaluations | duration | run(params) | model import | overhead | "
          "overhead p90 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['mode']} | {r['n']} | {r['duration']:.3f} s | {r['run']:.3f} s | "
              f"{r['import']:.3f} s | {1000 * r['overhead']:.0f} ms | {1000 * r['p90']:.0f} ms |")
    sub, fork = results
    print(f"\nfork-server saves {sub['overhead'] - fork['overhead']:.3f} s per evaluation "
          f"({sub['overhead'] / max(fork['overhead'], 1e-6):.0f}x less overhead); "
          f"target overhead <= 50 ms: {'met' if fork['overhead'] <= 0.05 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
