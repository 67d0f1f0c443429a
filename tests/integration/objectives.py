"""Objectives for --simulate-objective tests."""
import math


def half_fail(params):
    """Fails (NaN) on the upper half of x; elsewhere a parabola."""
    if params["x"] > 0.5:
        return math.nan
    return (params["x"] - 0.25) ** 2 + params["y"] ** 2
