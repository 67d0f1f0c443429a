"""NT3 search space (normal vs tumour classifier), in the seed's style.

The names are NT3's own parameters (nt3_default_model.txt, as read by
async_search.benchmarks.nt3): conv is (filters, kernel, stride) triples with
pool = [1, 10] after the first two layers; dense lists the hidden widths. The
runner turns the space-separated strings into lists of numbers.
"""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['conv'] = ["128 20 1 128 10 1", "64 20 1 64 10 1", "32 20 1 32 10 1",
                         "128 40 1 128 20 1", "128 20 1 128 10 1 128 10 1"]
        space['dense'] = ["200 20", "400 40", "100 10", "200", "200 50 20"]
        space['dropout'] = (0.0, 0.5)
        space['optimizer'] = ["sgd", "adam", "rmsprop", "adagrad", "adadelta"]
        space['learning_rate'] = (1e-4, 1e-1, "log-uniform")
        space['batch_size'] = [16, 20, 32, 64, 128]
        space['epochs'] = (10, 60)
        space['activation'] = ["relu", "tanh", "sigmoid", "elu"]
        self.space = space
        self.params = self.space.keys()
        # NT3's defaults (the demo's epochs)
        self.starting_point = ["128 20 1 128 10 1", "200 20", 0.1, "sgd", 0.01, 20, 40, "relu"]


if __name__ == '__main__':
    instance = Problem()
    print(instance.space)
    print(instance.params)
