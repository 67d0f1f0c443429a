"""Early stopping: steps (epochs) trained and best fully-trained objective, stoppers against Optuna.

Usage (from the project root, after ``make`` and ``make data``)::

    nice python -m asbench.runners.early_stopping          # full: ~45 min on 2 busy cores
    nice python -m asbench.runners.early_stopping --quick  # ~6 minutes
    BENCH=early_stopping bin/run-bench                     # the same, into build/bench/
    python -m asbench.runners.early_stopping --part synthetic --seeds 0,1 --evals 20

Parts, each comparing, per seed,

- the real binary (``mpiexec -n W+1 build/async-search``, W workers) with
  ``--stopper none``, ``lce``, ``asha`` and ``median`` (and, in the synthetic
  part, ``asha`` with its first rung at step 3: ``asha-min3``; any rule as
  ``RULE-minK`` (its first decision at step K) and then ``-estimate`` or
  ``-rank`` (``--stopper-tell``: the optimizer told the stopper's estimate of a
  stopped trial's final, or its step and value; without either, the binary's
  default, ``estimate``);
- i-Epoch (``iepoch1``, ``iepoch3``, ``iepoch9``; ``iepochI-topK``), the
  baseline of Egele et al. (``asbench.stopping.iepoch``): the binary with
  ``--stopper none`` and the model cut at step I (its optimizer hears the
  value at step I), then the K best (3) trained fully in this process, from
  scratch; with ``--iepoch-simulate S`` the first phase runs under
  ``--simulate W`` (the same manager and optimizer, virtual workers of about S
  seconds, no model processes: far cheaper on a busy machine);
- Optuna's TPESampler (seeded like the search) with its HyperbandPruner,
  MedianPruner and SuccessiveHalvingPruner, and without a pruner
  (``optuna-none``: the optimizers compared without stopping), driven in this
  process on the same model and space.

Stoppers and pruners share the settings: first rung / warm-up step
``--min-steps`` (1, the binary's default), reduction factor ``--eta`` (3), median warm-up of 5
trials, the last step known (``--stopper-max-step``, Optuna's
``max_resource``).  ``none`` and ``optuna-none`` run ``--evals`` evaluations
(N); the others run ``--stopper-evals`` (M > N), so that what they find with a
given number of steps can be compared with ``none`` at equal steps.

Part a, ``synthetic``: ``asbench/problems/lc_model.py`` (a 5-d mixed space, realistic
crossing learning curves of 27 steps, a known optimum) run as a
``--model-cmd`` with a sleep of ``--sleep`` (0.05 s) per step; Optuna is driven in an
asynchronous simulation of W workers (each step one time unit; a new trial is
asked when one ends, as the manager does).  Many seeds.

Part b, ``tc1``: TC1 on the real offline data (``make data``), 27 epochs on
200 genes (a ``CANDLE_DEFAULT_MODEL_FILE`` with these settings and narrower
convolutions, ~0.2 s an epoch), the search space of
``asbench/problems/problem_tc1_bench.py``; the binary runs ``--model tc1`` with the
fork server, each model reporting val_loss per epoch; Optuna runs
``study.optimize`` (one trial at a time) on the same network and data in this
process, reporting val_loss each epoch and pruning from inside the training
loop.

Part c, ``replay`` (not in ``both``; ``--part replay``): TC1's measured
curves replayed by ``asbench.runners.tc1_replay`` (each point gets the curve of the
nearest point of ``--curves``, by default asbench/problems/tc1_curves.csv, 621 full
curves of a 20-seed TC1 run), as a ``--model-cmd`` with ``--sleep`` per step
for the binary and asynchronously simulated for Optuna as in part a.  The
same comparison as part b with 40 seeds in ~20 minutes: what a real run's
medians cannot show for their noise.

Each median gap of the targets comes with a paired bootstrap interval over
the seeds (``asbench.reporting.median_gap_interval``), so that a gap within the seeds' spread
is not read as a result.

Accounting (``asbench.stopping.evaluations``, tested by
``asbench/tests/test_early_stopping_bench.py``): the steps an evaluation
trained are the last step it reported (``steps`` in results.csv; the last
``IMPROVE_INTERMEDIATE`` line of its model.log when the column is missing); a
*fully-trained* evaluation has status ``ok`` and reached the last step; the
best fully-trained objective is the lowest objective among those.  "With N
evaluations" counts the first N points issued (points.log order), finished
whenever they finish; "with at most E steps" takes the evaluations in the
order they finished while their steps add up to at most E.

Markdown tables on stdout (progress on stderr); raw numbers in
``build/bench/early_stopping.json``, and after each seed in
``early_stopping.json.partial``.  ``--merge A.json B.json.partial ...
--part P`` prints one report of part P from several runs (seeds run in
parallel processes, or a run stopped early): the targets, and each method's
(steps, best) point with whether it dominates lce's.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from asbench import BINARY, OUT_DIR, PROBLEMS, ROOT
from asbench.problems import lc_model
from asbench.reporting import fmt_fixed as _f
from asbench.reporting import nan_median as _median
from asbench.runners import tc1_replay
from asbench.stopping import iepoch
from asbench.stopping import cut_objective
from asbench.stopping.binary import binary_has_stoppers, run_binary, run_simulated
from asbench.stopping.evaluations import (BINARY_METHODS, OPTUNA_METHODS, STOPPED, UNSTOPPED,
                                          Evaluation, Settings, best_fully_trained,
                                          first_issued, steps_spent)
from asbench.stopping.optuna_side import optuna_async, optuna_tc1
from asbench.stopping.tables import points, summarize, tables, targets
from asbench.stopping.tc1 import TC1_SETTINGS, TC1InProcess, tc1_defaults_file
from async_search import load_problem

LC_PROBLEM = PROBLEMS / "problem_lc.py"
TC1_PROBLEM = PROBLEMS / "problem_tc1_bench.py"
FULL = {
    "synthetic": {"seeds": list(range(10)), "evals": 24, "stopper_evals": 60,
                  "methods": BINARY_METHODS + iepoch.METHODS + OPTUNA_METHODS},
    "tc1": {"seeds": list(range(10)), "evals": 18, "stopper_evals": 60,
            "methods": ("none", "lce", "asha", "median", "optuna-none", "optuna-hyperband",
                        "optuna-median")},
    "replay": {"seeds": list(range(40)), "evals": 18, "stopper_evals": 60,
               "methods": ("none", "lce", "asha", "median") + iepoch.METHODS
               + ("optuna-hyperband", "optuna-median")},
}
QUICK = {
    "synthetic": {"seeds": [0, 1], "evals": 12, "stopper_evals": 30,
                  "methods": ("none", "lce", "asha", "median", "iepoch1") + OPTUNA_METHODS},
    "tc1": {"seeds": [0], "evals": 6, "stopper_evals": 15,
            "methods": ("none", "lce", "asha", "median", "optuna-hyperband", "optuna-median")},
    "replay": {"seeds": [0, 1], "evals": 12, "stopper_evals": 30,
               "methods": ("none", "lce", "asha", "median", "iepoch1", "optuna-hyperband",
                           "optuna-median")},
}
#: fractions of none's steps (with N evaluations) at which methods are compared
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


def say(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def binary_model(part: str, seed: int, sleep: float, curves: Path, flat: bool,
                 launch: str, cut: int = 0) -> List[str]:
    """The binary's model flags for a part; ``cut``: the model stops at that step
    (i-Epoch's phase 1; tc1 takes it from its defaults file instead)."""
    if part == "synthetic":
        return ["--model-cmd", f"{sys.executable} -m asbench.problems.lc_model "
                f"--sleep {sleep} --noise-seed {seed}" + (f" --max-step {cut}" if cut else "")]
    if part == "replay":
        return ["--model-cmd", f"{sys.executable} -m asbench.runners.tc1_replay "
                f"--curves {Path(curves).resolve()} --sleep {sleep}"
                + (" --flat" if flat else "") + (f" --max-step {cut}" if cut else "")]
    return ["--model", "tc1", "--launch", launch]


class PartRunner:
    """The methods of one part, run seed by seed (see run_part)."""

    def __init__(self, part: str, s: Settings, sleep: float, launch: str, workdir: Path,
                 stoppers: bool, optimizer: str, replay: Optional[tc1_replay.Replay],
                 curves: Path, iepoch_simulate: float = 0.0) -> None:
        self.part, self.s, self.sleep, self.launch = part, s, sleep, launch
        self.iepoch_simulate = iepoch_simulate if part != "tc1" else 0.0
        self.workdir, self.stoppers, self.optimizer = workdir, stoppers, optimizer
        self.replay, self.curves = replay, curves
        self.problem_path = LC_PROBLEM if part == "synthetic" else TC1_PROBLEM
        self.problem = load_problem(str(self.problem_path))
        self.env: Dict[str, str] = {}
        self.defaults: Optional[Path] = None
        self.tc1: Optional[TC1InProcess] = None
        self.phase1 = iepoch.Phase1Cache()
        if part == "tc1":
            self.defaults = tc1_defaults_file(workdir, s.max_step)
            self.env["CANDLE_DEFAULT_MODEL_FILE"] = str(self.defaults)

    def in_process(self) -> TC1InProcess:
        if self.tc1 is None:
            self.tc1 = TC1InProcess(self.defaults)
        return self.tc1

    def final(self, seed: int) -> Callable[[Mapping[str, Any]], float]:
        """A point's objective after a full training, computed in this process."""
        if self.part == "synthetic":
            return lambda p: lc_model.curve_value(p, self.s.max_step, seed)
        if self.part == "replay":
            return lambda p: self.replay.value_at(p, self.s.max_step)

        def train(p: Mapping[str, Any]) -> float:
            try:
                return self.in_process().train(p, lambda epoch, value: None)
            except (self.in_process()._runner.ObjectiveError, ValueError, RuntimeError):
                return math.nan
        return train

    def optuna(self, method: str, seed: int, evals: int) -> List[Evaluation]:
        if self.part == "synthetic":
            return optuna_async(
                self.problem, lambda p, t, seed=seed: lc_model.curve_value(p, t, seed),
                method, seed, evals, self.s)
        if self.part == "replay":
            return optuna_async(self.problem, self.replay.value_at, method, seed, evals,
                                self.s)
        return optuna_tc1(self.problem, self.in_process(), method, seed, evals, self.s)

    def binary(self, method: str, seed: int, evals: int, cut: int = 0) -> List[Evaluation]:
        model = binary_model(self.part, seed, self.sleep, self.curves,
                             self.replay is not None and self.replay.flat, self.launch, cut)
        env = dict(self.env)
        if cut and self.part == "tc1":
            env["CANDLE_DEFAULT_MODEL_FILE"] = str(
                tc1_defaults_file(self.workdir / f"cut{cut}", cut))
        exp = self.workdir / f"{self.part}-{method}-{seed}"
        return run_binary(method, self.problem_path, model, seed, evals, self.s, exp, env,
                          self.stoppers, self.optimizer)["evaluations"]

    def simulated(self, seed: int, evals: int, cut: int) -> List[Evaluation]:
        """i-Epoch's phase 1 under --simulate: the value at step ``cut`` of each point
        (asbench/stopping/cut_objective.py), every evaluation counted ``cut`` steps."""
        env = {"ASBENCH_CUT": str(cut), "ASBENCH_NOISE_SEED": str(seed),
               "ASBENCH_CURVES": str(Path(self.curves).resolve()),
               "ASBENCH_FLAT": "1" if self.replay is not None and self.replay.flat else ""}
        objective = f"{Path(cut_objective.__file__).resolve()}:{self.part}"
        exp = self.workdir / f"{self.part}-iepoch{cut}-sim-{seed}"
        out = run_simulated(self.problem_path, objective, seed, evals, self.s, exp, env,
                            self.iepoch_simulate, self.optimizer)["evaluations"]
        for e in out:
            e.steps = cut
        return out

    def iepoch(self, method: str, seed: int, evals: int) -> List[Evaluation]:
        i, k = iepoch.parse(method)
        (self.workdir / f"cut{i}").mkdir(parents=True, exist_ok=True)
        if self.iepoch_simulate > 0:
            def phase1_run() -> List[Evaluation]:
                return self.simulated(seed, evals, i)
        else:
            def phase1_run() -> List[Evaluation]:
                return self.binary(f"iepoch{i}", seed, evals, i)
        phase1 = self.phase1.get(i, seed, phase1_run)
        return iepoch.finish(phase1, k, self.s.max_step, self.final(seed))

    def run(self, method: str, seed: int, evals: int) -> List[Evaluation]:
        if method.startswith("optuna-"):
            return self.optuna(method, seed, evals)
        if iepoch.parse(method):
            return self.iepoch(method, seed, evals)
        return self.binary(method, seed, evals)


def run_part(part: str, seeds: Sequence[int], n_evals: int, m_evals: int,
             methods: Sequence[str], s: Settings, sleep: float, launch: str,
             workdir: Path, stoppers: bool, optimizer: str = "",
             replay: Optional[tc1_replay.Replay] = None,
             curves: Path = tc1_replay.CURVES, iepoch_simulate: float = 0.0,
             on_seed: Optional[Callable[[Dict[str, Any]], None]] = None) -> Dict[str, Any]:
    """Each method on each seed; ``on_seed(result so far)`` after each seed."""
    runs: Dict[str, Dict[int, List[Evaluation]]] = {}
    walls: Dict[str, Dict[int, float]] = {}
    skipped: Dict[str, str] = {}
    runner = PartRunner(part, s, sleep, launch, workdir, stoppers, optimizer, replay, curves,
                        iepoch_simulate)
    t_part = time.monotonic()
    for seed in seeds:
        for method in methods:
            if method in skipped:
                continue
            if (not method.startswith("optuna-") and not iepoch.parse(method)
                    and method != "none" and not stoppers):
                skipped[method] = "build/async-search has no --stopper yet"
                continue
            evals = n_evals if method in UNSTOPPED else m_evals
            t0 = time.monotonic()
            result = runner.run(method, seed, evals)
            wall = time.monotonic() - t0
            runs.setdefault(method, {})[seed] = result
            walls.setdefault(method, {})[seed] = wall
            say(f"  {part} seed {seed} {method}: {len(result)} evaluations, "
                f"{steps_spent(result)} steps, best fully-trained "
                f"{_f(best_fully_trained(result, s.max_step))} "
                f"({sum(e.status == STOPPED for e in result)} stopped; {wall:.0f} s; "
                f"part {time.monotonic() - t_part:.0f} s)")
        if on_seed is not None:
            on_seed({"runs": runs, "walls": walls, "skipped": skipped})
    return {"runs": runs, "walls": walls, "skipped": skipped,
            "hook": runner.tc1.hook_kind if runner.tc1 else None}


def report_part(part: str, result: Mapping[str, Any], seeds: Sequence[int], n_evals: int,
                m_evals: int, s: Settings, curves_name: str = "") -> Tuple[str, Dict[str, Any]]:
    runs = result["runs"]
    if "none" in runs:
        base = _median([steps_spent(first_issued(e, n_evals)) for e in runs["none"].values()])
    else:
        base = n_evals * s.max_step
    budgets = [round(f * base) for f in FRACTIONS]
    regret = None
    if part == "synthetic":
        def regret(e: Evaluation) -> float:
            return lc_model.true_final(e.point) - lc_model.OPTIMUM
    summary = summarize(runs, n_evals, s.max_step, budgets, regret)
    if part == "synthetic":
        title = (f"Synthetic learning curves (asbench/problems/lc_model.py, {s.max_step} steps, "
                 f"{s.workers} workers)")
        objective = "value"
    elif part == "replay":
        title = (f"TC1 replayed (asbench.runners.tc1_replay: the measured curve of the nearest "
                 f"point of {curves_name}; {s.workers} workers)")
        objective = "val_loss"
    else:
        title = (f"TC1, real data, {s.max_step} epochs on {TC1_SETTINGS['feature_subsample']} "
                 f"genes ({s.workers} workers; Optuna one trial at a time)")
        objective = "val_loss"
    text = tables(title, summary, n_evals, m_evals, s.max_step, budgets, seeds, objective,
                  regret is not None)
    text += "\n" + targets(runs, n_evals, s.max_step, objective)
    text += "\n" + points(summary, objective)
    if part == "synthetic":
        text += (f"\nKnown optimum (noise-free value at step {s.max_step}): "
                 f"{lc_model.OPTIMUM:.4f}.\n")
    for method, why in result["skipped"].items():
        text += f"\n{method}: skipped ({why}).\n"
    walls = result["walls"]
    if "none" in walls:
        ratio = {m: _median(list(w.values())) / max(_median(list(walls["none"].values())), 1e-9)
                 for m, w in walls.items() if not m.startswith("optuna-")}
        text += ("\nWall time of a search relative to none's in this run (binary only; "
                 "stoppers ran more evaluations, the machine is shared): "
                 + ", ".join(f"{m} {r:.2f}" for m, r in ratio.items()) + ".\n")
    raw = {"runs": {m: {str(seed): [asdict(e) for e in ev] for seed, ev in by.items()}
                    for m, by in runs.items()},
           "walls": walls, "budgets": budgets, "skipped": result["skipped"],
           "hook": result["hook"]}
    return text, raw


def write_partial(out: Path, raw: Mapping[str, Any], part: str, so_far: Mapping[str, Any],
                  settings: Mapping[str, Any]) -> None:
    """OUT.partial: the parts done and this one's seeds so far, as --merge reads them
    (a long run stopped early keeps its finished seeds)."""
    runs = {m: {str(seed): [asdict(e) for e in ev] for seed, ev in by.items()}
            for m, by in so_far["runs"].items()}
    doc = {**raw, part: {"runs": runs, "walls": so_far["walls"], "skipped": so_far["skipped"],
                         "settings": dict(settings)}}
    path = out.with_name(out.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, default=str))
    tmp.replace(path)


def load_runs(raw_part: Mapping[str, Any]) -> Dict[str, Dict[int, List[Evaluation]]]:
    """The runs of one part of a written early_stopping.json, as Evaluations."""
    return {m: {int(seed): [Evaluation(**e) for e in evs] for seed, evs in by.items()}
            for m, by in raw_part["runs"].items()}


def merge(paths: Sequence[Path], part: str) -> Tuple[str, Dict[str, Any]]:
    """One report of a part from several runs' JSON files (e.g. seeds run in parallel
    processes): their runs joined, method by method and seed by seed, on the seeds
    that every method ran; the settings of the first (the others must have the
    same)."""
    result: Dict[str, Any] = {"runs": {}, "walls": {}, "skipped": {}, "hook": None}
    settings = None
    for path in paths:
        raw = json.loads(Path(path).read_text())
        if part not in raw:
            raise ValueError(f"{path}: no part {part!r}")
        mine = raw[part]["settings"]
        keys = ("max_step", "min_steps", "eta", "warmup", "workers", "evals",
                "stopper_evals")
        if settings is None:
            settings = mine
        elif any(mine[k] != settings[k] for k in keys):
            raise ValueError(f"{path}: settings differ from {paths[0]}'s")
        for m, by in load_runs(raw[part]).items():
            result["runs"].setdefault(m, {}).update(by)
        for m, by in raw[part]["walls"].items():
            result["walls"].setdefault(m, {}).update({int(k): v for k, v in by.items()})
        result["skipped"].update(raw[part]["skipped"])
    # the seeds every method ran (runs stopped early end at different seeds)
    seeds = sorted(set.intersection(*(set(by) for by in result["runs"].values())))
    for key in ("runs", "walls"):
        result[key] = {m: {seed: v for seed, v in by.items() if seed in seeds}
                       for m, by in result[key].items()}
    s = Settings(settings["max_step"], settings["min_steps"], settings["eta"],
                 settings["warmup"], settings["workers"])
    curves = settings.get("curves", "")
    return report_part(part, result, seeds, settings["evals"], settings["stopper_evals"], s,
                       Path(curves).name if curves else "")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few seeds, few evaluations")
    parser.add_argument("--part", choices=("synthetic", "tc1", "both", "replay"), default="both",
                        help="both: synthetic and tc1; replay: measured TC1 curves (--curves)")
    parser.add_argument("--curves", type=Path, default=tc1_replay.CURVES,
                        help="replay: the curves CSV (asbench.runners.tc1_replay build)")
    parser.add_argument("--replay-flat", action="store_true",
                        help="replay: every step reports the last value (tc1_replay.py --flat)")
    parser.add_argument("--seeds", help="comma-separated seeds (both parts)")
    parser.add_argument("--evals", type=int, help="N: none's evaluations")
    parser.add_argument("--stopper-evals", type=int, help="M: the others' evaluations")
    parser.add_argument("--methods", help="comma-separated, of: " + ", ".join(
        BINARY_METHODS + iepoch.METHODS + OPTUNA_METHODS) + ", iepochI-topK")
    parser.add_argument("--epochs", type=int, default=TC1_SETTINGS["epochs"],
                        help="tc1: epochs of a full training (the last step)")
    parser.add_argument("--min-steps", type=int, default=1)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.05,
                        help="synthetic and replay models: seconds per step")
    parser.add_argument("--launch", default="fork-server", help="TC1's --launch")
    parser.add_argument("--optimizer", default="",
                        help="the binary's --optimizer (default: its default)")
    parser.add_argument("--keep", help="keep the experiments in this directory")
    parser.add_argument("--out", default=str(OUT_DIR / "early_stopping.json"))
    parser.add_argument("--iepoch-simulate", type=float, default=0.0, metavar="S",
                        help="synthetic, replay: i-Epoch's phase 1 under --simulate, "
                        "evaluations of about S seconds (0: under mpiexec with the model)")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="no run: one report of --part from these runs' --out files")
    args = parser.parse_args(argv)
    if args.merge:
        if args.part == "both":
            say("early_stopping.py: --merge: give the --part to report")
            return 2
        try:
            text, _ = merge(args.merge, args.part)
        except (OSError, ValueError, KeyError, TypeError) as e:
            say(f"early_stopping.py: --merge: {e}")
            return 2
        print(text)
        return 0
    if args.epochs < 2:
        say(f"early_stopping.py: --epochs: {args.epochs}: a full training needs at least 2")
        return 2

    replay = None
    if args.part == "replay":
        problem = load_problem(str(TC1_PROBLEM))
        try:
            replay = tc1_replay.Replay(
                tc1_replay.read_curves(args.curves, problem.space.names), problem,
                args.replay_flat)
        except (OSError, ValueError) as e:
            say(f"early_stopping.py: --curves: {e}")
            return 2
    if not BINARY.exists():
        say("early_stopping.py: build/async-search is not built: run make")
        return 2
    stoppers = binary_has_stoppers()
    if not stoppers:
        say("early_stopping.py: note: build/async-search has no --stopper: "
            "only none and Optuna run")
    base = QUICK if args.quick else FULL
    parts = ("synthetic", "tc1") if args.part == "both" else (args.part,)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    command = " ".join(["asbench.runners.early_stopping", *(argv or sys.argv[1:])])
    print(f"## Early stopping: `{command}`"
          f"\n\nCommit {commit}, {time.strftime('%Y-%m-%d')}; stoppers and pruners: first "
          f"rung / warm-up step {args.min_steps}, eta {args.eta}, median warm-up "
          f"{args.warmup} trials; {args.workers} workers; the binary's optimizer: "
          f"{args.optimizer or 'default'}.\n", flush=True)
    text, raw = "", {}
    with tempfile.TemporaryDirectory(prefix="es-bench-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for part in parts:
            cfg = base[part]
            seeds = ([int(x) for x in args.seeds.split(",")] if args.seeds else cfg["seeds"])
            n_evals = args.evals or cfg["evals"]
            m_evals = args.stopper_evals or max(cfg["stopper_evals"], n_evals)
            methods = args.methods.split(",") if args.methods else list(cfg["methods"])
            max_step = {"synthetic": lc_model.MAX_STEP, "tc1": args.epochs,
                        "replay": len(replay.curves[0][1]) if replay else 0}[part]
            s = Settings(max_step, args.min_steps, args.eta, args.warmup, args.workers)
            say(f"part {part}: {len(seeds)} seeds, methods {', '.join(methods)}; "
                f"none {n_evals} evaluations, the others {m_evals}")
            settings = {**asdict(s), "seeds": seeds, "evals": n_evals,
                        "stopper_evals": m_evals, "methods": methods, "sleep": args.sleep,
                        "launch": args.launch, "optimizer": args.optimizer or "default",
                        "iepoch_simulate": args.iepoch_simulate,
                        **({"curves": str(args.curves), "flat": args.replay_flat}
                           if replay else {})}

            def partial(so_far: Dict[str, Any], part: str = part,
                        settings: Dict[str, Any] = settings) -> None:
                write_partial(Path(args.out), raw, part, so_far, settings)
            result = run_part(part, seeds, n_evals, m_evals, methods, s, args.sleep,
                              args.launch, workdir, stoppers, args.optimizer, replay,
                              args.curves, args.iepoch_simulate, partial)
            part_text, raw[part] = report_part(part, result, seeds, n_evals, m_evals, s,
                                               str(args.curves)
                                               + (", --flat" if args.replay_flat else ""))
            raw[part]["settings"] = settings
            print(part_text, flush=True)
            text += part_text + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(raw, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
