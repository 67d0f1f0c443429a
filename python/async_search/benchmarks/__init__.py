"""CANDLE benchmarks in PyTorch (TC1, NT3), a cheap ``example`` model, their data.

Built-in models for ``python -m async_search.runner MODEL PARAMS_JSON``
(:data:`BUILTIN_MODELS`): each is a module with ``run(params) -> history`` and a
``<model>_default_model.txt`` beside it.

- ``tc1``: tumour-type classifier (CANDLE Pilot1 TC1), :mod:`.tc1`;
- ``nt3``: normal-vs-tumour classifier (CANDLE Pilot1 NT3), :mod:`.nt3`;
- ``example``: an analytic, dependency-free function of any parameters, for
  whole-program tests and demos, :mod:`.example`.

The network and training loop shared by TC1 and NT3 is :mod:`.network`; data
location and loading is :mod:`.data`; the real offline data is written by
``python3 -m async_search.benchmarks.prepare_data --out DIR``.

This package imports nothing heavy: the runner imports only the model it runs.
"""

from types import MappingProxyType

__all__ = ["BUILTIN_MODELS"]

#: model name -> module implementing it
BUILTIN_MODELS = MappingProxyType({
    "tc1": "async_search.benchmarks.tc1",
    "nt3": "async_search.benchmarks.nt3",
    "example": "async_search.benchmarks.example",
})
