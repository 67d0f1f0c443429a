"""The early-stopping benchmark's summaries over seeds, its tables and its targets."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from asbench.reporting import GAP_LEVEL, gap_words, median_gap_interval
from asbench.reporting import fmt_fixed as _f
from asbench.reporting import nan_median as _median
from asbench.stopping.evaluations import (STOPPED, UNSTOPPED, Evaluation, best_evaluation,
                                          best_fully_trained, best_within, budget_trace,
                                          first_issued, fully_trained, overrun, stopped_at_end,
                                          steps_spent, steps_to_decision)


def summarize(runs: Mapping[str, Mapping[int, List[Evaluation]]], n_evals: int, max_step: int,
              budgets: Sequence[float], regret: Optional[Callable[[Evaluation], float]] = None
              ) -> Dict[str, Dict[str, Any]]:
    """Per method: medians over seeds of steps and best with N evaluations, with all of
    them, and the best within each step budget (with the seeds that ended before it)."""
    out: Dict[str, Dict[str, Any]] = {}
    for method, by_seed in runs.items():
        rows = {"steps_n": [], "decided_n": [], "best_n": [], "regret_n": [], "steps_all": [],
                "best_all": [], "evals_all": [], "fully_all": [], "stopped_all": [],
                "stopped_end": [],
                "overrun": [], "within": {b: [] for b in budgets},
                "ended_before": {b: 0 for b in budgets}}
        for evals in by_seed.values():
            first = first_issued(evals, n_evals)
            rows["steps_n"].append(steps_spent(first))
            rows["decided_n"].append(steps_to_decision(first))
            rows["best_n"].append(best_fully_trained(first, max_step))
            if regret is not None:
                best = best_evaluation(first, max_step)
                rows["regret_n"].append(regret(best) if best else math.inf)
            rows["steps_all"].append(steps_spent(evals))
            rows["best_all"].append(best_fully_trained(evals, max_step))
            rows["evals_all"].append(len(evals))
            rows["fully_all"].append(sum(fully_trained(e, max_step) for e in evals))
            rows["stopped_all"].append(sum(e.status == STOPPED for e in evals))
            rows["stopped_end"].append(stopped_at_end(evals, max_step))
            rows["overrun"].append(overrun(evals))
            trace = budget_trace(evals, max_step)
            for b in budgets:
                rows["within"][b].append(best_within(trace, b))
                if steps_spent(evals) < b:
                    rows["ended_before"][b] += 1
        med = {k: _median(v) for k, v in rows.items() if isinstance(v, list)}
        med["within"] = {b: _median(v) for b, v in rows["within"].items()}
        med["ended_before"] = rows["ended_before"]
        med["per_seed"] = rows
        out[method] = med
    return out


def tables(title: str, summary: Mapping[str, Mapping[str, Any]], n_evals: int,
           m_evals: int, max_step: int, budgets: Sequence[float], seeds: Sequence[int],
           objective: str, regret: bool) -> str:
    n_seeds = len(seeds)
    lines = [f"### {title}: with the same {n_evals} evaluations", "",
             f"Medians over {n_seeds} seeds ({', '.join(map(str, seeds))}): steps trained by the "
             f"first {n_evals} points issued, and the best {objective} among those that trained "
             f"all {max_step} steps" + ("; regret = its noise-free final value minus the known "
                                        "optimum" if regret else "") + ".", "",
             "| method | steps trained | vs none | to the stop decisions | best fully-trained "
             + objective + (" | regret |" if regret else " |"),
             "|---|---:|---:|---:|---:|" + ("---:|" if regret else "")]
    base = summary.get("none", {}).get("steps_n", math.nan)
    for method, s in summary.items():
        ratio = s["steps_n"] / base if base and not math.isnan(base) else math.nan
        lines.append(f"| {method} | {s['steps_n']:.0f} | {_f(ratio, 2)} | {s['decided_n']:.0f} | "
                     f"{_f(s['best_n'])} |" + (f" {_f(s['regret_n'])} |" if regret else ""))
    lines += ["", "\"To the stop decisions\": the same, a stopped evaluation counted up to the "
              "step at which the stopper decided (the binary's stops take ~0.1 s to act; "
              "Optuna's act at once)."]
    lines += ["", f"### {title}: best fully-trained {objective} with at most E steps", "",
              f"Stoppers and pruners ran {m_evals} evaluations, none and optuna-none {n_evals}; "
              "each cell is the "
              f"median over seeds of the best {objective} of the evaluations that finished "
              "while the steps spent stayed within E († some seeds had ended, spending less, "
              "before E; inf: nothing fully trained yet).", "",
              "| method | " + " | ".join(f"E = {b:.0f}" for b in budgets)
              + " | all: evaluations | stopped | at last step | steps | fully trained | best |",
              "|---|" + "---:|" * (len(budgets) + 6)]
    for method, s in summary.items():
        cells = []
        for b in budgets:
            mark = " †" if s["ended_before"][b] else ""
            cells.append(_f(s["within"][b]) + mark)
        lines.append(f"| {method} | " + " | ".join(cells)
                     + f" | {s['evals_all']:.0f} | {s['stopped_all']:.0f} | "
                     f"{s['stopped_end']:.0f} | {s['steps_all']:.0f} | {s['fully_all']:.0f} | "
                     f"{_f(s['best_all'])} |")
    lines += ["", "\"stopped\", \"at last step\" (stopped having reached the last step: "
              "counted as fully trained, with its last value), \"steps\", \"fully trained\": "
              "medians over seeds of each run's counts."]
    late = {m: s["overrun"] for m, s in summary.items() if not math.isnan(s["overrun"])}
    if late:
        lines.append("Steps a stopped evaluation trained past the stopper's decision (the "
                     "time to end it; mean per run, median over seeds): "
                     + ", ".join(f"{m} {v:.2f}" for m, v in late.items()) + ".")
    lines.append("")
    return "\n".join(lines)


#: steps of the share of none's steps at which matching_share looks
MATCH_GRID = 16


def matching_share(runs: Mapping[int, List[Evaluation]], seeds: Sequence[int],
                   steps: Mapping[int, float], target: float, max_step: int) -> Optional[float]:
    """The least share k/MATCH_GRID (k = 1..MATCH_GRID) of ``steps[seed]`` (none's
    steps, per seed) within which the median over seeds of the method's best
    fully-trained value is at most ``target`` (None: not even with all of them)."""
    traces = {seed: budget_trace(runs[seed], max_step) for seed in seeds}
    for k in range(1, MATCH_GRID + 1):
        if _median([best_within(traces[seed], k / MATCH_GRID * steps[seed])
                    for seed in seeds]) <= target:
            return k / MATCH_GRID
    return None


def main_stopper(runs: Mapping[str, Any]) -> Optional[str]:
    """The stopper the targets are about: lce when it ran, else asha (None: neither)."""
    return next((m for m in ("lce", "asha") if m in runs), None)


def targets(runs: Mapping[str, Mapping[int, List[Evaluation]]], n_evals: int, max_step: int,
            objective: str) -> str:
    """The issue's targets, per seed and on the medians over seeds.

    E is half of the steps none trained with its N evaluations (per seed): the
    main stopper's (lce, else asha) best within E against none's best with all
    N, and against each Optuna pruner's best within the same E."""
    main = main_stopper(runs)
    if main is None:
        return ""
    if "none" not in runs:
        return _against_pruners_only(main, runs, n_evals, max_step)
    seeds = [seed for seed in runs["none"] if seed in runs[main]]
    full = {seed: steps_spent(first_issued(runs["none"][seed], n_evals)) for seed in seeds}
    half = {seed: full[seed] / 2 for seed in seeds}
    none_best = {seed: best_fully_trained(first_issued(runs["none"][seed], n_evals), max_step)
                 for seed in seeds}

    def within(method: str, seed: int) -> float:
        return best_within(budget_trace(runs[method][seed], max_step), half[seed])

    ours = {seed: within(main, seed) for seed in seeds}
    wins = sum(ours[seed] <= none_best[seed] for seed in seeds)
    a_med, n_med = _median(list(ours.values())), _median(list(none_best.values()))
    fully = _median([sum(fully_trained(e, max_step) for e in runs[main][seed])
                     for seed in seeds])
    lines = ["Targets (E = half of the steps none trained with its evaluations, per seed):", "",
             f"- {main} within E: median best {objective} {_f(a_med)} vs none's {_f(n_med)} "
             f"with all of its steps; as good or better in {wins}/{len(seeds)} seeds: "
             f"**{'met' if a_med <= n_med else 'not met'}** (on the medians)"]
    lo, hi = median_gap_interval(ours, none_best)
    lines.append(f"- {main}'s median within E minus none's with all: {_f(a_med - n_med)}, "
                 f"{GAP_LEVEL:.0%} bootstrap interval over the seeds [{_f(lo)}, {_f(hi)}] "
                 f"({gap_words(lo, hi)})")
    lines.append(f"- {main}: evaluations trained fully, median over seeds: {fully:.0f}")
    share = matching_share(runs[main], seeds, full, n_med, max_step)
    lines.append(f"- the share of none's steps {main} needed to match none's median best: "
                 + (f"{share:.3g} (the least multiple of 1/{MATCH_GRID} at which its "
                    f"median best within it is as good)" if share is not None
                    else "more than all of none's steps"))
    for other in [m for m in runs if m.startswith("optuna-") and m not in UNSTOPPED]:
        lines.append(_against(main, other, ours, runs, seeds, within))
    lines.append("")
    return "\n".join(lines)


def _against_pruners_only(main: str, runs: Mapping[str, Mapping[int, List[Evaluation]]],
                          n_evals: int, max_step: int) -> str:
    """The targets against Optuna's pruners when none did not run: E is half
    of the steps none would train, N evaluations of max_step steps each (what
    none trains when no evaluation fails, as on the synthetic curves)."""
    pruners = [m for m in runs if m.startswith("optuna-") and m not in UNSTOPPED]
    if not pruners:
        return ""
    half = n_evals * max_step / 2
    seeds = sorted(runs[main])

    def within(method: str, seed: int) -> float:
        return best_within(budget_trace(runs[method][seed], max_step), half)

    ours = {seed: within(main, seed) for seed in seeds}
    lines = [f"Targets (none not run: E = half of N x {max_step} = {half:g} steps):", ""]
    lines += [_against(main, other, ours, runs, seeds, within) for other in pruners]
    lines.append("")
    return "\n".join(lines)


def _against(main: str, other: str, ours: Mapping[int, float], runs: Mapping[str, Any],
             seeds: Sequence[int], within: Callable[[str, int], float]) -> str:
    both = [seed for seed in seeds if seed in runs[other]]
    theirs = {seed: within(other, seed) for seed in both}
    better = sum(ours[seed] < theirs[seed] for seed in both)
    o_med = _median(list(theirs.values()))
    a_both = _median([ours[seed] for seed in both])
    lo, hi = median_gap_interval({seed: ours[seed] for seed in both}, theirs)
    return (f"- {main} vs {other}, both within E: {_f(a_both)} vs {_f(o_med)}; {main} "
            f"better in {better}/{len(both)} seeds: "
            f"**{'met' if a_both <= o_med else 'not met'}** (on the medians, as good or "
            f"better; the gap's {GAP_LEVEL:.0%} interval [{_f(lo)}, {_f(hi)}], "
            f"{gap_words(lo, hi)})")


def dominates(a: Tuple[float, float], b: Tuple[float, float]) -> bool:
    """Whether point a = (steps, best) dominates b: no more steps, no worse best, and
    better in one of the two."""
    return a[0] <= b[0] and a[1] <= b[1] and (a[0] < b[0] or a[1] < b[1])


def points(summary: Mapping[str, Mapping[str, Any]], objective: str) -> str:
    """Each method's (steps, best) point with all its evaluations (medians over seeds),
    and which points dominate the main stopper's."""
    main = main_stopper(summary)
    lines = [f"Each method's point with all its evaluations (medians over seeds): "
             f"(steps trained, best fully-trained {objective}); a point dominates another "
             f"when it has no more steps and no worse a best, and is better in one.", "",
             "| method | steps | best | dominates " + (main or "-") + " |", "|---|---:|---:|---|"]
    ref = (summary[main]["steps_all"], summary[main]["best_all"]) if main else None
    for method, s in summary.items():
        pt = (s["steps_all"], s["best_all"])
        dom = "-" if ref is None or method == main else ("**yes**" if dominates(pt, ref)
                                                         else "no")
        lines.append(f"| {method} | {pt[0]:.0f} | {_f(pt[1])} | {dom} |")
    lines.append("")
    return "\n".join(lines)
