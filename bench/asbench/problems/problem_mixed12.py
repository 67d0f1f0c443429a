"""Scale bench space (asbench/runners/scale.py): 12 dimensions, 6 of them categorical.

problem_mixed8.py plus weight decay, dense units, a weight initialiser and
a pooling choice.
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['learning_rate'] = (1e-5, 1e-1, 'log-uniform')
        space['dropout'] = (0.0, 0.9)
        space['momentum'] = (0.0, 0.99)
        space['epochs'] = (2, 50)
        space['weight_decay'] = (1e-7, 1e-2, 'log-uniform')
        space['dense'] = (16, 1024, 'log-uniform')
        space['optimizer'] = ['adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta']
        space['activation'] = ['relu', 'tanh', 'sigmoid', 'elu']
        space['conv'] = ["50 50 50 50 50 1", "25 25 25 25 25 1", "64 32 16 32 64 1",
                         "100 100 100 100 100 1", "32 20 16 32 10 1"]
        space['batch_size'] = [16, 32, 64, 128, 256, 512]
        space['init'] = ['glorot_uniform', 'he_normal', 'lecun_normal']
        space['pool'] = ['max', 'avg', 'none']
        self.space = space
        self.params = self.space.keys()
