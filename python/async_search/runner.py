"""Run one evaluation of a CANDLE-convention model; the worker's model process.

Command line (cwd = the run directory, e.g. ``EXPDIR/run/1_2_0/``)::

    python3 -m async_search.runner MODEL PARAMS_JSON

``PARAMS_JSON`` is a JSON object, given as text or as the path of a file
holding it (e.g. ``params.json``).

What it does, in order:

1. resolves MODEL: the built-ins ``tc1``, ``nt3`` and ``example``
   (:data:`async_search.benchmarks.BUILTIN_MODELS`); else an importable module
   named MODEL, then ``MODEL_baseline_pytorch`` (``$MODEL_PYTHON_DIR`` is put
   first on ``sys.path`` when set); else ``$MODEL_PYTHON_SCRIPT``, a ``.py`` file
   or a module name.  The module must define ``run(params)``;
2. reads the defaults: ``$CANDLE_DEFAULT_MODEL_FILE`` when set, else
   ``<model>_default_model.txt`` beside the module (an ini file; every section
   is read, ``[Global_Params]`` first; values are Python literals, else
   strings; a model without one starts from no defaults);
3. overlays the JSON parameters: a string of two or more whitespace-separated
   numbers ("50 50 50 50 50 1") becomes a list of numbers; the legacy ``drop``
   sets ``dropout`` (and ``drop``, if the defaults use that name);
4. adds ``timeout`` (``$BENCHMARK_TIMEOUT`` seconds when set, graceful, checked
   by the model at epoch end; -1 = none), ``run_id`` (``$ASYNC_SEARCH_RUN_ID``,
   else the directory name), ``experiment_id`` (``$ASYNC_SEARCH_EXP_ID``) and
   ``output_dir`` (the cwd), and writes ``parameters.txt`` (same ini format);
5. calls ``run(params)``; the objective is the last value of the returned
   history (a dict of lists, or an object with a ``history`` dict as Keras's)
   for ``$OBJ_RETURN`` or ``$MODEL_RETURN``: ``loss``, ``val_loss`` (default),
   ``val_acc`` (also found as ``val_accuracy``) or ``val_corr``; the maximised
   ones are negated, so lower is always better.  A plain number returned by
   ``run`` is the objective itself;
6. writes ``result.txt`` (the number) and prints ``IMPROVE_RESULT <number>`` as
   the last line.

One evaluation run by several processes (``--ranks-per-eval``: ``WORLD_SIZE``
> 1): only ``RANK`` 0 writes ``result.txt``, ``history.txt`` (and
``stop.marker``) and prints ``IMPROVE_RESULT``; the others run the same steps,
exit with the same statuses, and end with a line saying that rank 0 reports.

Exit status: 0 result written; 1 the model raised (message and traceback on
stderr); 2 usage or configuration error (unknown model, bad JSON, bad
OBJ_RETURN or BENCHMARK_TIMEOUT, unreadable defaults; one line on stderr);
3 the model finished without a usable objective (metric missing, or NaN or
infinite, e.g. diverged training).  ``result.txt`` exists only on 0.

Timing: ``runner: timing import_s=... preloaded=0|1 run_s=... total_s=...`` on
stdout, where ``import_s`` is the time to import the model's module (torch for
TC1/NT3; about 0 when a fork server imported it already: ``preloaded=1``) and
``total_s`` runs from the start of :func:`main`.  :func:`main` takes ``argv``
and ``env`` so that a fork server can call it in a forked child.

Only the standard library is imported here; the model's own imports come with
it (``example`` needs nothing else).  Thread counts (TORCH_NUM_THREADS,
OMP_NUM_THREADS) and the device are the model's business.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import importlib.util
import json
import math
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from async_search._compat import FROZEN

__all__ = [
    "EXIT_OK",
    "EXIT_MODEL_FAILED",
    "EXIT_USAGE",
    "EXIT_NO_RESULT",
    "OBJECTIVES",
    "RunnerError",
    "UsageError",
    "ObjectiveError",
    "ResolvedModel",
    "parse_value",
    "read_default_model",
    "convert_override",
    "merge_params",
    "resolve_model",
    "model_defaults",
    "check_model",
    "objective_from_history",
    "format_parameters",
    "main",
]


EXIT_OK = 0
EXIT_MODEL_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_RESULT = 3

#: OBJ_RETURN value -> (history keys tried in order, sign applied)
OBJECTIVES: Mapping[str, Tuple[Tuple[str, ...], float]] = {
    "loss": (("loss",), 1.0),
    "val_loss": (("val_loss",), 1.0),
    "val_acc": (("val_acc", "val_accuracy"), -1.0),
    "val_corr": (("val_corr",), -1.0),
}
DEFAULT_OBJECTIVE = "val_loss"
NO_TIMEOUT = -1
RESULT_FILE = "result.txt"
PARAMETERS_FILE = "parameters.txt"
HISTORY_FILE = "history.txt"
STOP_MARKER = "stop.marker"
DEFAULT_SECTION = "Global_Params"
MODEL_SUFFIXES = ("_baseline_pytorch", "_baseline_keras2", "_baseline")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class RunnerError(Exception):
    """Base of the runner's own errors; ``exit_code`` is what main returns."""

    exit_code = EXIT_USAGE


class UsageError(RunnerError):
    exit_code = EXIT_USAGE


class ObjectiveError(RunnerError):
    exit_code = EXIT_NO_RESULT


@dataclass(**FROZEN)
class ResolvedModel:
    name: str
    module: ModuleType
    default_file: Optional[Path]
    import_s: float
    origin: str = ""  # "built in", or the file the user's module came from
    preloaded: bool = False  # its module was imported already (a fork server)


# ------------------------------------------------------------- parameters

def parse_value(text: str) -> Any:
    """A default-file value: a Python literal, else the stripped string."""
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def read_default_model(path: Path) -> Dict[str, Any]:
    """The parameters of a ``*_default_model.txt`` ini file."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep key case
    try:
        with open(path) as fh:
            parser.read_file(fh)
    except OSError as exc:
        raise UsageError(f"cannot read default model file {path}: {exc.strerror or exc}") from exc
    except configparser.Error as exc:
        raise UsageError(f"default model file {path} is not a valid ini file: "
                         f"{str(exc).splitlines()[0]}") from exc
    sections = parser.sections()
    sections.sort(key=lambda s: s != DEFAULT_SECTION)
    params: Dict[str, Any] = {}
    for section in sections:
        for key, raw in parser.items(section):
            params.setdefault(key, parse_value(raw))
    return params


def _number(token: str) -> Any:
    value = float(token)
    if re.fullmatch(r"[+-]?\d+", token):
        return int(token)
    return value


def convert_override(value: Any) -> Any:
    """A JSON value as the model sees it: "50 50 1" -> [50, 50, 1]."""
    if isinstance(value, str):
        tokens = value.split()
        if len(tokens) >= 2 and all(_NUMBER.match(t) for t in tokens):
            return [_number(t) for t in tokens]
    return value


def merge_params(defaults: Mapping[str, Any], overrides: Mapping[str, Any],
                 extra: Mapping[str, Any]) -> Dict[str, Any]:
    """defaults, then the converted overrides, then the runner's own keys."""
    merged = dict(defaults)
    converted = {str(k): convert_override(v) for k, v in overrides.items()}
    merged.update(converted)
    if "drop" in converted:
        dropout = converted["drop"]
    elif "dropout" in converted:
        dropout = converted["dropout"]
    else:
        dropout = merged.get("dropout", merged.get("drop"))
    if dropout is not None:
        merged["dropout"] = dropout
        if "drop" in merged:
            merged["drop"] = dropout
    merged.update(extra)
    return merged


def format_parameters(params: Mapping[str, Any]) -> str:
    """``parameters.txt``: the merged parameters as a re-readable ini file."""
    lines = [f"[{DEFAULT_SECTION}]"]
    for key, value in params.items():
        text = repr(value)
        lines.append(f"{key} = {text}" if "\n" not in text else f"{key} = {json.dumps(str(value))}")
    return "\n".join(lines) + "\n"


def _load_overrides(arg: str) -> Dict[str, Any]:
    text = arg
    looks_like_json = arg.lstrip()[:1] in ("{", "[")
    if not looks_like_json and Path(arg).is_file():
        try:
            text = Path(arg).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read {arg}: {exc.strerror or exc}") from exc
    elif not looks_like_json:
        raise UsageError(f"PARAMS_JSON is neither a JSON object nor a file: {arg[:80]!r}")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"PARAMS_JSON is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"PARAMS_JSON must be a JSON object, got {type(value).__name__}")
    return value


# ------------------------------------------------------------------ model

def _valid_module_name(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _find_spec(name: str):
    if not _valid_module_name(name):
        return None
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None  # a parent package is missing


def _default_file_for(model: str, module: ModuleType, env: Mapping[str, str]) -> Optional[Path]:
    explicit = env.get("CANDLE_DEFAULT_MODEL_FILE")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"CANDLE_DEFAULT_MODEL_FILE={explicit}: no such file")
        return path
    source = getattr(module, "__file__", None)
    if not source:
        return None
    folder = Path(source).resolve().parent
    stems = [model]
    stem = Path(source).stem
    for suffix in MODEL_SUFFIXES:
        if stem.endswith(suffix):
            stems.append(stem[: -len(suffix)])
    stems.append(stem)
    for candidate in dict.fromkeys(stems):
        path = folder / f"{candidate}_default_model.txt"
        if path.is_file():
            return path
    return None


def _import_file(path: Path) -> ModuleType:
    name = re.sub(r"\W", "_", path.stem) or "model"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"MODEL_PYTHON_SCRIPT={path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.resolve().parent))  # its sibling modules (CANDLE's bmk files)
    spec.loader.exec_module(module)
    return module


def _user_module(model: str) -> Optional[ModuleType]:
    """The user's own module for MODEL on sys.path: MODEL, then CANDLE's
    ``MODEL_baseline_pytorch`` and ``MODEL_baseline_keras2`` (the original's name)."""
    for candidate in (model, *(model + suffix for suffix in MODEL_SUFFIXES[:2])):
        if _find_spec(candidate) is not None:
            return importlib.import_module(candidate)
    return None


def _script_module(script: str) -> ModuleType:
    """``$MODEL_PYTHON_SCRIPT``: a ``.py`` file or a module name."""
    path = Path(script)
    if path.suffix == ".py" or path.is_file():
        if not path.is_file():
            raise UsageError(f"MODEL_PYTHON_SCRIPT={script}: no such file")
        return _import_file(path)
    if _find_spec(script) is None:
        raise UsageError(f"MODEL_PYTHON_SCRIPT={script}: no such module or file")
    return importlib.import_module(script)


def resolve_model(model: str, env: Optional[Mapping[str, str]] = None) -> ResolvedModel:
    """Import the model's module (see the module docstring for the order).

    Raises :class:`UsageError` when no candidate exists; an exception raised
    while importing an existing candidate propagates (it is a model failure).
    """
    env = os.environ if env is None else env
    from async_search.benchmarks import BUILTIN_MODELS

    model_dir = env.get("MODEL_PYTHON_DIR")
    if model_dir and model_dir not in sys.path:
        sys.path.insert(0, model_dir)
    t0 = time.monotonic()
    before = set(sys.modules)
    script = env.get("MODEL_PYTHON_SCRIPT", "").strip()
    builtin = False
    if script:
        module = _script_module(script)
    else:
        module = _user_module(model)
        if module is None and model in BUILTIN_MODELS:
            module, builtin = importlib.import_module(BUILTIN_MODELS[model]), True
    if module is None:
        raise UsageError(
            f"unknown model {model!r}: not one of {', '.join(sorted(BUILTIN_MODELS))}, no "
            f"module {model!r}, {model + MODEL_SUFFIXES[0]!r} or {model + MODEL_SUFFIXES[1]!r} "
            "on PYTHONPATH or MODEL_PYTHON_DIR, and MODEL_PYTHON_SCRIPT is not set")
    if not callable(getattr(module, "run", None)):
        raise UsageError(f"model {model!r} (module {module.__name__}) has no run(params) function")
    import_s = time.monotonic() - t0
    origin = "built in" if builtin else str(getattr(module, "__file__", None) or "a namespace")
    return ResolvedModel(model, module, _default_file_for(model, module, env), import_s, origin,
                         module.__name__ in before)


def model_defaults(resolved: ResolvedModel, env: Mapping[str, str]) -> Dict[str, Any]:
    """The model's default parameters, before the search's values.

    A CANDLE benchmark module with ``initialize_parameters()`` gives them itself
    (with ``default_model=$CANDLE_DEFAULT_MODEL_FILE`` when set, as the original
    model_runner did); otherwise they are read from its default model file.
    An exception of initialize_parameters propagates (a model failure).
    """
    init = getattr(resolved.module, "initialize_parameters", None)
    if not callable(init):
        return read_default_model(resolved.default_file) if resolved.default_file else {}
    kwargs = {}
    if env.get("CANDLE_DEFAULT_MODEL_FILE"):
        kwargs["default_model"] = env["CANDLE_DEFAULT_MODEL_FILE"]
    saved = sys.argv
    sys.argv = saved[:1]  # CANDLE parses the command line: ours is not for it
    try:
        params = init(**kwargs)
    finally:
        sys.argv = saved
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise UsageError(f"model {resolved.name!r}: initialize_parameters() returned "
                         f"{type(params).__name__}, not a dict of parameters")
    return dict(params)


def check_model(model: str, env: Optional[Mapping[str, str]] = None) -> str:
    """What ``--check`` says of MODEL: resolves and imports it, reads its defaults, and
    for a built-in benchmark finds its data or the sources it is prepared from.
    Returns one line; raises :class:`UsageError` (an import failure too)."""
    env = os.environ if env is None else env
    try:
        resolved = resolve_model(model, env)
        defaults = model_defaults(resolved, env)
    except RunnerError:
        raise
    except Exception as exc:  # importing or initialising the model failed
        raise UsageError(f"model {model!r} could not be imported: "
                         f"{type(exc).__name__}: {exc}") from exc
    where = f"{resolved.module.__name__}, {resolved.origin}"
    data_note = ""
    if resolved.origin == "built in":
        from async_search.benchmarks import data

        names = [(defaults.get("train_data", ""), defaults.get("test_data", "")),
                 (defaults.get("local_train_data", ""), defaults.get("local_test_data", ""))]
        if any(a and b for a, b in names):
            try:
                data_note = f"; data {data.check_data(names, model, env)}"
            except data.DataError as exc:
                raise UsageError(f"model {model!r}: {exc}") from exc
    return f"model {model}: module {where}; {len(defaults)} default parameters{data_note}"


# -------------------------------------------------------------- objective

def _as_history(result: Any) -> Optional[Mapping[str, Any]]:
    """The history in what ``run`` returned: a dict of lists; a Keras History
    (``.history``); or CANDLE's PyTorch convention ``(val_scores, infer_scores)``,
    whose ``val_scores`` maps metric names to final values."""
    if isinstance(result, Mapping):
        return result
    inner = getattr(result, "history", None)
    if isinstance(inner, Mapping):
        return inner
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Mapping):
        return {k: v if isinstance(v, (list, tuple)) else [v] for k, v in result[0].items()}
    return None


def _write_history(cwd: Path, result: Any, params: Mapping[str, Any]) -> None:
    """``history.txt`` (the history as JSON) and, when fewer epochs ran than
    asked, ``stop.marker``, as the original model_runner wrote them. Best effort:
    neither decides the result."""
    history = _as_history(result)
    if history is None:
        return
    plain = {}
    for key, series in history.items():
        try:
            plain[str(key)] = [float(v) for v in series]
        except (TypeError, ValueError):
            continue
    try:
        _write_atomic(cwd / HISTORY_FILE, json.dumps(plain) + "\n")
        epochs = params.get("epochs")
        ran = max((len(v) for v in plain.values()), default=0)
        if isinstance(epochs, int) and not isinstance(epochs, bool) and 0 < ran < epochs:
            _write_atomic(cwd / STOP_MARKER, f"early stopping: {ran}/{epochs}\n")
    except OSError:
        pass


def objective_from_history(result: Any, name: str = DEFAULT_OBJECTIVE) -> float:
    """The objective (lower is better) from what ``run`` returned."""
    if name not in OBJECTIVES:
        raise UsageError(f"OBJ_RETURN={name!r}: use one of {', '.join(OBJECTIVES)}")
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        value = float(result)
        if not math.isfinite(value):
            raise ObjectiveError(f"run() returned {value}, not a finite number")
        return value
    history = _as_history(result)
    if history is None:
        raise ObjectiveError(f"run() returned {type(result).__name__}, not a history "
                             "(a dict of lists, or an object with a .history dict)")
    keys, sign = OBJECTIVES[name]
    for key in keys:
        if key not in history:
            continue
        series = history[key]
        if isinstance(series, (str, bytes)):
            raise ObjectiveError(f"history[{key!r}] is a string, not numbers")
        if hasattr(series, "__len__") and hasattr(series, "__getitem__"):
            if len(series) == 0:
                raise ObjectiveError(f"history[{key!r}] is empty (no epoch finished)")
            series = series[-1]
        try:
            value = float(series)
        except (TypeError, ValueError) as exc:
            raise ObjectiveError(f"history[{key!r}] ends in {series!r}, not a number") from exc
        if not math.isfinite(value):
            raise ObjectiveError(f"{key} is {value} (training diverged or produced no value)")
        return sign * value + 0.0  # + 0.0 turns -0.0 into 0.0
    raise ObjectiveError(f"history has no {' or '.join(keys)} (it has: "
                         f"{', '.join(map(str, history)) or 'nothing'}); set OBJ_RETURN")


TIME_OBJECTIVES = ("train_time", "run_s")  # several objectives: the run's seconds


def objectives_line(result: Any, names: Sequence[str], run_s: float) -> str:
    """A problem with several objectives (ASYNC_SEARCH_OBJECTIVES, from its
    ``self.objectives``): the labelled result line ``val_loss=0.31 train_time=12.5``.
    A name among OBJ_RETURN's (val_loss, loss, val_acc, ...) is read from the
    history as the single objective is; ``train_time`` or ``run_s`` is the seconds
    run() took; any other name is the last value of that history key."""
    parts = []
    for name in names:
        if name in TIME_OBJECTIVES:
            value = float(run_s)
        elif name in OBJECTIVES:
            value = objective_from_history(result, name)
        else:
            history = _as_history(result) or {}
            if name not in history:
                raise ObjectiveError(f"objective {name!r}: history has no {name} (it has: "
                                     f"{', '.join(map(str, history)) or 'nothing'})")
            series = history[name]
            value = float(series[-1] if hasattr(series, "__getitem__") else series)
        parts.append(f"{name}={value!r}")
    return " ".join(parts)


# ------------------------------------------------------------------- main

def _env_objective(env: Mapping[str, str]) -> str:
    name = (env.get("OBJ_RETURN") or env.get("MODEL_RETURN") or DEFAULT_OBJECTIVE).strip()
    if name not in OBJECTIVES:
        raise UsageError(f"OBJ_RETURN/MODEL_RETURN={name!r}: use one of {', '.join(OBJECTIVES)}")
    return name


def _env_timeout(env: Mapping[str, str], defaults: Mapping[str, Any]) -> Any:
    raw = env.get("BENCHMARK_TIMEOUT", "").strip()
    if not raw:
        return defaults.get("timeout", NO_TIMEOUT)
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise UsageError(f"BENCHMARK_TIMEOUT={raw!r} is not a number of seconds") from exc
    if not math.isfinite(seconds) or seconds <= 0:
        return NO_TIMEOUT
    return int(seconds) if seconds == int(seconds) else seconds


def _member_rank(env: Mapping[str, str]) -> Tuple[int, int]:
    """(RANK, WORLD_SIZE) of a multi-process evaluation, (0, 1) for one process
    (also when the variables are not integers: the model says so itself)."""
    try:
        size = int(env.get("WORLD_SIZE", "") or 1)
        rank = int(env.get("RANK", "") or 0) if size > 1 else 0
    except ValueError:
        return 0, 1
    return (rank, size) if size > 1 else (0, 1)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _err(message: str) -> None:
    print(f"async_search.runner: error: {message}", file=sys.stderr, flush=True)


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None) -> int:
    t_main = time.monotonic()
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    for stream in (sys.stdout, sys.stderr):  # model.log is a file: keep it current,
        reconfigure = getattr(stream, "reconfigure", None)  # and complete if killed
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    if len(args) == 2 and args[0] == "--check":
        try:
            print(check_model(args[1], env), flush=True)
        except RunnerError as exc:
            _err(str(exc))
            return exc.exit_code
        return EXIT_OK
    if len(args) != 2 or args[0] in ("-h", "--help"):
        _err("usage: python3 -m async_search.runner MODEL PARAMS_JSON "
             "(a JSON object, or a file holding one), or --check MODEL")
        return EXIT_USAGE
    model, params_arg = args
    cwd = Path.cwd()
    try:
        overrides = _load_overrides(params_arg)
        objective_name = _env_objective(env)
        resolved = resolve_model(model, env)
        defaults = model_defaults(resolved, env)
        extra = {
            "timeout": _env_timeout(env, defaults),
            "run_id": env.get("ASYNC_SEARCH_RUN_ID") or cwd.name,
            "experiment_id": env.get("ASYNC_SEARCH_EXP_ID", ""),
            "output_dir": str(cwd),
        }
    except RunnerError as exc:
        _err(str(exc))
        return exc.exit_code
    except Exception as exc:  # importing the model's module failed
        _err(f"model {model!r} could not be imported: {type(exc).__name__}: {exc}")
        traceback.print_exc()
        return EXIT_MODEL_FAILED
    params = merge_params(defaults, overrides, extra)
    try:
        _write_atomic(cwd / PARAMETERS_FILE, format_parameters(params))
    except OSError as exc:
        _err(f"cannot write {cwd / PARAMETERS_FILE}: {exc.strerror or exc}")
        return EXIT_USAGE
    if callable(getattr(resolved.module, "initialize_parameters", None)):
        source = "from initialize_parameters()"
    else:
        source = resolved.default_file or "no default model file"
    rank, world_size = _member_rank(env)
    print(f"runner: model {model} (module {resolved.module.__name__}, {resolved.origin}; "
          f"defaults {source}), objective {objective_name}, run {extra['run_id']}"
          + (f", rank {rank} of {world_size}" if world_size > 1 else ""), flush=True)

    t_run = time.monotonic()
    try:
        result = resolved.module.run(params)
    except (Exception, SystemExit) as exc:  # a model's sys.exit() is no result either
        sys.stdout.flush()
        _err(f"model {model!r} failed: {type(exc).__name__}: {exc}")
        traceback.print_exc()
        sys.stderr.flush()
        return EXIT_MODEL_FAILED
    run_s = time.monotonic() - t_run
    if rank == 0:
        _write_history(cwd, result, params)
    names = (env.get("ASYNC_SEARCH_OBJECTIVES") or "").split()
    try:
        value = objective_from_history(result, objective_name) if not names else \
            objectives_line(result, names, run_s)
    except RunnerError as exc:
        sys.stdout.flush()
        _err(f"model {model!r}: {exc}")
        return exc.exit_code
    if rank != 0:  # the objective is rank 0's to report
        print(f"runner: rank {rank} of {world_size} done in run_s={run_s:.3f}; "
              "rank 0 reports the result", flush=True)
        return EXIT_OK
    try:
        _write_atomic(cwd / RESULT_FILE, f"{value if names else repr(value)}\n")
    except OSError as exc:
        _err(f"cannot write {cwd / RESULT_FILE}: {exc.strerror or exc}")
        return EXIT_NO_RESULT
    total_s = time.monotonic() - t_main
    print(f"runner: timing import_s={resolved.import_s:.3f} "
          f"preloaded={int(resolved.preloaded)} run_s={run_s:.3f} "
          f"total_s={total_s:.3f}", flush=True)
    sys.stderr.flush()
    print(f"IMPROVE_RESULT {value if names else repr(value)}", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
