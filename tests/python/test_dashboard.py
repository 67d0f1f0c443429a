"""async_search.dashboard's data layer and server, without a browser."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from async_search.dashboard import data, server

HEADER = "job_id,p:x,objective,status,worker,m:timestamp_submit,m:timestamp_start," \
         "m:timestamp_gather,duration,steps\n"


def row(i: int, obj: float = 1.0, status: str = "ok") -> str:
    return f"0_{i}_0,{i / 10},{obj},{status},1,{i},{i},{i + 1},1.0,\n"


def make_exp(root: Path, rows: int = 3, max_evals: int = 10) -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text(f'{{"max_evals": {max_evals}}}')
    (root / "results.csv").write_text(HEADER + "".join(row(i, 5.0 - i) for i in range(rows)))
    return root


def test_complete_length_stops_at_a_torn_line_and_keeps_quoted_newlines() -> None:
    assert data.complete_length(b"a,b\nc,d") == 4
    assert data.complete_length(b'a,"x\ny"\nc') == 8  # the quoted newline is not an end
    assert data.complete_length(b'a,"x""\n') == 0  # still inside the quotes
    assert data.complete_length(b"") == 0


def test_incremental_reads_only_what_is_new(tmp_path: Path) -> None:
    exp = make_exp(tmp_path / "e", rows=3)
    journal = data.CsvJournal(exp / "results.csv", "job_id")
    first = journal.since(0, 0)
    assert len(first["rows"]) == 3 and first["next"] == 3 and not first["reset"]
    offset = journal.offset
    with open(exp / "results.csv", "a") as handle:
        handle.write(row(3) + "0_4_0,0.4,1")  # one new row and a torn one
    later = journal.since(0, 3)
    assert [r[0] for r in later["rows"]] == ["0_3_0"] and later["start"] == 3
    assert journal.offset == offset + len(row(3))  # the torn line is not consumed
    with open(exp / "results.csv", "a") as handle:
        handle.write(".0,ok,1,4,4,5,1.0,\n" + row(1))  # completed; then a duplicate job id
    done = journal.since(0, 4)
    assert [r[0] for r in done["rows"]] == ["0_4_0"] and done["skipped"] == 1
    assert journal.since(0, 5)["rows"] == []


def test_a_truncated_or_replaced_file_is_read_again(tmp_path: Path) -> None:
    exp = make_exp(tmp_path / "e", rows=4)
    journal = data.CsvJournal(exp / "results.csv", "job_id")
    assert journal.since(0, 0)["next"] == 4
    replacement = exp / "new.csv"
    replacement.write_text(HEADER + row(7))
    os.replace(replacement, exp / "results.csv")
    again = journal.since(0, 4)
    assert again["reset"] and again["generation"] == 1
    assert [r[0] for r in again["rows"]] == ["0_7_0"]
    (exp / "results.csv").write_text(HEADER)  # truncated in place
    assert journal.since(1, 1)["reset"] and journal.since(2, 0)["rows"] == []


def test_state_running_finished_interrupted(tmp_path: Path) -> None:
    exp = data.Experiment(make_exp(tmp_path / "e", rows=3, max_evals=3), 0)
    (exp.root / "manager.log").write_text(
        "x info    experiment /e: 2 workers, max_evals 3, optimizer default\n")
    (exp.root / ".lock").write_text("pid 1 on elsewhere\n")
    assert exp.state(exp.config()).state == "finished"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'r+');"
        "fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"),
        str(exp.root / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        state = exp.state(exp.config())
        assert state.state == "running" and str(holder.pid) in state.detail
    finally:
        holder.kill()
        holder.wait()
    # testing the lock took none: this process can take it now
    with open(exp.root / ".lock", "r+") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(exp.root / "manager.log", "a") as handle:
        handle.write("x warn    interrupted by SIGTERM: stopped issuing work\n")
    assert exp.state(exp.config()) == data.State("interrupted", "interrupted by SIGTERM")
    with open(exp.root / "manager.log", "a") as handle:  # a restart that ran to its end
        handle.write("x info    experiment /e: 2 workers, max_evals 3, optimizer default\n")
    assert exp.state(exp.config()).state == "finished"
    (exp.root / "config.json").write_text('{"max_evals": 9}')
    assert exp.state(exp.config()).state == "interrupted"


def test_not_an_experiment(tmp_path: Path) -> None:
    with pytest.raises(data.ExperimentError, match="does not exist"):
        data.Experiment(tmp_path / "nope", 0)
    with pytest.raises(data.ExperimentError, match="not an experiment directory"):
        data.Experiment(tmp_path, 0)


def test_model_log_refuses_bad_ids_and_symlinks_out(tmp_path: Path) -> None:
    exp = data.Experiment(make_exp(tmp_path / "e"), 0)
    (exp.root / "run" / "0_1_0").mkdir(parents=True)
    (exp.root / "run" / "0_1_0" / "model.log").write_text("".join(f"l{i}\n" for i in range(50)))
    assert exp.model_log("0_1_0") == [f"l{i}" for i in range(30, 50)]
    secret = tmp_path / "secret"
    secret.write_text("secret\n")
    (exp.root / "run" / "0_2_0").mkdir()
    (exp.root / "run" / "0_2_0" / "model.log").symlink_to(secret)
    assert exp.model_log("0_2_0") is None
    assert exp.model_log("../../secret") is None and exp.model_log("0_1") is None


@pytest.fixture
def served(tmp_path: Path):
    exp = data.Experiment(make_exp(tmp_path / "e"), 0)

    def start(token):
        srv, url = server.make_server([exp], "127.0.0.1", 0, token)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"
    started: list = []
    yield exp, start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def fetch(url: str, method: str = "GET", headers: dict | None = None) -> int:
    try:
        request = urllib.request.Request(url, method=method, headers=headers or {})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_token_rule(served) -> None:
    _, start = served
    base = start("s3cret")
    assert fetch(base + "/api/exp/0/info") == 403
    assert fetch(base + "/api/exp/0/info?token=wrong") == 403
    assert fetch(base + "/api/exp/0/info?token=s3cret") == 200
    assert fetch(base + "/api/experiments", headers={
        "Cookie": f"{server.TOKEN_COOKIE}=s3cret"}) == 200


def test_routes_refuse_writes_traversal_and_foreign_hosts(served) -> None:
    exp, start = served
    base = start(None)
    before = {p: p.read_bytes() for p in exp.root.rglob("*") if p.is_file()}
    assert fetch(base + "/api/exp/0/results?since=1") == 200
    for method in ("POST", "PUT", "DELETE", "PATCH", "MKCOL"):
        assert fetch(base + "/api/exp/0/info", method) == 405
    for path in ("/static/../config.json", "/static/%2e%2e/config.json", "/config.json",
                 "/api/exp/1/info", "/api/exp/0/log/0_9_0", "/results.csv"):
        assert fetch(base + path) in (403, 404), path
    assert fetch(base + "/", headers={"Host": "evil.example:80"}) == 403  # DNS rebinding
    after = {p: p.read_bytes() for p in exp.root.rglob("*") if p.is_file()}
    assert after == before


HEADER2 = HEADER[:-1] + ",o:f1,o:f2\n"


def row2(i: int, f1: float, f2: float, status: str = "ok") -> str:
    shown = (f1, f2) if status == "ok" else ("nan", "nan")
    return f"0_{i}_0,{i / 10},{shown[0]},{status},1,{i},{i},{i + 1},1.0,,{shown[0]},{shown[1]}\n"


def make_exp2(root: Path, points: list) -> Path:
    """Two objectives (f1, f2); a point None is a failed row."""
    root.mkdir(parents=True)
    (root / "config.json").write_text('{"max_evals": 100}')
    (root / "results.csv").write_text(HEADER2 + "".join(
        row2(i, *p) if p else row2(i, 0, 0, "failed") for i, p in enumerate(points)))
    return root


POINTS = [(3.0, 3.0), (1.0, 4.0), None, (2.0, 2.0), (4.0, 1.0), (2.0, 2.0), (3.0, 2.5),
          (0.5, 5.0), (1.5, 2.5)]


def test_the_data_layer_returns_the_objective_columns(tmp_path: Path) -> None:
    from async_search import expfiles

    exp = data.Experiment(make_exp2(tmp_path / "e", POINTS), 0)
    assert exp.objectives() == ["f1", "f2"]
    frame = exp.frame()
    loaded = expfiles.load_results(exp.root)
    assert frame.attrs["objectives"] == ("f1", "f2")
    for name in ("job_id", "status", "f1", "f2", "objective"):
        assert frame[name].equals(loaded[name]), name
    one = data.Experiment(make_exp(tmp_path / "one"), 1)
    assert one.objectives() == [] and "f1" not in one.frame().columns
    assert data.front_answer(one.frame()) == {"objectives": [], "rows": 3}


def test_the_front_is_pareto_rows_with_the_summarys_hypervolume(tmp_path: Path) -> None:
    from async_search import expfiles

    exp = data.Experiment(make_exp2(tmp_path / "e", POINTS), 0)
    answer = data.front_answer(exp.frame())
    frame = expfiles.load_results(exp.root)
    summary = expfiles.front_summary(frame)
    assert answer["front"] == list(expfiles.pareto_rows(frame)["job_id"])
    assert answer["front"] == ["0_1_0", "0_3_0", "0_4_0", "0_5_0", "0_7_0", "0_8_0"]  # equal: both
    assert answer["size"] == 6 and answer["ok"] == 8 and answer["rows"] == 9
    assert answer["hypervolume"] == pytest.approx(summary["hypervolume"])
    assert answer["reference"] == pytest.approx(list(summary["reference"]))
    # the evolution: the hypervolume of each prefix's front, with the final points
    history = answer["history"]
    assert history["evaluation"] == [1, 2, 4, 5, 6, 8, 9]  # rows where the front changed
    for n, hv in zip(history["evaluation"], history["hypervolume"]):
        prefix = expfiles.pareto_rows(frame.iloc[:n], ["f1", "f2"])
        assert hv == pytest.approx(expfiles.hypervolume(
            prefix[["f1", "f2"]].to_numpy(), summary["reference"], summary["ideal"]))
    assert history["hypervolume"][-1] == pytest.approx(summary["hypervolume"])
    assert history["hypervolume"] == sorted(history["hypervolume"])


def test_the_front_route_follows_appended_rows(tmp_path: Path, monkeypatch) -> None:
    import json

    from async_search import expfiles

    monkeypatch.setattr(server, "FRONT_PAUSE_FACTOR", 0.0)  # recompute at every new row
    exp = data.Experiment(make_exp2(tmp_path / "e", POINTS), 0)
    srv, _ = server.make_server([exp], "127.0.0.1", 0, None)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/api/exp/0/front"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            first = json.load(answer)
        assert first["front"] == list(expfiles.pareto_rows(
            expfiles.load_results(exp.root))["job_id"])
        with open(exp.root / "results.csv", "a") as handle:
            handle.write(row2(9, 0.2, 9.0))  # a new extreme: enters, drops none
        with urllib.request.urlopen(url, timeout=30) as answer:
            later = json.load(answer)
        assert later["front"] == first["front"] + ["0_9_0"] and later["rows"] == 10
        assert later["front"] == list(expfiles.pareto_rows(
            expfiles.load_results(exp.root))["job_id"])
        assert later["history"]["evaluation"][-1] == 10
    finally:
        srv.shutdown()
        srv.server_close()
