"""The dashboard's view of an experiment directory: incremental, read-only.

results.csv and intermediate.csv are append-only journals (csrc/journal.c). A
:class:`CsvJournal` keeps the records read so far and the byte offset where
the complete ones end; each poll reads only the bytes added since, and only
complete records (a last line without its newline is a write in progress and
waits for the next poll). A file that got shorter or was replaced (another
inode) is read again from the start, and its ``generation`` goes up so that
clients start over. The rules of :func:`async_search.expfiles.read_table`
apply: records of the wrong width, repeated headers and already seen job ids
are skipped.

Nothing here writes: files are opened read-only, the lock is tested with
``F_GETLK`` (which takes no lock), and a path is served only when it resolves
inside the experiment directory.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import re
import socket
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from async_search import expfiles
from async_search._compat import FROZEN

__all__ = ["CsvJournal", "Experiment", "ExperimentError", "State", "complete_length",
           "front_answer", "inside", "JOB_ID_PATTERN"]

LOCK = ".lock"  # csrc/journal.h JOURNAL_LOCK: fcntl-locked while a search runs
MANAGER_LOG = "manager.log"  # csrc/experiment.h EXPERIMENT_LOG
MODEL_LOG = "model.log"
LOG_TAIL_BYTES = 16384  # a model.log is read from this far before its end
LOG_TAIL_LINES = 20  # lines of a failed evaluation's model.log shown
MANAGER_TAIL_BYTES = 65536
JOB_ID_PATTERN = re.compile(r"\A[0-9]+_[0-9]+_[0-9]+\Z")
START_LINE = re.compile(r"experiment .*: \d+ workers, max_evals (-?\d+)")
STOP_LINE = re.compile(r"(interrupted by SIG\w+|stopping: [^;(]*)")
FRONT_HISTORY_MAX = 200  # hypervolumes computed for the front's evolution (at most)


class ExperimentError(ValueError):
    """Not an experiment directory (one line naming the path)."""


def complete_length(chunk: bytes) -> int:
    """Length of the longest prefix of ``chunk`` made of complete CSV records:
    up to a newline outside quotes (an even number of quote characters before
    it: an escaped quote is two). A quoted value may hold a newline."""
    end = pos = quotes = 0
    while True:
        newline = chunk.find(b"\n", pos)
        if newline < 0:
            return end
        quotes += chunk.count(b'"', pos, newline)
        if quotes % 2 == 0:
            end = newline + 1
        pos = newline + 1


class CsvJournal:
    """An append-only CSV file read incrementally (see the module doc).

    ``key`` is the column whose repeated values are skipped (None: none).
    Thread-safe: the server's threads share one per file.
    """

    def __init__(self, path: Path, key: str | None) -> None:
        self.path = path
        self.key = key
        self._lock = threading.Lock()
        self._reset(0)

    def _reset(self, generation: int) -> None:
        self.generation = generation
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.offset = 0
        self.inode: tuple[int, int] | None = None
        self.skipped = 0
        self._seen: set[str] = set()

    def refresh(self) -> None:
        """Read what was appended since the last call."""
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError:
                if self.inode is not None:
                    self._reset(self.generation + 1)
                return
            inode = (st.st_dev, st.st_ino)
            if self.inode is not None and (inode != self.inode or st.st_size < self.offset):
                self._reset(self.generation + 1)
            self.inode = inode
            if st.st_size > self.offset:
                self._read_from(self.offset)

    def _read_from(self, offset: int) -> None:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
        except OSError:
            return
        length = complete_length(chunk)
        if length == 0:
            return
        self.offset = offset + length
        text = chunk[:length].decode("utf-8", errors="replace")
        for record in csv.reader(io.StringIO(text, newline="")):
            self._add(record)

    def _add(self, record: list[str]) -> None:
        if not record:
            return
        if not self.header:
            self.header = record
            return
        if record == self.header or len(record) != len(self.header):
            self.skipped += 1
            return
        if self.key is not None and self.key in self.header:
            value = record[self.header.index(self.key)]
            if value in self._seen:
                self.skipped += 1
                return
            self._seen.add(value)
        self.rows.append(record)

    def snapshot(self) -> tuple[int, list[str], list[list[str]]]:
        """(generation, header, rows) after a refresh: a consistent copy."""
        self.refresh()
        with self._lock:
            return self.generation, list(self.header), list(self.rows)

    def since(self, generation: int, start: int) -> dict[str, Any]:
        """The rows from index ``start`` on, after a refresh. When ``generation``
        is not the file's (it was truncated or replaced), every row, with
        ``reset`` true. ``next`` is what to ask for next time."""
        self.refresh()
        with self._lock:
            reset = generation != self.generation or start > len(self.rows)
            first = 0 if reset else max(0, start)
            return {"generation": self.generation, "reset": reset, "header": self.header,
                    "start": first, "rows": self.rows[first:], "next": len(self.rows),
                    "skipped": self.skipped}


@dataclass(**FROZEN)
class State:
    """running / finished / interrupted / unknown, with why."""

    state: str
    detail: str


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` resolves (symlinks followed) inside ``root``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return real == root or root in real.parents


def lock_holder(path: Path) -> int | None:
    """The pid holding the fcntl lock on ``path`` (0 when held but unknown), or
    None when no other process holds it. Uses F_GETLK: takes no lock."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query + bytes(4))
        kind, _, _, _, pid = struct.unpack("hhqqi", answer[:struct.calcsize("hhqqi")])
        return None if kind == fcntl.F_UNLCK else pid
    except OSError:
        return _pid_alive(path)
    finally:
        os.close(fd)


def _pid_alive(path: Path) -> int | None:
    """Fallback where locks cannot be tested: the lock file's 'pid N on HOST'
    names a live process of this host."""
    try:
        words = path.read_text(errors="replace").split()
        pid, host = int(words[1]), words[3]
    except (OSError, ValueError, IndexError):
        return None
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


class Experiment:
    """One experiment directory as the dashboard serves it."""

    def __init__(self, path: str | os.PathLike[str], index: int) -> None:
        root = Path(path)
        if not root.is_dir():
            what = "does not exist" if not root.exists() else "is not a directory"
            raise ExperimentError(f"experiment directory {root} {what}")
        if not any((root / name).is_file() for name in (expfiles.RESULTS, expfiles.CONFIG)):
            raise ExperimentError(f"{root} is not an experiment directory (no "
                                  f"{expfiles.RESULTS} or {expfiles.CONFIG})")
        self.root = root.resolve()
        self.index = index
        self.name = self.root.name
        self.results = CsvJournal(self.root / expfiles.RESULTS, expfiles.JOB_ID)
        self.curves = CsvJournal(self.root / expfiles.CURVES, None)

    def config(self) -> dict[str, Any]:
        try:
            return expfiles.read_config(self.root) or {}
        except expfiles.ExperimentFileError:
            return {}

    def state(self, config: dict[str, Any]) -> State:
        """Running while another process holds the lock; else finished when
        max_evals rows are in and the manager's last start logged no stop;
        else interrupted."""
        holder = lock_holder(self.root / LOCK)
        if holder is not None:
            return State("running", f"search pid {holder}" if holder else "lock held")
        log = self._tail(self.root / MANAGER_LOG, MANAGER_TAIL_BYTES)
        starts = list(START_LINE.finditer(log))
        last = log[starts[-1].end():] if starts else log
        stop = STOP_LINE.search(last)
        if stop:
            return State("interrupted", stop.group(1).strip())
        self.results.refresh()
        rows = len(self.results.rows)
        try:
            wanted = int(config.get("max_evals") or 0)
        except (TypeError, ValueError):
            wanted = 0
        if wanted > 0 and rows >= wanted:
            return State("finished", f"{rows} of max_evals {wanted}")
        if not (self.root / LOCK).exists() and not starts:
            return State("unknown", "no lock file and no manager.log")
        return State("interrupted", f"ended after {rows} of max_evals {wanted or '?'} "
                     "(killed, or a time limit)")

    def objectives(self) -> list[str]:
        """The objectives' names (results.csv's o: columns); fewer than 2: one."""
        self.results.refresh()
        prefix = expfiles.OBJECTIVE_PREFIX
        return [c[len(prefix):] for c in self.results.header if c.startswith(prefix)]

    def frame(self) -> Any:
        """The rows read so far as :func:`async_search.expfiles.load_results`'
        DataFrame (with several objectives, a column each, named like it)."""
        _, header, rows = self.results.snapshot()
        table = expfiles.Table(self.results.path, tuple(header),
                               tuple(map(tuple, rows)), ())
        return expfiles.frame_of(table).frame

    def model_log(self, job_id: str) -> list[str] | None:
        """The last LOG_TAIL_LINES lines of run/JOB_ID/model.log; None when the
        job id is not one of results.csv's or the file is not inside the
        experiment (a symlink out)."""
        if not JOB_ID_PATTERN.match(job_id):
            return None
        path = expfiles.run_dir(self.root, job_id) / MODEL_LOG
        if not path.is_file() or not inside(self.root, path):
            return None
        return self._tail(path, LOG_TAIL_BYTES).splitlines()[-LOG_TAIL_LINES:]

    @staticmethod
    def _tail(path: Path, size: int) -> str:
        try:
            with open(path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - size))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""


def front_answer(frame: Any) -> dict[str, Any]:
    """The Pareto front of a frame with several objectives, as the summary and
    the report give it (:func:`async_search.expfiles.front_summary`): its job
    ids, size, normalised hypervolume, reference and ideal points; and its
    evolution, the hypervolume of the front after each evaluation measured
    with those same points (evaluation numbers count every row, from 1).
    ``rows`` is how many rows it was computed on. With one objective, only
    ``objectives`` and ``rows``."""
    import numpy as np

    names = list(frame.attrs.get("objectives", ()))
    if len(names) < 2:
        return {"objectives": names, "rows": len(frame)}
    Y = frame[names].to_numpy(dtype=float)
    usable = (frame[expfiles.STATUS] == expfiles.OK).to_numpy() & np.isfinite(Y).all(axis=1)
    answer: dict[str, Any] = {"objectives": names, "rows": len(frame),
                              "ok": int(usable.sum()), "size": 0,
                              "hypervolume": None, "reference": None, "ideal": None,
                              "front": [], "history": {"evaluation": [], "hypervolume": []}}
    summary = expfiles.front_summary(frame)
    if summary is None:
        return answer
    answer.update(size=summary["size"], hypervolume=float(summary["hypervolume"]),
                  reference=[float(v) for v in summary["reference"]],
                  ideal=[float(v) for v in summary["ideal"]],
                  front=[str(j) for j in summary["rows"][expfiles.JOB_ID]],
                  history=_front_history(Y, usable, summary["reference"], summary["ideal"]))
    return answer


def _front_history(Y: Any, usable: Any, ref: Any, ideal: Any) -> dict[str, list]:
    """The hypervolume after each change of the front, in gather order (at most
    FRONT_HISTORY_MAX of the changes, evenly chosen, the last always). The front
    is kept by inserting one row at a time; a row no other dominates enters and
    drops those it dominates (equal rows all stay, as in pareto_mask)."""
    import numpy as np

    front = np.empty((0, Y.shape[1]))
    changes: list[tuple[int, Any]] = []
    for i in np.flatnonzero(usable):
        y = Y[i]
        if np.any(np.all(front <= y, axis=1) & np.any(front < y, axis=1)):
            continue
        kept = ~(np.all(y <= front, axis=1) & np.any(y < front, axis=1))
        front = np.vstack([front[kept], y])
        changes.append((int(i) + 1, front))
    if len(changes) > FRONT_HISTORY_MAX:
        chosen = np.linspace(0, len(changes) - 1, FRONT_HISTORY_MAX).round().astype(int)
        changes = [changes[k] for k in sorted(set(chosen))]
    return {"evaluation": [n for n, _ in changes],
            "hypervolume": [float(expfiles.hypervolume(f, ref, ideal)) for _, f in changes]}
