"""Structural rules of the code, checked by ``make lint``.

- No C function is longer than MAX_FUNCTION_LINES lines (body, between the
  braces that clang-format puts in column 0), and no Python function either
  (from its ``def`` line to its last line, nested functions counted in their
  parent) in python/, tests/, bench/ and bin/.
- No include cycle between C modules: module A depends on module B when a
  file of A includes ``"B.h"``; the graph must be acyclic.
- ARCHITECTURE.md's C module table is the map of that graph: every module
  has a row, every row names a module, and a row's "depends on" lists
  exactly the modules its files include, except the shared modules (the
  ``**shared**`` row), which anyone may use without listing them, and which
  use only each other.

A file belongs to a module by its name: ``X.c`` and ``X.h`` to X; ``X_internal.h``
and any ``X_NAME.c`` without its own header (``spawn_exec.c``,
``transport_sim.c``) to X, when ``X.h`` exists.

Usage: structure.py [CSRC]  (default csrc; ARCHITECTURE.md and the Python
folders are read beside it). Prints one line per violation and exits 1 if
there is any.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 120
INCLUDE = re.compile(r'^#include "([A-Za-z0-9_]+)\.h"', re.M)
PYTHON_DIRS = ("python", "tests", "bench", "bin")
MAP_FILE = "ARCHITECTURE.md"
MAP_SECTION = "## C modules"
SHARED_ROW = "**shared**"


def long_functions(path: Path) -> list[str]:
    out, start, name = [], None, ""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line == "{":
            start = i
            j = i - 1
            while j >= 0 and "(" not in lines[j]:
                j -= 1
            name = lines[j].split("(")[0].split()[-1].lstrip("*") if j >= 0 else "?"
        elif line == "}" and start is not None:
            length = i - start - 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path}:{start + 1}: {name} is {length} lines long "
                           f"(at most {MAX_FUNCTION_LINES})")
            start = None
    return out


# ---- Python -------------------------------------------------------------------

def python_files(root: Path) -> list[Path]:
    """The Python files under root's PYTHON_DIRS: *.py, and scripts in bin/
    whose first line names python."""
    found = []
    for name in PYTHON_DIRS:
        top = root / name
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            if not path.is_file() or any(p.startswith(".") or p == "__pycache__"
                                         for p in path.relative_to(root).parts):
                continue
            if path.suffix == ".py":
                found.append(path)
            elif name == "bin" and not path.suffix:
                with open(path, "rb") as f:
                    first = f.readline(200)
                if first.startswith(b"#!") and b"python" in first:
                    found.append(path)
    return found


def long_python_functions(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as e:
        return [f"{path}: cannot be parsed as Python: {e}"]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path}:{node.lineno}: {node.name} is {length} lines long "
                           f"(at most {MAX_FUNCTION_LINES}; split it)")
    return sorted(out)


# ---- the C module graph -------------------------------------------------------

def module_of(stem: str, headers: set[str]) -> str:
    """The module a file stem belongs to (see the module docstring)."""
    if stem.endswith("_internal"):
        return stem[:-len("_internal")]
    if stem in headers:
        return stem
    parts = stem.split("_")
    for i in range(len(parts) - 1, 0, -1):
        prefix = "_".join(parts[:i])
        if prefix in headers:
            return prefix
    return stem


def module_includes(src: Path) -> dict[str, dict[str, str]]:
    """Module -> {module it depends on: the first file that includes it}."""
    files = sorted(src.glob("*.c")) + sorted(src.glob("*.h"))
    headers = {p.stem for p in src.glob("*.h")}
    modules = {module_of(p.stem, headers) for p in files}
    graph: dict[str, dict[str, str]] = {m: {} for m in modules}
    for path in files:
        owner = module_of(path.stem, headers)
        for dep in INCLUDE.findall(path.read_text(encoding="utf-8")):
            dep = module_of(dep, headers)
            if dep != owner and dep in modules:
                graph[owner].setdefault(dep, path.name)
    return graph


def module_graph(src: Path) -> dict[str, set[str]]:
    return {m: set(deps) for m, deps in module_includes(src).items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# ---- the map: ARCHITECTURE.md's module table ------------------------------------

class ModuleMap:
    """The module table: rows (module -> listed dependencies, and the line of
    each row) and the shared modules."""

    def __init__(self) -> None:
        self.rows: dict[str, set[str]] = {}
        self.lines: dict[str, int] = {}
        self.shared: set[str] = set()
        self.problems: list[str] = []


def read_map(path: Path) -> ModuleMap:
    """Parses the table under MAP_SECTION: rows `| `name` | owns | a, b (why) |`;
    bold rows are headings, except SHARED_ROW, whose second cell names the
    shared modules in backquotes."""
    found = ModuleMap()
    if not path.is_file():
        found.problems.append(f"{path}: no such file (the C module map)")
        return found
    in_section, seen_table = False, False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("## "):
            in_section = line.startswith(MAP_SECTION)
            continue
        if not in_section or not line.startswith("|"):
            continue
        seen_table = True
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        read_row(found, cells, f"{path}:{number}", number)
    if not seen_table:
        found.problems.append(f"{path}: no module table under '{MAP_SECTION}'")
    return found


def read_row(found: ModuleMap, cells: list[str], where: str, number: int) -> None:
    name = re.fullmatch(r"`([A-Za-z0-9_]+)`", cells[0])
    if cells[0] == SHARED_ROW and len(cells) >= 2:
        found.shared |= set(re.findall(r"`([A-Za-z0-9_]+)`", cells[1]))
        return
    if name is None:
        return  # the header, the rule under it, a heading row
    if len(cells) != 3:
        found.problems.append(f"{where}: the row of `{name[1]}` has {len(cells)} cells, not 3")
        return
    listed = re.sub(r"\([^)]*\)", "", cells[2])
    deps = {d.strip() for d in listed.split(",") if d.strip()}
    for dep in sorted(deps):
        if not re.fullmatch(r"[A-Za-z0-9_]+", dep):
            found.problems.append(f"{where}: `{name[1]}` depends on '{dep}', which is not "
                                  f"a module name (list modules, separated by commas)")
            deps.discard(dep)
    if name[1] in found.rows:
        found.problems.append(f"{where}: `{name[1]}` has a second row")
    found.rows[name[1]] = deps
    found.lines[name[1]] = number


def map_problems(src: Path, map_path: Path) -> list[str]:
    """Where ARCHITECTURE.md's module table and the includes disagree."""
    includes = module_includes(src)
    table = read_map(map_path)
    out = list(table.problems)
    if table.problems and not table.rows:
        return out

    def at(module: str) -> str:
        return f"{map_path}:{table.lines[module]}"

    for module in sorted(set(includes) - set(table.rows) - table.shared):
        out.append(f"{map_path}: module `{module}` (csrc/{module}.*) has no row in the "
                   f"module table (add one: what it owns, what it depends on)")
    for module in sorted((set(table.rows) | table.shared) - set(includes)):
        where = at(module) if module in table.rows else f"{map_path} ({SHARED_ROW})"
        out.append(f"{where}: the module table names `{module}`, but {src} has no "
                   f"{module}.c or {module}.h")
    for module in sorted(set(table.rows) & table.shared):
        out.append(f"{at(module)}: `{module}` has a row and is shared: keep one")
    for module in sorted(set(includes) & set(table.rows)):
        uses = includes[module]
        listed = table.rows[module]
        for dep in sorted(set(uses) - listed - table.shared):
            out.append(f"{at(module)}: `{module}` depends on {dep} ({src}/{uses[dep]} "
                       f"includes \"{dep}.h\"), but its row does not list it")
        for dep in sorted(listed & table.shared):
            out.append(f"{at(module)}: `{module}` lists {dep}, a shared module: shared "
                       f"modules are used without listing them (remove it)")
        for dep in sorted(listed - set(uses) - table.shared):
            if dep in includes:
                out.append(f"{at(module)}: `{module}` lists {dep}, but no file of {module} "
                           f"includes \"{dep}.h\" (remove it)")
            else:
                out.append(f"{at(module)}: `{module}` lists {dep}, which is no module "
                           f"in {src}")
    for module in sorted(table.shared & set(includes)):
        for dep in sorted(set(includes[module]) - table.shared):
            out.append(f"{map_path} ({SHARED_ROW}): the shared module `{module}` depends "
                       f"on {dep} ({src}/{includes[module][dep]}), which is not shared "
                       f"(shared modules use only each other)")
    return out


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path("csrc")
    root = src.parent
    problems = []
    for path in sorted(src.glob("*.c")):
        problems += long_functions(path)
    for component in cycles(module_graph(src)):
        problems.append(f"{src}: the modules {', '.join(component)} depend on each other "
                        f"(an include cycle)")
    problems += map_problems(src, root / MAP_FILE)
    for path in python_files(root):
        problems += long_python_functions(path)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
