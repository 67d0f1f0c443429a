"""Typed dimensions, scikit-optimize shorthand, unit-cube transforms and priors."""

import json
import math

import numpy as np
import pytest

from async_search.space import (Categorical, Integer, Real, Space, SpaceError,
                                dimension_from_shorthand, plain)


def dim(spec):
    return dimension_from_shorthand(spec)[0]


# -- scikit-optimize's shorthand for problem-file entries (dimension_from_shorthand) ----
@pytest.mark.parametrize("spec, expected", [
    ((0, 0.9), Real(0.0, 0.9)),
    ((2, 3), Integer(2, 3)),
    ((0.00001, 0.1), Real(1e-5, 0.1)),
    ((1e-5, 1e-1, "log-uniform"), Real(1e-5, 0.1, "log-uniform")),
    ((1, 100, "log-uniform"), Integer(1, 100, "log-uniform")),
    ((1, 100, "uniform"), Integer(1, 100)),
    ((1e-5, 1e-1, "log-uniform", 10), Real(1e-5, 0.1, "log-uniform")),
    ([16, 32, 64, 128], Categorical((16, 32, 64, 128))),
    (["adam", "sgd"], Categorical(("adam", "sgd"))),
    ([True, False], Categorical((True, False))),
    ((1, 2, 3), Categorical((1, 2, 3))),
    (("a", "b", "uniform"), Categorical(("a", "b", "uniform"))),
    (["relu"], Categorical(("relu",))),
    (np.array([0.5, 1.5]), Real(0.5, 1.5)),
    ((np.int64(2), np.int64(9)), Integer(2, 9)),
])
def test_shorthand(spec, expected):
    assert dim(spec) == expected


def test_two_integer_list_warns_but_tuple_does_not():
    d, notes = dimension_from_shorthand([16, 32])
    assert d == Integer(16, 32)
    assert len(notes) == 1 and "Integer(16, 32)" in notes[0]
    assert dimension_from_shorthand((2, 3))[1] == []


@pytest.mark.parametrize("spec, words", [
    ((0.9, 0.0), "reversed"),
    ((3, 3), "reversed or equal"),
    ((0.0, math.nan), "not finite"),
    ((0.0, math.inf), "not finite"),
    ((0.0, 1.0, "log-uniform"), "non-positive"),
    ((-1, 10, "log-uniform"), "non-positive"),
    ((1e-3, 1.0, "loguniform"), "unknown"),
    ([], "at least one"),
    ("adam", "not a dimension"),
    (None, "not a dimension"),
])
def test_bad_shorthand(spec, words):
    with pytest.raises(SpaceError, match=words):
        dimension_from_shorthand(spec)


def test_typed_objects_and_checks():
    # duck-typed scikit-optimize objects: the class name and the attributes matter
    SkoptReal = type("Real", (), {"low": 1e-4, "high": 1.0, "prior": "log-uniform"})
    SkoptCat = type("Categorical", (), {"categories": ["a", "b"]})
    assert dim(SkoptReal()) == Real(1e-4, 1.0, "log-uniform")
    assert dim(SkoptCat()) == Categorical(("a", "b"))
    assert dim(Integer(1, 5)) == Integer(1, 5)
    with pytest.raises(SpaceError, match="unknown"):
        Real(0.0, 1.0, "normal")
    with pytest.raises(SpaceError, match="not an integer"):
        Integer(0.5, 3)
    with pytest.raises(SpaceError, match="JSON"):
        Categorical((object(),))
    with pytest.raises(SpaceError, match="not finite"):
        Categorical((1.0, math.nan))
    with pytest.warns(UserWarning, match="twice"):
        assert Categorical(("a", "b", "a")).categories == ("a", "b")


# -- transforms ------------------------------------------------------------------------
def test_real_uniform_and_log_transforms():
    r = Real(0.0, 10.0)
    assert r.to_unit([0.0, 5.0, 10.0]).tolist() == [0.0, 0.5, 1.0]
    lg = Real(1e-4, 1.0, "log-uniform")
    np.testing.assert_allclose(lg.to_unit([1e-4, 1e-2, 1.0]), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(lg.from_unit(np.array([0.0, 0.5, 1.0])), [1e-4, 1e-2, 1.0])
    assert lg.from_unit(np.array([1.0]))[0] <= 1.0


def test_integer_cells_are_inclusive_and_uniform():
    d = Integer(2, 5)
    u = np.random.default_rng(0).random(40000)
    vals = np.array(d.from_unit(u))
    assert set(vals) == {2, 3, 4, 5}
    counts = np.bincount(vals - 2)
    assert counts.min() > 9000 and counts.max() < 11000
    assert d.from_unit(d.to_unit([2, 3, 4, 5])) == [2, 3, 4, 5]
    assert all(type(v) is int for v in d.from_unit(u[:5]))


def test_log_priors_sample_log_uniformly():
    rng = np.random.default_rng(1)
    lr = np.array(Real(1e-5, 1e-1, "log-uniform").from_unit(rng.random(20000)))
    assert 10 ** -3.1 < np.median(lr) < 10 ** -2.9  # log-median is the geometric middle
    units = np.array(Integer(1, 1024, "log-uniform").from_unit(rng.random(20000)))
    assert units.min() == 1 and units.max() == 1024
    assert np.mean(units <= 32) > 0.4  # half of log-space lies below sqrt(1024)


def test_categorical_round_trip_awkward_values():
    cats = ("a;b", 'say "hi"', "naïve ✓", True, 16, 2.5, None, [1, 2])
    c = Categorical(cats)
    assert not c.ordered
    for v in cats:
        back = json.loads(json.dumps(v))
        assert c.categories[c.index(back)] == v
    assert c.index(True) != c.index(16)
    with pytest.raises(SpaceError, match="not one of"):
        c.index("zzz")
    u = (np.arange(len(cats)) + 0.5) / len(cats)
    assert c.from_unit(c.to_unit(list(cats))) == list(cats)
    assert sorted(map(str, c.from_unit(u))) == sorted(map(str, cats))


def test_ordered_numeric_categorical():
    c = Categorical((128, 16, 64, 32))
    assert c.ordered
    u = c.to_unit([16, 32, 64, 128])
    assert np.all(np.diff(u) > 0)  # unit coordinate follows the sorted values
    assert c.from_unit(u) == [16, 32, 64, 128]


def space6():
    return Space(("drop", "epochs", "lr", "conv", "opt", "bs"), (
        Real(0.0, 0.9), Integer(2, 3), Real(1e-5, 0.1, "log-uniform"),
        Categorical(("50 50 1", "25 25 1", "64 32 1")),
        Categorical(("adam", "sgd", "rmsprop", "adagrad", "adadelta")),
        Categorical((16, 32, 64, 128, 256, 512))))


def test_space_round_trip_plain_values_and_keys():
    s = space6()
    pts = s.sample(50, np.random.default_rng(3))
    for p in pts:
        assert list(p) == list(s.names)
        assert type(p["drop"]) is float and type(p["epochs"]) is int
        assert type(p["bs"]) is int and type(p["opt"]) is str
    U = s.to_unit(pts)
    assert s.from_unit(U) == pts
    assert np.all((U >= 0) & (U <= 1))
    again = json.loads(json.dumps(pts))
    assert [s.key(p) for p in again] == [s.key(p) for p in pts]
    assert np.array_equal(s.to_unit(again), U)
    np.testing.assert_array_equal(s.snap(U), s.snap(s.snap(U)))


def test_features_one_hot_and_ordinal():
    s = space6()
    F = s.features(s.to_unit(s.sample(10, np.random.default_rng(0))))
    # drop, epochs, lr, conv (3 one-hot), opt (5 one-hot), bs (1 ordinal)
    assert F.shape == (10, 3 + 3 + 5 + 1) == (10, s.feature_width())
    assert np.all(F[:, 3:6].sum(axis=1) == 1) and np.all(F[:, 6:11].sum(axis=1) == 1)


@pytest.mark.parametrize("method", ["sobol", "lhs", "random"])
def test_designs_fill_the_cube(method):
    s = space6()
    U = s.design_unit(64, np.random.default_rng(0), method)
    assert U.shape == (64, 6) and np.all((U >= 0) & (U < 1))
    if method != "random":  # every column stratified: each eighth of [0,1) holds 8 points
        for j in range(6):
            assert np.all(np.bincount((U[:, j] * 8).astype(int), minlength=8) == 8)
    with pytest.raises(SpaceError, match="allowed"):
        s.design_unit(4, np.random.default_rng(0), "grid")


def test_describe_and_size():
    s = space6()
    lines = s.describe().splitlines()
    assert lines[0].split() == ["drop", "Real(0.0,", "0.9,", "prior=uniform)"]
    assert len(lines) == 6
    assert Space(("a", "b"), (Integer(1, 3), Categorical(("x", "y")))).size == 6
    assert s.size == math.inf


def test_space_errors():
    with pytest.raises(SpaceError, match="no dimensions"):
        Space((), ())
    with pytest.raises(SpaceError, match="duplicate"):
        Space(("a", "a"), (Integer(1, 2), Integer(1, 2)))
    s = space6()
    with pytest.raises(SpaceError, match="lacks"):
        s.check_point({"drop": 0.1})


def test_plain():
    assert plain(np.float32(0.5)) == 0.5 and type(plain(np.float32(0.5))) is float
    assert plain([np.int64(1), (np.bool_(True),)]) == [1, (True,)]
