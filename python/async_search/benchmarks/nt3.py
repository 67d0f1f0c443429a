"""CANDLE Pilot1 NT3 (normal vs tumour classifier) in PyTorch.

``run(params) -> history``; defaults in ``nt3_default_model.txt`` beside this
file.  The network and training are :mod:`.network`'s; the data is CANDLE's
``nt_{train,test}2.csv`` when ``$CANDLE_DATA_DIR/Pilot1`` has them, else the
Wisconsin breast cancer set prepared by ``prepare_data``
(``nt3_wdbc_{train,test}.csv``).  CANDLE NT3's noise-injection options
(``add_noise``, ``label_noise``, ...) are not implemented and are ignored.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from .classifier import run_classifier

__all__ = ["MODEL_NAME", "run"]

MODEL_NAME = "nt3"


def run(params: Mapping[str, Any]) -> Dict[str, List[float]]:
    return run_classifier(params, "nt3")
