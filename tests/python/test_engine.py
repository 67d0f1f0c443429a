"""async_search.engine.Engine as the C manager drives it: its settings and its small calls.

Restart (Engine.replay) is tested with the experiment's files in test_expfiles.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from async_search.engine import SETTINGS, Engine, stopper_design_size

ROOT = Path(__file__).resolve().parents[2]
AS_PROBLEM = str(ROOT / "problems" / "as_problem.py")
FULL = {"problem": AS_PROBLEM, "optimizer": "random", "seed": 3, "n_jobs": 1, "init_size": 2,
        "max_evals": 10, "num_buffer": 1, "workers": 2}


def _settings_json_source() -> str:
    """The body of csrc/experiment.c's experiment_settings_json."""
    source = (ROOT / "csrc" / "experiment.c").read_text(encoding="utf-8")
    body = source[source.index("char *experiment_settings_json("):]
    return body[:body.index("\n}\n")]


def _sent_settings() -> set:
    """The keys of the engine's settings: what experiment_settings_json writes
    itself, and every row of csrc/options.c's option table that is not marked
    .unrecorded (options_settings_json), named as its flag with '-' as '_'."""
    body = _settings_json_source()
    assert "options_settings_json(&s->o, &sb);" in body
    sent = set(re.findall(r'\\"(\w+)\\":', body))
    source = (ROOT / "csrc" / "options.c").read_text(encoding="utf-8")
    table = source[source.index("options_table[] = {"):]
    table = table[:table.index("\n};\n")]
    for row in table.split("{.name = ")[1:]:
        if ".unrecorded = " not in row:
            sent.add(row[1:row.index('"', 1)].replace("-", "_"))
    return sent


def test_the_manager_sends_every_required_setting():
    sent = _sent_settings()
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


MIXED8 = str(ROOT / "tests" / "python" / "problems" / "problem_mixed.py")


def _write_experiment(exp: Path, engine: Engine, points: list, finished: int) -> None:
    """points.log holds every point; results.csv the first `finished` of them."""
    lines, rows = [], [",".join(["job_id", engine.header(), "objective", "status", "worker",
                                 "m:timestamp_submit", "m:timestamp_start",
                                 "m:timestamp_gather", "duration"])]
    for i, (text, fields) in enumerate(points):
        lines.append(f"1_1_{i}\t{text}\n")
        if i < finished:
            rows.append(f"1_1_{i},{fields},{0.5 + i},ok,1,0.0,0.0,1.0,1.0")
    (exp / "points.log").write_text("".join(lines), encoding="utf-8")
    (exp / "results.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize("restarts", [1, 3])
def test_a_restart_never_proposes_a_point_again(tmp_path, restarts):
    # 8 mixed dimensions, 10 points issued, 4 finished: the 6 in flight are
    # issued again by the manager; the restarted optimizer (same seed, so the
    # same initial design) must propose neither them nor the finished ones.
    settings = dict(FULL, problem=MIXED8, optimizer="default", init_size=12)
    first = Engine(json.dumps(settings))
    issued = first.ask(10)
    _write_experiment(tmp_path, first, issued, finished=4)
    seen = {text for text, _ in issued}
    for _ in range(restarts):
        engine = Engine(json.dumps(settings))
        finished, inflight, last, _, _ = engine.replay(str(tmp_path))
        assert len(finished) == 4 and len(inflight) == 6 and last == 1
        assert {text for _, text, _, _ in inflight} == {t for t, _ in issued[4:]}
        new = [text for text, _ in engine.ask(15)]
        assert not seen & set(new), "a restart proposed a point that was issued already"
        assert len(set(new)) == len(new)


def test_a_simulated_restart_gives_reissued_points_their_objective(tmp_path):
    settings = dict(FULL, simulate_objective="default")
    engine = Engine(json.dumps(settings))
    issued = engine.ask(5)
    _write_experiment(tmp_path, engine, [(t, f) for t, f, _ in issued], finished=2)
    _, inflight, _, _, _ = Engine(json.dumps(settings)).replay(str(tmp_path))
    assert [v for *_, v in inflight] == [v for *_, v in issued[2:]]


def test_the_manager_sends_its_stopper():
    assert {"stopper", "simulate_objective", "workers"} <= _sent_settings()


def test_the_design_size_is_the_one_the_optimizer_was_built_with():
    # the manager reads it back once (csrc/search.c search_design): its policy's
    # first request and config.json's "initial_design" are this number
    base = dict(FULL, optimizer="default", init_size=4)
    assert Engine(json.dumps(base)).design_size() == "4"
    assert Engine(json.dumps(dict(base, stopper="none"))).design_size() == "4"
    assert Engine(json.dumps(dict(base, stopper="asha"))).design_size() == str(
        stopper_design_size(6))
    assert Engine(json.dumps(dict(base, stopper="median", init_size=20))).design_size() == "20"


@pytest.mark.parametrize("dims, size", [(1, 10), (4, 12), (6, 16), (11, 24), (30, 24)])
def test_the_design_under_a_stopper(dims, size):
    assert stopper_design_size(dims) == size


def _sequence(settings: dict, told: int, more: int) -> list:
    """`told` points asked and told (objective: their index), then `more` asked."""
    engine = Engine(json.dumps(settings))
    first = engine.ask(told)
    engine.tell([text for text, _ in first], [float(i) for i in range(told)])
    return [text for text, _ in first + engine.ask(more)]


@pytest.mark.parametrize("stopper", ["asha", "median"])
def test_a_stopper_widens_the_initial_design(stopper):
    # as_problem has 6 parameters: the default optimizer's own design is 8
    # points, under a stopper 16. After 8 points told, a search without a
    # stopper asks its model; one with a stopper goes on with the design, as
    # a search given --init-size 16 does.
    base = dict(FULL, optimizer="default", init_size=4)
    stopped = _sequence(dict(base, stopper=stopper), 8, 4)
    assert stopped == _sequence(dict(base, init_size=16), 8, 4)
    assert stopped[8:] != _sequence(dict(base, stopper="none"), 8, 4)[8:]
    assert _sequence(dict(base, stopper="none"), 8, 4) == _sequence(base, 8, 4)


def test_a_larger_init_size_is_kept_under_a_stopper():
    base = dict(FULL, optimizer="default")
    assert (_sequence(dict(base, stopper="asha", init_size=20), 17, 3)
            == _sequence(dict(base, init_size=20), 17, 3))
