"""async_search.expfiles: the experiment directory's format, held against the C sources,
and the readers that the engine's restart, the report and load_results share.

What the built program actually writes is checked by tests/integration/test_expfiles.py.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import async_search
from async_search import expfiles
from async_search.engine import Engine
from async_search.expfiles import ExperimentFileError

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
PACKAGE = ROOT / "python" / "async_search"
AWKWARD = Path(__file__).parent / "problems" / "problem_awkward.py"
AS_PROBLEM = ROOT / "problems" / "as_problem.py"
# tests/python/problems/problem_awkward.py's parameters, in its params order
AWKWARD_PARAMS = ("rate", "label", "layers", "flag")
# the header of an experiment from before the steps column (still read and continued)
HEADER = ("job_id", "p:rate", "p:label", "p:layers", "p:flag", "objective", "status", "worker",
          "m:timestamp_submit", "m:timestamp_start", "m:timestamp_gather", "duration")
HEADER_NOW = HEADER + ("steps",)


def c_define(path: Path, name: str) -> str:
    """The value of ``#define NAME "..." "..."`` (string literals joined, continuations too)."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(rf"^#define\s+{name}\s+(.*)$", text, re.MULTILINE)
    assert match, f"no #define {name} in {path}"
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))
    assert literals, f"#define {name} in {path} is not a string: {match.group(1)!r}"
    return "".join(literals)


def c_journal_columns() -> str:
    """results.csv's columns after the parameters as csrc/journal.c writes them: the
    names in its journal_columns list, in order, ',' joined (the header and every row
    follow that list)."""
    text = (CSRC / "journal.c").read_text(encoding="utf-8")
    start = text.index("journal_columns[] = {")
    table = text[start:text.index("\n};\n", start)]
    names = re.findall(r'^\s*\{"([^"]+)", journal_\w+\},', table, re.MULTILINE)
    assert names, "no columns in csrc/journal.c journal_columns"
    return ",".join(names)


def engine(problem: Path = AWKWARD) -> Engine:
    settings = {"problem": str(problem), "optimizer": "random", "seed": 0, "n_jobs": 1,
                "init_size": 4}
    return Engine(json.dumps(settings))


def write_csv(path: Path, rows: list, header: tuple = HEADER, tail: str = "") -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        handle.write(tail)


def row(job_id: str, rate="0.01", label="a;b", layers="2", flag="True", objective="1.5",
        status="ok", worker="1", times=("0.000", "0.010", "1.020", "1.000")) -> list:
    return [job_id, rate, label, layers, flag, objective, status, worker, *times]


# --------------------------------------------------------------------------- against C


def test_fixed_columns_are_the_c_journals():
    assert c_journal_columns() == ",".join(expfiles.FIXED)
    # journal_open writes "job_id," then the engine's p: columns, then the fixed ones
    assert re.search(r'"job_id,%s%s", param_header,\s*param_header\[0\] \? "," : ""\) != 0 \|\|'
                     r'\s*journal_column_names\(&header, JOURNAL_COLUMNS\)',
                     (CSRC / "journal.c").read_text(encoding="utf-8"))
    assert expfiles.header(["x"])[0] == expfiles.JOB_ID == "job_id"


def test_file_names_are_the_c_sources():
    assert c_define(CSRC / "journal.h", "JOURNAL_RESULTS") == expfiles.RESULTS
    assert c_define(CSRC / "journal.h", "JOURNAL_POINTS") == expfiles.POINTS
    assert c_define(CSRC / "experiment.h", "EXPERIMENT_CONFIG") == expfiles.CONFIG
    worker = (CSRC / "worker.c").read_text(encoding="utf-8")
    run = re.findall(r'"%s/([^"/%]+)/%s[^"]*",\s*w->start\.exp_dir,\s*t->job_id', worker)
    assert run == [expfiles.RUN_DIR]


def test_statuses_are_names_c_gives():
    launch = (CSRC / "launch.c").read_text(encoding="utf-8")
    names = set(re.findall(r'case LAUNCH_\w+:\s*return "(\w+)";', launch))
    assert set(expfiles.STATUSES) <= names, names


def test_no_other_module_spells_the_format():
    """File names and the timestamp columns are written only in expfiles.py (docstrings
    aside; "job_id", "objective", "status" are also plain words, in printed tables)."""
    spelled = {expfiles.RESULTS, expfiles.POINTS, expfiles.CONFIG, expfiles.REPORT,
               expfiles.SUBMIT, expfiles.START, expfiles.GATHER}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "expfiles.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {id(node.body[0].value) for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                and node.body and isinstance(node.body[0], ast.Expr)}
        found = {node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and id(node) not in docs and node.value in spelled}
        assert not found, f"{path.relative_to(ROOT)} spells {sorted(found)}"


# --------------------------------------------------------------------------- header


def test_header_quotes_like_the_engine_and_c():
    assert expfiles.header(AWKWARD_PARAMS) == HEADER_NOW
    names = ["plain", 'say "x", y', "naïve ✓"]
    line = expfiles.header_line(names)
    assert line == 'job_id,p:plain,"p:say ""x"", y",p:naïve ✓,' + ",".join(expfiles.FIXED)
    assert next(csv.reader([line])) == list(expfiles.header(names))
    e = engine()
    # what csrc/journal.c writes: "job_id," Engine.header() "," its column names
    fixed = c_journal_columns()
    assert f"job_id,{e.header()},{fixed}" == expfiles.header_line(AWKWARD_PARAMS)
    assert expfiles.header_line([]) == "job_id," + fixed


def test_point_json_and_csv_fields():
    point = {"label": 'say "hi", ünï', "rate": 0.5, "flag": True}
    assert expfiles.point_json(point) == '{"label": "say \\"hi\\", ünï", "rate": 0.5, "flag": true}'
    with pytest.raises(ValueError):
        expfiles.point_json({"x": math.nan})
    assert expfiles.csv_fields(point.values()) == '"say ""hi"", ünï",0.5,True'
    # a newline or carriage return inside a value is quoted, so the row stays one record
    for value in ("a\nb", "a\rb", "a\r\nb"):
        assert expfiles.csv_fields([value, "c"]) == f'"{value}",c'
        assert next(csv.reader([expfiles.csv_fields([value, "c"])])) == [value, "c"]
    assert expfiles.csv_fields([]) == "" and expfiles.csv_fields([""]) == '""'


def test_small_helpers():
    assert expfiles.param_column("lr") == "p:lr"
    assert expfiles.run_dir("/e", "1_2_3") == Path("/e/run/1_2_3")
    assert [expfiles.restart_number(j) for j in ("12_0_3", "0_1_1", "x_1", "", "7")] == [
        12, 0, None, None, 7]


# --------------------------------------------------------------------------- points.log


def test_read_points_ignores_a_torn_line_and_lines_without_a_tab(tmp_path):
    path = tmp_path / "points.log"
    assert expfiles.read_points(path) == {}
    path.write_text('1_0_0\t{"x": 1}\nno tab here\n1_0_1\t{"x": "a\\tb ✓"}\n1_0_0\t{"x": 3}\n'
                    '1_0_2\t{"x": 2', encoding="utf-8")
    points = expfiles.read_points(path)
    assert points == {"1_0_0": '{"x": 3}', "1_0_1": '{"x": "a\\tb ✓"}'}
    assert list(points) == ["1_0_0", "1_0_1"]
    path.write_bytes(b'1_0_0\t{"x": "caf\xe9"}\n')
    with pytest.raises(ExperimentFileError, match="points.log is not UTF-8"):
        expfiles.read_points(path)


# --------------------------------------------------------------------------- results.csv


def test_read_table_skips_bad_rows_with_notes(tmp_path):
    path = tmp_path / "results.csv"
    write_csv(path, [row("1_0_0"), row("1_0_0", objective="9"), list(HEADER),
                     row("1_0_1")[:5], row("1_1_0", label="multi\nline")],
              tail='1_1_1,0.5,"half a qu')
    table = expfiles.read_table(path)
    assert table.header == HEADER
    assert [r[0] for r in table.records] == ["1_0_0", "1_1_0"]
    assert table.records[0][5] == "1.5"  # the first of a duplicate job id is kept
    assert table.records[1][2] == "multi\nline"
    notes = " | ".join(table.notes)
    for words in ("partial last line", "field count", "repeated header", "already seen job_id"):
        assert words in notes
    # the same file, with the problem's header required, as a restart reads it
    assert expfiles.read_table(path, AWKWARD_PARAMS).records == table.records


def test_read_table_errors_are_one_line_and_name_the_file(tmp_path):
    path = tmp_path / "results.csv"
    cases = []
    with pytest.raises(ExperimentFileError) as missing:
        expfiles.read_table(path)
    cases.append(missing)
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ExperimentFileError) as foreign:
        expfiles.read_table(path)
    assert "job_id" in str(foreign.value)
    cases.append(foreign)
    write_csv(path, [row("1_0_0")])
    with pytest.raises(ExperimentFileError) as other:
        expfiles.read_table(path, ["rate", "label"])
    assert "restart with the problem file" in str(other.value)
    cases.append(other)
    for info in cases:
        assert isinstance(info.value, ValueError)
        assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("content", ["", "job_id,p:rate,obj"])
def test_a_file_without_a_complete_header_has_no_rows(tmp_path, content):
    path = tmp_path / "results.csv"
    path.write_text(content, encoding="utf-8")
    for params in (None, AWKWARD_PARAMS):
        table = expfiles.read_table(path, params)
        assert table.header == () and table.records == ()
        assert expfiles.parse_rows(table) == []


def test_parse_rows_types_every_field(tmp_path):
    path = tmp_path / "results.csv"
    write_csv(path, [row("1_0_0", label='say "hi"', worker="3"),
                     row("1_0_1", objective="nan", status="failed", times=("1", "2", "3", "nan"))])
    first, failed = expfiles.parse_rows(expfiles.read_table(path))
    assert first == expfiles.ResultRow(
        job_id="1_0_0", params={"rate": "0.01", "label": 'say "hi"', "layers": "2",
                                "flag": "True"},
        objective=1.5, status="ok", worker=3, submit=0.0, start=0.01, gather=1.02, duration=1.0)
    assert isinstance(first.worker, int) and isinstance(first.objective, float)
    assert failed.status == "failed" and math.isnan(failed.objective)
    assert math.isnan(failed.duration)
    with pytest.raises(Exception):
        first.status = "failed"  # frozen


def test_parse_rows_refuses_a_value_of_the_wrong_type(tmp_path):
    path = tmp_path / "results.csv"
    write_csv(path, [row("1_0_0"), row("1_0_1", worker="two")])
    with pytest.raises(ExperimentFileError) as info:
        expfiles.parse_rows(expfiles.read_table(path))
    message = str(info.value)
    assert str(path) in message and "1_0_1" in message and "worker 'two'" in message
    minimal = ("job_id", "p:x", "objective", "status")
    write_csv(path, [["1_0_0", "0.1", "1.0", "ok"]], header=minimal)
    with pytest.raises(ExperimentFileError, match="missing column.*worker"):
        expfiles.parse_rows(expfiles.read_table(path))


# --------------------------------------------------------------------------- config.json


def test_read_config(tmp_path):
    assert expfiles.read_config(tmp_path) is None
    (tmp_path / "config.json").write_text('{"restart": 2, "start_time": 1.7e9}')
    assert expfiles.read_config(tmp_path) == {"restart": 2, "start_time": 1.7e9}
    for text, words in (("{not json", "is not JSON"), ("[1, 2]", "top level is list")):
        (tmp_path / "config.json").write_text(text)
        with pytest.raises(ExperimentFileError, match=words) as info:
            expfiles.read_config(tmp_path)
        assert str(tmp_path / "config.json") in str(info.value)


# --------------------------------------------------------------------------- restart


def test_read_restart(tmp_path):
    write_csv(tmp_path / "results.csv", [row("1_0_0"), row("2_0_1", status="failed",
                                                           objective="nan")])
    (tmp_path / "points.log").write_text(
        '1_0_0\t{"rate": 0.01}\n1_0_1\t{"rate": 0.02}\n2_0_1\t{"rate": 0.03}\n'
        '3_0_0\t{"rate": 0.04}\n3_0_1\t{"ra', encoding="utf-8")
    (tmp_path / "config.json").write_text('{"restart": 2, "start_time": 1700000000.5}')
    r = expfiles.read_restart(tmp_path, AWKWARD_PARAMS)
    assert [x.job_id for x in r.finished] == ["1_0_0", "2_0_1"]
    assert r.inflight == (("1_0_1", '{"rate": 0.02}'), ("3_0_0", '{"rate": 0.04}'))
    assert r.last_restart == 3  # from the job ids, above config.json's 2
    assert r.start_time == 1700000000.5


def test_a_point_issued_again_is_in_flight_once(tmp_path):
    """Restart 2 reissued 1_0_1 as 2_1_0, which finished; 1_0_2 as 2_1_1, in flight again.
    Restart 3 must issue only 2_1_1's point again, not 1_0_1's nor 1_0_2's."""
    write_csv(tmp_path / "results.csv", [row("1_0_0"), row("2_1_0")])
    (tmp_path / "points.log").write_text(
        '1_0_0\t{"rate": 0.1}\n1_0_1\t{"rate": 0.2}\n1_0_2\t{"rate": 0.3}\n'
        '2_1_0\t{"rate": 0.2}\n2_1_1\t{"rate": 0.3}\n2_2_0\t{"rate": 0.4}\n',
        encoding="utf-8")
    r = expfiles.read_restart(tmp_path, AWKWARD_PARAMS)
    assert r.inflight == (("2_1_1", '{"rate": 0.3}'), ("2_2_0", '{"rate": 0.4}'))


def test_read_restart_without_results_or_with_a_bad_config(tmp_path):
    (tmp_path / "points.log").write_text('4_0_0\t{"rate": 0.01}\n', encoding="utf-8")
    (tmp_path / "config.json").write_text("[]")
    r = expfiles.read_restart(tmp_path, AWKWARD_PARAMS)
    assert r.finished == () and r.inflight == (("4_0_0", '{"rate": 0.01}'),)
    assert (r.last_restart, r.start_time) == (4, 0.0)
    (tmp_path / "results.csv").write_text("")  # cut before its header was written
    (tmp_path / "config.json").write_text('{"restart": 6, "start_time": null}')
    r = expfiles.read_restart(tmp_path, AWKWARD_PARAMS)
    assert (r.finished, r.last_restart, r.start_time) == ((), 6, 0.0)


def test_engine_replay_keeps_its_shape_and_rebuilds_points_from_the_csv(tmp_path):
    e = engine()
    told = []
    e._optimizer.tell = lambda points, values: told.append((points, values))
    write_csv(tmp_path / "results.csv", [
        row("1_0_0", rate="0.01", label="a;b", layers="2", flag="True", objective="0.5"),
        row("1_0_1", rate="0.001", label="naïve – ünïcödé ✓", layers="3", flag="False",
            objective="nan", status="timeout"),
    ])
    (tmp_path / "points.log").write_text(
        # 1_0_1 lacks its line (rebuilt from results.csv); keys out of order are reordered
        '1_0_0\t{"flag": true, "rate": 0.01, "label": "a;b", "layers": 2}\n'
        '1_1_0\t{"rate": 0.05, "label": "say \\"hi\\"", "layers": 1, "flag": false}\n',
        encoding="utf-8")
    finished, inflight, last, start, curves = e.replay(str(tmp_path))
    assert finished == [
        ("1_0_0", '{"rate": 0.01, "label": "a;b", "layers": 2, "flag": true}',
         "0.01,a;b,2,True", "ok", 0.5),
        ("1_0_1", finished[1][1], "0.001,naïve – ünïcödé ✓,3,False", "timeout", finished[1][4]),
    ]
    assert json.loads(finished[1][1]) == {"rate": 0.001, "label": "naïve – ünïcödé ✓",
                                          "layers": 3, "flag": False}
    assert math.isnan(finished[1][4])
    # in flight: (job_id, json, csv, simulated objective: NaN outside a simulation)
    assert [i[:3] for i in inflight] == [
        ("1_1_0", '{"rate": 0.05, "label": "say \\"hi\\"", "layers": 1, "flag": false}',
         '0.05,"say ""hi""",1,False')]
    assert math.isnan(inflight[0][3])
    assert (last, start) == (1, 0.0)
    assert told == [([json.loads(finished[0][1]), json.loads(finished[1][1])], [0.5, None])]


def test_engine_replay_refuses_another_problem_in_one_line(tmp_path):
    write_csv(tmp_path / "results.csv", [row("1_0_0")])
    with pytest.raises(ValueError) as info:
        engine(AS_PROBLEM).replay(str(tmp_path))
    message = str(info.value)
    assert "restart with the problem file" in message and "\n" not in message
    assert str(tmp_path / "results.csv") in message
    # a category the problem does not have, in a row points.log lacks
    write_csv(tmp_path / "results.csv", [row("1_0_0", label="not a label")])
    with pytest.raises(ValueError, match="'not a label' is not one of the problem's categories"):
        engine().replay(str(tmp_path))


# --------------------------------------------------------------------------- load_results


def test_load_results_types_columns_and_best_row(tmp_path):
    write_csv(tmp_path / "results.csv", [
        row("1_0_0", rate="0.01", label="x, y", layers="2", objective="0.7"),
        row("1_0_1", rate="0.001", label='say "hi"', layers="4", objective="nan",
            status="failed", worker="2"),
        row("1_0_2", rate="0.1", label="naïve ✓", layers="1", objective="0.25", worker="2"),
        row("1_1_0", rate="0.05", label="x, y", layers="3", objective="0.25"),
    ], tail="1_1_1,0.5")
    frame = async_search.load_results(tmp_path)
    assert async_search.load_results is expfiles.load_results
    assert list(frame.columns) == list(HEADER_NOW)  # steps NaN for an older file
    assert list(frame["job_id"]) == ["1_0_0", "1_0_1", "1_0_2", "1_1_0"]
    assert frame["p:rate"].dtype == np.float64 and frame["p:layers"].dtype == np.int64
    assert frame["p:label"].dtype == object
    assert list(frame["p:label"]) == ["x, y", 'say "hi"', "naïve ✓", "x, y"]
    assert list(frame["p:flag"]) == ["True"] * 4  # a bool category is text in the file
    assert frame["objective"].dtype == np.float64 and math.isnan(frame["objective"][1])
    assert list(frame["status"]) == ["ok", "failed", "ok", "ok"]
    for column in expfiles.TIMES + (expfiles.WORKER,):
        assert frame[column].dtype == np.float64
    best = async_search.best_row(frame)
    assert isinstance(best, pd.Series)
    assert best["job_id"] == "1_0_2" and best["objective"] == 0.25  # first of a tie
    with pytest.raises(ValueError, match="no evaluation finished with status ok"):
        async_search.best_row(frame[frame["status"] != "ok"])


def test_load_results_errors(tmp_path):
    with pytest.raises(ValueError, match="no such experiment directory"):
        async_search.load_results(tmp_path / "nothing")
    with pytest.raises(ValueError, match="results.csv does not exist"):
        async_search.load_results(tmp_path)


def test_the_report_reads_through_load_results():
    from async_search import report

    fixture = Path(__file__).parent / "fixtures" / "report_exp"
    results = report.load_results(fixture)
    frame = async_search.load_results(fixture)
    pd.testing.assert_frame_equal(results.frame.drop(columns="usable"), frame)


def test_stopped_rows_steps_and_curves_for_a_restart(tmp_path):
    """Early stopping's files: a stopped row (objective: its last intermediate value), the
    steps column and intermediate.csv. The engine tells the optimizer the finished rows
    but not the stopped one (the manager's stopper tells its estimate) and hands the
    curves to the manager in journal order."""
    write_csv(tmp_path / "results.csv", [
        row("1_0_0", objective="0.5") + ["9"],
        row("1_0_1", rate="0.02", objective="1.25", status="stopped") + ["3"],
    ], header=HEADER_NOW)
    (tmp_path / "intermediate.csv").write_text(
        "job_id,step,value,m:timestamp\n1_0_0,1,2.0,0.5\n1_0_1,1,3.0,0.6\n"
        "1_0_1,3,1.25,0.9\n1_0_0,9,0.5,1.5\n1_0_2,1,9", encoding="utf-8")  # torn last line
    r = expfiles.read_restart(tmp_path, AWKWARD_PARAMS)
    assert [(x.job_id, x.status, x.steps) for x in r.finished] == [
        ("1_0_0", "ok", 9), ("1_0_1", "stopped", 3)]
    assert [(c.job_id, c.step, c.value) for c in r.curves] == [
        ("1_0_0", 1, 2.0), ("1_0_1", 1, 3.0), ("1_0_1", 3, 1.25), ("1_0_0", 9, 0.5)]
    e, told = engine(), []
    e._optimizer.tell = lambda points, values: told.append((points, values))
    finished, _, _, _, curves = e.replay(str(tmp_path))
    assert [f[3:] for f in finished] == [("ok", 0.5), ("stopped", 1.25)]
    assert told and [len(points) for points, _ in told] == [1] and told[0][1] == [0.5]
    assert curves == [("1_0_0", 1, 2.0), ("1_0_1", 1, 3.0), ("1_0_1", 3, 1.25),
                      ("1_0_0", 9, 0.5)]
    # a malformed curve row is refused in one line
    (tmp_path / "intermediate.csv").write_text("job_id,step,value,m:timestamp\nx,one,2,0\n",
                                               encoding="utf-8")
    with pytest.raises(expfiles.ExperimentFileError, match="line 2"):
        expfiles.read_restart(tmp_path, AWKWARD_PARAMS)
