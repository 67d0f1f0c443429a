"""Two objectives (tests/models/pareto.py): f1 and f2, both minimised."""


class Problem:
    def __init__(self):
        self.space = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
        self.params = ["x", "y"]
        self.objectives = ["f1", "f2"]
