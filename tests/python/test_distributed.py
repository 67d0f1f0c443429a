"""Data-parallel TC1/NT3 (``--ranks-per-eval``): network.fit() with WORLD_SIZE > 1.

Each test starts 2 or 3 real processes on localhost with the environment the
worker gives a team (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
MASTER_ADDR, MASTER_PORT: a free port), backend gloo, on tiny synthetic data.
No assertion depends on timing: a subprocess timeout only guards against a
hang, which is itself the failure being tested for.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from async_search import runner  # noqa: E402
from async_search.benchmarks import data, distributed, network  # noqa: E402

HERE = Path(__file__).resolve().parent
FIT = HERE / "fixtures" / "ddp_fit.py"
PYTHON_DIR = Path(network.__file__).resolve().parents[2]
HANG_GUARD_S = 300  # a run that takes longer hangs: the failure itself, not a timing

N_TRAIN, N_TEST, BATCH = 41, 13, 8   # the last global batch holds 1 sample: some
#                                      processes get none of it
PARAMS = {"epochs": 3, "batch_size": BATCH, "conv": [8, 5, 1, 8, 3, 1], "pool": [1, 2],
          "dense": [16, 8], "activation": "relu", "optimizer": "sgd",
          "learning_rate": 0.05, "dropout": 0.0, "rng_seed": 11, "timeout": -1,
          "output_dir": None}


def _write_data(folder: Path, features=60, classes=3) -> Path:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(classes, features)) * 2
    for name, n in (("tr.csv", N_TRAIN), ("te.csv", N_TEST)):
        y = np.arange(n) % classes
        x = centres[y] + rng.normal(size=(n, features))
        rows = [",".join([str(label)] + [f"{v:.5f}" for v in row]) for label, row in zip(y, x)]
        (folder / name).write_text("\n".join(rows) + "\n")
    return folder


def _dataset(folder: Path) -> data.Dataset:
    return data.load_dataset(data.DataFiles(folder / "tr.csv", folder / "te.csv"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(rank: int, world: int, port: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                        "OBJ_RETURN", "MODEL_RETURN", "BENCHMARK_TIMEOUT")}
    env.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
               LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
               PYTHONPATH=str(PYTHON_DIR), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    return env


def _start(world: int, argv_of, cwd_of=lambda rank: None, extra_env=None) -> list:
    port = _free_port()
    return [subprocess.Popen(argv_of(rank), env={**_env(rank, world, port), **(extra_env or {})},
                             cwd=cwd_of(rank), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
            for rank in range(world)]


def _finish(proc: subprocess.Popen) -> tuple:
    try:
        out, err = proc.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"a process hung: {out[-1500:]}{err[-1500:]}")
    return proc.returncode, out, err


def _fit_processes(tmp_path: Path, world: int, params: dict, fault: str = "") -> list:
    folder = _write_data(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    return _start(world, lambda rank: [sys.executable, str(FIT), str(folder), str(out),
                                       json.dumps(params), fault])


def _global_batches() -> list:
    return [min(BATCH, N_TRAIN - start) for start in range(0, N_TRAIN, BATCH)]


def _fresh_net(ds: data.Dataset) -> torch.nn.Module:
    spec = network.net_spec(ds.features, PARAMS["conv"], PARAMS["pool"], PARAMS["dense"])
    return network.build_network(spec, ds.classes, "relu", 0.0)


# ------------------------------------------------------------------ the world

def test_world_from_environment():
    assert distributed.world_from_env({}) == distributed.World()
    assert distributed.world_from_env({"WORLD_SIZE": "1", "RANK": "0"}).distributed is False
    env = {"RANK": "2", "WORLD_SIZE": "3", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
           "MASTER_ADDR": "node7", "MASTER_PORT": "29500"}
    world = distributed.world_from_env(env)
    assert (world.rank, world.size, world.local_rank, world.local_size) == (2, 3, 0, 1)
    assert world.distributed and not world.main
    with pytest.raises(ValueError, match="RANK"):
        distributed.world_from_env(dict(env, RANK="3"))
    with pytest.raises(ValueError, match="MASTER_PORT"):
        distributed.world_from_env(dict(env, MASTER_PORT=""))
    with pytest.raises(ValueError, match="WORLD_SIZE"):
        distributed.world_from_env(dict(env, WORLD_SIZE="two"))


def test_collective_timeout_follows_the_model():
    assert distributed.collective_timeout(None) == distributed.DEFAULT_TIMEOUT_S
    assert distributed.collective_timeout(600) == 600
    assert distributed.collective_timeout(1e-6) == distributed.MIN_TIMEOUT_S
    assert distributed.collective_timeout(600, explicit=5) == 5


# ------------------------------------------------------------------ training

@pytest.mark.parametrize("world", [2, 3])
def test_ranks_train_one_network_on_their_shards(tmp_path, monkeypatch, world):
    procs = _fit_processes(tmp_path, world, PARAMS)
    results = [_finish(p) for p in procs]
    for rank, (code, out, err) in enumerate(results):
        assert code == 0, f"rank {rank}: {out[-2000:]}{err[-2000:]}"
        assert f"distributed: rank {rank} of {world}" in out and "backend gloo" in out
    states = [torch.load(tmp_path / "out" / f"rank{r}.pt") for r in range(world)]
    saved = [json.loads((tmp_path / "out" / f"rank{r}.json").read_text())
             for r in range(world)]
    # DDP kept every rank's parameters identical, and every rank the same history
    for state in states[1:]:
        assert all(torch.equal(state[k], states[0][k]) for k in states[0])
    assert all(s["history"] == saved[0]["history"] for s in saved)
    # each rank computed on its share of every global batch, and nothing twice
    epochs = PARAMS["epochs"]
    for rank, s in enumerate(saved):
        share = sum(len(range(rank, b, world)) for b in _global_batches())
        assert s["seen"] == share * epochs
    assert sum(s["seen"] for s in saved) == N_TRAIN * epochs
    # the global batch is batch_size: the same training as one process's
    ds = _dataset(tmp_path)
    nets = []
    build = network.build_network
    monkeypatch.setattr(network, "build_network",
                        lambda *a, **k: nets.append(build(*a, **k)) or nets[-1])
    alone = network.fit(PARAMS, ds, log=lambda *_: None, report=False)
    solo = nets[0].state_dict()
    for key in solo:
        assert torch.allclose(states[0][key], solo[key], rtol=1e-4, atol=1e-6), key
    assert saved[0]["history"]["val_loss"] == pytest.approx(alone["val_loss"], rel=1e-5)
    # val_loss is over the whole validation set: what one process computes
    net = _fresh_net(ds)
    net.load_state_dict(states[0])
    x_val = torch.from_numpy(ds.x_test).unsqueeze(1)
    val_loss, val_acc = network._evaluate(net, x_val, torch.from_numpy(ds.y_test),
                                          torch.nn.CrossEntropyLoss())
    assert saved[0]["history"]["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert saved[0]["history"]["val_acc"][-1] == val_acc
    # only rank 0 reports intermediate values
    steps = [line for line in results[0][1].splitlines() if line.startswith("IMPROVE_")]
    assert [line.split()[:2] for line in steps] == [["IMPROVE_INTERMEDIATE", str(e)]
                                                    for e in range(1, epochs + 1)]
    for code, out, err in results[1:]:
        assert "IMPROVE_" not in out


@pytest.mark.parametrize("world", [2, 3])
def test_a_dead_peer_fails_the_others(tmp_path, world):
    # rank 1 exits after its first epoch, as a killed process would: the others
    # fail at their next collective instead of waiting for it
    procs = _fit_processes(tmp_path, world, dict(PARAMS, epochs=5, dist_timeout=600), "die")
    results = [_finish(p) for p in procs]
    assert results[1][0] == 17
    for rank, (code, out, err) in enumerate(results):
        if rank != 1:
            assert code != 0 and "RuntimeError" in err, f"rank {rank}: {out}{err}"
            assert "Epoch 2/5" not in out
    assert not (tmp_path / "out" / "rank0.json").exists()


def test_a_stuck_peer_makes_the_others_time_out(tmp_path):
    # rank 1 stays alive but stops taking part: rank 0 gives up after dist_timeout
    procs = _fit_processes(tmp_path, 2, dict(PARAMS, epochs=5, dist_timeout=3), "hang")
    try:
        code, out, err = _finish(procs[0])
    finally:
        procs[1].send_signal(signal.SIGKILL)
        procs[1].communicate()
    assert code != 0 and "timed out" in err.lower(), out + err
    assert "collective timeout 3 s" in out
    assert not (tmp_path / "out" / "rank0.json").exists()


# -------------------------------------------------------------- the runner

def test_only_rank_zero_reports_the_result(tmp_path):
    candle = tmp_path / "candle" / "Pilot1"
    candle.mkdir(parents=True)
    _write_data(candle)
    (candle / "tr.csv").rename(candle / "nt_train2.csv")
    (candle / "te.csv").rename(candle / "nt_test2.csv")
    run_dir = tmp_path / "run" / "1_1_0"
    (run_dir / "rank1").mkdir(parents=True)
    params = {"epochs": 2, "batch_size": 8, "conv": "8 5 1 8 3 1", "pool": "1 2",
              "dense": "16 8", "classes": 3}
    procs = _start(2, lambda rank: [sys.executable, "-m", "async_search.runner", "nt3",
                                    json.dumps(params)],
                   cwd_of=lambda rank: run_dir if rank == 0 else run_dir / "rank1",
                   extra_env={"CANDLE_DATA_DIR": str(candle.parent)})
    results = [_finish(p) for p in procs]
    for rank, (code, out, err) in enumerate(results):
        assert code == 0, f"rank {rank}: {out[-2000:]}{err[-2000:]}"
    out0, out1 = results[0][1], results[1][1]
    value = float((run_dir / "result.txt").read_text())
    assert math.isfinite(value)
    assert out0.strip().splitlines()[-1] == f"IMPROVE_RESULT {value!r}"
    assert out0.count("IMPROVE_INTERMEDIATE") == 2 and "rank 0 of 2" in out0
    assert "IMPROVE_" not in out1 and "rank 1 of 2" in out1
    assert out1.strip().splitlines()[-1].endswith("rank 0 reports the result")
    for name in (runner.RESULT_FILE, runner.HISTORY_FILE, "training.log"):
        assert (run_dir / name).is_file() and not (run_dir / "rank1" / name).exists()
    assert (run_dir / "rank1" / runner.PARAMETERS_FILE).is_file()
