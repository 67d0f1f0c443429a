"""async_search.report_intermediate: the IMPROVE_INTERMEDIATE line a model prints."""

import io

import pytest

from async_search import report_intermediate


def line(*args, **kwargs) -> str:
    out = io.StringIO()
    report_intermediate(*args, stream=out, **kwargs)
    return out.getvalue()


def test_the_line_with_and_without_the_last_step():
    assert line(3, 0.25) == "IMPROVE_INTERMEDIATE 3 0.25\n"
    assert line(3, 0.1 + 0.2) == "IMPROVE_INTERMEDIATE 3 0.30000000000000004\n"  # exact
    assert line(3, 1, last_step=25) == "IMPROVE_INTERMEDIATE 3 1.0 25\n"
    assert line(25, 1, last_step=25.0) == "IMPROVE_INTERMEDIATE 25 1.0 25\n"


@pytest.mark.parametrize("args,kwargs,word", [
    ((0, 1.0), {}, "step"), ((1.5, 1.0), {}, "step"), ((True, 1.0), {}, "step"),
    ((1, float("nan")), {}, "value"), ((1, float("inf")), {}, "value"),
    ((4, 1.0), {"last_step": 3}, "last_step"), ((4, 1.0), {"last_step": 4.5}, "last_step"),
])
def test_a_line_the_stopper_would_ignore_is_an_error(args, kwargs, word):
    with pytest.raises(ValueError, match=word):
        line(*args, **kwargs)
