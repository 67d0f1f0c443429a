"""TC1 and NT3 searches on the real offline data, through the seed's way of
working (bin/async-search-run MODEL local), short: few evaluations, 2 epochs."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, mpi_env, read_results

BENCH = ROOT / "python" / "async_search" / "benchmarks"
DATA = ROOT / "data" / "Pilot1"


def short_defaults(tmp_path: Path, model: str) -> Path:
    text = (BENCH / f"{model}_default_model.txt").read_text()
    path = tmp_path / f"{model}_default_model.txt"
    path.write_text(re.sub(r"(?m)^epochs = \d+", "epochs = 2", text))
    return path


@pytest.fixture(scope="module", autouse=True)
def prepared_data():
    if not (DATA / "tc1_all_bt_train.csv").is_file():
        pytest.fail("data/Pilot1 is not prepared: `make test` runs `make data` first")


@pytest.mark.parametrize("model,launch", [("tc1", "subprocess"), ("tc1", "fork-server"),
                                          ("nt3", "subprocess")])
def test_real_search_through_async_search_run(tmp_path, model, launch):
    env = mpi_env()
    env.update(EXPERIMENTS=str(tmp_path / "experiments"), MAX_EVALS="4", PROCS="3",
               CANDLE_DEFAULT_MODEL_FILE=str(short_defaults(tmp_path, model)))
    env["LAUNCH"] = launch  # cfg-sys-1.sh
    args = [str(ROOT / "bin" / "async-search-run"), model, "local", "run1"]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    exp = tmp_path / "experiments" / "run1"
    rows = read_results(exp)
    assert len(rows) == 4
    assert all(r["status"] == "ok" for r in rows), [r["status"] for r in rows]
    for r in rows:
        value = float(r["objective"])
        assert math.isfinite(value) and value > 0
        run = exp / "run" / r["job_id"]
        log = (run / "model.log").read_text()
        assert "IMPROVE_RESULT" in log and (run / "parameters.txt").is_file()
        # the fork server imported the benchmark (and torch) once, before
        preloaded = "1" if launch == "fork-server" else "0"
        assert f"preloaded={preloaded}" in log
    assert json.loads((exp / "config.json").read_text())["model"] == model
    assert "best objective" in proc.stdout
