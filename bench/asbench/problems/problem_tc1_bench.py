"""Search space of asbench/runners/tc1_search.py: TC1's optimiser settings and dropout.

Four parameters that change what TC1 learns within the bench's 15 epochs on
200 genes (about 2 s an evaluation on one CPU thread), so the optimizers'
differences show in val_loss: dropout, a log-uniform learning rate, the
optimizer and the batch size (categorical: four values).
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['drop'] = (0.0, 0.9)
        space['learning_rate'] = (1e-5, 1e-1, 'log-uniform')
        space['optimizer'] = ['adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta']
        space['batch_size'] = [16, 32, 64, 128]
        self.space = space
        self.params = self.space.keys()
        # No starting point: it would be the first evaluation, and these benches
        # measure a search from nothing, against Optuna's, which is given none.
        self.starting_point = None
