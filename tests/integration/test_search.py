"""Whole-program tests: the real binary under mpiexec with fake models."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from conftest import PROBLEMS, PYTHON, ROOT, model_cmd, run_binary, run_search

AS_PROBLEM = str(ROOT / "problems" / "as_problem.py")
JOB_ID = re.compile(r"^1_[1-9][0-9]*_(0|[1-9][0-9]*)$")
HEADER = ["job_id", "p:drop", "p:epochs", "p:learning_rate", "p:conv", "p:optimizer",
          "p:batch_size", "objective", "status", "worker", "m:timestamp_submit",
          "m:timestamp_start", "m:timestamp_gather", "duration", "steps"]


def check_complete(search, max_evals: int, workers: int, returncode: int = 0) -> list:
    assert search.proc.returncode == returncode, search.proc.stderr
    rows = search.rows
    assert len(rows) == max_evals
    ids = [r["job_id"] for r in rows]
    assert len(set(ids)) == max_evals
    assert all(JOB_ID.match(i) for i in ids), ids
    assert {int(r["worker"]) for r in rows} <= set(range(1, workers + 1))
    for r in rows:
        run = search.exp_dir / "run" / r["job_id"]
        assert (run / "params.json").is_file()
        assert (run / "model.log").is_file()
        assert float(r["m:timestamp_submit"]) <= float(r["m:timestamp_start"]) + 0.5
        assert float(r["m:timestamp_start"]) <= float(r["m:timestamp_gather"]) + 0.5
        assert float(r["duration"]) >= 0
    return rows


@pytest.mark.parametrize("nprocs", [2, 4, 9])
def test_search_completes_with_any_number_of_ranks(exp_dir, nprocs):
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("quadratic.py", "--sleep", "0.05"),
                        "--max-evals", "12", nprocs=nprocs)
    rows = check_complete(search, 12, nprocs - 1)
    assert all(r["status"] == "ok" for r in rows)
    assert list(rows[0].keys()) == HEADER
    # every worker took part when there is enough work
    assert len({r["worker"] for r in rows}) == min(nprocs - 1, 12)
    assert "best objective" in search.proc.stdout
    best = min(float(r["objective"]) for r in rows)
    assert f"best objective {best!r}" in search.proc.stdout or \
        f"best objective {best:.17g}" in search.proc.stdout


@pytest.mark.parametrize("init_size", [1, 30])
def test_init_size_below_and_above_the_worker_count(exp_dir, init_size):
    # 8 workers; INIT_SIZE 1 must not leave 7 idle, 30 must not deadlock.
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("quadratic.py", "--sleep", "1"),
                        "--max-evals", "24", "--init-size", str(init_size),
                        "--optimizer", "random", nprocs=9)
    rows = check_complete(search, 24, 8)
    # Nobody waited for a result to get work: all 8 workers had their first
    # point before the first result came back (whatever the machine's load,
    # a 1 s evaluation outlasts handing out 8 points).
    first_wave = sorted(float(r["m:timestamp_submit"]) for r in rows)[:8]
    first_result = min(float(r["m:timestamp_gather"]) for r in rows)
    assert first_wave[-1] < first_result, (first_wave, first_result)
    assert len({r["worker"] for r in rows}) == 8
    # The initial design is requested first. INIT_SIZE 30 exceeds workers +
    # buffer, so batch 1 is the initial design alone (capped at MAX_EVALS);
    # INIT_SIZE 1 is followed at once by the request that fills the idle
    # workers, which the optimizer may take in the same turn.
    batch1 = [r for r in rows if r["job_id"].startswith("1_1_")]
    if init_size > 8 + 2:
        assert len(batch1) == min(init_size, 24)
    else:
        assert len(batch1) in (init_size, 8 + 2)


def test_failing_models_are_recorded_and_the_search_finishes(exp_dir, tmp_path):
    # every second evaluation to start fails, each way in turn: whatever
    # points the search chose (they depend on the order results arrive in)
    counter = str(tmp_path / "started")
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("flaky.py", "--fail-every", "2",
                                                 "--counter", counter),
                        "--max-evals", "30", nprocs=4)
    rows = check_complete(search, 30, 3)
    failed = [r for r in rows if r["status"] == "failed"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert failed and ok
    assert all(r["objective"] == "nan" for r in failed)
    assert all(math.isfinite(float(r["objective"])) for r in ok)
    logs = " ".join((exp_dir / "run" / r["job_id"] / "model.log").read_text()
                    for r in failed)
    for reason in ("exit status 3", "signal 11", "the result is nan", "no result"):
        assert reason in logs
    assert "failed" in search.proc.stderr
    assert re.search(r"\(\d+ ok, \d+ failed, 0 timeout\)", search.proc.stdout)


def test_sh_timeout_kills_a_hanging_model(exp_dir):
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("hang.py"),
                        "--max-evals", "2", "--sh-timeout", "1", nprocs=3,
                        timeout=60)
    # nothing succeeded: exit status 4, with the last failure named
    rows = check_complete(search, 2, 2, returncode=4)
    assert "no evaluation succeeded; the last" in search.proc.stderr
    assert [r["status"] for r in rows] == ["timeout", "timeout"]
    for r in rows:
        # SIGTERM is ignored: SIGKILL follows after the grace period
        assert 1.0 <= float(r["duration"]) < 60
        log = (exp_dir / "run" / r["job_id"] / "model.log").read_text()
        assert "killed after SH_TIMEOUT 1 s" in log


def test_awkward_categorical_values_round_trip_exactly(exp_dir, tmp_path):
    problem = str(PROBLEMS / "problem_awkward.py")
    search = run_search(exp_dir, "--problem", problem,
                        "--model-cmd", model_cmd("quadratic.py"),
                        "--max-evals", "40", "--optimizer", "random", nprocs=4)
    rows = check_complete(search, 40, 3)
    import importlib.util
    spec = importlib.util.spec_from_file_location("awk", problem)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    labels = set(mod.Problem().space["label"])
    seen = set()
    for r in rows:
        run = exp_dir / "run" / r["job_id"]
        params = json.loads((run / "params.json").read_text(encoding="utf-8"))
        assert list(params) == ["label", "rate", "units"]
        assert params["label"] in labels
        assert r["p:label"] == params["label"]       # CSV round trip
        assert float(r["p:rate"]) == params["rate"]
        assert int(r["p:units"]) == params["units"]
        echoed = (run / "model.log").read_text(encoding="utf-8").splitlines()[0]
        assert json.loads(echoed[len("PARAMS "):]) == params  # what the model got
        seen.add(params["label"])
    assert len(seen) >= 5
    assert not Path("/tmp/async-search-pwned").exists()


def test_model_environment_is_scrubbed_of_mpi(exp_dir):
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("echo_env.py"),
                        "--max-evals", "3", nprocs=3)
    rows = check_complete(search, 3, 2)
    for r in rows:
        run = exp_dir / "run" / r["job_id"]
        got = json.loads((run / "env.json").read_text())
        env = got["env"]
        leaked = [k for k in env if k.startswith(("OMPI_COMM", "OMPI_MCA_orte", "PMIX_",
                                                  "PMI_", "OPAL_"))]
        assert not leaked, leaked
        assert env["OMP_NUM_THREADS"] == "1"
        assert env["ASYNC_SEARCH_RUN_ID"] == r["job_id"]
        assert env["ASYNC_SEARCH_EXP_DIR"] == str(exp_dir)
        assert env["BENCHMARK_TIMEOUT"] == "3600"
        assert got["argv"][-1] == str(run / "params.json")
        assert Path(got["cwd"]).resolve() == run.resolve()
        # what the original workflow's model.sh gave every model
        assert env["EXPID"] == "exp" and env["RUNID"] == r["job_id"]
        assert env["TURBINE_OUTPUT"] == str(exp_dir)
        assert env["CANDLE_OUTPUT_DIR"] == str(run)
        assert env["SH_TIMEOUT"] == "3600"
        # it printed only IMPROVE_RESULT: result.txt is written for it
        assert (run / "result.txt").read_text() == "1\n"


def test_a_labelled_result_counts_as_the_original_read_it(exp_dir, tmp_path):
    model = tmp_path / "labelled.py"
    model.write_text('print("epoch 1 done")\nprint("IMPROVE_RESULT val_loss=0.375")\n')
    search = run_search(exp_dir, "--problem", AS_PROBLEM, "--model-cmd",
                        f"{PYTHON} {model}", "--max-evals", "2", "--sh-timeout", "0",
                        nprocs=2)
    rows = check_complete(search, 2, 1)
    assert [(r["status"], r["objective"]) for r in rows] == [("ok", "0.375")] * 2
    env_run = exp_dir / "run" / rows[0]["job_id"]
    assert (env_run / "result.txt").read_text() == "0.375\n"


def test_config_json_holds_every_setting(exp_dir):
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("quadratic.py"),
                        "--max-evals", "5", "--num-buffer", "3", "--seed", "7",
                        "--n-jobs", "2", "--max-threshold", "2", "--fail-fast", "3",
                        "--stopper", "median", nprocs=3)
    check_complete(search, 5, 2)
    cfg = search.config
    for key, value in {"max_evals": 5, "num_buffer": 3, "seed": 7, "n_jobs": 2,
                       "max_threshold": 2, "init_size": 4, "workers": 2,
                       "fail_fast": 3, "stopper": "median", "launch": "subprocess",
                       "stopper_eta": 3, "max_failures": 0, "ranks_per_eval": 1,
                       "optimizer": "default", "problem": AS_PROBLEM,
                       "exp_id": "exp", "restart": 1}.items():
        assert cfg[key] == value, key
    assert cfg["start_time"] > 1.6e9
    assert (exp_dir / "manager.log").read_text()


def test_existing_results_are_never_overwritten(exp_dir):
    args = ["--problem", AS_PROBLEM, "--model-cmd", model_cmd("quadratic.py"),
            "--max-evals", "3"]
    first = run_search(exp_dir, *args, nprocs=2)
    assert first.proc.returncode == 0
    before = (exp_dir / "results.csv").read_bytes()
    second = run_search(exp_dir, *args, nprocs=3)
    assert second.proc.returncode == 2
    assert "--restart" in second.proc.stderr
    assert second.proc.stderr.count("already holds results") == 1
    assert (exp_dir / "results.csv").read_bytes() == before


def test_bad_input_under_mpiexec_stops_every_rank_with_one_message(exp_dir, tmp_path):
    bad = tmp_path / "problem_bad.py"
    bad.write_text("class Problem:\n    def __init__(self):\n        self.space = {}\n")
    search = run_search(exp_dir, "--problem", str(bad),
                        "--model-cmd", model_cmd("quadratic.py"), nprocs=4, timeout=60)
    assert search.proc.returncode == 2
    errors = [line for line in search.proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, search.proc.stderr
    assert str(bad) in errors[0]
    assert "Traceback" not in search.proc.stderr
    assert not exp_dir.exists()

    flag = run_search(exp_dir, "--problem", AS_PROBLEM, "--model", "example",
                      "--max-evals", "-1", nprocs=3, timeout=60)
    assert flag.proc.returncode == 2
    assert flag.proc.stderr.count("--max-evals: -1 is out of range") == 1


def test_one_rank_is_refused(exp_dir):
    search = run_search(exp_dir, "--problem", AS_PROBLEM,
                        "--model-cmd", model_cmd("quadratic.py"), nprocs=1, timeout=60)
    assert search.proc.returncode == 2
    assert "at least 2 MPI ranks" in search.proc.stderr


def test_check_prints_the_typed_space_without_mpi():
    proc = run_binary("--check", "--problem", AS_PROBLEM)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 6
    assert lines[0].split()[0] == "drop" and "Real(0.0, 0.9" in lines[0]
    assert "Integer(2, 3" in lines[1]
    assert "Categorical" in lines[5] and "512" in lines[5]


def test_check_rejects_bad_problems_and_flags_in_one_line(tmp_path):
    cases = {
        "syntax.py": "class Problem(:\n",
        "noclass.py": "x = 1\n",
        "raises.py": ("class Problem:\n    def __init__(self):\n"
                      "        raise RuntimeError('boom')\n"),
        "reversed.py": "class Problem:\n    def __init__(self):\n"
                       "        self.space = {'a': (1.0, 0.5)}\n",
        "empty.py": "",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        proc = run_binary("--check", "--problem", str(path))
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, (name, proc.stderr)
        assert str(path) in proc.stderr
        assert "Traceback" not in proc.stderr
    proc = run_binary("--check", "--problem", AS_PROBLEM, "--optimizer", "nope")
    assert proc.returncode == 2 and "nope" in proc.stderr
    proc = run_binary("--check", "--problem", AS_PROBLEM, "--model-cmd", "x 'y")
    assert proc.returncode == 2 and "--model-cmd" in proc.stderr


@pytest.mark.parametrize("flag, value, says", [
    ("--model", "tc2", "--model tc2: unknown model 'tc2'"),
    ("--model-cmd", "/nonexistent/m", "--model-cmd: the program /nonexistent/m: no such file"),
    ("--model-cmd", "python3 my_model.py", "relative path"),
])
def test_a_model_that_cannot_run_is_refused_before_anything_starts(tmp_path, flag, value, says):
    proc = run_binary("--check", "--problem", AS_PROBLEM, flag, value)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    # a real run refuses it too, before the experiment directory exists
    search = run_search(tmp_path / "exp", "--problem", AS_PROBLEM, flag, value, nprocs=2)
    assert search.proc.returncode == 2
    assert says in search.proc.stderr
    assert not (tmp_path / "exp").exists()


def test_check_says_which_model_runs():
    proc = run_binary("--check", "--problem", AS_PROBLEM, "--model", "example")
    assert proc.returncode == 0, proc.stderr
    assert "model example: module async_search.benchmarks.example, built in" in proc.stdout


def test_help_lists_every_flag_with_its_default():
    proc = run_binary("--help")
    assert proc.returncode == 0
    for flag, default in [("--init-size", "4"), ("--max-evals", "20"), ("--num-buffer", "2"),
                          ("--max-threshold", "1"), ("--n-jobs", "1"), ("--seed", "0"),
                          ("--optimizer", "default"), ("--sh-timeout", "3600"),
                          ("--benchmark-timeout", "3600"), ("--threshold-window", "16")]:
        line = next(x for x in proc.stdout.splitlines() if x.strip().startswith(flag + " "))
        assert f"[default: {default}]" in line
    for flag in ("--problem", "--model ", "--model-cmd", "--exp-dir", "--exp-id", "--check"):
        assert flag in proc.stdout


def test_waiting_ranks_use_almost_no_cpu():
    # One slow evaluation on 4 workers: 3 workers and the manager only wait.
    # They must not spin (MPI_Test/Iprobe plus sleeps, poll() on the model).
    import subprocess
    import sys
    from asbench import bench_env
    proc = subprocess.run([sys.executable, "-m", "asbench.runners.idle_cpu", "--workers", "4",
                           "--sleep", "6", "--max-percent", "5"],
                          capture_output=True, text=True, timeout=120, env=bench_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("| worker |") == 4


def test_progress_styles_and_end_of_run_report(tmp_path):
    common = ["--problem", AS_PROBLEM, "--max-evals", "9", "--model-cmd",
              model_cmd("flaky.py", "--fail-every", "3", "--counter", str(tmp_path / "n"))]
    log = run_search(tmp_path / "log", *common, nprocs=3)
    assert log.proc.returncode == 0, log.proc.stderr
    # stdout is a pipe here: plain lines, never a redraw
    assert "\x1b[K" not in log.proc.stdout
    lines = [x for x in log.proc.stdout.splitlines() if x.startswith("[")]
    assert lines and lines[-1].startswith("[9/9] 100% | running 0 | failed ")
    assert "| best " in lines[-1] and "evals/min | ETA 0s" in lines[-1]
    png = tmp_path / "log" / "report.png"
    assert f"report: {png}" in log.proc.stdout
    assert png.stat().st_size > 10000

    tty = run_search(tmp_path / "tty", *common, "--progress", "tty", nprocs=3)
    # (text mode turned the carriage returns into newlines)
    assert "\x1b[K" in tty.proc.stdout and "\n[9/9] 100%" in tty.proc.stdout

    quiet = run_search(tmp_path / "quiet", *common, "--quiet", nprocs=3)
    assert quiet.proc.returncode == 0
    assert not [x for x in quiet.proc.stdout.splitlines() if x.startswith("[")]
    assert "warning" not in quiet.proc.stderr
    assert "best objective" in quiet.proc.stdout
    assert "failed" in (tmp_path / "quiet" / "manager.log").read_text()

    verbose = run_search(tmp_path / "verbose", *common, "--verbose", nprocs=3)
    rows = verbose.rows
    for r in rows:
        line = next(x for x in verbose.proc.stdout.splitlines() if x.startswith(r["job_id"] + " "))
        assert r["status"] in line and f"worker {r['worker']}" in line


def test_gpu_binding_from_the_node_local_rank(exp_dir):
    # 4 workers on one node, 2 GPUs, sharing asked for: workers 1..4 get
    # devices 0,1,0,1 (without --share-gpus yes that is refused: test_teams)
    search = run_search(exp_dir, "--problem", AS_PROBLEM, "--model-cmd", model_cmd("echo_env.py"),
                        "--max-evals", "16", "--gpus-per-node", "2", "--optimizer", "random",
                        "--share-gpus", "yes", nprocs=5)
    rows = check_complete(search, 16, 4)
    assert "ranks 1 and 3 share GPU 0 on" in search.proc.stderr
    seen = {}
    for r in rows:
        env = json.loads((exp_dir / "run" / r["job_id"] / "env.json").read_text())["env"]
        worker = int(r["worker"])
        assert env["ASYNC_SEARCH_NODE_WORKER"] == str(worker - 1)
        for var in ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES",
                    "ZE_AFFINITY_MASK"):
            assert env[var] == str((worker - 1) % 2), (var, worker)
        seen[worker] = env["CUDA_VISIBLE_DEVICES"]
    assert sorted(set(seen.values())) == ["0", "1"]


def test_no_report_flag(exp_dir):
    search = run_search(exp_dir, "--problem", AS_PROBLEM, "--model-cmd", model_cmd("quadratic.py"),
                        "--max-evals", "3", "--no-report", nprocs=2)
    assert search.proc.returncode == 0
    assert not (exp_dir / "report.png").exists()
    assert "report:" not in search.proc.stdout
