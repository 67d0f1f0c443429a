"""async_search.expfiles against what the built program writes.

A simulated search (the real manager, journal and engine; virtual workers) over
a problem with awkward parameter names and categorical values (commas, quotes,
a newline, a carriage return, a tab, padding, non-ASCII, a value that looks
like a number), stopped by --time-limit with evaluations in flight, then
restarted: the module must read every file C wrote exactly as C meant it.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np

from async_search import best_row, expfiles, load_results
from conftest import run_binary

LABELS = ["a,b", 'say "hi"', "naïve café ✓", "line\nbreak", "cr\rhere", "  padded  ",
          "tab\there", "1"]
QUOTED = 'name, "quoted" ✓'
PARAMS = ("label", QUOTED, "rate", "units")
FAILING_LABEL = 'say "hi"'
WORKERS = 4

PROBLEM = f"""
from collections import OrderedDict


class Problem:
    def __init__(self):
        space = OrderedDict()
        space["label"] = {LABELS!r}
        space[{QUOTED!r}] = ["p, q", "r"]
        space["rate"] = (1e-4, 1e-1, "log-uniform")
        space["units"] = (1, 64)
        self.space = space
        self.params = list(space)
"""

OBJECTIVE = f"""
import math


def objective(point):
    if point["label"] == {FAILING_LABEL!r}:
        return math.nan
    return point["rate"] + point["units"] / 64
"""


def search(tmp_path: Path, *args: str):
    problem = tmp_path / "problem_awkward_names.py"
    objective = tmp_path / "objective.py"
    problem.write_text(PROBLEM, encoding="utf-8")
    objective.write_text(textwrap.dedent(OBJECTIVE), encoding="utf-8")
    proc = run_binary("--simulate", str(WORKERS), "--simulate-duration", "0.2",
                      "--problem", str(problem), "--optimizer", "random",
                      "--simulate-objective", f"{objective}:objective", *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def check_experiment(exp: Path, restarts: set, reissued: frozenset = frozenset()) -> list:
    """Every file of exp read through expfiles; returns the typed rows.

    ``reissued``: job ids of points a restart issued again; the restart gives them
    their simulated objective again, so they fail only as any point does.
    """
    raw = (exp / expfiles.RESULTS).read_bytes()
    assert raw.endswith(b"\n")
    first = raw[:raw.index(b"\n")].decode("utf-8")
    assert first == expfiles.header_line(PARAMS)  # what C wrote, byte for byte
    assert raw.count(raw[:raw.index(b"\n") + 1]) == 1  # a restart does not write it again

    table = expfiles.read_table(exp / expfiles.RESULTS, PARAMS)
    assert table.notes == ()  # nothing torn, skipped or replaced
    rows = expfiles.parse_rows(table)
    points = expfiles.read_points(exp / expfiles.POINTS)
    assert rows and len({r.job_id for r in rows}) == len(rows)
    for r in rows:
        assert r.status in expfiles.STATUSES
        assert expfiles.restart_number(r.job_id) in restarts
        assert 1 <= r.worker <= WORKERS
        assert 0.0 <= r.submit <= r.gather and r.start <= r.gather and r.duration >= 0.0
        assert list(r.params) == list(PARAMS)
        point = json.loads(points[r.job_id])
        assert list(point) == list(PARAMS)
        assert r.params["label"] == point["label"] and point["label"] in LABELS
        assert r.params[QUOTED] == point[QUOTED]
        assert float(r.params["rate"]) == point["rate"]
        assert int(r.params["units"]) == point["units"]
        if point["label"] == FAILING_LABEL:
            assert r.status == expfiles.FAILED and math.isnan(r.objective)
        else:
            assert r.status == expfiles.OK
            assert r.objective == point["rate"] + point["units"] / 64
    return rows


def test_what_c_writes_is_what_expfiles_reads_across_a_restart(tmp_path):
    exp = tmp_path / "exp"
    search(tmp_path, "--time-limit", "1.5", "--max-evals", "500", "--exp-dir", str(exp))
    rows = check_experiment(exp, {1})
    config = expfiles.read_config(exp)
    assert config["restart"] == 1 and config["start_time"] > 1.6e9
    assert (exp / expfiles.REPORT).is_file()
    assert expfiles.run_dir(exp, rows[0].job_id).parent == exp / expfiles.RUN_DIR

    # the typed DataFrame of the public API
    frame = load_results(exp)
    assert list(frame.columns) == list(expfiles.header(PARAMS))
    assert list(frame[expfiles.JOB_ID]) == [r.job_id for r in rows]
    assert frame["p:rate"].dtype == np.float64 and frame["p:units"].dtype == np.int64
    assert frame["p:label"].dtype == object and set(frame["p:label"]) <= set(LABELS)
    assert list(frame[f"p:{QUOTED}"]) == [r.params[QUOTED] for r in rows]
    ok = [r for r in rows if r.status == expfiles.OK]
    best = best_row(frame)
    assert best["objective"] == min(r.objective for r in ok)

    # stopped by the time limit: what was dispatched and never finished is in flight
    before = expfiles.read_restart(exp, PARAMS)
    assert [r.job_id for r in before.finished] == [r.job_id for r in rows]
    assert before.last_restart == 1 and before.start_time == config["start_time"]
    assert before.inflight, "the time limit should leave evaluations in flight"
    head = (exp / expfiles.RESULTS).read_bytes()

    total = len(rows) + len(before.inflight) + 6
    search(tmp_path, "--max-evals", str(total), "--restart", str(exp))
    # the points in flight were issued again, under restart 2's job ids, unchanged
    points = expfiles.read_points(exp / expfiles.POINTS)
    inflight = {text for _, text in before.inflight}
    reissued = {job_id for job_id, text in points.items()
                if job_id.startswith("2_") and text in inflight}
    assert len(reissued) == len(inflight)
    after = check_experiment(exp, {1, 2}, frozenset(reissued))
    assert (exp / expfiles.RESULTS).read_bytes().startswith(head)  # earlier rows untouched
    assert len(after) == total
    again = expfiles.read_restart(exp, PARAMS)
    assert again.last_restart == 2 and again.start_time == before.start_time
    assert again.inflight == ()
    assert expfiles.read_config(exp)["restart"] == 2
