"""Structural rules of the C code, checked by ``make lint``.

- No function is longer than MAX_FUNCTION_LINES lines (body, between the
  braces that clang-format puts in column 0).
- No call cycle between C modules: module A depends on module B when
  ``A.c`` or ``A.h`` includes ``"B.h"``; the graph must be acyclic. A
  ``X_internal.h`` header is part of module X (its private contract).

Prints one line per violation and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 120
INCLUDE = re.compile(r'^#include "([A-Za-z0-9_]+)\.h"', re.M)


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


def module_of(stem: str) -> str:
    return stem[:-len("_internal")] if stem.endswith("_internal") else stem


def module_graph(src: Path) -> dict[str, set[str]]:
    files = list(src.glob("*.c")) + list(src.glob("*.h"))
    modules = {module_of(p.stem) for p in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for path in files:
        owner = module_of(path.stem)
        for dep in INCLUDE.findall(path.read_text(encoding="utf-8")):
            dep = module_of(dep)
            if dep != owner and dep in modules:
                graph[owner].add(dep)
    return graph


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


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path("csrc")
    problems = []
    for path in sorted(src.glob("*.c")):
        problems += long_functions(path)
    for component in cycles(module_graph(src)):
        problems.append(f"{src}: the modules {', '.join(component)} depend on each other "
                        f"(an include cycle)")
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
