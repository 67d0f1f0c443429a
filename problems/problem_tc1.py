"""TC1 search space (tumour type classifier): dropout and batch size, in the seed's style."""
from collections import OrderedDict


class Problem():
    def __init__(self):
        space = OrderedDict()
        space['drop'] = (0, 0.9)
        space['batch_size'] = [16, 32, 64, 128, 256, 512]
        self.space = space
        self.params = self.space.keys()
        self.starting_point = [0.1, 16]


if __name__ == '__main__':
    instance = Problem()
    print(instance.space)
    print(instance.params)
