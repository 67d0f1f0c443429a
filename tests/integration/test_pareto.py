"""Several objectives under mpiexec: a problem declaring two objectives and a
model printing two labelled values (tests/models/pareto.py); kill -9 and
--restart lose no objective; pareto_rows gives the front; a mis-labelled line
fails its evaluation naming the label; an optimizer of one objective refuses."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from conftest import PROBLEMS, ROOT, model_cmd, read_results, run_search
from test_faults import kill_job, start_search, wait_gone

sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "models"))

from async_search import load_results, pareto_rows  # noqa: E402
from pareto import objectives  # noqa: E402

PARETO = str(PROBLEMS / "problem_pareto.py")


def brute_front(points: dict) -> set:
    """job ids whose (f1, f2) no other point dominates (a plain double loop)."""
    front = set()
    for a, fa in points.items():
        if not any(fb[0] <= fa[0] and fb[1] <= fa[1] and fb != fa for fb in points.values()):
            front.add(a)
    return front


def test_two_objectives_survive_kill_and_restart(tmp_path):
    exp_dir = tmp_path / "exp"
    common = ["--problem", PARETO, "--model-cmd", model_cmd("pareto.py", "--sleep", "0.4"),
              "--max-evals", "18"]
    proc = start_search(exp_dir, *common, "--exp-dir", str(exp_dir))
    results = exp_dir / "results.csv"
    deadline = time.monotonic() + 180
    while not (results.exists() and len(results.read_text().splitlines()) >= 5):
        assert proc.poll() is None, "the search ended before the kill"
        assert time.monotonic() < deadline, "no results before the kill"
        time.sleep(0.1)
    kill_job(proc, exp_dir)
    assert wait_gone(str(exp_dir / "run")), "a model outlived its killed job"
    before = results.read_bytes()
    final = run_search(exp_dir, *common, "--restart", str(exp_dir), nprocs=3)
    assert final.proc.returncode == 0, final.proc.stderr
    assert results.read_bytes().startswith(before)
    assert results.read_text().splitlines()[0].endswith(",steps,o:f1,o:f2")
    rows = read_results(exp_dir)
    assert len(rows) == 18 and len({r["job_id"] for r in rows}) == 18
    assert {int(r["job_id"].split("_")[0]) for r in rows} == {1, 2}
    log = (exp_dir / "manager.log").read_text()
    ok = {}
    for r in rows:
        x, y = float(r["p:x"]), float(r["p:y"])
        if x > 0.9:  # the model mislabels: failed, the label named
            assert r["status"] == "failed" and r["o:f1"] == "nan", r
            assert f"evaluation {r['job_id']} failed: unexpected label 'f3'" in log
            continue
        assert r["status"] == "ok", r
        f1, f2 = objectives({"x": x, "y": y})
        # every objective of every row, the ones before the kill included
        assert float(r["o:f1"]) == f1 and float(r["o:f2"]) == f2
        assert float(r["objective"]) == f1
        ok[r["job_id"]] = (f1, f2)
    frame = load_results(exp_dir)
    assert frame.attrs["objectives"] == ("f1", "f2")
    assert list(frame["f2"].dropna()) == [ok[j][1] for j in frame["job_id"] if j in ok]
    front = pareto_rows(frame)
    assert set(front["job_id"]) == brute_front(ok)
    # the summary prints the front with its size and hypervolume
    assert f"Pareto front: {len(front)} of {len(ok)} ok" in final.proc.stdout
    assert "hypervolume" in final.proc.stdout


def test_a_mislabelled_line_fails_naming_the_label(tmp_path):
    exp_dir = tmp_path / "exp"
    s = run_search(exp_dir, "--problem", PARETO, "--model-cmd",
                   model_cmd("pareto.py", "--label-bad"), "--max-evals", "2", nprocs=2)
    assert s.proc.returncode == 4, s.proc.stderr  # no evaluation succeeded
    rows = read_results(exp_dir)
    assert [r["status"] for r in rows] == ["failed", "failed"]
    for r in rows:
        log = (exp_dir / "run" / r["job_id"] / "model.log").read_text()
        assert "unexpected label 'f3' in the IMPROVE_RESULT line" in log
    assert "unexpected label 'f3'" in (exp_dir / "manager.log").read_text()


def test_an_optimizer_of_one_objective_refuses_the_problem(tmp_path):
    exp_dir = tmp_path / "exp"
    s = run_search(exp_dir, "--problem", PARETO, "--model-cmd", model_cmd("pareto.py"),
                   "--optimizer", "original", "--max-evals", "2", nprocs=2)
    assert s.proc.returncode == 2
    err = [line for line in s.proc.stderr.splitlines() if line.startswith("async-search")]
    assert len(err) == 1 and "optimizer 'original' handles one objective" in err[0]
    assert "f1, f2" in err[0]
    assert not Path(exp_dir / "results.csv").exists()
