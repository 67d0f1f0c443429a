"""async-search's benchmarks, apart from the product (see bench/README.md).

Imported as ``asbench`` with ``bench/`` on the path (``PYTHONPATH=python:bench``;
pytest gets both from setup.cfg).  ``problems`` holds the spaces and models the
benchmarks search, ``runners`` one module per benchmark (``python -m
asbench.runners.NAME``), ``stopping`` the early-stopping benchmark's parts, and
``reporting`` the table and statistics helpers they share.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

#: the project's root (the directory with build/, python/ and bench/)
ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
PROBLEMS = Path(__file__).resolve().parent / "problems"
BINARY = ROOT / "build" / "async-search"
#: where benchmarks write what they generate (untracked, as all of build/)
OUT_DIR = ROOT / "build" / "bench"


def bench_env(extra: Optional[Mapping[str, str]] = None, python_tree: Optional[str] = None,
              base: Optional[Mapping[str, str]] = None) -> dict:
    """An environment for a child process that imports ``async_search`` and ``asbench``
    (a model run as ``python -m asbench...``, a benchmark's baseline run) and may run
    mpiexec as root.  ``python_tree``: another tree's python/ to import async_search
    from instead of this one's (an earlier commit's, for a before/after run)."""
    env = dict(os.environ if base is None else base)
    paths = [python_tree or str(ROOT / "python"), str(BENCH)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.update(extra or {})
    return env
