"""Categorical values that broke the original's hand-off: ';', quotes, spaces, non-ASCII."""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['label'] = ["a;b", 'say "hi"', "it's", "two  spaces", "naïve – ünïcödé ✓",
                          "back\\slash"]
        space['flag'] = [True, False]
        space['rate'] = (1e-4, 1e-1, "log-uniform")
        space['layers'] = (1, 4)
        self.space = space
        self.params = ['rate', 'label', 'layers', 'flag']
        self.starting_point = [0.01, "a;b", 2, True]
