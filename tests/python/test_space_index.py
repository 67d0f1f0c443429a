"""Categorical.index's fast path for scalar values agrees with the JSON-text path."""

import json

import numpy as np
import pytest

from async_search.space import Categorical, SpaceError, _key


@pytest.mark.parametrize("categories", [
    ("adam", "sgd", "a b", "c;d", "ü"),
    (16, 32, 64.0, 128),
    (0.0, -0.0, 1, 1.0, True, False, None, "1", [1, 2], [1, "x"]),
])
def test_fast_index_agrees_with_the_json_path(categories):
    c = Categorical(categories)
    for i, v in enumerate(c.categories):
        assert c.index(v) == i
        assert c._index[_key(v)] == i                       # the slow path's answer
        assert c.index(json.loads(json.dumps(v))) == i      # after a JSON round trip
    assert c.index(np.int64(32) if 32 in c.categories else c.categories[0]) is not None


def test_unknown_values_still_raise_and_numbers_still_match_across_types():
    c = Categorical((16, 32, 64))
    assert c.index(32.0) == 1          # 32 told back as 32.0
    assert c.index(np.float64(64)) == 2
    with pytest.raises(SpaceError, match="not one of"):
        c.index(33)
    with pytest.raises(SpaceError, match="not one of"):
        c.index(True)
