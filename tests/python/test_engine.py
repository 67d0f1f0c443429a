"""async_search.engine.Engine as the C manager drives it: its settings and its small calls.

Restart (Engine.replay) is tested with the experiment's files in test_expfiles.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from async_search.engine import SETTINGS, Engine

ROOT = Path(__file__).resolve().parents[2]
AS_PROBLEM = str(ROOT / "problems" / "as_problem.py")
FULL = {"problem": AS_PROBLEM, "optimizer": "random", "seed": 3, "n_jobs": 1, "init_size": 2,
        "max_evals": 10, "num_buffer": 1, "workers": 2}


def test_the_manager_sends_every_required_setting():
    source = (ROOT / "csrc" / "experiment.c").read_text(encoding="utf-8")
    body = source[source.index("char *experiment_settings_json("):]
    body = body[:body.index("\n}\n")]
    sent = set(re.findall(r'\\"(\w+)\\":', body))
    assert set(SETTINGS) <= sent, sorted(set(SETTINGS) - sent)


@pytest.mark.parametrize("key", SETTINGS)
def test_a_missing_setting_is_a_one_line_error_naming_it(key):
    settings = {k: v for k, v in FULL.items() if k != key}
    with pytest.raises(ValueError) as info:
        Engine(json.dumps(settings))
    message = str(info.value)
    assert f"missing {key!r}" in message and "\n" not in message


def test_settings_must_be_an_object():
    with pytest.raises(ValueError, match="expected a JSON object"):
        Engine(json.dumps([AS_PROBLEM]))


def test_settings_are_used_as_given():
    engine = Engine(json.dumps(FULL))
    points = engine.ask(3)
    assert len(points) == 3
    for text, fields in points:
        point = json.loads(text)
        assert list(point) == ["drop", "epochs", "learning_rate", "conv", "optimizer",
                               "batch_size"]
        assert fields.count(",") == 5
    assert engine.header() == "p:drop,p:epochs,p:learning_rate,p:conv,p:optimizer,p:batch_size"
    same = Engine(json.dumps(FULL)).ask(3)
    assert same == points  # the seed is used
    other = Engine(json.dumps(dict(FULL, seed=4))).ask(3)
    assert other != points
    with pytest.raises(ValueError, match="unknown"):
        Engine(json.dumps(dict(FULL, optimizer="nonesuch")))
