"""Tests of async_search.report: the printed summary, report.png and the CLI."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from async_search import report

FIXTURE = Path(__file__).parent / "fixtures" / "report_exp"
PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "python"
HEADER = [
    "job_id", "p:lr", "p:act", "objective", "status", "worker",
    "m:timestamp_submit", "m:timestamp_start", "m:timestamp_gather", "duration",
]
# tab10 colours the figure uses for ok bars, failures and timeouts
BLUE, RED, ORANGE = (31, 119, 180), (214, 39, 40), (255, 127, 14)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "async_search.report", *args],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=120,
    )


@pytest.fixture()
def expdir(tmp_path: Path) -> Path:
    """A copy of the fixture experiment, so report.png lands in tmp_path."""
    target = tmp_path / "exp"
    shutil.copytree(FIXTURE, target)
    return target


def fixture_rows() -> list[dict[str, str]]:
    """The fixture's complete rows, parsed independently of the module under test."""
    text = (FIXTURE / "results.csv").read_text(encoding="utf-8")
    assert not text.endswith("\n"), "the fixture must keep its torn last line"
    complete = text[: text.rindex("\n") + 1]
    return list(csv.DictReader(complete.splitlines(keepends=True)))


def write_experiment(root: Path, rows: list[list[object]], config: dict | None = None,
                     header: list[str] = HEADER) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "results.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    if config is not None:
        (root / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return root


def section(text: str, title: str) -> list[str]:
    """The lines of the printed report from the line starting with ``title`` to a blank one."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def table(text: str, title: str) -> list[list[str]]:
    """Cells of the table under ``title`` (columns are separated by 2+ spaces)."""
    lines = section(text, title)
    return [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]


def load_png(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return (imread(str(path))[..., :3] * 255).round().astype(int)


def has_colour(pixels: np.ndarray, rgb: tuple[int, int, int], min_pixels: int = 20) -> bool:
    close = (np.abs(pixels - np.array(rgb)) <= 12).all(axis=-1)
    return int(close.sum()) >= min_pixels


# --------------------------------------------------------------------------- the fixture


def test_load_fixture_types_torn_line_and_awkward_strings() -> None:
    results = report.load_results(FIXTURE)
    rows = fixture_rows()
    assert len(results.frame) == len(rows) == 34
    assert results.params == ("learning_rate", "batch_size", "dropout", "activation", "dense")
    assert results.categorical == {"activation", "dense"}
    assert results.frame["p:batch_size"].dtype == np.int64
    assert results.frame["p:learning_rate"].dtype == np.float64
    assert results.workers == 3
    assert any("partial last line" in note for note in results.notes)
    assert "0_11_1" not in set(results.frame["job_id"])  # the torn row
    acts = set(results.frame["p:activation"])
    assert {'leaky "relu"', "sigmoid;fast", "Δtanh, ünï", "relu", "elu"} == acts
    assert list(results.frame["job_id"]) == [r["job_id"] for r in rows]  # gather order kept


def test_cli_prints_top_table_in_objective_order(expdir: Path) -> None:
    proc = run_cli(str(expdir), "--top", "5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    ok = [r for r in fixture_rows() if r["status"] == "ok"]
    ok.sort(key=lambda r: float(r["objective"]))
    cells = table(proc.stdout, "Top 5 results")
    header = re.split(r"\s{2,}", section(proc.stdout, "Top 5 results")[0].strip())
    assert header == ["rank", "job_id", "objective", "learning_rate", "batch_size", "dropout",
                      "activation", "dense"]
    assert len(cells) == 5
    for rank, (row, expected) in enumerate(zip(cells, ok), start=1):
        assert row[0] == str(rank)
        assert row[1] == expected["job_id"]
        assert float(row[2]) == pytest.approx(float(expected["objective"]))
        assert float(row[3]) == pytest.approx(float(expected["p:learning_rate"]))
        assert row[4] == expected["p:batch_size"]
        assert float(row[5]) == pytest.approx(float(expected["p:dropout"]))
        assert row[6] == expected["p:activation"]
        assert row[7] == expected["p:dense"]
    # the hand-checked best of the fixture
    assert cells[0][:3] == ["1", "0_10_0", "0.3579"]


def test_cli_awkward_categories_round_trip_in_the_table(expdir: Path) -> None:
    proc = run_cli(str(expdir), "--top", "100", "--no-plot")
    assert proc.returncode == 0, proc.stderr
    cells = table(proc.stdout, "Top 30 results")
    by_job = {r["job_id"]: r for r in fixture_rows()}
    assert len(cells) == 30
    for row in cells:
        assert row[6] == by_job[row[1]]["p:activation"]
        assert row[7] == by_job[row[1]]["p:dense"]
    printed = {row[6] for row in cells}
    assert {'leaky "relu"', "sigmoid;fast", "Δtanh, ünï"} <= printed


def test_cli_counts_utilisation_and_times_match_a_hand_computation(expdir: Path) -> None:
    proc = run_cli(str(expdir), "--no-plot")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    counts = {row[0]: int(row[1]) for row in table(out, "Evaluations by status")}
    assert counts == {"ok": 30, "failed": 3, "timeout": 1, "total": 34}

    rows = fixture_rows()
    wall = max(float(r["m:timestamp_gather"]) for r in rows) - min(
        float(r["m:timestamp_submit"]) for r in rows)
    busy = sum(float(r["duration"]) for r in rows)
    assert wall == pytest.approx(559.589 - 0.063)
    util = 100 * busy / (3 * wall)
    assert f"utilisation = busy worker-seconds / (workers x wall): {util:.1f}%" in out
    assert "94.1%" in out
    assert f"{len(rows) / (wall / 60):.4g}" in out  # evaluations per minute

    durations = sorted(float(r["duration"]) for r in rows)
    stats = {row[0]: row for row in table(out, "Evaluation time")}
    assert stats["all"][1:] == [
        "34", f"{durations[0]:.1f}", f"{np.median(durations):.1f}",
        f"{sum(durations) / 34:.1f}", f"{np.percentile(durations, 90):.1f}", "120.0",
    ]
    assert stats["ok"][1] == "30"

    improvements = [row for row in table(out, "Best so far") if not row[0].startswith("best:")]
    assert [row[2] for row in improvements] == ["0_0_0", "0_0_2", "0_3_1", "0_5_0", "0_10_0"]
    assert "best: 0.3579 (job 0_10_0, evaluation 32 of 34)" in out
    assert "note: ignored a partial last line of results.csv" in out


def test_cli_writes_a_readable_png(expdir: Path) -> None:
    proc = run_cli(str(expdir))
    assert proc.returncode == 0, proc.stderr
    png = expdir / "report.png"
    assert f"report: {png}" in proc.stdout
    pixels = load_png(png)
    height, width, _ = pixels.shape
    assert width == 1300 and 900 <= height <= 2000
    assert pixels.std() > 30
    assert (pixels < 240).any(axis=-1).mean() > 0.08  # not mostly blank
    for colour in (BLUE, RED, ORANGE):  # ok bars, failures, the timeout
        assert has_colour(pixels, colour)
    assert not list(expdir.glob(".report-*"))  # no temporary file left behind
    # readable by collaborators: the mode of a new file (0666 less the umask)
    mask = os.umask(0)
    os.umask(mask)
    assert png.stat().st_mode & 0o777 == 0o666 & ~mask


def test_output_flag_and_no_plot(expdir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "r.png"
    proc = run_cli(str(expdir), "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.is_file() and not (expdir / "report.png").exists()
    proc = run_cli(str(expdir), "--no-plot")
    assert proc.returncode == 0 and "\nreport: " not in proc.stdout
    assert not (expdir / "report.png").exists()


def test_influence_ranks_the_fixture_and_finds_interior_optima(tmp_path: Path) -> None:
    summary = report.summarise(report.load_results(FIXTURE))
    names = [inf.name for inf in summary.influence]
    # the fixture's activation (sigmoid and elu are bad) and its U-shaped learning rate
    assert set(names[:2]) == {"activation", "learning_rate"}
    scores = {inf.name: inf.score for inf in summary.influence}
    assert scores["learning_rate"] > scores["dropout"]
    assert scores["learning_rate"] > scores["batch_size"]

    # a U-shaped effect has Spearman rho near 0 but a clear influence
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 60)
    noise = rng.uniform(-1, 1, 60)
    y = x**2 + 0.05 * rng.uniform(size=60)
    rows = [[f"0_0_{i}", x[i], noise[i], y[i], "ok", 1 + i % 2, i, i, i + 1, 1.0]
            for i in range(60)]
    header = ["job_id", "p:u", "p:noise"] + HEADER[3:]
    results = report.load_results(write_experiment(tmp_path / "u", rows, header=header))
    infl = {inf.name: inf for inf in report.summarise(results).influence}
    assert abs(infl["u"].rho) < 0.3 and infl["u"].score > 0.6
    assert infl["noise"].score < 0.2


def test_influence_of_a_one_parameter_quadratic_with_ten_evaluations(tmp_path: Path) -> None:
    # issue 28: (x-0.3)^2 over 10 evaluations was "influence 0.00, rho -0.20"
    x = np.linspace(0.0, 1.0, 10)
    rows = [[f"0_0_{i}", x[i], (x[i] - 0.3) ** 2, "ok", 1, i, i, i + 1, 1.0] for i in range(10)]
    header = ["job_id", "p:x"] + HEADER[3:]
    results = report.load_results(write_experiment(tmp_path / "q", rows, header=header))
    summary = report.summarise(results)
    (only,) = summary.influence
    assert only.name == "x" and only.score == pytest.approx(1.0)
    assert "  x          numeric      1.000" in report.format_summary(results, summary)


# --------------------------------------------------------------------------- small experiments


def test_tiny_experiment_by_hand(tmp_path: Path) -> None:
    rows = [
        ["0_0_0", 0.1, "a", 2.0, "ok", 1, 0.0, 0.0, 4.0, 4.0],
        ["0_0_1", 0.01, "b;c", "nan", "failed", 2, 0.0, 1.0, 4.0, 3.0],
        ["0_1_0", 0.001, 'say "x"', 1.5, "ok", 1, 4.0, 4.0, 10.0, 5.0],
    ]
    exp = write_experiment(tmp_path / "e", rows, {"workers": 2, "exp_id": "tiny"})
    summary = report.summarise(report.load_results(exp))
    assert summary.wall_s == 10.0 and summary.busy_s == 12.0
    assert summary.utilisation == pytest.approx(12.0 / (2 * 10.0))  # 60 %
    assert summary.evals_per_min == pytest.approx(18.0)
    stats = summary.durations_all
    assert (stats.n, stats.min, stats.median, stats.mean, stats.max) == (3, 3.0, 4.0, 4.0, 5.0)
    assert stats.p90 == pytest.approx(4.8)
    assert [(i.index, i.job_id, i.objective) for i in summary.improvements] == [
        (1, "0_0_0", 2.0), (3, "0_1_0", 1.5)]
    proc = run_cli(str(exp))
    assert proc.returncode == 0, proc.stderr
    assert "utilisation = busy worker-seconds / (workers x wall): 60.0%" in proc.stdout
    assert "evaluations per minute (all statuses, over the wall): 18" in proc.stdout
    assert [row[:3] for row in table(proc.stdout, "Top 2 results")] == [
        ["1", "0_1_0", "1.5"], ["2", "0_0_0", "2"]]


def test_zero_ok_rows_still_get_a_report(tmp_path: Path) -> None:
    rows = [
        ["0_0_0", 0.1, "a", "nan", "failed", 1, 0.0, 0.1, 3.0, 2.9],
        ["0_0_1", 0.01, "b", "nan", "timeout", 2, 0.0, 0.2, 60.5, 60.0],
        ["0_1_0", 0.001, "a", "nan", "failed", 1, 3.1, 3.2, 5.0, 1.8],
    ]
    exp = write_experiment(tmp_path / "e", rows, {"workers": 2})
    proc = run_cli(str(exp))
    assert proc.returncode == 0, proc.stderr
    assert "no successful evaluations" in proc.stdout
    assert {row[0]: row[1] for row in table(proc.stdout, "Evaluations by status")} == {
        "failed": "2", "timeout": "1", "total": "3"}
    pixels = load_png(exp / "report.png")
    assert pixels.std() > 20 and has_colour(pixels, RED) and has_colour(pixels, ORANGE)


@pytest.mark.parametrize("content", ["", ",".join(HEADER) + "\n", "job_id,p:lr,obj"])
def test_empty_header_only_or_torn_header(tmp_path: Path, content: str) -> None:
    exp = tmp_path / "e"
    exp.mkdir()
    (exp / "results.csv").write_text(content, encoding="utf-8")
    proc = run_cli(str(exp))
    assert proc.returncode == 0, proc.stderr
    assert "evaluations finished: 0" in proc.stdout
    assert (exp / "report.png").is_file()


def test_torn_line_inside_a_quoted_field_and_bad_rows(tmp_path: Path) -> None:
    rows = [
        ["0_0_0", 0.1, "a", 2.0, "ok", 1, 0.0, 0.0, 4.0, 4.0],
        ["0_0_0", 0.2, "dup", 1.0, "ok", 1, 0.0, 0.0, 5.0, 4.0],  # duplicate job id
        HEADER,  # a restart that wrote the header again
        ["0_0_1", 0.01, "b", 1.0, "ok", 2],  # too few fields
        ["1_0_0", 0.05, "multi\nline", 1.2, "ok", 2, 6.0, 6.0, 9.0, 3.0],
    ]
    exp = write_experiment(tmp_path / "e", rows)
    with open(exp / "results.csv", "a", encoding="utf-8", newline="") as handle:
        handle.write('1_0_1,0.5,"half a qu')
    results = report.load_results(exp)
    assert list(results.frame["job_id"]) == ["0_0_0", "1_0_0"]
    notes = " | ".join(results.notes)
    for words in ("partial last line", "field count", "repeated header", "already seen job_id",
                  "no config.json"):
        assert words in notes
    assert results.workers == 2  # from the worker ids, config.json is missing
    proc = run_cli(str(exp), "--no-plot")
    assert proc.returncode == 0, proc.stderr
    assert "multi line" in proc.stdout  # a newline inside a value does not break the table


def test_negative_objectives_and_missing_timestamps(tmp_path: Path) -> None:
    header = ["job_id", "p:lr", "objective", "status"]  # the minimum the report needs
    rows = [[f"0_0_{i}", 10.0 ** -i, -0.5 - i / 10, "ok"] for i in range(6)]
    exp = write_experiment(tmp_path / "e", rows, header=header)
    proc = run_cli(str(exp))
    assert proc.returncode == 0, proc.stderr
    assert "utilisation = busy worker-seconds / (workers x wall): n/a" in proc.stdout
    order = [row[1] for row in table(proc.stdout, "Top 6 results")]
    assert order == [f"0_0_{i}" for i in range(5, -1, -1)]  # most negative first
    assert "column m:timestamp_submit is missing" in proc.stdout
    assert (exp / "report.png").is_file()


# --------------------------------------------------------------------------- bad input


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    for needle in needles:
        assert needle in proc.stderr


def test_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-exp"
    assert_one_line_error(run_cli(str(missing)), str(missing))


def test_directory_without_results(tmp_path: Path) -> None:
    assert_one_line_error(run_cli(str(tmp_path)), str(tmp_path / "results.csv"))


def test_path_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("x\n")
    assert_one_line_error(run_cli(str(path)), str(path))


def test_not_a_results_file(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text("a,b,c\n1,2,3\n")
    assert_one_line_error(run_cli(str(tmp_path)), str(tmp_path / "results.csv"), "job_id")


def test_bad_flag_exits_2(expdir: Path) -> None:
    proc = run_cli(str(expdir), "--top", "-1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--top" in proc.stderr


def test_unwritable_output_exits_1(expdir: Path) -> None:
    blocker = expdir / "file"
    blocker.write_text("")
    proc = run_cli(str(expdir), "--output", str(blocker / "r.png"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and str(blocker / "r.png") in proc.stderr
    assert "Top 10 results" in proc.stdout  # the summary is still printed


# --------------------------------------------------------------------------- hygiene


def test_no_pyplot(expdir: Path) -> None:
    # (scikit-learn is used: the influence is a random forest's, async_search.importance)
    code = (
        "import sys; from async_search import report as r\n"
        f"res = r.load_results({str(expdir)!r})\n"
        f"r.render_png(res, r.summarise(res), {str(expdir / 'x.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_dataclasses_are_frozen_and_checked() -> None:
    stats = report.TimeStats(n=1, min=1.0, median=1.0, mean=1.0, p90=1.0, max=1.0)
    with pytest.raises(Exception):
        stats.n = 2  # type: ignore[misc]
    with pytest.raises(ValueError):
        report.TimeStats(n=0, min=0.0, median=0.0, mean=0.0, p90=0.0, max=0.0)
    with pytest.raises(ValueError):
        report.Influence("x", "ordinal", 0.0, math.nan, 3)
    with pytest.raises(ValueError):
        report.summarise(report.load_results(FIXTURE), top=-1)


@pytest.mark.parametrize("prior, log", [("uniform", False), ("log-uniform", True)])
def test_a_parameter_axis_follows_its_prior(tmp_path: Path, prior: str, log: bool) -> None:
    # values spanning decades: only a log-uniform prior makes the axis logarithmic
    problem = tmp_path / "problem_lr.py"
    problem.write_text("class Problem:\n    def __init__(self):\n"
                       f"        self.space = {{'lr': (1e-5, 1e-1, '{prior}'), "
                       "'label': ['a', 'b;c', 'say \"x\"']}\n")
    rows = [[f"1_1_{i}", lr, "a", 1.0 + i, "ok", 1, 0.0, 0.0, 1.0, 1.0]
            for i, lr in enumerate([1e-5, 3e-4, 2e-3, 5e-2, 9e-2, 1e-1])]
    exp = write_experiment(tmp_path / "e", rows, {"workers": 1, "problem": str(problem)})
    results = report.load_results(exp)
    assert results.priors == {"lr": prior}
    x = results.frame["p:lr"].to_numpy(dtype=float)
    assert report._log_axis(results, "lr", x) is log
    # without the problem file the values decide, as before
    problem.unlink()
    assert report.load_results(exp).priors == {}
