"""The CANDLE model runner: parameter overlay, objective extraction, failure paths."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from async_search import runner

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"


# ------------------------------------------------------------ pure functions

@pytest.mark.parametrize("text, expected", [
    ("'sgd'", "sgd"),
    ("sgd", "sgd"),
    ("[128, 20, 1]", [128, 20, 1]),
    ("0.1", 0.1),
    ("400", 400),
    ("None", None),
    ("True", True),
    ("  'a b'  ", "a b"),
    ("http://x/y", "http://x/y"),
])
def test_parse_value(text, expected):
    assert runner.parse_value(text) == expected


def test_read_default_model_reads_all_sections_global_first(tmp_path):
    path = tmp_path / "m_default_model.txt"
    path.write_text(textwrap.dedent("""\
        # a comment
        [Other]
        epochs = 99
        extra = 'x'
        [Global_Params]
        epochs = 400
        conv = [128, 20, 1, 128, 10, 1]
        optimizer = sgd
        CamelKey = 1
    """))
    params = runner.read_default_model(path)
    assert params["epochs"] == 400           # Global_Params wins
    assert params["extra"] == "x"
    assert params["conv"] == [128, 20, 1, 128, 10, 1]
    assert params["optimizer"] == "sgd"
    assert params["CamelKey"] == 1           # case kept


def test_read_default_model_errors_are_usage_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("no section header\nx = 1\n")
    with pytest.raises(runner.UsageError, match="not a valid ini"):
        runner.read_default_model(bad)
    with pytest.raises(runner.UsageError, match="cannot read"):
        runner.read_default_model(tmp_path / "missing.txt")


@pytest.mark.parametrize("value, expected", [
    ("50 50 50 50 50 1", [50, 50, 50, 50, 50, 1]),
    ("0.5 1e-3 -2", [0.5, 0.001, -2]),
    ("  64 32\t16 ", [64, 32, 16]),
    ("adam", "adam"),
    ("1", "1"),                  # one token stays a string
    ("50 fifty", "50 fifty"),
    (16, 16),
    (0.25, 0.25),
    ([1, 2], [1, 2]),
])
def test_convert_override(value, expected):
    out = runner.convert_override(value)
    assert out == expected and type(out) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in out] == [type(v) for v in expected]


def test_merge_params_overlay_drop_and_extras():
    defaults = {"epochs": 400, "dropout": 0.1, "conv": [128, 20, 1], "timeout": 3600}
    merged = runner.merge_params(defaults, {"drop": 0.5, "conv": "50 50 50", "epochs": 2},
                                 {"timeout": 60, "run_id": "1_2_0", "output_dir": "/x"})
    assert merged["dropout"] == 0.5 and merged["drop"] == 0.5
    assert merged["conv"] == [50, 50, 50]
    assert merged["epochs"] == 2
    assert merged["timeout"] == 60 and merged["run_id"] == "1_2_0"


def test_merge_params_drop_alias_follows_dropout():
    # defaults written with CANDLE's old name: both names carry the value
    merged = runner.merge_params({"drop": 0.1}, {"dropout": 0.7}, {})
    assert merged == {"drop": 0.7, "dropout": 0.7}
    merged = runner.merge_params({"drop": 0.2}, {}, {})
    assert merged == {"drop": 0.2, "dropout": 0.2}
    assert runner.merge_params({}, {"lr": 1}, {}) == {"lr": 1}


def test_format_parameters_round_trips(tmp_path):
    params = {"conv": [50, 50, 1], "optimizer": "adam", "lr": 1e-5, "flag": True,
              "none": None, "name": "it's"}
    path = tmp_path / "parameters.txt"
    path.write_text(runner.format_parameters(params))
    assert runner.read_default_model(path) == params


class _KerasHistory:
    def __init__(self, history):
        self.history = history


HISTORY = {"loss": [0.9, 0.5], "val_loss": [1.0, 0.75], "val_acc": [0.5, 0.8],
           "val_corr": [0.1, 0.6]}


@pytest.mark.parametrize("name, expected", [
    ("loss", 0.5), ("val_loss", 0.75), ("val_acc", -0.8), ("val_corr", -0.6),
])
def test_objective_from_history_each_obj_return(name, expected):
    assert runner.objective_from_history(HISTORY, name) == pytest.approx(expected)
    assert runner.objective_from_history(_KerasHistory(HISTORY), name) == pytest.approx(expected)


def test_objective_aliases_scalars_and_numbers():
    assert runner.objective_from_history({"val_accuracy": [0.25, 0.5]}, "val_acc") == -0.5
    assert runner.objective_from_history({"val_loss": 0.3}) == 0.3
    assert runner.objective_from_history(0.125) == 0.125          # a number is the objective
    assert runner.objective_from_history({"val_acc": [0.0]}, "val_acc") == 0.0
    assert math.copysign(1, runner.objective_from_history({"val_acc": [0.0]}, "val_acc")) == 1


@pytest.mark.parametrize("result, name, match", [
    ({"loss": [1.0]}, "val_loss", "no val_loss"),
    ({"val_loss": []}, "val_loss", "empty"),
    ({"val_loss": [1.0, float("nan")]}, "val_loss", "nan"),
    ({"val_loss": [float("inf")]}, "val_loss", "inf"),
    ({"val_loss": ["x"]}, "val_loss", "not a number"),
    (None, "val_loss", "not a history"),
    ("0.5", "val_loss", "not a history"),
    (float("nan"), "val_loss", "not a finite"),
])
def test_objective_failures(result, name, match):
    with pytest.raises(runner.ObjectiveError, match=match):
        runner.objective_from_history(result, name)


def test_objective_unknown_name_is_usage_error():
    with pytest.raises(runner.UsageError, match="use one of"):
        runner.objective_from_history(HISTORY, "accuracy")


# -------------------------------------------------------------- the process

def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OBJ_RETURN", "MODEL_RETURN", "BENCHMARK_TIMEOUT", "ASYNC_SEARCH_RUN_ID",
                        "ASYNC_SEARCH_EXP_ID", "MODEL_PYTHON_SCRIPT", "MODEL_PYTHON_DIR",
                        "CANDLE_DEFAULT_MODEL_FILE")}
    env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR)] + [str(p) for p in extra.pop("path", [])])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(cwd, model, params, **env):
    arg = params if isinstance(params, str) else json.dumps(params)
    return subprocess.run([sys.executable, "-m", "async_search.runner", model, arg], cwd=cwd,
                          env=_env(**env), capture_output=True, text=True, timeout=120)


def _last_line(proc):
    return proc.stdout.strip().splitlines()[-1]


def test_example_model_end_to_end(tmp_path):
    params = {"drop": 0.3, "conv": "50 50 50 50 50 1", "optimizer": "adam", "sleep": 0}
    proc = _run(tmp_path, "example", params, ASYNC_SEARCH_RUN_ID="1_2_0",
                ASYNC_SEARCH_EXP_ID="EXP007", BENCHMARK_TIMEOUT="60")
    assert proc.returncode == 0, proc.stderr
    value = float((tmp_path / "result.txt").read_text())
    assert _last_line(proc) == f"IMPROVE_RESULT {value!r}"
    written = runner.read_default_model(tmp_path / "parameters.txt")
    assert written["conv"] == [50, 50, 50, 50, 50, 1]
    assert written["dropout"] == 0.3 and written["optimizer"] == "adam"
    assert written["timeout"] == 60 and written["run_id"] == "1_2_0"
    assert written["experiment_id"] == "EXP007"
    assert written["output_dir"] == str(tmp_path)
    assert "runner: timing import_s=" in proc.stdout
    from async_search.benchmarks import example
    assert value == pytest.approx(example.objective(written))


@pytest.mark.parametrize("obj, sign", [("loss", 1), ("val_loss", 1), ("val_acc", -1),
                                       ("val_corr", -1)])
def test_obj_return_selects_metric(tmp_path, obj, sign):
    proc = _run(tmp_path, "example", {"x": 1.5, "sleep": 0}, OBJ_RETURN=obj)
    assert proc.returncode == 0, proc.stderr
    value = float((tmp_path / "result.txt").read_text())
    assert math.copysign(1, value) == sign


def test_model_return_is_read_when_obj_return_unset(tmp_path):
    proc = _run(tmp_path, "example", {"sleep": 0}, MODEL_RETURN="val_acc")
    assert proc.returncode == 0 and float((tmp_path / "result.txt").read_text()) < 0


def test_params_from_a_file_and_run_id_from_cwd(tmp_path):
    run_dir = tmp_path / "1_1_3"
    run_dir.mkdir()
    (run_dir / "params.json").write_text(json.dumps({"a": 2, "sleep": 0}))
    proc = _run(run_dir, "example", "params.json")
    assert proc.returncode == 0, proc.stderr
    assert runner.read_default_model(run_dir / "parameters.txt")["run_id"] == "1_1_3"


@pytest.mark.parametrize("model, params, env, match", [
    ("no_such_model_xyz", {}, {}, "unknown model 'no_such_model_xyz'"),
    ("../evil", {}, {}, "unknown model"),
    ("example", "{not json", {}, "not valid JSON"),
    ("example", "[1, 2]", {}, "must be a JSON object"),
    ("example", "missing.json", {}, "neither a JSON object nor a file"),
    ("example", {}, {"OBJ_RETURN": "accuracy"}, "OBJ_RETURN/MODEL_RETURN='accuracy'"),
    ("example", {}, {"BENCHMARK_TIMEOUT": "soon"}, "BENCHMARK_TIMEOUT"),
    # MODEL_PYTHON_SCRIPT comes first, as in the original model_runner
    ("example", {}, {"MODEL_PYTHON_SCRIPT": "/nonexistent/m.py"}, "MODEL_PYTHON_SCRIPT="),
    ("json", {}, {}, "has no run"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, model, params, env, match):
    proc = _run(tmp_path, model, params, **env)
    assert proc.returncode == runner.EXIT_USAGE
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert match in proc.stderr
    assert not (tmp_path / "result.txt").exists()


def test_wrong_argument_count_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "async_search.runner", "example"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_model_exception_exits_1_with_traceback(tmp_path):
    proc = _run(tmp_path, "example", {"example_fail": True})
    assert proc.returncode == runner.EXIT_MODEL_FAILED
    assert "model 'example' failed: RuntimeError: example model: failing" in proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert not (tmp_path / "result.txt").exists()
    assert (tmp_path / "parameters.txt").exists()
    assert "IMPROVE_RESULT" not in proc.stdout


def _write_module(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_user_module_with_default_file_beside_it(tmp_path):
    mods = tmp_path / "mods"
    _write_module(mods, "mymodel", """\
        def run(params):
            return {"val_loss": [2.0, params["epochs"] * 0.1 + params["dropout"]]}
    """)
    (mods / "mymodel_default_model.txt").write_text("[Global_Params]\nepochs = 3\ndrop = 0.1\n")
    proc = _run(tmp_path, "mymodel", {"drop": 0.5}, path=[mods])
    assert proc.returncode == 0, proc.stderr
    assert float((tmp_path / "result.txt").read_text()) == pytest.approx(0.8)


def test_baseline_pytorch_module_name_and_its_default_file(tmp_path):
    mods = tmp_path / "mods"
    _write_module(mods, "foo_baseline_pytorch", """\
        class H:
            history = {"val_loss": [0.25]}
        def run(params):
            assert params["from_defaults"] == "yes"
            return H()
    """)
    (mods / "foo_default_model.txt").write_text("[Global_Params]\nfrom_defaults = 'yes'\n")
    proc = _run(tmp_path, "foo", {}, path=[mods])
    assert proc.returncode == 0, proc.stderr
    assert _last_line(proc) == "IMPROVE_RESULT 0.25"


def test_model_python_script_file_and_module(tmp_path):
    script = _write_module(tmp_path / "elsewhere", "bar_baseline_keras2", """\
        def run(params):
            return {"val_loss": [0.5]}
    """)
    proc = _run(tmp_path, "bar", {}, MODEL_PYTHON_SCRIPT=script)
    assert proc.returncode == 0, proc.stderr
    assert _last_line(proc) == "IMPROVE_RESULT 0.5"
    proc = _run(tmp_path, "bar", {}, MODEL_PYTHON_SCRIPT="bar_baseline_keras2",
                MODEL_PYTHON_DIR=tmp_path / "elsewhere")
    assert proc.returncode == 0, proc.stderr


def test_candle_default_model_file_env(tmp_path):
    cfg = tmp_path / "full_model.txt"
    cfg.write_text("[Global_Params]\nsleep = 0\nepochs = 7\n")
    proc = _run(tmp_path, "example", {}, CANDLE_DEFAULT_MODEL_FILE=cfg)
    assert proc.returncode == 0, proc.stderr
    assert runner.read_default_model(tmp_path / "parameters.txt")["epochs"] == 7
    assert proc.stdout.count("Epoch ") == 7


@pytest.mark.parametrize("body, code, match", [
    ("def run(params):\n    return {'val_loss': [float('nan')]}\n", 3, "val_loss is nan"),
    ("def run(params):\n    return {'loss': [1.0]}\n", 3, "history has no val_loss"),
    ("def run(params):\n    return None\n", 3, "not a history"),
    ("import sys\ndef run(params):\n    sys.exit(0)\n", 1, "failed: SystemExit"),
    ("raise ImportError('needs keras')\ndef run(params):\n    pass\n", 1,
     "could not be imported: ImportError: needs keras"),
])
def test_bad_models_fail_without_result(tmp_path, body, code, match):
    mods = tmp_path / "mods"
    _write_module(mods, "badmodel", body)
    proc = _run(tmp_path, "badmodel", {}, path=[mods])
    assert proc.returncode == code, proc.stderr
    assert match in proc.stderr
    assert not (tmp_path / "result.txt").exists()


def test_example_model_runner_imports_nothing_heavy(tmp_path):
    code = textwrap.dedent("""\
        import sys
        from async_search import runner
        rc = runner.main(["example", '{"sleep": 0}'])
        heavy = sorted(m for m in ("torch", "numpy", "sklearn", "scipy", "pandas")
                       if m in sys.modules)
        print("HEAVY", heavy, rc)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert "HEAVY [] 0" in proc.stdout, proc.stdout + proc.stderr


def test_example_timeout_is_graceful(tmp_path):
    proc = _run(tmp_path, "example", {"sleep": 1.0, "epochs": 10}, BENCHMARK_TIMEOUT="0.25")
    assert proc.returncode == 0, proc.stderr
    assert "stopping: timeout" in proc.stdout
    assert proc.stdout.count("Epoch ") < 10


# ------------------------------------------------- the original's conventions

def _module(folder, name, body):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return folder


KERAS_DUMMY = """\
    # a benchmark in the form of Supervisor's dummy_baseline_keras2.py
    def initialize_parameters(default_model=None):
        return {"epochs": 3, "from_init": default_model or "none", "drop": 0.5}

    class fake_history:
        def __init__(self, x):
            self.history = {"val_loss": [2.0, 1.0, x], "loss": [9.0]}

    def run(params):
        print("RUNNING DUMMY: " + str(params))
        return fake_history(params["drop"] + params["epochs"])
    """


def test_a_keras2_benchmark_with_initialize_parameters(tmp_path):
    models = _module(tmp_path / "models", "dummy_baseline_keras2", KERAS_DUMMY)
    run = tmp_path / "run"
    run.mkdir()
    proc = _run(run, "dummy", {"drop": 0.25}, MODEL_PYTHON_DIR=str(models))
    assert proc.returncode == 0, proc.stderr
    # initialize_parameters() gave the defaults (epochs 3), the search's drop won
    assert _last_line(proc) == "IMPROVE_RESULT 3.25"
    written = runner.read_default_model(run / "parameters.txt")
    assert written["from_init"] == "none" and written["epochs"] == 3
    assert "dummy_baseline_keras2" in proc.stdout and str(models) in proc.stdout
    # history.txt as the original wrote it; 3 of 3 epochs ran: no stop.marker
    assert json.loads((run / "history.txt").read_text())["val_loss"] == [2.0, 1.0, 3.25]
    assert not (run / "stop.marker").exists()
    # CANDLE_DEFAULT_MODEL_FILE reaches initialize_parameters(default_model=...)
    defaults = tmp_path / "my_default_model.txt"
    defaults.write_text("[Global_Params]\nepochs = 1\n")
    proc = _run(run, "dummy", {"drop": 0.25}, MODEL_PYTHON_DIR=str(models),
                CANDLE_DEFAULT_MODEL_FILE=str(defaults))
    assert proc.returncode == 0, proc.stderr
    assert runner.read_default_model(run / "parameters.txt")["from_init"] == str(defaults)


def test_a_pytorch_benchmark_returning_val_and_infer_scores(tmp_path):
    models = _module(tmp_path / "models", "torchy_baseline_pytorch", """\
        def initialize_parameters():
            return {"epochs": 5}

        def run(params):
            return {"val_loss": 0.75, "val_acc": 0.5}, {"infer": 1}
        """)
    proc = _run(tmp_path, "torchy", {}, MODEL_PYTHON_DIR=str(models))
    assert proc.returncode == 0, proc.stderr
    assert _last_line(proc) == "IMPROVE_RESULT 0.75"
    # one value for 5 epochs asked: the original's marker of an early stop
    assert (tmp_path / "stop.marker").read_text() == "early stopping: 1/5\n"
    proc = _run(tmp_path, "torchy", {}, MODEL_PYTHON_DIR=str(models), OBJ_RETURN="val_acc")
    assert _last_line(proc) == "IMPROVE_RESULT -0.5"


def test_the_users_own_tc1_wins_over_the_built_in(tmp_path):
    models = _module(tmp_path / "models", "tc1", """\
        def run(params):
            return {"val_loss": [0.125]}
        """)
    proc = _run(tmp_path, "tc1", {}, PYTHONPATH=f"{models}:{PYTHON_DIR}")
    assert proc.returncode == 0, proc.stderr
    assert _last_line(proc) == "IMPROVE_RESULT 0.125"
    assert f"module tc1, {models / 'tc1.py'}" in proc.stdout


def test_check_resolves_the_model_and_its_data(tmp_path):
    def check(model, **env):
        return subprocess.run([sys.executable, "-m", "async_search.runner", "--check", model],
                              cwd=tmp_path, env=_env(**env), capture_output=True, text=True,
                              timeout=120)
    proc = check("example")
    assert proc.returncode == 0, proc.stderr
    assert "model example: module async_search.benchmarks.example, built in" in proc.stdout
    proc = check("tc2")
    assert proc.returncode == runner.EXIT_USAGE
    assert "unknown model 'tc2'" in proc.stderr and len(proc.stderr.splitlines()) == 1
    # a module that fails to import is refused too, with its error
    models = _module(tmp_path / "models", "broken", "import no_such_module_xyz\n")
    proc = check("broken", MODEL_PYTHON_DIR=str(models))
    assert proc.returncode == runner.EXIT_USAGE
    assert "No module named 'no_such_module_xyz'" in proc.stderr
    # NT3's data: found, or made on first use from scikit-learn's copy
    proc = check("nt3", ASYNC_SEARCH_HOME=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "data not prepared yet: made on first use from" in proc.stdout
