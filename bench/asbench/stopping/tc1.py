"""TC1 trained in this process, epoch by epoch, for Optuna's pruners (part ``tc1``)."""

from __future__ import annotations

import contextlib
import inspect
import io
import re
from pathlib import Path
from typing import Any, Callable, Dict, Mapping

from asbench import ROOT

TC1_DEFAULTS = ROOT / "python" / "async_search" / "benchmarks" / "tc1_default_model.txt"
#: the TC1 settings of part b, over tc1_default_model.txt
TC1_SETTINGS = {"epochs": 27, "feature_subsample": 200, "conv": [64, 20, 1, 64, 10, 1]}


class TC1InProcess:
    """TC1's network and data in this process, trained epoch by epoch with a hook."""

    EPOCH_LINE = re.compile(r"^Epoch (\d+)/\d+ .*val_loss: (\S+)")

    def __init__(self, defaults_file: Path, dataset: Any = None):
        from async_search import runner
        from async_search.benchmarks import data, network  # torch: imported once, here
        self._runner, self._network = runner, network
        self.defaults = runner.read_default_model(defaults_file)
        if dataset is None:
            d = self.defaults
            files = data.find_or_prepare([
                (d.get("train_data", ""), d.get("test_data", "")),
                (d.get("local_train_data", ""), d.get("local_test_data", "")),
            ], "tc1", log=lambda *a: None)
            dataset = data.load_dataset(
                files, feature_subsample=int(d.get("feature_subsample", 0) or 0),
                classes=int(d.get("classes", 0) or 0))
        self.dataset = dataset
        accepts = inspect.signature(network.fit).parameters
        self.hook_kind = "on_epoch" if "on_epoch" in accepts else "log"
        self._quiet = {"report": False} if "report" in accepts else {}

    def train(self, point: Mapping[str, Any], on_epoch: Callable[[int, float], None]) -> float:
        """Train ``point``; ``on_epoch(epoch, val_loss)`` after each epoch (it may raise
        to stop the training).  Returns the objective (last val_loss), as the runner."""
        params = self._runner.merge_params(self.defaults, dict(point),
                                           {"timeout": -1, "output_dir": None,
                                            "run_id": "bench", "experiment_id": "bench"})
        kwargs: Dict[str, Any] = {}
        if self.hook_kind == "on_epoch":
            def log(*args: Any) -> None:
                pass

            def hook(epoch: int, logs: Mapping[str, float]) -> None:
                on_epoch(int(epoch), float(logs["val_loss"]))
            kwargs["on_epoch"] = hook
            kwargs.update(self._quiet)
        else:  # parse the epoch lines (val_loss to 4 decimals)
            def log(*args: Any) -> None:
                m = self.EPOCH_LINE.match(" ".join(str(a) for a in args))
                if m:
                    on_epoch(int(m.group(1)), float(m.group(2)))
        with contextlib.redirect_stdout(io.StringIO()):
            history = self._network.fit(params, self.dataset, log=log, **kwargs)
        return self._runner.objective_from_history(history)


def tc1_defaults_file(directory: Path, epochs: int = TC1_SETTINGS["epochs"]) -> Path:
    """tc1_default_model.txt with the bench's settings (TC1_SETTINGS, ``epochs`` epochs)."""
    text = TC1_DEFAULTS.read_text()
    for key, value in {**TC1_SETTINGS, "epochs": epochs}.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value!r}", text)
        if n != 1:
            raise RuntimeError(f"{TC1_DEFAULTS}: no single line '{key} = ...'")
    path = Path(directory) / "tc1_bench_model.txt"
    path.write_text(text)
    return path
