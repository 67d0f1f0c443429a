"""A search of the built program (``mpiexec -n W+1 build/async-search``) with a stopper."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from asbench import BINARY, bench_env
from asbench.stopping import iepoch
from asbench.stopping.evaluations import Settings, read_experiment


def binary_has_stoppers(binary: Path = BINARY) -> bool:
    """Whether the built binary knows --stopper."""
    proc = subprocess.run([str(binary), "--help"], capture_output=True, text=True)
    return "--stopper" in proc.stdout + proc.stderr


def stopper_flags(method: str, s: Settings) -> List[str]:
    """The binary's flags for a method: none, asha, median, lce, iepochI; a rule may
    end in -minK (its first decision at step K: asha-min3, lce-min3) and then in
    -estimate or -rank (--stopper-tell; without either, the binary's default)."""
    kind, min_steps, tell = method, s.min_steps, []
    m = re.fullmatch(r"(.+?)(?:-min(\d+))?(?:-(estimate|rank))?", method)
    if m and m.group(1) in ("asha", "median", "lce"):
        kind = m.group(1)
        min_steps = int(m.group(2)) if m.group(2) else min_steps
        tell = ["--stopper-tell", m.group(3)] if m.group(3) else []
    if iepoch.parse(method):  # phase 1 of i-Epoch: no stopper, the model cut short
        kind = "none"
    if kind not in ("none", "asha", "median", "lce"):
        raise ValueError(f"unknown stopper method {method!r}")
    return ["--stopper", kind, "--stopper-min-steps", str(min_steps),
            "--stopper-eta", str(s.eta), "--stopper-warmup", str(s.warmup),
            "--stopper-max-step", str(s.max_step)] + tell


def run_binary(method: str, problem: Path, model: Sequence[str], seed: int, evals: int,
               s: Settings, exp_dir: Path, env: Optional[Mapping[str, str]] = None,
               stoppers: bool = True, optimizer: str = "") -> Dict[str, Any]:
    """One search under mpiexec; its evaluations and wall time."""
    cmd = ["mpiexec", "-n", str(s.workers + 1), "--oversubscribe", "--bind-to", "none",
           str(BINARY), "--problem", str(problem), *model, "--max-evals", str(evals),
           "--seed", str(seed), "--exp-dir", str(exp_dir), "--quiet"]
    if optimizer:
        cmd += ["--optimizer", optimizer]
    if stoppers:
        cmd += stopper_flags(method, s)
    elif method != "none":
        raise RuntimeError("build/async-search has no --stopper")
    full_env = bench_env(env)  # bench/ on the path: models run as python -m asbench...
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\nexit {proc.returncode}:\n"
                           f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return {"evaluations": read_experiment(exp_dir), "wall_s": wall, "command": cmd}


def run_simulated(problem: Path, objective: str, seed: int, evals: int, s: Settings,
                  exp_dir: Path, env: Mapping[str, str], duration: float,
                  optimizer: str = "") -> Dict[str, Any]:
    """One search of the binary against ``s.workers`` virtual workers (``--simulate``:
    the real manager and optimizer, no MPI, no model processes), each evaluation
    ``objective`` (file.py:function) and about ``duration`` seconds long."""
    cmd = [str(BINARY), "--problem", str(problem), "--simulate", str(s.workers),
           "--simulate-duration", str(duration), "--simulate-distribution", "lognormal",
           "--simulate-objective", objective, "--max-evals", str(evals), "--seed", str(seed),
           "--exp-dir", str(exp_dir), "--quiet", "--no-report"]
    if optimizer:
        cmd += ["--optimizer", optimizer]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=bench_env(env), capture_output=True, text=True,
                          timeout=3600)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\nexit {proc.returncode}:\n"
                           f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return {"evaluations": read_experiment(exp_dir), "wall_s": wall, "command": cmd}
