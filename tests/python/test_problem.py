"""Loading problem*.py files: the seed's files unchanged, and one-line errors for bad ones."""

import os
import textwrap

import pytest

from async_search import Problem, ProblemError, load_problem
from async_search.space import Categorical, Integer, Real

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBLEMS = os.path.join(ROOT, "problems")
TEST_PROBLEMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "problems")
INTEGRATION_PROBLEMS = os.path.join(ROOT, "tests", "integration", "problems")


def write(tmp_path, text, name="problem_x.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_seed_problem_file():
    p = load_problem(os.path.join(PROBLEMS, "as_problem.py"))
    assert isinstance(p, Problem) and isinstance(p, object)
    assert p.params == ("drop", "epochs", "learning_rate", "conv", "optimizer", "batch_size")
    dims = dict(zip(p.space.names, p.space.dims))
    assert dims["drop"] == Real(0.0, 0.9)
    assert dims["epochs"] == Integer(2, 3)
    assert dims["learning_rate"] == Real(1e-5, 0.1)
    assert isinstance(dims["conv"], Categorical) and dims["conv"].size == 5
    assert dims["batch_size"].categories == (16, 32, 64, 128, 256, 512)
    assert p.warnings == ()
    lines = p.describe().splitlines()
    assert len(lines) == 6 and lines[0].startswith("drop ")
    assert "Real(0.0, 0.9, prior=uniform)" in lines[0]


def test_tc1_problem_file():
    p = load_problem(os.path.join(PROBLEMS, "problem_tc1.py"))
    assert p.params == ("drop", "batch_size")
    assert p.starting_point == [0.1, 16]


def test_every_shipped_problem_loads():
    found = {}
    for d in (PROBLEMS, TEST_PROBLEMS, INTEGRATION_PROBLEMS):
        for name in sorted(os.listdir(d)):
            if name.endswith(".py"):
                path = os.path.join(d, name)
                found[os.path.relpath(path, ROOT)] = load_problem(path)
    # the problems shipped with the project, and the ones these tests use, were all found
    expected = {"problems/as_problem.py", "problems/problem_tc1.py", "problems/problem_nt3.py",
                "tests/python/problems/problem_awkward.py",
                "tests/python/problems/problem_mixed.py",
                "tests/integration/problems/problem_slow.py",
                "tests/integration/problems/problem_faults.py"}
    assert expected <= set(found), sorted(expected - set(found))
    assert all(p.params for p in found.values())


def test_params_order_list_and_typed_objects():
    p = load_problem(os.path.join(TEST_PROBLEMS, "problem_mixed.py"))
    assert p.params == ("lr", "drop", "epochs", "units", "wd", "optimizer", "batch_size", "fixed")
    assert p.space.names == p.params
    dims = dict(zip(p.space.names, p.space.dims))
    assert dims["wd"] == Real(1e-6, 1e-2, "log-uniform")
    assert dims["units"] == Integer(8, 512, "log-uniform")
    assert dims["fixed"] == Categorical(("relu",))
    assert any("starting_point" in w for w in p.warnings)


def test_dict_without_params_and_a_partial_params_searches_only_those(tmp_path):
    p = load_problem(write(tmp_path, """
        class Problem:
            def __init__(self):
                self.space = {"b": (0.0, 1.0), "a": ["x", "y", "z"]}
    """))
    assert p.params == ("b", "a") and p.starting_point is None and p.warnings == ()
    p = load_problem(write(tmp_path, """
        class Problem:
            def __init__(self):
                self.space = {"b": (0.0, 1.0), "a": ["x", "y", "z"], "c": (1, 5)}
                self.params = ["c", "b"]
    """))
    # the original searched only what params lists
    assert p.params == ("c", "b") and p.space.names == ("c", "b")
    assert len(p.warnings) == 1 and "'a'" in p.warnings[0] and "not searched" in p.warnings[0]


def test_two_integer_trap_warns(tmp_path):
    p = load_problem(write(tmp_path, """
        class Problem:
            def __init__(self):
                self.space = {"batch_size": [16, 32], "epochs": (2, 3)}
                self.params = self.space.keys()
                self.starting_point = [16]
    """))
    assert p.space.dims[0] == Integer(16, 32)
    assert len(p.warnings) == 2
    assert p.warnings[0].startswith("batch_size: [16, 32] is read as Integer(16, 32)")
    assert "starting_point" in p.warnings[1]


def test_sibling_import(tmp_path):
    (tmp_path / "shared_space.py").write_text("SPACE = {'x': (0.0, 1.0)}\n")
    p = load_problem(write(tmp_path, """
        from shared_space import SPACE
        class Problem:
            def __init__(self):
                self.space = dict(SPACE)
    """))
    assert p.params == ("x",)


BAD = {
    "empty": ("", "empty"),
    "blank": ("\n\n   \n", "empty"),
    "syntax": ("class Problem:\n    def __init__(self)\n        pass\n", "syntax error at line 2"),
    "no_class": ("space = {'a': (0, 1)}\n", "defines no class Problem"),
    "module_raises": ("import no_such_module_xyz\n", "ModuleNotFoundError"),
    "ctor_raises": ("class Problem:\n    def __init__(self):\n        raise KeyError('boom')\n",
                    r"Problem\(\) raised KeyError: 'boom'"),
    "ctor_args": ("class Problem:\n    def __init__(self, x):\n        pass\n",
                  r"Problem\(\) raised TypeError"),
    "no_space": ("class Problem:\n    def __init__(self):\n        self.params = []\n",
                 "has no space"),
    "space_list": ("class Problem:\n    def __init__(self):\n        self.space = [(0, 1)]\n",
                   "must be a dict"),
    "empty_space": ("class Problem:\n    def __init__(self):\n        self.space = {}\n",
                    "space is empty"),
    "reversed": ("class Problem:\n    def __init__(self):\n"
                 "        self.space = {'d': (0.9, 0.1)}\n",
                 "reversed"),
    "nan": ("class Problem:\n    def __init__(self):\n"
            "        self.space = {'d': (0.0, float('nan'))}\n", "not finite"),
    "inf": ("class Problem:\n    def __init__(self):\n"
            "        self.space = {'d': (0.0, float('inf'))}\n", "not finite"),
    "prior": ("class Problem:\n    def __init__(self):\n"
              "        self.space = {'lr': (1e-5, 0.1, 'log')}\n", "prior 'log' .* is unknown"),
    "log_zero": ("class Problem:\n    def __init__(self):\n"
                 "        self.space = {'lr': (0.0, 0.1, 'log-uniform')}\n", "non-positive"),
    "empty_cat": ("class Problem:\n    def __init__(self):\n        self.space = {'o': []}\n",
                  "at least one value"),
    "unknown_param": ("class Problem:\n    def __init__(self):\n"
                      "        self.space = {'a': (0, 1)}\n        self.params = ['a', 'b']\n",
                      "params names 'b', which is not a dimension"),
    "dup_param": ("class Problem:\n    def __init__(self):\n"
                  "        self.space = {'a': (0, 1)}\n        self.params = ['a', 'a']\n",
                  "twice"),
    "not_dim": ("class Problem:\n    def __init__(self):\n        self.space = {'a': 3}\n",
                "not a dimension"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_give_one_line_errors(tmp_path, case):
    text, words = BAD[case]
    path = write(tmp_path, text, f"problem_{case}.py")
    with pytest.raises(ProblemError, match=words) as info:
        load_problem(path)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert msg.startswith(path + ": ")
    assert isinstance(info.value, ValueError)


def test_missing_and_unreadable_paths(tmp_path):
    with pytest.raises(ProblemError, match="no such file"):
        load_problem(str(tmp_path / "nope.py"))
    with pytest.raises(ProblemError, match="is a directory"):
        load_problem(str(tmp_path))
    path = write(tmp_path, "class Problem: pass\n")
    os.chmod(path, 0)
    if os.access(path, os.R_OK):  # running as root: permissions are not enforced
        pytest.skip("cannot make a file unreadable as this user")
    with pytest.raises(ProblemError, match="cannot be read"):
        load_problem(path)


def test_problem_is_frozen():
    p = load_problem(os.path.join(PROBLEMS, "problem_tc1.py"))
    with pytest.raises(AttributeError):
        p.params = ("x",)


def test_a_third_item_that_is_no_prior_is_a_categorical_with_a_warning(tmp_path):
    path = tmp_path / "problem_p.py"
    path.write_text("class Problem:\n    def __init__(self):\n"
                    "        self.space = {'lr': (1e-5, 1e-1, 'log-normalish'),\n"
                    "                      'opt': ['adam', 'sgd', 'rmsprop']}\n")
    problem = load_problem(path)
    lr = problem.space.dims[problem.space.names.index("lr")]
    assert lr.categories == (1e-5, 0.1, "log-normalish")
    warned = [w for w in problem.warnings if w.startswith("lr: ")]
    assert len(warned) == 1 and "Categorical of 3 values" in warned[0]
    assert "'log-normalish' is not a prior" in warned[0]
    assert not [w for w in problem.warnings if w.startswith("opt: ")]  # real choices: silent
