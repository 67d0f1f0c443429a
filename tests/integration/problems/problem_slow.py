"""Two real parameters for restart and signal tests."""


class Problem():
    def __init__(self):
        self.space = {'x': (0.0, 1.0), 'y': (-1.0, 1.0)}
        self.params = ['x', 'y']
