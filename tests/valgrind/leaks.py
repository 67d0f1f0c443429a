#!/usr/bin/env python3
"""Valgrind memcheck of the manager over searches of growing size.

Runs rank 0 under valgrind (MPMD: `-n 1 valgrind async-search : -n W
async-search`) for each size in --evals (default 100 and 400 evaluations,
random optimizer, an instant model), and reports definitely/indirectly lost
bytes after the suppressions in tests/valgrind/, and the heap still in use at
exit (which also catches Python objects that our C code fails to release).
Fails (exit 1) if any loss record has a frame in csrc/ (a leak of ours), if
lost or in-use bytes grow with the number of evaluations, or if memcheck
reports other errors (invalid reads/writes, uninitialised values).

usage: /usr/bin/python3 tests/valgrind/leaks.py [--evals 100 400] [--workers 3]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUPPRESSIONS = [ROOT / "tests/valgrind/async-search.supp",
                Path("/usr/lib/valgrind/python3.supp"),
                Path("/usr/share/openmpi/openmpi-valgrind.supp")]
OUR_FILES = {p.name for p in (ROOT / "csrc").glob("*.c")}
ALLOWED_GROWTH = 1024  # bytes: lost memory must not scale with evaluations


def run(evals: int, workers: int, tmp: str) -> dict:
    log = f"{tmp}/valgrind-{evals}.log"
    args = ["--problem", str(ROOT / "problems/as_problem.py"), "--optimizer", "random",
            "--model-cmd", f"/usr/bin/python3 {ROOT}/tests/models/quadratic.py",
            "--max-evals", str(evals), "--exp-dir", f"{tmp}/exp-{evals}",
            # matplotlib's caches would grow with the rows plotted: not ours
            "--no-report"]
    vg = ["valgrind", "--leak-check=full", "--num-callers=40", f"--log-file={log}",
          "--errors-for-leak-kinds=definite"]
    vg += [f"--suppressions={s}" for s in SUPPRESSIONS if s.exists()]
    binary = str(ROOT / "build/async-search")
    cmd = (["mpiexec", "--oversubscribe", "--bind-to", "none", "-n", "1"] + vg + [binary] + args
           + [":", "-n", str(workers), binary] + args)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        sys.exit(f"leaks.py: the search of {evals} evaluations failed:\n{proc.stderr[-2000:]}")
    text = Path(log).read_text()

    def total(kind):
        m = re.search(kind + r" lost: ([\d,]+) bytes", text)
        return int(m.group(1).replace(",", "")) if m else 0

    records = re.split(r"\n==\d+== \n", text)
    ours = [r for r in records if "are definitely lost" in r or "are indirectly lost" in r
            if any(f"({name}:" in r for name in OUR_FILES)]
    m = re.search(r"ERROR SUMMARY: ([\d,]+) errors", text)
    errors = int(m.group(1).replace(",", "")) - len(re.findall("are definitely lost", text)) \
        if m else -1
    m = re.search(r"in use at exit: ([\d,]+) bytes", text)
    in_use = int(m.group(1).replace(",", "")) if m else -1
    return {"evals": evals, "definite": total("definitely"), "indirect": total("indirectly"),
            "ours": ours, "invalid": errors, "in_use": in_use, "log": log}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--workers", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run(n, a.workers, tmp) for n in a.evals]
        print("| evaluations | heap in use at exit | definitely lost | indirectly lost "
              "| loss records in csrc/ | memory errors |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in runs:
            print(f"| {r['evals']} | {r['in_use']} B | {r['definite']} B | {r['indirect']} B "
                  f"| {len(r['ours'])} | {r['invalid']} |")
        failed = False
        for r in runs:
            for rec in r["ours"]:
                print("leak of ours:\n" + rec, file=sys.stderr)
                failed = True
            if r["invalid"]:
                print(Path(r["log"]).read_text()[-4000:], file=sys.stderr)
                failed = True
        growth = max((runs[-1]["definite"] + runs[-1]["indirect"])
                     - (runs[0]["definite"] + runs[0]["indirect"]),
                     runs[-1]["in_use"] - runs[0]["in_use"])
        print(f"\ngrowth from {runs[0]['evals']} to {runs[-1]['evals']} evaluations (lost, or in "
              f"use at exit): {growth} B (allowed {ALLOWED_GROWTH} B)")
        if growth > ALLOWED_GROWTH:
            print(Path(runs[-1]["log"]).read_text()[-6000:], file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
