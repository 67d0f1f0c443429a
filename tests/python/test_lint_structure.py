"""Tests of tests/lint/structure.py (``make lint``): the C module map against
the includes, and the function limit in C and Python. Each check is fed a
small tree that breaks it, so a check that cannot fail shows here."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

LINT = Path(__file__).resolve().parents[1] / "lint" / "structure.py"
_spec = importlib.util.spec_from_file_location("structure", LINT)
structure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(structure)

# A consistent tree: app uses core (listed) and log (shared); core_sim.c and
# core_internal.h belong to core.
FILES = {
    "app.c": '#include "app.h"\n#include "core.h"\n#include "log.h"\n',
    "app.h": "",
    "core.c": '#include "core.h"\n#include "core_internal.h"\n',
    "core.h": "",
    "core_internal.h": '#include "core.h"\n',
    "core_sim.c": '#include "core.h"\n#include "core_internal.h"\n',
    "log.c": '#include "log.h"\n#include "strbuf.h"\n',
    "log.h": "",
    "strbuf.c": '#include "strbuf.h"\n',
    "strbuf.h": "",
}
ROWS = {"app": "core", "core": ""}
SHARED = "`log` (levels), `strbuf`"


def write_map(root: Path, rows: dict[str, str], shared: str = SHARED) -> None:
    lines = ["# map", "", "## C modules (`csrc/`)", "", "Text.", "",
             "| module | owns / does | depends on |", "|---|---|---|"]
    lines += [f"| `{m}` | what {m} does | {deps} |" for m, deps in rows.items()]
    lines += ["| **heading** | | |", f"| **shared** | {shared} | |", "", "## Next", "",
              "| `other` | a table elsewhere | nothing |"]
    (root / "ARCHITECTURE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_tree(root: Path, files: dict[str, str] = FILES, rows: dict[str, str] = ROWS,
              shared: str = SHARED) -> Path:
    src = root / "csrc"
    src.mkdir()
    for name, text in files.items():
        (src / name).write_text(text, encoding="utf-8")
    write_map(root, rows, shared)
    return src


def lint(src: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    rc = structure.main(["structure.py", str(src)])
    return rc, capsys.readouterr().out.splitlines()


def test_a_consistent_tree_passes(tmp_path, capsys):
    assert lint(make_tree(tmp_path), capsys) == (0, [])


def test_a_missing_dependency_names_the_module_the_file_and_the_include(tmp_path, capsys):
    src = make_tree(tmp_path, rows={"app": "", "core": ""})
    rc, out = lint(src, capsys)
    assert rc == 1
    assert len(out) == 1
    assert "`app` depends on core" in out[0]
    assert 'app.c includes "core.h"' in out[0]
    assert out[0].startswith(f"{tmp_path / 'ARCHITECTURE.md'}:")


def test_an_extra_dependency_is_named(tmp_path, capsys):
    src = make_tree(tmp_path, rows={"app": "core", "core": "app (why not)"})
    rc, out = lint(src, capsys)
    assert rc == 1
    assert len(out) == 1
    assert '`core` lists app, but no file of core includes "app.h"' in out[0]


def test_a_file_named_after_its_module_counts_for_it(tmp_path, capsys):
    files = dict(FILES, **{"core_sim.c": '#include "core.h"\n#include "app.h"\n'})
    rc, out = lint(make_tree(tmp_path, files=files), capsys)
    assert rc == 1
    # core_sim.c makes core depend on app: a cycle, and a missing dependency
    assert any("app, core depend on each other" in line for line in out)
    assert any('`core` depends on app (' in line and 'core_sim.c includes "app.h"' in line
               for line in out)


def test_every_module_has_a_row_and_every_row_a_module(tmp_path, capsys):
    src = make_tree(tmp_path, rows={"app": "core", "ghost": ""})
    rc, out = lint(src, capsys)
    assert rc == 1
    assert any("module `core` (csrc/core.*) has no row" in line for line in out)
    assert any("names `ghost`, but" in line and "no ghost.c or ghost.h" in line
               for line in out)


def test_shared_modules_are_not_listed_and_use_only_each_other(tmp_path, capsys):
    src = make_tree(tmp_path, rows={"app": "core, log", "core": ""})
    rc, out = lint(src, capsys)
    assert rc == 1
    assert len(out) == 1
    assert "`app` lists log, a shared module" in out[0]

    other = tmp_path / "other"
    other.mkdir()
    files = dict(FILES, **{"strbuf.c": '#include "strbuf.h"\n#include "core.h"\n'})
    rc, out = lint(make_tree(other, files=files), capsys)
    assert rc == 1
    assert len(out) == 1
    assert "the shared module `strbuf` depends on core" in out[0]


def test_a_missing_map_or_table_fails(tmp_path, capsys):
    src = make_tree(tmp_path)
    (tmp_path / "ARCHITECTURE.md").write_text("# map\n\nno table\n", encoding="utf-8")
    rc, out = lint(src, capsys)
    assert rc == 1
    assert out == [f"{tmp_path / 'ARCHITECTURE.md'}: no module table under '## C modules'"]
    (tmp_path / "ARCHITECTURE.md").unlink()
    rc, out = lint(src, capsys)
    assert (rc, len(out)) == (1, 1)
    assert "no such file" in out[0]


def test_a_long_c_function_fails(tmp_path, capsys):
    body = "\n".join(["    x++;"] * (structure.MAX_FUNCTION_LINES + 1))
    files = dict(FILES, **{"app.c": FILES["app.c"] + f"int app_run(void)\n{{\n{body}\n}}\n"})
    rc, out = lint(make_tree(tmp_path, files=files), capsys)
    assert rc == 1
    assert out == [f"{tmp_path / 'csrc' / 'app.c'}:5: app_run is 121 lines long (at most 120)"]


def python_function(name: str, lines: int) -> str:
    """A function of exactly `lines` lines, def line included."""
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 2))
    return f"def {name}():\n{body}    return 0\n"


@pytest.mark.parametrize("folder", ["python/pkg", "tests", "bench", "bin"])
def test_a_long_python_function_fails_in_each_folder(tmp_path, capsys, folder):
    src = make_tree(tmp_path)
    where = tmp_path / folder
    where.mkdir(parents=True)
    limit = structure.MAX_FUNCTION_LINES
    code = python_function("short", limit) + "\n\nclass K:\n" + textwrap.indent(
        python_function("long", limit + 1), "    ")
    if folder == "bin":
        path = where / "tool"  # a script: found by its first line
        path.write_text("#!/usr/bin/env python3\n" + code, encoding="utf-8")
        (where / "shell").write_text("#!/bin/sh\n" + "echo\n" * 300, encoding="utf-8")
        line = limit + 5
    else:
        path = where / "mod.py"
        path.write_text(code, encoding="utf-8")
        line = limit + 4
    rc, out = lint(src, capsys)
    assert rc == 1
    assert out == [f"{path}:{line}: long is {limit + 1} lines long (at most {limit}; split it)"]


def test_python_that_does_not_parse_is_named(tmp_path, capsys):
    src = make_tree(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "bad.py").write_text("def f(:\n", encoding="utf-8")
    rc, out = lint(src, capsys)
    assert rc == 1
    assert len(out) == 1 and "bad.py: cannot be parsed as Python" in out[0]
