"""A user optimizer (file.py:Class form) for fault tests: proposes every
category of the first dimension in turn, so each fault kind runs."""


class Cycle:
    def __init__(self, problem, seed=0, **settings):
        self.names = problem.params
        self.categories = problem.space.dims[0].categories
        self.i = 0

    def ask(self, n):
        points = []
        for _ in range(n):
            value = self.categories[self.i % len(self.categories)]
            points.append({self.names[0]: value, **{k: 0.5 for k in self.names[1:]}})
            self.i += 1
        return points

    def tell(self, points, values):
        pass


class BreaksOnThirdAsk(Cycle):
    """Raises inside ask() on its third call: an internal optimizer failure."""

    def __init__(self, problem, seed=0, **settings):
        super().__init__(problem, seed, **settings)
        self.calls = 0

    def ask(self, n):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("the optimizer broke on purpose")
        return super().ask(n)


class WorseAfterRestart:
    """Good points (x small, rising) while fewer than 5 results are known, bad ones
    (x near 9) after: what a restart's optimizer, told the earlier results,
    proposes, so that a stopper that forgot the earlier rungs lets the first bad
    one pass while the rungs of before stop it."""

    def __init__(self, problem, seed=0, **settings):
        self.told = 0
        self.i = 0

    def ask(self, n):
        points = []
        for _ in range(n):
            self.i += 1
            x = 0.1 * self.i if self.told < 5 else 9.0 - 0.001 * self.i
            points.append({"x": x})
        return points

    def tell(self, points, values):
        self.told += len(points)
