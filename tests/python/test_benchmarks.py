"""TC1/NT3 network and training, the default model files, and the example model.

Training runs on tiny synthetic data (a few dozen samples, tens of features),
so the whole file takes a few seconds on one CPU thread.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from async_search import runner  # noqa: E402
from async_search.benchmarks import BUILTIN_MODELS, data, example, network  # noqa: E402

BENCH_DIR = Path(network.__file__).resolve().parent
PYTHON_DIR = BENCH_DIR.parents[1]

# the seed's as_problem.py values the models must accept
AS_PROBLEM_CONV = ["50 50 50 50 50 1", "25 25 25 25 25 1", "64 32 16 32 64 1",
                   "100 100 100 100 100 1", "32 20 16 32 10 1"]
AS_PROBLEM_OPTIMIZERS = ["adam", "sgd", "rmsprop", "adagrad", "adadelta"]


def _dataset(tmp_path: Path, n_train=40, n_test=12, features=60, classes=3, seed=0):
    """Separable synthetic data written and read back as CANDLE CSVs."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, features)) * 2

    def make(n, path):
        y = np.arange(n) % classes
        x = centres[y] + rng.normal(size=(n, features))
        rows = [",".join([str(label)] + [f"{v:.5f}" for v in row]) for label, row in zip(y, x)]
        path.write_text("\n".join(rows) + "\n")
        return path

    files = data.DataFiles(make(n_train, tmp_path / "tr.csv"), make(n_test, tmp_path / "te.csv"))
    return data.load_dataset(files)


def _params(**over):
    params = runner.read_default_model(BENCH_DIR / "tc1_default_model.txt")
    params.update({"epochs": 3, "batch_size": 8, "conv": [8, 5, 1, 8, 3, 1], "pool": [1, 2],
                   "dense": [16, 8], "output_dir": None, "timeout": -1})
    params.update(over)
    return params


def _quiet(*_args, **_kw):
    pass


# ------------------------------------------------------------- network shape

def test_net_spec_follows_candle_defaults():
    spec = network.net_spec(1000, [128, 20, 1, 128, 10, 1], [1, 10], [200, 20])
    assert spec.conv == ((128, 20, 1), (128, 10, 1))
    assert spec.pool == (1, 10)
    assert spec.flat == 128 * ((1000 - 19 - 9) // 10)
    assert spec.dense == (200, 20) and spec.notes == ()


def test_net_spec_clamps_wide_kernels_and_pools():
    spec = network.net_spec(400, [100, 100, 100, 100, 100, 1], [1, 10], [200, 20])
    assert spec.conv == ((100, 100, 100), (100, 4, 1))    # 400 -> 4 after the first conv
    assert spec.pool == (1, 1) and spec.flat == 100
    assert len(spec.notes) == 2 and "clamped" in spec.notes[0]


def test_net_spec_stops_at_non_positive_triple_and_skips_zero_dense():
    spec = network.net_spec(50, [4, 3, 1, 0, 0, 0, 9, 9, 9], [2], [0, 10])
    assert spec.conv == ((4, 3, 1),) and spec.dense == (10,)
    dense_only = network.net_spec(50, "0 0 0", None, [10])
    assert dense_only.conv == () and dense_only.flat == 50


@pytest.mark.parametrize("conv, match", [([1, 2], "triples"), ("a b c", "integers")])
def test_net_spec_rejects_bad_conv(conv, match):
    with pytest.raises(ValueError, match=match):
        network.net_spec(100, conv, [1], [10])


@pytest.mark.parametrize("conv", AS_PROBLEM_CONV)
@pytest.mark.parametrize("features", [30, 400, 12625])
def test_as_problem_conv_strings_build(conv, features):
    spec = network.net_spec(features, runner.convert_override(conv), [1, 10], [200, 20])
    net = network.build_network(spec, classes=6, dropout=0.5)
    out = net(torch.zeros(2, 1, features))
    assert out.shape == (2, 6)


def test_build_network_layers_and_init():
    spec = network.net_spec(30, [4, 5, 1], [2], [7])
    net = network.build_network(spec, classes=2, activation="tanh", dropout=0.2)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Conv1d", "Tanh", "MaxPool1d", "Flatten", "Linear", "Tanh", "Dropout",
                     "Linear"]
    assert all(float(m.bias.abs().sum()) == 0 for m in net if hasattr(m, "bias")
               and m.bias is not None)


@pytest.mark.parametrize("kwargs, match", [
    ({"activation": "swish"}, "activation"),
    ({"dropout": 1.0}, "dropout"),
    ({"classes": 1}, "classes"),
])
def test_build_network_rejects_bad_values(kwargs, match):
    spec = network.net_spec(30, [4, 5, 1], [2], [7])
    args = {"classes": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        network.build_network(spec, **args)


@pytest.mark.parametrize("name", AS_PROBLEM_OPTIMIZERS)
def test_optimizers_and_keras_default_rates(name):
    params = [torch.nn.Parameter(torch.zeros(2))]
    opt = network.make_optimizer(name.upper() if name == "sgd" else name, params, None)
    assert opt.param_groups[0]["lr"] == network.OPTIMIZERS[name][1]
    assert network.make_optimizer(name, params, 0.05).param_groups[0]["lr"] == 0.05


def test_unknown_optimizer_and_bad_rate():
    params = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="optimizer 'nadamx'"):
        network.make_optimizer("nadamx", params, None)
    with pytest.raises(ValueError, match="learning_rate"):
        network.make_optimizer("sgd", params, -1.0)


def test_threads_from_environment():
    assert network._env_threads({}) == 1
    assert network._env_threads({"OMP_NUM_THREADS": "3"}) == 3
    assert network._env_threads({"TORCH_NUM_THREADS": "2", "OMP_NUM_THREADS": "8"}) == 2
    assert network._env_threads({"OMP_NUM_THREADS": "lots"}) == 1


# ------------------------------------------------------------------ training

def test_fit_history_learning_and_training_log(tmp_path):
    ds = _dataset(tmp_path)
    hist = network.fit(_params(epochs=8, optimizer="adam", output_dir=str(tmp_path)), ds,
                       log=_quiet)
    assert set(hist) == {"loss", "acc", "val_loss", "val_acc", "lr"}
    assert all(len(v) == 8 for v in hist.values())
    assert hist["val_loss"][-1] < hist["val_loss"][0]
    assert hist["val_acc"][-1] > 0.6
    lines = (tmp_path / "training.log").read_text().splitlines()
    assert lines[0] == "epoch,loss,acc,lr,val_loss,val_acc" and len(lines) == 9


def test_fit_is_deterministic_for_a_seed(tmp_path):
    ds = _dataset(tmp_path)
    a = network.fit(_params(rng_seed=5), ds, log=_quiet)
    b = network.fit(_params(rng_seed=5), ds, log=_quiet)
    c = network.fit(_params(rng_seed=6), ds, log=_quiet)
    assert a["val_loss"] == b["val_loss"]
    assert a["val_loss"] != c["val_loss"]


def test_fit_timeout_stops_at_epoch_end(tmp_path):
    ds = _dataset(tmp_path)
    messages = []
    hist = network.fit(_params(epochs=50, timeout=1e-6), ds, log=messages.append)
    assert len(hist["val_loss"]) == 1
    assert any("timeout" in m for m in messages)


def test_fit_stops_when_training_diverges(tmp_path):
    ds = _dataset(tmp_path)
    messages = []
    hist = network.fit(_params(epochs=20, optimizer="sgd", learning_rate=1e12), ds,
                       log=messages.append)
    assert not math.isfinite(hist["val_loss"][-1]) or not math.isfinite(hist["loss"][-1])
    assert len(hist["loss"]) < 20 and any("diverged" in m for m in messages)
    with pytest.raises(runner.ObjectiveError):
        runner.objective_from_history(hist)


@pytest.mark.parametrize("over, match", [
    ({"loss": "mse"}, "loss"), ({"out_activation": "sigmoid"}, "out_activation"),
    ({"epochs": 0}, "epochs"), ({"batch_size": "big"}, "batch_size"),
    ({"timeout": "soon"}, "timeout"),
])
def test_fit_rejects_bad_parameters(tmp_path, over, match):
    with pytest.raises(ValueError, match=match):
        network.fit(_params(**over), _dataset(tmp_path), log=_quiet)


def test_fit_accepts_float_integers_and_drop(tmp_path):
    hist = network.fit(_params(epochs=2.0, batch_size=16.0, dropout=None, drop=0.4),
                       _dataset(tmp_path), log=_quiet)
    assert len(hist["loss"]) == 2


# ------------------------------------------------------ the model files

@pytest.mark.parametrize("model", ["tc1", "nt3"])
def test_default_model_files(model):
    params = runner.read_default_model(BENCH_DIR / f"{model}_default_model.txt")
    assert params["conv"] == [128, 20, 1, 128, 10, 1]
    assert params["pool"] == [1, 10] and params["dense"] == [200, 20]
    assert params["activation"] == "relu" and params["loss"] == "categorical_crossentropy"
    assert params["optimizer"] in network.OPTIMIZERS
    assert params["batch_size"] == 20 and params["dropout"] == 0.1
    assert params["model_name"] == model
    for key in ("train_data", "test_data", "local_train_data", "local_test_data"):
        assert params[key].endswith(".csv")


def test_builtin_models_resolve():
    assert set(BUILTIN_MODELS) == {"tc1", "nt3", "example"}
    for name in BUILTIN_MODELS:
        resolved = runner.resolve_model(name, {})
        assert resolved.default_file == BENCH_DIR / f"{name}_default_model.txt"


def _synthetic_data_dir(tmp_path: Path, names, features, classes) -> Path:
    pilot = tmp_path / "candle" / "Pilot1"
    pilot.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in zip(names, (30, 9)):
        y = np.arange(n) % classes
        x = rng.normal(size=(n, features)) + y[:, None]
        rows = [",".join([str(label)] + [f"{v:.4f}" for v in row]) for label, row in zip(y, x)]
        (pilot / name).write_text("\n".join(rows) + "\n")
    return pilot.parent


@pytest.mark.parametrize("model, names, features, classes", [
    ("tc1", ("tc1_all_bt_train.csv", "tc1_all_bt_test.csv"), 120, 6),
    ("nt3", ("nt_train2.csv", "nt_test2.csv"), 40, 2),
])
def test_runner_end_to_end_on_synthetic_candle_files(tmp_path, model, names, features, classes):
    candle = _synthetic_data_dir(tmp_path, names, features, classes)
    env = {k: v for k, v in os.environ.items() if k not in ("OBJ_RETURN", "MODEL_RETURN")}
    env.update({"PYTHONPATH": str(PYTHON_DIR), "CANDLE_DATA_DIR": str(candle),
                "BENCHMARK_TIMEOUT": "600", "ASYNC_SEARCH_RUN_ID": "1_1_0"})
    params = {"epochs": 2, "drop": 0.2, "conv": "25 25 25 25 25 1", "optimizer": "rmsprop",
              "learning_rate": 0.001, "batch_size": 16, "feature_subsample": 0}
    run_dir = tmp_path / "run" / "1_1_0"
    run_dir.mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "async_search.runner", model,
                           json.dumps(params)], cwd=run_dir, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    value = float((run_dir / "result.txt").read_text())
    assert proc.stdout.strip().splitlines()[-1] == f"IMPROVE_RESULT {value!r}"
    assert f"{features} features" in proc.stdout and f"{classes} classes" in proc.stdout
    assert (run_dir / "training.log").is_file()
    written = runner.read_default_model(run_dir / "parameters.txt")
    assert written["conv"] == [25, 25, 25, 25, 25, 1] and written["dropout"] == 0.2


def test_missing_data_is_prepared_on_first_use(tmp_path):
    # `make` without `make data`: NT3 prepares its offline data itself
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR), CANDLE_DATA_DIR=str(tmp_path / "none"),
               ASYNC_SEARCH_HOME=str(tmp_path / "nohome"))
    proc = subprocess.run([sys.executable, "-m", "async_search.runner", "nt3",
                           json.dumps({"epochs": 1})],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "preparing it in" in proc.stdout and "(first use)" in proc.stdout
    assert (tmp_path / "nohome/data/Pilot1/nt3_wdbc_train.csv").is_file()


def test_runner_reports_missing_data_as_model_failure(tmp_path):
    # data files that no preparation makes: a model failure naming what was tried
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR), CANDLE_DATA_DIR=str(tmp_path / "none"),
               ASYNC_SEARCH_HOME=str(tmp_path / "nohome"))
    params = {"local_train_data": "mine_train.csv", "local_test_data": "mine_test.csv"}
    proc = subprocess.run([sys.executable, "-m", "async_search.runner", "nt3",
                           json.dumps(params)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == runner.EXIT_MODEL_FAILED
    assert "DataError: benchmark data not found" in proc.stderr and "make data" in proc.stderr
    assert "mine_train.csv" in proc.stderr
    assert not (tmp_path / "result.txt").exists()


@pytest.mark.skipif(not (data.project_root() / "data/Pilot1/tc1_all_bt_train.csv").is_file(),
                    reason="offline data not prepared (make data)")
def test_tc1_on_the_real_offline_data_quickly(tmp_path):
    from async_search.benchmarks import tc1
    params = runner.read_default_model(BENCH_DIR / "tc1_default_model.txt")
    params.update({"epochs": 1, "feature_subsample": 100, "output_dir": None})
    hist = tc1.run(params)
    assert len(hist["val_loss"]) == 1 and math.isfinite(hist["val_loss"][0])


# ------------------------------------------------------------ example model

def test_example_objective_is_deterministic_and_has_an_optimum():
    p = {"lr": 0.01, "optimizer": "adam", "conv": [50, 50, 1], "flag": True}
    assert example.objective(p) == example.objective(dict(p))
    assert example.objective({}) == example.OFFSET
    target = 2 * example._unit("target:x") - 1
    best = target / (1 - abs(target))
    assert example.objective({"x": best}) == pytest.approx(example.OFFSET)
    assert example.objective({"x": best + 1}) > example.OFFSET
    assert example.objective({"run_id": "a", "sleep": 5, "timeout": 3}) == example.OFFSET


def test_example_history_has_every_metric():
    hist = example.run({"a": 1, "sleep": 0, "epochs": 4})
    assert set(hist) == {"loss", "val_loss", "val_acc", "val_corr"}
    assert all(len(v) == 4 for v in hist.values())
    assert hist["val_loss"][-1] == pytest.approx(example.objective({"a": 1, "epochs": 4}))
    with pytest.raises(RuntimeError, match="failing as asked"):
        example.run({"example_fail": 1})
