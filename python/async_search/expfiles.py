"""The experiment directory's files: names, the results.csv columns, and reading them.

The manager (C) writes these files and this module is the one place in Python
that knows their format: ``csrc/journal.c`` writes results.csv and points.log,
``csrc/experiment.c`` config.json, ``csrc/worker.c`` the run directories. The
names and fixed columns below are held against the C sources by
``tests/python/test_expfiles.py`` and against what the built program writes by
``tests/integration/test_expfiles.py``.

An experiment directory::

    EXPDIR/results.csv   one row per finished evaluation, in the order the
                         results arrived (append-only, header written once)
    EXPDIR/points.log    one line JOB_ID<TAB>POINT_JSON per point, written before
                         the point is dispatched
    EXPDIR/intermediate.csv  job_id,step,value,m:timestamp: one line per
                         intermediate value a model reported (its learning
                         curve), written before a stopper acts on it; created
                         at the first one
    EXPDIR/config.json   the run's settings, with "restart" (R) and "start_time"
                         (Unix seconds of the experiment's first start)
    EXPDIR/report.png    the end-of-run report (async_search.report)
    EXPDIR/run/JOB_ID/   one directory per evaluation

results.csv columns, in this order: ``job_id`` (``R_I_J``: restart R, batch I,
point J); ``p:<name>`` for each parameter in the problem's order, the values
as the engine wrote them (Python's csv dialect, RFC 4180 quoting);
``objective`` (a float, lower is better, ``nan`` unless the status is ok or
stopped); ``status`` (``ok``, ``failed``, ``timeout`` or ``stopped``: ended
early by a stopper, its objective its last intermediate value); ``worker``
(the MPI rank that ran it, from 1); ``m:timestamp_submit``,
``m:timestamp_start``, ``m:timestamp_gather`` (seconds since the experiment's
first start); ``duration`` (seconds the evaluation ran) and ``steps`` (the
last intermediate step it reported, empty when none; an experiment from
before early stopping has no such column).

A last line without its newline in results.csv or points.log is a write cut
by a crash: every reader here ignores it (and the manager cuts it off before a
restart).

API::

    header(params) / header_line(params)   results.csv's columns / first line
    csv_fields(values) / point_json(point)  a point as results.csv / points.log hold it
    read_points(path)       -> dict job_id -> point JSON text (points.log)
    read_table(path)        -> Table: header and complete records (tolerant)
    parse_rows(table)       -> list[ResultRow] (typed; strict)
    read_config(exp_dir)    -> dict, or None when there is no config.json
    read_restart(exp_dir, params) -> Restart: what a restart needs
    read_frame(exp_dir)     -> ResultsFrame: a typed DataFrame and notes
    frame_of(table)         -> ResultsFrame of a Table already read (the dashboard)
    load_results(exp_dir)   -> pandas.DataFrame (the public results API)
    best_row(frame)         -> pandas.Series: the best evaluation

pandas and numpy are imported only by the DataFrame functions, so that the
engine's restart path stays light.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from async_search._compat import FROZEN

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

__all__ = [
    "OBJECTIVE_PREFIX",
    "frame_of",
    "front_summary",
    "hypervolume",
    "objective_column",
    "pareto_mask",
    "pareto_rows",
    "reference_point",
    "CONFIG",
    "DURATION",
    "FAILED",
    "FIXED",
    "FIXED_WITHOUT_STEPS",
    "CURVES",
    "CURVE_COLUMNS",
    "CurvePoint",
    "read_curves",
    "STEPS",
    "STOPPED",
    "GATHER",
    "JOB_ID",
    "OBJECTIVE",
    "OK",
    "PARAM_PREFIX",
    "POINTS",
    "REPORT",
    "REQUIRED",
    "RESTART_HINT",
    "RESULTS",
    "RUN_DIR",
    "START",
    "STATUS",
    "STATUSES",
    "SUBMIT",
    "TIMEOUT",
    "TIMES",
    "WORKER",
    "ExperimentFileError",
    "Restart",
    "ResultRow",
    "ResultsFrame",
    "Table",
    "best_row",
    "csv_fields",
    "header",
    "header_line",
    "load_results",
    "param_column",
    "parse_rows",
    "point_json",
    "read_config",
    "read_frame",
    "read_points",
    "read_restart",
    "read_table",
    "restart_number",
    "run_dir",
]

# -- file names (csrc/journal.h JOURNAL_RESULTS, JOURNAL_POINTS; csrc/manager_internal.h
#    MANAGER_CONFIG; csrc/worker.c the run directory)
RESULTS = "results.csv"
POINTS = "points.log"
CURVES = "intermediate.csv"  # intermediate values (learning curves)
CONFIG = "config.json"
REPORT = "report.png"
RUN_DIR = "run"

# -- results.csv columns
JOB_ID = "job_id"
PARAM_PREFIX = "p:"
OBJECTIVE_PREFIX = "o:"  # several objectives: one column each, after the fixed ones
OBJECTIVE = "objective"
STATUS = "status"
WORKER = "worker"
SUBMIT = "m:timestamp_submit"
START = "m:timestamp_start"
GATHER = "m:timestamp_gather"
DURATION = "duration"
STEPS = "steps"  # the last intermediate step an evaluation reported ("" none)
# After the parameter columns, in this order (csrc/journal.c JOURNAL_FIXED_HEADER).
FIXED = (OBJECTIVE, STATUS, WORKER, SUBMIT, START, GATHER, DURATION, STEPS)
# Experiments from before early stopping have no steps column; they are read
# and continued in that form.
FIXED_WITHOUT_STEPS = FIXED[:-1]
# intermediate.csv's columns (csrc/journal.c JOURNAL_CURVE_HEADER)
STEP = "step"
VALUE = "value"
TIMESTAMP = "m:timestamp"
CURVE_COLUMNS = (JOB_ID, STEP, VALUE, TIMESTAMP)
TIMES = (SUBMIT, START, GATHER, DURATION)
# What a reader cannot do without (the other fixed columns may be missing).
REQUIRED = (JOB_ID, OBJECTIVE, STATUS)

# -- statuses, in the order reports list them
OK = "ok"
FAILED = "failed"
TIMEOUT = "timeout"
STOPPED = "stopped"  # stopped early: its objective is its last intermediate value
STATUSES = (OK, FAILED, TIMEOUT, STOPPED)

CSV_QUOTED_LINE_END = "\r\n"  # csv quotes a value holding any of these characters
TORN_SHOWN_CHARS = 60  # a note shows this much of a torn last line
RESTART_HINT = "restart with the problem file the experiment was run with"


class ExperimentFileError(ValueError):
    """An experiment file is missing, unreadable or not in the expected format.

    str() is one line naming the file.
    """


# --------------------------------------------------------------------------- writing


def point_json(point: Mapping[str, Any]) -> str:
    """A point as the JSON text of points.log and params.json (UTF-8, never
    ASCII-escaped; NaN/inf refused: not valid JSON)."""
    return json.dumps(point, ensure_ascii=False, allow_nan=False)


def csv_fields(values: Iterable[Any]) -> str:
    """Values as one results.csv record without its line end (quoted where needed).

    The writer's line end is CRLF so that values holding a newline or a
    carriage return are quoted (with an empty line end they were not, and the
    row broke in two); it is cut off here.
    """
    out = io.StringIO()
    csv.writer(out, lineterminator=CSV_QUOTED_LINE_END).writerow(values)
    return out.getvalue()[:-len(CSV_QUOTED_LINE_END)]


def param_column(name: str) -> str:
    """The results.csv column of parameter ``name``."""
    return PARAM_PREFIX + name


def objective_column(name: str) -> str:
    """The results.csv column of objective ``name`` (a problem with several)."""
    return OBJECTIVE_PREFIX + name


def header(params: Iterable[str], objectives: Iterable[str] = ()) -> tuple[str, ...]:
    """results.csv's columns for a problem with these parameters (in its order) and,
    when it declares several, objectives (``objective`` holds the first again)."""
    return (JOB_ID, *(param_column(name) for name in params), *FIXED,
            *(objective_column(name) for name in objectives))


def header_line(params: Iterable[str], objectives: Iterable[str] = ()) -> str:
    """results.csv's first line (without the newline), byte for byte as C writes it."""
    return csv_fields(header(params, objectives))


def run_dir(exp_dir: str | os.PathLike[str], job_id: str) -> Path:
    """The directory an evaluation runs in: ``EXPDIR/run/JOB_ID``."""
    return Path(exp_dir) / RUN_DIR / job_id


def restart_number(job_id: str) -> int | None:
    """R of a job id ``R_I_J``; None when the id does not start with a number."""
    head = job_id.split("_", 1)[0]
    return int(head) if head.isdigit() else None


# --------------------------------------------------------------------------- points.log


def read_points(path: str | os.PathLike[str]) -> dict[str, str]:
    """points.log as {job_id: point JSON text}, in file order ({} when missing).

    Lines without a tab are skipped; a job id seen again takes its later text.
    Reading stops at a last line without its newline. Raises
    :class:`ExperimentFileError` when the file is not UTF-8 or cannot be read.
    """
    points: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break
                job_id, tab, text = line[:-1].partition("\t")
                if tab:
                    points[job_id] = text
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError as exc:
        raise ExperimentFileError(f"{path} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return points


# --------------------------------------------------------------------------- results.csv


@dataclass(**FROZEN)
class Table:
    """results.csv as read: its header and complete records (lists of field texts).

    Records whose field count differs from the header, repeated header lines
    and records with an already seen job id are left out, each with a note.
    """

    path: Path
    header: tuple[str, ...]
    records: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...]

    def __post_init__(self) -> None:
        width = len(self.header)
        if any(len(r) != width for r in self.records):
            raise ValueError(f"{self.path}: every record needs {width} fields")


def read_table(path: str | os.PathLike[str], params: Sequence[str] | None = None,
               objectives: Sequence[str] = ()) -> Table:
    """Read results.csv, tolerating a torn last line, bad rows and non-UTF-8 bytes.

    With ``params`` the header must be exactly :func:`header` (params) (what a
    restart needs); without, it must hold the columns in ``REQUIRED``. A file
    without a complete first line has an empty header and no records. Raises
    :class:`ExperimentFileError` for a missing or unreadable file or a header
    that does not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise ExperimentFileError(f"no {path.name} in {path.parent}: {path} does not exist")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    notes: list[str] = []
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
        notes.append(f"{path.name}: bytes that are not UTF-8 were replaced")
    records = list(csv.reader(io.StringIO(text, newline="")))
    if text and not text.endswith("\n") and records:
        shown = ",".join(records.pop())
        if len(shown) > TORN_SHOWN_CHARS:
            shown = shown[:TORN_SHOWN_CHARS - 3] + "..."
        notes.append(f"ignored a partial last line of {path.name} "
                     f"(experiment running or killed): {shown!r}")
    if not records:
        notes.append(f"{path.name} holds no complete header line yet")
        return Table(path, (), (), tuple(notes))
    head = tuple(records[0])
    if params is not None:
        expected = header(params, objectives)
        if head != expected and (objectives or head != expected[:-1]):  # steps aside
            raise ExperimentFileError(f"{path}: its columns {list(head)} do not match this "
                                      f"problem's {list(expected)}; {RESTART_HINT}")
    missing = [c for c in REQUIRED if c not in head]
    if missing:
        raise ExperimentFileError(
            f"{path} is not an async-search results file: missing column(s) "
            f"{', '.join(missing)} (header: {','.join(head)[:80]!r})")
    kept: list[tuple[str, ...]] = []
    bad_width = repeated_header = duplicates = 0
    seen: set[str] = set()
    job_at = head.index(JOB_ID)
    for record in map(tuple, records[1:]):
        if not record:
            continue
        if record == head:
            repeated_header += 1
        elif len(record) != len(head):
            bad_width += 1
        elif record[job_at] in seen:
            duplicates += 1
        else:
            seen.add(record[job_at])
            kept.append(record)
    if bad_width:
        notes.append(f"skipped {bad_width} row(s) whose field count differs from the header")
    if repeated_header:
        notes.append(f"skipped {repeated_header} repeated header line(s)")
    if duplicates:
        notes.append(f"skipped {duplicates} row(s) with an already seen job_id (kept the first)")
    return Table(path, head, tuple(kept), tuple(notes))


@dataclass(**FROZEN)
class ResultRow:
    """One results.csv row, typed.

    ``params`` maps each parameter name to its text in the file (its type is
    the problem's business). ``status`` is kept as written: the manager writes
    one of ``STATUSES``; a restart counts any other text as failed, as
    csrc/experiment.c does.
    """

    job_id: str
    params: Mapping[str, str]
    objective: float
    status: str
    worker: int
    submit: float
    start: float
    gather: float
    duration: float
    steps: int = 0  # the last intermediate step reported (0: none, or no column)
    objectives: tuple = ()  # several objectives: the o:<name> values (NaN unless ok)


def parse_rows(table: Table) -> list[ResultRow]:
    """The table's records as :class:`ResultRow` (the table needs every fixed column).

    Raises :class:`ExperimentFileError` naming the file, the job and the column
    for a value that is not of its column's type.
    """
    missing = [c for c in FIXED_WITHOUT_STEPS if c not in table.header]
    if table.header and missing:
        raise ExperimentFileError(f"{table.path}: missing column(s) {', '.join(missing)}")
    at = {name: i for i, name in enumerate(table.header)}
    params = [c[len(PARAM_PREFIX):] for c in table.header if c.startswith(PARAM_PREFIX)]
    names = [c for c in table.header if c.startswith(OBJECTIVE_PREFIX)]
    rows = []
    for record in table.records:
        rows.append(ResultRow(
            job_id=record[at[JOB_ID]],
            params={name: record[at[param_column(name)]] for name in params},
            objective=_field(table, record, at, OBJECTIVE, float),
            status=record[at[STATUS]],
            worker=_field(table, record, at, WORKER, int),
            submit=_field(table, record, at, SUBMIT, float),
            start=_field(table, record, at, START, float),
            gather=_field(table, record, at, GATHER, float),
            duration=_field(table, record, at, DURATION, float),
            steps=(_field(table, record, at, STEPS, int)
                   if STEPS in at and record[at[STEPS]] else 0),
            objectives=tuple(_field(table, record, at, c, float) for c in names),
        ))
    return rows


def _field(table: Table, record: Sequence[str], at: Mapping[str, int], column: str,
           kind: type) -> Any:
    """record's ``column`` as int or float; ExperimentFileError when it is not one."""
    text = record[at[column]]
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise ExperimentFileError(f"{table.path}: job {record[at[JOB_ID]]}: {column} {text!r} "
                                  f"is not {what}") from None


# --------------------------------------------------------------------------- config.json


def read_config(exp_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """EXPDIR/config.json as a dict; None when there is none.

    Raises :class:`ExperimentFileError` when it cannot be read, is not JSON or
    is not a JSON object.
    """
    path = Path(exp_dir) / CONFIG
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ExperimentFileError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ExperimentFileError(
            f"{path}: top level is {type(data).__name__}, not an object")
    return data


# --------------------------------------------------------------------------- restart


@dataclass(**FROZEN)
class Restart:
    """What a restart of an experiment needs from its directory.

    ``finished``: results.csv's rows (the first of each job id, in file order);
    ``points``: points.log ({job_id: point JSON text}, in file order);
    ``last_restart``: the highest restart number R used, in job ids or
    config.json (0 if none); ``start_time``: the experiment's first start in
    Unix seconds (0.0 if unknown).
    """

    finished: tuple[ResultRow, ...]
    points: Mapping[str, str]
    last_restart: int
    start_time: float
    curves: tuple[CurvePoint, ...] = ()  # intermediate.csv, in file order

    def __post_init__(self) -> None:
        if self.last_restart < 0:
            raise ValueError(f"last_restart must be >= 0, got {self.last_restart}")

    @property
    def inflight(self) -> tuple[tuple[str, str], ...]:
        """(job_id, point JSON text) of the points to issue again, in points.log order.

        A point is in flight when its job id has no row and the same point
        was not issued again later: a restart writes each point it reissues
        to points.log under a new job id, so the old id never gets a row and
        must not be reissued by every later restart.
        """
        done = {row.job_id for row in self.finished}
        later: set[str] = set()
        out = []
        for job_id, text in reversed(list(self.points.items())):
            if job_id not in done and text not in later:
                out.append((job_id, text))
            later.add(text)
        return tuple(reversed(out))


def read_restart(exp_dir: str | os.PathLike[str], params: Sequence[str],
                 objectives: Sequence[str] = ()) -> Restart:
    """Read an experiment for a restart with a problem of these parameters.

    results.csv must have exactly this problem's header (or be missing or
    empty); config.json may be missing or unreadable (then R comes from the
    job ids and the start time is unknown). Raises :class:`ExperimentFileError`.
    """
    root = Path(exp_dir)
    points = read_points(root / POINTS)
    finished: list[ResultRow] = []
    if (root / RESULTS).exists():
        finished = parse_rows(read_table(root / RESULTS, params, objectives))
    numbers = [restart_number(j) for j in [*points, *(row.job_id for row in finished)]]
    start_time, config_restart = 0.0, 0
    try:
        config = read_config(root) or {}
        start_time = float(config.get("start_time") or 0.0)
        config_restart = int(config.get("restart") or 0)
    except (ValueError, TypeError):  # ExperimentFileError is a ValueError
        start_time, config_restart = 0.0, 0
    last = max([n for n in numbers if n is not None] + [config_restart, 0])
    return Restart(tuple(finished), points, last, start_time, read_curves(root / CURVES))


@dataclass(**FROZEN)
class CurvePoint:
    """One intermediate value of intermediate.csv."""

    job_id: str
    step: int
    value: float
    timestamp: float


def read_curves(path: str | os.PathLike[str]) -> tuple[CurvePoint, ...]:
    """intermediate.csv's values in file order (none if there is no file). A torn
    last line is left out; a malformed row is an ExperimentFileError."""
    path = Path(path)
    if not path.is_file():
        return ()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    records = list(csv.reader(io.StringIO(text, newline="")))
    if text and not text.endswith("\n") and records:
        records.pop()
    if not records:
        return ()
    if tuple(records[0]) != CURVE_COLUMNS:
        raise ExperimentFileError(f"{path}: its columns {records[0]} are not "
                                  f"{list(CURVE_COLUMNS)}")
    out = []
    for line, record in enumerate(records[1:], start=2):
        try:
            job_id, step, value, stamp = record
            out.append(CurvePoint(job_id, int(step), float(value), float(stamp)))
        except ValueError:
            raise ExperimentFileError(f"{path}: line {line} {record!r} is not "
                                      f"job_id,step,value,timestamp") from None
    return tuple(out)


# --------------------------------------------------------------------------- DataFrame


@dataclass(**FROZEN)
class ResultsFrame:
    """results.csv as a typed DataFrame, with what was noticed reading it.

    ``frame`` has one row per evaluation in gather order with the columns
    ``job_id`` (str), ``p:<param>`` (int64 when every value is an integer,
    float64 when every value is a number, else the texts as str, None when
    empty), ``objective`` (float64, NaN when not a number), ``status`` (str,
    lower case, "unknown" when empty), ``worker`` (float64, NaN when unknown),
    the ``m:timestamp_*`` columns and ``duration`` (float64 seconds, NaN when
    missing). ``categorical`` names the parameters kept as text.
    """

    frame: pd.DataFrame
    params: tuple[str, ...]
    categorical: frozenset[str]
    notes: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = self.categorical - set(self.params)
        if unknown:
            raise ValueError(f"categorical names are not parameters: {sorted(unknown)}")


def read_frame(exp_dir: str | os.PathLike[str]) -> ResultsFrame:
    """Read EXPDIR/results.csv into a :class:`ResultsFrame` (see :func:`read_table`
    for what is tolerated). Raises :class:`ExperimentFileError`."""
    root = Path(exp_dir)
    if not root.exists():
        raise ExperimentFileError(f"no such experiment directory: {root}")
    if not root.is_dir():
        raise ExperimentFileError(f"not a directory: {root} (expected an experiment directory)")
    table = read_table(root / RESULTS)
    return _typed_frame(table)


def frame_of(table: Table) -> ResultsFrame:
    """:func:`read_frame`'s answer for a :class:`Table` already read (the dashboard
    reads results.csv incrementally, by the same rules)."""
    return _typed_frame(table)


def load_results(exp_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """An experiment's results as a pandas DataFrame, one row per finished evaluation.

    Works on a finished, running or killed experiment. Columns: ``job_id``,
    ``p:<param>`` per parameter (ints, floats, or the categorical values as
    str), ``objective`` (lower is better; NaN unless ok), ``status`` (ok,
    failed, timeout), ``worker``, ``m:timestamp_submit``, ``m:timestamp_start``,
    ``m:timestamp_gather``, ``duration``; rows in the order the results
    arrived; a problem with several objectives adds one float column per
    objective, named like it (``val_loss``, ``cost``; NaN unless ok), listed in
    ``frame.attrs["objectives"]`` (``objective`` is the first again). Raises
    :class:`ExperimentFileError` (a ValueError) when there is no readable
    results.csv. See :func:`best_row` for the best evaluation and
    :func:`pareto_rows` for the front.
    """
    return read_frame(exp_dir).frame


def best_row(frame: pd.DataFrame) -> pd.Series:
    """The evaluation with the lowest objective among those with status ok and a
    finite objective (the first in gather order on a tie).

    Raises ValueError when there is none.
    """
    import numpy as np

    objective = frame[OBJECTIVE].to_numpy(dtype=float)
    usable = (frame[STATUS] == OK).to_numpy() & np.isfinite(objective)
    if not usable.any():
        raise ValueError(f"no evaluation finished with status {OK} and a finite objective "
                         f"(of {len(frame)})")
    return frame.iloc[int(np.argmin(np.where(usable, objective, np.inf)))]


def _objective_names(frame: pd.DataFrame, objectives: Sequence[str] | None) -> list:
    names = list(objectives if objectives is not None else frame.attrs.get("objectives", ()))
    if len(names) < 2:
        raise ValueError("the results have no several objectives (load_results of a problem "
                         "with self.objectives, or pass objectives=[...])")
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in the results (columns: "
                         f"{', '.join(map(str, frame.columns))})")
    return names


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """The non-dominated rows of Y (all minimised; rows with NaN are never on the
    front). A row is dominated when another is <= in every objective and < in one;
    equal rows are all kept."""
    import numpy as np

    Y = np.asarray(Y, dtype=float)
    ok = ~np.isnan(Y).any(axis=1) if Y.size else np.zeros(len(Y), bool)
    mask = ok.copy()
    for i in np.flatnonzero(ok):
        other = Y[ok]
        dominated = np.all(other <= Y[i], axis=1) & np.any(other < Y[i], axis=1)
        mask[i] = not dominated.any()
    return mask


def pareto_rows(frame: pd.DataFrame, objectives: Sequence[str] | None = None) -> pd.DataFrame:
    """The non-dominated evaluations of a search with several objectives (all
    minimised): rows with status ok and every objective finite that no other such
    row dominates (is no worse in every objective and better in one). Equal rows
    are all kept; rows in gather order. ``objectives`` defaults to
    ``frame.attrs["objectives"]`` (set by :func:`load_results`). Raises ValueError
    when the frame has no several objectives."""
    import numpy as np

    names = _objective_names(frame, objectives)
    Y = frame[names].to_numpy(dtype=float)
    usable = (frame[STATUS] == OK).to_numpy() & np.isfinite(Y).all(axis=1)
    Y = np.where(usable[:, None], Y, np.nan)
    return frame[pareto_mask(Y)]


def reference_point(Y: np.ndarray) -> np.ndarray:
    """The hypervolume's reference point for the ok rows of Y: the worst value of
    each objective plus 10% of its range (plus 1e-9 when the range is 0)."""
    import numpy as np

    Y = np.asarray(Y, dtype=float)
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    return hi + 0.1 * (hi - lo) + 1e-9


def hypervolume(front: np.ndarray, ref: np.ndarray, ideal: np.ndarray | None = None) -> float:
    """The hypervolume dominated by the rows of ``front`` (all minimised) up to
    ``ref``; with ``ideal`` each objective is first normalised to [0, 1] by
    (value - ideal) / (ref - ideal), so that the volume is a share of the box
    between them (1.0 would be the ideal point itself). Rows not below ``ref`` in
    every objective add nothing. Exact, by slicing along the first objective
    (any number of objectives; meant for fronts of up to a few hundred points)."""
    import numpy as np

    P = np.asarray(front, dtype=float).reshape(-1, len(ref))
    ref = np.asarray(ref, dtype=float)
    if ideal is not None:
        ideal = np.asarray(ideal, dtype=float)
        scale = np.where(ref > ideal, ref - ideal, 1.0)
        P, ref = (P - ideal) / scale, (ref - ideal) / scale
    P = P[np.all(P < ref, axis=1) & ~np.isnan(P).any(axis=1)]
    return _hv(P, ref)


def _hv(P: np.ndarray, ref: np.ndarray) -> float:
    import numpy as np

    if len(P) == 0:
        return 0.0
    if len(ref) == 1:
        return float(ref[0] - P[:, 0].min())
    P = P[pareto_mask(P)]
    P = P[np.argsort(P[:, 0])]
    total = 0.0
    for i in range(len(P)):
        upper = P[i + 1, 0] if i + 1 < len(P) else ref[0]
        if upper > P[i, 0]:
            total += (upper - P[i, 0]) * _hv(P[:i + 1, 1:], ref[1:])
    return total


def front_summary(frame: pd.DataFrame) -> dict | None:
    """The front of a search with several objectives, for the summaries: its rows,
    size, the reference point (:func:`reference_point` over the ok rows) and the
    normalised hypervolume (between the ideal point and the reference). None when
    the frame has one objective or no usable row."""
    import numpy as np

    names = list(frame.attrs.get("objectives", ()))
    if len(names) < 2:
        return None
    Y = frame[names].to_numpy(dtype=float)
    usable = (frame[STATUS] == OK).to_numpy() & np.isfinite(Y).all(axis=1)
    if not usable.any():
        return None
    front = pareto_rows(frame)
    ref = reference_point(Y[usable])
    ideal = Y[usable].min(axis=0)
    hv = hypervolume(front[names].to_numpy(dtype=float), ref, ideal)
    return {"objectives": names, "rows": front, "size": len(front), "reference": ref,
            "ideal": ideal, "hypervolume": hv}


def _typed_frame(table: Table) -> ResultsFrame:
    import pandas as pd

    notes = list(table.notes)
    records = table.records
    columns = {name: [r[i] for r in records] for i, name in enumerate(table.header)}
    n = len(records)
    blank = [""] * n
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame[JOB_ID] = pd.Series(columns.get(JOB_ID, blank), dtype=object)
    params: list[str] = []
    categorical: set[str] = set()
    for column in table.header:
        name = column[len(PARAM_PREFIX):]
        if not column.startswith(PARAM_PREFIX) or name in params:
            continue
        params.append(name)
        values, is_categorical = _typed_param(columns[column])
        frame[column] = values
        if is_categorical:
            categorical.add(name)
    objective, bad = _floats(columns.get(OBJECTIVE, blank))
    if bad:
        notes.append(f"{bad} objective value(s) are not numbers and count as NaN")
    frame[OBJECTIVE] = objective
    frame[STATUS] = pd.Series([s.strip().lower() or "unknown"
                               for s in columns.get(STATUS, blank)], dtype=object)
    frame[WORKER], _ = _floats(columns.get(WORKER, blank))
    for column in TIMES:
        if column not in columns and n:
            notes.append(f"column {column} is missing: the figures that need it are empty")
        frame[column], _ = _floats(columns.get(column, blank))
    frame[STEPS], _ = _floats(columns.get(STEPS, blank))  # NaN: none reported
    names = [c[len(OBJECTIVE_PREFIX):] for c in table.header if c.startswith(OBJECTIVE_PREFIX)]
    for name in names:  # several objectives: a column each, named like the objective
        frame[name], _ = _floats(columns[objective_column(name)])
    frame.attrs["objectives"] = tuple(names)
    return ResultsFrame(frame, tuple(params), frozenset(categorical), tuple(notes))


def _floats(texts: Sequence[str]) -> tuple[np.ndarray, int]:
    """Parse floats; empty or bad text becomes NaN. Returns (values, number bad)."""
    import numpy as np

    out = np.full(len(texts), np.nan)
    bad = 0
    for i, text in enumerate(texts):
        text = text.strip()
        if not text:
            continue
        try:
            out[i] = float(text)
        except ValueError:
            bad += 1
    return out, bad


def _typed_param(texts: Sequence[str]) -> tuple[pd.Series, bool]:
    """A parameter column: ints, else floats, else the strings as written."""
    import pandas as pd

    present = [t.strip() for t in texts if t.strip()]
    if present:
        if all(_parses(int, t) for t in present):
            if len(present) == len(texts):
                return pd.Series([int(t) for t in texts], dtype="int64"), False
            return pd.Series(_floats(texts)[0]), False
        if all(_parses(float, t) for t in present):
            return pd.Series(_floats(texts)[0]), False
    return pd.Series([t if t != "" else None for t in texts], dtype=object), True


def _parses(kind: type, text: str) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True
