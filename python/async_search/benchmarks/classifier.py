"""``run(params)`` of a CANDLE classifier benchmark: find data, load it, train.

TC1 and NT3 differ only in their default parameters (``*_default_model.txt``),
so both call :func:`run_classifier`.  Data file names come from the
parameters: ``train_data``/``test_data`` (CANDLE's own files, used when the
user has them) and then ``local_train_data``/``local_test_data`` (the offline
data ``prepare_data`` writes); see :mod:`.data` for the directories searched.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping

from . import data, network

__all__ = ["run_classifier"]


def run_classifier(params: Mapping[str, Any], benchmark: str = "",
                   log=print) -> Dict[str, List[float]]:
    """Train the CANDLE network on the benchmark's data; returns the history.

    ``benchmark`` (``tc1``, ``nt3``) names the offline data to prepare on
    first use when no data is found."""
    t0 = time.monotonic()
    files = data.find_or_prepare([
        (params.get("train_data", ""), params.get("test_data", "")),
        (params.get("local_train_data", ""), params.get("local_test_data", "")),
    ], benchmark, log=log)
    subsample = int(params.get("feature_subsample", 0) or 0)
    classes = int(params.get("classes", 0) or 0)
    dataset = data.load_dataset(files, feature_subsample=subsample, classes=classes)
    log(f"data: {files.train} ({len(dataset.y_train)} rows) and {files.test} "
        f"({len(dataset.y_test)} rows), {dataset.features} features"
        + (f" (feature_subsample {subsample})" if subsample else "")
        + f", {dataset.classes} classes; loaded in {time.monotonic() - t0:.2f} s")
    return network.fit(params, dataset, log=log)
