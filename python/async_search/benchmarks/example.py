"""``example``: a cheap, deterministic stand-in for a CANDLE model.

For whole-program tests and demos: it accepts any parameter names and values,
takes about ``sleep`` seconds (default 0.2, from ``example_default_model.txt``),
imports nothing beyond the standard library, and returns a Keras-like history
whose last ``val_loss`` is

    0.1 + sum over the tuned parameters of g(name, value)

- a number ``v`` (bools are 0/1): ``g = (v / (1 + |v|) - t(name))**2``, where
  ``t(name)`` in (-1, 1) is fixed by a hash of the name; so every numeric
  parameter has one best value (``v* = t / (1 - |t|)``) and the function is
  smooth, whatever the parameter's range;
- a string: ``g = h(name, value)`` in [0, 1), a fixed pseudo-random cost per
  category (a space-separated numeric string such as "50 50 1" arrives as a
  list, see the runner);
- a list: the mean of its elements' ``g``; anything else (None, dicts): 0.

Hashes are CRC-32 (stable across processes and machines, unlike ``hash()``).
The "tuned parameters" are all parameters except the runner's own
(``timeout``, ``run_id``, ``experiment_id``, ``output_dir``) and this model's
controls (:data:`CONTROL_KEYS`).  Controls:

- ``sleep``: seconds to spend, spread over ``epochs`` (graceful ``timeout``
  honoured at each epoch end, like a real model);
- ``epochs``: history length (default 3); the history decreases to the value
  above at the last epoch; ``epochs`` is also a tuned parameter when searched;
- ``example_fail``: if true, ``run`` raises ``RuntimeError`` (failure paths).

History keys: ``loss`` (0.9 x val_loss), ``val_loss``, ``val_acc``
(``1 / (1 + val_loss)``) and ``val_corr`` (``exp(-val_loss)``), so every
OBJ_RETURN works.
"""

from __future__ import annotations

import math
import time
import zlib
from typing import Any, Dict, List, Mapping

__all__ = ["MODEL_NAME", "CONTROL_KEYS", "RUNNER_KEYS", "objective", "run"]

MODEL_NAME = "example"
RUNNER_KEYS = frozenset({"timeout", "run_id", "experiment_id", "output_dir"})
CONTROL_KEYS = frozenset({"sleep", "example_fail", "model_name"})
OFFSET = 0.1
_CRC_RANGE = float(2 ** 32)


def _unit(text: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``text``."""
    return zlib.crc32(text.encode("utf-8")) / _CRC_RANGE


def _cost(name: str, value: Any) -> float:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return 1.0
        target = 2.0 * _unit("target:" + name) - 1.0
        return (value / (1.0 + abs(value)) - target) ** 2
    if isinstance(value, str):
        return _unit(f"category:{name}={value}")
    if isinstance(value, (list, tuple)):
        return sum(_cost(name, v) for v in value) / len(value) if value else 0.0
    return 0.0


def objective(params: Mapping[str, Any]) -> float:
    """The final val_loss for ``params`` (see the module docstring)."""
    return OFFSET + sum(_cost(str(k), v) for k, v in params.items()
                        if k not in RUNNER_KEYS and k not in CONTROL_KEYS)


def run(params: Mapping[str, Any]) -> Dict[str, List[float]]:
    if params.get("example_fail"):
        raise RuntimeError("example model: failing as asked (example_fail is set)")
    final = objective(params)
    try:
        epochs = max(1, int(round(float(params.get("epochs", 3)))))
    except (TypeError, ValueError):
        epochs = 3
    epochs = min(epochs, 1000)
    sleep = max(0.0, float(params.get("sleep", 0.2) or 0.0))
    timeout = params.get("timeout")
    timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None
    history: Dict[str, List[float]] = {"loss": [], "val_loss": [], "val_acc": [], "val_corr": []}
    start = time.monotonic()
    for epoch in range(epochs):
        time.sleep(sleep / epochs)
        val_loss = final * (1.0 + (epochs - 1 - epoch) / epochs)
        history["loss"].append(0.9 * val_loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(1.0 / (1.0 + val_loss))
        history["val_corr"].append(math.exp(-val_loss))
        print(f"Epoch {epoch + 1}/{epochs} - val_loss: {val_loss:.6f}", flush=True)
        if timeout is not None and time.monotonic() - start >= timeout and epoch + 1 < epochs:
            print(f"stopping: timeout of {timeout:g} s reached after epoch {epoch + 1}",
                  flush=True)
            break
    return history
