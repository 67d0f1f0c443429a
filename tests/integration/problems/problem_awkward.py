"""Categorical values the original's hand-off broke on: ';', quotes, commas,
spaces, backslashes, shell syntax and non-ASCII text."""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['label'] = ["a;b", 'say "hi"', "it's", "x, y", "tab\there",
                          "back\\slash", "$(touch /tmp/async-search-pwned)",
                          "naïve café ✓", "  padded  "]
        space['rate'] = (0.0001, 0.1, "log-uniform")
        space['units'] = (1, 64)
        self.space = space
        self.params = self.space.keys()
        self.starting_point = ["a;b", 0.01, 8]
