"""The seed's 6-parameter search space (CANDLE async-search), in its original style.

Loaded unchanged by async_search.load_problem: scikit-optimize shorthand, an
OrderedDict, params as a keys() view.
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        # (low, high) with a float -> Real, uniform
        space['drop'] = (0, 0.9)
        # (low, high) with two ints -> Integer, both ends included
        space['epochs'] = (2, 3)
        space['learning_rate'] = (0.00001, 0.1)
        # lists of strings or of more than three values -> Categorical
        space['conv'] = ["50 50 50 50 50 1", "25 25 25 25 25 1", "64 32 16 32 64 1",
                         "100 100 100 100 100 1", "32 20 16 32 10 1"]
        space['optimizer'] = ["adam", "sgd", "rmsprop", "adagrad", "adadelta"]
        space['batch_size'] = [16, 32, 64, 128, 256, 512]
        self.space = space
        self.params = self.space.keys()
        self.starting_point = [0.1, 2, 0.01, "50 50 50 50 50 1", "sgd", 16]


if __name__ == '__main__':
    instance = Problem()
    print(instance.space)
    print(instance.params)
