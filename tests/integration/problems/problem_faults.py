"""Every fault kind of tests/models/faulty.py, chosen by the optimizer."""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['fault'] = ["ok", "exit1", "sigkill", "sigabrt", "sigsegv", "nan", "inf",
                          "text", "none", "hang", "flood", "rmdir", "mpi"]
        space['x'] = (0.0, 1.0)
        self.space = space
        self.params = self.space.keys()
