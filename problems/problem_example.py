"""The smoke test's search space, for the built-in `example` model.

`bin/async-search-run example local` searches it: the model
(async_search/benchmarks/example.py) is a cheap function of any parameters
that takes about 0.2 s, so the whole search (20 evaluations, 3 workers) takes
seconds and needs no data, no GPU and no deep-learning framework.
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['drop'] = (0, 0.9)
        space['learning_rate'] = (0.00001, 0.1)
        space['optimizer'] = ['adam', 'sgd', 'rmsprop']
        space['batch_size'] = [16, 32, 64, 128]
        self.space = space
        self.params = self.space.keys()
        self.starting_point = [0.1, 0.01, 'adam', 32]


if __name__ == '__main__':
    instance = Problem()
    print(instance.space)
    print(instance.params)
