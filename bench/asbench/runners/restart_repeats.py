"""Restart exactness: points evaluated twice across restarts.

Each experiment runs an 8-dimension mixed problem (real, log-real, integer,
categorical) on 3 workers with a 1 s model and ``--num-buffer 3``. It is
interrupted three times (SIGINT to ``mpiexec``, as Ctrl-C does) once the run
has written two rows of its own, so that evaluations are running and points
wait in the buffer; each time it continues with ``--restart``, and the last
run finishes its 24 evaluations. A point whose parameters appear in two rows
was evaluated twice.

Usage (from the project root, after ``make``)::

    python -m asbench.runners.restart_repeats # 3 experiments
    python -m asbench.runners.restart_repeats --anchor /tmp/a/build/async-search

``--anchor BINARY`` runs the same experiments with another build in the same
run (build one of an earlier commit in a worktree of its own, e.g.
``git worktree add /tmp/a 44afee7 && make -C /tmp/a``: a binary finds the
Python package of its own checkout).
"""

from __future__ import annotations

import argparse
import csv
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asbench import BINARY, ROOT, bench_env

PROBLEM = ROOT / "tests" / "integration" / "problems" / "problem_mixed8.py"
MODEL = ROOT / "tests" / "models" / "quadratic.py"
ENV = bench_env()
MPIEXEC = ["mpiexec", "-n", "4", "--oversubscribe", "--bind-to", "none"]
EVALS, STOPS, ROWS_PER_RUN = 24, 3, 2
WAIT_S = 120


def rows(exp: Path) -> list:
    path = exp / "results.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def experiment(binary: str, exp: Path, python: str) -> tuple:
    """(rows, points evaluated twice) of one experiment stopped STOPS times."""
    common = ["--problem", str(PROBLEM), "--max-evals", str(EVALS), "--num-buffer", "3",
              "--no-report", "--model-cmd", f"{python} {MODEL} --sleep 1"]
    where = ["--exp-dir", str(exp)]
    for _ in range(STOPS):
        before = len(rows(exp))
        proc = subprocess.Popen(MPIEXEC + [binary, *where, *common], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and proc.poll() is None \
                and len(rows(exp)) < before + ROWS_PER_RUN:
            time.sleep(0.2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(WAIT_S)
        where = ["--restart", str(exp)]
    subprocess.run(MPIEXEC + [binary, *where, *common], env=ENV, capture_output=True,
                   timeout=10 * WAIT_S)
    found = rows(exp)
    points = [tuple(v for k, v in r.items() if k.startswith("p:")) for r in found]
    return len(found), len(points) - len(set(points))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--experiments", type=int, default=3)
    ap.add_argument("--anchor", help="another build's async-search, run in the same run")
    ap.add_argument("--quick", action="store_true", help="one experiment")
    args = ap.parse_args(argv)
    n = 1 if args.quick else args.experiments
    builds = [("this build", str(BINARY))]
    if args.anchor:
        builds.insert(0, (f"anchor {args.anchor}", args.anchor))
    print("## Restart exactness: points evaluated twice across restarts\n")
    print(f"{EVALS} evaluations of an 8-d mixed problem, 3 workers, a 1 s model, "
          f"interrupted {STOPS} times (SIGINT to mpiexec) and restarted; "
          f"{n} experiment(s) per build.\n")
    print("| build | rows | evaluated twice | per experiment |")
    print("|---|---:|---:|---|")
    status = 0
    with tempfile.TemporaryDirectory(prefix="restart-repeats-") as tmp:
        for label, binary in builds:
            counts = []
            for i in range(n):
                exp = Path(tmp) / f"{len(counts)}-{abs(hash(label))}"
                counts.append(experiment(binary, exp, sys.executable))
                print(f"  {label}: experiment {i}: {counts[-1]}", file=sys.stderr, flush=True)
            total_rows = sum(r for r, _ in counts)
            twice = sum(d for _, d in counts)
            print(f"| {label} | {total_rows} | {twice} | "
                  f"{', '.join(str(d) for _, d in counts)} |")
            if binary == str(BINARY) and (twice or total_rows != n * EVALS):
                status = 1
    print("\nTarget: this build evaluates no point twice and finishes every experiment: "
          + ("**met**" if status == 0 else "**missed**"))
    return status


if __name__ == "__main__":
    sys.exit(main())
