"""CPU used by waiting ranks: the manager and idle workers while one model runs.

Runs MAX_EVALS=1 with one slow model (SLEEP seconds) on W workers, so W-1
workers and the manager only wait; samples utime+stime of every async-search
process from /proc over a window in the middle of the run. Prints a table
(CPU seconds per wall second, in percent) and exits non-zero if --max-percent
is exceeded by an idle rank.

usage: python -m asbench.runners.idle_cpu [--workers 4] [--sleep 6] [--max-percent 2]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asbench import BINARY, ROOT, bench_env

TICK = os.sysconf("SC_CLK_TCK")


def parents():
    """pid -> parent pid of every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                out[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def descends(pid, root, parent):
    while pid in parent and pid > 1:
        if pid == root:
            return True
        pid = parent[pid]
    return False


def ranks(root):
    """pid -> (rank, cpu seconds) of the async-search ranks that mpiexec root
    started (not those of other searches, or other tests, on a shared
    machine)."""
    out = {}
    parent = parents()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or not descends(int(pid), root, parent):
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if not cmd or cmd[0] != bytes(BINARY):
                continue
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            rank = next((int(e.split(b"=")[1]) for e in env
                         if e.startswith(b"OMPI_COMM_WORLD_RANK=")), -1)
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[int(pid)] = (rank, (int(fields[11]) + int(fields[12])) / TICK)
        except (OSError, IndexError, ValueError):
            continue
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--sleep", type=float, default=6.0)
    ap.add_argument("--max-percent", type=float, default=None)
    a = ap.parse_args(argv)
    env = bench_env()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["mpiexec", "-n", str(a.workers + 1), "--oversubscribe", "--bind-to", "none",
               str(BINARY), "--problem", str(ROOT / "problems/as_problem.py"),
               "--model-cmd",
               f"/usr/bin/python3 {ROOT}/tests/models/quadratic.py --sleep {a.sleep}",
               "--max-evals", "1", "--optimizer", "random", "--exp-dir", f"{tmp}/exp"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(min(2.0, a.sleep / 3))
        t0, first = time.monotonic(), ranks(proc.pid)
        time.sleep(a.sleep / 2)
        t1, second = time.monotonic(), ranks(proc.pid)
        proc.wait()
    wall = t1 - t0
    sampled = [pid for pid in second if pid in first]
    if len(sampled) != a.workers + 1:
        print(f"FAIL: sampled {len(sampled)} processes of {BINARY}, expected {a.workers + 1} "
              f"ranks", file=sys.stderr)
        return 1
    print(f"| rank | role | CPU over {wall:.1f} s | percent of one core |")
    print("|---:|---|---:|---:|")
    worst = 0.0
    for pid, (rank, cpu1) in sorted(second.items(), key=lambda kv: kv[1][0]):
        if pid not in first:
            continue
        used = cpu1 - first[pid][1]
        pct = 100.0 * used / wall
        role = "manager" if rank == 0 else "worker"
        print(f"| {rank} | {role} | {used:.3f} s | {pct:.2f}% |")
        if rank != 0:
            worst = max(worst, pct)
    print(f"\nidle ranks: the busiest used {worst:.2f}% of a core "
          f"(clock tick {1000 / TICK:.0f} ms; the worker running the model waits in poll())")
    if a.max_percent is not None and worst > a.max_percent:
        print(f"FAIL: above {a.max_percent}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
