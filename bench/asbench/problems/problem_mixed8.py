"""Scale bench space (asbench/runners/scale.py): 8 dimensions, 4 of them categorical.

A CANDLE-like layout: three string choices and a batch-size list (ordered),
plus a log-uniform learning rate, dropout, momentum and integer epochs.
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['learning_rate'] = (1e-5, 1e-1, 'log-uniform')
        space['dropout'] = (0.0, 0.9)
        space['momentum'] = (0.0, 0.99)
        space['epochs'] = (2, 50)
        space['optimizer'] = ['adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta']
        space['activation'] = ['relu', 'tanh', 'sigmoid', 'elu']
        space['conv'] = ["50 50 50 50 50 1", "25 25 25 25 25 1", "64 32 16 32 64 1",
                         "100 100 100 100 100 1", "32 20 16 32 10 1"]
        space['batch_size'] = [16, 32, 64, 128, 256, 512]
        self.space = space
        self.params = self.space.keys()
