"""Find and load CANDLE benchmark data: headerless CSV, column 0 the class.

Where the files are looked for (first hit wins), for each root in order:

1. ``$CANDLE_DATA_DIR/Pilot1/`` (the user's real CANDLE files, e.g.
   ``type_18_300_train.csv``);
2. ``$ASYNC_SEARCH_HOME/data/Pilot1/``, or, without ASYNC_SEARCH_HOME, the
   ``data/Pilot1/`` of the project tree this package lives in (what
   ``make data`` writes);

and in each root every (train, test) name pair the benchmark offers, its
CANDLE names first, then the names of the prepared offline data.  A name that
is an absolute path is used as it is.  Run directories live elsewhere, so
nothing here depends on the working directory.

A built-in benchmark whose data is missing prepares it on first use
(:func:`find_or_prepare`), as CANDLE's own benchmarks fetch theirs: into
the project's ``data/`` (what ``make data`` writes), under a lock so that
workers starting together prepare it once while the others wait.

Loading follows CANDLE's ``load_Xy_data_noheader``: ``feature_subsample = N``
keeps the first N feature columns (0: all), and the features are MaxAbs-scaled
over train and test together.  Only numpy is imported.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from async_search._compat import FROZEN

__all__ = [
    "DATA_SUBDIR",
    "DataError",
    "DataFiles",
    "Dataset",
    "project_root",
    "data_roots",
    "find_data_files",
    "find_or_prepare",
    "check_data",
    "read_candle_csv",
    "maxabs_scale",
    "load_dataset",
]


DATA_SUBDIR = "Pilot1"
PREPARE_LOCK = ".prepare.lock"
MAKE_DATA_HINT = ("run `make data` in the project, or "
                  "`/usr/bin/python3 -m async_search.benchmarks.prepare_data --out DIR` "
                  "and set CANDLE_DATA_DIR=DIR")


class DataError(RuntimeError):
    """Benchmark data missing or malformed; the message says which file and why."""


@dataclass(**FROZEN)
class DataFiles:
    train: Path
    test: Path


@dataclass(**FROZEN)
class Dataset:
    """Scaled features (float32, samples x features) and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    files: DataFiles

    def __post_init__(self) -> None:
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise DataError(f"{self.files.train} has {self.x_train.shape[1]} features but "
                            f"{self.files.test} has {self.x_test.shape[1]}")
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise DataError("features and labels differ in length")

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


def project_root() -> Path:
    """The project tree holding this package (python/async_search/benchmarks/)."""
    return Path(__file__).resolve().parents[3]


def data_roots(env: Optional[Mapping[str, str]] = None) -> List[Path]:
    """The ``Pilot1`` directories searched, in order."""
    env = os.environ if env is None else env
    roots = []
    if env.get("CANDLE_DATA_DIR"):
        roots.append(Path(env["CANDLE_DATA_DIR"]) / DATA_SUBDIR)
    home = env.get("ASYNC_SEARCH_HOME")
    roots.append((Path(home) if home else project_root()) / "data" / DATA_SUBDIR)
    return roots


def find_data_files(names: Sequence[Tuple[str, str]],
                    env: Optional[Mapping[str, str]] = None) -> DataFiles:
    """The first (train, test) pair that exists; :class:`DataError` lists what was tried."""
    pairs = [(str(a), str(b)) for a, b in names if a and b]
    if not pairs:
        raise DataError("no train_data/test_data file names given")
    tried: List[str] = []
    absolute = [(a, b) for a, b in pairs if Path(a).is_absolute() or Path(b).is_absolute()]
    for train, test in absolute:
        if Path(train).is_file() and Path(test).is_file():
            return DataFiles(Path(train), Path(test))
        tried.append(f"{train} + {test}")
    relative = [p for p in pairs if p not in absolute]
    for root in data_roots(env):
        for train, test in relative:
            if (root / train).is_file() and (root / test).is_file():
                return DataFiles(root / train, root / test)
            tried.append(f"{root / train} + {test}")
    raise DataError("benchmark data not found; tried " + "; ".join(tried) + ". " + MAKE_DATA_HINT)


def prepared_root(env: Optional[Mapping[str, str]] = None) -> Path:
    """The data directory ``make data`` writes (its ``Pilot1`` is the last root)."""
    return data_roots(env)[-1].parent


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An exclusive lock on path (created), held for the block; waits for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def find_or_prepare(names: Sequence[Tuple[str, str]], benchmark: str,
                    env: Optional[Mapping[str, str]] = None,
                    log: Callable[[str], None] = print) -> DataFiles:
    """:func:`find_data_files`, preparing the built-in ``benchmark``'s offline data first
    when none is found (``tc1`` or ``nt3``; any other name only looks).

    Workers that start together take the lock in turn: the first prepares the
    data, the others find it when they get the lock. A failure to prepare is a
    :class:`DataError` naming what was tried and why.
    """
    try:
        return find_data_files(names, env)
    except DataError as missing:
        from . import prepare_data

        if benchmark not in prepare_data.DATASETS:
            raise
        first_error = missing
    root = prepared_root(env)
    try:
        with _exclusive(root / DATA_SUBDIR / PREPARE_LOCK):
            try:
                return find_data_files(names, env)  # another worker prepared it
            except DataError:
                pass
            log(f"data: no {benchmark} data yet; preparing it in {root / DATA_SUBDIR} "
                f"(first use)")
            prepare_data.prepare(root, only=[benchmark], log=log)
    except (OSError, ValueError, prepare_data.PrepareError) as exc:
        raise DataError(f"{first_error}; preparing it on first use failed: {exc}") from exc
    return find_data_files(names, env)


def check_data(names: Sequence[Tuple[str, str]], benchmark: str,
               env: Optional[Mapping[str, str]] = None) -> str:
    """Where ``benchmark``'s data would come from, without reading it: the files
    found, or (for a built-in data set) the source it is prepared from on first
    use. Raises :class:`DataError` when neither exists."""
    try:
        files = find_data_files(names, env)
        return f"{files.train} + {files.test.name}"
    except DataError as missing:
        from . import prepare_data

        if benchmark not in prepare_data.DATASETS:
            raise
        try:
            source = prepare_data.source_of(benchmark)
        except (prepare_data.PrepareError, OSError) as exc:
            raise DataError(f"{missing}; and it cannot be prepared: {exc}") from exc
        return f"not prepared yet: made on first use from {source}"


def _count_columns(path: Path) -> int:
    with open(path) as fh:
        first = fh.readline()
    if not first.strip():
        raise DataError(f"{path}: empty file")
    return first.count(",") + 1


def read_candle_csv(path: Path, feature_subsample: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """(features float32, labels int64) of one CANDLE CSV; keeps the first N features if N > 0."""
    path = Path(path)
    try:
        ncols = _count_columns(path)
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror or exc}") from exc
    if ncols < 2:
        raise DataError(f"{path}: needs a class column and at least one feature column")
    usecols = None
    if feature_subsample and 0 < feature_subsample < ncols - 1:
        usecols = range(feature_subsample + 1)
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2, usecols=usecols)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a numeric CSV ({exc})") from exc
    labels = table[:, 0]
    if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)) \
            or np.any(labels < 0):
        raise DataError(f"{path}: column 0 must hold non-negative integer classes")
    features = table[:, 1:].astype(np.float32)
    if not np.all(np.isfinite(features)):
        raise DataError(f"{path}: features contain NaN or infinite values")
    return features, labels.astype(np.int64)


def maxabs_scale(x_train: np.ndarray, x_test: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Divide each feature by its largest absolute value over train and test together."""
    scale = np.max(np.abs(np.concatenate([x_train, x_test], axis=0)), axis=0)
    scale[scale == 0] = 1.0
    return (x_train / scale).astype(np.float32), (x_test / scale).astype(np.float32)


def load_dataset(files: DataFiles, feature_subsample: int = 0, classes: int = 0) -> Dataset:
    """Read, subsample and scale a train/test pair.

    ``classes`` 0 means "infer": largest label + 1.  A positive value is the
    network's output width (as CANDLE's ``classes``) and must exceed every label.
    """
    x_train, y_train = read_candle_csv(files.train, feature_subsample)
    x_test, y_test = read_candle_csv(files.test, feature_subsample)
    if x_train.shape[1] != x_test.shape[1]:
        raise DataError(f"{files.train} has {x_train.shape[1]} features but "
                        f"{files.test} has {x_test.shape[1]}")
    largest = int(max(y_train.max(), y_test.max()))
    if classes and largest >= classes:
        raise DataError(f"classes = {classes} but the data has label {largest}; "
                        "set classes to at least largest label + 1, or 0 to infer it")
    x_train, x_test = maxabs_scale(x_train, x_test)
    return Dataset(x_train, y_train, x_test, y_test, int(classes or largest + 1), files)
