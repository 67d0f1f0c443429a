"""The network and training loop shared by TC1 and NT3 (CANDLE Pilot1), in PyTorch.

The network is CANDLE's ``tc1_baseline_keras2``/``nt3_baseline_keras2``:

    input (features, 1)
    for each (filters, kernel, stride) triple in ``conv``:
        Conv1D(filters, kernel, stride, 'valid') -> activation -> MaxPool1D(pool[i])
    Flatten
    for each width in ``dense`` (0 skips): Dense -> activation -> Dropout(dropout)
    Dense(classes) -> softmax

trained with categorical cross-entropy, ``optimizer`` (sgd, adam, rmsprop,
adagrad, adadelta; Keras's defaults for the learning rate and the other
constants when ``learning_rate`` is not given), ``batch_size``, ``epochs``,
ReduceLROnPlateau(val_loss, factor 0.1, patience 10, min_delta 1e-4), Glorot-
uniform weights and zero biases (Keras's initialisers).  The test file is the
validation data, as in CANDLE.

Deviations, all printed in model.log when they happen:

- a kernel or pool wider than what is left of the sequence is clamped to it, so
  conv strings written for CANDLE's 60,483 features (e.g. "100 100 100 100 100 1")
  still build on smaller data instead of failing the evaluation;
- a ``conv`` triple with a non-positive entry ends the conv stack (as in CANDLE);
  with no conv layer the dense layers act on the flattened input;
- training stops at the end of the epoch in which the loss became non-finite
  (the history then ends in NaN and the runner reports a failure) or in which
  ``timeout`` seconds of training were exceeded (CANDLE's graceful timeout).

Threads: ``torch.set_num_threads`` from TORCH_NUM_THREADS, else OMP_NUM_THREADS,
else 1.  Device: CUDA when available (the worker sets CUDA_VISIBLE_DEVICES).
``rng_seed`` seeds the weights and the batch order.

Data-parallel: when ``WORLD_SIZE`` > 1 (``--ranks-per-eval``), the processes of
one evaluation train one network with DistributedDataParallel, ``batch_size``
being the global batch (see :func:`fit` and :mod:`.distributed`).
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from . import distributed
from .data import Dataset

from async_search._compat import FROZEN
from async_search.intermediate import report_intermediate

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "NetSpec",
    "net_spec",
    "build_network",
    "configure_torch",
    "make_optimizer",
    "fit",
]


#: Keras activation name -> module factory
ACTIVATIONS: Mapping[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "elu": nn.ELU,
    "selu": nn.SELU, "softplus": nn.Softplus, "softsign": nn.Softsign,
    "gelu": nn.GELU, "linear": nn.Identity,
}

#: optimizer name -> (torch class, Keras default learning rate, Keras's other constants)
OPTIMIZERS: Mapping[str, Tuple[type, float, Mapping[str, Any]]] = {
    "sgd": (torch.optim.SGD, 0.01, {}),
    "adam": (torch.optim.Adam, 0.001, {"eps": 1e-7}),
    "rmsprop": (torch.optim.RMSprop, 0.001, {"alpha": 0.9, "eps": 1e-7}),
    "adagrad": (torch.optim.Adagrad, 0.01, {"initial_accumulator_value": 0.1, "eps": 1e-7}),
    "adadelta": (torch.optim.Adadelta, 1.0, {"rho": 0.95, "eps": 1e-7}),
}

LOSS_NAMES = frozenset({"categorical_crossentropy", "sparse_categorical_crossentropy",
                        "crossentropy", "cross_entropy"})
PLATEAU_FACTOR = 0.1
PLATEAU_PATIENCE = 10
PLATEAU_MIN_DELTA = 1e-4
EVAL_BATCH = 256
DEFAULT_SEED = 7102  # CANDLE's default rng_seed


def _int_list(value: Any, name: str) -> List[int]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split()
    if isinstance(value, (int, float)):
        value = [value]
    try:
        out = [int(round(float(v))) for v in value]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a list of integers, got {value!r}") from exc
    return out


@dataclass(**FROZEN)
class NetSpec:
    """The resolved layer sizes for one input length."""

    conv: Tuple[Tuple[int, int, int], ...]   # (filters, kernel, stride), clamped
    pool: Tuple[int, ...]                    # per conv layer, clamped
    dense: Tuple[int, ...]
    flat: int                                # width after Flatten
    notes: Tuple[str, ...]                   # clamping messages


def net_spec(input_len: int, conv: Any, pool: Any, dense: Any) -> NetSpec:
    """Layer sizes after CANDLE's rules and the clamping described above."""
    if input_len < 1:
        raise ValueError(f"input length must be positive, got {input_len}")
    conv_vals = _int_list(conv, "conv")
    if len(conv_vals) % 3:
        raise ValueError(f"conv must be (filters, kernel, stride) triples, got {conv_vals} "
                         f"({len(conv_vals)} values)")
    pools = _int_list(pool, "pool")
    widths = tuple(w for w in _int_list(dense, "dense") if w > 0)
    notes: List[str] = []
    layers: List[Tuple[int, int, int]] = []
    pool_used: List[int] = []
    length, channels = input_len, 1
    for i in range(0, len(conv_vals), 3):
        filters, kernel, stride = conv_vals[i:i + 3]
        if filters <= 0 or kernel <= 0 or stride <= 0:
            break
        if kernel > length:
            notes.append(f"conv layer {i // 3}: kernel {kernel} > sequence length {length}, "
                         f"clamped to {length}")
            kernel = length
        length = (length - kernel) // stride + 1
        p = pools[i // 3] if i // 3 < len(pools) else 1
        p = max(p, 1)
        if p > length:
            notes.append(f"pool after conv layer {i // 3}: {p} > sequence length {length}, "
                         f"clamped to {length}")
            p = length
        length //= p
        layers.append((filters, kernel, stride))
        pool_used.append(p)
        channels = filters
    return NetSpec(tuple(layers), tuple(pool_used), widths, channels * length, tuple(notes))


def build_network(spec: NetSpec, classes: int, activation: str = "relu",
                  dropout: float = 0.0) -> nn.Module:
    """The CANDLE network for ``spec``; input (batch, 1, features), output logits."""
    act = ACTIVATIONS.get(str(activation).lower())
    if act is None:
        raise ValueError(f"activation {activation!r} not supported; use one of "
                         f"{', '.join(sorted(ACTIVATIONS))}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}")
    layers: List[nn.Module] = []
    channels = 1
    for (filters, kernel, stride), p in zip(spec.conv, spec.pool):
        layers += [nn.Conv1d(channels, filters, kernel, stride), act()]
        if p > 1:
            layers.append(nn.MaxPool1d(p))
        channels = filters
    layers.append(nn.Flatten())
    width = spec.flat
    for w in spec.dense:
        layers += [nn.Linear(width, w), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = w
    layers.append(nn.Linear(width, classes))
    net = nn.Sequential(*layers)
    for module in net.modules():
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return net


def _env_threads(env: Mapping[str, str]) -> int:
    for key in ("TORCH_NUM_THREADS", "OMP_NUM_THREADS"):
        value = env.get(key, "").strip()
        if value:
            try:
                n = int(value)
            except ValueError:
                continue
            if n > 0:
                return n
    return 1


def configure_torch(seed: int, env: Optional[Mapping[str, str]] = None) -> torch.device:
    """Threads, seed and device for this process (see the module docstring)."""
    env = os.environ if env is None else env
    threads = _env_threads(env)
    torch.set_num_threads(threads)
    # Not torch.set_num_interop_threads: a second call in one process aborts it
    # (C++ terminate, not an exception), and the conv net uses no inter-op pool.
    torch.manual_seed(seed)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_optimizer(name: str, parameters, learning_rate: Optional[float]) -> torch.optim.Optimizer:
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} not supported; use one of "
                         f"{', '.join(sorted(OPTIMIZERS))}")
    cls, default_lr, extra = OPTIMIZERS[key]
    lr = default_lr if learning_rate in (None, "", 0) else float(learning_rate)
    if not lr > 0 or not math.isfinite(lr):
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    return cls(parameters, lr=lr, **extra)


def _get_int(params: Mapping[str, Any], key: str, default: int, low: int = 1) -> int:
    value = params.get(key, default)
    try:
        out = int(round(float(value)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key} must be an integer, got {value!r}") from exc
    if out < low:
        raise ValueError(f"{key} must be at least {low}, got {out}")
    return out


def _seconds(params: Mapping[str, Any], key: str) -> Optional[float]:
    value = params.get(key)
    if value in (None, "", False):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key} must be a number of seconds, got {value!r}") from exc
    return seconds if seconds > 0 else None


def _timeout(params: Mapping[str, Any]) -> Optional[float]:
    return _seconds(params, "timeout")


def _eval_sums(net: nn.Module, x: torch.Tensor, y: torch.Tensor,
               loss_fn: nn.Module) -> Tuple[float, int]:
    """The summed loss and the correct predictions over (x, y)."""
    net.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            logits = net(x[start:start + EVAL_BATCH])
            yb = y[start:start + EVAL_BATCH]
            total += float(loss_fn(logits, yb)) * len(yb)
            correct += int((logits.argmax(dim=1) == yb).sum())
    return total, correct


def _evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor,
              loss_fn: nn.Module) -> Tuple[float, float]:
    """Mean loss and accuracy over (x, y)."""
    total, correct = _eval_sums(net, x, y, loss_fn)
    n = max(len(x), 1)
    return total / n, correct / n


def _train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: nn.Module,
                 x: torch.Tensor, y: torch.Tensor, order: torch.Tensor, batch_size: int,
                 world: distributed.World) -> Tuple[float, int]:
    """One epoch over ``order`` in global batches of ``batch_size``; returns this
    process's summed loss and correct predictions.

    Alone, a batch's loss is its mean. Among W processes, process r takes samples
    r, r+W, ... of each global batch and back-propagates its summed loss times
    W / len(batch): DDP averages the W gradients, so the step is the one of the
    mean loss over the whole global batch (a process may get no sample of a last,
    short batch: it still takes part, with a zero gradient)."""
    model.train()
    total, correct = 0.0, 0
    summed = nn.CrossEntropyLoss(reduction="sum") if world.distributed else None
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        mine = idx[world.rank::world.size] if world.distributed else idx
        xb, yb = x[mine], y[mine]
        optimizer.zero_grad(set_to_none=True)
        logits = model(xb)
        if summed is None:
            loss = loss_fn(logits, yb)
            loss.backward()
            total += float(loss.detach()) * len(idx)
        else:
            loss = summed(logits, yb)
            (loss * (world.size / len(idx))).backward()
            total += float(loss.detach())
        optimizer.step()
        correct += int((logits.detach().argmax(dim=1) == yb).sum())
    return total, correct


def _group(params: Mapping[str, Any], timeout: Optional[float], log):
    """The process group of this evaluation (WORLD_SIZE > 1) or a :class:`Solo`,
    and this process's device."""
    world = distributed.world_from_env()
    if not world.distributed:
        return distributed.Solo(), None
    device = distributed.device_for(world)
    limit = distributed.collective_timeout(timeout, _seconds(params, "dist_timeout"))
    group = distributed.Group(world, device, limit, params.get("dist_backend") or None)
    log(f"distributed: rank {world.rank} of {world.size} (local {world.local_rank} of "
        f"{world.local_size}), backend {group.backend}, rendezvous "
        f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}, "
        f"collective timeout {limit:g} s")
    return group, device


@dataclass(**FROZEN)
class _Settings:
    epochs: int
    batch_size: int
    seed: int
    dropout: float
    timeout: Optional[float]


def fit(params: Mapping[str, Any], dataset: Dataset, log=print,
        on_epoch: Callable[[int, Mapping[str, float]], None] | None = None,
        report: bool = True) -> Dict[str, List[float]]:
    """Build and train the network; returns a Keras-like history.

    Keys: ``loss``, ``acc``, ``val_loss``, ``val_acc``, ``lr`` (one value per
    completed epoch).  Writes ``training.log`` (CSV, like Keras's CSVLogger) in
    ``params['output_dir']`` when given.  With ``report`` each epoch's val_loss
    goes to async-search as an intermediate value (``IMPROVE_INTERMEDIATE
    epoch val_loss``: early stopping); ``on_epoch(epoch, logs)`` is called after
    each epoch (from 1) with that epoch's values, and may raise to end the
    training (e.g. a pruner's).

    Data-parallel when ``WORLD_SIZE`` > 1 (``--ranks-per-eval``; see
    :mod:`.distributed`): the processes train one network with
    DistributedDataParallel; ``batch_size`` stays the global batch (each process
    computes on about ``batch_size / WORLD_SIZE`` samples of it), so the
    searched value means what it means for one process.  Every value in the
    history is over the whole training or validation set and the same on every
    rank, so every rank takes the same decisions (learning-rate plateau,
    divergence, ``timeout``) and ``on_epoch`` sees the same values everywhere;
    only rank 0 reports intermediate values and writes ``training.log``.
    ``dist_timeout`` (seconds) bounds each wait for the other processes (default:
    ``timeout``, at least 60 s, else 1800 s); ``dist_backend`` overrides gloo (CPU)
    or nccl (CUDA).  Dropout masks differ between ranks (the torch seed is
    ``rng_seed + RANK`` after the weights are drawn).
    """
    t_start = time.monotonic()
    out_act = str(params.get("out_activation", params.get("out_act", "softmax"))).lower()
    if out_act != "softmax":
        raise ValueError(f"out_activation {out_act!r} not supported (only softmax)")
    loss_name = str(params.get("loss", "categorical_crossentropy")).lower()
    if loss_name not in LOSS_NAMES:
        raise ValueError(f"loss {loss_name!r} not supported (only categorical_crossentropy)")
    epochs = _get_int(params, "epochs", 1)
    batch_size = _get_int(params, "batch_size", 32)
    seed = _get_int(params, "rng_seed", DEFAULT_SEED, low=0)
    dropout = float(params.get("dropout", params.get("drop", 0.0)) or 0.0)
    timeout = _timeout(params)

    device = configure_torch(seed)
    group, dist_device = _group(params, timeout, log)
    if dist_device is not None:
        device = dist_device
    with group:
        return _fit(params, dataset, _Settings(epochs, batch_size, seed, dropout, timeout),
                    group, device, t_start, log, on_epoch, report)


def _fit(params: Mapping[str, Any], dataset: Dataset, settings: _Settings, group,
         device: torch.device, t_start: float, log,
         on_epoch: Callable[[int, Mapping[str, float]], None] | None,
         report: bool) -> Dict[str, List[float]]:
    """fit() once the parameters are read, inside its process group."""
    epochs, batch_size, seed = settings.epochs, settings.batch_size, settings.seed
    dropout, timeout = settings.dropout, settings.timeout
    world = group.world
    spec = net_spec(dataset.features, params.get("conv"), params.get("pool"),
                    params.get("dense"))
    for note in spec.notes:
        log(f"note: {note}")
    net = build_network(spec, dataset.classes, params.get("activation", "relu"), dropout)
    net.to(device)
    if world.rank:
        torch.manual_seed(seed + world.rank)  # dropout masks of its own
    model = group.wrap(net)
    optimizer = make_optimizer(params.get("optimizer", "sgd"), net.parameters(),
                               params.get("learning_rate"))
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE,
        threshold=PLATEAU_MIN_DELTA, threshold_mode="abs")
    loss_fn = nn.CrossEntropyLoss()

    x_train = torch.from_numpy(dataset.x_train).unsqueeze(1).to(device)
    y_train = torch.from_numpy(dataset.y_train).to(device)
    x_val = torch.from_numpy(dataset.x_test).unsqueeze(1).to(device)
    y_val = torch.from_numpy(dataset.y_test).to(device)
    # this process's part of the validation set (all of it alone)
    x_mine, y_mine = x_val[world.rank::world.size], y_val[world.rank::world.size]
    generator = torch.Generator().manual_seed(seed)
    n_params = sum(p.numel() for p in net.parameters())
    log(f"network: conv {list(spec.conv)} pool {list(spec.pool)} dense {list(spec.dense)} "
        f"flatten {spec.flat} classes {dataset.classes}, {n_params} parameters; "
        f"device {device}, {torch.get_num_threads()} thread(s)")
    log(f"training: {len(x_train)} train / {len(x_val)} validation samples, "
        f"{dataset.features} features, epochs {epochs}, batch_size {batch_size}, "
        f"optimizer {params.get('optimizer', 'sgd')} lr {optimizer.param_groups[0]['lr']:g}, "
        f"dropout {dropout:g}" + (f", timeout {timeout:g} s" if timeout else "")
        + (f"; batch_size is the global batch: {batch_size / world.size:g} samples per "
           f"process of {world.size} on average" if world.distributed else ""))

    history: Dict[str, List[float]] = {"loss": [], "acc": [], "val_loss": [], "val_acc": [],
                                       "lr": []}
    out_dir = params.get("output_dir")
    log_rows: List[List[Any]] = []
    t_train = time.monotonic()
    for epoch in range(epochs):
        t_epoch = time.monotonic()
        order = torch.randperm(len(x_train), generator=generator).to(device)
        sums = _train_epoch(model, optimizer, loss_fn, x_train, y_train, order, batch_size,
                            world)
        sums += _eval_sums(net, x_mine, y_mine, loss_fn)
        total, correct, val_total, val_correct = group.sum(sums)
        train_loss, train_acc = total / len(x_train), correct / len(x_train)
        val_n = max(len(x_val), 1)
        val_loss, val_acc = val_total / val_n, val_correct / val_n
        lr = optimizer.param_groups[0]["lr"]
        for key, value in (("loss", train_loss), ("acc", train_acc), ("val_loss", val_loss),
                           ("val_acc", val_acc), ("lr", lr)):
            history[key].append(value)
        log_rows.append([epoch, train_loss, train_acc, lr, val_loss, val_acc])
        log(f"Epoch {epoch + 1}/{epochs} - {time.monotonic() - t_epoch:.2f}s - "
            f"loss: {train_loss:.4f} - acc: {train_acc:.4f} - val_loss: {val_loss:.4f} - "
            f"val_acc: {val_acc:.4f} - lr: {lr:.3g}")
        if report and world.main and math.isfinite(val_loss):
            report_intermediate(epoch + 1, val_loss, last_step=epochs)
        if on_epoch is not None:
            on_epoch(epoch + 1, {k: v[-1] for k, v in history.items()})
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            log(f"stopping: loss is not finite after epoch {epoch + 1} (training diverged)")
            break
        plateau.step(val_loss)
        late = (timeout is not None and time.monotonic() - t_train >= timeout
                and epoch + 1 < epochs)
        if group.any(late):  # every rank stops after the same epoch
            log(f"stopping: timeout of {timeout:g} s reached after epoch {epoch + 1}/{epochs}")
            break
    t_end = time.monotonic()
    done = len(history["loss"])
    log(f"timing: build {t_train - t_start:.2f} s, train {t_end - t_train:.2f} s "
        f"({done} epochs, {(t_end - t_train) / max(done, 1):.2f} s/epoch)")
    if out_dir and world.main:
        _write_training_log(os.path.join(str(out_dir), "training.log"), log_rows)
    sys.stdout.flush()
    return history


def _write_training_log(path: str, rows: Sequence[Sequence[Any]]) -> None:
    try:
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["epoch", "loss", "acc", "lr", "val_loss", "val_acc"])
            writer.writerows(rows)
    except OSError as exc:
        print(f"warning: could not write {path}: {exc.strerror or exc}", file=sys.stderr)
