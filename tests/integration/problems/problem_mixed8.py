"""8 mixed dimensions (real, log-real, integer, categorical), as a TC1-like search."""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['drop'] = (0.0, 0.9)
        space['learning_rate'] = (1e-5, 1e-1, "log-uniform")
        space['epochs'] = (2, 30)
        space['dense'] = (16, 512)
        space['optimizer'] = ["adam", "sgd", "rmsprop", "adagrad"]
        space['activation'] = ["relu", "tanh", "sigmoid"]
        space['batch_size'] = [16, 32, 64, 128, 256]
        space['momentum'] = (0.0, 0.99)
        self.space = space
        self.params = self.space.keys()
