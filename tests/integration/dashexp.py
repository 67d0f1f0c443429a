"""Synthetic experiment directories for the dashboard's tests and benchmark:
results.csv, intermediate.csv, config.json and run/JOB/model.log as the
manager writes them, with rows appended on demand. With ``objectives`` (two
names) the rows carry two conflicting objectives in o: columns, as a problem
with ``self.objectives`` writes them."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

HEADER = ("job_id,p:lr,p:act,objective,status,worker,m:timestamp_submit,"
          "m:timestamp_start,m:timestamp_gather,duration,steps\n")
CURVE_HEADER = "job_id,step,value,m:timestamp\n"
ACTS = ("relu", "elu", "tanh")


def objective(lr: float, act: str) -> float:
    return (math.log10(lr) + 2.5) ** 2 + ACTS.index(act) * 0.3 + 1.0


def second_objective(lr: float, act: str) -> float:
    """Conflicts with objective(): best at another lr and the other end of ACTS."""
    return (math.log10(lr) + 1.5) ** 2 + (len(ACTS) - 1 - ACTS.index(act)) * 0.3 + 1.0


class SyntheticExperiment:
    """An experiment directory that grows one row at a time (seeded)."""

    def __init__(self, root: Path, workers: int = 4, max_evals: int = 1000,
                 seed: int = 0, objectives: tuple[str, ...] = ()) -> None:
        self.root = root
        if len(objectives) not in (0, 2):
            raise ValueError(f"objectives: none or two names, not {objectives!r}")
        self.objectives = objectives
        self.workers = workers
        self.rng = random.Random(seed)
        self.n = 0
        self.clock = 0.0
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.json").write_text(json.dumps({
            "exp_id": root.name, "max_evals": max_evals, "workers": workers,
            "optimizer": "default", "start_time": 1.7e9}))
        (root / "manager.log").write_text(
            f"2026-01-01 00:00:00.000 info    experiment {root}: {workers} workers, "
            f"max_evals {max_evals}, optimizer default\n")
        (root / ".lock").write_text("pid 999999 on elsewhere\n")
        extra = "".join(f",o:{name}" for name in objectives)
        (root / "results.csv").write_text(HEADER[:-1] + extra + "\n")
        (root / "intermediate.csv").write_text(CURVE_HEADER)

    def row(self, status: str | None = None, obj: float | None = None,
            second: float | None = None) -> str:
        """The next row's text (not yet written); its job id is 0_N_0. ``second``
        is the second objective's value (with objectives)."""
        lr = 10 ** self.rng.uniform(-5, -1)
        act = self.rng.choice(ACTS)
        if status is None:
            status = "failed" if self.rng.random() < 0.08 else "ok"
        value = obj if obj is not None else objective(lr, act)
        job = f"0_{self.n}_0"
        worker = 1 + self.n % self.workers
        start = self.clock + 0.1
        end = start + self.rng.uniform(1, 3)
        self.clock += 0.7
        self.n += 1
        shown = repr(value) if status == "ok" else "nan"
        extra = ""
        if self.objectives:
            other = second if second is not None else second_objective(lr, act)
            extra = f",{shown},{repr(other) if status == 'ok' else 'nan'}"
        return (f"{job},{lr!r},{act},{shown},{status},{worker},{start - 0.05:.3f},"
                f"{start:.3f},{end:.3f},{end - start:.3f},{4 if status == 'ok' else ''}"
                f"{extra}\n")

    def append(self, count: int = 1, status: str | None = None,
               obj: float | None = None, logs: bool = True,
               second: float | None = None) -> list[str]:
        """Appends count rows (with curves, and model.logs when logs); returns them."""
        rows = [self.row(status, obj, second) for _ in range(count)]
        curves = []
        for text in rows:
            job, _, _, value, st = text.split(",")[:5]
            if st == "ok":
                final = float(value)
                curves += [f"{job},{s},{final + (4 - s) * 0.5!r},{self.clock:.3f}\n"
                           for s in range(1, 5)]
            if logs:
                run = self.root / "run" / job
                run.mkdir(parents=True, exist_ok=True)
                tail = ("Traceback (most recent call last):\nValueError: diverged\n"
                        if st != "ok" else f"IMPROVE_RESULT {value}\n")
                (run / "model.log").write_text(f"epoch 1\nepoch 2\n{tail}")
        with open(self.root / "results.csv", "a") as handle:
            handle.write("".join(rows))
        with open(self.root / "intermediate.csv", "a") as handle:
            handle.write("".join(curves))
        return rows
