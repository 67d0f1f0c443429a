"""Fault kinds of tests/models/candle_faulty.py."""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['fault'] = ["ok", "raise", "exit3", "segv", "hang", "pid"]
        space['x'] = (0.0, 1.0)
        self.space = space
        self.params = self.space.keys()
