"""The spaces and models the benchmarks search.

``problem_*.py`` are problem files (``--problem``; ``problem_classes`` and
``functions`` are Python test functions with known minima), ``lc_model`` is the
synthetic learning-curve model (``--model-cmd "python -m asbench.problems.lc_model"``),
and ``tc1_curves.csv`` the measured TC1 curves that ``asbench.runners.tc1_replay``
replays.
"""
