"""CANDLE Pilot1 TC1 (tumour type classifier) in PyTorch.

``run(params) -> history``; defaults in ``tc1_default_model.txt`` beside this
file.  The network and training are :mod:`.network`'s; the data is CANDLE's
``type_18_300_{train,test}.csv`` when ``$CANDLE_DATA_DIR/Pilot1`` has them,
else the ALL leukaemia stages prepared by ``prepare_data``
(``tc1_all_bt_{train,test}.csv``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from .classifier import run_classifier

__all__ = ["MODEL_NAME", "run"]

MODEL_NAME = "tc1"


def run(params: Mapping[str, Any]) -> Dict[str, List[float]]:
    return run_classifier(params, "tc1")
