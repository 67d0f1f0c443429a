"""Search space of the synthetic learning-curve model (asbench/problems/lc_model.py).

Five parameters, mixed: a log-uniform learning rate, dropout, an integer
width, a categorical optimizer and a categorical batch size.  The model's
docstring gives the curve of a point and its known optimum.
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['learning_rate'] = (1e-4, 1e-1, 'log-uniform')
        space['dropout'] = (0.0, 0.8)
        space['units'] = (16, 256)
        space['optimizer'] = ['adam', 'rmsprop', 'sgd']
        space['batch_size'] = [16, 32, 64, 128]
        self.space = space
        self.params = self.space.keys()
        # No starting point: it would be the first evaluation, and these benches
        # measure a search from nothing, against Optuna's, which is given none.
        self.starting_point = None
