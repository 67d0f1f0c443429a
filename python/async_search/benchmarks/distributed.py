"""Data-parallel training of TC1 and NT3 across the processes of one evaluation.

Under ``--ranks-per-eval K`` every member of a team starts one model process
with the standard distributed environment: ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``.
:func:`world_from_env` reads it; with ``WORLD_SIZE`` unset, empty or 1 the
process trains alone, exactly as without this module.

With ``WORLD_SIZE`` > 1, :class:`Group` joins the processes with
``torch.distributed`` (``env://`` rendezvous at MASTER_ADDR:MASTER_PORT;
backend ``gloo`` on the CPU, ``nccl`` on CUDA) and wraps the network in
``DistributedDataParallel``; :func:`.network.fit` uses it as
follows (the reasons are in its docstring):

- every process draws the same seeded permutation of the training data each
  epoch and cuts it into the same global batches of ``batch_size`` samples as
  one process would; process ``r`` of ``W`` trains on samples ``r, r+W, ...``
  of each global batch (so about ``batch_size / W`` each) and scales its summed
  loss by ``W / len(global batch)``, so that DDP's average of the gradients is
  the gradient of the mean loss over the whole global batch;
- the validation set is split the same way, and the per-process sums of loss
  and correct predictions are added up (``all_reduce``), so every rank gets
  the same val_loss, over the whole validation set;
- every collective waits at most :func:`collective_timeout` seconds, so a lost
  or stuck peer makes the others fail instead of hanging.

Only rank 0 reports (IMPROVE_INTERMEDIATE, IMPROVE_RESULT, result files).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence

import torch
import torch.distributed as dist
from torch import nn

from async_search._compat import FROZEN

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MIN_TIMEOUT_S",
    "World",
    "world_from_env",
    "collective_timeout",
    "device_for",
    "Group",
    "Solo",
]

#: a collective's limit when the model has no timeout (torch's own default)
DEFAULT_TIMEOUT_S = 1800.0
#: the least limit taken from the model's timeout: room for the processes to
#: start, import torch and load the data at different speeds
MIN_TIMEOUT_S = 60.0


@dataclass(**FROZEN)
class World:
    """Where this process stands among the processes of one evaluation."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the process that reports the evaluation's values."""
        return self.rank == 0


def _env_int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{key}={raw!r} is not an integer") from exc


def world_from_env(env: Optional[Mapping[str, str]] = None) -> World:
    """The world of this process from RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE.

    WORLD_SIZE unset, empty or 1: a single process (``World()``). Otherwise
    RANK must lie in [0, WORLD_SIZE) and MASTER_ADDR and MASTER_PORT must be
    set (ValueError naming the variable)."""
    env = os.environ if env is None else env
    size = _env_int(env, "WORLD_SIZE", 1)
    if size <= 1:
        if size < 1:
            raise ValueError(f"WORLD_SIZE={size} must be at least 1")
        return World()
    rank = _env_int(env, "RANK", -1)
    if not 0 <= rank < size:
        raise ValueError(f"RANK={env.get('RANK', '')!r} must be set, from 0 to WORLD_SIZE-1 "
                         f"({size - 1})")
    for key in ("MASTER_ADDR", "MASTER_PORT"):
        if not env.get(key, "").strip():
            raise ValueError(f"WORLD_SIZE={size} but {key} is not set")
    local_size = max(_env_int(env, "LOCAL_WORLD_SIZE", 1), 1)
    local_rank = _env_int(env, "LOCAL_RANK", 0)
    if not 0 <= local_rank < local_size:
        local_rank = 0 if local_size == 1 else local_rank % local_size
    return World(rank, size, local_rank, local_size)


def collective_timeout(model_timeout: Optional[float],
                       explicit: Optional[float] = None) -> float:
    """Seconds any one collective (the rendezvous included) may wait for peers.

    ``explicit`` (the ``dist_timeout`` parameter) when given; else the model's
    own ``timeout`` (its whole training's budget: a wait longer than that is
    past it anyway), at least :data:`MIN_TIMEOUT_S`; else
    :data:`DEFAULT_TIMEOUT_S`."""
    if explicit is not None and explicit > 0:
        return float(explicit)
    if model_timeout is not None and model_timeout > 0:
        return max(float(model_timeout), MIN_TIMEOUT_S)
    return DEFAULT_TIMEOUT_S


def device_for(world: World) -> torch.device:
    """This process's device: the CPU without CUDA; ``cuda:0`` when one GPU is
    visible (CUDA_VISIBLE_DEVICES isolated it); else ``cuda:LOCAL_RANK``
    (modulo the visible devices)."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    count = torch.cuda.device_count()
    index = 0 if count <= 1 else world.local_rank % count
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


class Group:
    """The process group of one evaluation, for a ``with`` block: joined on
    entry, destroyed on exit (also after an error)."""

    def __init__(self, world: World, device: torch.device, timeout_s: float,
                 backend: Optional[str] = None):
        self.world = world
        self.device = device
        self.timeout_s = float(timeout_s)
        self.backend = backend or ("nccl" if device.type == "cuda" else "gloo")

    def __enter__(self) -> "Group":
        if self.backend == "nccl":
            # a timed-out NCCL collective ends the process instead of hanging
            # (torch < 2.2 reads the first name, later versions the second)
            os.environ.setdefault("NCCL_ASYNC_ERROR_HANDLING", "1")
            os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
        dist.init_process_group(self.backend, init_method="env://", rank=self.world.rank,
                                world_size=self.world.size,
                                timeout=datetime.timedelta(seconds=self.timeout_s))
        return self

    def __exit__(self, *exc_info) -> None:
        if dist.is_initialized():
            try:
                dist.destroy_process_group()
            except Exception:  # noqa: BLE001 - a failed peer: the error in flight counts
                if exc_info[0] is None:
                    raise

    def wrap(self, net: nn.Module) -> nn.Module:
        """``net`` in DistributedDataParallel (rank 0's parameters broadcast)."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(net, device_ids=ids)

    def sum(self, values: Sequence[float]) -> List[float]:
        """The element-wise sums over all ranks (float64), the same on every rank."""
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return [float(v) for v in t.cpu()]

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any."""
        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())


class Solo:
    """A single process: the same interface as :class:`Group`, doing nothing."""

    world = World()
    backend = ""

    def __enter__(self) -> "Solo":
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    @staticmethod
    def wrap(net: nn.Module) -> nn.Module:
        return net

    @staticmethod
    def sum(values: Sequence[float]) -> List[float]:
        return list(values)

    @staticmethod
    def any(flag: bool) -> bool:
        return bool(flag)
