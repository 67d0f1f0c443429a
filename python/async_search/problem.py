"""Load a ``problem*.py`` search-space file, unchanged from the original workflow.

A problem file is a Python module defining ``class Problem``; its instance has

- ``space``: a dict or OrderedDict, name -> dimension (scikit-optimize shorthand
  such as ``(0, 0.9)`` or ``["adam", "sgd"]``, or typed Real/Integer/Categorical
  objects, ours or scikit-optimize-like);
- ``params`` (optional): the parameter names in the order the model receives
  them, often ``space.keys()`` (a view) or a list in any order. Every name must
  be a dimension of ``space``. As in the original workflow, only the
  dimensions ``params`` lists are searched: the others are left out, with a
  warning (the model keeps its own defaults for them). Without ``params`` the
  space's own order is used;
- ``objectives`` (optional): a list of 2 to 8 names, e.g.
  ``["val_loss", "cost"]``, for a search over several objectives, all minimised
  (negate a value to maximise it); the model then reports them on one labelled
  line, ``IMPROVE_RESULT val_loss=0.31 cost=12.5`` (docs/objectives.md).
  Without it (or with one name) the search has one objective, as always;
- ``starting_point`` (optional): a list in ``params`` order or a dict; when
  complete and inside the space it is the first point a run evaluates
  (docs/reuse.md); a partial or mismatched one is a one-line warning naming
  the file, and is ignored (never an error).

:func:`load_problem` runs the file in a fresh module namespace (its directory on
``sys.path`` while it runs, for sibling imports) and returns a frozen
:class:`Problem`. Every defect of the file raises :class:`ProblemError`, whose
text is one line naming the file, what is wrong and what is allowed.
"""

from __future__ import annotations

import os
import sys
import types
import uuid
import warnings
from dataclasses import dataclass
from typing import Any, Iterable

from async_search._compat import FROZEN
from async_search.reuse import check_starting_point
from async_search.space import Space, SpaceError, dimension_from_shorthand

__all__ = ["Problem", "ProblemError", "load_problem"]


_MAX_SHOWN = 120  # longest repr of a user value quoted in an error message


class ProblemError(ValueError):
    """A problem file cannot be used; str() is one line: file, what is wrong, what is allowed."""


def _short(value: Any) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 3] + "..."


def _one_line(text: Any) -> str:
    """str(text) on one line, cut to a readable length."""
    line = " ".join(str(text).split())
    return line if len(line) <= _MAX_SHOWN else line[:_MAX_SHOWN - 3] + "..."


@dataclass(**FROZEN)
class Problem:
    """A loaded search problem.

    path: the file it came from; space: the typed :class:`Space`, dimensions in
    ``params`` order; params: the parameter names in the order the model gets them;
    starting_point: whatever the file gave (None if absent; async_search.reuse
    .starting_point checks it);
    warnings: one-line notes about the file (printed by ``async-search --check``).
    """

    path: str
    space: Space
    params: tuple
    starting_point: Any = None
    warnings: tuple = ()
    objectives: tuple = ()  # several objectives' names (>= 2), else ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "objectives", tuple(self.objectives))
        if self.params != self.space.names:
            raise ProblemError(
                f"{self.path}: params {list(self.params)!r} differ from the space's order "
                f"{list(self.space.names)!r}")

    def describe(self) -> str:
        """The typed space, one line per dimension in params order (warnings not included:
        print ``warnings`` separately)."""
        return self.space.describe()


def _read(path: str) -> str:
    if not os.path.exists(path):
        raise ProblemError(f"{path}: no such file; give the path of a problem*.py file")
    if os.path.isdir(path):
        raise ProblemError(f"{path}: is a directory; give the path of a problem*.py file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ProblemError(f"{path}: cannot be read ({e.strerror}); "
                           f"check its permissions") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProblemError(f"{path}: is not UTF-8 text (byte {e.start}); "
                           f"save it as UTF-8") from None
    if not text.strip():
        raise ProblemError(f"{path}: the file is empty; it must define class Problem "
                           f"with a space dict")
    return text


def _run_module(path: str, text: str) -> types.ModuleType:
    try:
        code = compile(text, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise ProblemError(
            f"{path}: syntax error at line {e.lineno}: {_one_line(e.msg)}; "
            f"fix the file (it must be valid Python)") from None
    except ValueError as e:  # e.g. null bytes
        raise ProblemError(f"{path}: cannot be compiled ({_one_line(e)})") from None
    name = f"_async_search_problem_{uuid.uuid4().hex}"
    module = types.ModuleType(name)
    module.__file__ = path
    directory = os.path.dirname(os.path.abspath(path))
    sys.modules[name] = module  # dataclasses and pickling look modules up here
    sys.path.insert(0, directory)
    try:
        exec(code, module.__dict__)
    except Exception as e:
        raise ProblemError(
            f"{path}: running the file raised {type(e).__name__}: {_one_line(e)}") from None
    finally:
        sys.modules.pop(name, None)
        try:
            sys.path.remove(directory)
        except ValueError:
            pass
    return module


def _instance(path: str, module: types.ModuleType) -> Any:
    cls = getattr(module, "Problem", None)
    if cls is None:
        raise ProblemError(f"{path}: defines no class Problem; the file must define "
                           f"class Problem whose instance has a space dict")
    if not callable(cls):
        raise ProblemError(f"{path}: Problem is {_short(cls)}, not a class; define class Problem")
    try:
        return cls()
    except Exception as e:
        raise ProblemError(f"{path}: Problem() raised {type(e).__name__}: {_one_line(e)}; "
                           f"the constructor must take no arguments and succeed") from None


def _names(path: str, params: Any, space_names: list) -> tuple[list, list[str]]:
    """Resolve ``params`` against the space; returns (ordered names, warnings)."""
    if params is None:
        return list(space_names), []
    if isinstance(params, (str, bytes)) or not isinstance(params, Iterable):
        raise ProblemError(f"{path}: params is {_short(params)}; it must be a list of "
                           f"dimension names (or space.keys())")
    names = list(params)
    seen = set()
    for n in names:
        if n not in space_names:
            raise ProblemError(f"{path}: params names {_short(n)}, which is not a dimension of "
                               f"space; allowed: {space_names!r}")
        if n in seen:
            raise ProblemError(f"{path}: params lists {n!r} twice; list each dimension once")
        seen.add(n)
    rest = [n for n in space_names if n not in seen]
    notes = []
    if not names:
        raise ProblemError(f"{path}: params is empty; list the dimensions to search, "
                           f"e.g. space.keys()")
    if rest:
        notes.append(f"params does not list {rest!r}: not searched (as in the original "
                     f"workflow); the model keeps its own defaults for them")
    return names, notes


def load_problem(path: str | os.PathLike) -> Problem:
    """Load and validate a problem file; raises :class:`ProblemError` on any defect."""
    path = os.fspath(path)
    text = _read(path)
    module = _run_module(path, text)
    obj = _instance(path, module)

    try:
        space = obj.space
    except AttributeError:
        raise ProblemError(f"{path}: Problem() has no space; set self.space to a dict of "
                           f"name -> dimension, e.g. {{'drop': (0.0, 0.9)}}") from None
    except Exception as e:
        raise ProblemError(f"{path}: reading Problem().space raised {type(e).__name__}: "
                           f"{_one_line(e)}") from None
    if not hasattr(space, "keys") or not hasattr(space, "__getitem__"):
        raise ProblemError(f"{path}: space is {_short(space)}; it must be a dict or OrderedDict "
                           f"of name -> dimension")
    space_names = list(space.keys())
    if not space_names:
        raise ProblemError(f"{path}: space is empty; give at least one dimension, "
                           f"e.g. {{'drop': (0.0, 0.9)}}")
    for n in space_names:
        if not isinstance(n, str) or not n:
            raise ProblemError(f"{path}: space key {_short(n)} is not a non-empty string; "
                               f"dimension names must be strings")

    notes: list[str] = []
    dim_notes: dict[str, list[str]] = {}
    dims = {}
    for n in space_names:
        spec = space[n]
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                dim, msgs = dimension_from_shorthand(spec)
        except SpaceError as e:
            raise ProblemError(f"{path}: dimension {n!r} = {_short(spec)}: {e}") from None
        except Exception as e:  # a user object whose attributes raise
            raise ProblemError(f"{path}: dimension {n!r} = {_short(spec)} is invalid "
                               f"({type(e).__name__}: {_one_line(e)})") from None
        dims[n] = dim
        dim_notes[n] = [f"{n}: {m}" for m in msgs]
        dim_notes[n] += [f"{n}: {_one_line(w.message)}" for w in caught]

    names, more = _names(path, getattr(obj, "params", None), space_names)
    for n in names:  # notes about dimensions that are searched
        notes += dim_notes[n]
    notes += more

    try:
        typed = Space(tuple(names), tuple(dims[n] for n in names))
    except SpaceError as e:
        raise ProblemError(f"{path}: {e}") from None
    starting_point = getattr(obj, "starting_point", None)
    note = check_starting_point(path, typed, starting_point)[1]
    if note:
        notes.append(note)
    objectives = _objectives(path, getattr(obj, "objectives", None), names)
    return Problem(path=path, space=typed, params=tuple(names),
                   starting_point=starting_point, warnings=tuple(notes),
                   objectives=objectives)


MAX_OBJECTIVES = 8  # csrc/util.h ASYNC_MAX_OBJECTIVES
_RESERVED = {"objective", "status", "worker", "duration", "steps", "job_id"}


def _objectives(path: str, value: Any, params: list) -> tuple:
    """Validate ``self.objectives``: () for one objective, else 2..8 distinct names."""
    if value is None:
        return ()
    allowed = ("a list of 2 to 8 distinct names made of letters, digits and '_' "
               "(not starting with a digit), e.g. ['val_loss', 'cost']")
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ProblemError(f"{path}: objectives = {_short(value)}; it must be {allowed}")
    names = list(value)
    if len(names) == 1 and isinstance(names[0], str) and names[0].isidentifier():
        return ()  # one objective: the search is the usual one
    if not 2 <= len(names) <= MAX_OBJECTIVES:
        raise ProblemError(f"{path}: objectives has {len(names)} names; it must be {allowed}")
    for n in names:
        if not isinstance(n, str) or not n.isidentifier() or not n.isascii():
            raise ProblemError(f"{path}: objective name {_short(n)} is invalid; "
                               f"objectives must be {allowed}")
        if n in _RESERVED or n in params:
            raise ProblemError(f"{path}: objective name {n!r} is also a "
                               f"{'parameter' if n in params else 'results.csv column'}; "
                               f"choose another name")
    if len(set(names)) != len(names):
        raise ProblemError(f"{path}: objectives {names!r} repeat a name; it must be {allowed}")
    return tuple(names)
