"""Benchmark data: locating files, CANDLE CSV loading, scaling, offline preparation.

Only small synthetic CSVs are made here; the real ALL leukaemia file is read
only when the Debian package is installed (the test is skipped otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from async_search.benchmarks import data, prepare_data


def _write_csv(path: Path, y, x) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [",".join([str(int(label))] + [repr(float(v)) for v in row]) for label, row in zip(y, x)]
    path.write_text("\n".join(rows) + "\n")
    return path


# ------------------------------------------------------------------ loading

def test_read_candle_csv_and_feature_subsample(tmp_path):
    x = np.arange(12, dtype=float).reshape(3, 4)
    path = _write_csv(tmp_path / "t.csv", [0, 2, 1], x)
    feats, labels = data.read_candle_csv(path)
    assert feats.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [0, 2, 1])
    np.testing.assert_allclose(feats, x)
    feats, _ = data.read_candle_csv(path, feature_subsample=2)
    np.testing.assert_allclose(feats, x[:, :2])           # the first N columns, as CANDLE
    feats, _ = data.read_candle_csv(path, feature_subsample=99)
    assert feats.shape == (3, 4)                            # more than there are: all


def test_single_row_file(tmp_path):
    feats, labels = data.read_candle_csv(_write_csv(tmp_path / "one.csv", [1], [[0.5, 2.0]]))
    assert feats.shape == (1, 2) and labels.tolist() == [1]


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("0.5,1,2\n1,3,4\n", "integer classes"),
    ("-1,1,2\n", "integer classes"),
    ("0,a,b\n", "not a numeric CSV"),
    ("0,1,2\n1,3\n", "not a numeric CSV"),
    ("0,nan,2\n", "NaN"),
    ("3\n", "at least one feature"),
])
def test_malformed_csv(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(data.DataError, match=match):
        data.read_candle_csv(path)


def test_missing_file_is_data_error(tmp_path):
    with pytest.raises(data.DataError, match="missing.csv"):
        data.read_candle_csv(tmp_path / "missing.csv")


def test_load_dataset_maxabs_over_train_and_test(tmp_path):
    train = _write_csv(tmp_path / "tr.csv", [0, 1], [[1.0, -2.0, 0.0], [2.0, 1.0, 0.0]])
    test = _write_csv(tmp_path / "te.csv", [1], [[-4.0, 0.5, 0.0]])
    ds = data.load_dataset(data.DataFiles(train, test))
    np.testing.assert_allclose(ds.x_train, [[0.25, -1.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(ds.x_test, [[-1.0, 0.25, 0.0]])   # scale from the test row
    assert ds.classes == 2 and ds.features == 3
    assert data.load_dataset(data.DataFiles(train, test), classes=5).classes == 5
    with pytest.raises(data.DataError, match="classes = 1 but the data has label 1"):
        data.load_dataset(data.DataFiles(train, test), classes=1)


def test_load_dataset_feature_count_mismatch(tmp_path):
    train = _write_csv(tmp_path / "tr.csv", [0], [[1.0, 2.0]])
    test = _write_csv(tmp_path / "te.csv", [0], [[1.0, 2.0, 3.0]])
    with pytest.raises(data.DataError, match="features"):
        data.load_dataset(data.DataFiles(train, test))


# ----------------------------------------------------------------- locating

def test_data_roots_order(tmp_path):
    env = {"CANDLE_DATA_DIR": str(tmp_path / "candle"), "ASYNC_SEARCH_HOME": str(tmp_path / "h")}
    assert data.data_roots(env) == [tmp_path / "candle" / "Pilot1", tmp_path / "h/data/Pilot1"]
    assert data.data_roots({}) == [data.project_root() / "data" / "Pilot1"]
    assert (data.project_root() / "python" / "async_search").is_dir()


def test_find_data_files_prefers_candle_dir_and_candle_names(tmp_path):
    candle = tmp_path / "candle" / "Pilot1"
    home = tmp_path / "home" / "data" / "Pilot1"
    for folder, names in ((candle, ("local_tr.csv", "local_te.csv")),
                          (home, ("real_tr.csv", "real_te.csv", "local_tr.csv", "local_te.csv"))):
        for name in names:
            _write_csv(folder / name, [0], [[1.0]])
    env = {"CANDLE_DATA_DIR": str(tmp_path / "candle"), "ASYNC_SEARCH_HOME": str(tmp_path / "home")}
    pairs = [("real_tr.csv", "real_te.csv"), ("local_tr.csv", "local_te.csv")]
    found = data.find_data_files(pairs, env)
    assert found == data.DataFiles(candle / "local_tr.csv", candle / "local_te.csv")
    found = data.find_data_files(pairs, {"ASYNC_SEARCH_HOME": str(tmp_path / "home")})
    assert found == data.DataFiles(home / "real_tr.csv", home / "real_te.csv")


def test_find_data_files_absolute_and_errors(tmp_path):
    tr = _write_csv(tmp_path / "a.csv", [0], [[1.0]])
    te = _write_csv(tmp_path / "b.csv", [0], [[1.0]])
    assert data.find_data_files([(str(tr), str(te))], {}).train == tr
    env = {"ASYNC_SEARCH_HOME": str(tmp_path / "nowhere")}
    with pytest.raises(data.DataError) as info:
        data.find_data_files([("x_train.csv", "x_test.csv")], env)
    assert "x_train.csv" in str(info.value) and "make data" in str(info.value)
    with pytest.raises(data.DataError, match="no train_data"):
        data.find_data_files([("", "")], env)


# -------------------------------------------------------------- preparation

def test_stratified_split_keeps_every_class_in_both_parts():
    y = np.array([0] * 10 + [1] * 5 + [2] * 2 + [3] * 20)
    train, test = prepare_data.stratified_split(y, 0.2, seed=3)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(y.size))
    assert not set(train) & set(test)
    for label, n_test in ((0, 2), (1, 1), (2, 1), (3, 4)):
        assert np.sum(y[test] == label) == n_test
        assert np.sum(y[train] == label) == np.sum(y == label) - n_test
    again = prepare_data.stratified_split(y, 0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((train, test), again))


def test_stratified_split_rejects_singletons():
    with pytest.raises(ValueError, match="class 1 has 1 sample"):
        prepare_data.stratified_split(np.array([0, 0, 1]))


def test_write_candle_csv_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)) * 1000
    y = np.array([0, 1, 2, 1, 0])
    path = tmp_path / "Pilot1" / "out.csv"
    prepare_data.write_candle_csv(path, x, y)
    feats, labels = data.read_candle_csv(path)
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_allclose(feats, x, rtol=1e-6)
    assert oct(path.stat().st_mode & 0o777) == oct(prepare_data.FILE_MODE)


def _fake_breast_cancer(path: Path, n: int = 20) -> Path:
    rng = np.random.default_rng(1)
    lines = [f"{n},30,malignant,benign"]
    for i in range(n):
        lines.append(",".join(f"{v:.4f}" for v in rng.random(30)) + f",{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_read_breast_cancer_relabels_malignant_as_1(tmp_path):
    table = prepare_data.read_breast_cancer(_fake_breast_cancer(tmp_path / "bc.csv"))
    assert table.x.shape == (20, 30) and len(table.feature_names) == 30
    assert table.y[0] == 1 and table.y[1] == 0      # sklearn target 0 = malignant
    assert table.class_names == ("benign", "malignant")


def test_read_breast_cancer_rejects_other_files(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("3,30,a,b\n1,2\n")
    with pytest.raises(prepare_data.PrepareError, match="header"):
        prepare_data.read_breast_cancer(path)


def test_prepare_is_idempotent(tmp_path):
    source = _fake_breast_cancer(tmp_path / "bc.csv")
    out = tmp_path / "data"
    messages = []
    stamp = prepare_data.prepare(out, only=["nt3"], breast_cancer_csv=str(source),
                                 log=messages.append)
    pilot = out / "Pilot1"
    assert stamp["nt3"]["train_rows"] + stamp["nt3"]["test_rows"] == 20
    for name in ("nt3_wdbc_train.csv", "nt3_wdbc_test.csv", "nt3_wdbc_features.txt",
                 "nt3_wdbc_samples.csv", "PROVENANCE.md", "prepared.json"):
        assert (pilot / name).is_file(), name
    assert "malignant" in (pilot / "PROVENANCE.md").read_text()
    mtime = (pilot / "nt3_wdbc_train.csv").stat().st_mtime_ns
    prepare_data.prepare(out, only=["nt3"], breast_cancer_csv=str(source), log=messages.append)
    assert "up to date" in messages[-1]
    assert (pilot / "nt3_wdbc_train.csv").stat().st_mtime_ns == mtime
    prepare_data.prepare(out, only=["nt3"], breast_cancer_csv=str(source), force=True,
                         log=messages.append)
    assert "wrote" in messages[-1]
    ds = data.load_dataset(data.DataFiles(pilot / "nt3_wdbc_train.csv",
                                          pilot / "nt3_wdbc_test.csv"))
    assert ds.features == 30 and ds.classes == 2
    assert json.loads((pilot / "prepared.json").read_text())["version"] == prepare_data.PREP_VERSION


def test_prepare_cli_missing_source(tmp_path, capsys):
    rc = prepare_data.main(["--out", str(tmp_path), "--only", "tc1",
                            "--all-rda", str(tmp_path / "none.rda")])
    assert rc == 1
    assert "r-bioc-all" in capsys.readouterr().err


def test_tc1_class_mapping_is_complete():
    assert set(prepare_data.TC1_STAGE_TO_CLASS.values()) - {None} == set(prepare_data.TC1_CLASSES)


@pytest.mark.skipif(not Path(prepare_data.ALL_RDA_CANDIDATES[0]).is_file(),
                    reason="Debian package r-bioc-all not installed")
def test_read_real_all_leukaemia():
    table = prepare_data.read_all_leukaemia(Path(prepare_data.ALL_RDA_CANDIDATES[0]))
    assert table.x.shape == (118, 12625)
    counts = np.bincount(table.y, minlength=len(prepare_data.TC1_CLASSES))
    assert counts.tolist() == [19, 36, 23, 12, 16, 12]
    variances = table.x.var(axis=0)
    assert np.all(np.diff(variances) <= 1e-12)              # ordered by variance
    # a value checked against R (exprs(ALL)["1000_at", "01005"] = 7.597323)
    row = table.sample_ids.index("01005")
    col = table.feature_names.index("1000_at")
    assert table.x[row, col] == pytest.approx(7.597323, abs=1e-6)


def _first_use(home, queue):
    """One worker's model process: find NT3's data, preparing it if missing."""
    said = []
    files = data.find_or_prepare([("nt_train2.csv", "nt_test2.csv"),
                                  ("nt3_wdbc_train.csv", "nt3_wdbc_test.csv")], "nt3",
                                 env={"ASYNC_SEARCH_HOME": str(home)}, log=said.append)
    queue.put((str(files.train), sum("first use" in s for s in said)))


def test_missing_data_is_prepared_once_when_workers_start_together(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_first_use, args=(tmp_path, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    got = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    pilot = tmp_path / "data" / "Pilot1"
    assert {train for train, _ in got} == {str(pilot / "nt3_wdbc_train.csv")}
    assert sum(prepared for _, prepared in got) == 1  # the others waited and found it
    assert (pilot / "PROVENANCE.md").is_file()


def test_an_unknown_benchmark_only_looks(tmp_path):
    with pytest.raises(data.DataError, match="not found"):
        data.find_or_prepare([("a.csv", "b.csv")], "mymodel",
                             env={"ASYNC_SEARCH_HOME": str(tmp_path)})
    assert not (tmp_path / "data").exists()
