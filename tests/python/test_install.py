"""The Python package installs the pip way (pyproject.toml + setup.cfg), offline,
with its data files, and works from there without PYTHONPATH=python."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pip_install_gives_a_working_package(tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
         "--no-index", "--quiet", "--target", str(target), str(ROOT)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = (
        "import async_search, pathlib\n"
        "from async_search import load_problem, load_results, make_optimizer, "
        "report_intermediate\n"
        "from async_search.benchmarks import tc1\n"
        "print(async_search.__file__)\n"
        "here = pathlib.Path(tc1.__file__).parent\n"
        "print(sorted(p.name for p in here.glob('*_default_model.txt')))\n"
        f"p = load_problem({str(ROOT / 'problems' / 'as_problem.py')!r})\n"
        "print(len(make_optimizer(p, 'random', seed=0).ask(2)))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(target))  # the installed copy, not python/
    assert lines[1] == str(["example_default_model.txt", "nt3_default_model.txt",
                            "tc1_default_model.txt"])
    assert lines[2] == "2"
